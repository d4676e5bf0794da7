//! Bad input through the whole system (capture or meter → `hearth` → vault → CSV): garbage,
//! CRC errors, a cut telegram, noise at the wrong baud rate, a meter clock in the future,
//! readings out of order, a gap while Hearth was off, a DST night, a meter swap and a
//! register rollover. Each has a defined outcome checked to the reading and the watt-hour.

mod system;

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_meter_io::simulator::Simulator;
use system::{Env, Lcg, SEED, T0, column, demo_rows, fixed, unix};

/// The demo meter's telegrams from `start`, one per second.
fn telegrams(start: i64, n: usize) -> Vec<Vec<u8>> {
    let mut sim = Simulator::new(SEED, start);
    (0..n).map(|_| sim.next_telegram()).collect()
}

fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let path = env.path(name);
    std::fs::write(&path, bytes).expect("file written");
    path.to_str().expect("utf-8 path").to_string()
}

/// The `estimated` column of an interval export.
fn estimated(row: &[String]) -> bool {
    row[hearth_meter::record::COLUMNS.len()] == "true"
}

#[test]
fn garbage_crc_errors_and_a_cut_telegram_cost_only_themselves() {
    let env = Env::new();
    env.init();
    let tel = telegrams(T0, 600);
    let mut rng = Lcg(7);
    let mut bytes = Vec::new();
    for (i, t) in tel.iter().enumerate() {
        if i % 50 == 25 {
            // Line noise between telegrams: any byte, including `/` and `!`.
            bytes.extend((0..rng.range(1, 300)).map(|_| rng.range(0, 256) as u8));
        }
        let mut t = t.clone();
        if i == 100 {
            // One digit changed in the import register: the CRC no longer matches.
            let at = t
                .windows(10)
                .position(|w| w == b"1-0:1.8.1(")
                .expect("register")
                + 12;
            t[at] = if t[at] == b'9' { b'0' } else { t[at] + 1 };
        }
        if i == 599 {
            t.truncate(t.len() / 2); // the capture ends mid-telegram
        }
        bytes.extend(t);
    }
    let file = write(&env, "noisy.p1", &bytes);
    let out = env.run(&["collect", "--source", &format!("file:{file}")]);
    system::assert_success(&out, &["collect", "file"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rejected: checksum"), "{err}");
    // Every other telegram is stored exactly: 600 - the CRC error - the cut one.
    let rows = env.raw_rows();
    let want: Vec<Vec<String>> = demo_rows(SEED, T0, 599)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 100)
        .map(|(_, r)| r)
        .collect();
    assert_eq!(rows.len(), 598);
    let width = hearth_meter::record::COLUMNS.len();
    for (got, want) in rows.iter().zip(&want) {
        assert_eq!(got[1..width], want[1..], "at {}", got[0]);
    }
}

#[test]
fn noise_at_the_wrong_baud_rate_stores_nothing_and_fails_saying_so() {
    let env = Env::new();
    env.init();
    // What a 115200 baud meter looks like read at 9600 7E1: bytes with the high bit cleared
    // and smeared; modelled as every byte of real telegrams shifted and masked.
    let noise: Vec<u8> = telegrams(T0, 60)
        .concat()
        .iter()
        .map(|b| (b.rotate_left(3) & 0x7f) | 0x01)
        .collect();
    let file = write(&env, "wrong-baud.bin", &noise);
    let out = env.run(&["import", &file]);
    // Nothing invented, nothing stored, and not a success either: a script must notice (#17).
    assert_eq!(out.status.code(), Some(1), "import of noise");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("imported 0 readings"), "{err}");
    assert!(
        err.contains("wrong-baud.bin: nothing imported: no meter reading found in it"),
        "{err}"
    );
    assert_eq!(env.verify().readings, 0);
}

#[test]
fn a_meter_clock_far_in_the_future_is_refused_and_counted() {
    let env = Env::new();
    env.init();
    let now = jiff::Timestamp::now().as_second();
    // A live meter whose clock says the day after tomorrow.
    let source = format!("demo:{SEED}?pace=real&start={}&count=3", now + 2 * 86_400);
    let out = env.run(&["collect", "--source", &source]);
    system::assert_success(&out, &["collect", "future"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0 readings stored") && err.contains("3 dated in the future (refused)"),
        "{err}"
    );
    assert_eq!(env.verify().readings, 0);
    // A meter whose clock is right is stored after it.
    let out = env.run(&[
        "collect",
        "--source",
        &format!("demo:{SEED}?pace=real&count=2"),
    ]);
    system::assert_success(&out, &["collect", "now"]);
    assert_eq!(env.verify().readings, 2);
}

#[test]
fn readings_arriving_out_of_order_are_merged_exactly() {
    let env = Env::new();
    env.init();
    let tel = telegrams(T0, 3600);
    let late = write(&env, "second-half.p1", &tel[1800..].concat());
    let early = write(&env, "first-half.p1", &tel[..1800].concat());
    env.ok(&["import", &late]);
    env.ok(&["import", &early]); // older than everything stored: merged into its hour
    env.ok(&["import", &early]); // and again: duplicates only
    let rows = env.raw_rows();
    let want = demo_rows(SEED, T0, 3600);
    assert_eq!(rows.len(), 3600);
    let width = hearth_meter::record::COLUMNS.len();
    for (i, (got, want)) in rows.iter().zip(&want).enumerate() {
        assert_eq!(unix(&got[0]), T0 + i as i64);
        assert_eq!(got[1..width], want[1..]);
    }
    // The hour's energy is the register difference, as if it had come in order.
    let imp = column("import_kwh");
    let hours = system::csv_rows(&env.ok(&["export", "--resolution", "1h"]));
    let booked: i64 = hours.iter().map(|h| fixed(&h[imp], 3)).sum();
    assert_eq!(booked, fixed(&want[3599][imp], 3) - fixed(&want[0][imp], 3));
    assert!(hours.iter().all(|h| !estimated(h)));
}

#[test]
fn an_hour_with_hearth_off_is_spread_from_the_registers_and_flagged() {
    let env = Env::new();
    env.init();
    // 80 minutes of one meter, with the middle hour missing (cable out, PC off).
    let tel = telegrams(T0, 4800);
    let mut bytes = tel[..600].concat();
    bytes.extend(tel[4200..].concat());
    let file = write(&env, "gap.p1", &bytes);
    env.ok(&["import", &file]);
    assert_eq!(env.verify().readings, 1200);
    let want = demo_rows(SEED, T0, 4800);
    let imp = column("import_kwh");
    // Quarter hours in local time (UTC+1): 13:00, 13:15, ... 14:15.
    let quarters = system::csv_rows(&env.ok(&["export", "--resolution", "15m"]));
    let times: Vec<&str> = quarters.iter().map(|q| q[0].as_str()).collect();
    assert_eq!(
        times,
        [
            "2026-01-15T13:00:00+01:00",
            "2026-01-15T13:15:00+01:00",
            "2026-01-15T13:30:00+01:00",
            "2026-01-15T13:45:00+01:00",
            "2026-01-15T14:00:00+01:00",
            "2026-01-15T14:15:00+01:00",
        ]
    );
    // Exact in total: the register difference over the whole span, gap included.
    let booked: i64 = quarters.iter().map(|q| fixed(&q[imp], 3)).sum();
    assert_eq!(booked, fixed(&want[4799][imp], 3) - fixed(&want[0][imp], 3));
    // Every quarter the gap touches is flagged; the last one (14:15-14:20, all measured) not.
    let flags: Vec<bool> = quarters.iter().map(|q| estimated(q)).collect();
    assert_eq!(flags, [true, true, true, true, true, false]);
}

#[test]
fn the_autumn_dst_night_has_two_two_oclock_hours() {
    let env = Env::new();
    env.init();
    // 2026-10-25 00:00Z = 02:00 CEST; at 01:00Z clocks go back to 02:00 CET.
    let start = 1_792_886_400;
    env.ok(&[
        "collect",
        "--source",
        &format!("demo:{SEED}?pace=fast&start={start}&count=10800"),
    ]);
    let hours = system::csv_rows(&env.ok(&["export", "--resolution", "1h"]));
    let times: Vec<&str> = hours.iter().map(|h| h[0].as_str()).collect();
    assert_eq!(
        times,
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ]
    );
    let want = demo_rows(SEED, start, 10_800);
    let imp = column("import_kwh");
    let booked: i64 = hours.iter().map(|h| fixed(&h[imp], 3)).sum();
    assert_eq!(
        booked,
        fixed(&want[10_799][imp], 3) - fixed(&want[0][imp], 3)
    );
    // The raw readings keep the meter's own offsets across the change.
    let raw = env.raw_rows();
    assert_eq!(raw[3599][0], "2026-10-25T02:59:59+02:00");
    assert_eq!(raw[3600][0], "2026-10-25T02:00:00+01:00");
}

/// JSON Lines of readings at T0, T0+1, ... with the given import registers (Wh).
fn register_series(registers: impl IntoIterator<Item = i64>) -> String {
    let mut out = String::new();
    for (i, wh) in registers.into_iter().enumerate() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(T0 + i as i64));
        r.set(Quantity::ImportWh, wh);
        r.set(Quantity::ImportW, 3600);
        out.push_str(&r.to_json());
        out.push('\n');
    }
    out
}

#[test]
fn a_meter_swap_books_no_negative_energy() {
    let env = Env::new();
    env.init();
    // 60 s on the old meter at 1 Wh/s, then a new meter starting at 500 Wh at 2 Wh/s.
    let old = (0..60).map(|i| 1_000_000 + i);
    let new = (0..60).map(|i| 500 + 2 * i);
    let file = write(
        &env,
        "swap.jsonl",
        register_series(old.chain(new)).as_bytes(),
    );
    env.ok(&["import", &file]);
    let hours = system::csv_rows(&env.ok(&["export", "--resolution", "1h"]));
    assert_eq!(hours.len(), 1);
    // 59 steps of 1 Wh + nothing for the swap + 59 steps of 2 Wh = 177 Wh.
    assert_eq!(hours[0][column("import_kwh")], "0.177");
}

#[test]
fn a_register_rolling_over_books_no_spike_and_no_negative_energy() {
    let env = Env::new();
    env.init();
    // A DSMR register holds 999999.999 kWh; at 1 Wh/s it wraps to 0 after 50 s here.
    let regs = (0..120).map(|i| (999_999_950 + i) % 1_000_000_000);
    let file = write(&env, "rollover.jsonl", register_series(regs).as_bytes());
    env.ok(&["import", &file]);
    let hours = system::csv_rows(&env.ok(&["export", "--resolution", "1h"]));
    assert_eq!(hours.len(), 1);
    // 119 steps of 1 Wh, minus the one across the wrap (treated like a meter swap: a new
    // segment, so that second's 1 Wh is not booked) = 118 Wh.
    assert_eq!(hours[0][column("import_kwh")], "0.118");
}
