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
