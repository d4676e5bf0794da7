//! Fuzzes the supplier download readers: the same bytes as a consumption CSV (Octopus or
//! generic) and as a Green Button XML file. Never a panic; whatever was read, the register
//! readings built from it never go down where the energy is not negative, number at most two
//! per interval, and end on the base plus the total energy.
#![no_main]

use hearth_meter::Quantity;
use hearth_meter::supplier::{Flow, IntervalSet, london, read_csv, read_green_button};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn check(set: &IntervalSet) {
    static TZ: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    let base = 1_000_000;
    let readings = set.readings(Quantity::ImportWh, base, TZ.get_or_init(london));
    assert!(
        readings.len() <= 2 * set.len(),
        "{} readings for {} intervals",
        readings.len(),
        set.len()
    );
    let values: Vec<i64> = readings
        .iter()
        .filter_map(|r| r.get(Quantity::ImportWh))
        .collect();
    assert_eq!(values.len(), readings.len());
    if set.intervals().all(|iv| iv.energy_milli_wh >= 0) {
        assert!(
            values.windows(2).all(|w| w[0] <= w[1]),
            "register went down: {values:?}"
        );
    }
    if let Some(&last) = values.last() {
        // Rounded half away from zero, thousandths of a Wh to Wh (exact: i128).
        let total: i128 = set
            .intervals()
            .map(|iv| i128::from(iv.energy_milli_wh))
            .sum();
        let wh = (total + if total >= 0 { 500 } else { -500 }) / 1000;
        let expected = (i128::from(base) + wh).clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        assert_eq!(last, expected, "last register against the total energy");
    }
}

fuzz_target!(|data: &[u8]| {
    let tz = london();
    let mut set = IntervalSet::new();
    if read_csv(data, &tz, &mut set).is_ok() {
        check(&set);
    }
    for flow in [Flow::Forward, Flow::Reverse] {
        let mut set = IntervalSet::new();
        if read_green_button(data, flow, &mut set).is_ok() {
            check(&set);
        }
    }
});
