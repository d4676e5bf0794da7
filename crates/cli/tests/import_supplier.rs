//! `hearth import` of supplier half-hourly downloads across separate runs, through the real
//! `hearth` binary: files in time order, the reverse order, the same file twice, overlapping
//! files, holes filled later, disagreeing values, the UK clock-change days, and supplier
//! history before a meter's own readings, supplier and meter files in every order, and a
//! restore of one vault's supplier data into another's. Every case checks exact daily and
//! monthly sums from `hearth export` and that readings stored by earlier runs never change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// 2025-01-01T00:00:00Z (GMT, so UK days are UTC days in January).
const JAN_1_2025: i64 = 1_735_689_600;

fn hearth(vault: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.env("HEARTH_INSECURE_TEST_KDF", "1");
    c.arg("--vault")
        .arg(vault)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null());
    c
}

struct Env {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

impl Env {
    /// A vault in UK time with cheap key derivation (tests only).
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.hearth");
        let out = hearth(&vault)
            .args(["init", "--time-zone", "Europe/London"])
            .args(["--kdf-memory-kib", "8", "--kdf-iterations", "1"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Env { dir, vault }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `hearth import FILES` and returns its stderr.
    fn import(&self, files: &[&Path]) -> String {
        let out = hearth(&self.vault)
            .arg("import")
            .args(files)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "import failed: {log}");
        log
    }

    /// Runs `hearth ARGS` on this vault, asserts success and returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = hearth(&self.vault).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "hearth {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn export(&self, from: &str, to: &str, resolution: &str) -> String {
        self.ok(&[
            "export",
            "--from",
            from,
            "--to",
            to,
            "--resolution",
            resolution,
            "--format",
            "csv",
        ])
    }

    /// `import_kwh` per row of an export, in Wh (the column has exactly three decimals),
    /// keyed by the row's time; rows without a value are left out.
    fn used_wh(&self, from: &str, to: &str, resolution: &str) -> BTreeMap<String, i64> {
        let csv = self.export(from, to, resolution);
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = header.iter().position(|h| *h == "import_kwh").unwrap();
        lines
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                let v = cells[col];
                (!v.is_empty()).then(|| (cells[0].to_owned(), kwh_to_wh(v)))
            })
            .collect()
    }

    /// Every raw row, as exported.
    fn raw(&self) -> Vec<String> {
        self.export("2000-01-01", "2100-01-01", "raw")
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect()
    }
}

/// "12.345" → 12345 (Wh), exactly.
fn kwh_to_wh(text: &str) -> i64 {
    let (int, frac) = text.split_once('.').unwrap();
    assert_eq!(frac.len(), 3, "{text}");
    int.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap()
}

/// Energy of January 2025's half hour `k` (0 = 00:00–00:30 on the 1st), in Wh: 100 + 13 ×
/// (k mod 7); half hours with k mod 37 = 5 are zero and left out of the files, as Octopus
/// leaves out zero half hours. E.g. day 0 holds k = 0..48: Σ (100 + 13 (k mod 7)) over
/// 48 half hours = 4800 + 13 × (6 × 21 + (0+1+2+3+4+5)) = 4800 + 13 × 141 = 6633, minus the
/// left-out k = 5 (100 + 13 × 5 = 165) and k = 42 (100 + 0) → 6368 Wh.
fn half_hour_wh(k: i64) -> i64 {
    if k % 37 == 5 { 0 } else { 100 + 13 * (k % 7) }
}

/// A generic `start,end,kwh` download of January 2025's days `days` (UTC times).
fn download(env: &Env, name: &str, days: std::ops::Range<i64>) -> PathBuf {
    download_with(env, name, days, half_hour_wh)
}

fn download_with(
    env: &Env,
    name: &str,
    days: std::ops::Range<i64>,
    wh: impl Fn(i64) -> i64,
) -> PathBuf {
    let mut text = String::from("start,end,kwh\n");
    for k in days.start * 48..days.end * 48 {
        if k % 37 == 5 {
            continue;
        }
        let start = JAN_1_2025 + k * 1800;
        let stamp = |t: i64| jiff::Timestamp::from_second(t).unwrap().to_string();
        let v = wh(k);
        text.push_str(&format!(
            "{},{},{}.{:03}\n",
            stamp(start),
            stamp(start + 1800),
            v / 1000,
            v % 1000
        ));
    }
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Expected daily Wh of January 2025 for the given imported days (`(first, end)`, end
/// excluded, 0 = the 1st).
fn expected_days(days: &[(i64, i64)]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for d in 0..31 {
        let wh: i64 = if days.iter().any(|&(a, b)| a <= d && d < b) {
            (d * 48..d * 48 + 48).map(half_hour_wh).sum()
        } else {
            0
        };
        out.insert(format!("2025-01-{:02}T00:00:00+00:00", d + 1), wh);
    }
    out
}

/// January's days as exported at 1d (a day without data reads 0).
fn january_days(env: &Env) -> BTreeMap<String, i64> {
    let got = env.used_wh("2025-01-01", "2025-02-01", "1d");
    (0..31)
        .map(|d| {
            let key = format!("2025-01-{:02}T00:00:00+00:00", d + 1);
            let v = got.get(&key).copied().unwrap_or(0);
            (key, v)
        })
        .collect()
}

fn january_total(env: &Env) -> i64 {
    let months = env.used_wh("2025-01-01", "2025-02-01", "1mo");
    months
        .get("2025-01-01T00:00:00+00:00")
        .copied()
        .unwrap_or_else(|| panic!("no January row: {months:?}"))
}

fn assert_january(env: &Env, days: &[(i64, i64)]) {
    let want = expected_days(days);
    assert_eq!(january_days(env), want);
    assert_eq!(january_total(env), want.values().sum::<i64>());
}

/// Every raw row stored before is still there with every value it had (a supplier interval
/// at the same time may have been added beside a meter's values, never over them).
fn assert_kept(before: &[String], after: &[String]) {
    for row in before {
        let cells: Vec<&str> = row.split(',').collect();
        let now = after
            .iter()
            .find(|r| r.split(',').next() == Some(cells[0]))
            .unwrap_or_else(|| panic!("a stored reading vanished: {row}"));
        for (i, (a, b)) in cells.iter().zip(now.split(',')).enumerate() {
            assert!(
                a.is_empty() || a == &b,
                "column {i} of a stored reading changed: {row} -> {now}"
            );
        }
    }
}

#[test]
fn the_day_sum_in_the_comment_is_right() {
    assert_eq!(expected_days(&[(0, 1)])["2025-01-01T00:00:00+00:00"], 6368);
}

#[test]
fn downloads_imported_in_time_order_in_separate_runs() {
    let env = Env::new();
    let a = download(&env, "a.csv", 0..10);
    let b = download(&env, "b.csv", 10..20);
    env.import(&[&a]);
    let first = env.raw();
    let log = env.import(&[&b]);
    assert!(log.contains("467 new"), "{log}");
    assert_kept(&first, &env.raw());
    assert_january(&env, &[(0, 20)]);
}

#[test]
fn an_earlier_download_imported_after_a_later_one() {
    let env = Env::new();
    let a = download(&env, "a.csv", 0..10);
    let b = download(&env, "b.csv", 10..20);
    env.import(&[&b]);
    let first = env.raw();
    env.import(&[&a]);
    let both = env.raw();
    assert_kept(&first, &both);
    // One interval reading per half hour: 960 half hours, 26 of them left out of the files
    // (k = 5 + 37 j, j = 0..=25). No made-up register readings.
    assert_eq!(both.len(), 934);
    assert_january(&env, &[(0, 20)]);
}

#[test]
fn the_same_download_twice_changes_nothing() {
    let env = Env::new();
    let a = download(&env, "a.csv", 0..10);
    env.import(&[&a]);
    let raw = env.raw();
    let days = january_days(&env);
    let log = env.import(&[&a]);
    assert!(log.contains("nothing new"), "{log}");
    assert!(log.contains("0 new, 467 already imported"), "{log}");
    assert_eq!(env.raw(), raw);
    assert_eq!(january_days(&env), days);
    assert_january(&env, &[(0, 10)]);
}

#[test]
fn overlapping_downloads_in_either_order() {
    for order in [[0, 1], [1, 0]] {
        let env = Env::new();
        let files = [
            download(&env, "a.csv", 0..12),
            download(&env, "b.csv", 8..20),
        ];
        env.import(&[&files[order[0]]]);
        let first = env.raw();
        env.import(&[&files[order[1]]]);
        assert_kept(&first, &env.raw());
        assert_january(&env, &[(0, 20)]);
    }
}

#[test]
fn holes_filled_later_from_either_side_and_both() {
    let env = Env::new();
    let mut imported = Vec::new();
    // Two far apart, then one alone in the hole between them, then one touching the first
    // and that one, then the rest touching both sides.
    for (name, days) in [
        ("a.csv", 0..5),
        ("b.csv", 15..20),
        ("c.csv", 7..9),
        ("d.csv", 5..7),
        ("e.csv", 9..15),
    ] {
        let file = download(&env, name, days.clone());
        let before = env.raw();
        env.import(&[&file]);
        assert_kept(&before, &env.raw());
        imported.push((days.start, days.end));
        assert_january(&env, &imported);
    }
    // Re-importing all of it changes nothing.
    let raw = env.raw();
    let all = download(&env, "all.csv", 0..20);
    let log = env.import(&[&all]);
    assert!(log.contains("nothing new"), "{log}");
    assert_eq!(env.raw(), raw);
}

#[test]
fn a_later_file_that_disagrees_keeps_the_first_values() {
    let env = Env::new();
    let a = download(&env, "a.csv", 0..2);
    env.import(&[&a]);
    // The same two days, but the half hour k = 10 (05:00–05:30 on the 1st) reads 999 Wh.
    let b = download_with(&env, "b.csv", 0..2, |k| {
        if k == 10 { 999 } else { half_hour_wh(k) }
    });
    let log = env.import(&[&b]);
    assert!(log.contains("1 disagreeing"), "{log}");
    assert!(log.contains("2025-01-01T05:00:00+00:00"), "{log}");
    assert_january(&env, &[(0, 2)]);
}

#[test]
fn uk_clock_change_days_in_separate_runs_and_again() {
    let env = Env::new();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/supplier");
    let october = fixtures.join("octopus_2024-10-27.csv");
    let march = fixtures.join("octopus_2024-03-31.csv");
    // October first, March after: March counts backwards from October.
    let log = env.import(&[&october]);
    // The consumption column sums to 11.361 kWh (Python decimal) over the 25-hour day when
    // BST ends, and the March file to 11.054 kWh over the 23-hour day BST starts.
    assert!(log.contains("11.361000 kWh"), "{log}");
    let log = env.import(&[&march]);
    assert!(log.contains("11.054000 kWh"), "{log}");
    let check = |env: &Env| {
        let days = env.used_wh("2024-03-30", "2024-11-01", "1d");
        let day = |d: &str| days.get(d).copied().unwrap_or(0);
        assert_eq!(day("2024-03-31T00:00:00+00:00"), 11_054);
        assert_eq!(day("2024-04-01T00:00:00+01:00"), 0);
        assert_eq!(day("2024-10-26T00:00:00+01:00"), 0);
        assert_eq!(day("2024-10-27T00:00:00+01:00"), 11_361);
        assert_eq!(days.values().sum::<i64>(), 11_054 + 11_361);
        let months = env.used_wh("2024-03-01", "2024-11-01", "1mo");
        assert_eq!(months["2024-03-01T00:00:00+00:00"], 11_054);
        assert_eq!(months["2024-10-01T00:00:00+01:00"], 11_361);
    };
    check(&env);
    let raw = env.raw();
    let log = env.import(&[&march, &october]);
    assert!(log.contains("nothing new"), "{log}");
    assert_eq!(env.raw(), raw);
    check(&env);
}

/// `demo:7` (the built-in simulated DSMR meter) from 2025-01-02T12:00:00Z for 60 telegrams,
/// one a second, then supplier data for the days around it: the meter's measured minute
/// keeps its own energy, the supplier's half hours fill the rest.
#[test]
fn supplier_history_around_meter_readings_counts_the_meter_where_it_measured() {
    let env = Env::new();
    let t0 = JAN_1_2025 + 86_400 + 12 * 3600;
    let out = hearth(&env.vault)
        .args([
            "collect",
            "--source",
            &format!("demo:7?pace=fast&start={t0}&count=60"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meter = env.raw();
    assert_eq!(meter.len(), 60);
    let header = env.export("2000-01-01", "2100-01-01", "raw");
    let cols: Vec<&str> = header.lines().next().unwrap().split(',').collect();
    let imp = cols.iter().position(|c| *c == "import_kwh").unwrap();
    let register = |row: &str| kwh_to_wh(row.split(',').nth(imp).unwrap());
    let time = |row: &str| row.split(',').next().unwrap().to_owned();
    assert_eq!(time(&meter[0]), "2025-01-02T12:00:00+00:00");
    let (first, last) = (register(&meter[0]), register(&meter[59]));

    // Supplier data for the 1st and the 2nd up to 13:00: the 12:00-12:30 half hour holds
    // the meter's own readings.
    let file = download(&env, "a.csv", 0..2);
    let text = std::fs::read_to_string(&file).unwrap();
    let cut: String = text
        .lines()
        .take_while(|l| !l.starts_with("2025-01-02T13:00:00Z"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, cut).unwrap();
    let log = env.import(&[&file]);
    assert!(
        log.contains("1 interval(s) overlap meter readings"),
        "{log}"
    );

    let raw = env.raw();
    assert_kept(&meter, &raw);
    // No register was made up: the only import registers are the meter's 60.
    assert_eq!(
        raw.iter()
            .filter(|r| !r.split(',').nth(imp).unwrap().is_empty())
            .count(),
        60
    );
    // The half hour k = 72 (126 Wh) is spread 4.2 Wh a minute: minute 12:00 gets 4 of it,
    // but the meter measured 59 of its 60 s, so round(4 × 1/60) = 0 Wh of the interval stays
    // beside the meter's own energy; minutes 12:01-12:29 keep the other 122 Wh.
    assert_eq!(half_hour_wh(72), 126);
    let days = january_days(&env);
    assert_eq!(
        days["2025-01-01T00:00:00+00:00"],
        (0..48).map(half_hour_wh).sum::<i64>()
    );
    assert_eq!(
        days["2025-01-02T00:00:00+00:00"],
        (48..72).map(half_hour_wh).sum::<i64>() + (last - first) + 122 + half_hour_wh(73)
    );
    let minutes = env.used_wh("2025-01-02T12:00:00Z", "2025-01-02T12:02:00Z", "1m");
    assert_eq!(minutes["2025-01-02T12:00:00+00:00"], last - first);
    assert_eq!(minutes["2025-01-02T12:01:00+00:00"], 8 - 4);
}

/// JSON Lines of a meter's import register from `from` (Unix seconds) for `minutes`
/// readings a minute apart, counting 4 Wh a minute from `wh`.
fn meter_lines(env: &Env, name: &str, from: i64, minutes: i64, wh: i64) -> PathBuf {
    let mut text = String::new();
    for m in 0..minutes {
        let t = jiff::Timestamp::from_second(from + 60 * m).unwrap();
        let v = wh + 4 * m;
        text.push_str(&format!(
            "{{\"time\":\"{t}\",\"protocol\":\"dsmr\",\"import_kwh\":{}.{:03}}}\n",
            v / 1000,
            v % 1000
        ));
    }
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Issue 17, finding 2: a supplier download and a meter's readings of the same days, in every
/// order and in one run. Before, supplier intervals were stored as registers from 1,000,000
/// kWh, and meter readings imported after them made a jump of a million kWh.
#[test]
fn supplier_and_meter_files_in_any_order_give_the_same_days() {
    // The meter: 5,000 kWh at 06:00 on the 2nd, 4 Wh a minute, in two files that meet at
    // noon (the second starts where the first ends, a minute on).
    let jan_2 = JAN_1_2025 + 86_400;
    // Expected: the supplier's half hours outside 06:00-18:00 on the 2nd, the meter's
    // registers inside (720 minutes × 4 Wh); the 1st and 3rd are the supplier's alone.
    let day = |d: i64| (d * 48..d * 48 + 48).map(half_hour_wh).sum::<i64>();
    let jan_2_wh =
        (48..60).map(half_hour_wh).sum::<i64>() + 720 * 4 + (84..96).map(half_hour_wh).sum::<i64>();
    let want = [day(0), jan_2_wh, day(2)];
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let env = Env::new();
        let files = [
            download(&env, "supplier.csv", 0..3),
            meter_lines(&env, "morning.jsonl", jan_2 + 6 * 3600, 360, 5_000_000),
            meter_lines(&env, "afternoon.jsonl", jan_2 + 12 * 3600, 361, 5_001_440),
        ];
        for k in order {
            env.import(&[&files[k]]);
        }
        let days = january_days(&env);
        let got = [1, 2, 3].map(|d| days[&format!("2025-01-{d:02}T00:00:00+00:00")]);
        assert_eq!(got, want, "order {order:?}");
        assert!(days.values().all(|&wh| wh < 10_000), "{days:?}");
        assert_eq!(
            january_total(&env),
            want.iter().sum::<i64>(),
            "order {order:?}"
        );
        // The meter's hours are its own: 240 Wh each, never a supplier share on top.
        let hours = env.used_wh("2025-01-02T06:00:00Z", "2025-01-02T18:00:00Z", "1h");
        assert_eq!(hours.len(), 12, "{hours:?}");
        assert!(
            hours.values().all(|&wh| wh == 240),
            "order {order:?}: {hours:?}"
        );
    }
    // All three in one run.
    let env = Env::new();
    let files = [
        download(&env, "supplier.csv", 0..3),
        meter_lines(&env, "morning.jsonl", jan_2 + 6 * 3600, 360, 5_000_000),
        meter_lines(&env, "afternoon.jsonl", jan_2 + 12 * 3600, 361, 5_001_440),
    ];
    env.import(&[&files[2], &files[0], &files[1]]);
    let days = january_days(&env);
    assert_eq!(days["2025-01-02T00:00:00+00:00"], jan_2_wh);
}

/// Issue 17, finding 2: restoring one vault's supplier data into another that has its own,
/// overlapping, loses nothing and counts nothing twice.
#[test]
fn restoring_supplier_data_into_a_vault_with_its_own() {
    let a = Env::new();
    let b = Env::new();
    a.import(&[&download(&a, "a.csv", 0..2)]);
    b.import(&[&download(&b, "b.csv", 1..3)]);
    let backup = a.path("a.hearthbak");
    let backup = backup.to_str().unwrap();
    a.ok(&["backup", "--out", backup]);
    b.ok(&["restore", backup]);
    assert_january(&b, &[(0, 3)]);
}

/// Issue 17, finding 14: a supplier's half hours are measured, not "estimated", and the report
/// agrees with the export to the Wh.
#[test]
fn supplier_half_hours_are_measured_and_the_report_agrees() {
    let env = Env::new();
    env.import(&[&download(&env, "a.csv", 0..10)]);
    let out = env.ok(&[
        "report",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-11",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want: i64 = (0..480).map(half_hour_wh).sum();
    assert_eq!(v["import_kwh"], want as f64 / 1000.0, "{v}");
    assert_eq!(v["estimated_kwh"], 0.0, "{v}");
    assert_eq!(january_total(&env), want);
}
