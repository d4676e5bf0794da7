//! A meter's decryption keys (Luxembourg Smarty, encrypted HAN ports): given once with
//! `--key`/`--auth-key` (or `HEARTH_METER_KEY`/`HEARTH_METER_AUTH_KEY`), remembered sealed in
//! the vault, so unattended collection keeps decrypting without keys on the command line.

use anyhow::Context as _;
use hearth_meter::auto::{AuthKey, AutoDecoder, Keys};
use hearth_meter::glo::Key;
use hearth_vault::Vault;

/// Vault settings holding the keys (sealed like every setting).
const KEY_SETTING: &str = "meter/key";
const AUTH_KEY_SETTING: &str = "meter/auth_key";

/// `--key` and `--auth-key`.
#[derive(clap::Args, Debug, Default)]
pub struct KeyArgs {
    /// Decryption key for encrypted meters (Luxembourg Smarty, encrypted HAN ports): 32
    /// hexadecimal digits, as your utility gave it.
    #[arg(
        long,
        value_name = "HEX",
        env = "HEARTH_METER_KEY",
        hide_env_values = true
    )]
    pub key: Option<String>,
    /// Authentication key (32 hex digits), or `none` to skip the tag check. Default: the
    /// Smarty key for DSMR, no check for DLMS.
    #[arg(
        long,
        value_name = "HEX|none",
        env = "HEARTH_METER_AUTH_KEY",
        hide_env_values = true
    )]
    pub auth_key: Option<String>,
}

impl KeyArgs {
    /// The keys given on the command line, if any.
    pub fn keys(&self) -> anyhow::Result<Option<Keys>> {
        parse(self.key.as_deref(), self.auth_key.as_deref())
    }

    /// The keys for a vault: those given now (then remembered in the vault), else those the
    /// vault remembers from an earlier run.
    pub fn for_vault(&self, vault: &mut Vault) -> anyhow::Result<Option<Keys>> {
        if let Some(keys) = self.keys()? {
            let key = self.key.as_deref().unwrap_or_default();
            vault.put_setting(KEY_SETTING, key.trim().as_bytes())?;
            let auth = self.auth_key.as_deref().unwrap_or("default");
            vault.put_setting(AUTH_KEY_SETTING, auth.trim().as_bytes())?;
            return Ok(Some(keys));
        }
        let Some(key) = vault.get_setting(KEY_SETTING)? else {
            return Ok(None);
        };
        let auth = vault.get_setting(AUTH_KEY_SETTING)?;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let auth = auth.map(|a| text(&a)).filter(|a| a != "default");
        parse(Some(&text(&key)), auth.as_deref())
            .context("the meter key stored in the vault is unreadable; give it again with --key")
    }
}

fn parse(key: Option<&str>, auth_key: Option<&str>) -> anyhow::Result<Option<Keys>> {
    let Some(key) = key else {
        if auth_key.is_some() {
            anyhow::bail!("--auth-key needs --key (the decryption key) as well");
        }
        return Ok(None);
    };
    let key = Key::from_hex(key.trim()).context("reading the meter key")?;
    let auth_key = match auth_key.map(str::trim) {
        None => AuthKey::Default,
        Some(s) if s.eq_ignore_ascii_case("none") => AuthKey::Skip,
        Some(s) => AuthKey::Key(Key::from_hex(s).context("reading the authentication key")?),
    };
    Ok(Some(Keys { key, auth_key }))
}

/// A protocol-sniffing decoder that can decrypt with `keys`.
pub fn auto_decoder(keys: Option<Keys>) -> AutoDecoder {
    match keys {
        Some(k) => AutoDecoder::with_keys(k),
        None => AutoDecoder::new(),
    }
}
