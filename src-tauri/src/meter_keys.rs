//! A meter's decryption keys (Luxembourg Smarty, encrypted DLMS/HAN ports), sealed in the vault
//! under the same setting names as the command line's `crates/cli/src/meter_keys.rs`
//! (`meter/key`, and `meter/auth_key` holding a key, `none` or `default`), so a vault set up
//! in either front end decrypts in the other.

use hearth_meter::auto::{AuthKey, Keys};
use hearth_meter::glo::Key;
use hearth_vault::{Vault, VaultError};

/// The vault setting holding the encryption key (hex, as the user gave it).
pub const KEY_SETTING: &str = "meter/key";
/// The vault setting holding the authentication key, `none` (no tag check) or `default`.
pub const AUTH_KEY_SETTING: &str = "meter/auth_key";

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

/// Checks and stores the keys (nothing when `key_text` is empty).
pub fn store(vault: &mut Vault, key_text: &str, auth_text: &str) -> Result<(), StoreError> {
    if parse(key_text, auth_text)?.is_none() {
        return Ok(());
    }
    vault.put_setting(KEY_SETTING, key_text.trim().as_bytes())?;
    let auth = match auth_text.trim() {
        "" => "default",
        a => a,
    };
    vault.put_setting(AUTH_KEY_SETTING, auth.as_bytes())?;
    Ok(())
}

/// The keys the vault holds, if any (unreadable ones count as none: collection then runs
/// without decryption and the frames are counted as rejected).
pub fn load(vault: &Vault) -> Option<Keys> {
    let key = vault.get_setting(KEY_SETTING).ok().flatten()?;
    let auth = vault.get_setting(AUTH_KEY_SETTING).ok().flatten();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let auth = auth.map(|a| text(&a)).filter(|a| a != "default");
    parse(&text(&key), auth.as_deref().unwrap_or(""))
        .ok()
        .flatten()
}

/// Why keys were not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key text is not a key.
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
        let mut v = crate::store::Store::create_vault(
            &dir.join("v.hearth"),
            "pw",
            hearth_vault::KdfParams::INSECURE_FOR_TESTS,
        )
        .expect("vault");
        assert!(load(&v).is_none());
        assert!(matches!(
            store(&mut v, "12", ""),
            Err(StoreError::Key(KeyError::Format { .. }))
        ));
        assert!(load(&v).is_none(), "a refused key is not stored");
        store(&mut v, K, "").expect("store");
        // The CLI's encoding: the key as typed, `default` for the usual authentication key.
        let auth = v.get_setting(AUTH_KEY_SETTING).expect("get").expect("set");
        assert_eq!(&auth[..], b"default");
        let k = load(&v).expect("keys");
        assert_eq!(k.key.0[1], 1);
        assert!(matches!(k.auth_key, AuthKey::Default));
        drop(v);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
