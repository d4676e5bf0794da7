//! The integrity manifest (format 2): which version of every sealed record is the current one,
//! so that a record swapped for an older version of itself (from an old copy or a backup,
//! sealed under the same key and so still authentic) is reported as damage.
//!
//! - **A row per record** (`manifest`: kind, series, resolution, window, name → tag): the tag
//!   is the record's Poly1305 tag, the last 16 bytes of its sealed envelope. Every seal draws
//!   a fresh random nonce, so every version of a record has its own tag; a record whose tag is
//!   not its row's is an old (or foreign) version and is read as damaged.
//! - **A sealed root** (`manifest_root`): a generation counter (one more at every commit that
//!   changed a record), the number of rows and the XOR of a keyed BLAKE2b MAC over each row.
//!   The MAC key is derived from the data key, so rows cannot be forged, and the XOR is updated
//!   in place as rows change (a keyed XOR-MAC over a set). Opening recomputes it from the rows:
//!   a row rolled back with its record, or a record removed with its row, no longer adds up.
//! - **An alarm that stays**: when the rows do not add up, a writer records why and when in
//!   the root and goes on from the rows as they are (so later changes are checked again). The
//!   alarm is reported by every open and by `verify` until the vault is rekeyed.
//!
//! What it cannot see: the whole file (root, rows and records together) put back to an older
//! copy. Only a counter kept outside the file can tell that; see docs/vault-format.md.

use crate::error::Result;
use crate::keys::{self, Key};
use crate::seal::{Aad, OVERHEAD, RecordKind, Sealer};
use blake2::digest::{FixedOutput, KeyInit, Update, consts::U32};
use rusqlite::{Connection, OptionalExtension, params};

/// The two manifest tables (created with every format-2 vault and backup).
pub(crate) const TABLES: &str = "
CREATE TABLE IF NOT EXISTS manifest (
    kind INTEGER NOT NULL,
    series INTEGER NOT NULL,
    res INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    name BLOB NOT NULL,
    tag BLOB NOT NULL,
    PRIMARY KEY (kind, series, res, window_start, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS manifest_root (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed BLOB NOT NULL
);
";

/// Length of a record's tag (Poly1305).
const TAG_LEN: usize = 16;

/// Where a sealed record lives: its kind and the identity its associated data names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub kind: RecordKind,
    pub series: u32,
    pub res: u8,
    pub window: i64,
    pub name: &'a [u8],
}

impl Entry<'_> {
    pub(crate) fn chunk(series: u32, res: u8, window: i64) -> Entry<'static> {
        Entry {
            kind: RecordKind::Chunk,
            series,
            res,
            window,
            name: b"",
        }
    }

    pub(crate) fn setting(row_name: &[u8]) -> Entry<'_> {
        Entry {
            kind: RecordKind::Setting,
            series: 0,
            res: 0,
            window: 0,
            name: row_name,
        }
    }

    pub(crate) const WRITER_STATE: Entry<'static> = Entry {
        kind: RecordKind::WriterState,
        series: 0,
        res: 0,
        window: 0,
        name: b"",
    };
}

/// A sealed record's tag: the last 16 bytes of its envelope (all of it if shorter, which
/// then never matches a real tag).
pub(crate) fn tag_of(sealed: &[u8]) -> &[u8] {
    &sealed[sealed.len().saturating_sub(TAG_LEN)..]
}

/// How the manifest of an opened vault checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// Every row adds up to the sealed root: no record was swapped, added or removed behind
    /// the writer's back (each record is checked against its row when read).
    Intact,
    /// A format-1 vault, made by an older Hearth: it has no manifest until a writer opens it.
    NoManifest,
    /// The rows do not add up to the sealed root, the root is missing or damaged, or an
    /// earlier open found so (the alarm stays until the vault is rekeyed): records may have
    /// been rolled back or removed. Said for a human.
    Broken(String),
}

/// The manifest as a writer keeps it: the MAC key, and the root's figures as the rows stand.
pub(crate) struct Manifest {
    key: Key,
    aggregate: [u8; 32],
    count: u64,
    generation: u64,
    /// Why the manifest did not add up (kept in the root until rekey).
    alarm: Option<String>,
    /// Rows changed since the root was last sealed.
    dirty: bool,
}

/// The root's plaintext: `generation u64 | count u64 | aggregate [32] | alarm (utf-8, rest)`.
fn encode_root(m: &Manifest) -> Vec<u8> {
    let mut v = Vec::with_capacity(48 + m.alarm.as_ref().map_or(0, String::len));
    v.extend_from_slice(&m.generation.to_le_bytes());
    v.extend_from_slice(&m.count.to_le_bytes());
    v.extend_from_slice(&m.aggregate);
    if let Some(a) = &m.alarm {
        v.extend_from_slice(a.as_bytes());
    }
    v
}

struct Root {
    generation: u64,
    count: u64,
    aggregate: [u8; 32],
    alarm: Option<String>,
}

fn decode_root(p: &[u8]) -> Option<Root> {
    let generation = u64::from_le_bytes(p.get(0..8)?.try_into().ok()?);
    let count = u64::from_le_bytes(p.get(8..16)?.try_into().ok()?);
    let aggregate: [u8; 32] = p.get(16..48)?.try_into().ok()?;
    let rest = p.get(48..)?;
    let alarm = (!rest.is_empty()).then(|| String::from_utf8_lossy(rest).into_owned());
    Some(Root {
        generation,
        count,
        aggregate,
        alarm,
    })
}

fn root_aad(vault_id: &[u8; 16]) -> Aad<'_> {
    Aad {
        format: 2,
        vault_id,
        kind: RecordKind::ManifestRoot,
        series: 0,
        resolution: 0,
        window_start: 0,
        name: b"manifest",
    }
}

/// The MAC key of a vault's manifest, from its data key.
pub(crate) fn key_for(data_key: &[u8; 32]) -> Key {
    keys::subkey(data_key, b"hearth-manifest")
}

fn mac(key: &[u8; 32], e: &Entry<'_>, tag: &[u8]) -> [u8; 32] {
    mac_raw(key, e.kind as u8, e.series, e.res, e.window, e.name, tag)
}

fn mac_raw(
    key: &[u8; 32],
    kind: u8,
    series: u32,
    res: u8,
    window: i64,
    name: &[u8],
    tag: &[u8],
) -> [u8; 32] {
    let mut m = <blake2::Blake2bMac<U32> as KeyInit>::new_from_slice(key)
        .expect("a 32-byte key fits BLAKE2b");
    m.update(&[kind]);
    m.update(&series.to_le_bytes());
    m.update(&[res]);
    m.update(&window.to_le_bytes());
    m.update(&(name.len() as u64).to_le_bytes());
    m.update(name);
    m.update(tag);
    m.finalize_fixed().into()
}

fn xor(into: &mut [u8; 32], other: &[u8; 32]) {
    for (a, b) in into.iter_mut().zip(other) {
        *a ^= b;
    }
}

fn kind_of(code: u8) -> Option<RecordKind> {
    [
        RecordKind::Chunk,
        RecordKind::Setting,
        RecordKind::WriterState,
    ]
    .into_iter()
    .find(|k| *k as u8 == code)
}

/// The XOR of every row's MAC and the number of rows, as the table stands.
fn sum_rows(conn: &Connection, key: &[u8; 32]) -> Result<([u8; 32], u64)> {
    let mut aggregate = [0u8; 32];
    let mut count = 0u64;
    let mut stmt =
        conn.prepare("SELECT kind, series, res, window_start, name, tag FROM manifest")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let name: Vec<u8> = r.get(4)?;
        let tag: Vec<u8> = r.get(5)?;
        let m = mac_raw(key, r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, &name, &tag);
        xor(&mut aggregate, &m);
        count += 1;
    }
    Ok((aggregate, count))
}

impl Manifest {
    /// Checks the manifest of a format-2 vault: the sealed root opened and compared with the
    /// rows. Returns the writer's manifest (going on from the rows as they are, with any
    /// mismatch kept as the alarm) and what the check found.
    pub(crate) fn load(
        conn: &Connection,
        sealer: &Sealer,
        vault_id: &[u8; 16],
        key: Key,
    ) -> Result<(Manifest, Integrity)> {
        let (aggregate, count) = sum_rows(conn, &key)?;
        let sealed: Option<Vec<u8>> = conn
            .query_row("SELECT sealed FROM manifest_root WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let root = match sealed {
            None => Err("its integrity manifest is missing".to_string()),
            Some(s) => sealer
                .open(&root_aad(vault_id), &s)
                .and_then(|p| decode_root(&p))
                .ok_or_else(|| "its integrity manifest is damaged".to_string()),
        };
        let (generation, problem) = match root {
            Err(why) => (0, Some(why)),
            Ok(root) => {
                let problem = if let Some(alarm) = root.alarm {
                    Some(alarm)
                } else if root.count != count || root.aggregate != aggregate {
                    Some(format!(
                        "its records do not add up to the integrity manifest ({} recorded, {} \
                         found): records were rolled back, removed or added outside Hearth",
                        root.count, count
                    ))
                } else {
                    None
                };
                (root.generation, problem)
            }
        };
        let integrity = match &problem {
            None => Integrity::Intact,
            Some(why) => Integrity::Broken(why.clone()),
        };
        let manifest = Manifest {
            key,
            aggregate,
            count,
            generation,
            // A new alarm is sealed into the root at the writer's first commit.
            dirty: problem.is_some(),
            alarm: problem,
        };
        Ok((manifest, integrity))
    }

    /// The manifest of a reader handle: it checks records against the rows and never seals a
    /// root.
    pub(crate) fn reader(key: Key) -> Manifest {
        Manifest {
            key,
            aggregate: [0; 32],
            count: 0,
            generation: 0,
            alarm: None,
            dirty: false,
        }
    }

    /// Builds the manifest from the records as they are (a new vault, an upgrade from format
    /// 1, a rekey, a backup): every row written anew, no alarm.
    pub(crate) fn build(conn: &Connection, key: Key) -> Result<Manifest> {
        conn.execute("DELETE FROM manifest", [])?;
        let mut m = Manifest {
            key,
            aggregate: [0; 32],
            count: 0,
            generation: 0,
            alarm: None,
            dirty: true,
        };
        let mut found: Vec<(Entry<'static>, Vec<u8>, Vec<u8>)> = Vec::new();
        {
            let mut stmt = conn.prepare("SELECT series, res, window_start, sealed FROM chunk")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let sealed: Vec<u8> = r.get(3)?;
                found.push((
                    Entry::chunk(r.get(0)?, r.get(1)?, r.get(2)?),
                    Vec::new(),
                    tag_of(&sealed).to_vec(),
                ));
            }
            let mut stmt = conn.prepare("SELECT name, sealed FROM setting")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let name: String = r.get(0)?;
                let sealed: Vec<u8> = r.get(1)?;
                found.push((
                    Entry::setting(b""),
                    name.into_bytes(),
                    tag_of(&sealed).to_vec(),
                ));
            }
            let has_state: bool = conn.query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'writer_state'",
                [],
                |r| r.get(0),
            )?;
            if has_state {
                let state: Option<Vec<u8>> = conn
                    .query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if let Some(s) = state {
                    found.push((Entry::WRITER_STATE, Vec::new(), tag_of(&s).to_vec()));
                }
            }
        }
        for (e, name, tag) in &found {
            let e = Entry {
                name: if e.kind == RecordKind::Setting {
                    name
                } else {
                    e.name
                },
                ..*e
            };
            m.record(conn, &e, tag)?;
        }
        Ok(m)
    }

    /// The record at `e` was written with tag `tag`: its row and the aggregate follow.
    pub(crate) fn record(&mut self, conn: &Connection, e: &Entry<'_>, tag: &[u8]) -> Result<()> {
        self.forget(conn, e)?;
        conn.prepare_cached(
            "INSERT INTO manifest (kind, series, res, window_start, name, tag)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            e.kind as u8,
            e.series,
            e.res,
            e.window,
            e.name,
            tag
        ])?;
        xor(&mut self.aggregate, &mac(&self.key, e, tag));
        self.count += 1;
        self.dirty = true;
        Ok(())
    }

    /// The record at `e` was removed: so is its row (if any).
    pub(crate) fn forget(&mut self, conn: &Connection, e: &Entry<'_>) -> Result<()> {
        if let Some(old) = expected_tag(conn, e)? {
            conn.prepare_cached(
                "DELETE FROM manifest WHERE kind = ?1 AND series = ?2 AND res = ?3
                 AND window_start = ?4 AND name = ?5",
            )?
            .execute(params![e.kind as u8, e.series, e.res, e.window, e.name])?;
            xor(&mut self.aggregate, &mac(&self.key, e, &old));
            self.count -= 1;
            self.dirty = true;
        }
        Ok(())
    }

    /// The chunks of `series` at resolution `res` from `from` on were removed.
    pub(crate) fn forget_chunks_from(
        &mut self,
        conn: &Connection,
        series: u32,
        res: u8,
        from: i64,
    ) -> Result<()> {
        let windows: Vec<i64> = conn
            .prepare_cached(
                "SELECT window_start FROM manifest WHERE kind = ?1 AND series = ?2 AND res = ?3
                 AND window_start >= ?4",
            )?
            .query_map(params![RecordKind::Chunk as u8, series, res, from], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        for w in windows {
            self.forget(conn, &Entry::chunk(series, res, w))?;
        }
        Ok(())
    }

    /// Seals the root if rows changed since it was last sealed (one more generation). Call
    /// inside the transaction that changed them, before it commits.
    pub(crate) fn save_root(
        &mut self,
        conn: &Connection,
        sealer: &Sealer,
        vault_id: &[u8; 16],
    ) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.generation += 1;
        let sealed = sealer.seal(&root_aad(vault_id), &encode_root(self))?;
        conn.execute(
            "INSERT OR REPLACE INTO manifest_root (id, sealed) VALUES (1, ?1)",
            params![sealed],
        )?;
        self.dirty = false;
        Ok(())
    }

    /// The generation of the last sealed root (one more per commit that changed a record).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// The tag the manifest holds for `e`, if it has a row.
pub(crate) fn expected_tag(conn: &Connection, e: &Entry<'_>) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT tag FROM manifest WHERE kind = ?1 AND series = ?2 AND res = ?3
             AND window_start = ?4 AND name = ?5",
        )?
        .query_row(
            params![e.kind as u8, e.series, e.res, e.window, e.name],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether `sealed` is the version of `e` the manifest names.
pub(crate) fn is_current(conn: &Connection, e: &Entry<'_>, sealed: &[u8]) -> Result<bool> {
    Ok(tag_matches(sealed, expected_tag(conn, e)?.as_deref()))
}

/// Whether `sealed` carries the manifest's `tag` for it (`None`: the manifest has no row).
pub(crate) fn tag_matches(sealed: &[u8], tag: Option<&[u8]>) -> bool {
    sealed.len() >= OVERHEAD && tag.is_some_and(|t| t == tag_of(sealed))
}

/// A sealed record and the manifest's tag for it (`None`: no row).
pub(crate) type WithTag = (Vec<u8>, Option<Vec<u8>>);

/// A chunk and the tag the manifest holds for it, read in one statement, so one snapshot: a
/// reader beside a writer never pairs a chunk with its row from another commit (which would
/// look like a rollback). `None` when there is no such chunk.
pub(crate) fn chunk_with_tag(
    conn: &Connection,
    series: u32,
    res: u8,
    window: i64,
) -> Result<Option<WithTag>> {
    Ok(conn
        .prepare_cached(
            "SELECT c.sealed, m.tag FROM chunk c LEFT JOIN manifest m
               ON m.kind = ?4 AND m.series = c.series AND m.res = c.res
              AND m.window_start = c.window_start AND m.name = ?5
             WHERE c.series = ?1 AND c.res = ?2 AND c.window_start = ?3",
        )?
        .query_row(
            params![series, res, window, RecordKind::Chunk as u8, &b""[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Rows with no record behind them (a record removed outside Hearth), for `verify`: a human
/// description of each.
pub(crate) fn orphans(conn: &Connection) -> Result<Vec<String>> {
    // One query: every row whose record is not there, in key order.
    let mut stmt = conn.prepare(
        "SELECT m.kind, m.res, m.window_start FROM manifest m WHERE NOT CASE m.kind
             WHEN ?1 THEN EXISTS (SELECT 1 FROM chunk c WHERE c.series = m.series
                 AND c.res = m.res AND c.window_start = m.window_start)
             WHEN ?2 THEN EXISTS (SELECT 1 FROM setting s WHERE s.name = CAST(m.name AS TEXT))
             WHEN ?3 THEN EXISTS (SELECT 1 FROM writer_state)
             ELSE 0 END
         ORDER BY m.kind, m.series, m.res, m.window_start, m.name",
    )?;
    let gone = stmt.query_map(
        params![
            RecordKind::Chunk as u8,
            RecordKind::Setting as u8,
            RecordKind::WriterState as u8
        ],
        |r| Ok((r.get::<_, u8>(0)?, r.get::<_, u8>(1)?, r.get::<_, i64>(2)?)),
    )?;
    let mut out = Vec::new();
    for row in gone {
        let (kind, res, window) = row?;
        out.push(match kind_of(kind) {
            Some(RecordKind::Chunk) => format!(
                "{} removed outside Hearth",
                crate::vault::chunk_name(res, window)
            ),
            Some(RecordKind::Setting) => "a setting removed outside Hearth".to_string(),
            Some(RecordKind::WriterState) => "the writer state removed outside Hearth".to_string(),
            _ => "an unknown entry in the integrity manifest".to_string(),
        });
    }
    Ok(out)
}
