//! Supplier downloads through the real `hearth` binary (issue 17): a `Date,From,To,kWh`
//! portal download (finding 9: nothing of it was imported) is read in the vault's zone with
//! exact day totals, and an interval no household can use (20 kWh in 15 minutes) is refused by
//! its line while the rest of the file is imported.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hearth(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .current_dir(dir)
        .arg("--vault")
        .arg("v.hearth")
        .args(args)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth")
}

/// Runs `args`, which must succeed; returns (stdout, stderr).
fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = hearth(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hearth {args:?} failed: {err}");
    (String::from_utf8(out.stdout).expect("utf-8"), err)
}

fn brussels_vault(dir: &Path) {
    ok(
        dir,
        &[
            "init",
            "--time-zone",
            "Europe/Brussels",
            "--kdf-memory-kib",
            "8",
            "--kdf-iterations",
            "1",
        ],
    );
}

/// `import_kwh` of each day from `hearth export --resolution 1d`, as (day, text).
fn days(dir: &Path, from: &str, to: &str) -> Vec<(String, String)> {
    let (csv, _) = ok(
        dir,
        &["export", "--from", from, "--to", to, "--resolution", "1d"],
    );
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "import_kwh")
        .expect("import_kwh");
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_owned(), cells[col].to_owned())
        })
        .collect()
}

/// Quarter hour `q`'s energy in Wh: 13 × (q mod 7) + 1.
fn quarter_wh(q: i64) -> i64 {
    13 * (q % 7) + 1
}

/// 10 and 11 March 2026 in quarter hours, `Date,From,To,kWh`, each day's last row ending at
/// 00:00 (the next midnight).
fn portal_download() -> String {
    let mut text = String::from("Date,From,To,kWh\n");
    for day in ["2026-03-10", "2026-03-11"] {
        for q in 0..96 {
            let at = |m: i64| format!("{:02}:{:02}", m / 60 % 24, m % 60);
            let wh = quarter_wh(q);
            text.push_str(&format!(
                "{day},{},{},{}.{:03}\n",
                at(q * 15),
                at(q * 15 + 15),
                wh / 1000,
                wh % 1000
            ));
        }
    }
    text
}

#[test]
fn a_date_from_to_kwh_download_is_imported_with_exact_day_totals() {
    let dir = tempfile::tempdir().expect("dir");
    brussels_vault(dir.path());
    std::fs::write(dir.path().join("portal.csv"), portal_download()).expect("csv");
    let (_, err) = ok(dir.path(), &["import", "portal.csv"]);
    // Each day: 13 × (13 weeks × 21 + 0+1+2+3+4) + 96 = 3775 Wh; two days 7.55 kWh.
    assert_eq!((0..96).map(quarter_wh).sum::<i64>(), 3775);
    assert!(
        err.contains("192 new intervals, 7.550000 kWh added"),
        "{err}"
    );
    assert_eq!(
        days(dir.path(), "2026-03-10", "2026-03-12"),
        [
            ("2026-03-10T00:00:00+01:00".to_owned(), "3.775".to_owned()),
            ("2026-03-11T00:00:00+01:00".to_owned(), "3.775".to_owned()),
        ]
    );
}

#[test]
fn the_issue_s_date_from_to_file_is_imported() {
    // Finding 9's repro, which imported nothing and exited 0.
    let dir = tempfile::tempdir().expect("dir");
    brussels_vault(dir.path());
    std::fs::write(
        dir.path().join("dates.csv"),
        "Date,From,To,kWh\n2026-01-15,00:00,00:30,0.25\n2026-01-15,00:30,01:00,0.5\n",
    )
    .expect("csv");
    let (_, err) = ok(dir.path(), &["import", "dates.csv"]);
    assert!(err.contains("2 new intervals, 0.750000 kWh added"), "{err}");
    assert_eq!(
        days(dir.path(), "2026-01-15", "2026-01-16"),
        [("2026-01-15T00:00:00+01:00".to_owned(), "0.750".to_owned())]
    );
}

#[test]
fn twenty_kwh_in_a_quarter_hour_is_refused_by_line_and_the_rest_imported() {
    let dir = tempfile::tempdir().expect("dir");
    brussels_vault(dir.path());
    // A Date,Start,End variant: 0.25 kWh quarter hours from 10:00, one of them 20 kWh.
    let text = "Date,Start,End,kWh\n\
                2026-03-10,10:00,10:15,0.25\n\
                2026-03-10,10:15,10:30,20\n\
                2026-03-10,10:30,10:45,0.25\n\
                2026-03-10,10:45,11:00,-0.25\n\
                2026-03-10,11:00,11:15,0.25\n";
    std::fs::write(dir.path().join("odd.csv"), text).expect("csv");
    let (_, err) = ok(dir.path(), &["import", "odd.csv"]);
    assert!(
        err.contains(
            "  line 3: 20.000000 kWh in 15 min is 80.0 kW on average, more than the 60 kW a \
             household connection carries (a wrong unit or a damaged file?); refused"
        ),
        "{err}"
    );
    assert!(err.contains("  line 5: negative consumption"), "{err}");
    assert!(err.contains("3 new intervals, 0.750000 kWh added"), "{err}");
    let d = days(dir.path(), "2026-03-10", "2026-03-11");
    assert_eq!(
        d,
        [("2026-03-10T00:00:00+01:00".to_owned(), "0.750".to_owned())]
    );
}

#[test]
fn quarter_hours_with_only_a_start_time_are_all_imported() {
    // `Date,Time,kWh` quarter hours: each lasted a half hour before, overlapping the next, and
    // half of the day was dropped as "disagreeing".
    let dir = tempfile::tempdir().expect("dir");
    brussels_vault(dir.path());
    let mut text = String::from("Date,Time,kWh\n");
    for q in 0..96 {
        let wh = quarter_wh(q);
        text.push_str(&format!(
            "2026-03-10,{:02}:{:02},{}.{:03}\n",
            q * 15 / 60,
            q * 15 % 60,
            wh / 1000,
            wh % 1000
        ));
    }
    std::fs::write(dir.path().join("quarters.csv"), text).expect("csv");
    let (_, err) = ok(dir.path(), &["import", "quarters.csv"]);
    assert!(
        err.contains("96 new intervals, 3.775000 kWh added"),
        "{err}"
    );
    assert!(err.contains("0 disagreeing"), "{err}");
    assert_eq!(
        days(dir.path(), "2026-03-10", "2026-03-11"),
        [("2026-03-10T00:00:00+01:00".to_owned(), "3.775".to_owned())]
    );
}
