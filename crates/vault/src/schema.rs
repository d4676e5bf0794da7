//! The SQLite schema and the plaintext header (format version, vault id, Argon2id parameters,
//! salt, wrapped data key) and key slots (the data key wrapped for the OS keyring). Everything
//! else in the file is sealed.

use crate::error::{Result, VaultError};
use crate::keys::KdfParams;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// The on-disk format version this build writes and the newest it reads.
///
/// - 1: the first format.
/// - 2: records sealed under the `hearth-vault-v2` domain, setting names keyed, and the
///   integrity manifest (`crate::manifest`). A writer upgrades a format-1 vault when it opens
///   it.
pub const FORMAT_VERSION: u32 = 2;
/// Marker stored in the header row.
pub(crate) const MAGIC: &str = "hearth-vault";

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS header (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    magic TEXT NOT NULL,
    format INTEGER NOT NULL,
    vault_id BLOB NOT NULL,
    kdf_memory_kib INTEGER NOT NULL,
    kdf_iterations INTEGER NOT NULL,
    kdf_parallelism INTEGER NOT NULL,
    salt BLOB NOT NULL,
    wrapped_key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chunk (
    series INTEGER NOT NULL,
    res INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (series, res, window_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS setting (
    name TEXT PRIMARY KEY,
    sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS writer_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS key_slot (
    kind TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL
) WITHOUT ROWID;
";

/// The tables a Hearth file has (a backup: all but `writer_state` may be present).
const TABLES: [&str; 9] = [
    "header",
    "chunk",
    "setting",
    "writer_state",
    "key_slot",
    "manifest",
    "manifest_root",
    "write_key",
    "inbox",
];

/// Refuses a file holding SQLite objects no Hearth file has: triggers and views always (SQL
/// that would run while Hearth reads); with `strict` (a backup, which is never Hearth's own
/// file), also any other table or index. Read with `trusted_schema` off, so no function of
/// the file's schema runs while it is checked.
pub(crate) fn check_objects(conn: &Connection, path: &Path, strict: bool) -> Result<()> {
    let mut stmt = conn.prepare("SELECT type, name, tbl_name FROM sqlite_master")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (kind, name, table): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let known_table = TABLES.contains(&table.as_str());
        let allowed = match kind.as_str() {
            "table" => !strict || known_table,
            // Only SQLite's own indexes of the primary keys.
            "index" => !strict || (known_table && name.starts_with("sqlite_autoindex_")),
            _ => false,
        };
        if !allowed {
            let kind = match kind.as_str() {
                "trigger" => "a trigger",
                "view" => "a view",
                "table" => "a table",
                "index" => "an index",
                _ => "an object",
            };
            return Err(VaultError::UnexpectedSchema {
                path: path.to_path_buf(),
                kind,
                name: name.chars().take(40).collect(),
            });
        }
    }
    Ok(())
}

/// Added after format 1 shipped without it: created by [`SCHEMA`] for new vaults and when an
/// older vault is opened for writing. A vault without it simply has no key slots.
pub(crate) const SLOT_TABLE: &str = "
CREATE TABLE IF NOT EXISTS key_slot (
    kind TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL
) WITHOUT ROWID;
";

/// The wrapped data key of slot `kind`; `None` when there is no such slot (or, in a vault
/// from before key slots, no slot table).
pub(crate) fn read_slot(conn: &Connection, kind: &str) -> Result<Option<Vec<u8>>> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'key_slot'",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT wrapped_key FROM key_slot WHERE kind = ?1",
            params![kind],
            |r| r.get(0),
        )
        .optional()?)
}

/// The plaintext header row.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub format: u32,
    pub vault_id: [u8; 16],
    pub kdf: KdfParams,
    pub salt: [u8; 16],
    pub wrapped_key: Vec<u8>,
}

impl Header {
    pub(crate) fn write(&self, conn: &Connection) -> Result<()> {
        conn.execute(
            "INSERT OR REPLACE INTO header (id, magic, format, vault_id, kdf_memory_kib,
             kdf_iterations, kdf_parallelism, salt, wrapped_key)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                MAGIC,
                self.format,
                &self.vault_id[..],
                self.kdf.memory_kib,
                self.kdf.iterations,
                self.kdf.parallelism,
                &self.salt[..],
                self.wrapped_key,
            ],
        )?;
        Ok(())
    }

    pub(crate) fn read(conn: &Connection, path: &Path) -> Result<Header> {
        let not_a_vault = || VaultError::NotAVault(path.to_path_buf());
        let row = conn
            .query_row(
                "SELECT magic, format, vault_id, kdf_memory_kib, kdf_iterations,
                 kdf_parallelism, salt, wrapped_key FROM header WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, u32>(4)?,
                        r.get::<_, u32>(5)?,
                        r.get::<_, Vec<u8>>(6)?,
                        r.get::<_, Vec<u8>>(7)?,
                    ))
                },
            )
            .optional()
            .map_err(|_| not_a_vault())?
            .ok_or_else(not_a_vault)?;
        let (magic, format, id, m, t, p, salt, wrapped_key) = row;
        if magic != MAGIC {
            return Err(not_a_vault());
        }
        if format > FORMAT_VERSION {
            return Err(VaultError::UnsupportedVersion {
                found: format,
                supported: FORMAT_VERSION,
            });
        }
        Ok(Header {
            format,
            vault_id: id.try_into().map_err(|_| not_a_vault())?,
            kdf: KdfParams {
                memory_kib: m,
                iterations: t,
                parallelism: p,
            },
            salt: salt.try_into().map_err(|_| not_a_vault())?,
            wrapped_key,
        })
    }
}
