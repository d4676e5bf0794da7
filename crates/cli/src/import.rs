//! `hearth import FILE...`: raw meter captures of any supported protocol (recognised from the
//! bytes) and JSON Lines written by `hearth decode`, into the vault. Readings already stored
//! are skipped, older ones are merged into place, so importing twice changes nothing.
//! Progress goes to stderr for long imports.
//!
//! Supplier downloads (UK half-hourly consumption CSV, `.csv`; Green Button XML, `.xml`) are
//! read as intervals and merged with every download imported before (kept sealed in the
//! vault as [`SUPPLIER_SETTING`]): duplicates and overlaps count once, in this run or any
//! later one. Only new intervals are stored, as import register readings placed around what
//! the vault already holds so that nothing stored changes: files imported in separate runs,
//! in any order, the same file twice or overlapping files all give exact sums. Intervals the
//! vault already has meter readings for are left out (they would count twice).

use crate::Global;
use crate::unlock::open_writer;
use anyhow::Context as _;
use hearth_meter::supplier::{self, IntervalSet, Stored};
use hearth_meter::{Decoder, Quantity, Reading, RejectReason, Stats};
use hearth_vault::{Resolution, Vault};
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

/// Options of `hearth import`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Capture files (raw bytes of any protocol), JSON Lines from `hearth decode`, or supplier
    /// half-hourly downloads (`.csv`, Green Button `.xml`; in any order, over any number of runs).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Keys of a meter that encrypts its frames (remembered in the vault).
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
}

/// Readings travel from the decoding thread to the vault in batches of this many: small
/// enough that the vault starts soon after decoding does, large enough that handing a batch
/// over costs nothing next to decoding it.
const BATCH: usize = 1024;
/// Batches decoded ahead of the vault at most: bounded memory (32 k readings, about 16 MB)
/// however large the file, and enough slack that the decoder seldom waits for the vault
/// when the two threads share busy cores.
const AHEAD: usize = 32;

/// Where the merged intervals of every supplier download imported so far are kept (sealed),
/// so later imports know what is new and where its register must start.
pub const SUPPLIER_SETTING: &str = "supplier.intervals";

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let keys = args.keys.for_vault(&mut vault)?;
    let started = Instant::now();
    let mut total = 0u64;
    let mut rejected = 0u64;
    let mut supplier_files = Vec::new();
    for path in &args.files {
        if supplier_kind(path).is_some() {
            supplier_files.push(path.as_path());
            continue;
        }
        let (n, bad) = import_file(&mut vault, path, started, keys)
            .with_context(|| format!("cannot import {}", path.display()))?;
        total += n;
        rejected += bad;
    }
    if !supplier_files.is_empty() {
        total += import_supplier(&mut vault, &supplier_files)?;
    }
    vault.flush()?;
    let stats = vault.stats();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "imported {total} readings in {secs:.1} s ({:.0}/s): {} stored, {} already present, \
         {} merged into earlier hours, {} without a time, {rejected} frames rejected",
        total as f64 / secs,
        stats.stored + stats.late,
        stats.duplicates,
        stats.late,
        stats.untimed
    );
    vault.close()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SupplierKind {
    Csv,
    GreenButton,
}

/// Supplier downloads are told by their extension: `.csv`, or `.xml` (Green Button).
fn supplier_kind(path: &Path) -> Option<SupplierKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(SupplierKind::Csv),
        "xml" => Some(SupplierKind::GreenButton),
        _ => None,
    }
}

/// Imports supplier downloads: merges their intervals with those of earlier imports (kept in
/// the vault), and stores register readings for the new ones only, placed by
/// [`supplier::plan_registers`] around what the vault already holds so nothing stored
/// changes. Returns the number of readings offered to the vault.
fn import_supplier(vault: &mut Vault, files: &[&Path]) -> anyhow::Result<u64> {
    let tz = vault.time_zone().clone();
    let known = match vault.get_setting(SUPPLIER_SETTING)? {
        Some(bytes) => IntervalSet::decode(&bytes)?,
        None => IntervalSet::new(),
    };
    let mut merged = known.clone();
    for path in files {
        let before = merged.diagnostics.len();
        let reader = BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        );
        let summary = match supplier_kind(path) {
            Some(SupplierKind::GreenButton) => {
                supplier::read_green_button(reader, supplier::Flow::Forward, &mut merged)
            }
            _ => supplier::read_csv(reader, &tz, &mut merged),
        }
        .with_context(|| format!("cannot import {}", path.display()))?;
        eprintln!(
            "{}: {} intervals read: {} new, {} already imported, {} disagreeing with earlier \
             ones (kept the earlier), {} unreadable",
            path.display(),
            summary.rows,
            summary.added,
            summary.duplicates,
            summary.conflicts,
            summary.skipped
        );
        for d in merged.diagnostics[before..].iter().take(5) {
            eprintln!("  line {}: {}", d.line, d.message);
        }
    }
    let new = merged.added_since(&known);
    let (Some(first), Some(last)) = (new.first(), new.last()) else {
        eprintln!(
            "{} supplier file(s): nothing new, 0.000000 kWh added",
            files.len()
        );
        return Ok(0);
    };
    // The planner needs what is on disk around the new intervals.
    vault.flush()?;
    let before = last_register_before(vault, first.start)?;
    let after = first_register_after(vault, last.end)?;
    let mut failure = None;
    let span = vault
        .readings(first.start, last.end.saturating_add(1), Resolution::Raw)?
        .map_while(|row| match row {
            Ok(row) => Some(row),
            Err(e) => {
                failure = Some(e);
                None
            }
        })
        .filter_map(|row| stored_register(&row.reading));
    let plan = supplier::plan_registers(&new, before, span, after);
    if let Some(e) = failure {
        return Err(e).context("cannot read the stored readings around the supplier data");
    }
    let readings = supplier::plan_readings(
        &plan.points,
        Quantity::ImportWh,
        merged.meter_id.as_ref(),
        &tz,
    );
    vault.append(&readings)?;
    let mut stored = known;
    for iv in &plan.accepted {
        stored.insert(*iv, 0);
    }
    // The readings reach the disk first: a crash in between leaves them stored and the next
    // import places the same intervals on the same registers again.
    vault.flush()?;
    vault.put_setting(SUPPLIER_SETTING, &stored.encode())?;
    let added_milli: i64 = plan.accepted.iter().map(|iv| iv.energy_milli_wh).sum();
    let mut kwh = String::new();
    let _ = hearth_meter::reading::write_fixed(&mut kwh, added_milli, 6);
    eprintln!(
        "{} supplier file(s): {} new intervals, {kwh} kWh added",
        files.len(),
        plan.accepted.len()
    );
    if !plan.covered.is_empty() {
        eprintln!(
            "  {} interval(s) left out: the vault already holds meter readings for that time",
            plan.covered.len()
        );
    }
    Ok(readings.len() as u64)
}

/// The import register of a stored reading, if it has one.
fn stored_register(r: &Reading) -> Option<Stored> {
    Some(Stored {
        time: r.time?.unix,
        wh: r.get(Quantity::ImportWh)?,
    })
}

/// The last stored reading with an import register earlier than `t`: looks back an hour,
/// then twice as far each time (a few empty range lookups when nothing is near).
fn last_register_before(vault: &Vault, t: i64) -> anyhow::Result<Option<Stored>> {
    let mut reach: i64 = 3600;
    for _ in 0..24 {
        let from = t.saturating_sub(reach);
        let mut found = None;
        for row in vault.readings(from, t, Resolution::Raw)? {
            if let Some(s) = stored_register(&row?.reading) {
                found = Some(s);
            }
        }
        if found.is_some() {
            return Ok(found);
        }
        reach = reach.saturating_mul(2);
    }
    Ok(None)
}

/// The first stored reading with an import register later than `t`.
fn first_register_after(vault: &Vault, t: i64) -> anyhow::Result<Option<Stored>> {
    for row in vault.readings(t.saturating_add(1), i64::MAX, Resolution::Raw)? {
        if let Some(s) = stored_register(&row?.reading) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

fn is_json_lines(path: &Path) -> anyhow::Result<bool> {
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    Ok(head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{'))
}

fn import_file(
    vault: &mut Vault,
    path: &Path,
    started: Instant,
    keys: Option<hearth_meter::auto::Keys>,
) -> anyhow::Result<(u64, u64)> {
    if is_json_lines(path)? {
        let file = BufReader::new(std::fs::File::open(path)?);
        return pipelined(vault, started, |emit| read_json_lines(file, path, emit));
    }
    let file = std::fs::File::open(path)?;
    let (n, stats) = pipelined(vault, started, |emit| decode_capture(file, keys, emit))?;
    for reason in RejectReason::ALL {
        let k = stats.rejected_for(reason);
        if k > 0 {
            eprintln!(
                "{}: {k} frames rejected ({})",
                path.display(),
                reason.name()
            );
        }
    }
    Ok((n, stats.rejected()))
}

/// Readings from JSON Lines (as `hearth decode` writes them); returns how many lines were
/// not readings (each reported on stderr with its line number).
fn read_json_lines(
    file: impl BufRead,
    path: &Path,
    emit: &mut dyn FnMut(Reading) -> bool,
) -> anyhow::Result<u64> {
    let mut bad = 0u64;
    for (i, line) in file.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match Reading::from_json(&line) {
            Ok(r) => {
                if !emit(r) {
                    break;
                }
            }
            Err(e) => {
                bad += 1;
                eprintln!("{}:{}: {e}", path.display(), i + 1);
            }
        }
    }
    Ok(bad)
}

/// Decodes a raw capture (any protocol, recognised from the bytes); returns the decoder's
/// counts of accepted and rejected frames.
fn decode_capture(
    mut file: impl std::io::Read,
    keys: Option<hearth_meter::auto::Keys>,
    emit: &mut dyn FnMut(Reading) -> bool,
) -> anyhow::Result<Stats> {
    let mut decoder = crate::meter_keys::auto_decoder(keys);
    let mut buf = vec![0u8; 1 << 20];
    'input: loop {
        let got = file.read(&mut buf)?;
        if got == 0 {
            break;
        }
        decoder.push(&buf[..got]);
        while let Some(item) = decoder.next() {
            if let Ok(decoded) = item
                && !emit(decoded.reading)
            {
                break 'input;
            }
        }
    }
    Ok(decoder.stats().clone())
}

/// Runs `produce` (reading and decoding a file) on a thread of its own and stores what it
/// emits in the vault on this one, so decoding and storing (coding, compressing, sealing,
/// SQLite) overlap on two cores. Readings reach the vault in the order they were emitted, in
/// batches of [`BATCH`]; at most [`AHEAD`] batches wait between the two, so memory stays
/// bounded however large the file. `emit` returns `false` once the vault has failed: the
/// producer then stops early. Returns the number of readings offered to the vault and what
/// `produce` returned.
fn pipelined<T: Send>(
    vault: &mut Vault,
    started: Instant,
    produce: impl FnOnce(&mut dyn FnMut(Reading) -> bool) -> anyhow::Result<T> + Send,
) -> anyhow::Result<(u64, T)> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Reading>>(AHEAD);
    // Stored batches go back to the producer, which drops their readings and reuses their
    // memory: readings are freed by the thread that allocated them (freeing them here would
    // contend for the producer's allocator arena, which costs more than it saves).
    let (used_tx, used_rx) = mpsc::channel::<Vec<Reading>>();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut batch: Vec<Reading> = Vec::with_capacity(BATCH);
            let mut open = true;
            let mut emit = |r: Reading| {
                batch.push(r);
                if batch.len() >= BATCH {
                    let fresh = match used_rx.try_recv() {
                        Ok(mut used) => {
                            used.clear();
                            used
                        }
                        Err(_) => Vec::with_capacity(BATCH),
                    };
                    open = full_tx.send(std::mem::replace(&mut batch, fresh)).is_ok();
                }
                open
            };
            let out = produce(&mut emit);
            // After a read error the readings of the unfinished batch are not stored, as
            // before decoding had a thread of its own.
            if open && out.is_ok() && !batch.is_empty() {
                let _ = full_tx.send(batch);
            }
            out
        });
        let mut n = 0u64;
        let mut next_report = 1_000_000u64;
        let mut stored = Ok(());
        for batch in full_rx.iter() {
            if let Err(e) = vault.append(&batch) {
                stored = Err(e);
                break;
            }
            n += batch.len() as u64;
            if n >= next_report {
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                eprintln!("  {} readings ({:.0}/s)", n, n as f64 / secs);
                next_report += 1_000_000;
            }
            let _ = used_tx.send(batch);
        }
        // A failed vault stops the producer: its next send finds no receiver.
        drop(full_rx);
        let produced = producer
            .join()
            .map_err(|_| anyhow::anyhow!("the decoding thread failed"))?;
        stored?;
        Ok((n, produced?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter_io::simulator::Simulator;
    use hearth_vault::{CreateOptions, IngestStats, KdfParams};

    /// Two hours of simulated DSMR 5 telegrams with what real captures hold: telegrams with
    /// a broken checksum (rejected), a repeated telegram (duplicate) and one that arrives
    /// ten minutes late (merged into place).
    fn capture() -> Vec<u8> {
        let mut sim = Simulator::new(7, 1_768_478_400);
        let telegrams: Vec<Vec<u8>> = (0..7200).map(|_| sim.next_telegram()).collect();
        let mut bytes = Vec::new();
        for (i, t) in telegrams.iter().enumerate() {
            if i == 3400 {
                continue;
            }
            let mut t = t.clone();
            if i % 997 == 500 {
                // A flipped digit in the first data line: the CRC no longer matches.
                let at = t.iter().position(|&b| b == b'(').expect("a value") + 1;
                t[at] ^= 0x01;
            }
            bytes.extend_from_slice(&t);
            if i == 4000 {
                bytes.extend_from_slice(&t);
                bytes.extend_from_slice(&telegrams[3400]);
            }
        }
        bytes
    }

    fn vault(dir: &tempfile::TempDir, name: &str) -> Vault {
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        };
        Vault::create(&dir.path().join(name), "pw", &options).expect("vault")
    }

    /// The import loop as it was before decoding moved to a thread of its own: decode, then
    /// append every 8192 readings, all on one thread.
    fn import_on_one_thread(vault: &mut Vault, bytes: &[u8]) -> (u64, u64) {
        let mut decoder = crate::meter_keys::auto_decoder(None);
        let mut batch = Vec::new();
        let mut n = 0u64;
        for chunk in bytes.chunks(1 << 20) {
            decoder.push(chunk);
            while let Some(item) = decoder.next() {
                if let Ok(decoded) = item {
                    batch.push(decoded.reading);
                    if batch.len() >= 8192 {
                        vault.append(&batch).expect("append");
                        n += batch.len() as u64;
                        batch.clear();
                    }
                }
            }
        }
        vault.append(&batch).expect("append");
        n += batch.len() as u64;
        (n, decoder.stats().rejected())
    }

    fn stored(vault: &Vault, res: Resolution) -> Vec<hearth_vault::Row> {
        vault
            .readings(i64::MIN, i64::MAX, res)
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("intact")
    }

    #[test]
    fn the_pipelined_import_stores_exactly_what_the_one_thread_import_stored() {
        let dir = tempfile::tempdir().expect("dir");
        let bytes = capture();
        let file = dir.path().join("day.dsmr");
        std::fs::write(&file, &bytes).expect("capture");

        let mut old = vault(&dir, "old.hearth");
        let (old_n, old_rejected) = import_on_one_thread(&mut old, &bytes);
        old.flush().expect("flush");

        let mut new = vault(&dir, "new.hearth");
        let (new_n, new_rejected) =
            import_file(&mut new, &file, Instant::now(), None).expect("import");
        new.flush().expect("flush");

        // 7201 frames (7200 telegrams, one of them twice), 7 with a broken checksum
        // (telegrams 500, 1497, ... 6482).
        assert_eq!((old_n, old_rejected), (7194, 7));
        assert_eq!((new_n, new_rejected), (old_n, old_rejected));
        let expected = IngestStats {
            stored: 7192,
            duplicates: 1,
            late: 1,
            untimed: 0,
            future: 0,
        };
        assert_eq!(old.stats(), expected);
        assert_eq!(new.stats(), old.stats());
        // Every second but the 7 rejected ones, the late one in its place.
        let raw = stored(&new, Resolution::Raw);
        assert_eq!(raw.len(), 7193);
        assert_eq!(raw, stored(&old, Resolution::Raw));
        for res in Resolution::ROLLUPS {
            assert_eq!(stored(&new, res), stored(&old, res), "{res:?}");
        }
    }
}
