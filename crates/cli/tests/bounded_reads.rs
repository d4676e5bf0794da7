//! Issue 17, finding 11, through the real `hearth` binary: every file and line read from a
//! user has a cap (`hearth_app::bounded_read`), so an endless file (`/dev/zero`) or an
//! endless line is refused at once with the cap in the message, instead of growing memory
//! by gigabytes.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::tz::TimeZone;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a refusal may take: reading to a cap of at most 16 MiB is a fraction of a second
/// (unbounded, `/dev/zero` grew by 0.75 GB/s until the machine ran out of memory).
const FAST: Duration = Duration::from_secs(5);

/// `hearth --vault v.hearth ARGS` in `dir`, killed after 10 s and given 4 GiB of address
/// space, so an unbounded read ends in a failed test rather than a hung or swapping machine.
fn hearth(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -v 4194304 && exec timeout -s KILL 10 \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_hearth"),
        ])
        .current_dir(dir)
        .args(["--vault", "v.hearth"])
        .args(args)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth under timeout");
    (out, start.elapsed())
}

/// A vault in Amsterdam (cheap key derivation).
fn vault(dir: &Path) {
    let (out, _) = hearth(
        dir,
        &[
            "init",
            "--time-zone",
            "Europe/Amsterdam",
            "--kdf-memory-kib",
            "8",
            "--kdf-iterations",
            "1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A command that must be refused (exit 1) fast; returns its stderr.
fn refused_fast(dir: &Path, args: &[&str]) -> String {
    let (out, took) = hearth(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "hearth {args:?} was not refused ({:?}; killed is the timeout): {err}",
        out.status
    );
    assert!(took < FAST, "hearth {args:?} took {took:?}");
    err
}

/// A dynamic contract whose prices are `prices_csv`.
fn dynamic(prices_csv: &str) -> String {
    format!(
        "name = \"Dynamic\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\n\
         vat_percent = 0\n[import]\nprices_csv = \"{prices_csv}\"\nmarkup_per_kwh = 0.02\n"
    )
}

/// JSON Lines: two readings, then a 2 MiB line (a reading padded with a 2 MiB note), then
/// a third reading never reached.
fn jsonl_with_long_third_line(path: &Path) {
    let tz = TimeZone::get("Europe/Amsterdam").unwrap();
    let reading = |t: i64| {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::in_zone(t, &tz));
        r.set(Quantity::ImportWh, 1000);
        r.to_json() + "\n"
    };
    let mut text = reading(1_768_478_400) + &reading(1_768_478_410);
    text.push_str(&format!("{{\"note\":\"{}\"}}\n", "x".repeat(2 << 20)));
    text.push_str(&reading(1_768_478_420));
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_contract_whose_prices_are_dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    vault(dir.path());
    std::fs::write(dir.path().join("dyn.toml"), dynamic("/dev/zero")).unwrap();
    let err = refused_fast(
        dir.path(),
        &[
            "report",
            "--tariff",
            "dyn.toml",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
        ],
    );
    assert!(
        err.contains(
            "contract file, line 6: price file /dev/zero: cannot read it: it is larger than \
             16 MiB; a price file is a few MiB at most"
        ),
        "{err}"
    );
}

#[test]
fn a_contract_file_that_is_dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    vault(dir.path());
    let err = refused_fast(
        dir.path(),
        &[
            "report",
            "--tariff",
            "/dev/zero",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
        ],
    );
    assert!(
        err.contains(
            "cannot read the contract file /dev/zero: it is larger than 1 MiB; a contract \
             file is a few KiB at most"
        ),
        "{err}"
    );
}

#[test]
fn a_json_lines_import_with_a_2_mib_line_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    vault(dir.path());
    jsonl_with_long_third_line(&dir.path().join("long.jsonl"));
    let err = refused_fast(dir.path(), &["import", "long.jsonl"]);
    assert!(
        err.contains(
            "cannot import long.jsonl\n  because: line 3 is longer than 1 MiB; a reading is a \
             few hundred bytes"
        ),
        "{err}"
    );
}

#[test]
fn report_readings_with_a_2_mib_line_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    jsonl_with_long_third_line(&dir.path().join("long.jsonl"));
    std::fs::write(dir.path().join("dyn.toml"), dynamic("prices.csv")).unwrap();
    std::fs::write(
        dir.path().join("prices.csv"),
        "start,price_per_kwh\n2026-01-05T00:00:00+01:00,0.10\n",
    )
    .unwrap();
    let err = refused_fast(
        dir.path(),
        &[
            "report",
            "--readings",
            "long.jsonl",
            "--tariff",
            "dyn.toml",
            "--from",
            "2026-01-15",
            "--to",
            "2026-01-16",
        ],
    );
    assert!(
        err.contains(
            "cannot read long.jsonl\n  because: line 3 is longer than 1 MiB; a reading is a \
             few hundred bytes"
        ),
        "{err}"
    );
}

#[test]
fn a_supplier_csv_with_an_endless_row_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    vault(dir.path());
    let mut text = String::from("start,kwh\n");
    text.push_str(&"1".repeat(2 << 20));
    text.push('\n');
    std::fs::write(dir.path().join("download.csv"), text).unwrap();
    let err = refused_fast(dir.path(), &["import", "download.csv"]);
    assert!(
        err.contains(
            "cannot import download.csv\n  because: cannot read the file: line 2 is longer \
             than 1 MiB; a row of a supplier's download is well under a KiB"
        ),
        "{err}"
    );
}

#[test]
fn a_passphrase_file_that_is_dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    vault(dir.path());
    let err = refused_fast(dir.path(), &["--passphrase-file", "/dev/zero", "verify"]);
    assert!(
        err.contains(
            "cannot read the passphrase file /dev/zero\n  because: it is larger than 64 KiB; \
             a passphrase file holds one short line"
        ),
        "{err}"
    );
}
