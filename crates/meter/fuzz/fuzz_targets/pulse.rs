//! Fuzzes pulse counting: a fuzzer-chosen meter constant, start register and debounce, then a
//! sequence of flashes, running counts (restarts, jumps, clocks going back), serial bytes in
//! every sensor format, and power queries. Never a panic; the register is always the start
//! plus the booked pulses (rounded down), never goes down, and power is never negative. The
//! line parser gives the same count whatever the split of the same bytes.
#![no_main]

use hearth_meter::pulse::{MAX_IMP_PER_KWH, PulseCounter, PulseFormat, PulseParser};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const FORMATS: [PulseFormat; 4] = [
    PulseFormat::Auto,
    PulseFormat::Byte,
    PulseFormat::Line,
    PulseFormat::Count,
];

fn expected_register(c: &PulseCounter, start: i64) -> i64 {
    let wh = u128::from(c.pulses()) * 1000 / u128::from(c.imp_per_kwh());
    start.saturating_add(i64::try_from(wh).unwrap_or(i64::MAX))
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let imp: u32 = u.arbitrary()?;
    let start: i64 = u.arbitrary()?;
    let counter = PulseCounter::new(imp, start);
    assert_eq!(
        counter.is_ok(),
        (1..=MAX_IMP_PER_KWH).contains(&imp),
        "constant {imp}"
    );
    let Ok(mut c) = counter else {
        return Ok(());
    };
    if u.arbitrary()? {
        c = c.with_debounce_ms(u.int_in_range(0..=5_000)?);
    }
    let mut parser = PulseParser::new(*u.choose(&FORMATS)?);
    let mut last = c.register_wh();
    let mut clock: u64 = u.arbitrary::<u32>()?.into();
    while !u.is_empty() {
        // Mostly forward steps, sometimes a jump back or far ahead.
        clock = match u.int_in_range(0..=9)? {
            0 => u.arbitrary()?,
            1 => clock.saturating_sub(u.int_in_range(0..=10_000)?),
            _ => clock.saturating_add(u.int_in_range(0..=5_000)?),
        };
        match u.int_in_range(0..=3)? {
            0 => {
                c.on_pulse(clock);
            }
            1 => {
                let count = if u.arbitrary()? {
                    u.arbitrary()?
                } else {
                    u.int_in_range(0..=100_000)?
                };
                c.on_count(count, clock);
            }
            2 => {
                let n = u.int_in_range(0..=64)?;
                let bytes = u.bytes(n)?;
                parser.push(bytes, clock, &mut c);
            }
            _ => {
                if let Some(w) = c.power_w(u.arbitrary()?) {
                    assert!(w >= 0, "power {w}");
                }
            }
        }
        let now = c.register_wh();
        assert_eq!(now, expected_register(&c, start));
        assert!(now >= last, "register went down: {last} -> {now}");
        assert_eq!(c.stats().accepted, c.pulses());
        last = now;
        if let Some(w) = c.power_w(clock) {
            assert!(w >= 0, "power {w}");
        }
        let r = c.reading(clock, None);
        assert_eq!(r.get(hearth_meter::Quantity::ImportWh), Some(now));
    }
    Ok(())
}

/// The parser in a fixed format gives the same counter for the same bytes at the same time,
/// whatever the split.
fn split(data: &[u8]) {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    let format = FORMATS[1 + usize::from(sel) % 3];
    let at = usize::from(sel) * data.len() / 256;
    let make = || PulseCounter::new(1000, 0).map(|c| c.with_debounce_ms(0));
    let (Ok(mut a), Ok(mut b)) = (make(), make()) else {
        return;
    };
    PulseParser::new(format).push(data, 5, &mut a);
    let mut p = PulseParser::new(format);
    p.push(&data[..at], 5, &mut b);
    p.push(&data[at..], 5, &mut b);
    assert_eq!(a, b, "{format:?} cut at {at}");
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
    split(data);
});
