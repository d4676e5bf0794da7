//! Issue 18, "restore trusts what it restores": a backup or vault file with SQL objects no
//! Hearth file has (a trigger that would run while Hearth reads, a view, an extra table in a
//! backup) is refused before anything of it is trusted, and the vault restored into is left
//! as it was. Every connection reads with `trusted_schema` off and SQLite's defensive mode.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Resolution, RestoreOptions, Vault, VaultError};
use std::path::{Path, PathBuf};

const PW: &str = "hostile file words";

fn vault(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("UTC".into()),
    };
    let mut v = Vault::create(&path, PW, &options).expect("vault");
    let readings: Vec<Reading> = (0..60)
        .map(|i| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(1_767_225_600 + i));
            r.set(Quantity::ImportWh, 1_000 + i);
            r
        })
        .collect();
    v.append(&readings).expect("append");
    v.close().expect("close");
    path
}

/// Runs `sql` on the file as another program could (no Hearth in between).
fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("sqlite");
    conn.execute_batch(sql).expect("tampered");
}

fn raw_count(path: &Path) -> usize {
    let v = Vault::open_read_only(path, PW).expect("opens");
    v.readings(i64::MIN, i64::MAX, Resolution::Raw)
        .expect("rows")
        .count()
}

#[test]
fn a_backup_with_a_trigger_a_view_or_a_table_of_its_own_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().expect("dir");
    let source = vault(dir.path(), "source.hearth");
    let target = vault(dir.path(), "target.hearth");
    for (name, sql, kind) in [
        (
            "trigger",
            "CREATE TRIGGER t AFTER INSERT ON setting BEGIN DELETE FROM chunk; END;",
            "a trigger",
        ),
        ("view", "CREATE VIEW v AS SELECT * FROM chunk;", "a view"),
        ("table", "CREATE TABLE extra (x BLOB);", "a table"),
        ("index", "CREATE INDEX i ON chunk (sealed);", "an index"),
    ] {
        let backup = dir.path().join(format!("{name}.backup"));
        Vault::open(&source, PW)
            .expect("source")
            .backup(&backup, None)
            .expect("backup");
        tamper(&backup, sql);
        let mut v = Vault::open(&target, PW).expect("target");
        let take = |_: &str| true;
        let options = RestoreOptions {
            now: 4_102_444_800,
            take_setting: &take,
        };
        let err = v.restore(&backup, PW, &options).expect_err(name);
        assert!(
            matches!(&err, VaultError::UnexpectedSchema { kind: k, .. } if *k == kind),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("no Hearth file has"), "{err}");
        v.close().expect("close");
        assert_eq!(raw_count(&target), 60, "{name}: the target is as it was");
    }
}

#[test]
fn a_vault_with_a_trigger_or_a_view_is_not_opened() {
    let dir = tempfile::tempdir().expect("dir");
    for (name, sql) in [
        (
            "trigger",
            "CREATE TRIGGER t AFTER UPDATE ON writer_state BEGIN DELETE FROM chunk; END;",
        ),
        ("view", "CREATE VIEW v AS SELECT * FROM setting;"),
    ] {
        let path = vault(dir.path(), &format!("{name}.hearth"));
        tamper(&path, sql);
        for result in [
            Vault::open(&path, PW).map(drop),
            Vault::open_read_only(&path, PW).map(drop),
        ] {
            let err = result.expect_err(name);
            assert!(
                matches!(err, VaultError::UnexpectedSchema { .. }),
                "{name}: {err}"
            );
        }
        // The trigger never ran: every reading is still there.
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        let chunks: i64 = conn
            .query_row("SELECT count(*) FROM chunk", [], |r| r.get(0))
            .expect("count");
        assert!(chunks > 0, "{name}");
    }
}
