//! Write-only collection (issue 21 item 1): a handle with no key appends sealed blocks to the
//! inbox; the next unlocked writer open takes them in exactly (the same raw readings and
//! rollups as a writer that stored them itself), once, however it was interrupted; garbage
//! and tampered rows are refused with a reason and counted, the rest taken in.

use hearth_meter::Reading;
use hearth_meter_io::simulator::Simulator;
use hearth_vault::write_key::seal_to;
use hearth_vault::write_only::{BLOCK_READINGS, LABEL};
use hearth_vault::{CreateOptions, KdfParams, Resolution, Row, Vault, VaultError};
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "correct horse battery";
/// 2026-01-15T00:00:00Z.
const T0: i64 = 1_768_435_200;

fn create(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    Vault::create(&path, PASSPHRASE, &options)
        .expect("create")
        .close()
        .expect("close");
    path
}

fn simulated(seed: u64, start: i64, n: usize) -> Vec<Reading> {
    let mut sim = Simulator::new(seed, start);
    (0..n)
        .map(|_| {
            sim.step();
            sim.reading()
        })
        .collect()
}

/// Every row of every series.
fn everything(path: &Path) -> Vec<Row> {
    let v = Vault::open_read_only(path, PASSPHRASE).expect("reader");
    Resolution::ALL
        .into_iter()
        .flat_map(|res| {
            v.readings(0, i64::MAX / 2, res)
                .expect("rows")
                .map(|r| r.expect("intact"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A vault holding `readings`, stored by the ordinary writer.
fn reference(dir: &Path, readings: &[Reading]) -> Vec<Row> {
    let path = create(dir, "reference.hearth");
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    v.append(readings).expect("append");
    v.close().expect("close");
    everything(&path)
}

fn inbox_rows(path: &Path) -> Vec<(i64, i64, Vec<u8>)> {
    let db = Connection::open(path).expect("sqlite");
    let mut stmt = db
        .prepare("SELECT id, received, sealed FROM inbox ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn write_only(path: &Path, readings: &[Reading]) {
    let mut w = Vault::open_write_only(path).expect("write-only open");
    w.append(readings).expect("append");
    w.close().expect("close");
}

#[test]
fn readings_stored_write_only_are_taken_in_exactly_once_at_the_next_unlock() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    // Three hours and a bit of one-second readings, across a local day's start.
    let readings = simulated(7, T0 - 3600, 3 * 3600 + 125);
    write_only(&path, &readings);
    let rows = inbox_rows(&path);
    assert_eq!(rows.len(), 4, "a block every {BLOCK_READINGS} readings");
    assert_eq!(
        Vault::inbox_waiting(&path).expect("keyless count"),
        4,
        "counted without any key"
    );
    // `received`: the UTC hour of each block's newest reading.
    let hours: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let newest: Vec<i64> = readings
        .chunks(BLOCK_READINGS)
        .map(|c| c[c.len() - 1].time.expect("time").unix.div_euclid(3600) * 3600)
        .collect();
    assert_eq!(hours, newest);
    assert_eq!(hours, [T0 - 3600, T0, T0 + 3600, T0 + 2 * 3600]);
    // A reader sees nothing yet (the inbox is not the vault's until taken in).
    assert!(everything(&path).is_empty());

    let v = Vault::open(&path, PASSPHRASE).expect("unlock");
    let report = v.inbox_report().clone();
    assert_eq!(
        (
            report.blocks,
            report.readings,
            report.added,
            report.duplicates
        ),
        (4, readings.len() as u64, readings.len() as u64, 0)
    );
    assert!(report.refused.is_empty());
    assert_eq!(
        v.stats().stored,
        0,
        "the session's counters stay the session's"
    );
    v.close().expect("close");
    assert!(inbox_rows(&path).is_empty(), "taken in, then deleted");
    assert_eq!(
        everything(&path),
        reference(dir.path(), &readings),
        "raw and every rollup as the writer stores them"
    );

    // A second unlock adds nothing.
    let v = Vault::open(&path, PASSPHRASE).expect("unlock again");
    assert_eq!(v.inbox_report(), &hearth_vault::InboxReport::default());
    v.close().expect("close");
}

#[test]
fn a_crash_between_storing_the_readings_and_deleting_the_rows_adds_nothing_twice() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let readings = simulated(11, T0, 2 * 3600 + 40);
    write_only(&path, &readings);
    let before = inbox_rows(&path);
    assert_eq!(before.len(), 3);
    Vault::open(&path, PASSPHRASE)
        .expect("unlock")
        .close()
        .expect("close");
    let taken = everything(&path);
    // What a crash after the readings' checkpoint and before the rows' delete leaves: the
    // readings stored and the rows still there.
    let db = Connection::open(&path).expect("sqlite");
    for (id, received, sealed) in &before {
        db.execute(
            "INSERT INTO inbox (id, received, sealed) VALUES (?1, ?2, ?3)",
            params![id, received, sealed],
        )
        .expect("put back");
    }
    drop(db);
    let v = Vault::open(&path, PASSPHRASE).expect("unlock after the crash");
    let report = v.inbox_report().clone();
    assert_eq!(
        (
            report.blocks,
            report.readings,
            report.added,
            report.duplicates
        ),
        (3, readings.len() as u64, 0, readings.len() as u64)
    );
    v.close().expect("close");
    assert!(inbox_rows(&path).is_empty());
    assert_eq!(everything(&path), taken, "nothing added, nothing changed");
    let report = Vault::open(&path, PASSPHRASE)
        .expect("open")
        .verify()
        .expect("verify");
    assert!(report.damaged.is_empty(), "{report:?}");
}

#[test]
fn late_blocks_merge_into_their_hours_and_the_registers_make_the_seam_exact() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let readings = simulated(3, T0, 4 * 3600);
    // The unlocked app stored the first and the last hour; a write-only collector, the two
    // between (and a minute it overlaps with each).
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    v.append(&readings[..3600]).expect("first hour");
    v.append(&readings[3 * 3600..]).expect("last hour");
    v.close().expect("close");
    write_only(&path, &readings[3600 - 60..3 * 3600 + 60]);
    let v = Vault::open(&path, PASSPHRASE).expect("unlock");
    let report = v.inbox_report().clone();
    assert_eq!((report.added, report.duplicates), (2 * 3600, 120));
    v.close().expect("close");
    assert_eq!(everything(&path), reference(dir.path(), &readings));
}

#[test]
fn garbage_and_tampered_rows_are_refused_with_a_reason_and_the_rest_taken_in() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let other = create(dir.path(), "other.hearth");
    let readings = simulated(5, T0, 600);
    write_only(&path, &readings[..300]);
    let public = Vault::write_key_public(&path)
        .expect("key")
        .expect("has one");
    let foreign = Vault::write_key_public(&other)
        .expect("key")
        .expect("has one");
    let good = inbox_rows(&path)[0].2.clone();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    let code = hearth_vault::codec::encode(&readings[300..]);
    let mut padded = (code.len() as u32).to_le_bytes().to_vec();
    padded.extend_from_slice(&code);
    let bad_rows: Vec<Vec<u8>> = vec![
        b"not a block at all".to_vec(),
        Vec::new(),
        flipped,
        // Sealed to another vault's key.
        seal_to(&foreign, LABEL, &padded).expect("seal"),
        // Sealed to this vault under another label (the desktop's).
        seal_to(&public, "app.locked-readings", &padded).expect("seal"),
        // This vault's key and label, but no readings inside.
        seal_to(&public, LABEL, &[4, 0, 0, 0, 1, 2, 3, 4]).expect("seal"),
        // A length past the end.
        seal_to(&public, LABEL, &[200, 0, 0, 0, 1]).expect("seal"),
    ];
    let db = Connection::open(&path).expect("sqlite");
    for b in &bad_rows {
        db.execute(
            "INSERT INTO inbox (received, sealed) VALUES (0, ?1)",
            params![b],
        )
        .expect("garbage row");
    }
    drop(db);
    // And the rest of the readings, after the garbage.
    write_only(&path, &readings[300..]);
    let v = Vault::open(&path, PASSPHRASE).expect("unlock despite the garbage");
    let report = v.inbox_report().clone();
    v.close().expect("close");
    assert_eq!((report.blocks, report.readings), (2, 600));
    let why: Vec<&str> = report
        .refused
        .iter()
        .map(|r| r.split_once(": ").expect("reason").1)
        .collect();
    let foreign_key = "it does not open with this vault's write-only key (changed or foreign)";
    assert_eq!(
        why,
        [
            foreign_key,
            foreign_key,
            foreign_key,
            foreign_key,
            foreign_key,
            "its readings do not decode",
            "its padding is malformed",
        ]
    );
    assert!(report.refused[0].starts_with("inbox block 2: "));
    assert!(inbox_rows(&path).is_empty(), "refused rows go too");
    assert_eq!(everything(&path), reference(dir.path(), &readings));
}

#[test]
fn a_vault_without_a_write_key_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let db = Connection::open(&path).expect("sqlite");
    db.execute("DELETE FROM write_key", [])
        .expect("as an older vault");
    drop(db);
    let Err(e) = Vault::open_write_only(&path) else {
        panic!("opened without a write key");
    };
    assert!(matches!(e, VaultError::NoWriteKey), "{e:?}");
    assert_eq!(
        e.to_string(),
        "this vault has no write-only key yet: unlock Hearth once with your passphrase; it \
         then makes the key a write-only collector needs"
    );
    // Unlocking once puts the clear key back; then it works.
    Vault::open(&path, PASSPHRASE)
        .expect("unlock")
        .close()
        .expect("close");
    write_only(&path, &simulated(1, T0, 10));
    assert_eq!(Vault::inbox_waiting(&path).expect("count"), 1);
}

#[test]
fn one_writer_at_a_time_whether_it_holds_the_key_or_not() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let w = Vault::open_write_only(&path).expect("write-only");
    assert!(matches!(
        Vault::open(&path, PASSPHRASE),
        Err(VaultError::Busy)
    ));
    assert!(matches!(
        Vault::open_write_only(&path),
        Err(VaultError::Busy)
    ));
    // Readers still read.
    Vault::open_read_only(&path, PASSPHRASE).expect("reader beside");
    drop(w);
    let v = Vault::open(&path, PASSPHRASE).expect("writer after");
    assert!(matches!(
        Vault::open_write_only(&path),
        Err(VaultError::Busy)
    ));
    drop(v);
}

#[test]
fn the_open_block_is_sealed_again_every_ten_seconds_and_when_dropped() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let readings = simulated(9, T0, BLOCK_READINGS + 30);
    let mut w = Vault::open_write_only(&path).expect("write-only");
    let start = Instant::now();
    w.append(&readings[..10]).expect("append");
    assert!(!w.flush_due(start).expect("not yet"));
    assert!(inbox_rows(&path).is_empty());
    assert!(w.flush_due(start + Duration::from_secs(10)).expect("due"));
    let first = inbox_rows(&path);
    assert_eq!(first.len(), 1);
    w.append(&readings[10..20]).expect("append");
    assert_eq!(w.stats().stored, 10, "counted once sealed");
    assert!(w.flush_due(start + Duration::from_secs(20)).expect("due"));
    // The same row, sealed again with all twenty (a new ephemeral key: other bytes).
    let second = inbox_rows(&path);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0, first[0].0);
    assert_ne!(second[0].2[1..33], first[0].2[1..33]);
    assert_eq!(
        w.stats(),
        hearth_vault::WriteOnlyStats {
            stored: 20,
            blocks: 1,
            ..Default::default()
        }
    );
    // The block closes at BLOCK_READINGS; the rest start another, sealed on drop.
    w.append(&readings[20..]).expect("append");
    drop(w);
    assert_eq!(inbox_rows(&path).len(), 2);
    let v = Vault::open(&path, PASSPHRASE).expect("unlock");
    assert_eq!(v.inbox_report().readings, readings.len() as u64);
    assert_eq!(v.inbox_report().duplicates, 0);
}

#[test]
fn readings_dated_far_after_the_clock_and_untimed_ones_are_refused_and_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let mut readings = simulated(2, T0, 5);
    readings[1].time = None;
    readings[3].time = Some(hearth_meter::MeterTime::utc(T0 + 2 * 86_400));
    let mut w = Vault::open_write_only(&path).expect("write-only");
    w.set_clock(T0 + 10);
    w.append(&readings).expect("append");
    w.flush().expect("flush");
    let s = w.stats();
    assert_eq!((s.stored, s.untimed, s.future, s.blocks), (3, 1, 1, 1));
    drop(w);
    let v = Vault::open(&path, PASSPHRASE).expect("unlock");
    assert_eq!(v.inbox_report().added, 3);
}

#[test]
fn the_inbox_holds_no_plaintext_and_its_sizes_are_size_classes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    let readings = simulated(4, T0, 1200);
    let mut w = Vault::open_write_only(&path).expect("write-only");
    for chunk in readings.chunks(400) {
        w.append(chunk).expect("append");
        w.flush().expect("flush");
    }
    drop(w);
    for (_, _, sealed) in inbox_rows(&path) {
        let padded = sealed.len() - hearth_vault::write_key::BLOCK_OVERHEAD;
        // A size class: a multiple of an eighth of its power of two.
        let top = 1usize << (usize::BITS - 1 - padded.leading_zeros());
        assert_eq!(padded % (top / 8).max(1), 0, "{padded}");
        let code = hearth_vault::codec::encode(&readings[..400]);
        assert!(!sealed.windows(16).any(|w| code.windows(16).any(|c| c == w)));
    }
}

#[test]
fn more_than_one_transaction_of_readings_is_taken_in_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let path = create(dir.path(), "v.hearth");
    // 31 blocks of an hour: more than one group of 100 000 readings.
    let readings = simulated(8, T0, 31 * 3600 + 7);
    write_only(&path, &readings);
    assert_eq!(Vault::inbox_waiting(&path).expect("count"), 32);
    let v = Vault::open(&path, PASSPHRASE).expect("unlock");
    let report = v.inbox_report().clone();
    v.close().expect("close");
    assert_eq!(
        (report.blocks, report.added, report.duplicates),
        (32, readings.len() as u64, 0)
    );
    assert_eq!(Vault::inbox_waiting(&path).expect("count"), 0);
    assert_eq!(everything(&path), reference(dir.path(), &readings));
}
