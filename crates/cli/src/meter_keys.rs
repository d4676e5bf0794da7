//! `--key` and `--auth-key`: a meter's decryption keys (Luxembourg Smarty, encrypted HAN
//! ports), given once on the command line (or `HEARTH_METER_KEY`/`HEARTH_METER_AUTH_KEY`) and
//! remembered sealed in the vault by `hearth_app::meter_keys`, so unattended collection keeps
//! decrypting without keys on the command line.

use anyhow::Context as _;
use hearth_app::meter_keys::{self, StoreError};
use hearth_meter::auto::Keys;
use hearth_vault::Vault;

pub use hearth_app::meter_keys::auto_decoder;

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
    fn texts(&self) -> (&str, &str) {
        (
            self.key.as_deref().unwrap_or(""),
            self.auth_key.as_deref().unwrap_or(""),
        )
    }

    /// The keys given on the command line, if any.
    pub fn keys(&self) -> anyhow::Result<Option<Keys>> {
        let (key, auth) = self.texts();
        Ok(meter_keys::parse(key, auth)?)
    }

    /// The keys for a vault: those given now (then remembered in the vault), else those the
    /// vault remembers from an earlier run.
    pub fn for_vault(&self, vault: &mut Vault) -> anyhow::Result<Option<Keys>> {
        let (key, auth) = self.texts();
        match meter_keys::given_or_stored(vault, key, auth) {
            Ok(keys) => Ok(keys),
            // Given now: the message names the key that is wrong.
            Err(StoreError::Key(e)) if !key.is_empty() || !auth.is_empty() => Err(e.into()),
            Err(e) => Err(e).context(
                "the meter key stored in the vault is unreadable; give it again with --key",
            ),
        }
    }
}
