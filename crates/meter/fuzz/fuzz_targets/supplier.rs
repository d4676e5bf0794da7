//! Fuzzes the supplier download readers: the same bytes as a consumption CSV (Octopus or
//! generic) and as a Green Button XML file. Never a panic; whatever was read gives one interval
//! reading per interval, at its start, with its length (> 0) as `interval_s`, an energy that is
//! not negative where the interval's is not, and energies that sum to the rounded total.
#![no_main]

use hearth_meter::Quantity;
use hearth_meter::supplier::{Flow, IntervalSet, london, read_csv, read_green_button};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn check(set: &IntervalSet) {
    static TZ: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    let readings = set.readings(Quantity::IntervalImportWh, TZ.get_or_init(london));
    assert_eq!(readings.len(), set.len(), "one reading per interval");
    let mut sum: i128 = 0;
    for (iv, r) in set.intervals().zip(&readings) {
        assert_eq!(r.time.map(|t| t.unix), Some(iv.start), "at the interval's start");
        let seconds = r.get(Quantity::IntervalS).expect("every reading has a length");
        assert!(seconds > 0, "a length of {seconds} s");
        assert_eq!(seconds, iv.end - iv.start);
        assert_eq!(r.get(Quantity::ImportWh), None, "no made-up register");
        let wh = r.get(Quantity::IntervalImportWh).expect("every reading has energy");
        if iv.energy_milli_wh >= 0 {
            assert!(wh >= 0, "{wh} Wh for {} mWh", iv.energy_milli_wh);
        }
        sum += i128::from(wh);
    }
    // Rounded half away from zero, thousandths of a Wh to Wh (exact: i128).
    let total: i128 = set
        .intervals()
        .map(|iv| i128::from(iv.energy_milli_wh))
        .sum();
    let rounded = (total + if total >= 0 { 500 } else { -500 }) / 1000;
    assert_eq!(sum, rounded, "the energies against the total");
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
