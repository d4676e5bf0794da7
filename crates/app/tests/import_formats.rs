//! `hearth import`'s formats beyond captures, on real vaults: Hearth's own CSV export read
//! back byte for byte (plain and decimal comma, across the spring clock change in Amsterdam,
//! with gas, three phases and export registers, from real DSMR 5 telegrams and simulated
//! ones), interval exports and estimated rows refused, DSMR-reader's readings table and Home
//! Assistant's statistics as readings, their summaries refused with the reason, files of the
//! wrong kind refused with nothing stored, and every format imported twice adding nothing.

use hearth_app::export::{self, BEGINNING, NO_END, Request};
use hearth_app::import::{self, Kind, Nothing, Summary};
use hearth_meter_io::simulator::Simulator;
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use std::path::{Path, PathBuf};

/// 2026-03-29T00:30:00Z: half an hour before the clocks in Amsterdam go from 02:00 to 03:00.
const BEFORE_DST: i64 = 1_774_744_200;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn meter_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/tests/fixtures/dsmr")
        .join(name)
}

fn vault(dir: &Path, name: &str) -> Vault {
    let options = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    Vault::create(&dir.join(name), "pw-words", &options).expect("vault")
}

fn import(v: &mut Vault, files: &[PathBuf]) -> Summary {
    import::import(v, files, None, &mut |_| {}).expect("import")
}

fn export(v: &Vault, resolution: Resolution, decimal_comma: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let req = Request {
        from: BEGINNING,
        to: NO_END,
        resolution,
        decimal_comma,
    };
    export::to_writer(v, &req, &mut out, |_| {}).expect("export");
    out
}

/// A vault holding two real DSMR 5 telegrams (one in winter time, one in summer time) and an
/// hour of simulated DSMR 5.0.2 telegrams (three phases, gas, export registers) across the
/// spring clock change.
fn source_vault(dir: &Path) -> Vault {
    let mut sim = Simulator::new(11, BEFORE_DST);
    let mut capture = Vec::new();
    for _ in 0..3600 {
        capture.extend_from_slice(&sim.next_telegram());
    }
    let sim_file = dir.join("spring.dsmr");
    std::fs::write(&sim_file, capture).expect("capture");
    let mut v = vault(dir, "source.hearth");
    let s = import(
        &mut v,
        &[
            meter_fixture("v5.p1"),
            meter_fixture("v5_two_mbus.p1"),
            sim_file,
        ],
    );
    assert_eq!(s.unusable, []);
    assert_eq!(s.added, 3602);
    v
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8")
}

#[test]
fn a_raw_export_imported_into_an_empty_vault_exports_the_same_bytes() {
    let dir = tempfile::tempdir().expect("dir");
    let source = source_vault(dir.path());
    for comma in [false, true] {
        let first = export(&source, Resolution::Raw, comma);
        let csv = text(&first);
        // What the round trip must carry: both offsets, gas, phases and export registers.
        assert!(csv.contains("2026-03-29T01:59:59+01:00"), "winter time");
        assert!(csv.contains("2026-03-29T03:00:00+02:00"), "summer time");
        let header: Vec<&str> = csv
            .lines()
            .next()
            .expect("header")
            .split(if comma { ';' } else { ',' })
            .collect();
        for column in ["gas_m3", "gas_time", "l3_v", "l3_import_w", "export_kwh_t2"] {
            let i = header.iter().position(|h| *h == column).expect(column);
            let filled = csv
                .lines()
                .skip(1)
                .filter(|l| {
                    !l.split(if comma { ';' } else { ',' })
                        .nth(i)
                        .unwrap_or("")
                        .is_empty()
                })
                .count();
            assert_eq!(filled, 3602, "{column} in every row");
        }
        let path = dir
            .path()
            .join(if comma { "comma.csv" } else { "plain.csv" });
        std::fs::write(&path, &first).expect("written");
        assert_eq!(
            import::recognise(&path).expect("recognised"),
            Kind::HearthCsv
        );

        let name = if comma { "b.hearth" } else { "a.hearth" };
        let mut copy = vault(dir.path(), name);
        let s = import(&mut copy, std::slice::from_ref(&path));
        assert_eq!(s.unusable, []);
        assert_eq!((s.added, s.duplicates, s.estimated), (3602, 0, 0));
        assert_eq!(s.files[0].kind, Kind::HearthCsv);
        assert_eq!((s.files[0].added, s.files[0].unreadable_lines), (3602, 0));
        let again = export(&copy, Resolution::Raw, comma);
        assert!(first == again, "comma {comma}: the second export differs");
        // The rollups are rebuilt from the same readings: the hourly export matches too.
        assert!(export(&source, Resolution::Hour, comma) == export(&copy, Resolution::Hour, comma));

        // Importing it twice changes nothing.
        let s = import(&mut copy, std::slice::from_ref(&path));
        assert_eq!((s.added, s.duplicates), (0, 3602));
        assert_eq!((s.files[0].added, s.files[0].duplicates), (0, 3602));
        assert!(export(&copy, Resolution::Raw, comma) == first);
    }
}

#[test]
fn interval_exports_are_refused_naming_their_resolution_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let source = source_vault(dir.path());
    for (res, words) in [
        (Resolution::Minute, "a one-minute summary"),
        (Resolution::Quarter, "a 15-minute summary"),
        (Resolution::Hour, "an hourly summary"),
        (Resolution::Day, "a summary per interval"),
    ] {
        let path = dir.path().join(format!("{res:?}.csv"));
        std::fs::write(&path, export(&source, res, false)).expect("written");
        let mut v = vault(dir.path(), &format!("{res:?}.hearth"));
        let s = import(&mut v, std::slice::from_ref(&path));
        assert_eq!(s.added, 0);
        assert_eq!(s.unusable.len(), 1);
        let why = s.unusable[0].why.to_string();
        assert!(why.contains(words), "{res:?}: {why}");
        assert!(why.contains("hearth export --resolution raw"), "{why}");
        v.flush().expect("flush");
        assert_eq!(text(&export(&v, Resolution::Raw, false)).lines().count(), 1);
    }
}

/// A raw export's header and two rows, the second one's `estimated` as given.
fn small_export(estimated: &str, cut: bool) -> String {
    let header: Vec<&str> = hearth_meter::record::COLUMNS
        .iter()
        .map(|c| c.name())
        .chain(["estimated"])
        .collect();
    let row = |time: &str, kwh: &str, est: &str| {
        let mut f = vec![String::new(); header.len()];
        f[0] = time.into();
        f[2] = "dsmr".into();
        f[header.iter().position(|h| *h == "import_kwh").unwrap()] = kwh.into();
        *f.last_mut().unwrap() = est.into();
        f.join(",")
    };
    let mut out = header.join(",") + "\n";
    out += &(row("2026-01-15T10:00:00+01:00", "1000.000", "false") + "\n");
    out += &(row("2026-01-15T10:00:10+01:00", "1000.010", estimated) + "\n");
    out += &row("2026-01-15T10:00:20+01:00", "1000.020", "false");
    if cut {
        // Half-written: the last line stops in the middle of its number, no line end.
        out.truncate(out.rfind("1000.020").unwrap() + 6);
    } else {
        out.push('\n');
    }
    out
}

#[test]
fn estimated_rows_never_come_back_as_measured_readings() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("edited.csv");
    std::fs::write(&path, small_export("true", false)).expect("written");
    let mut v = vault(dir.path(), "v.hearth");
    let s = import(&mut v, std::slice::from_ref(&path));
    assert_eq!((s.added, s.files[0].estimated_refused), (2, 1));
    let csv = String::from_utf8(export(&v, Resolution::Raw, false)).unwrap();
    assert!(!csv.contains("10:00:10"), "{csv}");
    assert!(csv.contains("10:00:20"));
}

#[test]
fn a_half_written_last_line_is_refused_and_the_rest_kept() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("cut.csv");
    std::fs::write(&path, small_export("false", true)).expect("written");
    let mut v = vault(dir.path(), "v.hearth");
    let mut told = Vec::new();
    let s = import::import(&mut v, std::slice::from_ref(&path), None, &mut |e| {
        if let import::Event::UnreadableLine { line, error, .. } = e {
            told.push(format!("{line}: {error}"));
        }
    })
    .expect("import");
    assert_eq!((s.added, s.refused), (2, 1));
    assert_eq!(told.len(), 1);
    assert!(
        told[0].starts_with("4: field `line`: the last line is cut short"),
        "{told:?}"
    );
    let csv = String::from_utf8(export(&v, Resolution::Raw, false)).unwrap();
    assert!(
        !csv.contains("1000.02"),
        "never the cut number 1000.02: {csv}"
    );
}

#[test]
fn dsmr_readers_readings_table_becomes_readings_and_its_statistics_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let mut v = vault(dir.path(), "v.hearth");
    let readings = fixture("dsmr_reader_readings.csv");
    let days = fixture("dsmr_reader_day_statistics.csv");
    assert_eq!(import::recognise(&readings).unwrap(), Kind::DsmrReader);
    assert_eq!(
        import::recognise(&days).unwrap(),
        Kind::DsmrReaderStatistics(true)
    );
    let s = import(&mut v, &[readings.clone(), days.clone()]);
    assert_eq!((s.added, s.refused), (3, 0));
    assert_eq!(s.unusable.len(), 1);
    assert_eq!(s.unusable[0].path, days);
    assert!(
        s.unusable[0]
            .why
            .to_string()
            .starts_with("this is DSMR-reader's day statistics export"),
        "{}",
        s.unusable[0].why
    );
    let csv = String::from_utf8(export(&v, Resolution::Raw, false)).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = rows[0].split(',').collect();
    let cell = |row: usize, name: &str| {
        let i = header.iter().position(|h| *h == name).expect(name);
        rows[row].split(',').nth(i).unwrap().to_string()
    };
    assert_eq!(rows.len(), 4);
    assert_eq!(cell(1, "time"), "2026-03-29T01:59:50+01:00");
    assert_eq!(cell(2, "time"), "2026-03-29T03:00:00+02:00");
    assert_eq!(cell(1, "import_kwh"), "9334.245");
    assert_eq!(cell(1, "import_kwh_t1"), "4123.456");
    assert_eq!(cell(1, "export_kwh"), "3331.502");
    assert_eq!(cell(1, "import_w"), "351");
    assert_eq!(cell(1, "l2_import_w"), "111");
    assert_eq!(cell(1, "l1_v"), "231.2");
    assert_eq!(cell(1, "l1_a"), "1.000");
    assert_eq!(cell(1, "gas_m3"), "3321.123");
    assert_eq!(cell(1, "gas_time"), "2026-03-29T01:55:00+01:00");
    assert_eq!(cell(3, "l2_v"), "", "NULL stays absent");
    // Twice: nothing added.
    let s = import(&mut v, std::slice::from_ref(&readings));
    assert_eq!((s.added, s.duplicates), (0, 3));
}

#[test]
fn home_assistant_statistics_become_registers_where_unambiguous() {
    let dir = tempfile::tempdir().expect("dir");
    let mut v = vault(dir.path(), "v.hearth");
    let stats = fixture("home_assistant_statistics.csv");
    let history = fixture("home_assistant_history.csv");
    assert_eq!(
        import::recognise(&stats).unwrap(),
        Kind::HomeAssistantStatistics
    );
    let mut told = Vec::new();
    let s = import::import(&mut v, &[stats.clone(), history.clone()], None, &mut |e| {
        if let import::Event::UnreadableLine { line, error, .. } = e {
            told.push(format!("{line}: {error}"));
        }
    })
    .expect("import");
    assert_eq!(s.added, 3, "one reading per hour's end");
    // The two ambiguous statistics refused once each with the reason; all their rows counted.
    assert_eq!(s.files[0].unreadable_lines, 3);
    assert_eq!(
        told,
        [
            "17: field `sensor.energy_today`: not imported: a counter that restarts, or money, \
             not the meter's register",
            "19: field `sensor.house_energy`: not imported: its name says neither import \
             (consumption, delivered) nor export (production, returned)",
        ]
    );
    assert_eq!(s.unusable.len(), 1);
    assert_eq!(s.unusable[0].path, history);
    assert!(s.unusable[0].why.to_string().contains("carries no units"));
    let csv = String::from_utf8(export(&v, Resolution::Raw, false)).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = rows[0].split(',').collect();
    let cell = |row: usize, name: &str| {
        let i = header.iter().position(|h| *h == name).expect(name);
        rows[row].split(',').nth(i).unwrap().to_string()
    };
    assert_eq!(rows.len(), 4);
    // The hour from 23:00Z ends at 01:00 winter time; the one from 00:00Z at 03:00 summer
    // time (the clocks skip 02:00).
    assert_eq!(cell(1, "time"), "2026-03-29T01:00:00+01:00");
    assert_eq!(cell(2, "time"), "2026-03-29T03:00:00+02:00");
    assert_eq!(cell(3, "time"), "2026-03-29T04:00:00+02:00");
    assert_eq!(cell(1, "import_kwh_t1"), "4123.700");
    assert_eq!(cell(2, "import_kwh_t1"), "4123.100");
    assert_eq!(cell(2, "import_kwh"), "9333.100");
    assert_eq!(cell(3, "export_kwh"), "3331.502");
    assert_eq!(cell(3, "gas_m3"), "3321.120");
    let s = import(&mut v, std::slice::from_ref(&stats));
    assert_eq!((s.added, s.duplicates), (0, 3));
}

#[test]
fn files_of_the_wrong_kind_are_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let mut v = vault(dir.path(), "v.hearth");
    let before = export(&v, Resolution::Raw, false);
    let files = [
        (
            "bill.pdf",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec(),
            "a PDF document",
        ),
        (
            "meter.jpg",
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec(),
            "a JPEG photo",
        ),
        (
            "old.csv",
            b"name,age\nann,7\n".to_vec(),
            "a CSV file of no kind Hearth knows",
        ),
    ];
    let mut paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, bytes, _)| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    // The vault itself (a SQLite file), as a backup is.
    v.flush().unwrap();
    let copy = dir.path().join("backup.hearth");
    std::fs::copy(dir.path().join("v.hearth"), &copy).unwrap();
    paths.push(copy);
    let s = import(&mut v, &paths);
    assert_eq!(s.added, 0);
    assert_eq!(s.unusable.len(), 4);
    for (u, what) in s.unusable.iter().zip([
        "a PDF document",
        "a JPEG photo",
        "a CSV file of no kind Hearth knows",
        "a database: a Hearth vault or backup",
    ]) {
        assert!(matches!(u.why, Nothing::WrongKind(_)), "{:?}", u.why);
        assert!(
            u.why.to_string().starts_with(&format!("this is {what}")),
            "{}",
            u.why
        );
    }
    assert!(export(&v, Resolution::Raw, false) == before);
}

#[test]
fn progress_tells_bytes_read_of_the_files_size_up_to_the_whole_file() {
    let dir = tempfile::tempdir().expect("dir");
    let mut sim = Simulator::new(3, BEFORE_DST);
    // More telegrams than the decoding thread may read ahead of the storing one (the
    // pipeline's 32 batches of 1024 in the channel, one in each thread's hands: 34,816), so
    // the first figure told is short of the whole file however the two threads are
    // scheduled. (With 3,000, a loaded machine read the whole file before the first tell.)
    let mut bytes = Vec::new();
    for _ in 0..40_000 {
        bytes.extend_from_slice(&sim.next_telegram());
    }
    let path = dir.path().join("capture.dsmr");
    std::fs::write(&path, &bytes).expect("written");
    let len = bytes.len() as u64;
    assert!(len > 30 << 20, "over 30 MiB: told on the way too ({len})");
    let mut v = vault(dir.path(), "v.hearth");
    let mut told = Vec::new();
    import::import(&mut v, std::slice::from_ref(&path), None, &mut |e| {
        if let import::Event::Read { bytes, total, .. } = e {
            told.push((bytes, total));
        }
    })
    .expect("import");
    assert!(told.len() >= 2, "{told:?}");
    assert!(told.windows(2).all(|w| w[0].0 < w[1].0), "{told:?}");
    assert!(told.iter().all(|(_, total)| *total == Some(len)));
    assert_eq!(told.last().unwrap().0, len);
}
