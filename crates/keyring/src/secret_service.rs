//! The Secret Service backend (freedesktop.org API, spoken by gnome-keyring, KWallet and
//! KeePassXC) on the session D-Bus, with the secret DH-encrypted in transit.

use crate::{KeyringError, SERVICE};
use dbus_secret_service::{EncryptionType, Error as SsError, Item, SecretService};
use std::collections::HashMap;
use std::time::Duration;
use zeroize::Zeroizing;

/// D-Bus error names that mean "there is no usable keyring service here".
const NO_SERVICE: &[&str] = &[
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoServer",
    "org.freedesktop.DBus.Error.NoNetwork",
    "org.freedesktop.DBus.Error.FileNotFound",
    "org.freedesktop.DBus.Error.NotSupported",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.TimedOut",
    "org.freedesktop.DBus.Error.Spawn.ChildExited",
    "org.freedesktop.DBus.Error.Spawn.ExecFailed",
    "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
];

/// Error names for a locked collection or item.
const LOCKED: &[&str] = &["org.freedesktop.Secret.Error.IsLocked"];

fn classify(e: SsError) -> KeyringError {
    match e {
        SsError::Locked | SsError::Prompt => KeyringError::Locked,
        SsError::Dbus(d) => {
            let name = d.name().unwrap_or("");
            if NO_SERVICE.contains(&name) {
                KeyringError::NoService {
                    detail: format!("{name}: {}", d.message().unwrap_or("")),
                }
            } else if LOCKED.contains(&name) {
                KeyringError::Locked
            } else {
                KeyringError::Service(format!("{name}: {}", d.message().unwrap_or("")))
            }
        }
        other => KeyringError::Service(other.to_string()),
    }
}

/// A connection to the Secret Service for one operation.
pub(crate) struct Backend {
    ss: SecretService,
}

fn attributes(vault_id: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("username", vault_id)])
}

impl Backend {
    pub(crate) fn connect(prompt: Duration) -> Result<Backend, KeyringError> {
        SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, prompt.as_secs())
            .map(|ss| Backend { ss })
            .map_err(|e| match classify(e) {
                // Failing to even open a session means no usable service, whatever the cause.
                KeyringError::Service(detail) => KeyringError::NoService { detail },
                other => other,
            })
    }

    fn items(&self, vault_id: &str) -> Result<Vec<(Item<'_>, bool)>, KeyringError> {
        let found = self
            .ss
            .search_items(attributes(vault_id))
            .map_err(classify)?;
        Ok(found
            .unlocked
            .into_iter()
            .map(|i| (i, false))
            .chain(found.locked.into_iter().map(|i| (i, true)))
            .collect())
    }

    pub(crate) fn count(&self, vault_id: &str) -> Result<usize, KeyringError> {
        Ok(self.items(vault_id)?.len())
    }

    pub(crate) fn load(&self, vault_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyringError> {
        let items = self.items(vault_id)?;
        let (item, locked) = match items.as_slice() {
            [] => return Ok(None),
            [one] => one,
            many => return Err(KeyringError::Ambiguous(many.len())),
        };
        if *locked {
            item.unlock().map_err(classify)?;
        }
        Ok(Some(Zeroizing::new(item.get_secret().map_err(classify)?)))
    }

    pub(crate) fn delete(&self, vault_id: &str) -> Result<usize, KeyringError> {
        let items = self.items(vault_id)?;
        for (item, _) in &items {
            item.delete().map_err(classify)?;
        }
        Ok(items.len())
    }

    pub(crate) fn store(
        &self,
        vault_id: &str,
        label: &str,
        secret: &[u8],
    ) -> Result<(), KeyringError> {
        // Exactly one entry per vault: earlier ones (any collection) go first.
        self.delete(vault_id)?;
        let collection = self.ss.get_default_collection().map_err(|e| match e {
            SsError::NoResult => KeyringError::NoCollection,
            other => classify(other),
        })?;
        collection.ensure_unlocked().map_err(classify)?;
        let mut attrs = attributes(vault_id);
        attrs.insert("application", "hearth");
        collection
            .create_item(label, attrs, secret, true, "text/plain")
            .map_err(classify)?;
        Ok(())
    }
}
