//! `hearth import` of Hearth's own CSV export, DSMR-reader's and Home Assistant's data,
//! through the real binary: export → import into an empty vault → export gives the same
//! bytes (plain and decimal comma, across the spring clock change in Amsterdam, with a real
//! DSMR 5 telegram); every format imported twice adds nothing; files of the wrong kind, an
//! hourly summary and a half-written CSV are refused with a clear message and the vault keeps
//! what it had; a disk that fills during an import loses nothing stored before.

mod system;

use std::path::{Path, PathBuf};
use system::Env;

/// 2026-03-29T00:30:00Z: half an hour before the clocks in Amsterdam go forward.
const BEFORE_DST: i64 = 1_774_744_200;

fn app_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../app/tests/fixtures/import")
        .join(name)
}

fn meter_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/tests/fixtures/dsmr")
        .join(name)
}

/// `hearth import FILES`: (exit code, stderr).
fn import(env: &Env, files: &[&Path]) -> (i32, String) {
    let mut c = env.cmd(&["import"]);
    c.args(files);
    let out = c.output().expect("hearth runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A vault with an hour of demo readings across the clock change and a real DSMR 5 telegram.
fn source() -> Env {
    let env = Env::new();
    env.init();
    env.ok(&[
        "collect",
        "--source",
        &format!("demo:7?pace=fast&start={BEFORE_DST}&count=3600"),
    ]);
    let (code, err) = import(&env, &[&meter_fixture("v5.p1")]);
    assert_eq!(code, 0, "{err}");
    env
}

#[test]
fn export_import_export_gives_the_same_bytes_plain_and_decimal_comma() {
    let src = source();
    for comma in [false, true] {
        let mut args = vec!["export", "--resolution", "raw"];
        if comma {
            args.push("--decimal-comma");
        }
        let first = src.ok(&args);
        assert!(first.contains("+01:00") && first.contains("+02:00"));
        assert_eq!(first.lines().count(), 3602);
        let file = src.path(if comma { "comma.csv" } else { "plain.csv" });
        std::fs::write(&file, &first).unwrap();

        let copy = Env::new();
        copy.init();
        let (code, err) = import(&copy, &[&file]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("in total: 3601 reading(s) added, 0 skipped (already stored)"),
            "{err}"
        );
        assert!(
            copy.ok(&args) == first,
            "comma {comma}: the second export differs"
        );

        let (code, err) = import(&copy, &[&file]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("in total: 0 reading(s) added, 3601 skipped (already stored)"),
            "{err}"
        );
        assert!(copy.ok(&args) == first);
    }
}

#[test]
fn every_format_imported_twice_adds_nothing_the_second_time() {
    let src = source();
    let csv = src.path("export.csv");
    std::fs::write(&csv, src.ok(&["export", "--resolution", "raw"])).unwrap();
    let jsonl = src.path("decoded.jsonl");
    let decoded = src.run(&["decode", meter_fixture("v5_two_mbus.p1").to_str().unwrap()]);
    std::fs::write(&jsonl, &decoded.stdout).unwrap();
    for (file, n) in [
        (csv, 3601),
        (app_fixture("dsmr_reader_readings.csv"), 3),
        (app_fixture("home_assistant_statistics.csv"), 3),
        (meter_fixture("v5.p1"), 1),
        (jsonl, 1),
    ] {
        let env = Env::new();
        env.init();
        let (code, err) = import(&env, &[&file]);
        assert_eq!(code, 0, "{}: {err}", file.display());
        assert!(
            err.contains(&format!("in total: {n} reading(s) added, 0 skipped")),
            "{}: {err}",
            file.display()
        );
        let before = env.ok(&["export", "--resolution", "raw"]);
        let (code, err) = import(&env, &[&file]);
        assert_eq!(code, 0, "{}: {err}", file.display());
        assert!(
            err.contains(&format!(
                "{}: 0 reading(s) added, {n} skipped (already stored)",
                file.display()
            )),
            "{}: {err}",
            file.display()
        );
        assert!(env.ok(&["export", "--resolution", "raw"]) == before);
    }
}

#[test]
fn wrong_kinds_summaries_and_cut_files_say_why_and_the_vault_keeps_everything() {
    let env = source();
    let before = env.ok(&["export", "--resolution", "raw"]);
    let hourly = env.path("hourly.csv");
    std::fs::write(&hourly, env.ok(&["export", "--resolution", "1h"])).unwrap();
    let pdf = env.path("bill.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n").unwrap();
    let photo = env.path("meter.jpg");
    std::fs::write(&photo, b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01").unwrap();
    let backup = env.path("backup.hearth");
    env.ok(&["backup", "--out", backup.to_str().unwrap()]);
    let history = app_fixture("home_assistant_history.csv");
    for (file, says) in [
        (&hourly, "this is an hourly summary exported by Hearth"),
        (&pdf, "this is a PDF document, not readings"),
        (&photo, "this is a JPEG photo, not readings"),
        (&backup, "this is a database: a Hearth vault or backup"),
        (&history, "this is Home Assistant's History download"),
    ] {
        let (code, err) = import(&env, &[file]);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!(
                "hearth: {}: nothing imported: {says}",
                file.display()
            )),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(env.ok(&["export", "--resolution", "raw"]) == before);
    }
    // A CSV export cut in the middle of its last line: that line is refused by number, the
    // rest (already stored) skipped, nothing changed.
    let cut = env.path("cut.csv");
    std::fs::write(&cut, &before[..before.len() - 40]).unwrap();
    let (code, err) = import(&env, &[&cut]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{}:3602: field `line`: the last line is cut short",
            cut.display()
        )),
        "{err}"
    );
    assert!(err.contains("0 reading(s) added, 3600 skipped"), "{err}");
    assert!(env.ok(&["export", "--resolution", "raw"]) == before);
}

#[test]
fn a_full_disk_during_an_import_is_a_clear_error_and_nothing_stored_before_is_lost() {
    if !system::can_mount_tmpfs() {
        eprintln!(
            "SKIPPED LOUDLY: no mount namespace/tmpfs here (needs root); disk full unchecked"
        );
        return;
    }
    // An export of 100,000 readings to import, made outside the small disk.
    let big = Env::new();
    big.init();
    big.ok(&[
        "collect",
        "--source",
        &format!("demo:9?pace=fast&start={}&count=100000", BEFORE_DST + 7200),
    ]);
    let env = source();
    let first = env.path("first.csv");
    std::fs::write(&first, env.ok(&["export", "--resolution", "raw"])).unwrap();
    std::fs::write(
        env.path("big.csv"),
        big.ok(&["export", "--resolution", "raw"]),
    )
    .unwrap();
    std::fs::create_dir(env.path("mnt")).unwrap();
    let script = r#"
mount -t tmpfs -o size=2m tmpfs "$DIR/mnt"
V="$DIR/mnt/v.hearth"
"$HEARTH" --vault "$V" init --time-zone Europe/Amsterdam --kdf-memory-kib 8 --kdf-iterations 1
"$HEARTH" --vault "$V" import "$DIR/first.csv" 2> /dev/null
"$HEARTH" --vault "$V" export --resolution raw > "$DIR/before.csv"
dd if=/dev/zero of="$DIR/mnt/filler" bs=4k 2>/dev/null || true
truncate -s -64K "$DIR/mnt/filler"
set +e
"$HEARTH" --vault "$V" import "$DIR/big.csv" 2> "$DIR/full.err"
echo "$?" > "$DIR/full.exit"
set -e
rm "$DIR/mnt/filler"
"$HEARTH" --vault "$V" verify > "$DIR/verify.txt"
"$HEARTH" --vault "$V" export --resolution raw --to 2026-03-29T01:31:00Z > "$DIR/after.csv"
"$HEARTH" --vault "$V" import "$DIR/big.csv" 2> "$DIR/again.err"
"#;
    let out = system::in_mount_namespace(env.dir.path(), script);
    let read = |name: &str| std::fs::read_to_string(env.path(name)).unwrap_or_default();
    assert!(
        out.status.success(),
        "script failed: {}\nfull.err: {}",
        String::from_utf8_lossy(&out.stderr),
        read("full.err")
    );
    let err = read("full.err");
    assert_eq!(read("full.exit").trim(), "1", "{err}");
    assert!(
        err.contains("hearth: ") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        err.contains("full") || err.contains("space"),
        "names the full disk: {err}"
    );
    // What was stored before the import is there, byte for byte, and the vault verifies.
    assert_eq!(read("before.csv").lines().count(), 3602);
    assert!(read("after.csv") == read("before.csv"));
    let verify = read("verify.txt");
    assert!(verify.contains(" records intact ("), "{verify}");
    assert!(verify.contains("), 0 damaged"), "{verify}");
    eprintln!(
        "disk full during import: {}",
        err.lines().collect::<Vec<_>>().join(" / ")
    );
    // With space back, the same import completes.
    assert!(
        read("again.err").contains("in total:"),
        "{}",
        read("again.err")
    );
}
