//! A meter's decryption keys (Luxembourg Smarty, encrypted DLMS/HAN ports): checked as the
//! user types them, sealed in the vault ([`Setting::MeterKey`], and [`Setting::MeterAuthKey`]
//! holding a key, `none` or `default`), and read back for every collection, by the CLI and
//! the desktop alike.

use crate::settings::Setting;
use hearth_meter::auto::{AuthKey, AutoDecoder, Keys};
use hearth_meter::glo::Key;
use hearth_vault::{Vault, VaultError};

/// Why a key was refused, in words for the person typing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 32 hexadecimal digits.
    #[error(
        "The {which} must be 32 hexadecimal digits (0-9 and A-F), as your grid operator sent it; \
         this one has {digits} usable digits."
    )]
    Format {
        /// `meter key` or `authentication key`.
        which: &'static str,
        /// Hex digits found (spaces, `:` and `-` are ignored).
        digits: usize,
    },
    /// An authentication key without the encryption key.
    #[error("An authentication key needs the meter key (the encryption key) as well.")]
    AuthWithoutKey,
}

fn key(text: &str, which: &'static str) -> Result<Key, KeyError> {
    Key::from_hex(text).map_err(|_| KeyError::Format {
        which,
        digits: text
            .trim()
            .trim_start_matches("0x")
            .chars()
            .filter(char::is_ascii_hexdigit)
            .count(),
    })
}

/// Reads `key` and `auth_key` as typed (empty means not given; `auth_key` may be `none`).
pub fn parse(key_text: &str, auth_text: &str) -> Result<Option<Keys>, KeyError> {
    let (k, a) = (key_text.trim(), auth_text.trim());
    if k.is_empty() {
        return if a.is_empty() {
            Ok(None)
        } else {
            Err(KeyError::AuthWithoutKey)
        };
    }
    let auth_key = if a.is_empty() {
        AuthKey::Default
    } else if a.eq_ignore_ascii_case("none") {
        AuthKey::Skip
    } else {
        AuthKey::Key(key(a, "authentication key")?)
    };
    Ok(Some(Keys {
        key: key(k, "meter key")?,
        auth_key,
    }))
}

/// Checks and stores the keys (nothing when `key_text` is empty); returns them.
pub fn store(
    vault: &mut Vault,
    key_text: &str,
    auth_text: &str,
) -> Result<Option<Keys>, StoreError> {
    let Some(keys) = parse(key_text, auth_text)? else {
        return Ok(None);
    };
    Setting::MeterKey.put(vault, key_text.trim().as_bytes())?;
    let auth = match auth_text.trim() {
        "" => "default",
        a => a,
    };
    Setting::MeterAuthKey.put(vault, auth.as_bytes())?;
    Ok(Some(keys))
}

/// The keys the vault holds, if any; stored keys that no longer read as keys are an error
/// (say so and ask for them again rather than collect frames that cannot be decrypted).
pub fn load(vault: &Vault) -> Result<Option<Keys>, StoreError> {
    let Some(key) = Setting::MeterKey.get_text(vault)? else {
        return Ok(None);
    };
    let auth = Setting::MeterAuthKey
        .get_text(vault)?
        .filter(|a| a != "default");
    Ok(parse(&key, auth.as_deref().unwrap_or(""))?)
}

/// The keys for a collection: those given now (then remembered in the vault), else those the
/// vault remembers from an earlier run. Empty text means not given.
pub fn given_or_stored(
    vault: &mut Vault,
    key_text: &str,
    auth_text: &str,
) -> Result<Option<Keys>, StoreError> {
    match store(vault, key_text, auth_text)? {
        Some(keys) => Ok(Some(keys)),
        None => load(vault),
    }
}

/// A protocol-sniffing decoder that decrypts with `keys` when there are any.
pub fn auto_decoder(keys: Option<Keys>) -> AutoDecoder {
    keys.map_or_else(AutoDecoder::new, AutoDecoder::with_keys)
}

/// Why keys were not stored or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key text is not a key (as typed, or as stored).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The vault refused.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "000102030405060708090A0B0C0D0E0F";

    #[test]
    fn keys_are_checked_and_read_like_the_cli() {
        assert_eq!(parse("", ""), Ok(None));
        assert_eq!(parse("  ", "none"), Err(KeyError::AuthWithoutKey));
        let k = parse(K, "").expect("ok").expect("keys");
        assert_eq!(k.key.0[15], 0x0f);
        assert!(matches!(k.auth_key, AuthKey::Default));
        assert!(matches!(
            parse(K, "NONE").expect("ok").expect("keys").auth_key,
            AuthKey::Skip
        ));
        // Spaces and colons as utilities print them are fine.
        let spaced = "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f";
        assert!(matches!(
            parse(K, spaced).expect("ok").expect("keys").auth_key,
            AuthKey::Key(a) if a.0 == k.key.0
        ));
        // Too short, too long, not hex: the digits counted in the message.
        assert_eq!(
            parse("1234", ""),
            Err(KeyError::Format {
                which: "meter key",
                digits: 4
            })
        );
        assert_eq!(
            parse(&format!("{K}00"), ""),
            Err(KeyError::Format {
                which: "meter key",
                digits: 34
            })
        );
        assert!(matches!(
            parse(K, "zz"),
            Err(KeyError::Format {
                which: "authentication key",
                ..
            })
        ));
    }

    #[test]
    fn stored_keys_come_back() {
        let dir = std::env::temp_dir().join(format!("hearth-meter-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let mut v = Vault::create(
            &dir.join("v.hearth"),
            "pw",
            &hearth_vault::CreateOptions {
                kdf: hearth_vault::KdfParams::INSECURE_FOR_TESTS,
                time_zone: None,
            },
        )
        .expect("vault");
        assert!(load(&v).expect("load").is_none());
        assert!(matches!(
            store(&mut v, "12", ""),
            Err(StoreError::Key(KeyError::Format { .. }))
        ));
        assert!(
            load(&v).expect("load").is_none(),
            "a refused key is not stored"
        );
        store(&mut v, K, "").expect("store");
        // The encoding both faces always used: the key as typed, `default` for the usual
        // authentication key.
        let auth = v.get_setting("meter/auth_key").expect("get").expect("set");
        assert_eq!(&auth[..], b"default");
        let k = load(&v).expect("load").expect("keys");
        assert_eq!(k.key.0[1], 1);
        assert!(matches!(k.auth_key, AuthKey::Default));
        // Given now wins over stored; nothing given reads the stored ones.
        let none = given_or_stored(&mut v, "", "")
            .expect("stored")
            .expect("keys");
        assert_eq!(none.key.0, k.key.0);
        let other = "0F0E0D0C0B0A09080706050403020100";
        let given = given_or_stored(&mut v, other, "none")
            .expect("given")
            .expect("keys");
        assert_eq!(given.key.0[0], 0x0f);
        assert!(matches!(given.auth_key, AuthKey::Skip));
        let again = load(&v).expect("load").expect("keys");
        assert_eq!(
            (again.key.0[0], matches!(again.auth_key, AuthKey::Skip)),
            (0x0f, true)
        );
        // A stored key that no longer reads is an error, not silence.
        v.put_setting("meter/key", b"12").expect("put");
        assert!(matches!(
            load(&v),
            Err(StoreError::Key(KeyError::Format { digits: 2, .. }))
        ));
        drop(v);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
