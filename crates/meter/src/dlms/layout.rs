//! Positional DLMS lists (bare values without OBIS codes) of the meter families Hearth knows,
//! declared as data and recognised by their signature, never by their length alone.
//!
//! A positional list says nothing about what each value is: the meaning comes from the meter
//! family's documentation. Two families send lists of the same length with different meanings
//! (a Norwegian Kaifa list 3 and a Slovenian Iskra AM550 5-second list both hold 18 values), so
//! a list is mapped only when its **signature** matches exactly one [`Layout`]:
//! - the number of values and the A-XDR type of each, in order, and
//! - the strings the family puts in fixed places (the list identifier, the logical device name
//!   or the meter-id prefix), where it has them.
//!
//! Anything else is refused as [`RejectReason::UnknownLayout`](crate::RejectReason) by the
//! decoder, with the signature in the detail.

use super::axdr::{self, Value};
use super::obis::Obis;
use std::fmt;

/// A-XDR type tags used in the layouts.
pub mod tag {
    /// `octet-string`.
    pub const OCTETS: u8 = 0x09;
    /// `double-long-unsigned` (u32).
    pub const U32: u8 = 0x06;
    /// `long-unsigned` (u16).
    pub const U16: u8 = 0x12;
    /// `enum`.
    pub const ENUM: u8 = 0x16;
}

/// The name of an A-XDR type tag (IEC 62056-6-2 `Data` choice).
pub fn type_name(tag: u8) -> &'static str {
    match tag {
        0x00 => "null-data",
        0x01 => "array",
        0x02 => "structure",
        0x03 => "boolean",
        0x04 => "bit-string",
        0x05 => "double-long",
        0x06 => "double-long-unsigned",
        0x09 => "octet-string",
        0x0A => "visible-string",
        0x0C => "utf8-string",
        0x0D => "bcd",
        0x0F => "integer",
        0x10 => "long",
        0x11 => "unsigned",
        0x12 => "long-unsigned",
        0x13 => "compact-array",
        0x14 => "long64",
        0x15 => "long64-unsigned",
        0x16 => "enum",
        0x17 => "float32",
        0x18 => "float64",
        0x19 => "date-time",
        0x1A => "date",
        0x1B => "time",
        _ => "unknown type",
    }
}

/// What one position of a layout holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The OBIS code the value stands for, when the family's documentation names one.
    pub obis: Option<Obis>,
    /// The decimal scaler of the value (the list carries none).
    pub scaler: i8,
    /// What the position is, in words (for `--explain`).
    pub name: &'static str,
}

/// A fixed string a family puts at one position of its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// Position in the list (0-based).
    pub index: usize,
    /// The bytes the value there starts with.
    pub prefix: &'static [u8],
    /// Whether the value there is a 12-byte COSEM date-time instead (a year from 2000 to 2099
    /// and a month; `prefix` is then empty).
    pub date_time: bool,
}

/// One known positional list.
#[derive(Debug)]
pub struct Layout {
    /// A short stable name (`kaifa-no-list-2-3ph`).
    pub id: &'static str,
    /// The meter family, country and distributor, in words.
    pub family: &'static str,
    /// The A-XDR type tag of each value, in order.
    pub types: &'static [u8],
    /// Strings the list must carry at fixed positions.
    pub markers: &'static [Marker],
    /// What each position holds (as long as `types`).
    pub fields: &'static [Field],
}

const fn at(code: [u8; 6], scaler: i8, name: &'static str) -> Field {
    Field {
        obis: Some(Obis(code)),
        scaler,
        name,
    }
}

const fn unmapped(name: &'static str) -> Field {
    Field {
        obis: None,
        scaler: 0,
        name,
    }
}

const O: u8 = tag::OCTETS;
const U32: u8 = tag::U32;
const U16: u8 = tag::U16;
const ENUM: u8 = tag::ENUM;
const ARRAY: u8 = 0x01;
const BOOL: u8 = 0x03;

// OBIS codes of the layouts.
const KFM_ID: [u8; 6] = [1, 1, 0, 2, 129, 255];
const METER: [u8; 6] = [0, 0, 96, 1, 0, 255];
const TYPE: [u8; 6] = [0, 0, 96, 1, 7, 255];
const LDN: [u8; 6] = [0, 0, 42, 0, 0, 255];
const CLOCK: [u8; 6] = [0, 0, 1, 0, 0, 255];

const P_IMP: Field = at([1, 0, 1, 7, 0, 255], 0, "active power import (W)");
const P_EXP: Field = at([1, 0, 2, 7, 0, 255], 0, "active power export (W)");
const Q_IMP: Field = at([1, 0, 3, 7, 0, 255], 0, "reactive power import (var)");
const Q_EXP: Field = at([1, 0, 4, 7, 0, 255], 0, "reactive power export (var)");
const A_IMP: Field = at([1, 0, 1, 8, 0, 255], 0, "active energy import (Wh)");
const A_IMP_T1: Field = at(
    [1, 0, 1, 8, 1, 255],
    0,
    "active energy import, tariff 1 (Wh)",
);
const A_IMP_T2: Field = at(
    [1, 0, 1, 8, 2, 255],
    0,
    "active energy import, tariff 2 (Wh)",
);
const A_EXP: Field = at([1, 0, 2, 8, 0, 255], 0, "active energy export (Wh)");
const A_EXP_T1: Field = at(
    [1, 0, 2, 8, 1, 255],
    0,
    "active energy export, tariff 1 (Wh)",
);
const A_EXP_T2: Field = at(
    [1, 0, 2, 8, 2, 255],
    0,
    "active energy export, tariff 2 (Wh)",
);
const R_IMP: Field = at([1, 0, 3, 8, 0, 255], 0, "reactive energy import (varh)");
const R_EXP: Field = at([1, 0, 4, 8, 0, 255], 0, "reactive energy export (varh)");

// Kaifa (Norway): currents in mA, voltages in 0.1 V.
const K_ID: Field = at(KFM_ID, 0, "list identifier");
const K_METER: Field = at(METER, 0, "meter id");
const K_TYPE: Field = at(TYPE, 0, "meter type");
const K_I1: Field = at([1, 0, 31, 7, 0, 255], -3, "current L1 (mA)");
const K_I2: Field = at([1, 0, 51, 7, 0, 255], -3, "current L2 (mA)");
const K_I3: Field = at([1, 0, 71, 7, 0, 255], -3, "current L3 (mA)");
const K_U1: Field = at([1, 0, 32, 7, 0, 255], -1, "voltage L1 (0.1 V)");
const K_U2: Field = at([1, 0, 52, 7, 0, 255], -1, "voltage L2 (0.1 V)");
const K_U3: Field = at([1, 0, 72, 7, 0, 255], -1, "voltage L3 (0.1 V)");
const K_CLOCK: Field = at(CLOCK, 0, "meter clock");

// Iskra AM550 (Slovenia): voltages in 0.1 V, currents in 0.01 A.
const I_LDN: Field = at(LDN, 0, "logical device name (meter id)");
const I_LIST: Field = unmapped("list identifier");
const I_U1: Field = at([1, 0, 32, 7, 0, 255], -1, "voltage L1 (0.1 V)");
const I_U2: Field = at([1, 0, 52, 7, 0, 255], -1, "voltage L2 (0.1 V)");
const I_U3: Field = at([1, 0, 72, 7, 0, 255], -1, "voltage L3 (0.1 V)");
const I_I1: Field = at([1, 0, 31, 7, 0, 255], -2, "current L1 (0.01 A)");
const I_I2: Field = at([1, 0, 51, 7, 0, 255], -2, "current L2 (0.01 A)");
const I_I3: Field = at([1, 0, 71, 7, 0, 255], -2, "current L3 (0.01 A)");
const I_P1: Field = at([1, 0, 21, 7, 0, 255], 0, "active power import L1 (W)");
const I_P2: Field = at([1, 0, 41, 7, 0, 255], 0, "active power import L2 (W)");
const I_P3: Field = at([1, 0, 61, 7, 0, 255], 0, "active power import L3 (W)");
const I_E1: Field = at([1, 0, 22, 7, 0, 255], 0, "active power export L1 (W)");
const I_E2: Field = at([1, 0, 42, 7, 0, 255], 0, "active power export L2 (W)");
const I_E3: Field = at([1, 0, 62, 7, 0, 255], 0, "active power export L3 (W)");

const KFM: &[Marker] = &[Marker {
    index: 0,
    prefix: b"KFM_",
    date_time: false,
}];

/// Every positional list Hearth knows. Add a family here, with a fixture and its source in
/// `tests/fixtures/han/README.md`.
pub static LAYOUTS: &[Layout] = &[
    Layout {
        id: "kaifa-no-list-1",
        family: "Kaifa MA105/MA304 (Norway, NEK HAN list 1)",
        types: &[U32],
        markers: &[],
        fields: &[P_IMP],
    },
    Layout {
        id: "kaifa-no-list-2-1ph",
        family: "Kaifa MA105 single phase (Norway, NEK HAN list 2)",
        types: &[O, O, O, U32, U32, U32, U32, U32, U32],
        markers: KFM,
        fields: &[
            K_ID, K_METER, K_TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, K_I1, K_U1,
        ],
    },
    Layout {
        id: "kaifa-no-list-2-3ph",
        family: "Kaifa MA304 three phase (Norway, NEK HAN list 2)",
        types: &[O, O, O, U32, U32, U32, U32, U32, U32, U32, U32, U32, U32],
        markers: KFM,
        fields: &[
            K_ID, K_METER, K_TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, K_I1, K_I2, K_I3, K_U1, K_U2, K_U3,
        ],
    },
    Layout {
        id: "kaifa-no-list-3-1ph",
        family: "Kaifa MA105 single phase (Norway, NEK HAN list 3)",
        types: &[O, O, O, U32, U32, U32, U32, U32, U32, O, U32, U32, U32, U32],
        markers: KFM,
        fields: &[
            K_ID, K_METER, K_TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, K_I1, K_U1, K_CLOCK, A_IMP, A_EXP,
            R_IMP, R_EXP,
        ],
    },
    Layout {
        id: "kaifa-no-list-3-3ph",
        family: "Kaifa MA304 three phase (Norway, NEK HAN list 3)",
        types: &[
            O, O, O, U32, U32, U32, U32, U32, U32, U32, U32, U32, U32, O, U32, U32, U32, U32,
        ],
        markers: KFM,
        fields: &[
            K_ID, K_METER, K_TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, K_I1, K_I2, K_I3, K_U1, K_U2, K_U3,
            K_CLOCK, A_IMP, A_EXP, R_IMP, R_EXP,
        ],
    },
    Layout {
        id: "iskra-si-ljubljana-instant",
        family: "Iskra AM550 (Slovenia, Elektro Ljubljana, 5-second and 1-second list 16820005)",
        types: &[
            O, O, U32, U32, U32, U32, U16, U16, U16, U16, U16, U16, U32, U32, U32, U32, U32, U32,
        ],
        markers: &[
            Marker {
                index: 0,
                prefix: b"ISK",
                date_time: false,
            },
            Marker {
                index: 1,
                prefix: b"16820005",
                date_time: false,
            },
        ],
        fields: &[
            I_LDN, I_LIST, P_IMP, P_EXP, Q_IMP, Q_EXP, I_U1, I_U2, I_U3, I_I1, I_I2, I_I3, I_P1,
            I_P2, I_P3, I_E1, I_E2, I_E3,
        ],
    },
    Layout {
        id: "iskra-si-ljubljana-energy",
        family: "Iskra AM550 (Slovenia, Elektro Ljubljana, 15-minute energy list 16820006)",
        types: &[O, O, ENUM, O, U32, U32, U32, U32, U32, U32, U32, U32],
        markers: &[
            Marker {
                index: 0,
                prefix: b"ISK",
                date_time: false,
            },
            Marker {
                index: 1,
                prefix: b"16820006",
                date_time: false,
            },
        ],
        fields: &[
            I_LDN,
            I_LIST,
            unmapped("active tariff (not stored)"),
            unmapped("status word (not documented)"),
            A_IMP,
            A_IMP_T1,
            A_IMP_T2,
            A_EXP,
            A_EXP_T1,
            A_EXP_T2,
            R_IMP,
            R_EXP,
        ],
    },
    Layout {
        id: "iskra-si-ljubljana-1ph",
        family: "Iskra AM550 ED1.21 single phase (Slovenia, Elektro Ljubljana, 5-second list)",
        types: &[O, O, U32, U32, U32, U32, U16, U32, U32],
        markers: &[
            Marker {
                index: 0,
                prefix: b"ISK",
                date_time: false,
            },
            Marker {
                index: 1,
                prefix: b"ISK",
                date_time: false,
            },
        ],
        fields: &[
            I_LDN,
            unmapped("meter serial number"),
            P_IMP,
            P_EXP,
            Q_IMP,
            Q_EXP,
            I_U1,
            unmapped("not documented"),
            unmapped("not documented"),
        ],
    },
    Layout {
        id: "iskra-si-celje-instant",
        family: "Iskra AM550 (Slovenia, Elektro Celje, list UP_3f)",
        types: &[O, O, U16, U16, U16, U16, U16, U16, U32, U32, U32, U32],
        markers: &[
            Marker {
                index: 0,
                prefix: b"ISK",
                date_time: false,
            },
            Marker {
                index: 1,
                prefix: b"UP_3f",
                date_time: false,
            },
        ],
        fields: &[
            I_LDN, I_LIST, I_U1, I_U2, I_U3, I_I1, I_I2, I_I3, P_IMP, P_EXP, Q_IMP, Q_EXP,
        ],
    },
    Layout {
        id: "am550-at-wiener-netze",
        family: "Iskra AM550 and the other meters of Wiener Netze (Austria, infrared customer interface)",
        types: &[O, U32, U32, U32, U32, U32, U32, U32, U32],
        markers: &[Marker {
            index: 0,
            prefix: &[],
            date_time: true,
        }],
        fields: &[
            K_CLOCK, A_IMP, A_EXP, R_IMP, R_EXP, P_IMP, P_EXP, Q_IMP, Q_EXP,
        ],
    },
    Layout {
        id: "iskra-am550-at-kaernten",
        family: "Iskra AM550 (Austria, Kärnten Netz, Österreichs Energie customer-interface variant 1)",
        types: &[O, O, O, O, U32, U32, U32, U32, U32, U32, O, O],
        markers: &[Marker {
            index: 0,
            // The push setup's logical name, 0-6:25.9.0.
            prefix: &[0x00, 0x06, 0x19, 0x09, 0x00, 0xFF],
            date_time: false,
        }],
        fields: &[
            unmapped("logical name of the push setup (0-6:25.9.0)"),
            at(METER, 0, "meter number"),
            unmapped("time of day (the header's date-time is used)"),
            unmapped("date (the header's date-time is used)"),
            A_IMP,
            A_EXP,
            R_IMP,
            R_EXP,
            P_IMP,
            P_EXP,
            unmapped("customer information text (empty in the published frames)"),
            unmapped("customer information code (empty in the published frames)"),
        ],
    },
    Layout {
        id: "iskra-ie5-hr-hep",
        family: "Iskra IE.5 (Croatia, HEP ODS, compact push of 33 values)",
        types: &[
            O, O, O, U32, U32, U32, U32, U32, U32, U32, U32, U32, U32, U32, U32, U16, U32, U32,
            U32, U32, U32, U32, U16, U16, U16, U16, U16, U16, U32, ARRAY, ARRAY, ARRAY, BOOL,
        ],
        markers: &[],
        fields: &[
            at(METER, 0, "meter serial number"),
            unmapped("time of day (the header's date-time is used)"),
            unmapped("date (the header's date-time is used)"),
            A_IMP,
            A_IMP_T1,
            A_IMP_T2,
            A_EXP,
            A_EXP_T1,
            A_EXP_T2,
            unmapped("reactive energy (which one is not documented)"),
            unmapped("reactive energy (which one is not documented)"),
            unmapped("reactive energy (which one is not documented)"),
            unmapped("reactive energy (which one is not documented)"),
            P_IMP,
            P_EXP,
            unmapped("not documented"),
            I_P1,
            I_P2,
            I_P3,
            I_E1,
            I_E2,
            I_E3,
            I_U1,
            I_U2,
            I_U3,
            I_I1,
            I_I2,
            I_I3,
            unmapped("not documented"),
            unmapped("not documented"),
            unmapped("not documented"),
            unmapped("not documented"),
            unmapped("relay or status flag"),
        ],
    },
];

/// The encoding of each value directly inside the array or structure that `bytes` starts
/// with; `None` for anything else (a compact array, a simple value, damage).
pub fn element_spans(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let (&t, rest) = bytes.split_first()?;
    if t != 0x01 && t != 0x02 {
        return None;
    }
    let (n, mut rest) = axdr::parse_len(rest).ok()?;
    if n > rest.len() {
        return None;
    }
    let mut spans = Vec::with_capacity(n);
    for _ in 0..n {
        let (_, r) = axdr::parse_value(rest).ok()?;
        spans.push(&rest[..rest.len() - r.len()]);
        rest = r;
    }
    Some(spans)
}

/// Kamstrup OBIS-pair lists carry no scaler: currents are in 0.01 A, except in the long list
/// of 65 elements (list name and 32 OBIS-value pairs, with per-phase powers, power factors and
/// energies; Danish current-transformer meters) whose currents are in mA. Shown by a capture
/// whose currents read 91.0, 95.0 and 92.6 A in mA, matching its 63.4 kvar reactive and
/// 2.6 kW active power at 233 V (at 0.01 A they would read 910 A).
pub const KAMSTRUP_MILLIAMP_LIST_LEN: usize = 65;

/// The A-XDR type tag of each value directly inside the array or structure that `bytes`
/// starts with (see [`element_spans`]). Simple values are stepped over without decoding them
/// (this runs on every positional frame).
pub fn element_types(bytes: &[u8]) -> Option<Vec<u8>> {
    let (&t, rest) = bytes.split_first()?;
    if t != 0x01 && t != 0x02 {
        return None;
    }
    let (n, mut rest) = axdr::parse_len(rest).ok()?;
    if n > rest.len() {
        return None;
    }
    let mut tags = Vec::with_capacity(n);
    for _ in 0..n {
        let (&tag, body) = rest.split_first()?;
        let fixed = match tag {
            0x00 => Some(0),
            0x03 | 0x0F | 0x11 | 0x16 => Some(1),
            0x10 | 0x12 => Some(2),
            0x05 | 0x06 | 0x17 => Some(4),
            0x14 | 0x15 | 0x18 => Some(8),
            0x19 => Some(12),
            _ => None,
        };
        rest = match (fixed, tag) {
            (Some(k), _) => body.get(k..)?,
            (None, 0x09 | 0x0A | 0x0C) => {
                let (len, after) = axdr::parse_len(body).ok()?;
                after.get(len..)?
            }
            (None, _) => axdr::parse_value(rest).ok()?.1,
        };
        tags.push(tag);
    }
    Some(tags)
}

/// The signature of a positional list: its value types in order, shown with runs folded
/// (`9 values: octet-string ×2, double-long-unsigned ×4, long-unsigned, …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature<'a>(pub &'a [u8]);

impl fmt::Display for Signature<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} value{}", if n == 1 { "" } else { "s" })?;
        let mut i = 0;
        let mut first = true;
        while i < n {
            let t = self.0[i];
            let run = self.0[i..].iter().take_while(|&&x| x == t).count();
            f.write_str(if first { ": " } else { ", " })?;
            first = false;
            f.write_str(type_name(t))?;
            if run > 1 {
                write!(f, " ×{run}")?;
            }
            i += run;
        }
        Ok(())
    }
}

fn marker_holds(m: &Marker, list: &[Value<'_>]) -> bool {
    match list.get(m.index) {
        Some(Value::Octets(s)) if m.date_time => {
            s.len() == 12
                && (2000..2100).contains(&u16::from_be_bytes([s[0], s[1]]))
                && (1..=12).contains(&s[2])
        }
        Some(Value::Octets(s) | Value::Text(s)) => !m.date_time && s.starts_with(m.prefix),
        _ => false,
    }
}

/// The one layout whose signature `list` (with value types `types`) matches, or why none is
/// chosen (for the rejection's detail).
pub fn identify(types: &[u8], list: &[Value<'_>]) -> Result<&'static Layout, String> {
    let mut found = LAYOUTS
        .iter()
        .filter(|l| l.types == types && l.markers.iter().all(|m| marker_holds(m, list)));
    match (found.next(), found.next()) {
        (Some(l), None) => Ok(l),
        (None, _) => {
            let near: Vec<&str> = LAYOUTS
                .iter()
                .filter(|l| l.types.len() == types.len())
                .map(|l| l.id)
                .collect();
            let mut s = format!(
                "a list of values without OBIS codes in no known layout (signature: {})",
                Signature(types)
            );
            if !near.is_empty() {
                s.push_str(&format!(
                    "; layouts of the same length whose types or markers differ: {}",
                    near.join(", ")
                ));
            }
            Err(s)
        }
        (Some(a), Some(b)) => Err(format!(
            "a list of values without OBIS codes that fits more than one layout ({}, {}); \
             signature: {}",
            a.id,
            b.id,
            Signature(types)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_is_whole_and_unambiguous() {
        for l in LAYOUTS {
            assert_eq!(l.types.len(), l.fields.len(), "{}", l.id);
            for m in l.markers {
                assert!(m.index < l.types.len(), "{}", l.id);
                assert!(
                    matches!(l.types[m.index], 0x09 | 0x0A | 0x0C),
                    "{}: a marker sits on a string",
                    l.id
                );
            }
        }
        for (i, a) in LAYOUTS.iter().enumerate() {
            for b in &LAYOUTS[i + 1..] {
                assert_ne!(a.id, b.id);
                // Two layouts with the same types must differ in a marker at the same place.
                if a.types == b.types {
                    let differ = a.markers.iter().any(|m| {
                        b.markers
                            .iter()
                            .any(|n| n.index == m.index && !n.prefix.starts_with(m.prefix))
                    });
                    assert!(differ, "{} and {} cannot be told apart", a.id, b.id);
                }
            }
        }
    }

    #[test]
    fn signatures_fold_runs() {
        assert_eq!(
            Signature(&[9, 9, 6, 6, 6, 6, 0x12, 6]).to_string(),
            "8 values: octet-string ×2, double-long-unsigned ×4, long-unsigned, double-long-unsigned"
        );
        assert_eq!(Signature(&[6]).to_string(), "1 value: double-long-unsigned");
        assert_eq!(Signature(&[]).to_string(), "0 values");
    }

    #[test]
    fn types_of_a_structure() {
        // structure of 3: octet-string "AB", long-unsigned 0x0102, structure of 1 (null).
        let bytes = [
            0x02, 0x03, 0x09, 0x02, b'A', b'B', 0x12, 0x01, 0x02, 0x02, 0x01, 0x00,
        ];
        assert_eq!(element_types(&bytes), Some(vec![0x09, 0x12, 0x02]));
        assert_eq!(element_types(&[0x06, 0, 0, 0, 1]), None);
        assert_eq!(element_types(&[0x02, 0x02, 0x12, 0x01]), None);
        assert_eq!(element_types(&[0x02, 0x01, 0x09, 0x03, b'A']), None);
        // The fast path agrees with a full decode on every fixed-size type.
        let all = [
            0x02, 0x0A, 0x00, 0x03, 1, 0x0F, 0xFF, 0x10, 0, 1, 0x05, 0, 0, 0, 1, 0x15, 0, 0, 0, 0,
            0, 0, 0, 1, 0x0A, 0x01, b'x', 0x01, 0x01, 0x11, 7, 0x16, 2, 0x12, 0, 3,
        ];
        let spans = element_spans(&all).unwrap();
        let tags: Vec<u8> = spans.iter().map(|s| s[0]).collect();
        assert_eq!(element_types(&all), Some(tags));
    }
}
