//! Pulse LED counting: register, debounce, power and its decay, running counts, serial formats.

use hearth_meter::pulse::{CountEvent, PulseCounter, PulseError, PulseFormat, PulseParser};
use hearth_meter::{MeterTime, Protocol, Quantity};

#[test]
fn constants_are_checked() {
    assert_eq!(PulseCounter::new(0, 0), Err(PulseError::ZeroConstant));
    assert_eq!(
        PulseCounter::new(200_000, 0),
        Err(PulseError::ConstantTooLarge(200_000))
    );
    assert!(PulseCounter::new(1000, -5).is_ok());
}

#[test]
fn the_register_is_exact() {
    // 1000 imp/kWh: one pulse is one Wh.
    let mut c = PulseCounter::new(1000, 12_345_678).unwrap();
    for i in 0..1234u64 {
        assert!(c.on_pulse(i * 1000));
    }
    assert_eq!(c.register_wh(), 12_345_678 + 1234);
    // 800 imp/kWh: one pulse is 1.25 Wh; 5 pulses = 6.25 Wh → 6, 8 pulses = exactly 10.
    let mut c = PulseCounter::new(800, 0).unwrap();
    for i in 0..5u64 {
        c.on_pulse(i * 10_000);
    }
    assert_eq!(c.register_wh(), 6);
    for i in 5..8u64 {
        c.on_pulse(i * 10_000);
    }
    assert_eq!(c.register_wh(), 10);
    // 3 imp/kWh over a million pulses: 10^6 × 1000 / 3 = 333,333,333.3 Wh → 333,333,333.
    let mut c = PulseCounter::new(3, 0).unwrap();
    for i in 0..1_000_000u64 {
        c.on_pulse(i * 10_000_000);
    }
    assert_eq!(c.register_wh(), 333_333_333);
}

#[test]
fn power_from_the_interval() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    assert_eq!(c.power_w(0), None);
    c.on_pulse(0);
    assert_eq!(c.power_w(0), None, "one pulse measures no interval");
    c.on_pulse(1_000);
    // 3.6e9 / (1000 × 1000 ms) = 3600 W.
    assert_eq!(c.power_w(1_000), Some(3_600));
    c.on_pulse(1_360);
    // 3.6e9 / (1000 × 360) = 10,000 W.
    assert_eq!(c.power_w(1_360), Some(10_000));
    c.on_pulse(8_360);
    // 3.6e9 / (1000 × 7000) = 514.28… → 514 W.
    assert_eq!(c.power_w(8_360), Some(514));
}

#[test]
fn power_decays_when_pulses_stop() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    c.on_pulse(0);
    c.on_pulse(1_000); // 3600 W
    assert_eq!(c.power_w(1_500), Some(3_600), "within the usual spacing");
    // Silent for 2 s: less than 1 Wh in 2 s, so at most 1800 W.
    assert_eq!(c.power_w(3_000), Some(1_800));
    // Silent for an hour: at most 1 W; a bit longer and it reads 0.
    assert_eq!(c.power_w(1_000 + 3_600_000), Some(1));
    assert_eq!(c.power_w(1_000 + 4_000_000), Some(0));
    assert_eq!(c.register_wh(), 2, "decay never touches the register");
}

#[test]
fn bursts_are_debounced() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    assert_eq!(c.debounce_ms(), 60);
    assert!(c.on_pulse(10_000));
    assert!(!c.on_pulse(10_005));
    assert!(!c.on_pulse(10_030));
    assert!(!c.on_pulse(10_059));
    assert!(c.on_pulse(10_500));
    assert_eq!(c.pulses(), 2);
    assert_eq!(c.stats().debounced, 3);
    // The bounce did not distort the interval: 3.6e9 / (1000 × 500) = 7200 W.
    assert_eq!(c.power_w(10_500), Some(7_200));
    let mut off = PulseCounter::new(1000, 0).unwrap().with_debounce_ms(0);
    assert!(off.on_pulse(5));
    assert!(off.on_pulse(5));
    assert_eq!(off.pulses(), 2);
}

#[test]
fn missed_pulses_lower_power_but_never_break_the_register() {
    let mut c = PulseCounter::new(1000, 100).unwrap();
    c.on_pulse(0);
    c.on_pulse(1_000);
    // The pulse at 2000 was missed (sensor knocked): the next interval is 2 s.
    c.on_pulse(3_000);
    assert_eq!(c.register_wh(), 103);
    assert_eq!(c.power_w(3_000), Some(1_800));
}

#[test]
fn a_clock_going_backwards_books_the_pulse_without_an_interval() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    c.on_pulse(5_000);
    c.on_pulse(6_000);
    assert!(c.on_pulse(1_000));
    assert_eq!(c.pulses(), 3);
    assert_eq!(c.power_w(1_000), None);
    c.on_pulse(2_000);
    assert_eq!(c.power_w(2_000), Some(3_600));
}

#[test]
fn running_counts_survive_unplugging() {
    let mut c = PulseCounter::new(1000, 5_000).unwrap();
    assert_eq!(c.on_count(100, 0), CountEvent::Baseline);
    assert_eq!(c.register_wh(), 5_000, "the baseline books nothing");
    assert_eq!(c.on_count(110, 10_000), CountEvent::Added(10));
    // 10 pulses in 10 s at 1000 imp/kWh: 3600 W.
    assert_eq!(c.power_w(10_000), Some(3_600));
    assert_eq!(c.on_count(110, 15_000), CountEvent::Added(0));
    // Unplugged and replugged: the sensor restarts from 0 and has counted 3 since.
    assert_eq!(c.on_count(3, 40_000), CountEvent::Reset(3));
    assert_eq!(c.register_wh(), 5_013);
    assert_eq!(c.on_count(5, 41_000), CountEvent::Added(2));
    assert_eq!(c.register_wh(), 5_015);
    // A jump no household can make (a million Wh in a second) is not booked...
    assert_eq!(c.on_count(1_000_005, 42_000), CountEvent::Implausible);
    assert_eq!(c.register_wh(), 5_015);
    // ...but becomes the baseline, so counting carries on from there.
    assert_eq!(c.on_count(1_000_006, 43_000), CountEvent::Added(1));
    assert_eq!(c.register_wh(), 5_016);
    let s = c.stats();
    assert_eq!((s.resets, s.implausible, s.accepted), (1, 1, 16));
}

#[test]
fn readings_carry_register_and_power() {
    let mut c = PulseCounter::new(1000, 42_000).unwrap();
    c.on_pulse(0);
    c.on_pulse(2_000);
    let t = MeterTime::utc(1_700_000_000);
    let r = c.reading(2_000, Some(t));
    assert_eq!(r.protocol, Protocol::Pulse);
    assert_eq!(r.time, Some(t));
    assert_eq!(r.get(Quantity::ImportWh), Some(42_002));
    assert_eq!(r.get(Quantity::ImportW), Some(1_800));
    let fresh = PulseCounter::new(1000, 7).unwrap().reading(0, None);
    assert_eq!(fresh.get(Quantity::ImportWh), Some(7));
    assert_eq!(fresh.get(Quantity::ImportW), None);
}

#[test]
fn line_sensor_in_auto_mode() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    let mut p = PulseParser::new(PulseFormat::Auto);
    p.push(b"PUL", 0, &mut c);
    let s = p.push(b"SE\r\n", 5, &mut c);
    assert_eq!(p.format(), PulseFormat::Line);
    assert_eq!(s.pulses, 1);
    p.push(b"PULSE\r\nPULSE\r\n", 1_005, &mut c); // two in one read: the second is bounce
    p.push(b"PULSE\r\n", 2_005, &mut c);
    assert_eq!(c.pulses(), 3);
    assert_eq!(c.stats().debounced, 1);
    assert_eq!(c.power_w(2_005), Some(3_600));
}

#[test]
fn byte_sensor_in_auto_mode_keeps_each_pulse_time() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    let mut p = PulseParser::new(PulseFormat::Auto);
    for i in 0..20u64 {
        p.push(b"*", i * 1_000, &mut c);
    }
    assert_eq!(p.format(), PulseFormat::Byte);
    assert_eq!(c.pulses(), 20);
    assert_eq!(c.register_wh(), 20);
    assert_eq!(c.power_w(19_000), Some(3_600));
}

#[test]
fn count_lines_and_noise() {
    let mut c = PulseCounter::new(1000, 0).unwrap();
    let mut p = PulseParser::new(PulseFormat::Line);
    p.push(b"count=500\n", 0, &mut c);
    p.push(b"count=520\n", 20_000, &mut c);
    let long = vec![b'x'; 1000];
    let s = p.push(&long, 21_000, &mut c);
    assert_eq!(s.pulses, 0);
    let s = p.push(b"\ncount=oops\n", 21_000, &mut c);
    assert_eq!(s.ignored_lines, 2, "the overlong line and the bad count");
    assert_eq!(c.register_wh(), 20);
    let mut c = PulseCounter::new(1000, 0).unwrap();
    let mut p = PulseParser::new(PulseFormat::Count);
    p.push(b"1000\r\n", 0, &mut c);
    p.push(b"1003\r\n", 1_000, &mut c);
    assert_eq!(c.register_wh(), 3);
    let mut p = PulseParser::new(PulseFormat::from_name("byte").unwrap());
    let mut c = PulseCounter::new(1000, 0).unwrap();
    p.push(b"\x01\r\n", 0, &mut c);
    p.push(b"\x01", 500, &mut c);
    assert_eq!(c.pulses(), 2);
    assert_eq!(PulseFormat::from_name("morse"), None);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_register_never_goes_down(
            events in proptest::collection::vec((any::<bool>(), 0u64..2_000_000, 0u64..10_000_000), 0..200),
            imp in 1u32..=100_000,
        ) {
            let mut c = PulseCounter::new(imp, 1_000).unwrap();
            let mut p = PulseParser::new(PulseFormat::Auto);
            let mut last = c.register_wh();
            for (is_count, value, at) in events {
                if is_count {
                    c.on_count(value, at);
                } else {
                    c.on_pulse(at);
                    p.push(&value.to_le_bytes(), at, &mut c);
                }
                let now = c.register_wh();
                prop_assert!(now >= last);
                last = now;
                let _ = c.power_w(at);
                if let Some(w) = c.power_w(at) { prop_assert!(w >= 0); }
            }
        }
    }
}
