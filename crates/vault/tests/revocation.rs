//! Revoking keys for real (issue 18, finding 1): a removed key slot or an old wrapped key is
//! gone from the vault file and its write-ahead log, not left in free space.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Vault};
use rusqlite::{Connection, OpenFlags};
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
    let mut v = Vault::create(&path, PASSPHRASE, &options).expect("create");
    v.append(&readings(T0, 900)).expect("append");
    v.flush().expect("flush");
    (path, v)
}

/// One column of the only row of `table`, read straight from the file (as a thief would).
fn raw(path: &Path, sql: &str) -> Vec<u8> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("sqlite");
    db.query_row(sql, [], |r| r.get(0)).expect("row")
}

/// Whether `needle` occurs anywhere in the vault file or its `-wal`.
fn left_in_files(path: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for suffix in ["", "-wal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let bytes = std::fs::read(PathBuf::from(&p)).unwrap_or_default();
        // Any 32-byte stretch of the sealed record is enough to call it not gone.
        if needle
            .windows(32)
            .any(|w| bytes.windows(32).any(|b| b == w))
        {
            found.push(format!("v.hearth{suffix}"));
        }
    }
    found
}

#[test]
fn a_removed_keyring_slot_is_gone_from_the_file_and_its_log() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    let _secret = v.enable_secret_slot().expect("slot on");
    let slot = raw(
        &path,
        "SELECT wrapped_key FROM key_slot WHERE kind = 'keyring'",
    );
    assert_eq!(slot.len(), 105, "a sealed 32-byte key: 41 + 64");
    assert_eq!(
        left_in_files(&path, &slot),
        ["v.hearth"],
        "the probe finds it"
    );
    assert!(v.disable_secret_slot().expect("slot off"));
    // At once, while the writer stays open.
    assert_eq!(left_in_files(&path, &slot), Vec::<String>::new());
    // And after more readings and a clean close.
    v.append(&readings(T0 + 900, 900)).expect("append");
    v.close().expect("close");
    assert_eq!(left_in_files(&path, &slot), Vec::<String>::new());
}

#[test]
fn an_old_passphrase_wrapping_is_gone_from_the_file_and_its_log() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    let old = raw(&path, "SELECT wrapped_key FROM header");
    // Written by `create` and not yet checkpointed: in the log (the probe finds it).
    assert_eq!(left_in_files(&path, &old), ["v.hearth-wal"]);
    v.change_passphrase("new words here", None).expect("passwd");
    assert_eq!(left_in_files(&path, &old), Vec::<String>::new());
    v.append(&readings(T0 + 900, 900)).expect("append");
    v.close().expect("close");
    assert_eq!(left_in_files(&path, &old), Vec::<String>::new());
    Vault::open_read_only(&path, "new words here").expect("opens with the new passphrase");
}

/// How many sealed records the file holds (chunks of every resolution, settings, writer
/// state), counted with SQL, independently of the vault code.
fn sealed_records(path: &Path) -> u64 {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("sqlite");
    db.query_row(
        "SELECT (SELECT count(*) FROM chunk) + (SELECT count(*) FROM setting)
              + (SELECT count(*) FROM writer_state)",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
    .expect("count")
}

/// The header row as it is now, to be put back later (as from an old backup or copy).
fn header_row(path: &Path) -> Vec<rusqlite::types::Value> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("sqlite");
    db.query_row(
        "SELECT kdf_memory_kib, kdf_iterations, kdf_parallelism, salt, wrapped_key FROM header",
        [],
        |r| (0..5).map(|i| r.get(i)).collect(),
    )
    .expect("header")
}

fn put_header_row(path: &Path, row: &[rusqlite::types::Value]) {
    let db = Connection::open(path).expect("sqlite");
    db.execute(
        "UPDATE header SET kdf_memory_kib = ?1, kdf_iterations = ?2, kdf_parallelism = ?3,
         salt = ?4, wrapped_key = ?5",
        rusqlite::params_from_iter(row),
    )
    .expect("old header back");
}

fn copy_of(path: &Path, name: &str) -> PathBuf {
    let copy = path.with_file_name(name);
    std::fs::copy(path, &copy).expect("copy");
    copy
}

#[test]
fn after_rekey_an_old_header_or_keyring_slot_opens_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    v.put_setting("note", b"before rekey").expect("setting");
    let secret = v.enable_secret_slot().expect("slot on");
    v.flush().expect("flush");
    let old_header = header_row(&path);
    let old_slot = raw(
        &path,
        "SELECT wrapped_key FROM key_slot WHERE kind = 'keyring'",
    );
    let records = sealed_records(&path);
    let mut calls = Vec::new();
    let report = v
        .rekey(PASSPHRASE, None, &mut |done, total| {
            calls.push((done, total))
        })
        .expect("rekey");
    assert_eq!(report.resealed, records);
    assert_eq!(report.damaged, 0);
    assert!(report.keyring_slot_removed);
    assert_eq!(calls.len() as u64, records);
    assert_eq!(calls.last(), Some(&(records, records)));
    // Readings written after the rekey, then a clean close.
    v.append(&readings(T0 + 3600, 900)).expect("append");
    v.close().expect("close");
    assert_eq!(left_in_files(&path, &old_slot), Vec::<String>::new());
    // The vault itself: the passphrase opens everything, the old keyring secret nothing.
    let now = Vault::open_read_only(&path, PASSPHRASE).expect("opens");
    let report = now.verify().expect("verify");
    assert_eq!((report.readings, report.damaged.len()), (1800, 0));
    assert_eq!(
        now.get_setting("note").expect("note").map(|v| v.to_vec()),
        Some(b"before rekey".to_vec())
    );
    assert!(matches!(
        Vault::open_read_only_with_secret(&path, &secret),
        Err(hearth_vault::VaultError::NoSecretSlot)
    ));
    drop(now);
    // A copy with the old header put back: the old passphrase unwraps the old key, which
    // opens no record (not even the time-zone setting read on opening).
    let copy = copy_of(&path, "old-header.hearth");
    put_header_row(&copy, &old_header);
    assert!(
        matches!(
            Vault::open_read_only(&copy, PASSPHRASE),
            Err(hearth_vault::VaultError::Damaged { .. })
        ),
        "the old header must open nothing"
    );
    // A copy with the old keyring slot put back, opened with the old secret: the same.
    let copy = copy_of(&path, "old-slot.hearth");
    let db = Connection::open(&copy).expect("sqlite");
    db.execute(
        "INSERT INTO key_slot (kind, wrapped_key) VALUES ('keyring', ?1)",
        [&old_slot],
    )
    .expect("old slot back");
    drop(db);
    assert!(matches!(
        Vault::open_read_only_with_secret(&copy, &secret),
        Err(hearth_vault::VaultError::Damaged { .. })
    ));
}

#[test]
fn a_rekey_that_meets_records_it_does_not_know_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, v) = new_vault(dir.path());
    v.close().expect("close");
    // A table a newer build might add (sealed records this build cannot re-seal).
    let db = Connection::open(&path).expect("sqlite");
    db.execute_batch("CREATE TABLE anchor (window INTEGER, sealed BLOB)")
        .expect("table");
    drop(db);
    let header = header_row(&path);
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    let err = v.rekey(PASSPHRASE, None, &mut |_, _| {}).err();
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some(
            "this vault holds records this Hearth cannot re-seal (table anchor, from a newer \
             Hearth?); nothing was changed, the old key still opens it"
        )
    );
    // Still usable, under the same key.
    v.append(&readings(T0 + 900, 60)).expect("append");
    v.close().expect("close");
    assert_eq!(header_row(&path), header);
    let v = Vault::open_read_only(&path, PASSPHRASE).expect("opens");
    assert_eq!(v.verify().expect("verify").readings, 960);
}

/// Set in the child process of the crash test: the vault to rekey and abort halfway.
const CHILD_ENV: &str = "HEARTH_TEST_REKEY_ABORT_HALFWAY";

#[test]
fn a_rekey_killed_halfway_leaves_the_vault_opening_with_the_old_key() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        // The child: rekey and die without unwinding (as `kill -9`) halfway through.
        let mut v = Vault::open(Path::new(&path), PASSPHRASE).expect("child open");
        let _ = v.rekey("a new passphrase", None, &mut |done, total| {
            if done * 2 >= total {
                std::process::abort();
            }
        });
        unreachable!("the child aborts halfway");
    }
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = new_vault(dir.path());
    // Four hours: several raw chunks and rollups to re-seal.
    v.append(&readings(T0 + 900, 4 * 3600)).expect("append");
    v.close().expect("close");
    let records = sealed_records(&path);
    assert!(records > 10, "{records} records");
    let child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "a_rekey_killed_halfway_leaves_the_vault_opening_with_the_old_key",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .output()
        .expect("child");
    assert!(!child.status.success(), "the child must have died");
    assert!(
        !String::from_utf8_lossy(&child.stdout).contains("test result"),
        "the child must not have finished"
    );
    // The old passphrase and key open it, every record intact; the new passphrase does not.
    assert!(matches!(
        Vault::open_read_only(&path, "a new passphrase"),
        Err(hearth_vault::VaultError::WrongPassphrase)
    ));
    let mut v = Vault::open(&path, PASSPHRASE).expect("opens with the old key");
    let report = v.verify().expect("verify");
    assert_eq!((report.readings, report.damaged.len()), (900 + 4 * 3600, 0));
    // And a rekey run to its end afterwards works.
    let done = v
        .rekey("a new passphrase", None, &mut |_, _| {})
        .expect("rekey");
    assert_eq!((done.resealed, done.damaged), (records, 0));
    v.close().expect("close");
    let v = Vault::open_read_only(&path, "a new passphrase").expect("new passphrase");
    assert_eq!(v.verify().expect("verify").readings, 900 + 4 * 3600);
}
