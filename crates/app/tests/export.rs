//! The CSV export use case on a real vault: what it writes, and the files it refuses to touch
//! (the vault itself under any name, its working files, an existing file without `force`).

use hearth_app::export::{self, ExportError, Progress, Request};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use std::path::{Path, PathBuf};

/// 2026-01-15T09:00:00Z = 10:00 in Amsterdam.
const T0: i64 = 1_768_467_600;

/// A vault with three readings a minute apart, 50 Wh used each minute.
fn vault(dir: &Path) -> Vault {
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    let mut v = Vault::create(&dir.join("v.hearth"), "pw", &options).expect("vault");
    let readings: Vec<Reading> = (0..3)
        .map(|m| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(T0 + m * 60));
            r.set(Quantity::ImportWh, 1_000_000 + m * 50);
            r
        })
        .collect();
    v.append(&readings).expect("append");
    v.flush().expect("flush");
    v
}

fn raw(from: i64, to: i64) -> Request {
    Request {
        from,
        to,
        resolution: Resolution::Raw,
        decimal_comma: false,
    }
}

/// The `import_kwh` column of a CSV text.
fn import_kwh(csv: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "import_kwh")
        .expect("column");
    lines
        .map(|l| l.split(',').nth(col).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn writes_the_range_and_reports_the_end() {
    let dir = tempfile::tempdir().expect("dir");
    let v = vault(dir.path());
    let out = dir.path().join("out.csv");
    let mut reports = Vec::new();
    // [T0, T0 + 120): the first two readings.
    let n =
        export::to_file(&v, &raw(T0, T0 + 120), &out, false, |p| reports.push(p)).expect("export");
    assert_eq!(n, 2);
    let text = std::fs::read_to_string(&out).expect("csv");
    assert_eq!(import_kwh(&text), vec!["1000.000", "1000.050"]);
    // Two rows are far below the 50 000 between reports: only the final one.
    assert_eq!(
        reports,
        vec![Progress {
            rows: 2,
            fraction: 1.0
        }]
    );
    // The same to a writer.
    let mut buf = Vec::new();
    let n = export::to_writer(&v, &raw(T0, T0 + 180), &mut buf, |_| {}).expect("writer");
    assert_eq!(n, 3);
    assert_eq!(
        import_kwh(&String::from_utf8(buf).expect("utf-8")),
        vec!["1000.000", "1000.050", "1000.100"]
    );
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().expect("dir");
    let v = vault(dir.path());
    let out = dir.path().join("notes.txt");
    std::fs::write(&out, "my notes").expect("write");
    let err = export::to_file(&v, &raw(T0, T0 + 180), &out, false, |_| {}).expect_err("exists");
    assert!(
        matches!(&err, ExportError::Exists(p) if *p == out),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} already exists. Choose another file, or replace it on purpose (hearth export \
             --force).",
            out.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "my notes");
    let n = export::to_file(&v, &raw(T0, T0 + 180), &out, true, |_| {}).expect("forced");
    assert_eq!(n, 3);
    let text = std::fs::read_to_string(&out).expect("csv");
    assert!(text.starts_with("time,meter_id,protocol,"), "{text}");
}

#[test]
fn the_vault_and_its_working_files_are_refused_under_any_name() {
    let dir = tempfile::tempdir().expect("dir");
    let v = vault(dir.path());
    let file = dir.path().join("v.hearth");
    let side = |suffix: &str| PathBuf::from(format!("{}{suffix}", file.display()));
    let bytes = || [file.clone(), side("-wal")].map(|p| std::fs::read(p).expect("vault bytes"));
    let before = bytes();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("sub");
    let hard = dir.path().join("hard-link.csv");
    std::fs::hard_link(&file, &hard).expect("hard link");
    let soft = dir.path().join("soft-link.csv");
    std::os::unix::fs::symlink(&file, &soft).expect("symlink");
    // A link to a working file that is not there now (no rollback journal in WAL mode).
    let dangling = dir.path().join("dangling.csv");
    std::os::unix::fs::symlink(side("-journal"), &dangling).expect("symlink");
    let names = [
        file.clone(),
        sub.join("..").join("v.hearth"),
        side("-wal"),
        side("-shm"),
        side("-journal"),
        side(".writer-lock"),
        hard,
        soft,
        dangling,
    ];
    for name in &names {
        for force in [false, true] {
            let err =
                export::to_file(&v, &raw(T0, T0 + 180), name, force, |_| {}).expect_err("refused");
            assert!(
                matches!(&err, ExportError::VaultFile(p) if p == name),
                "{name:?}: {err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "{} is your Hearth vault (or one of its working files). Writing the export \
                     there would destroy your readings; choose another file.",
                    name.display()
                )
            );
        }
    }
    // Nothing was written: not even an empty journal.
    assert!(!side("-journal").exists());
    assert!(bytes() == before, "the vault or its log changed");
    drop(v);
    let v = Vault::open(&file, "pw").expect("still opens");
    assert_eq!(
        v.readings(T0, T0 + 180, Resolution::Raw)
            .expect("rows")
            .count(),
        3
    );
}
