//! Settings: named values (tariffs, meter keys, preferences, the vault's time zone), each
//! sealed like every other record.

use super::Vault;
use crate::error::{Result, VaultError};
use crate::seal::RecordKind;
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

/// Setting that holds the vault's time zone (IANA name).
pub(super) const TZ_SETTING: &str = "vault.time_zone";

impl Vault {
    /// Stores a setting (tariffs, meter keys, preferences), sealed. Commits at once.
    pub fn put_setting(&mut self, name: &str, value: &[u8]) -> Result<()> {
        self.writer()?;
        self.flush()?;
        self.write_setting(name, value)
    }

    pub(super) fn write_setting(&mut self, name: &str, value: &[u8]) -> Result<()> {
        let sealed = self
            .sealer
            .seal(&self.aad(RecordKind::Setting, 0, 0, name.as_bytes()), value)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO setting (name, sealed) VALUES (?1, ?2)",
            params![name, sealed],
        )?;
        Ok(())
    }

    /// Reads a setting; `None` if never stored.
    pub fn get_setting(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed FROM setting WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        match sealed {
            None => Ok(None),
            Some(s) => self
                .sealer
                .open(&self.aad(RecordKind::Setting, 0, 0, name.as_bytes()), &s)
                .map(Some)
                .ok_or_else(|| VaultError::Damaged {
                    what: format!("setting {name}"),
                }),
        }
    }

    /// Names of all stored settings.
    pub fn setting_names(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM setting ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }
}
