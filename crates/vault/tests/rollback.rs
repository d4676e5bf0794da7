//! Rollback detection (issue 18, finding 2): a sealed record swapped for an older version of
//! itself, under the same key and so still authentic, is reported as damage by `verify` and on
//! opening, never read as genuine; and so is a record removed, a manifest stripped, or a
//! backup altered after it was made. Each case is what the security review did by hand.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, Integrity, KdfParams, Resolution, RestoreOptions, Vault};
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};

const PASSPHRASE: &str = "correct horse battery";
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

fn readings(from: i64, n: i64) -> Vec<Reading> {
    (0..n)
        .map(|i| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(from + i));
            r.set(Quantity::ImportWh, 1_000_000 + from + i - T0);
            r.set(Quantity::ImportW, 3600);
            r
        })
        .collect()
}

fn new_vault(dir: &Path) -> (PathBuf, Vault) {
    let path = dir.join("v.hearth");
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("UTC".into()),
    };
    (
        path.clone(),
        Vault::create(&path, PASSPHRASE, &options).expect("create"),
    )
}

fn db(path: &Path) -> Connection {
    Connection::open(path).expect("sqlite")
}

/// The raw hour starting at `T0` and its manifest row, as the file holds them now.
fn raw_hour(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let db = db(path);
    let sealed = db
        .query_row(
            "SELECT sealed FROM chunk WHERE res = 0 AND window_start = ?1",
            [T0],
            |r| r.get(0),
        )
        .expect("chunk");
    let tag = db
        .query_row(
            "SELECT tag FROM manifest WHERE kind = 2 AND res = 0 AND window_start = ?1",
            [T0],
            |r| r.get(0),
        )
        .expect("row");
    (sealed, tag)
}

fn put_raw_hour(path: &Path, sealed: &[u8], tag: Option<&[u8]>) {
    let db = db(path);
    db.execute(
        "UPDATE chunk SET sealed = ?1 WHERE res = 0 AND window_start = ?2",
        params![sealed, T0],
    )
    .expect("chunk back");
    if let Some(tag) = tag {
        db.execute(
            "UPDATE manifest SET tag = ?1 WHERE kind = 2 AND res = 0 AND window_start = ?2",
            params![tag, T0],
        )
        .expect("row back");
    }
}

fn copy_of(path: &Path, name: &str) -> PathBuf {
    let copy = path.with_file_name(name);
    std::fs::copy(path, &copy).expect("copy");
    copy
}

/// The review's case: the open hour is sealed again at every checkpoint, so its earlier
/// versions are easy to find. Put back, the 600-reading version of an hour that holds 2 400
/// was read as genuine ("8 records intact (600 readings), 0 damaged").
#[test]
fn an_hour_put_back_to_an_earlier_version_is_reported_not_read() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.append(&readings(T0, 600)).expect("append");
    v.flush().expect("flush");
    let (early, early_tag) = raw_hour(&path);
    v.append(&readings(T0 + 600, 1800)).expect("append");
    v.close().expect("close");
    let before = Vault::open_read_only(&path, PASSPHRASE)
        .expect("open")
        .verify()
        .expect("verify");
    assert_eq!((before.readings, before.damaged.len()), (2400, 0));
    assert!(before.manifest);

    // The record alone put back: it no longer matches its row.
    let copy = copy_of(&path, "record.hearth");
    put_raw_hour(&copy, &early, None);
    let r = Vault::open_read_only(&copy, PASSPHRASE).expect("open");
    assert_eq!(r.integrity(), &Integrity::Intact);
    let report = r.verify().expect("verify");
    assert_eq!(report.readings, 0, "the old version is not read");
    assert_eq!(
        report.damaged,
        [
            "damaged data in the vault (raw chunk starting 2026-01-01T00:00:00Z is not the \
          version Hearth last wrote (rolled back)): it failed its integrity check"
        ]
    );
    let read: Result<Vec<_>, _> = r
        .readings(T0, T0 + 3600, Resolution::Raw)
        .expect("query")
        .collect();
    assert!(read.is_err(), "the old version was read as genuine");

    // The record and its row put back together: the rows no longer add up to the sealed root.
    let copy = copy_of(&path, "record-and-row.hearth");
    put_raw_hour(&copy, &early, Some(&early_tag));
    let r = Vault::open_read_only(&copy, PASSPHRASE).expect("open");
    let Integrity::Broken(why) = r.integrity() else {
        panic!("not reported on opening: {:?}", r.integrity());
    };
    assert!(why.contains("do not add up"), "{why}");
    let report = r.verify().expect("verify");
    assert_eq!(report.damaged.len(), 1, "{:?}", report.damaged);
    assert!(report.damaged[0].starts_with("integrity manifest: its records do not add up"));
}

/// A writer that opens a tampered vault keeps the alarm in the sealed root: later opens and
/// `verify` still report it (the writer goes on from the rows as they are, so later changes
/// are checked again), until a rekey builds the manifest anew.
#[test]
fn the_alarm_outlives_the_writer_that_found_it_until_rekey() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.append(&readings(T0, 600)).expect("append");
    v.flush().expect("flush");
    let early = raw_hour(&path);
    v.append(&readings(T0 + 600, 600)).expect("append");
    v.close().expect("close");
    put_raw_hour(&path, &early.0, Some(&early.1));

    let mut w = Vault::open(&path, PASSPHRASE).expect("writer opens");
    assert!(matches!(w.integrity(), Integrity::Broken(_)));
    w.append(&readings(T0 + 3600, 60)).expect("append");
    w.close().expect("close");
    let r = Vault::open_read_only(&path, PASSPHRASE).expect("open");
    let Integrity::Broken(why) = r.integrity().clone() else {
        panic!("the alarm was lost: {:?}", r.integrity());
    };
    assert!(why.contains("do not add up"), "{why}");
    assert_eq!(
        r.verify().expect("verify").damaged,
        [format!("integrity manifest: {why}")]
    );
    drop(r);

    let mut w = Vault::open(&path, PASSPHRASE).expect("writer opens");
    w.rekey(PASSPHRASE, None, &mut |_, _| {}).expect("rekey");
    w.close().expect("close");
    let r = Vault::open_read_only(&path, PASSPHRASE).expect("open");
    assert_eq!(r.integrity(), &Integrity::Intact);
    let report = r.verify().expect("verify");
    // What the rekey found is what stays: the rolled-back hour's 600 and the new 60.
    assert_eq!((report.readings, report.damaged.len()), (660, 0));
}

#[test]
fn a_setting_put_back_to_an_earlier_value_is_reported_not_read() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.put_setting("mqtt/password", b"old secret")
        .expect("setting");
    let row_of = |path: &Path| -> Vec<(String, Vec<u8>)> {
        let db = db(path);
        let mut s = db
            .prepare("SELECT name, sealed FROM setting ORDER BY name")
            .expect("prepare");
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let before = row_of(&path);
    v.put_setting("mqtt/password", b"new secret")
        .expect("setting");
    v.close().expect("close");
    let after = row_of(&path);
    // Which row is the password is not in the file: find the one that changed.
    let (name, old) = before
        .iter()
        .find(|(n, s)| after.iter().any(|(m, t)| m == n && t != s))
        .expect("the changed row")
        .clone();
    assert!(
        after
            .iter()
            .all(|(n, _)| n.len() == 33 && n.starts_with('k'))
    );
    db(&path)
        .execute(
            "UPDATE setting SET sealed = ?1 WHERE name = ?2",
            params![old, name],
        )
        .expect("old value back");
    let r = Vault::open_read_only(&path, PASSPHRASE).expect("open");
    let e = r.get_setting("mqtt/password").expect_err("not read");
    assert_eq!(
        e.to_string(),
        "damaged data in the vault (setting mqtt/password is not the version Hearth last \
         wrote (rolled back)): it failed its integrity check"
    );
    assert_eq!(r.verify().expect("verify").damaged.len(), 1);
}

/// The writer state rolled back is not resumed from: the writer rebuilds it from the chunks
/// (a cache of them), and `verify` reports it before that.
#[test]
fn a_writer_state_put_back_is_rebuilt_not_resumed() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.append(&readings(T0, 600)).expect("append");
    v.flush().expect("flush");
    let state = |path: &Path| -> Vec<u8> {
        db(path)
            .query_row("SELECT sealed FROM writer_state", [], |r| r.get(0))
            .expect("state")
    };
    let old = state(&path);
    v.append(&readings(T0 + 600, 600)).expect("append");
    v.close().expect("close");
    db(&path)
        .execute("UPDATE writer_state SET sealed = ?1", [&old])
        .expect("old state back");
    let report = Vault::open_read_only(&path, PASSPHRASE)
        .expect("open")
        .verify()
        .expect("verify");
    assert_eq!(
        report.damaged,
        ["writer state is not the version Hearth last wrote (rolled back)"]
    );
    let mut w = Vault::open(&path, PASSPHRASE).expect("writer");
    assert!(w.writer_state_rebuilt());
    assert_eq!(w.last_time(), Some(T0 + 1199));
    w.append(&readings(T0 + 1200, 60)).expect("append");
    w.close().expect("close");
    let r = Vault::open_read_only(&path, PASSPHRASE).expect("open");
    let report = r.verify().expect("verify");
    assert_eq!((report.readings, report.damaged.len()), (1260, 0));
}

#[test]
fn a_record_removed_with_or_without_its_row_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.append(&readings(T0, 3600 + 600)).expect("append");
    v.close().expect("close");

    let copy = copy_of(&path, "record.hearth");
    db(&copy)
        .execute(
            "DELETE FROM chunk WHERE res = 0 AND window_start = ?1",
            [T0],
        )
        .expect("delete");
    let r = Vault::open_read_only(&copy, PASSPHRASE).expect("open");
    assert!(matches!(r.integrity(), Integrity::Intact));
    assert_eq!(
        r.verify().expect("verify").damaged,
        ["raw chunk starting 2026-01-01T00:00:00Z removed outside Hearth"]
    );

    let copy = copy_of(&path, "record-and-row.hearth");
    let db = db(&copy);
    db.execute(
        "DELETE FROM chunk WHERE res = 0 AND window_start = ?1",
        [T0],
    )
    .expect("delete");
    db.execute(
        "DELETE FROM manifest WHERE kind = 2 AND res = 0 AND window_start = ?1",
        [T0],
    )
    .expect("delete row");
    drop(db);
    let r = Vault::open_read_only(&copy, PASSPHRASE).expect("open");
    let Integrity::Broken(why) = r.integrity() else {
        panic!("not reported: {:?}", r.integrity());
    };
    assert!(why.contains("recorded") && why.contains("found"), "{why}");
}

/// A format-2 vault set back to format 1 with its manifest dropped, to shed the checks: its
/// records are sealed under the format-2 domain, so they read as damaged, and a writer refuses
/// to "upgrade" it (which would bless whatever was put back).
#[test]
fn a_stripped_manifest_is_not_taken_for_an_older_vault() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.append(&readings(T0, 600)).expect("append");
    v.close().expect("close");
    db(&path)
        .execute_batch(
            "UPDATE header SET format = 1; DROP TABLE manifest; DROP TABLE manifest_root;",
        )
        .expect("strip");
    let r = Vault::open_read_only(&path, PASSPHRASE).expect("opens");
    assert_eq!(r.integrity(), &Integrity::NoManifest);
    let report = r.verify().expect("verify");
    assert_eq!(report.readings, 0);
    assert!(!report.damaged.is_empty());
    drop(r);
    let Err(e) = Vault::open(&path, PASSPHRASE) else {
        panic!("a stripped vault was opened for writing");
    };
    assert!(
        e.to_string()
            .contains("its integrity manifest was removed outside Hearth"),
        "{e}"
    );
    // Refused without a change: still format 1, still no manifest.
    assert_eq!(Vault::inspect(&path).expect("inspect").format, 1);
}

/// A backup carries a manifest of its own: one of its hours swapped for another version (from
/// another backup of the same vault) is refused by restore, before a reading is taken.
#[test]
fn a_backup_altered_after_it_was_made_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let (_, mut v) = new_vault(dir.path());
    v.append(&readings(T0, 600)).expect("append");
    let early = dir.path().join("early.backup");
    v.backup(&early, None).expect("backup");
    v.append(&readings(T0 + 600, 600)).expect("append");
    let late = dir.path().join("late.backup");
    v.backup(&late, None).expect("backup");
    v.close().expect("close");
    let b = Vault::open_read_only(&late, PASSPHRASE).expect("backup opens");
    assert_eq!(b.integrity(), &Integrity::Intact);
    assert_eq!(b.verify().expect("verify").readings, 1200);
    drop(b);
    // The early backup's hour and row put into the late one.
    let (sealed, tag) = raw_hour(&early);
    put_raw_hour(&late, &sealed, Some(&tag));
    std::fs::create_dir(dir.path().join("other")).expect("dir");
    let (_, mut target) = new_vault(&dir.path().join("other"));
    let take = |_: &str| true;
    let e = target
        .restore(
            &late,
            PASSPHRASE,
            &RestoreOptions {
                now: T0 + 86_400,
                take_setting: &take,
            },
        )
        .expect_err("refused");
    assert!(
        e.to_string()
            .contains("this backup was altered after it was made"),
        "{e}"
    );
    assert_eq!(target.verify().expect("verify").readings, 0);
}

/// Setting names are keyed (issue 18, finding 8): the file shows how many settings there are,
/// not that one is a tariff from a named supplier or an MQTT password.
#[test]
fn setting_names_do_not_show_in_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.put_setting("tariff/octopus-agile-E-1R-AGILE-24-10-01-C", b"prices")
        .expect("setting");
    v.put_setting("mqtt/password", b"hunter22")
        .expect("setting");
    v.close().expect("close");
    let bytes = std::fs::read(&path).expect("file");
    for needle in [
        &b"octopus"[..],
        b"mqtt",
        b"tariff/",
        b"vault.time_zone",
        b"vault.write_key",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} is in the file",
            String::from_utf8_lossy(needle)
        );
    }
    let r = Vault::open_read_only(&path, PASSPHRASE).expect("open");
    assert_eq!(
        r.setting_names().expect("names"),
        [
            "mqtt/password",
            "tariff/octopus-agile-E-1R-AGILE-24-10-01-C",
            "vault.time_zone",
            "vault.write_key"
        ]
    );
    assert_eq!(
        &r.get_setting("mqtt/password").expect("read").expect("set")[..],
        b"hunter22"
    );
}

/// A vault an older Hearth made (format 1, the real file in tests/fixtures/vault) has no
/// manifest until a writer opens it; then it is format 2 with everything it held, checked.
#[test]
fn a_format_1_vault_gains_its_manifest_at_the_first_write_open() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("old.hearth");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/vault/format1-before-key-slots.hearth"),
        &path,
    )
    .expect("copy");
    const OLD_PW: &str = "format-1 passphrase";
    let r = Vault::open_read_only(&path, OLD_PW).expect("open");
    assert_eq!(r.integrity(), &Integrity::NoManifest);
    let report = r.verify().expect("verify");
    assert_eq!((report.readings, report.manifest), (7200, false));
    drop(r);

    Vault::open(&path, OLD_PW)
        .expect("writer")
        .close()
        .expect("close");
    assert_eq!(Vault::inspect(&path).expect("inspect").format, 2);
    let names: Vec<String> = {
        let db = db(&path);
        let mut s = db.prepare("SELECT name FROM setting").expect("prepare");
        s.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    // The note, the time zone and the write-only key pair the writer open added.
    assert_eq!(names.len(), 3);
    assert!(names.iter().all(|n| n.len() == 33 && n.starts_with('k')));
    let r = Vault::open_read_only(&path, OLD_PW).expect("open");
    assert_eq!(r.integrity(), &Integrity::Intact);
    let report = r.verify().expect("verify");
    assert_eq!(
        (report.readings, report.damaged.len(), report.manifest),
        (7200, 0, true)
    );
    assert_eq!(
        &r.get_setting("note").expect("read").expect("set")[..],
        b"made by the format-1 code at commit HEAD"
    );
}

/// A reader beside the writer (the desktop's history beside its collector, the app following
/// `hearth collect`, `verify` beside a collector) reads each record together with its manifest
/// row from one snapshot: while the writer seals the open hour again and again, the reader
/// never takes the chunk of one commit and the row of the next for a rollback.
#[test]
fn a_reader_beside_a_busy_writer_never_sees_a_false_rollback() {
    let dir = tempfile::tempdir().expect("dir");
    let (_path, mut writer) = new_vault(dir.path());
    writer.append(&readings(T0, 10)).expect("append");
    writer.flush().expect("flush");
    let reader = writer.reader().expect("reader");
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // The open hour sealed anew at every flush: a new tag each time.
            for i in 10..400 {
                writer.append(&readings(T0 + i, 1)).expect("append");
                writer.flush().expect("flush");
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || reads < 100 {
            let rows: Vec<_> = reader
                .readings(T0, T0 + 3600, Resolution::Raw)
                .expect("readings")
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("read {reads}: {e}"));
            assert!(rows.len() >= 10);
            if reads % 10 == 0 {
                // `verify` beside a running collector: one snapshot too.
                let report = reader.verify().expect("verify");
                assert_eq!(report.damaged, Vec::<String>::new(), "verify {reads}");
            }
            reads += 1;
        }
    });
}
