//! Every plausibility rule on every protocol that can carry its field (issue 19, item 2): a
//! minimal frame of each protocol, built here from its specification with its checksum right,
//! carrying one implausible value, decoded as the CLI, import and collect decode it. The field
//! (and what it contradicts) is dropped with its diagnostic and counted; everything else is
//! kept, value for value.
//!
//! | rule | DSMR | DLMS/HDLC | SML | IEC 62056-21 | MQTT bridge | Glow | RAVEn |
//! |---|---|---|---|---|---|---|---|
//! | voltage 0 or 80–300 V | ✓ | ✓ | ✓ | ✓ | ✓ | – | – |
//! | current ±500 A | ✓ | ✓ | ✓ | ✓ | ✓ | – | – |
//! | power ±60 kW | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | `plausible.rs` |
//! | phase power within V × A | ✓ | ✓ | ✓ | ✓ | ✓ | – | – |
//! | total power within V × A | ✓ | ✓ | ✓ | ✓ | ✓ | – | – |
//! | current not far beyond the power | ✓ | ✓ | ✓ | ✓ | ✓ | – | – |
//! | meter id not an OBIS code | ✓ | ✓ | ✓ | ✓ | ✓ | – | – |
//! | time 2000–2100 | ✓ | ✓ | ✓ | ✓ | – | ✓ | `plausible.rs` |
//!
//! A dash: the protocol cannot carry the field, or not an implausible one. Glow and RAVEn
//! send no voltage or current; their meter ids are an MPAN (digits) and a MAC address (hex),
//! never an OBIS code; a bridge's reading takes its time from the receiver's clock. Supplier
//! downloads carry interval energy only, held to their own rule (`supplier_layouts.rs`).

use hearth_meter::auto::{self, AutoDecoder};
use hearth_meter::checksum::crc16_x25;
use hearth_meter::mqtt::{MappedDecoder, MqttMapping};
use hearth_meter::plausible::Checked;
use hearth_meter::{Decoded, Decoder, Protocol, Quantity as Q};

/// What one minimal frame carries; each protocol's builder writes it in its own form.
#[derive(Clone, Copy, Debug)]
struct Fields {
    /// The meter id, as text.
    id: &'static str,
    /// Whether the meter's clock is wrong (reset to before 2000, or beyond 2100).
    clock_reset: bool,
    import_wh: i64,
    /// Total active import power, W.
    import_w: i64,
    /// Phase 1: voltage (dV), current (mA) and active import power (W).
    l1_dv: i64,
    l1_ma: i64,
    l1_w: i64,
}

/// A plausible single-phase reading: 1.2 kW at 230.1 V and 5.2 A.
const FINE: Fields = Fields {
    id: "E0044007123456",
    clock_reset: false,
    import_wh: 1_234_567,
    import_w: 1_200,
    l1_dv: 2_301,
    l1_ma: 5_200,
    l1_w: 1_200,
};

/// `2026-01-15T12:00:00Z`, the time every plausible frame carries.
const NOON_UTC: i64 = 1_768_478_400;

/// The OBIS code a broken layout stores as the meter id (IEC 62056-21 writes it dotted).
const OBIS_ID: &str = "1-0:96.1.0*255";
const OBIS_ID_DOTTED: &str = "1.0.96.1.0.255";

/// `value` with `decimals` places, as a meter writes it.
fn fixed(value: i64, decimals: u32) -> String {
    let scale = 10i64.pow(decimals);
    let sign = if value < 0 { "-" } else { "" };
    let v = value.abs();
    if decimals == 0 {
        return format!("{sign}{v}");
    }
    format!(
        "{sign}{}.{:0width$}",
        v / scale,
        v % scale,
        width = decimals as usize
    )
}

/// CRC-16/ARC, written out here so the crafted telegrams' checksums do not come from the
/// decoder under test.
fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A DSMR 5 telegram (NEN-EN-IEC 62056-21 mode D framing, DSMR 5.0.2 P1 §6.12 objects), CRC
/// computed anew. The time is local with its season flag; a reset clock reads 2000-01-01
/// 00:00 winter time, which is 1999 in UTC.
fn dsmr(f: &Fields) -> Vec<u8> {
    let time = if f.clock_reset {
        "000101000000W"
    } else {
        "260115130000W"
    };
    let id: String = f.id.bytes().map(|b| format!("{b:02X}")).collect();
    let body = format!(
        "/ISK5\\2M550T-1012\r\n\r\n\
         1-3:0.2.8(50)\r\n\
         0-0:1.0.0({time})\r\n\
         0-0:96.1.1({id})\r\n\
         1-0:1.8.1({:0>10}*kWh)\r\n\
         1-0:1.8.2(000000.000*kWh)\r\n\
         1-0:1.7.0({:0>6}*kW)\r\n\
         1-0:2.7.0(00.000*kW)\r\n\
         1-0:32.7.0({:0>6}*V)\r\n\
         1-0:31.7.0({:0>7}*A)\r\n\
         1-0:21.7.0({:0>6}*kW)\r\n\
         1-0:22.7.0(00.000*kW)\r\n!",
        fixed(f.import_wh, 3),
        fixed(f.import_w, 3),
        fixed(f.l1_dv, 1),
        fixed(f.l1_ma, 3),
        fixed(f.l1_w, 3),
    );
    let crc = crc16_arc(body.as_bytes());
    format!("{body}{crc:04X}\r\n").into_bytes()
}

/// A COSEM date-time (Blue Book 4.1.6.1): year, month, day, weekday, time, hundredths,
/// deviation 0 (UTC) and status 0. A reset clock reads 1999-12-31 23:59:59.
fn cosem_time(f: &Fields) -> [u8; 12] {
    let (y, mo, d, h, mi, s) = if f.clock_reset {
        (1999u16, 12, 31, 23, 59, 59)
    } else {
        (2026, 1, 15, 12, 0, 0)
    };
    let y = y.to_be_bytes();
    [y[0], y[1], mo, d, 0xFF, h, mi, s, 0x00, 0x00, 0x00, 0x00]
}

/// One `{logical name, value, {scaler, unit}}` structure of an OBIS-tagged DLMS list (as
/// Aidon pushes): double-long-unsigned or double-long value.
fn dlms_entry(obis: [u8; 6], value: i64, scaler: i8, unit: u8) -> Vec<u8> {
    let mut out = vec![0x02, 0x03, 0x09, 0x06];
    out.extend_from_slice(&obis);
    if value < 0 {
        out.push(0x05);
        out.extend_from_slice(&i32::try_from(value).unwrap().to_be_bytes());
    } else {
        out.push(0x06);
        out.extend_from_slice(&u32::try_from(value).unwrap().to_be_bytes());
    }
    out.extend_from_slice(&[0x02, 0x02, 0x0F, scaler as u8, 0x16, unit]);
    out
}

/// A DLMS/COSEM data-notification (Green Book 9.3, IEC 62056-5-3 §8.6.2) in an HDLC frame:
/// LLC header, invoke id, the date-time, then an array of OBIS-tagged structures. Units are
/// the Blue Book's: 30 Wh, 27 W, 35 V, 33 A.
fn dlms(f: &Fields) -> Vec<u8> {
    let mut apdu = vec![0xE6, 0xE7, 0x00, 0x0F, 0x40, 0x00, 0x00, 0x01, 0x0C];
    apdu.extend_from_slice(&cosem_time(f));
    apdu.extend_from_slice(&[0x01, 0x06]);
    apdu.extend_from_slice(&[0x02, 0x02, 0x09, 0x06, 0, 0, 96, 1, 0, 255, 0x0A]);
    apdu.push(u8::try_from(f.id.len()).unwrap());
    apdu.extend_from_slice(f.id.as_bytes());
    apdu.extend(dlms_entry([1, 0, 1, 8, 0, 255], f.import_wh, 0, 30));
    apdu.extend(dlms_entry([1, 0, 1, 7, 0, 255], f.import_w, 0, 27));
    apdu.extend(dlms_entry([1, 0, 21, 7, 0, 255], f.l1_w, 0, 27));
    apdu.extend(dlms_entry([1, 0, 32, 7, 0, 255], f.l1_dv, -1, 35));
    apdu.extend(dlms_entry([1, 0, 31, 7, 0, 255], f.l1_ma, -3, 33));
    hearth_meter::hdlc::encode_frame(&apdu)
}

/// An SML list entry (SML 1.04 §7.1.8, `SML_ListEntry`): objName, status, valTime absent,
/// unit, scaler, an int32 or int64 value, no signature.
fn sml_entry(obis: [u8; 6], value: i64, scaler: i8, unit: u8) -> Vec<u8> {
    let mut out = vec![0x77, 0x07];
    out.extend_from_slice(&obis);
    out.extend_from_slice(&[0x01, 0x01, 0x62, unit, 0x52, scaler as u8]);
    match i32::try_from(value) {
        Ok(v) => {
            out.push(0x55);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Err(_) => {
            out.push(0x59);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
    out.push(0x01);
    out
}

/// An SML 1.04 file with one GetList response (SML 1.04 §7.3.7): actSensorTime a UTC
/// timestamp (1999-12-31 23:59:59 on a reset clock), the meter id as 1-0:96.1.0 and the net
/// powers (16.7.0, 36.7.0) signed, in a transport frame with its CRC.
fn sml(f: &Fields) -> Vec<u8> {
    let unix = if f.clock_reset {
        946_684_799u32
    } else {
        NOON_UTC as u32
    };
    let mut m = vec![
        0x76, 0x02, 0x01, 0x62, 0x00, 0x62, 0x00, // transactionId, groupNo, abortOnError
        0x72, 0x63, 0x07, 0x01, // body: GetList.Res
        0x77, 0x01, 0x01, 0x01, // clientId, serverId, listName absent
        0x72, 0x62, 0x02, 0x65, // actSensorTime: choice 2, a u32 timestamp
    ];
    m.extend_from_slice(&unix.to_be_bytes());
    m.push(0x76); // valList: 6 entries
    let mut id = vec![0x77, 0x07, 1, 0, 96, 1, 0, 255, 0x01, 0x01, 0x01, 0x01];
    id.push(u8::try_from(f.id.len() + 1).unwrap());
    id.extend_from_slice(f.id.as_bytes());
    id.push(0x01);
    m.extend(id);
    m.extend(sml_entry([1, 0, 1, 8, 0, 255], f.import_wh, 0, 30));
    m.extend(sml_entry([1, 0, 16, 7, 0, 255], f.import_w, 0, 27));
    m.extend(sml_entry([1, 0, 36, 7, 0, 255], f.l1_w, 0, 27));
    m.extend(sml_entry([1, 0, 32, 7, 0, 255], f.l1_dv, -1, 35));
    m.extend(sml_entry([1, 0, 31, 7, 0, 255], f.l1_ma, -3, 33));
    m.extend_from_slice(&[0x01, 0x01, 0x63, 0x00, 0x00, 0x00]);
    hearth_meter::sml::encode_frame(&m)
}

/// An IEC 62056-21 mode C data readout (§6.3.2): identification, STX, data sets with short
/// OBIS addresses, `!`, ETX and the BCC (XOR after STX up to ETX). The meter's local clock
/// (0.9.1, 0.9.2) is Central European; a reset clock reads 1999-12-31 23:59:59 (a 7-digit
/// date, its first digit 0 for the 1900s).
fn iec(f: &Fields) -> Vec<u8> {
    let (date, time) = if f.clock_reset {
        ("0991231", "235959")
    } else {
        ("260115", "130000")
    };
    let id = if f.id == OBIS_ID {
        OBIS_ID_DOTTED
    } else {
        f.id
    };
    let data = format!(
        "96.1.0({id})\r\n0.9.1({time})\r\n0.9.2({date})\r\n1.8.0({}*kWh)\r\n\
         1.7.0({}*kW)\r\n21.7.0({}*kW)\r\n32.7.0({}*V)\r\n31.7.0({}*A)\r\n!\r\n",
        fixed(f.import_wh, 3),
        fixed(f.import_w, 3),
        fixed(f.l1_w, 3),
        fixed(f.l1_dv, 1),
        fixed(f.l1_ma, 3),
    );
    let mut out = b"/ISK5ME162-0033\r\n\x02".to_vec();
    let start = out.len();
    out.extend_from_slice(data.as_bytes());
    out.push(0x03);
    let bcc = out[start..].iter().fold(0u8, |a, b| a ^ b);
    out.push(bcc);
    out
}

/// A Tasmota SML reader's MQTT message (`mosquitto_sub -v` line), as the Tasmota preset maps
/// it. Its time is the receiver's, so a reset clock cannot show.
fn tasmota(f: &Fields) -> Vec<u8> {
    format!(
        "tele/tasmota_1A2B3C/SENSOR {{\"Time\":\"2026-01-15T13:00:00\",\"SML\":{{\
         \"Total_in\":{},\"Power_curr\":{},\"power_l1\":{},\"voltage_l1\":{},\
         \"current_l1\":{},\"Meter_Id\":\"{}\"}}}}\n",
        fixed(f.import_wh, 3),
        f.import_w,
        f.l1_w,
        fixed(f.l1_dv, 1),
        fixed(f.l1_ma, 3),
        f.id
    )
    .into_bytes()
}

/// A Glow (Hildebrand) `electricitymeter` message, in the shape its device publishes (see
/// `fixtures/glow/README.md`): power in kW, a UTC timestamp (2150 on a broken clock).
fn glow(f: &Fields) -> Vec<u8> {
    let stamp = if f.clock_reset {
        "2150-01-01T00:00:00Z"
    } else {
        "2026-01-15T12:00:00Z"
    };
    format!(
        "glow/BCDDC2C4ABD0/SENSOR/electricitymeter {{\"electricitymeter\":{{\"timestamp\":\
         \"{stamp}\",\"energy\":{{\"export\":{{\"cumulative\":0.000,\"units\":\"kWh\"}},\
         \"import\":{{\"cumulative\":{},\"units\":\"kWh\",\"mpan\":\"1012345678901\"}}}},\
         \"power\":{{\"value\":{},\"units\":\"kW\"}}}}}}\n",
        fixed(f.import_wh, 3),
        fixed(f.import_w, 3)
    )
    .into_bytes()
}

/// One protocol: its name, its builder and the decoders it is read with in Hearth (the
/// protocol named, and auto-detection where it detects the format).
struct Proto {
    name: &'static str,
    build: fn(&Fields) -> Vec<u8>,
    decoders: fn() -> Vec<Box<dyn Decoder>>,
}

fn named(p: Protocol) -> Box<dyn Decoder> {
    auto::decoder(p, None).unwrap()
}

const DSMR: Proto = Proto {
    name: "dsmr",
    build: dsmr,
    decoders: || vec![named(Protocol::Dsmr), Box::new(AutoDecoder::new())],
};
const DLMS: Proto = Proto {
    name: "dlms",
    build: dlms,
    decoders: || vec![named(Protocol::Dlms), Box::new(AutoDecoder::new())],
};
const SML: Proto = Proto {
    name: "sml",
    build: sml,
    decoders: || vec![named(Protocol::Sml), Box::new(AutoDecoder::new())],
};
const IEC: Proto = Proto {
    name: "iec62056-21",
    build: iec,
    decoders: || vec![named(Protocol::Iec62056_21), Box::new(AutoDecoder::new())],
};
/// The MQTT bridge as collect reads it (`Checked` around the preset's decoder).
const MQTT: Proto = Proto {
    name: "mqtt",
    build: tasmota,
    decoders: || {
        vec![Box::new(Checked::new(MappedDecoder::new(
            MqttMapping::tasmota_sml(),
        )))]
    },
};
const GLOW: Proto = Proto {
    name: "glow",
    build: glow,
    decoders: || vec![named(Protocol::Glow)],
};

fn decode(dec: &mut dyn Decoder, bytes: &[u8]) -> Decoded {
    dec.push(bytes);
    let mut out: Vec<_> = std::iter::from_fn(|| dec.next()).collect();
    out.extend(std::iter::from_fn(|| dec.finish()));
    assert_eq!(out.len(), 1, "one frame");
    let d = out
        .pop()
        .unwrap()
        .unwrap_or_else(|r| panic!("rejected: {r}"));
    assert_eq!(dec.stats().accepted, 1);
    assert_eq!(dec.stats().rejected(), 0);
    d
}

fn is_dropped(message: &str) -> bool {
    message.contains(" dropped: ")
}

/// The plausible frame of `p`, decoded: exactly these quantities, the meter id and the time.
fn fine(p: &Proto, quantities: &[(Q, i64)], time: Option<&str>) -> Decoded {
    let mut last = None;
    for mut dec in (p.decoders)() {
        let d = decode(dec.as_mut(), &(p.build)(&FINE));
        let got: Vec<(Q, i64)> = d.reading.quantities().collect();
        assert_eq!(got, quantities, "{}: the plausible frame", p.name);
        assert_eq!(
            d.reading.time.map(|t| t.to_string()).as_deref(),
            time,
            "{}",
            p.name
        );
        assert!(
            !d.diagnostics.iter().any(|x| is_dropped(&x.message)),
            "{}: {:?}",
            p.name,
            d.diagnostics
        );
        assert_eq!(dec.stats().implausible, 0);
        last = Some(d);
    }
    last.unwrap()
}

/// What a field's drop says, as `plausible` words it.
fn said(field: &str, value: &str, rule: &str) -> (String, String) {
    let why = match rule {
        "voltage" => "a household voltage is 0 or between 80 and 300 V",
        "current" => "a household current is within ±500 A",
        "power" => "a household connection carries at most ±60 kW",
        "beyond" => "the power is more than the phase's voltage and current can carry",
        "current-beyond-power" => "the current is far larger than the power needs",
        "meter-id" => "a meter id is not an OBIS code",
        "year" => "a meter time lies between the years 2000 and 2100",
        other => panic!("{other}"),
    };
    (field.to_owned(), format!("{field} {value} dropped: {why}"))
}

/// Decodes `bad` with every decoder of `p` and checks that exactly the fields in `dropped`
/// went, with those diagnostics, counted; the reading is otherwise the plausible one.
fn drops(p: &Proto, original: &Decoded, bad: Fields, dropped: &[(String, String)]) {
    let mut expected = original.reading.clone();
    for (field, _) in dropped {
        match field.as_str() {
            "meter_id" => expected.meter_id = None,
            "time" => expected.time = None,
            name => {
                let q = Q::ALL.into_iter().find(|q| q.name() == name).unwrap();
                assert!(expected.get(q).is_some(), "{}: {name} in the frame", p.name);
                expected.clear(q);
            }
        }
    }
    for mut dec in (p.decoders)() {
        let got = decode(dec.as_mut(), &(p.build)(&bad));
        assert_eq!(got.reading, expected, "{}: {bad:?}", p.name);
        let told: Vec<(String, String)> = got
            .diagnostics
            .iter()
            .filter(|x| is_dropped(&x.message))
            .map(|x| {
                assert_eq!(x.line, 0);
                (x.code.clone(), x.message.clone())
            })
            .collect();
        assert_eq!(told, dropped, "{}: {bad:?}", p.name);
        // The frame's other diagnostics are those of the plausible frame.
        let others = |d: &Decoded| {
            d.diagnostics
                .iter()
                .filter(|x| !is_dropped(&x.message))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(others(&got), others(original), "{}", p.name);
        assert_eq!(
            dec.stats().implausible,
            dropped.len() as u64,
            "{}: counted",
            p.name
        );
    }
}

/// The seven rules (the power-versus-V×A rule twice: per phase and for the total) on the
/// plausible frame of `p`. `exports` says whether the frame also carries the export powers
/// (a net power split in two, or the meter's own export registers), which go with the power
/// they belong to; `clock` the reset clock's time as the diagnostic shows it, if `p` carries
/// a meter time.
fn every_rule(p: &Proto, original: &Decoded, exports: bool, clock: Option<&str>) {
    let with_exports = |fields: &[(&str, &str)], rule: &str| -> Vec<(String, String)> {
        fields
            .iter()
            .filter(|(f, _)| exports || !f.contains("export"))
            .map(|(f, v)| said(f, v, rule))
            .collect()
    };
    // 30.0 V: a scaler read wrong.
    drops(
        p,
        original,
        Fields { l1_dv: 300, ..FINE },
        &[said("l1_v", "30.0", "voltage")],
    );
    // 900 A, as the Kamstrup frames of issue 19.
    drops(
        p,
        original,
        Fields {
            l1_ma: 900_000,
            ..FINE
        },
        &[said("l1_a", "900.000", "current")],
    );
    // 900 kW.
    drops(
        p,
        original,
        Fields {
            import_w: 900_000,
            ..FINE
        },
        &[said("import_w", "900000", "power")],
    );
    // 5 kW on a phase that carries 230.1 V × (5.2 A + 1 A rounding) × 1.1 = 1569 W at most:
    // the phase's current and power contradict each other, and neither is kept.
    drops(
        p,
        original,
        Fields {
            l1_w: 5_000,
            ..FINE
        },
        &with_exports(
            &[
                ("l1_a", "5.200"),
                ("l1_import_w", "5000"),
                ("l1_export_w", "0"),
            ],
            "beyond",
        ),
    );
    // 5 kW in total while the only phase carries 1569 W at most.
    drops(
        p,
        original,
        Fields {
            import_w: 5_000,
            ..FINE
        },
        &with_exports(
            &[("import_w", "5000"), ("export_w", "0"), ("l1_a", "5.200")],
            "beyond",
        ),
    );
    // 60 A for 1.2 kW: at a power factor of 0.1 that needs 52.2 A, plus 5 A that draw nothing.
    drops(
        p,
        original,
        Fields {
            l1_ma: 60_000,
            ..FINE
        },
        &with_exports(
            &[
                ("l1_a", "60.000"),
                ("l1_import_w", "1200"),
                ("l1_export_w", "0"),
            ],
            "current-beyond-power",
        ),
    );
    // The OBIS code of the meter id, read where the id should be (the E450 of issue 19).
    let obis = if p.name == "iec62056-21" {
        OBIS_ID_DOTTED
    } else {
        OBIS_ID
    };
    drops(
        p,
        original,
        Fields {
            id: OBIS_ID,
            ..FINE
        },
        &[said("meter_id", obis, "meter-id")],
    );
    if let Some(clock) = clock {
        drops(
            p,
            original,
            Fields {
                clock_reset: true,
                ..FINE
            },
            &[said("time", clock, "year")],
        );
    }
}

#[test]
fn dsmr_every_rule() {
    let original = fine(
        &DSMR,
        &[
            (Q::ImportWh, 1_234_567),
            (Q::ImportT1Wh, 1_234_567),
            (Q::ImportT2Wh, 0),
            (Q::ImportW, 1_200),
            (Q::ExportW, 0),
            (Q::L1Dv, 2_301),
            (Q::L1Ma, 5_200),
            (Q::L1ImportW, 1_200),
            (Q::L1ExportW, 0),
        ],
        Some("2026-01-15T13:00:00+01:00"),
    );
    assert_eq!(
        original.reading.meter_id.as_ref().unwrap().as_str(),
        FINE.id
    );
    every_rule(&DSMR, &original, true, Some("2000-01-01T00:00:00+01:00"));
}

#[test]
fn dlms_every_rule() {
    let original = fine(
        &DLMS,
        &[
            (Q::ImportWh, 1_234_567),
            (Q::ImportW, 1_200),
            (Q::L1Dv, 2_301),
            (Q::L1Ma, 5_200),
            (Q::L1ImportW, 1_200),
        ],
        Some("2026-01-15T12:00:00+00:00"),
    );
    assert_eq!(
        original.reading.meter_id.as_ref().unwrap().as_str(),
        FINE.id
    );
    every_rule(&DLMS, &original, false, Some("1999-12-31T23:59:59+00:00"));
}

#[test]
fn sml_every_rule() {
    let original = fine(
        &SML,
        &[
            (Q::ImportWh, 1_234_567),
            (Q::ImportW, 1_200),
            (Q::ExportW, 0),
            (Q::L1Dv, 2_301),
            (Q::L1Ma, 5_200),
            (Q::L1ImportW, 1_200),
            (Q::L1ExportW, 0),
        ],
        Some("2026-01-15T12:00:00+00:00"),
    );
    assert_eq!(
        original.reading.meter_id.as_ref().unwrap().as_str(),
        FINE.id
    );
    every_rule(&SML, &original, true, Some("1999-12-31T23:59:59+00:00"));
}

#[test]
fn iec62056_21_every_rule() {
    let original = fine(
        &IEC,
        &[
            (Q::ImportWh, 1_234_567),
            (Q::ImportW, 1_200),
            (Q::L1Dv, 2_301),
            (Q::L1Ma, 5_200),
            (Q::L1ImportW, 1_200),
        ],
        Some("2026-01-15T13:00:00+01:00"),
    );
    assert_eq!(
        original.reading.meter_id.as_ref().unwrap().as_str(),
        FINE.id
    );
    every_rule(&IEC, &original, false, Some("1999-12-31T23:59:59+01:00"));
}

#[test]
fn mqtt_bridge_every_rule() {
    let original = fine(
        &MQTT,
        &[
            (Q::ImportWh, 1_234_567),
            (Q::ImportW, 1_200),
            (Q::L1Dv, 2_301),
            (Q::L1Ma, 5_200),
            (Q::L1ImportW, 1_200),
        ],
        None,
    );
    assert_eq!(
        original.reading.meter_id.as_ref().unwrap().as_str(),
        FINE.id
    );
    every_rule(&MQTT, &original, false, None);
}

#[test]
fn glow_power_and_time() {
    let original = fine(
        &GLOW,
        &[
            (Q::ImportWh, 1_234_567),
            (Q::ExportWh, 0),
            (Q::ImportW, 1_200),
        ],
        Some("2026-01-15T12:00:00+00:00"),
    );
    drops(
        &GLOW,
        &original,
        Fields {
            import_w: 900_000,
            ..FINE
        },
        &[said("import_w", "900000", "power")],
    );
    drops(
        &GLOW,
        &original,
        Fields {
            clock_reset: true,
            ..FINE
        },
        &[said("time", "2150-01-01T00:00:00+00:00", "year")],
    );
}

/// The builders write what their specifications say: the DSMR CRC is the one in a real
/// telegram, the HDLC frame check sequence is right, the SML frame ends with its CRC.
#[test]
fn the_builders_frame_as_the_specifications_do() {
    let v5 = std::fs::read(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr/v5.p1"),
    )
    .unwrap();
    let bang = v5.iter().position(|&b| b == b'!').unwrap();
    assert_eq!(
        format!("{:04X}", crc16_arc(&v5[..=bang])).as_bytes(),
        &v5[bang + 1..bang + 5]
    );
    let frame = dlms(&FINE);
    let n = frame.len();
    assert_eq!((frame[0], frame[n - 1]), (0x7E, 0x7E));
    assert_eq!(
        crc16_x25(&frame[1..n - 3]).to_le_bytes(),
        [frame[n - 3], frame[n - 2]]
    );
    let file = sml(&FINE);
    assert_eq!(&file[..8], &[0x1B, 0x1B, 0x1B, 0x1B, 1, 1, 1, 1]);
    let m = file.len();
    assert_eq!(
        crc16_x25(&file[..m - 2]).to_le_bytes(),
        [file[m - 2], file[m - 1]]
    );
}
