//! Settings: named values (tariffs, meter keys, preferences, the vault's time zone), each
//! sealed like every other record. In format 2 a setting's row is named by a keyed hash of its
//! name (the real name is sealed inside, before the value), so the file shows how many
//! settings there are and nothing of what they are (`tariff/octopus-agile-…`, `mqtt/password`).

use super::Vault;
use crate::error::{Result, VaultError};
use crate::keys::{self, Key};
use crate::manifest::{self, Entry};
use crate::seal::RecordKind;
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

/// Setting that holds the vault's time zone (IANA name).
pub(super) const TZ_SETTING: &str = "vault.time_zone";

/// The key that names setting rows in format 2, from the data key.
pub(crate) fn names_key(data_key: &[u8; 32]) -> Key {
    keys::subkey(data_key, b"hearth-names")
}

/// The row name of setting `name` under `key`: `k` and 32 hex digits of keyed BLAKE2b-128.
pub(crate) fn keyed_name(key: &[u8; 32], name: &str) -> String {
    use blake2::digest::{FixedOutput, KeyInit, Update, consts::U16};
    let mut mac = <blake2::Blake2bMac<U16> as KeyInit>::new_from_slice(key)
        .expect("a 32-byte key fits BLAKE2b");
    mac.update(name.as_bytes());
    let digest: [u8; 16] = mac.finalize_fixed().into();
    let mut row = String::with_capacity(33);
    row.push('k');
    for b in digest {
        row.push_str(&format!("{b:02x}"));
    }
    row
}

/// A format-2 setting's sealed payload: `name length (u16 LE) | name | value`.
pub(crate) fn encode_named(name: &str, value: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::with_capacity(2 + name.len() + value.len()));
    v.extend_from_slice(&(name.len().min(u16::MAX as usize) as u16).to_le_bytes());
    v.extend_from_slice(&name.as_bytes()[..name.len().min(u16::MAX as usize)]);
    v.extend_from_slice(value);
    v
}

/// The name and value of a format-2 setting's payload.
pub(crate) fn decode_named(payload: &[u8]) -> Option<(String, &[u8])> {
    let len = u16::from_le_bytes(payload.get(..2)?.try_into().ok()?) as usize;
    let name = std::str::from_utf8(payload.get(2..2 + len)?).ok()?;
    Some((name.to_string(), payload.get(2 + len..)?))
}

/// A setting opened: its name and value.
pub(super) type Opened = (String, Zeroizing<Vec<u8>>);

impl Vault {
    /// Stores a setting (tariffs, meter keys, preferences), sealed. Commits at once.
    pub fn put_setting(&mut self, name: &str, value: &[u8]) -> Result<()> {
        self.writer()?;
        self.flush()?;
        self.begin()?;
        self.write_setting(name, value)?;
        self.flush()
    }

    /// The row a setting is stored under.
    fn setting_row(&self, name: &str) -> String {
        match &self.names_key {
            Some(key) => keyed_name(key, name),
            None => name.to_string(),
        }
    }

    pub(super) fn write_setting(&mut self, name: &str, value: &[u8]) -> Result<()> {
        let row = self.setting_row(name);
        let sealed = if self.names_key.is_some() {
            let payload = encode_named(name, value);
            self.sealer.seal(
                &self.aad(RecordKind::Setting, 0, 0, row.as_bytes()),
                &payload,
            )?
        } else {
            self.sealer
                .seal(&self.aad(RecordKind::Setting, 0, 0, row.as_bytes()), value)?
        };
        self.conn.execute(
            "INSERT OR REPLACE INTO setting (name, sealed) VALUES (?1, ?2)",
            params![row, sealed],
        )?;
        self.note_written(&Entry::setting(row.as_bytes()), &sealed)
    }

    /// Opens the setting stored in row `row`: its name and value. `Damaged` when it fails
    /// authentication or is not the version the manifest names.
    fn open_setting_row(&self, row: &str, sealed: &[u8]) -> Result<Opened> {
        let shown = if self.names_key.is_some() {
            "a setting".to_string()
        } else {
            format!("setting {row}")
        };
        if self.manifest.is_some()
            && !manifest::is_current(&self.conn, &Entry::setting(row.as_bytes()), sealed)?
        {
            return Err(VaultError::Damaged {
                what: format!("{shown} is not the version Hearth last wrote (rolled back)"),
            });
        }
        let plain = self
            .sealer
            .open(&self.aad(RecordKind::Setting, 0, 0, row.as_bytes()), sealed)
            .ok_or_else(|| VaultError::Damaged {
                what: shown.clone(),
            })?;
        if self.names_key.is_none() {
            return Ok((row.to_string(), plain));
        }
        let (name, value) = decode_named(&plain)
            .filter(|(name, _)| self.setting_row(name) == row)
            .ok_or(VaultError::Damaged { what: shown })?;
        Ok((name, Zeroizing::new(value.to_vec())))
    }

    /// Reads a setting; `None` if never stored.
    pub fn get_setting(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.snapshot(|| self.get_setting_now(name))
    }

    fn get_setting_now(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let row = self.setting_row(name);
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed FROM setting WHERE name = ?1",
                params![row],
                |r| r.get(0),
            )
            .optional()?;
        match sealed {
            None => Ok(None),
            Some(s) => self
                .open_setting_row(&row, &s)
                .map(|(_, value)| Some(value))
                .map_err(|e| match e {
                    VaultError::Damaged { what } if self.names_key.is_some() => {
                        VaultError::Damaged {
                            what: what.replacen("a setting", &format!("setting {name}"), 1),
                        }
                    }
                    e => e,
                }),
        }
    }

    /// Every stored setting's row, opened: its name and value, or why it could not be read.
    pub(super) fn setting_rows(&self) -> Result<Vec<Result<Opened>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, sealed FROM setting ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .map(|(row, sealed)| self.open_setting_row(&row, &sealed))
            .collect())
    }

    /// Names of all stored settings, sorted (in format 2 the names are sealed: a setting that
    /// cannot be opened is left out here and reported by `verify`).
    pub fn setting_names(&self) -> Result<Vec<String>> {
        self.snapshot(|| self.setting_names_now())
    }

    fn setting_names_now(&self) -> Result<Vec<String>> {
        if self.names_key.is_none() {
            let mut stmt = self
                .conn
                .prepare("SELECT name FROM setting ORDER BY name")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            return Ok(rows.collect::<Result<Vec<String>, _>>()?);
        }
        let mut names: Vec<String> = self
            .setting_rows()?
            .into_iter()
            .filter_map(|r| r.ok().map(|(name, _)| name))
            .collect();
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_payload_round_trips_and_a_short_one_is_refused() {
        let p = encode_named("tariff/octopus-agile", b"\x01\x02");
        assert_eq!(
            decode_named(&p),
            Some(("tariff/octopus-agile".to_string(), &b"\x01\x02"[..]))
        );
        assert_eq!(decode_named(&p[..5]), None);
        assert_eq!(decode_named(&[]), None);
    }

    #[test]
    fn keyed_names_hide_the_name_and_depend_on_the_key() {
        let a = keyed_name(&[1; 32], "mqtt/password");
        assert_eq!(a.len(), 33);
        assert!(a.starts_with('k') && !a.contains("mqtt"));
        assert_eq!(a, keyed_name(&[1; 32], "mqtt/password"));
        assert_ne!(a, keyed_name(&[2; 32], "mqtt/password"));
        assert_ne!(a, keyed_name(&[1; 32], "mqtt/passwore"));
    }
}
