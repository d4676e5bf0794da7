//! The vault as the shell holds it: where it lives, whether it is unlocked, and readings that
//! arrived while it was locked (kept in memory, bounded, and written on unlock).

use hearth_meter::Reading;
use hearth_vault::{CreateOptions, KdfParams, Vault, VaultError};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// At most this many readings wait in memory while the vault is locked (a day at 1 per second).
pub const MAX_PENDING: usize = 86_400;

/// Where the vault stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No vault yet: the first-run wizard creates one.
    Setup,
    /// A vault exists and waits for the passphrase.
    Locked,
    /// Unlocked: readings are stored and history can be shown.
    Open,
}

/// The vault file and, when unlocked, the open handle.
pub struct Store {
    path: PathBuf,
    vault: Option<Vault>,
    pending: VecDeque<Reading>,
    dropped: u64,
}

impl Store {
    /// A store for the vault file at `path` (which may not exist yet).
    pub fn new(path: PathBuf) -> Self {
        Store {
            path,
            vault: None,
            pending: VecDeque::new(),
            dropped: 0,
        }
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Setup, locked or open.
    pub fn status(&self) -> Status {
        if self.vault.is_some() {
            Status::Open
        } else if self.path.exists() {
            Status::Locked
        } else {
            Status::Setup
        }
    }

    /// The open vault, if unlocked.
    pub fn vault(&self) -> Option<&Vault> {
        self.vault.as_ref()
    }

    /// The open vault for writing, if unlocked.
    pub fn vault_mut(&mut self) -> Option<&mut Vault> {
        self.vault.as_mut()
    }

    /// Creates the vault file (slow: runs the key derivation). Call without holding a lock.
    pub fn create_vault(
        path: &Path,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<Vault, VaultError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Vault::create(
            path,
            passphrase,
            &CreateOptions {
                kdf,
                time_zone: None,
            },
        )
    }

    /// Installs an unlocked vault and writes what waited in memory.
    pub fn install(&mut self, mut vault: Vault) -> Result<(), VaultError> {
        if !self.pending.is_empty() {
            let pending: Vec<Reading> = self.pending.drain(..).collect();
            vault.append(&pending)?;
            vault.flush()?;
        }
        self.vault = Some(vault);
        Ok(())
    }

    /// Flushes and closes the vault; its key leaves memory. Readings now wait in memory.
    pub fn lock(&mut self) -> Result<(), VaultError> {
        match self.vault.take() {
            Some(v) => v.close(),
            None => Ok(()),
        }
    }

    /// Stores readings (or keeps them in memory while locked); flushes when due.
    pub fn append(&mut self, readings: &[Reading], now: Instant) -> Result<(), VaultError> {
        match &mut self.vault {
            Some(v) => {
                v.append(readings)?;
                v.flush_due(now)?;
            }
            None => {
                for r in readings {
                    if self.pending.len() == MAX_PENDING {
                        self.pending.pop_front();
                        self.dropped += 1;
                    }
                    self.pending.push_back(r.clone());
                }
            }
        }
        Ok(())
    }

    /// Readings waiting for an unlock.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol, Quantity};

    fn reading(t: i64, wh: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, wh);
        r.set(Quantity::ImportW, 3600);
        r
    }

    #[test]
    fn setup_open_lock_pending_unlock() {
        let dir = std::env::temp_dir().join(format!("hearth-store-test-{}", std::process::id()));
        let path = dir.join("sub").join("vault.hearth");
        let mut s = Store::new(path.clone());
        assert_eq!(s.status(), Status::Setup);
        let v = Store::create_vault(&path, "pw", KdfParams::INSECURE_FOR_TESTS).expect("create");
        s.install(v).expect("install");
        assert_eq!(s.status(), Status::Open);
        let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
        s.append(&[reading(t0, 1000), reading(t0 + 1, 1001)], Instant::now())
            .expect("append");
        s.lock().expect("lock");
        assert_eq!(s.status(), Status::Locked);
        s.append(&[reading(t0 + 2, 1002)], Instant::now())
            .expect("pending");
        assert_eq!(s.pending(), 1);
        assert!(matches!(
            Vault::open(&path, "wrong"),
            Err(VaultError::WrongPassphrase)
        ));
        s.install(Vault::open(&path, "pw").expect("open"))
            .expect("install");
        assert_eq!(s.pending(), 0);
        assert_eq!(s.vault().and_then(|v| v.last_time()), Some(t0 + 2));
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
