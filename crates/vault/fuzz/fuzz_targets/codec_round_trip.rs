//! Fuzzes the chunk codec's round trip: readings built from the input (every quantity, time and
//! string field present or absent; registers that climb, stall, go down or jump; clocks that
//! tick, skip, repeat or run backwards; phase values that do or do not add up, so the codec's
//! relations, differencing, factors, zero runs and range coding all get chosen; extreme
//! values) must come back from encode → decode exactly. The encoded chunk, sealed, opens to
//! itself.
#![no_main]

use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};
use hearth_vault::codec::{decode, encode};
use hearth_vault::fuzzing::{open_chunk, seal_chunk};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// How one column's values evolve from reading to reading.
#[derive(Clone, Copy)]
enum Shape {
    Absent,
    /// Present in some readings only.
    Sparse,
    Constant,
    /// A register: small steps up, sometimes zero, rarely down or a jump.
    Register,
    /// A noisy level (power, voltage).
    Level,
    /// A multiple of a common factor (amperes stored in mA).
    Factor(i64),
    /// Any `i64`, extremes included.
    Wild,
}

fn shape(u: &mut Unstructured<'_>) -> Result<Shape> {
    Ok(match u.int_in_range(0..=7)? {
        0 | 1 => Shape::Absent,
        2 => Shape::Sparse,
        3 => Shape::Constant,
        4 => Shape::Register,
        5 => Shape::Level,
        6 => Shape::Factor(*u.choose(&[10, 100, 1000, 7])?),
        _ => Shape::Wild,
    })
}

fn wild(u: &mut Unstructured<'_>) -> Result<i64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => *u.choose(&[i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1])?,
        1 => u.int_in_range(-1000..=1000)?,
        _ => u.arbitrary()?,
    })
}

fn step(u: &mut Unstructured<'_>, shape: Shape, prev: i64) -> Result<Option<i64>> {
    Ok(match shape {
        Shape::Absent => None,
        Shape::Sparse => {
            if u.arbitrary()? {
                Some(prev.wrapping_add(u.int_in_range(-3..=3)?))
            } else {
                None
            }
        }
        Shape::Constant => Some(prev),
        Shape::Register => Some(match u.int_in_range(0..=15)? {
            0 => prev.wrapping_sub(u.int_in_range(1..=1_000_000)?),
            1 => prev.wrapping_add(u.arbitrary::<u32>()?.into()),
            2..=6 => prev,
            _ => prev.wrapping_add(u.int_in_range(1..=3)?),
        }),
        Shape::Level => Some(prev.wrapping_add(u.int_in_range(-50..=50)?)),
        Shape::Factor(f) => Some(f.wrapping_mul(u.int_in_range(-500..=500)?)),
        Shape::Wild => Some(wild(u)?),
    })
}

fn text(u: &mut Unstructured<'_>) -> Result<Option<String>> {
    Ok(match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some("E0043007000000017".to_owned()),
        2 => Some(u.choose(&["50", "42", "", "ÿ€😀"])?.to_string()),
        _ => Some(u.arbitrary::<String>()?),
    })
}

fn time(u: &mut Unstructured<'_>, shape: u8, prev: MeterTime) -> Result<Option<MeterTime>> {
    Ok(match shape % 4 {
        0 => None,
        1 => Some(MeterTime {
            unix: prev.unix.wrapping_add(match u.int_in_range(0..=19)? {
                0 => u.int_in_range(-3600..=0)?,
                1 => u.int_in_range(2..=86_400)?,
                _ => 1,
            }),
            offset_s: if u.int_in_range(0..=30)? == 0 {
                7200
            } else {
                prev.offset_s
            },
        }),
        2 => Some(prev),
        _ => Some(MeterTime {
            unix: wild(u)?,
            offset_s: u.arbitrary()?,
        }),
    })
}

fn readings(u: &mut Unstructured<'_>) -> Result<Vec<Reading>> {
    let n = u.int_in_range(0..=600)?;
    let mut shapes = [Shape::Absent; Quantity::COUNT];
    for s in &mut shapes {
        *s = shape(u)?;
    }
    let mut prev = [0i64; Quantity::COUNT];
    for p in &mut prev {
        *p = wild(u)?;
    }
    let time_shapes: [u8; 5] = u.arbitrary()?;
    let mut times = [MeterTime {
        unix: 1_767_225_600,
        offset_s: 3600,
    }; 5];
    // Relations the codec may exploit: totals = sum of tariffs, power = sum of phases,
    // phases alike.
    let (sum_totals, sum_phases, alike_phases): (bool, bool, bool) = u.arbitrary()?;
    let protocol = *u.choose(&Protocol::ALL)?;
    let (mut id, mut version) = (text(u)?, text(u)?);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if u.is_empty() {
            break;
        }
        let mut r = Reading::new(protocol);
        for (i, &q) in Quantity::ALL.iter().enumerate() {
            if let Some(v) = step(u, shapes[i], prev[i])? {
                prev[i] = v;
                r.set(q, v);
            }
        }
        use Quantity as Q;
        if alike_phases {
            for (l1, l2, l3) in [
                (Q::L1Dv, Q::L2Dv, Q::L3Dv),
                (Q::L1ImportW, Q::L2ImportW, Q::L3ImportW),
            ] {
                if let Some(v) = r.get(l1) {
                    r.set(l2, v.wrapping_add(u.int_in_range(-2..=2)?));
                    r.set(l3, v);
                }
            }
        }
        if sum_totals && let (Some(a), Some(b)) = (r.get(Q::ImportT1Wh), r.get(Q::ImportT2Wh)) {
            r.set(Q::ImportWh, a.wrapping_add(b));
        }
        if sum_phases
            && let (Some(a), Some(b), Some(c)) = (
                r.get(Q::L1ImportW),
                r.get(Q::L2ImportW),
                r.get(Q::L3ImportW),
            )
        {
            r.set(Q::ImportW, a.wrapping_add(b).wrapping_add(c));
        }
        for (k, t) in times.iter_mut().enumerate() {
            let v = time(u, time_shapes[k], *t)?;
            if let Some(v) = v {
                *t = v;
            }
            match k {
                0 => r.time = v,
                1 => r.demand_peak_month_time = v,
                2 => r.gas_time = v,
                3 => r.water_time = v,
                _ => r.heat_time = v,
            }
        }
        if u.int_in_range(0..=50)? == 0 {
            (id, version) = (text(u)?, text(u)?); // a meter swap
        }
        r.meter_id = id.clone().map(MeterId::new);
        r.dsmr_version = version.clone();
        out.push(r);
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(readings) = readings(&mut Unstructured::new(data)) else {
        return;
    };
    let chunk = encode(&readings);
    assert_eq!(
        decode(&chunk).as_ref(),
        Ok(&readings),
        "round trip of {} readings",
        readings.len()
    );
    let sealed = seal_chunk(&chunk).expect("sealing works");
    assert_eq!(open_chunk(&sealed), Some(chunk));
});
