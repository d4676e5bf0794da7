//! The vault: every reading kept forever, compressed into columnar chunks and sealed with
//! XChaCha20-Poly1305 in one SQLite file. The only crate that touches SQLite and keys.
//!
//! # Model
//!
//! - **Raw series**: one chunk per UTC hour of readings, coded by [`codec`] and sealed.
//! - **Rollups** ([`Resolution::Minute`], `Quarter`, `Hour`, `Day`, `Month`): buckets on local
//!   wall-clock boundaries of the vault's time zone, maintained as readings arrive. Each holds
//!   the energy used per register, each booked over its own interval so readings need not
//!   all carry the same registers (exact across gaps; gaps are spread and flagged
//!   `estimated`; a register going down is a meter swap, never negative use), the mean of every
//!   instantaneous value and min/max import and export power.
//! - **Checkpoints**: [`Vault::flush`] seals the open chunks and the writer's state in one
//!   transaction. A collector calls [`Vault::flush_due`] after every append, so a crash loses
//!   at most [`FLUSH_INTERVAL`] of readings and never corrupts anything.
//! - **One writer, many readers**: [`Vault::open`] takes the writer lock;
//!   [`Vault::open_read_only`] may be used at the same time (the app while the collector runs).
//! - **Settings** (tariffs, meter keys, preferences): [`Vault::put_setting`] /
//!   [`Vault::get_setting`], sealed like everything else.
//! - **Keys**: the data key is wrapped by the passphrase (Argon2id) and, optionally, by a
//!   random secret kept in the OS keyring for unattended collection
//!   ([`Vault::enable_secret_slot`], [`Vault::open_with_secret`]). [`Vault::rekey`] replaces
//!   the data key and re-seals everything, so old headers and slots open nothing; Argon2id
//!   settings are bounded ([`KdfParams::check`]) before any derivation.
//! - **Read-only storage**: [`Vault::open`] there is [`VaultError::ReadOnlyStorage`];
//!   [`Vault::open_read_only`] still reads it.
//! - **Write-only collection**: a process with no key seals readings to the vault's public
//!   write-only key ([`write_key`]): into the vault's inbox ([`write_only`], taken in at the
//!   next unlock), or, on a collector box with no vault, as increment files in a folder a
//!   file sync carries ([`increment`], taken in by [`Vault::merge_folder`]).
//! - **Backups**: [`Vault::backup`] writes an encrypted file (whole or a range) that
//!   [`Vault::restore`] merges into any vault, skipping what it already has.
//!
//! Which query for which view: [`Vault::readings_for_points`] picks the coarsest series that
//! fills a chart (a day at ~1000 points reads minute rows, a year reads hourly rows);
//! [`Vault::readings`] takes an explicit [`Resolution`]. Both stream.
//!
//! ```
//! use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
//! use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("vault.hearth");
//! let options = CreateOptions {
//!     kdf: KdfParams::INSECURE_FOR_TESTS, // real vaults use KdfParams::default()
//!     time_zone: Some("Europe/Amsterdam".into()),
//! };
//! let mut vault = Vault::create(&path, "correct horse", &options)?;
//! let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
//! let readings: Vec<Reading> = (0..120)
//!     .map(|i| {
//!         let mut r = Reading::new(Protocol::Dsmr);
//!         r.time = Some(MeterTime::utc(t0 + i));
//!         r.set(Quantity::ImportWh, 1_000_000 + i); // 1 Wh per second = 3600 W
//!         r.set(Quantity::ImportW, 3600);
//!         r
//!     })
//!     .collect();
//! vault.append(&readings)?;
//! vault.flush()?;
//! let minutes: Vec<_> = vault
//!     .readings(t0, t0 + 120, Resolution::Minute)?
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(minutes.len(), 2);
//! assert_eq!(minutes[0].reading.get(Quantity::ImportWh), Some(60)); // Wh used in the minute
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backup;
pub mod codec;
mod error;
mod export;
pub mod increment;
mod keys;
mod manifest;
mod private;
mod query;
mod resolution;
mod rollup;
mod schema;
mod seal;
mod vault;
mod wire;
pub mod write_key;
pub mod write_only;

pub use backup::{BackupReport, RestoreOptions, RestoreReport};
pub use error::{Result, VaultError, WriterLockProblem};
pub use export::{CsvOptions, write_csv};
pub use increment::{Card, FileNote, FileProblem, FolderError, MergeReport, Pinned};
pub use keys::{INSECURE_TEST_KDF_ENV, KdfParams};
pub use manifest::Integrity;
pub use private::create_dirs;
pub use query::{Row, Rows};
pub use resolution::{Resolution, UnknownResolution};
pub use rollup::{
    Bucket, GAP_SECONDS, GLITCH_SECONDS, HOLD_SECONDS, MAX_INTERVAL_SECONDS, MAX_SPREAD_SECONDS,
    RollupCounts,
};
pub use schema::FORMAT_VERSION;
pub use vault::{
    CreateOptions, FLUSH_INTERVAL, FUTURE_GRACE_SECONDS, IngestStats, RekeyReport, Vault,
    VaultInfo, VerifyReport,
};
pub use write_only::{InboxReport, WriteOnly, WriteOnlyStats};

#[cfg(feature = "test-support")]
pub mod damage;

/// Entry points for the cargo-fuzz targets in `crates/vault/fuzz` only; not an API (hidden,
/// may change at any time). Records are sealed as chunks under a fixed test key.
#[doc(hidden)]
pub mod fuzzing {
    use crate::seal::{Aad, RecordKind, Sealer};

    fn sealer_and_aad() -> (Sealer, [u8; 16]) {
        (Sealer::new(&[0x5A; 32]), [0xA5; 16])
    }

    fn aad(vault_id: &[u8; 16]) -> Aad<'_> {
        let (kind, series, resolution) = (RecordKind::Chunk, 1, 0);
        let (window_start, name) = (1_767_225_600, &b""[..]);
        Aad {
            format: crate::FORMAT_VERSION,
            vault_id,
            kind,
            series,
            resolution,
            window_start,
            name,
        }
    }

    /// Seals `payload` as a chunk record.
    pub fn seal_chunk(payload: &[u8]) -> Option<Vec<u8>> {
        let (s, id) = sealer_and_aad();
        s.seal(&aad(&id), payload).ok()
    }

    /// Opens a chunk record sealed by [`seal_chunk`]; `None` for anything else.
    pub fn open_chunk(sealed: &[u8]) -> Option<Vec<u8>> {
        let (s, id) = sealer_and_aad();
        s.open(&aad(&id), sealed).map(|p| p.to_vec())
    }

    /// Decodes a sealed rollup chunk's plaintext into buckets.
    pub fn decode_buckets(bytes: &[u8]) -> Option<Vec<crate::Bucket>> {
        crate::rollup::decode_buckets(bytes).ok()
    }

    /// Encodes buckets as the vault stores a rollup chunk.
    pub fn encode_buckets(buckets: &[crate::Bucket]) -> Vec<u8> {
        crate::rollup::encode_buckets(buckets)
    }
}
