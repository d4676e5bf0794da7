//! The vault's settings by name: one typed key for each thing Hearth remembers sealed in the
//! vault, so the CLI and the desktop cannot spell a name two ways.

use hearth_vault::{Vault, VaultError};
use std::borrow::Cow;
use zeroize::Zeroizing;

/// A setting Hearth keeps in the vault (sealed like the readings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting<'a> {
    /// The meter source the collector reads (`demo`, `serial:/dev/ttyUSB0`, `tcp:HOST:PORT`, ...).
    Source,
    /// The MQTT broker's password (never part of the source text).
    MqttPassword,
    /// The meter's decryption key, hex as the user gave it.
    MeterKey,
    /// The meter's authentication key: hex, `none` (no tag check) or `default`.
    MeterAuthKey,
    /// Supplier interval downloads already imported (their own binary encoding).
    SupplierIntervals,
    /// A contract the user keeps, by its id (`tariff/<name>`): contract TOML.
    Contract(&'a str),
}

/// Prefix of the stored contracts' setting names.
pub const CONTRACT_PREFIX: &str = "tariff/";

impl Setting<'_> {
    /// The setting's name in the vault. These names are the vault format: never rename one.
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            Setting::Source => Cow::Borrowed("source"),
            Setting::MqttPassword => Cow::Borrowed("mqtt/password"),
            Setting::MeterKey => Cow::Borrowed("meter/key"),
            Setting::MeterAuthKey => Cow::Borrowed("meter/auth_key"),
            Setting::SupplierIntervals => Cow::Borrowed("supplier.intervals"),
            Setting::Contract(id) if id.starts_with(CONTRACT_PREFIX) => Cow::Borrowed(id),
            Setting::Contract(id) => Cow::Owned(format!("{CONTRACT_PREFIX}{id}")),
        }
    }

    /// The stored bytes, if set (wiped from memory when dropped).
    pub fn get(&self, vault: &Vault) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        vault.get_setting(&self.name())
    }

    /// The stored text, if set; bytes that are not UTF-8 are read lossily.
    pub fn get_text(&self, vault: &Vault) -> Result<Option<String>, VaultError> {
        Ok(self
            .get(vault)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Whether the setting stored under `name` is a credential or says where to connect (the
    /// meter source, the MQTT password, meter keys): a restore takes those only when asked.
    pub fn is_credential(name: &str) -> bool {
        [
            Setting::Source,
            Setting::MqttPassword,
            Setting::MeterKey,
            Setting::MeterAuthKey,
        ]
        .iter()
        .any(|s| s.name() == name)
    }

    /// Stores `value` (sealed; replaces what was there).
    pub fn put(&self, vault: &mut Vault, value: &[u8]) -> Result<(), VaultError> {
        vault.put_setting(&self.name(), value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_ones_existing_vaults_hold() {
        let names: Vec<String> = [
            Setting::Source,
            Setting::MqttPassword,
            Setting::MeterKey,
            Setting::MeterAuthKey,
            Setting::SupplierIntervals,
            Setting::Contract("mine"),
            Setting::Contract("tariff/mine"),
        ]
        .iter()
        .map(|s| s.name().into_owned())
        .collect();
        assert_eq!(
            names,
            [
                "source",
                "mqtt/password",
                "meter/key",
                "meter/auth_key",
                "supplier.intervals",
                "tariff/mine",
                "tariff/mine"
            ]
        );
    }

    #[test]
    fn a_setting_comes_back_sealed_in_the_vault() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let mut v = Vault::create(
            &path,
            "pw",
            &hearth_vault::CreateOptions {
                kdf: hearth_vault::KdfParams::INSECURE_FOR_TESTS,
                time_zone: None,
            },
        )
        .expect("vault");
        assert_eq!(Setting::Source.get_text(&v).expect("get"), None);
        Setting::Source
            .put(&mut v, b"serial:/dev/ttyUSB0")
            .expect("put");
        v.close().expect("close");
        let v = Vault::open(&path, "pw").expect("open");
        assert_eq!(
            Setting::Source.get_text(&v).expect("get").as_deref(),
            Some("serial:/dev/ttyUSB0")
        );
        // The name in the file is the one older versions wrote.
        assert_eq!(
            v.get_setting("source")
                .expect("raw")
                .as_deref()
                .map(|b| &b[..]),
            Some(&b"serial:/dev/ttyUSB0"[..])
        );
    }
}
