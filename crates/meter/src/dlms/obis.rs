//! OBIS codes (IEC 62056-61) and how they map onto the canonical [`Reading`], shared by the
//! DLMS, SML and IEC 62056-21 decoders.
//!
//! Meters send a raw integer, a decimal scaler and a unit; [`ReadingBuilder::number`] turns
//! that into the stored integer of a [`Quantity`] (Wh, W, dV, mA, varh, var, thousandths)
//! exactly, in integer arithmetic. Where the meter's resolution is finer than the stored unit
//! (SML's 0.1 Wh), registers are truncated towards minus infinity (never booking energy that
//! has not been used yet) and instantaneous values are rounded half away from zero.

use crate::decoder::{Decoded, Diagnostic};
use crate::reading::{Kind, MeterId, Protocol, Quantity, Reading};
use crate::time::MeterTime;
use std::fmt;

/// An OBIS code `A-B:C.D.E*F`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Obis(pub [u8; 6]);

impl Obis {
    /// Reads a 6-byte OBIS code as DLMS and SML send it.
    pub fn from_bytes(bytes: &[u8]) -> Option<Obis> {
        let b: [u8; 6] = bytes.try_into().ok()?;
        Some(Obis(b))
    }

    /// Reads the text forms `1-0:1.8.0*255`, `1-0:1.8.0`, `1.8.0`, `1.8.0*01` and `C.8`
    /// (A, B and F may be left out; a missing E counts as 0). Letters `C` and `F` stand
    /// for 96, 97, 98 and 99 in the C and D groups, as IEC 62056-21 readouts write them (`C.1.0`).
    pub fn parse_text(text: &str) -> Option<Obis> {
        let (ab, cdef) = match text.split_once(':') {
            Some((ab, rest)) => (Some(ab), rest),
            None => (None, text),
        };
        let (a, b) = match ab {
            Some(ab) => {
                let (a, b) = ab.split_once('-')?;
                (a.parse().ok()?, b.parse().ok()?)
            }
            None => (1, 0),
        };
        let (cde, f) = match cdef.split_once(['*', '&']) {
            Some((cde, f)) => (cde, f.parse().ok()?),
            None => (cdef, 255),
        };
        let mut parts = cde.split('.');
        let group = |s: &str| match s {
            "C" => Some(96),
            "F" => Some(97),
            "L" => Some(98),
            "P" => Some(99),
            s => s.parse().ok(),
        };
        let c = group(parts.next()?)?;
        let d = group(parts.next()?)?;
        let e = match parts.next() {
            Some(e) => e.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Obis([a, b, c, d, e, f]))
    }

    /// The value group C (what is measured).
    pub const fn c(self) -> u8 {
        self.0[2]
    }

    /// Value groups C, D and E, the part that names the quantity.
    pub const fn cde(self) -> (u8, u8, u8) {
        (self.0[2], self.0[3], self.0[4])
    }
}

impl fmt::Display for Obis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, _] = self.0;
        write!(f, "{a}-{b}:{c}.{d}.{e}")
    }
}

impl fmt::Debug for Obis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The physical dimension a quantity is measured in, with its DLMS unit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// Active energy, Wh (DLMS unit 30).
    Energy,
    /// Reactive energy, varh (32).
    ReactiveEnergy,
    /// Active power, W (27).
    Power,
    /// Reactive power, var (29).
    ReactivePower,
    /// Voltage, V (35), stored in dV.
    Voltage,
    /// Current, A (33), stored in mA.
    Current,
    /// A plain number such as the power factor (255), stored in thousandths.
    Ratio,
}

impl Dimension {
    /// The DLMS/SML unit code (IEC 62056-62 table "Enumerated values for physical units").
    pub const fn unit_code(self) -> u8 {
        match self {
            Dimension::Energy => 30,
            Dimension::ReactiveEnergy => 32,
            Dimension::Power => 27,
            Dimension::ReactivePower => 29,
            Dimension::Voltage => 35,
            Dimension::Current => 33,
            Dimension::Ratio => 255,
        }
    }

    /// Powers of ten between the SI unit and the stored integer (V → dV is 1).
    pub const fn stored_shift(self) -> i32 {
        match self {
            Dimension::Voltage => 1,
            Dimension::Current | Dimension::Ratio => 3,
            _ => 0,
        }
    }

    /// The unit's symbol, for diagnostics.
    pub const fn symbol(self) -> &'static str {
        match self {
            Dimension::Energy => "Wh",
            Dimension::ReactiveEnergy => "varh",
            Dimension::Power => "W",
            Dimension::ReactivePower => "var",
            Dimension::Voltage => "V",
            Dimension::Current => "A",
            Dimension::Ratio => "(none)",
        }
    }
}

/// What an OBIS code means for the canonical reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A quantity of the reading, in a dimension.
    Quantity(Quantity, Dimension),
    /// Signed total active power (16.7.0): positive imports, negative exports.
    NetPower,
    /// Signed active power of one phase (36.7.0, 56.7.0, 76.7.0), phase index 0..3.
    NetPhasePower(usize),
    /// Absolute active power without direction (15.7.0): never stored, since import and
    /// export cannot be told apart.
    AbsolutePower,
    /// A meter identifier, with its rank (the highest rank present wins).
    MeterId(u8),
    /// The meter's clock.
    Clock,
    /// Not something the reading holds.
    Other,
}

/// Maps an OBIS code to what it means. Only current values (F = 255, or 0) of electricity (A = 1; A = 0 for the abstract
/// objects: clock and identifiers) is mapped; B (the channel) is ignored, since Kamstrup
/// sends B = 1 where others send 0.
pub fn target(obis: Obis) -> Target {
    use Dimension as D;
    use Quantity as Q;
    let [a, _b, c, d, e, f] = obis.0;
    if f != 255 && f != 0 {
        // F = 1..254 names a historical value (an earlier billing period), not the current one.
        return Target::Other;
    }
    let q = |q, dim| Target::Quantity(q, dim);
    match (a, c, d, e) {
        (0, 1, 0, 0) => Target::Clock,
        (0 | 1, 96, 1, 0) => Target::MeterId(5),
        (1, 0, 0, 5) => Target::MeterId(4),
        (1, 0, 0, 0) => Target::MeterId(3),
        (0 | 1, 0, 0, 9) => Target::MeterId(2),
        (0, 96, 1, 1) => Target::MeterId(1),
        // The logical device name (manufacturer code and serial), which Iskra lists carry
        // as their only identifier.
        (0, 42, 0, 0) => Target::MeterId(1),
        (1, 1, 8, 0) => q(Q::ImportWh, D::Energy),
        (1, 1, 8, 1) => q(Q::ImportT1Wh, D::Energy),
        (1, 1, 8, 2) => q(Q::ImportT2Wh, D::Energy),
        (1, 2, 8, 0) => q(Q::ExportWh, D::Energy),
        (1, 2, 8, 1) => q(Q::ExportT1Wh, D::Energy),
        (1, 2, 8, 2) => q(Q::ExportT2Wh, D::Energy),
        (1, 3, 8, 0) => q(Q::ReactiveImportVarh, D::ReactiveEnergy),
        (1, 4, 8, 0) => q(Q::ReactiveExportVarh, D::ReactiveEnergy),
        (1, 1, 7, 0) => q(Q::ImportW, D::Power),
        (1, 2, 7, 0) => q(Q::ExportW, D::Power),
        (1, 3, 7, 0) => q(Q::ReactiveImportVar, D::ReactivePower),
        (1, 4, 7, 0) => q(Q::ReactiveExportVar, D::ReactivePower),
        (1, 16, 7, 0) => Target::NetPower,
        (1, 15, 7, 0) => Target::AbsolutePower,
        (1, 36, 7, 0) => Target::NetPhasePower(0),
        (1, 56, 7, 0) => Target::NetPhasePower(1),
        (1, 76, 7, 0) => Target::NetPhasePower(2),
        (1, 21, 7, 0) => q(Q::L1ImportW, D::Power),
        (1, 41, 7, 0) => q(Q::L2ImportW, D::Power),
        (1, 61, 7, 0) => q(Q::L3ImportW, D::Power),
        (1, 22, 7, 0) => q(Q::L1ExportW, D::Power),
        (1, 42, 7, 0) => q(Q::L2ExportW, D::Power),
        (1, 62, 7, 0) => q(Q::L3ExportW, D::Power),
        (1, 31, 7, 0) => q(Q::L1Ma, D::Current),
        (1, 51, 7, 0) => q(Q::L2Ma, D::Current),
        (1, 71, 7, 0) => q(Q::L3Ma, D::Current),
        (1, 32, 7, 0) => q(Q::L1Dv, D::Voltage),
        (1, 52, 7, 0) => q(Q::L2Dv, D::Voltage),
        (1, 72, 7, 0) => q(Q::L3Dv, D::Voltage),
        (1, 13, 7, 0) => q(Q::PowerFactorMilli, D::Ratio),
        _ => Target::Other,
    }
}

/// `raw × 10^exp` as an `i64`, exactly when `exp ≥ 0`. For `exp < 0` registers are floored
/// and instantaneous values rounded half away from zero. `None` when it does not fit.
pub fn scale(raw: i128, exp: i32, kind: Kind) -> Option<i64> {
    let v = if exp >= 0 {
        let m = 10i128.checked_pow(u32::try_from(exp).ok()?)?;
        raw.checked_mul(m)?
    } else {
        let Some(d) = 10i128.checked_pow(exp.unsigned_abs()) else {
            return Some(0);
        };
        match kind {
            Kind::Register => raw.div_euclid(d),
            _ => {
                let q = raw / d;
                let r = raw % d;
                if r.abs() * 2 >= d {
                    q + raw.signum()
                } else {
                    q
                }
            }
        }
    };
    i64::try_from(v).ok()
}

/// A raw value as a meter sent it, before it is placed in the reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// An integer.
    Int(i128),
    /// Bytes (identifiers, texts, time stamps).
    Bytes(&'a [u8]),
}

/// Collects OBIS values into a [`Reading`] plus [`Diagnostic`]s.
#[derive(Debug)]
pub struct ReadingBuilder {
    reading: Reading,
    diagnostics: Vec<Diagnostic>,
    id_rank: u8,
    net_w: Option<i64>,
    abs_w: Option<i64>,
    phase_net_w: [Option<i64>; 3],
}

impl ReadingBuilder {
    /// An empty builder for a protocol.
    pub fn new(protocol: Protocol) -> Self {
        ReadingBuilder {
            reading: Reading::new(protocol),
            diagnostics: Vec::new(),
            id_rank: 0,
            net_w: None,
            abs_w: None,
            phase_net_w: [None; 3],
        }
    }

    /// The reading so far.
    pub fn reading_mut(&mut self) -> &mut Reading {
        &mut self.reading
    }

    /// Records something odd about object number `index`.
    pub fn diagnose(&mut self, index: u32, code: impl fmt::Display, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            line: index,
            code: code.to_string(),
            message: message.into(),
        });
    }

    /// Sets the meter time (the first one given wins).
    pub fn time(&mut self, t: MeterTime) {
        if self.reading.time.is_none() {
            self.reading.time = Some(t);
        }
    }

    /// Places one numeric value. `unit` is the unit code the meter sent (`None` when it sent
    /// none: the value is then taken to be in the quantity's own unit, scaled by `scaler`).
    pub fn number(&mut self, index: u32, obis: Obis, raw: i128, scaler: i8, unit: Option<u8>) {
        let (dim, place): (Dimension, Place) = match target(obis) {
            Target::Quantity(q, dim) => (dim, Place::Quantity(q)),
            Target::NetPower => (Dimension::Power, Place::Net),
            Target::AbsolutePower => (Dimension::Power, Place::Abs),
            Target::NetPhasePower(p) => (Dimension::Power, Place::Phase(p)),
            Target::MeterId(rank) => {
                // Some meters send their serial number as an integer.
                self.meter_id(rank, raw.to_string());
                return;
            }
            Target::Clock => {
                self.diagnose(index, obis, "the clock is a number, not a date and time");
                return;
            }
            Target::Other => return,
        };
        if let Some(u) = unit
            && u != dim.unit_code()
            && !(dim == Dimension::Ratio && u == 0)
        {
            self.diagnose(
                index,
                obis,
                format!(
                    "unit code {u} where {} was expected; value ignored",
                    dim.symbol()
                ),
            );
            return;
        }
        let kind = match place {
            Place::Quantity(q) => q.kind(),
            _ => Kind::Instant,
        };
        let Some(v) = scale(raw, i32::from(scaler) + dim.stored_shift(), kind) else {
            self.diagnose(
                index,
                obis,
                format!("value {raw} × 10^{scaler} is out of range"),
            );
            return;
        };
        match place {
            Place::Quantity(q) => self.reading.set(q, v),
            Place::Net => self.net_w = Some(v),
            Place::Abs => self.abs_w = Some(v),
            Place::Phase(p) => self.phase_net_w[p] = Some(v),
        }
    }

    /// Places a byte-string value: identifiers; anything else is ignored.
    pub fn bytes(&mut self, index: u32, obis: Obis, value: &[u8]) {
        match target(obis) {
            Target::MeterId(rank) => self.meter_id(rank, id_text(value)),
            Target::Quantity(..)
            | Target::NetPower
            | Target::NetPhasePower(_)
            | Target::AbsolutePower => {
                self.diagnose(index, obis, "a number was expected, the meter sent text");
            }
            Target::Clock | Target::Other => {}
        }
    }

    /// Sets the meter id unless one of a higher rank (see [`Target::MeterId`]) is already set.
    pub fn meter_id(&mut self, rank: u8, id: String) {
        if rank > self.id_rank && !id.is_empty() {
            self.id_rank = rank;
            self.reading.meter_id = Some(MeterId::new(id));
        }
    }

    /// Finishes the reading: signed powers become import/export pairs where the meter did not
    /// send those directly, totals are summed from tariff registers.
    pub fn finish(mut self) -> Decoded {
        let r = &mut self.reading;
        let split = |r: &mut Reading, v: i64, imp: Quantity, exp: Quantity| {
            if r.get(imp).is_none() && r.get(exp).is_none() {
                r.set(imp, v.max(0));
                r.set(exp, v.min(0).saturating_neg());
            }
        };
        if let Some(v) = self.net_w {
            split(r, v, Quantity::ImportW, Quantity::ExportW);
        } else if let Some(v) = self.abs_w.filter(|_| r.get(Quantity::ImportW).is_none()) {
            // Never a guess: whether this is import or export is in a status bit that differs
            // between makers and firmware (an EMH ED300L's "delivery" capture has the bit other
            // users report for import), and a one-way meter delivers too.
            self.diagnostics.push(Diagnostic {
                line: 0,
                code: "1-0:15.7.0".into(),
                message: format!(
                    "the meter sends its power ({v} W) without a direction, so it cannot be \
                     told as import or export; not stored (the registers still give the energy)"
                ),
            });
        }
        let phases = [
            (Quantity::L1ImportW, Quantity::L1ExportW),
            (Quantity::L2ImportW, Quantity::L2ExportW),
            (Quantity::L3ImportW, Quantity::L3ExportW),
        ];
        for (v, (imp, exp)) in self.phase_net_w.into_iter().zip(phases) {
            if let Some(v) = v {
                split(r, v, imp, exp);
            }
        }
        r.fill_totals();
        Decoded {
            reading: self.reading,
            diagnostics: self.diagnostics,
        }
    }
}

#[derive(Clone, Copy)]
enum Place {
    Quantity(Quantity),
    Net,
    Abs,
    Phase(usize),
}

/// An identifier as text: printable ASCII as is, anything else as lowercase hex.
pub fn id_text(value: &[u8]) -> String {
    if !value.is_empty() && value.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        String::from_utf8_lossy(value).trim().to_string()
    } else {
        let mut s = String::with_capacity(value.len() * 2);
        for b in value {
            s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(
            Obis::parse_text("1-0:1.8.0*255"),
            Some(Obis([1, 0, 1, 8, 0, 255]))
        );
        assert_eq!(Obis::parse_text("1.8.1"), Some(Obis([1, 0, 1, 8, 1, 255])));
        assert_eq!(
            Obis::parse_text("0-0:C.1.0"),
            Some(Obis([0, 0, 96, 1, 0, 255]))
        );
        assert_eq!(Obis::parse_text("1.8.0*01"), Some(Obis([1, 0, 1, 8, 0, 1])));
        assert_eq!(Obis::parse_text("F.F"), Some(Obis([1, 0, 97, 97, 0, 255])));
        assert_eq!(Obis::parse_text("1.8.x"), None);
        assert_eq!(Obis::parse_text("1-0:1.8.0.1"), None);
        assert_eq!(Obis([1, 0, 32, 7, 0, 255]).to_string(), "1-0:32.7.0");
    }

    #[test]
    fn scaling_is_exact_in_integers() {
        // 54301577 × 0.1 Wh = 5430157.7 Wh: a register floors to 5430157.
        assert_eq!(scale(54_301_577, -1, Kind::Register), Some(5_430_157));
        // -29912 × 0.01 W = -299.12 W rounds to -299; 299.5 rounds away from zero.
        assert_eq!(scale(-29_912, -2, Kind::Instant), Some(-299));
        assert_eq!(scale(2_995, -1, Kind::Instant), Some(300));
        assert_eq!(scale(-2_995, -1, Kind::Instant), Some(-300));
        assert_eq!(scale(-5, -1, Kind::Register), Some(-1));
        // 2324 × 10³ Wh.
        assert_eq!(scale(2_324, 3, Kind::Register), Some(2_324_000));
        assert_eq!(scale(i128::MAX, 2, Kind::Register), None);
        assert_eq!(scale(1, -100, Kind::Instant), Some(0));
        assert_eq!(scale(i128::from(u64::MAX), 0, Kind::Register), None);
    }

    #[test]
    fn identifiers_as_text() {
        assert_eq!(id_text(b"7359992892587665"), "7359992892587665");
        assert_eq!(id_text(&[0x0a, 0x01, 0x44, 0x5a]), "0a01445a");
        assert_eq!(id_text(b""), "");
    }
}
