//! The chunk codec: exact round trips on realistic and hostile readings, the bytes-per-reading
//! target from issue 4, and damaged input that must give an error rather than a panic.

#[path = "codec/synthetic.rs"]
mod synthetic;

use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};
use hearth_vault::codec::{CodecError, MAX_READINGS, VERSION, decode, encode};
use synthetic::{Profile, Rng};

const V5: &str = include_str!("fixtures/dsmr/v5.p1");

/// Encodes, decodes, checks equality reading by reading, and returns the chunk.
fn round_trip(readings: &[Reading]) -> Vec<u8> {
    let chunk = encode(readings);
    let back = decode(&chunk).expect("a chunk we wrote decodes");
    assert_eq!(back.len(), readings.len());
    for (i, (a, b)) in readings.iter().zip(&back).enumerate() {
        assert_eq!(a, b, "reading {i} differs after the round trip");
    }
    chunk
}

fn bytes_per_reading(chunk: &[u8], n: usize) -> f64 {
    chunk.len() as f64 / n as f64
}

fn hour_dsmr5(seed: u64) -> Vec<Reading> {
    synthetic::stream(seed, &synthetic::dsmr5_start(), Profile::DSMR5, 3600)
}

#[test]
fn the_v5_fixture_reads_as_the_telegram_says() {
    // Values read off fixtures/dsmr/v5.p1 by eye: 1-0:1.8.1(000004.426*kWh) → 4426 Wh, ...
    let r = synthetic::reading_from_telegram(V5);
    assert_eq!(r.get(Quantity::ImportT1Wh), Some(4_426));
    assert_eq!(r.get(Quantity::ImportT2Wh), Some(2_399));
    assert_eq!(r.get(Quantity::ImportWh), Some(6_825)); // 4426 + 2399
    assert_eq!(r.get(Quantity::ExportT1Wh), Some(2_444));
    assert_eq!(r.get(Quantity::ImportW), Some(244));
    assert_eq!(r.get(Quantity::L3Dv), Some(2_290));
    assert_eq!(r.get(Quantity::L1Ma), Some(480));
    assert_eq!(r.get(Quantity::L3ImportW), Some(142));
    assert_eq!(r.get(Quantity::PowerFailures), Some(13));
    assert_eq!(r.get(Quantity::GasDm3), Some(107));
    assert_eq!(r.dsmr_version.as_deref(), Some("50"));
    // 170102192002W = 2017-01-02 19:20:02 CET = 18:20:02Z.
    assert_eq!(
        r.time,
        Some(MeterTime {
            unix: 1_483_381_202,
            offset_s: 3600
        })
    );
    assert_eq!(
        r.meter_id.as_ref().map(|m| m.as_str()),
        Some("K8EG004046395507")
    );
    round_trip(&[r]);
}

#[test]
fn a_day_of_1s_dsmr5_fits_in_4_bytes_per_reading() {
    // Issue 4's goal: <= 4 bytes per reading over a day of realistic 1-s three-phase DSMR 5
    // with gas and solar (8 is the ceiling, which every single hour must meet). Stored as the
    // vault does: one chunk per hour.
    let day = synthetic::stream(1, &synthetic::dsmr5_midnight(), Profile::DSMR5, 86_400);
    let mut total = 0;
    let mut worst = (0, 0.0);
    for (hour, chunk) in day.chunks(3600).enumerate() {
        let bytes = round_trip(chunk).len();
        let bpr = bytes as f64 / chunk.len() as f64;
        if bpr > worst.1 {
            worst = (hour, bpr);
        }
        total += bytes;
    }
    let bpr = total as f64 / day.len() as f64;
    println!(
        "dsmr5 1-s day: {total} B, {bpr:.3} B/reading; worst hour {:02}:00 at {:.3}",
        worst.0, worst.1
    );
    assert!(bpr <= 4.0, "{bpr:.3} bytes per reading over the day");
    assert!(
        worst.1 <= 8.0,
        "hour {} takes {:.3} bytes per reading",
        worst.0,
        worst.1
    );
}

#[test]
fn a_sunny_hour_with_passing_clouds_stays_under_the_ceiling() {
    // The hardest hour: 11:00-12:00 in June, exporting, every phase noisy. Several seeds so
    // one lucky stream cannot pass.
    for seed in [1, 2, 3] {
        let hour = hour_dsmr5(seed);
        let chunk = round_trip(&hour);
        let bpr = bytes_per_reading(&chunk, hour.len());
        println!(
            "dsmr5 1-s 11:00 hour, seed {seed}: {} B, {bpr:.3} B/reading",
            chunk.len()
        );
        assert!(bpr <= 5.0, "seed {seed}: {bpr:.3} bytes per reading");
    }
}

#[test]
fn other_streams_round_trip_small() {
    let cases: [(&str, Vec<Reading>, f64); 4] = [
        (
            "dsmr4 10-s (an hour)",
            synthetic::stream(4, &synthetic::dsmr4_start(), Profile::DSMR4, 360),
            6.0,
        ),
        (
            "registers only 1-s",
            synthetic::stream(5, &synthetic::registers_start(), Profile::DSMR5, 3600),
            0.5,
        ),
        (
            // The fixture sends currents in 10 mA steps (0.48 A), which wobble with the power.
            "v5 fixture, then 1-s simulation",
            synthetic::stream(
                6,
                &synthetic::reading_from_telegram(V5),
                Profile {
                    solar_peak_w: 0.0,
                    ..Profile::DSMR5
                },
                3600,
            ),
            5.0,
        ),
        ("v5 fixture held for an hour", fixture_held(3600), 0.1),
    ];
    for (name, readings, limit) in cases {
        let chunk = round_trip(&readings);
        let bpr = bytes_per_reading(&chunk, readings.len());
        println!(
            "{name}: {} readings, {} B, {bpr:.3} B/reading",
            readings.len(),
            chunk.len()
        );
        assert!(bpr <= limit, "{name}: {bpr:.3} bytes per reading");
    }
}

/// The v5 fixture's values every second for `n` seconds (only the clock moves).
fn fixture_held(n: i64) -> Vec<Reading> {
    let r = synthetic::reading_from_telegram(V5);
    (0..n)
        .map(|i| {
            let mut r = r.clone();
            r.time = r.time.map(|t| MeterTime {
                unix: t.unix + i,
                ..t
            });
            r
        })
        .collect()
}

#[test]
fn empty_and_single_chunks() {
    let empty = round_trip(&[]);
    // version, flags (uncompressed), n = 0, three empty dictionaries, zero columns.
    assert_eq!(empty, vec![VERSION, 0, 0, 0, 0, 0, 0]);
    round_trip(&[Reading::new(Protocol::Sml)]);
    round_trip(&hour_dsmr5(7)[..1]);
    round_trip(&hour_dsmr5(7)[..2]);
    round_trip(&hour_dsmr5(7)[..3]);
}

#[test]
fn fields_come_and_go() {
    // Every field dropped at random in 30 % of readings: presence must survive exactly.
    let mut rng = Rng::new(11);
    let mut hour = hour_dsmr5(8);
    for r in &mut hour {
        for q in Quantity::ALL {
            if rng.chance(0.3) {
                r.clear(q);
            }
        }
        if rng.chance(0.3) {
            r.time = None;
        }
        if rng.chance(0.3) {
            r.meter_id = None;
        }
        if rng.chance(0.3) {
            r.dsmr_version = None;
        }
        if rng.chance(0.3) {
            r.gas_time = None;
        }
    }
    round_trip(&hour);
    // A phase missing where the total is present: the relation must not be used blindly.
    let mut hour = hour_dsmr5(9);
    hour[100].clear(Quantity::L2ImportW);
    hour[200].clear(Quantity::ImportT1Wh);
    hour[300].clear(Quantity::L1Dv);
    round_trip(&hour);
}

#[test]
fn meter_swap_and_reset() {
    // Halfway, the meter is replaced: registers drop to near zero, the id and version change,
    // and the protocol changes too (a new meter on another port).
    let mut hour = hour_dsmr5(12);
    let first = hour[1799].clone();
    for (k, r) in hour[1800..].iter_mut().enumerate() {
        r.meter_id = Some(MeterId::new("E0099000000000001"));
        r.dsmr_version = Some("42".into());
        r.protocol = Protocol::Dlms;
        for q in [Quantity::ImportT1Wh, Quantity::ImportT2Wh, Quantity::GasDm3] {
            let v = r.get(q).unwrap_or(0) - first.get(q).unwrap_or(0);
            r.set(q, v + k as i64 / 10);
        }
        r.fill_totals();
    }
    round_trip(&hour);
}

#[test]
fn clock_jumps_and_time_zone_changes() {
    let mut hour = hour_dsmr5(13);
    for (i, r) in hour.iter_mut().enumerate() {
        let Some(t) = r.time.as_mut() else { continue };
        match i {
            1000..2000 => t.unix -= 3600,         // clock set back an hour
            2000..2500 => t.unix += 86_400 * 365, // a year ahead
            2500..2600 => t.offset_s = 3600,      // DST ends
            2600..2700 => t.unix = 0,             // epoch after a reset
            2700..2710 => {
                *t = MeterTime {
                    unix: i64::MIN,
                    offset_s: i32::MIN,
                }
            }
            2710..2720 => {
                *t = MeterTime {
                    unix: i64::MAX,
                    offset_s: i32::MAX,
                }
            }
            _ => {}
        }
    }
    round_trip(&hour);
}

#[test]
fn integer_extremes_everywhere() {
    let extremes = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1];
    let mut readings = Vec::new();
    for (i, &v) in extremes.iter().enumerate() {
        for &w in &extremes {
            let mut r = Reading::new(Protocol::ALL[i % Protocol::ALL.len()]);
            for (k, q) in Quantity::ALL.into_iter().enumerate() {
                r.set(q, if k % 2 == 0 { v } else { w });
            }
            let t = MeterTime {
                unix: w,
                offset_s: (v >> 32) as i32,
            };
            r.time = Some(t);
            r.demand_peak_month_time = Some(t);
            r.gas_time = Some(MeterTime {
                unix: v,
                offset_s: 0,
            });
            r.water_time = Some(t);
            r.heat_time = Some(t);
            r.meter_id = Some(MeterId::new(""));
            r.dsmr_version = Some("ünïcødé ⚡".into());
            readings.push(r);
        }
    }
    round_trip(&readings);
    // Totals that overflow against their parts: the relation arithmetic wraps.
    let mut r = Reading::new(Protocol::Dsmr);
    r.set(Quantity::ImportT1Wh, i64::MAX);
    r.set(Quantity::ImportT2Wh, i64::MAX);
    r.set(Quantity::ImportWh, i64::MIN);
    r.set(Quantity::ImportW, 5);
    r.set(Quantity::ExportW, -5);
    for q in [
        Quantity::L1ImportW,
        Quantity::L2ImportW,
        Quantity::L3ImportW,
    ] {
        r.set(q, i64::MAX);
    }
    for q in [
        Quantity::L1ExportW,
        Quantity::L2ExportW,
        Quantity::L3ExportW,
    ] {
        r.set(q, i64::MIN);
    }
    round_trip(&[r.clone(), r.clone(), r]);
}

#[test]
fn every_protocol_and_odd_strings() {
    let readings: Vec<Reading> = Protocol::ALL
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut r = Reading::new(p);
            r.meter_id = Some(MeterId::new("x".repeat(i * 100)));
            r.dsmr_version = Some(format!("{i}\0\n\"'"));
            r.set(Quantity::Tariff, i as i64);
            r.water_time = Some(MeterTime {
                unix: i as i64,
                offset_s: -12 * 3600,
            });
            r.heat_time = Some(MeterTime {
                unix: -(i as i64),
                offset_s: 14 * 3600,
            });
            r
        })
        .collect();
    round_trip(&readings);
}

#[test]
fn random_readings_round_trip() {
    // Seeded fuzz over structure: random presence, random magnitudes, random strings.
    let mut rng = Rng::new(0xC0DEC);
    for case in 0..300 {
        let n = (rng.next_u64() % 40) as usize;
        let readings: Vec<Reading> = (0..n).map(|_| random_reading(&mut rng)).collect();
        let chunk = encode(&readings);
        let back = decode(&chunk).unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert_eq!(back, readings, "case {case}");
    }
}

fn random_value(rng: &mut Rng) -> i64 {
    match rng.next_u64() % 4 {
        0 => rng.next_u64() as i64,
        1 => (rng.next_u64() % 2000) as i64 - 1000,
        2 => [i64::MIN, i64::MAX, 0][(rng.next_u64() % 3) as usize],
        _ => 1_000_000 + (rng.next_u64() % 10) as i64,
    }
}

fn random_reading(rng: &mut Rng) -> Reading {
    let mut r = Reading::new(Protocol::ALL[(rng.next_u64() % 8) as usize]);
    for q in Quantity::ALL {
        if rng.chance(0.5) {
            r.set(q, random_value(rng));
        }
    }
    let time = |rng: &mut Rng| {
        rng.chance(0.6).then(|| MeterTime {
            unix: random_value(rng),
            offset_s: random_value(rng) as i32,
        })
    };
    r.time = time(rng);
    r.demand_peak_month_time = time(rng);
    r.gas_time = time(rng);
    r.water_time = time(rng);
    r.heat_time = time(rng);
    if rng.chance(0.7) {
        r.meter_id = Some(MeterId::new(format!("M{}", rng.next_u64() % 3)));
    }
    if rng.chance(0.5) {
        r.dsmr_version = Some(format!("{}", rng.next_u64() % 60));
    }
    r
}

#[test]
fn truncated_chunks_are_errors() {
    // Compressed (a realistic hour) and uncompressed (a few readings) chunks: every strict
    // prefix must be refused, never decoded into something else.
    let big = encode(&hour_dsmr5(14));
    assert_eq!(big[1], 1, "an hour is worth compressing");
    let mut one = Reading::new(Protocol::Dsmr);
    one.set(Quantity::ImportW, 250);
    one.time = Some(MeterTime::utc(1_781_514_000));
    let small = encode(&[one.clone(), one]);
    assert_eq!(small[1], 0, "two tiny readings are not worth compressing");
    for chunk in [&big, &small] {
        for len in 0..chunk.len() {
            assert!(
                decode(&chunk[..len]).is_err(),
                "prefix of {len} bytes decoded"
            );
        }
    }
    assert_eq!(decode(&[]), Err(CodecError::Truncated));
    assert_eq!(decode(&[VERSION]), Err(CodecError::Truncated));
}

#[test]
fn damaged_chunks_never_panic() {
    let mut rng = Rng::new(99);
    let big = encode(&hour_dsmr5(15));
    let small = encode(&hour_dsmr5(15)[..4]);
    // Every single bit flipped in the uncompressed chunk.
    for i in 0..small.len() * 8 {
        let mut c = small.clone();
        c[i / 8] ^= 1 << (i % 8);
        let _ = decode(&c);
    }
    // Random damage: overwritten bytes, inserted and removed bytes, in both.
    for round in 0..3000 {
        let mut c = if round % 2 == 0 {
            big.clone()
        } else {
            small.clone()
        };
        for _ in 0..1 + rng.next_u64() % 4 {
            let at = (rng.next_u64() % c.len() as u64) as usize;
            match rng.next_u64() % 3 {
                0 => c[at] = rng.next_u64() as u8,
                1 => c.insert(at, rng.next_u64() as u8),
                _ => {
                    c.remove(at);
                }
            }
        }
        // The vault authenticates chunks before decoding, so damage that keeps the zstd frame
        // valid is the only kind that can reach here in practice; it must still not panic.
        let _ = decode(&c);
    }
    // Pure garbage after a valid header.
    for _ in 0..2000 {
        let len = (rng.next_u64() % 64) as usize;
        let mut c = vec![VERSION, 0];
        c.extend((0..len).map(|_| rng.next_u64() as u8));
        let _ = decode(&c);
    }
}

#[test]
fn hostile_headers_are_refused() {
    assert_eq!(decode(&[2, 0, 0]), Err(CodecError::UnsupportedVersion(2)));
    assert!(matches!(
        decode(&[VERSION, 0x80, 0]),
        Err(CodecError::Corrupt(_))
    ));
    // More readings than a chunk may hold: n = MAX_READINGS + 1 as a varint.
    let mut c = vec![VERSION, 0];
    let mut n = MAX_READINGS as u64 + 1;
    while n >= 0x80 {
        c.push(n as u8 | 0x80);
        n >>= 7;
    }
    c.push(n as u8);
    c.extend([0, 0, 0, 0]);
    assert!(matches!(decode(&c), Err(CodecError::Corrupt(_))));
    // A compressed chunk announcing a body of 2^40 bytes.
    let c = [
        VERSION, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x28, 0xb5, 0x2f, 0xfd,
    ];
    assert!(matches!(decode(&c), Err(CodecError::Corrupt(_))));
    // A compressed chunk whose zstd frame is garbage.
    assert_eq!(
        decode(&[VERSION, 1, 5, 1, 2, 3, 4, 5]),
        Err(CodecError::Decompress)
    );
    // Trailing bytes after a valid empty chunk.
    assert!(matches!(
        decode(&[VERSION, 0, 0, 0, 0, 0, 0, 0]),
        Err(CodecError::Corrupt(_))
    ));
    // Readings but no protocol column: n = 1, empty dictionaries, no columns.
    assert!(matches!(
        decode(&[VERSION, 0, 1, 0, 0, 0, 0]),
        Err(CodecError::Corrupt(_))
    ));
    // An unknown protocol name in the dictionary.
    assert!(matches!(
        decode(&[VERSION, 0, 0, 1, 3, b'f', b'o', b'o', 0, 0, 0]),
        Err(CodecError::Corrupt(_))
    ));
    // Two import_w columns, relation cycle, unknown tags: build by hand from a real chunk.
    let mut r = Reading::new(Protocol::Dsmr);
    r.set(Quantity::Tariff, 1);
    let ok = encode(&[r]);
    // [1, 0, n=1, dict(protocol)=[1, 4, "dsmr"], dict=[0], dict=[0], columns=2,
    //  tag 0 ..., tag 80 ...]
    assert_eq!(
        &ok[..11],
        &[VERSION, 0, 1, 1, 4, b'd', b's', b'm', b'r', 0, 0]
    );
    assert_eq!(ok[11], 2, "two columns: tariff and protocol");
    assert_eq!(ok[12], 0, "tariff first");
    let mut unknown_tag = ok.clone();
    unknown_tag[12] = 50;
    assert!(matches!(decode(&unknown_tag), Err(CodecError::Corrupt(_))));
    // The tariff column claiming relation variant 1, which tariff has none of.
    let mut bad_relation = ok.clone();
    bad_relation[13] |= 1 << 1;
    assert!(matches!(decode(&bad_relation), Err(CodecError::Corrupt(_))));
}

#[test]
fn relations_that_cannot_be_resolved_are_refused() {
    // Hand-built uncompressed chunks of one reading: header, n = 1, protocol dictionary
    // ["dsmr"], two empty dictionaries, then the columns.
    let head = [VERSION, 0, 1, 1, 4, b'd', b's', b'm', b'r', 0, 0];
    // A column: tag, header (variant in bits 1-2, order 0, dense), factor 1, value 0.
    let col = |tag: u8, variant: u8| [tag, variant << 1, 1, 0];
    let chunk = |cols: &[[u8; 4]]| {
        let mut c = head.to_vec();
        c.push(cols.len() as u8);
        for col in cols {
            c.extend_from_slice(col);
        }
        c
    };
    // The protocol column alone: one empty DSMR reading.
    assert_eq!(
        decode(&chunk(&[col(80, 0)])),
        Ok(vec![Reading::new(Protocol::Dsmr)])
    );
    // import_w (7) against export_w and export_w (8) against import_w: a circle.
    assert_eq!(
        decode(&chunk(&[col(7, 2), col(8, 2), col(80, 0)])),
        Err(CodecError::Corrupt(
            "columns refer to each other in a circle"
        ))
    );
    // import_w against the phase powers, which the chunk does not have.
    assert_eq!(
        decode(&chunk(&[col(7, 1), col(80, 0)])),
        Err(CodecError::Corrupt(
            "a column refers to values that are missing"
        ))
    );
    // l2_v (10) against l1_v (9), present: 0 + 0 = 0 decodes.
    let ok = decode(&chunk(&[col(9, 0), col(10, 1), col(80, 0)])).expect("valid relation");
    assert_eq!(ok[0].get(Quantity::L2Dv), Some(0));
}
