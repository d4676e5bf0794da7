//! Key management on an open vault: changing the passphrase and the OS-keyring key slot.
//! Only the wrapped data key changes; no data is re-encrypted (that is `rekey`). Every write
//! of key material is durable and leaves no old copy in the file or its write-ahead log.

use super::Vault;
use crate::error::{Result, VaultError};
use crate::keys::{self, KEYRING_SLOT, KdfParams};
use crate::schema::read_slot;
use rusqlite::{Connection, params};
use zeroize::Zeroizing;

impl Vault {
    /// Changes the passphrase: rewraps the data key under a new salt (and optionally new
    /// Argon2id parameters). No data is re-encrypted.
    pub fn change_passphrase(
        &mut self,
        new_passphrase: &str,
        kdf: Option<KdfParams>,
    ) -> Result<()> {
        self.writer()?;
        self.flush()?;
        // The vault's settings, unless an older build left them below the floor.
        let kdf = match kdf {
            Some(k) => k,
            None if self.header.kdf.check().is_ok() => self.header.kdf,
            None => KdfParams::default(),
        };
        let salt: [u8; 16] = keys::random()?;
        let wrapped = keys::wrap(
            &self.header.vault_id,
            &self.data_key,
            new_passphrase,
            &kdf,
            &salt,
        )?;
        let mut header = self.header.clone();
        header.kdf = kdf;
        header.salt = salt;
        header.wrapped_key = wrapped;
        self.write_durably(|conn| header.write(conn))?;
        self.header = header;
        Ok(())
    }

    /// Sets up the OS-keyring key slot: draws a new random 256-bit secret, stores the data key
    /// wrapped under it in the vault and returns the secret for the caller to put in the OS
    /// keyring (service `hearth`, user [`Vault::id_hex`]). Replaces an earlier slot, whose
    /// secret then no longer opens the vault. Writer only.
    pub fn enable_secret_slot(&mut self) -> Result<Zeroizing<[u8; 32]>> {
        self.writer()?;
        self.flush()?;
        let secret = Zeroizing::new(keys::random::<32>()?);
        let wrapped =
            keys::wrap_for_slot(&self.header.vault_id, KEYRING_SLOT, &self.data_key, &secret)?;
        self.write_durably(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO key_slot (kind, wrapped_key) VALUES (?1, ?2)",
                params![KEYRING_SLOT, wrapped],
            )
        })?;
        Ok(secret)
    }

    /// Removes the OS-keyring key slot, so the secret in the keyring opens nothing any more
    /// (the caller deletes the keyring entry too). Returns whether there was a slot. Writer
    /// only.
    pub fn disable_secret_slot(&mut self) -> Result<bool> {
        self.writer()?;
        self.flush()?;
        let removed = self.write_durably(|conn| {
            conn.execute(
                "DELETE FROM key_slot WHERE kind = ?1",
                params![KEYRING_SLOT],
            )
        })?;
        Ok(removed > 0)
    }

    /// Whether this vault has an OS-keyring key slot.
    pub fn secret_slot_enabled(&self) -> Result<bool> {
        Ok(read_slot(&self.conn, KEYRING_SLOT)?.is_some())
    }

    /// Runs one key-material write with `synchronous = FULL`, then folds the write-ahead log
    /// into the file and truncates it, so no earlier version of the key material lingers in
    /// the log (`secure_delete` zeroes it in the file itself).
    pub(super) fn write_durably<T, E>(
        &mut self,
        write: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> Result<T>
    where
        VaultError: From<E>,
    {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let r = write(&self.conn);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let r = r?;
        self.truncate_wal()?;
        Ok(r)
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: copies every logged page into the file and empties
    /// the log. While a reader holds an older snapshot the log cannot be emptied yet; SQLite
    /// then leaves it for the next checkpoint (and a clean close removes it).
    pub(super) fn truncate_wal(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}
