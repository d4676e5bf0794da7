//! Nothing is lost: the real `hearth` binary is killed with SIGKILL mid-ingest again and
//! again, runs out of disk, finds its directory read-only, meets a damaged chunk, a wrong
//! passphrase, a vault from a newer Hearth and a second collector. Each time the outcome is a
//! clear message (exit 1, no panic) and everything stored before stays exact.
//!
//! `HEARTH_KILL_ROUNDS` sets how many kills the SIGKILL loop makes (default 20, under a
//! minute; docs/RELIABILITY.md records a 100-round run).

mod system;

use hearth_meter_io::simulator::Simulator;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use system::{Env, Lcg, PW, SEED, T0, column, fixed, unix};

/// Kill rounds in the SIGKILL loop.
fn kill_rounds() -> usize {
    std::env::var("HEARTH_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20)
}

/// What one lane of the kill loop saw.
#[derive(Debug, Default)]
struct LaneReport {
    rounds: usize,
    /// Largest number of one-second samples the source sent that were not in the vault
    /// after a kill (real-pace lanes only; an upper bound, see `kill_loop_lane`).
    worst_missing: i64,
    readings: usize,
}

/// One vault, killed `rounds` times. `real`: the demo meter at one telegram a second, so the
/// samples lost to a kill can be counted; otherwise as fast as it goes (heavy ingest).
fn kill_loop_lane(lane: u64, rounds: usize, real: bool) -> LaneReport {
    let env = Env::new();
    env.init();
    let mut rng = Lcg(0x9E37_79B9_7F4A_7C15 ^ (lane + 1));
    // The first time each restart of the demo meter stored: a restarted demo meter starts
    // its registers afresh, which the vault treats as a new segment.
    let mut segments: Vec<i64> = Vec::new();
    let mut last: Option<i64> = None;
    let mut report = LaneReport::default();
    let pace = if real { "real" } else { "fast" };
    for round in 0..rounds {
        let resume = last.map_or(T0, |l| l + 1);
        // Checkpoints come every 10 s: kill before, between and after them. The heavy-ingest
        // lane is killed just after its first checkpoint, mid-way through the next 10 s.
        let delay = if real {
            Duration::from_millis(rng.range(1_000, 24_000))
        } else {
            Duration::from_millis(rng.range(10_300, 13_000))
        };
        let began = Instant::now();
        let mut child = env
            .cmd(&[
                "collect",
                "--source",
                &format!("demo:{SEED}?pace={pace}&start={T0}"),
            ])
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("hearth collect starts");
        std::thread::sleep(delay);
        let elapsed = began.elapsed();
        child.kill().expect("SIGKILL"); // SIGKILL on Unix.
        let status = child.wait().expect("reaped");
        assert!(
            !status.success(),
            "lane {lane} round {round}: the collector ended by itself"
        );
        // The vault opens, verifies clean, and never shrinks.
        let v = env.verify();
        assert!(
            v.success && v.damaged.is_empty(),
            "lane {lane} round {round}: {}",
            v.text
        );
        let stored_last = (v.readings > 0).then(|| T0 + v.readings as i64 - 1);
        assert!(
            stored_last >= last,
            "lane {lane} round {round}: readings vanished"
        );
        if stored_last > last {
            segments.push(resume);
        }
        if real {
            // Telegram k (k = 0, 1, ...) goes out k seconds after the collector started, and
            // the collector started after `began`: so at most floor(elapsed) + 1 telegrams
            // went out, the last stamped resume + floor(elapsed).
            let sent_last = resume + elapsed.as_secs() as i64;
            let missing = sent_last - stored_last.unwrap_or(resume - 1);
            assert!(
                missing <= 11,
                "lane {lane} round {round}: {missing} s of samples lost after {elapsed:?}"
            );
            report.worst_missing = report.worst_missing.max(missing);
        }
        last = stored_last;
        report.rounds += 1;
    }
    // Every stored reading is exactly what the demo meter sent, second after second
    // (streamed: the heavy lane of a 100-kill run holds millions of readings).
    let Some(last) = last else {
        return report;
    };
    let csv = env.path("raw.csv");
    env.ok(&[
        "export",
        "--resolution",
        "raw",
        "--out",
        csv.to_str().expect("utf-8"),
    ]);
    let mut lines = BufReader::new(std::fs::File::open(&csv).expect("export written"))
        .lines()
        .skip(1);
    let width = hearth_meter::record::COLUMNS.len();
    let imp = column("import_kwh");
    let mut energy_wh = 0i64;
    for (i, &start) in segments.iter().enumerate() {
        let end = segments.get(i + 1).map_or(last, |next| next - 1);
        let mut sim = Simulator::new(SEED, start);
        let mut first_wh = None;
        let mut last_wh = 0;
        for t in start..=end {
            sim.step();
            let want = sim.reading().csv_row(false);
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("lane {lane}: no reading at {t}"))
                .expect("readable export");
            let got: Vec<&str> = line.split(',').collect();
            assert_eq!(unix(got[0]), t, "lane {lane}: a hole in the seconds");
            assert!(
                got.len() == width + 1 && got[1..width].iter().zip(&want[1..]).all(|(g, w)| g == w),
                "lane {lane}: reading at {t} differs:\n{line}\n{want:?}"
            );
            last_wh = fixed(&want[imp], 3);
            first_wh.get_or_insert(last_wh);
        }
        // A restart's first register is below the previous segment's last: no energy for
        // that step (a new segment), the rest exactly the register difference.
        energy_wh += last_wh - first_wh.unwrap_or(last_wh);
        report.readings += (end - start + 1) as usize;
    }
    assert!(
        lines.next().is_none(),
        "lane {lane}: readings after the last stored"
    );
    // The daily rollups hold exactly the register differences: nothing invented, nothing
    // negative, nothing lost to the kills.
    let days = system::csv_rows(&env.ok(&["export", "--resolution", "1d"]));
    let booked: i64 = days.iter().map(|d| fixed(&d[imp], 3)).sum();
    assert_eq!(booked, energy_wh, "lane {lane}: daily energy vs registers");
    assert!(days.iter().all(|d| !d[imp].starts_with('-')));
    report
}

#[test]
fn sigkill_in_a_loop_never_corrupts_loses_at_most_ten_seconds_and_keeps_registers_exact() {
    let rounds = kill_rounds();
    // Ten lanes in parallel (one heavy-ingest lane, nine at the meter's pace, which mostly
    // sleep), so twenty kills take about as long as two.
    let lanes = 10.min(rounds);
    let reports: Vec<LaneReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..lanes)
            .map(|lane| {
                let share = rounds / lanes + usize::from(lane < rounds % lanes);
                s.spawn(move || kill_loop_lane(lane as u64, share, lane != 0))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("lane finished"))
            .collect()
    });
    let total: usize = reports.iter().map(|r| r.rounds).sum();
    assert_eq!(total, rounds);
    let worst = reports.iter().map(|r| r.worst_missing).max().unwrap_or(0);
    let readings: usize = reports.iter().map(|r| r.readings).sum();
    eprintln!(
        "sigkill loop: {total} kills, {readings} readings checked exactly, \
         worst loss {worst} s of samples (bound 10 s + the telegram in flight)"
    );
    assert!(readings > 0, "some checkpoints happened");
}

#[test]
fn a_second_collector_is_refused_while_readers_keep_working() {
    let env = Env::new();
    env.init();
    let mut first = env
        .cmd(&[
            "collect",
            "--source",
            &format!("demo:{SEED}?pace=real&start={T0}"),
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("first collector");
    // Wait until the first collector holds the vault ("collecting from ...").
    let mut line = String::new();
    let mut stderr = BufReader::new(first.stderr.take().expect("stderr"));
    stderr.read_line(&mut line).expect("first collector speaks");
    assert!(line.starts_with("collecting from demo meter"), "{line}");
    for args in [
        vec!["collect", "--source", "demo:1?pace=fast&count=10"],
        vec!["import", "/dev/null"],
    ] {
        let out = env.run(&args);
        let err = system::assert_clear_failure(&out, "second writer");
        assert!(err.contains("already writing to this vault"), "{err}");
    }
    // Readers work alongside the writer.
    let v = env.verify();
    assert!(v.success, "{}", v.text);
    env.ok(&["export", "--resolution", "raw"]);
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    // The lock dies with its holder: the next collector works at once.
    env.ok(&[
        "collect",
        "--source",
        &format!("demo:{SEED}?pace=fast&start={T0}&count=5"),
    ]);
}

#[test]
fn a_wrong_passphrase_is_refused_by_every_command_and_changes_nothing() {
    let env = Env::new();
    env.init();
    env.ok(&[
        "collect",
        "--source",
        &format!("demo:{SEED}?pace=fast&start={T0}&count=600"),
    ]);
    let before = env.ok(&["export", "--resolution", "raw"]);
    let backup = env.path("b.backup");
    let commands: Vec<Vec<&str>> = vec![
        vec!["verify"],
        vec!["export", "--resolution", "raw"],
        vec!["collect", "--source", "demo:1?pace=fast&count=10"],
        vec!["import", "/dev/null"],
        vec!["backup", "--out", backup.to_str().expect("utf-8")],
        vec!["passwd"],
    ];
    for args in &commands {
        let mut c = env.cmd_with("Correct horse", args);
        c.env("HEARTH_NEW_PASSPHRASE", "attacker words");
        let out = c.output().expect("hearth runs");
        let err = system::assert_clear_failure(&out, &format!("{args:?}"));
        assert!(err.contains("wrong passphrase"), "{args:?}: {err}");
    }
    assert!(
        !backup.exists(),
        "no backup written with a wrong passphrase"
    );
    assert_eq!(env.ok(&["export", "--resolution", "raw"]), before);
}

/// Reads or changes the vault's SQLite file with Python's sqlite3 module (the test crate has
/// no SQLite binding of its own). Returns stdout.
fn python_sqlite(db: &std::path::Path, code: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\n{code}\ndb.commit()\ndb.close()"
        ))
        .arg(db)
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn a_damaged_chunk_is_reported_and_every_other_hour_stays_readable() {
    let env = Env::new();
    env.init();
    // Three UTC hours: 12:00, 13:00, 14:00.
    env.ok(&[
        "collect",
        "--source",
        &format!("demo:{SEED}?pace=fast&start={T0}&count=10800"),
    ]);
    let before = system::csv_rows(&env.ok(&["export", "--resolution", "raw"]));
    assert_eq!(before.len(), 10_800);
    // Find the 13:00 chunk's sealed bytes, then flip one in the middle of the file itself,
    // as a bad disk sector would.
    let hex = python_sqlite(
        &env.vault,
        &format!(
            "print(db.execute('SELECT hex(sealed) FROM chunk WHERE res = 0 AND window_start = {}').fetchone()[0])",
            T0 + 3600
        ),
    );
    let sealed: Vec<u8> = (0..hex.trim().len() / 2)
        .map(|i| u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    assert!(sealed.len() > 200, "a sealed hour is more than a few bytes");
    let mut file = std::fs::read(&env.vault).expect("vault bytes");
    // A 32-byte piece of the ciphertext found exactly once (the blob may span pages).
    let at = (41..sealed.len() - 32)
        .step_by(16)
        .find_map(|off| {
            let needle = &sealed[off..off + 32];
            let mut hits = file.windows(32).enumerate().filter(|(_, w)| *w == needle);
            match (hits.next(), hits.next()) {
                (Some((pos, _)), None) => Some(pos),
                _ => None,
            }
        })
        .expect("the sealed chunk is in the file");
    file[at + 7] ^= 0x20;
    std::fs::write(&env.vault, &file).expect("damaged vault written");

    let v = env.verify();
    assert!(!v.success, "verify fails on damage: {}", v.text);
    assert_eq!(v.damaged.len(), 1, "{}", v.text);
    assert!(
        v.damaged[0].contains("2026-01-15T13:00:00"),
        "{}",
        v.damaged[0]
    );
    assert_eq!(v.readings, 7200, "the two other hours verify: {}", v.text);
    // The hours around it export exactly as before.
    let first = system::csv_rows(&env.ok(&[
        "export",
        "--resolution",
        "raw",
        "--to",
        "2026-01-15T13:00:00Z",
    ]));
    assert_eq!(first, before[..3600]);
    let third = system::csv_rows(&env.ok(&[
        "export",
        "--resolution",
        "raw",
        "--from",
        "2026-01-15T14:00:00Z",
    ]));
    assert_eq!(third, before[7200..]);
    // Asking for the damaged hour itself names it instead of inventing readings.
    let out = env.run(&["export", "--resolution", "raw"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an export through damage says so");
    assert!(
        err.contains("damaged") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn a_vault_from_a_newer_hearth_or_not_a_vault_at_all_is_a_clear_error() {
    let env = Env::new();
    env.init();
    env.ok(&[
        "collect",
        "--source",
        &format!("demo:{SEED}?pace=fast&start={T0}&count=60"),
    ]);
    python_sqlite(&env.vault, "db.execute('UPDATE header SET format = 3')");
    for args in [
        vec!["verify"],
        vec!["collect", "--source", "demo:1?pace=fast&count=1"],
    ] {
        let err = system::assert_clear_failure(&env.run(&args), "newer vault");
        assert!(
            err.contains("format version 3; this Hearth reads up to version 2"),
            "{err}"
        );
    }
    // Put back, it opens again untouched.
    python_sqlite(&env.vault, "db.execute('UPDATE header SET format = 2')");
    assert_eq!(env.verify().readings, 60);

    // Files that are not vaults: text, random bytes, a vault cut in half.
    let text = env.path("notes.txt");
    std::fs::write(&text, "shopping list\n").expect("written");
    let noise = env.path("noise.bin");
    let mut rng = Lcg(42);
    std::fs::write(
        &noise,
        (0..8192)
            .map(|_| rng.range(0, 256) as u8)
            .collect::<Vec<u8>>(),
    )
    .expect("written");
    let cut = env.path("cut.hearth");
    let bytes = std::fs::read(&env.vault).expect("vault");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("written");
    for file in [&text, &noise, &cut] {
        let mut c = Command::new(system::hearth());
        c.arg("--vault").arg(file).arg("verify");
        system::scrub(&mut c);
        let out = c.env("HEARTH_PASSPHRASE", PW).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!err.contains("panicked"), "{}: {err}", file.display());
        if file == &cut && out.status.success() {
            // A vault cut in half may still open (SQLite reads what is there), but it must
            // not pass as whole.
            let v = system::Verify::parse(&out);
            assert!(v.readings < 60, "{}", v.text);
        } else {
            system::assert_clear_failure(&out, &file.display().to_string());
            assert!(
                err.contains("not a Hearth vault"),
                "{}: {err}",
                file.display()
            );
        }
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_nothing_earlier_is_lost() {
    if !system::can_mount_tmpfs() {
        eprintln!(
            "SKIPPED LOUDLY: no mount namespace/tmpfs here (needs root); disk full unchecked"
        );
        return;
    }
    let env = Env::new();
    std::fs::create_dir(env.path("mnt")).expect("mount point");
    let script = format!(
        r#"
mount -t tmpfs -o size=2m tmpfs "$DIR/mnt"
V="$DIR/mnt/v.hearth"
"$HEARTH" --vault "$V" init --time-zone Europe/Amsterdam --kdf-memory-kib 8 --kdf-iterations 1
"$HEARTH" --vault "$V" collect --source "demo:{SEED}?pace=fast&start={T0}&count=3600"
"$HEARTH" --vault "$V" export --resolution raw > "$DIR/before.csv"
dd if=/dev/zero of="$DIR/mnt/filler" bs=4k 2>/dev/null || true
truncate -s -64K "$DIR/mnt/filler"
set +e
"$HEARTH" --vault "$V" collect --source "demo:{SEED}?pace=fast&start={T0}&count=400000" 2> "$DIR/full.err"
echo "$?" > "$DIR/full.exit"
set -e
rm "$DIR/mnt/filler"
"$HEARTH" --vault "$V" verify > "$DIR/verify1.txt"
"$HEARTH" --vault "$V" export --resolution raw --to 2026-01-15T13:00:00Z > "$DIR/after.csv"
"$HEARTH" --vault "$V" collect --source "demo:{SEED}?pace=fast&start={T0}&count=600"
"$HEARTH" --vault "$V" verify > "$DIR/verify2.txt"
"#
    );
    let out = system::in_mount_namespace(env.dir.path(), &script);
    let read = |name: &str| std::fs::read_to_string(env.path(name)).unwrap_or_default();
    assert!(
        out.status.success(),
        "script failed: {}\nfull.err: {}",
        String::from_utf8_lossy(&out.stderr),
        read("full.err")
    );
    // The collector stopped with a message that names the cause.
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
    // The hour stored before the disk filled is intact, byte for byte.
    let before = system::csv_rows(&read("before.csv"));
    let after = system::csv_rows(&read("after.csv"));
    assert_eq!(before.len(), 3600);
    assert_eq!(after[..3600], before[..]);
    // After space returns: verify is clean, and collection carries on with no hole.
    let v1 = verify_text(&read("verify1.txt"));
    let v2 = verify_text(&read("verify2.txt"));
    assert_eq!(
        v1.1,
        0,
        "clean after the disk filled: {}",
        read("verify1.txt")
    );
    assert_eq!(v2.1, 0, "{}", read("verify2.txt"));
    assert!(v1.0 >= 3600, "{}", read("verify1.txt"));
    assert_eq!(v2.0, v1.0 + 600, "{}", read("verify2.txt"));
    eprintln!(
        "disk full: {} readings kept through it; collector said: {}",
        v1.0,
        err.lines().collect::<Vec<_>>().join(" / ")
    );
}

/// `(readings, damaged)` from `hearth verify`'s summary line.
fn verify_text(text: &str) -> (u64, u64) {
    let line = text
        .lines()
        .find(|l| l.contains(" records intact ("))
        .unwrap_or_else(|| panic!("no summary in {text}"));
    let readings = line
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let damaged = line
        .rsplit(", ")
        .next()
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    (readings, damaged)
}

#[test]
fn a_read_only_directory_is_a_clear_error_and_the_vault_survives_it() {
    if !system::can_mount_tmpfs() {
        eprintln!(
            "SKIPPED LOUDLY: no mount namespace/tmpfs here (needs root); read-only unchecked"
        );
        return;
    }
    let env = Env::new();
    std::fs::create_dir(env.path("mnt")).expect("mount point");
    let script = format!(
        r#"
mount -t tmpfs -o size=4m tmpfs "$DIR/mnt"
V="$DIR/mnt/v.hearth"
"$HEARTH" --vault "$V" init --time-zone Europe/Amsterdam --kdf-memory-kib 8 --kdf-iterations 1
"$HEARTH" --vault "$V" collect --source "demo:{SEED}?pace=fast&start={T0}&count=1800"
mount -o remount,ro "$DIR/mnt"
set +e
"$HEARTH" --vault "$V" collect --source "demo:{SEED}?pace=fast&start={T0}&count=60" 2> "$DIR/collect.err"
echo "$?" > "$DIR/collect.exit"
"$HEARTH" --vault "$DIR/mnt/new.hearth" init --kdf-memory-kib 8 --kdf-iterations 1 2> "$DIR/init.err"
echo "$?" > "$DIR/init.exit"
"$HEARTH" --vault "$V" verify > "$DIR/ro-verify.txt" 2> "$DIR/ro-verify.err"
echo "$?" > "$DIR/ro-verify.exit"
set -e
mount -o remount,rw "$DIR/mnt"
"$HEARTH" --vault "$V" verify > "$DIR/verify.txt"
"#
    );
    let out = system::in_mount_namespace(env.dir.path(), &script);
    let read = |name: &str| std::fs::read_to_string(env.path(name)).unwrap_or_default();
    assert!(
        out.status.success(),
        "script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (what, exit, err) in [
        ("collect", read("collect.exit"), read("collect.err")),
        ("init", read("init.exit"), read("init.err")),
    ] {
        assert_eq!(exit.trim(), "1", "{what} on a read-only directory: {err}");
        assert!(
            err.starts_with("hearth: ") && !err.contains("panicked"),
            "{what}: {err}"
        );
        eprintln!(
            "read-only {what}: {}",
            err.lines().collect::<Vec<_>>().join(" / ")
        );
    }
    // Reading a vault on read-only media: either it reads, or it says why.
    let ro_err = read("ro-verify.err");
    assert!(!ro_err.contains("panicked"), "{ro_err}");
    if read("ro-verify.exit").trim() == "0" {
        assert_eq!(verify_text(&read("ro-verify.txt")), (1800, 0));
    } else {
        assert!(ro_err.starts_with("hearth: "), "{ro_err}");
        eprintln!(
            "read-only verify: {}",
            ro_err.lines().collect::<Vec<_>>().join(" / ")
        );
    }
    assert_eq!(verify_text(&read("verify.txt")), (1800, 0));
}
