//! The SIGKILL loop of `write_only_sigkill.rs` for a collector box (issue 21 item 5): `hearth
//! collect --write-only --folder DIR` (no vault, no passphrase, no keyring) is killed with
//! SIGKILL at random moments, mid-write or not; after each kill `hearth merge DIR` takes the
//! folder in (a `.partial` leftover is left alone), the vault verifies clean, misses at most
//! the last 10 s of samples, and in the end holds every reading the demo meter sent exactly,
//! with daily energy equal to the register differences.
//!
//! `HEARTH_KILL_ROUNDS` sets how many kills (default 8, about 45 s).

mod system;

use hearth_meter_io::simulator::Simulator;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use system::{Env, Lcg, SEED, T0, column, fixed, hearth, scrub, unix};

fn kill_rounds() -> usize {
    std::env::var("HEARTH_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(8)
}

/// One vault, its write-only collector killed `rounds` times at the meter's pace. Returns the
/// largest number of samples sent but not stored after a kill, and the readings checked.
fn lane(lane: u64, rounds: usize) -> (i64, usize) {
    let env = Env::new();
    env.init();
    let folder = env.path("Sync");
    std::fs::create_dir(&folder).expect("folder");
    let folder_arg = folder.to_str().expect("utf-8 path").to_string();
    env.ok(&["merge", &folder_arg]);
    let mut rng = Lcg(0x5851_F42D_4C95_7F2D ^ (lane + 1));
    let mut segments: Vec<i64> = Vec::new();
    let mut last: Option<i64> = None;
    let mut worst = 0;
    for round in 0..rounds {
        // A write-only collector cannot see where the vault ends: it is told.
        let resume = last.map_or(T0, |l| l + 1);
        let delay = Duration::from_millis(rng.range(1_000, 24_000));
        let began = Instant::now();
        let mut c = Command::new(hearth());
        c.args([
            "collect",
            "--write-only",
            "--folder",
            &folder_arg,
            "--source",
            &format!("demo:{SEED}?pace=real&start={resume}"),
        ]);
        scrub(&mut c);
        c.env("XDG_DATA_HOME", env.path("box"));
        let mut child = c
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("hearth collect starts");
        std::thread::sleep(delay);
        let elapsed = began.elapsed();
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reaped");
        assert!(
            !status.success(),
            "lane {lane} round {round}: ended by itself"
        );
        // The laptop merges what the box left: nothing refused, nothing cut short.
        let merged = env.ok(&["merge", &folder_arg]);
        assert!(
            !merged.contains("refused") && !merged.contains("cut short"),
            "lane {lane} round {round}: {merged}"
        );
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
        let sent_last = resume + elapsed.as_secs() as i64;
        let missing = sent_last - stored_last.unwrap_or(resume - 1);
        assert!(
            missing <= 11,
            "lane {lane} round {round}: {missing} s of samples lost after {elapsed:?}"
        );
        worst = worst.max(missing);
        last = stored_last;
    }
    let Some(last) = last else {
        return (worst, 0);
    };
    // Every stored reading is what the demo meter sent, second after second.
    let rows = env.raw_rows();
    let mut rows = rows.iter();
    let width = hearth_meter::record::COLUMNS.len();
    let imp = column("import_kwh");
    let (mut energy_wh, mut checked) = (0i64, 0usize);
    for (i, &start) in segments.iter().enumerate() {
        let end = segments.get(i + 1).map_or(last, |next| next - 1);
        let mut sim = Simulator::new(SEED, start);
        let (mut first_wh, mut last_wh) = (None, 0);
        for t in start..=end {
            sim.step();
            let want = sim.reading().csv_row(false);
            let got = rows
                .next()
                .unwrap_or_else(|| panic!("lane {lane}: no reading at {t}"));
            assert_eq!(unix(&got[0]), t, "lane {lane}: a hole in the seconds");
            assert!(
                got.len() == width + 1 && got[1..width].iter().zip(&want[1..]).all(|(g, w)| g == w),
                "lane {lane}: reading at {t} differs:\n{got:?}\n{want:?}"
            );
            last_wh = fixed(&want[imp], 3);
            first_wh.get_or_insert(last_wh);
            checked += 1;
        }
        energy_wh += last_wh - first_wh.unwrap_or(last_wh);
    }
    assert!(
        rows.next().is_none(),
        "lane {lane}: readings after the last"
    );
    // Never a register lost: the days hold exactly the register differences.
    let days = system::csv_rows(&env.ok(&["export", "--resolution", "1d"]));
    let booked: i64 = days.iter().map(|d| fixed(&d[imp], 3)).sum();
    assert_eq!(booked, energy_wh, "lane {lane}: daily energy vs registers");
    (worst, checked)
}

#[test]
fn sigkill_of_a_collector_box_loses_at_most_ten_seconds_and_never_a_register() {
    let rounds = kill_rounds();
    let lanes = 4.min(rounds);
    let results: Vec<(i64, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..lanes)
            .map(|l| {
                let share = rounds / lanes + usize::from(l < rounds % lanes);
                s.spawn(move || lane(l as u64, share))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("lane finished"))
            .collect()
    });
    let worst = results.iter().map(|r| r.0).max().unwrap_or(0);
    let checked: usize = results.iter().map(|r| r.1).sum();
    eprintln!(
        "collector box sigkill loop: {rounds} kills, {checked} readings checked exactly, worst \
         loss {worst} s of samples (bound 10 s + the telegram in flight)"
    );
    assert!(checked > 0, "some blocks were sealed");
}
