//! The simulated meter: valid DSMR 5.0.2 bytes, deterministic, registers that are exactly the
//! integral of the reported power, tariffs and time stamps by Dutch rules, a plausible day.

mod common;

use common::{Telegram, fixed, parse};
use hearth_meter::Quantity;
use hearth_meter_io::simulator::{Household, Simulator};

/// 2026-01-15T00:00:00+01:00 (a Thursday) = 2026-01-14T23:00:00Z.
const JAN_15_LOCAL_MIDNIGHT: i64 = 1_768_431_600;
/// 2026-06-20T00:00:00+02:00 (a Saturday) = 2026-06-19T22:00:00Z.
const JUN_20_LOCAL_MIDNIGHT: i64 = 1_781_906_400;

fn telegram(sim: &mut Simulator) -> Telegram {
    let bytes = sim.next_telegram();
    parse(&bytes).unwrap_or_else(|e| panic!("{e}:\n{}", String::from_utf8_lossy(&bytes)))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let mut a = Simulator::new(7, JAN_15_LOCAL_MIDNIGHT);
    let mut b = Simulator::new(7, JAN_15_LOCAL_MIDNIGHT);
    let mut c = Simulator::new(8, JAN_15_LOCAL_MIDNIGHT);
    let mut differs = false;
    for _ in 0..3_600 {
        let ta = a.next_telegram();
        assert_eq!(ta, b.next_telegram());
        differs |= ta != c.next_telegram();
    }
    assert!(differs);
}

#[test]
fn every_telegram_is_valid_dsmr5_with_a_good_crc() {
    let mut sim = Simulator::new(3, JAN_15_LOCAL_MIDNIGHT + 17 * 3600);
    for i in 0..3_600 {
        let t = telegram(&mut sim);
        assert_eq!(t.header, "/HTH5\\2HEARTH-SIMULATED");
        assert_eq!(t.value("1-3:0.2.8"), "50");
        assert_eq!(t.value("0-1:24.1.0"), "003");
        // 2026-01-15 17:00:00 local plus i seconds, winter time.
        let expected = JAN_15_LOCAL_MIDNIGHT + 17 * 3600 + i;
        assert_eq!(t.time().unix, expected);
        assert!(t.value("0-0:1.0.0").ends_with('W'));
        for obis in ["1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0"] {
            let dv = fixed(t.value(obis));
            assert!((2_200..=2_400).contains(&dv), "{obis} = {dv} dV");
        }
    }
    // A damaged byte breaks the CRC (the check above can fail).
    let mut bytes = sim.next_telegram();
    bytes[40] ^= 0x01;
    assert!(parse(&bytes).unwrap_err().starts_with("CRC"));
}

#[test]
fn registers_are_exactly_the_integral_of_reported_power() {
    // A summer Monday morning with solar panels, 05:00-10:00: import and export both move,
    // across the 07:00 switch from tariff 1 to tariff 2.
    let home = Household {
        solar_kwp: 4.2,
        ..Household::typical(11)
    };
    let monday_5h = JUN_20_LOCAL_MIDNIGHT + 2 * 86_400 + 5 * 3600;
    let mut sim = Simulator::with_household(11, monday_5h, home);
    let s0 = sim.last().clone();
    // Watt-seconds per tariff, starting from whole watt-hours.
    let mut import_ws = s0.import_wh.map(|wh| wh * 3600);
    let mut export_ws = s0.export_wh.map(|wh| wh * 3600);
    let mut seen_tariff = [false; 2];
    let mut exported = false;
    for _ in 0..5 * 3600 {
        let t = telegram(&mut sim);
        let tariff = t.value("0-0:96.14.0").parse::<usize>().unwrap();
        seen_tariff[tariff - 1] = true;
        let import_w = t.fixed("1-0:1.7.0");
        let export_w = t.fixed("1-0:2.7.0");
        assert!(import_w == 0 || export_w == 0);
        exported |= export_w > 0;
        import_ws[tariff - 1] += import_w;
        export_ws[tariff - 1] += export_w;
        assert_eq!(t.fixed("1-0:1.8.1"), import_ws[0] / 3600);
        assert_eq!(t.fixed("1-0:1.8.2"), import_ws[1] / 3600);
        assert_eq!(t.fixed("1-0:2.8.1"), export_ws[0] / 3600);
        assert_eq!(t.fixed("1-0:2.8.2"), export_ws[1] / 3600);
        // Per-phase values add up to the total (net over the phases).
        let phases: i64 = ["1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0"]
            .iter()
            .map(|o| t.fixed(o))
            .sum::<i64>()
            - ["1-0:22.7.0", "1-0:42.7.0", "1-0:62.7.0"]
                .iter()
                .map(|o| t.fixed(o))
                .sum::<i64>();
        assert_eq!(phases, import_w - export_w);
    }
    assert_eq!(seen_tariff, [true, true]);
    assert!(exported, "a June day with 4.2 kWp exports");
}

#[test]
fn tariff_switches_at_seven_and_twenty_three_on_weekdays_only() {
    let at = |local_offset_s: i64| {
        // Thursday 15 January 2026 plus an offset in seconds.
        let mut sim = Simulator::new(1, JAN_15_LOCAL_MIDNIGHT + local_offset_s);
        telegram(&mut sim).value("0-0:96.14.0").to_owned()
    };
    assert_eq!(at(7 * 3600 - 1), "0001");
    assert_eq!(at(7 * 3600), "0002");
    assert_eq!(at(23 * 3600 - 1), "0002");
    assert_eq!(at(23 * 3600), "0001");
    // Saturday 17 January at noon: low tariff all weekend.
    assert_eq!(at(2 * 86_400 + 12 * 3600), "0001");
}

#[test]
fn timestamps_follow_both_dst_nights() {
    // 2026-03-29T00:59:59Z is 01:59:59 CET; one second later it is 03:00:00 CEST.
    let mut sim = Simulator::new(5, 1_774_745_999);
    assert_eq!(telegram(&mut sim).value("0-0:1.0.0"), "260329015959W");
    assert_eq!(telegram(&mut sim).value("0-0:1.0.0"), "260329030000S");
    // 2026-10-25T00:59:59Z is 02:59:59 CEST; then 02:00:00 CET again.
    let mut sim = Simulator::new(5, 1_792_889_999);
    assert_eq!(telegram(&mut sim).value("0-0:1.0.0"), "261025025959S");
    assert_eq!(telegram(&mut sim).value("0-0:1.0.0"), "261025020000W");
}

#[test]
fn gas_is_captured_every_five_minutes_and_adds_up() {
    // 05:00-09:00 on a January morning: heating on, a shower.
    let mut sim = Simulator::new(9, JAN_15_LOCAL_MIDNIGHT + 5 * 3600);
    let start_dm3 = sim.last().gas_dm3;
    // The household's gas in millilitres, second by second, from whole litres.
    let mut total_ml = start_dm3 * 1000;
    let mut last_capture = String::new();
    let mut captures = 0;
    for _ in 0..4 * 3600 {
        let t = telegram(&mut sim);
        total_ml += i64::from(sim.last().gas_ml);
        let g = t.values("0-1:24.2.1");
        let stamp = &g[0];
        // Capture times are whole five-minute marks.
        assert_eq!(&stamp[10..12], "00");
        assert!(stamp[8..10].parse::<u32>().unwrap() % 5 == 0);
        if *stamp != last_capture {
            captures += 1;
            last_capture = stamp.clone();
            // At a capture the register shows the whole litres burnt so far.
            assert_eq!(t.time().unix % 300, 0);
            assert_eq!(fixed(&g[1]), total_ml / 1000);
        }
    }
    assert_eq!(captures, 48);
    let used_m3 = (sim.last().gas_dm3 - start_dm3) as f64 / 1000.0;
    assert!(
        (0.5..4.0).contains(&used_m3),
        "a January morning heats with {used_m3} m3"
    );
    // A whole January day: some 3-12 m3 in a Dutch home heated by gas.
    let mut sim = Simulator::new(9, JAN_15_LOCAL_MIDNIGHT);
    let start_dm3 = sim.last().gas_dm3;
    for _ in 0..86_400 {
        sim.step();
    }
    let used_m3 = (sim.last().gas_dm3 - start_dm3) as f64 / 1000.0;
    assert!(
        (3.0..12.0).contains(&used_m3),
        "a January day heats with {used_m3} m3"
    );
}

fn day_import_kwh(seed: u64, start: i64, home: Option<Household>) -> (f64, f64) {
    let mut sim = match home {
        Some(h) => Simulator::with_household(seed, start, h),
        None => Simulator::new(seed, start),
    };
    let before = sim.last().clone();
    for _ in 0..86_400 {
        sim.step();
    }
    let after = sim.last();
    let import = (after.import_wh.iter().sum::<i64>() - before.import_wh.iter().sum::<i64>())
        as f64
        / 1000.0;
    let export = (after.export_wh.iter().sum::<i64>() - before.export_wh.iter().sum::<i64>())
        as f64
        / 1000.0;
    (import, export)
}

#[test]
fn a_day_of_typical_households_is_plausible() {
    for seed in 1..=8 {
        let (import, _) = day_import_kwh(seed, JAN_15_LOCAL_MIDNIGHT, None);
        assert!(
            (5.0..15.0).contains(&import),
            "seed {seed}: January day imports {import} kWh"
        );
        let home = Household {
            solar_kwp: 3.6,
            ..Household::typical(seed)
        };
        let (import, export) = day_import_kwh(seed, JUN_20_LOCAL_MIDNIGHT, Some(home));
        assert!(
            (1.5..12.0).contains(&import) && (0.5..25.0).contains(&export),
            "seed {seed}: June day with solar imports {import} kWh, exports {export} kWh"
        );
    }
}

#[test]
fn an_ev_and_a_heat_pump_add_to_the_day() {
    let plain = Household {
        solar_kwp: 0.0,
        ..Household::typical(4)
    };
    let electric = Household {
        ev: true,
        heat_pump: true,
        ..plain.clone()
    };
    let (base, _) = day_import_kwh(4, JAN_15_LOCAL_MIDNIGHT, Some(plain));
    let (more, _) = day_import_kwh(4, JAN_15_LOCAL_MIDNIGHT, Some(electric));
    // EV 6-14 kWh on a weekday, heat pump some 10-25 kWh in January.
    assert!(
        more - base > 12.0,
        "EV and heat pump add {} kWh",
        more - base
    );
}

#[test]
fn sample_reading_matches_the_telegram() {
    let mut sim = Simulator::new(21, JAN_15_LOCAL_MIDNIGHT + 18 * 3600);
    for _ in 0..120 {
        let t = telegram(&mut sim);
        let r = sim.reading();
        assert_eq!(r.time, Some(t.time()));
        assert_eq!(r.get(Quantity::ImportT1Wh), Some(t.fixed("1-0:1.8.1")));
        assert_eq!(r.get(Quantity::ImportT2Wh), Some(t.fixed("1-0:1.8.2")));
        assert_eq!(
            r.get(Quantity::ImportWh),
            Some(t.fixed("1-0:1.8.1") + t.fixed("1-0:1.8.2"))
        );
        assert_eq!(r.get(Quantity::ImportW), Some(t.fixed("1-0:1.7.0")));
        assert_eq!(r.get(Quantity::L2Dv), Some(t.fixed("1-0:52.7.0")));
        assert_eq!(r.get(Quantity::L3Ma), Some(t.fixed("1-0:71.7.0") * 1000));
        assert_eq!(r.get(Quantity::L1ImportW), Some(t.fixed("1-0:21.7.0")));
        assert_eq!(
            r.get(Quantity::GasDm3),
            Some(fixed(&t.values("0-1:24.2.1")[1]))
        );
        assert_eq!(r.get(Quantity::PowerFailures), Some(t.fixed("0-0:96.7.21")));
        let id_hex = t.value("0-0:96.1.1");
        let id: String = (0..id_hex.len())
            .step_by(2)
            .map(|i| char::from(u8::from_str_radix(&id_hex[i..i + 2], 16).unwrap()))
            .collect();
        assert_eq!(r.meter_id.as_ref().map(|m| m.as_str()), Some(id.as_str()));
    }
}
