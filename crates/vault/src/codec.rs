//! The vault's chunk codec: a run of [`Reading`]s in, a few bytes per reading out, and back
//! exactly. Sealing (encryption, padding) happens after this, in the vault; this module only
//! turns readings into compact plaintext bytes and never panics on any input it decodes.
//!
//! # Why it is small
//!
//! A chunk (an hour of 1-s readings, or a month of rollups) is stored *column by column*:
//! all timestamps, then all `import_kwh` values, and so on. Within a column, neighbouring
//! values are alike, and each column is coded with whichever of a few reversible transforms
//! makes it cheapest:
//!
//! - **differencing** (order 0, 1 or 2): a steady 1-s clock becomes all zeros after two
//!   differences, an energy register becomes mostly zeros and small steps after one;
//! - **a common factor** divided out (currents sent in whole amperes but stored in mA);
//! - **zero runs**: a mostly-zero column is written as (how many zeros, next value) pairs, so
//!   a constant column costs a few bytes whatever its length;
//! - **a relation** with other columns: `import_kwh` is stored as its difference from
//!   `import_kwh_t1 + import_kwh_t2` (usually zero), `import_w` against the phase powers,
//!   `l2_*`/`l3_*` against `l1_*` (a three-phase inverter and the grid move all phases
//!   together). Which relations pay is decided per chunk, biggest saving first.
//!
//! Columns longer than 512 values pick their coding on a sample (four evenly spread runs of
//! 128) and are then coded whole that way. A long column's bytes are range-coded with an
//! adaptive binary model when that beats what zstd's Huffman stage is expected to do (zstd
//! cannot spend less than one bit per byte; mostly-zero deltas need far less). Finally the
//! whole body goes through zstd, kept only if that made the chunk smaller. Strings (meter
//! id, DSMR version, protocol) go into per-chunk dictionaries and the readings store their
//! index.
//!
//! # Format, version 1, byte by byte
//!
//! `varint` is unsigned LEB128 (7 bits per byte, low bits first, high bit set on all bytes
//! but the last, at most 10 bytes); `svarint` is a varint of the zigzag-mapped signed value
//! (`0, -1, 1, -2, ...` → `0, 1, 2, 3, ...`). All arithmetic on values wraps modulo 2⁶⁴,
//! so every `i64` (including `i64::MIN` and `i64::MAX`) survives exactly.
//!
//! ```text
//! chunk    = version:u8 (= 1)  flags:u8  content
//! flags    : bit 0 = content is zstd-compressed; bits 1-7 are 0
//! content  = body                                   (flags bit 0 clear)
//!          | body_len:varint  zstd_frame            (flags bit 0 set; body_len <= 128 MiB)
//! body     = n:varint                               (readings in the chunk, <= MAX_READINGS)
//!            dict(protocol) dict(meter_id) dict(dsmr_version)
//!            columns:varint  column*                (tags strictly increasing)
//!            (nothing after the last column)
//! dict     = count:varint  (len:varint  utf8_bytes[len])*
//!            protocol names are `Protocol::name()` (`dsmr`, `dlms`, ...)
//! column   = tag:u8  header:u8  [presence]  payload
//! payload  = factor:varint  head:svarint*  body              (header bit 6 clear)
//!          | len:varint  coded_len:varint  coded[coded_len]  (header bit 6 set)
//! ```
//!
//! Column tags: `0..=38` are the quantities in `Quantity` order (`0` = `tariff`, `1` =
//! `import_kwh`, ..., `38` = `heat_gj`; stored integers in Wh, W, dV, mA, varh, thousandths,
//! counts, dm³, MJ as documented on `Quantity`). Times come in pairs, seconds since the Unix
//! epoch then the meter's UTC offset in seconds: `64/65` = `time`, `66/67` =
//! `demand_peak_month_time`, `68/69` = `gas_time`, `70/71` = `water_time`, `72/73` =
//! `heat_time`; both of a pair have the same presence. `80` = protocol, `81` = meter id and
//! `82` = DSMR version, each an index into its dictionary. A column in which no reading has a
//! value is left out; the protocol column is present whenever `n > 0`.
//!
//! Column `header` bits: bit 0 = `presence` follows (otherwise every reading has a value);
//! bits 1-2 = relation variant (0 = none, see below); bits 3-4 = differencing order `k`
//! (0, 1 or 2); bit 5 = body in zero runs (otherwise dense); bit 6 = payload range-coded;
//! bit 7 is 0.
//!
//! - `presence` = `runs:varint` then `runs` varint lengths alternating absent, present,
//!   absent, ... starting with an absent run (only the first may be 0); they add up to `n`.
//!   Let `m` be the number of readings with a value.
//! - `factor` ≥ 1 multiplies every body value; `head` is `min(k, m)` values stored as they
//!   are; the body holds the other `m - min(k, m)` values divided by `factor`:
//!   dense = one `svarint` each; zero runs = `nonzero:varint` then per nonzero value
//!   `zeros_before:varint  value:svarint`, the rest being zeros.
//! - Undo differencing: for pass `p` from `k-1` down to 0, for `i` from `p+1` to `m-1`:
//!   `v[i] += v[i-1]`. (Order 1 stores the first value and the deltas; order 2 the first
//!   value, the first delta and the delta-of-deltas.)
//! - Relation variants: the decoded values are a residual; add the prediction, computed from
//!   the *final* values of other columns of the same reading (every part is present wherever
//!   the column is): `import_kwh` (1) = `t1 + t2`; `export_kwh` (1) = `t1 + t2`;
//!   `import_w` (1) = `l1_import_w + l2_import_w + l3_import_w`, (2) = that
//!   `- l1_export_w - l2_export_w - l3_export_w + export_w`; `export_w` (1) = sum of the phase
//!   export powers, (2) = that `- (sum of the phase import powers) + import_w`; `l2_v` (1) =
//!   `l1_v`; `l3_v` (1) = `l1_v`; likewise `l2_a`, `l3_a` (1) = `l1_a`; `l2_import_w`,
//!   `l3_import_w` (1) = `l1_import_w`; `l2_export_w`, `l3_export_w` (1) = `l1_export_w`.
//!   A cycle between relations is invalid.
//! - Range coding (`range.rs`, the LZMA binary range coder): `coded` decodes to the `len`
//!   payload bytes (`len <= 20 m + 40`). Each byte is coded most significant bit first down a
//!   binary tree (node 1, then `2 node + bit`) of 255 adaptive probabilities; there are two
//!   trees, the second used when the previous byte had bit 7 set (a varint continues).
//!   Probabilities are 15-bit (start at one half); after each bit, `p += (2^15 - p) >> s`
//!   for a 0 or `p -= p >> s` for a 1, where `s` = `[1,2,2,3,3,3,4,4,4,4,4,5,5,5,5,5,5,5,6,
//!   6,6,6,6,6][seen]` (6 once `seen` >= 24) and `seen` counts that node's earlier bits.
//!   The coder: `range` starts at 2³²-1, `bound = (range >> 15) * p`; a 0 keeps
//!   `[low, low + bound)`, a 1 keeps the rest; renormalise by bytes below 2²⁴; the encoder
//!   flushes 5 bytes, the first output byte is always 0 (as in LZMA).
//!
//! Every count is checked against what can remain, so damaged or hostile bytes give a
//! [`CodecError`] (never a panic, never an unbounded allocation); at most
//! [`MAX_READINGS`] readings per chunk.

mod column;
mod range;
mod varint;

use column::{Column, Prediction};
use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};
use varint::{Reader, put_varint, varint_len};

/// The format version this module writes (and the only one it reads).
pub const VERSION: u8 = 1;

/// The most readings one chunk may hold: a day of 1-s readings or a month of 1-min rollups
/// fit; bigger runs belong in several chunks. [`decode`] rejects more.
pub const MAX_READINGS: usize = 1 << 17;

/// Flag bit: the payload is a zstd frame.
const FLAG_ZSTD: u8 = 1;
/// The largest body accepted from a compressed chunk (bounds the memory a damaged chunk can
/// make the decoder allocate).
const MAX_BODY: usize = 128 << 20;
/// zstd level. Measured on a 1-s DSMR 5 hour: level 9 saves about 3 % more and level 19
/// about 6 %, at several times the encoding time; the import speed matters more.
const ZSTD_LEVEL: i32 = 3;

/// The quantities in tag order, in static memory: iterating `Quantity::ALL` by value copies
/// the array for every reading.
static QUANTITIES: [Quantity; Quantity::COUNT] = Quantity::ALL;

/// First tag of the time pairs (`unix`, `offset_s`).
const TAG_TIMES: u8 = 64;
const TAG_PROTOCOL: u8 = 80;
const TAG_METER_ID: u8 = 81;
const TAG_DSMR_VERSION: u8 = 82;

/// Why a chunk could not be decoded. The vault checks a chunk's authentication before
/// decoding, so in practice these mean a bug or a newer format, not an attacker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The bytes end before the data they announce.
    #[error("stored readings are cut short (the chunk is damaged)")]
    Truncated,
    /// The chunk was written by a newer Hearth with a format this one does not know.
    #[error("stored readings use format version {0}, which this Hearth cannot read: update Hearth")]
    UnsupportedVersion(u8),
    /// The bytes hold something no encoder writes.
    #[error("stored readings are damaged: {0}")]
    Corrupt(&'static str),
    /// The compressed part does not decompress.
    #[error("stored readings are damaged: their compressed data does not unpack")]
    Decompress,
}

/// The auxiliary times of a reading, in tag order after `time`.
fn time_field(r: &Reading, k: usize) -> Option<MeterTime> {
    match k {
        0 => r.time,
        1 => r.demand_peak_month_time,
        2 => r.gas_time,
        3 => r.water_time,
        _ => r.heat_time,
    }
}

fn time_field_mut(r: &mut Reading, k: usize) -> &mut Option<MeterTime> {
    match k {
        0 => &mut r.time,
        1 => &mut r.demand_peak_month_time,
        2 => &mut r.gas_time,
        3 => &mut r.water_time,
        _ => &mut r.heat_time,
    }
}

const TIME_FIELDS: usize = 5;

/// The columns a prediction sums, each with whether it is subtracted.
type Parts = &'static [(Quantity, bool)];

/// The predictions a column may be stored against: (target, variant, signed parts).
/// Part of the format: never change a variant, only add new ones.
const RELATIONS: &[(Quantity, u8, Parts)] = {
    use Quantity::*;
    const P: bool = false; // added
    const M: bool = true; // subtracted
    &[
        (ImportWh, 1, &[(ImportT1Wh, P), (ImportT2Wh, P)]),
        (ExportWh, 1, &[(ExportT1Wh, P), (ExportT2Wh, P)]),
        (
            ImportW,
            1,
            &[(L1ImportW, P), (L2ImportW, P), (L3ImportW, P)],
        ),
        (
            ImportW,
            2,
            &[
                (L1ImportW, P),
                (L2ImportW, P),
                (L3ImportW, P),
                (L1ExportW, M),
                (L2ExportW, M),
                (L3ExportW, M),
                (ExportW, P),
            ],
        ),
        (
            ExportW,
            1,
            &[(L1ExportW, P), (L2ExportW, P), (L3ExportW, P)],
        ),
        (
            ExportW,
            2,
            &[
                (L1ExportW, P),
                (L2ExportW, P),
                (L3ExportW, P),
                (L1ImportW, M),
                (L2ImportW, M),
                (L3ImportW, M),
                (ImportW, P),
            ],
        ),
        (L2Dv, 1, &[(L1Dv, P)]),
        (L3Dv, 1, &[(L1Dv, P)]),
        (L2Ma, 1, &[(L1Ma, P)]),
        (L3Ma, 1, &[(L1Ma, P)]),
        (L2ImportW, 1, &[(L1ImportW, P)]),
        (L3ImportW, 1, &[(L1ImportW, P)]),
        (L2ExportW, 1, &[(L1ExportW, P)]),
        (L3ExportW, 1, &[(L1ExportW, P)]),
    ]
};

fn relation(tag: u8, variant: u8) -> Option<Parts> {
    RELATIONS
        .iter()
        .find(|(q, v, _)| *q as u8 == tag && *v == variant)
        .map(|(_, _, parts)| *parts)
}

/// The prediction of a relation at every reading, or `None` if some reading has the target
/// but misses a part.
fn predict(
    columns: &[Option<Column>],
    target: &Column,
    parts: &[(Quantity, bool)],
) -> Option<Vec<i64>> {
    let mut pred = vec![0i64; target.present.len()];
    for &(q, minus) in parts {
        let part = columns.get(q as usize)?.as_ref()?;
        for (i, slot) in pred.iter_mut().enumerate() {
            if target.present[i] {
                let v = part.get(i)?;
                *slot = if minus {
                    slot.wrapping_sub(v)
                } else {
                    slot.wrapping_add(v)
                };
            }
        }
    }
    Some(pred)
}

/// Strings of one kind, numbered in order of first appearance.
#[derive(Default)]
struct Dictionary<'a> {
    entries: Vec<&'a str>,
}

impl<'a> Dictionary<'a> {
    fn index(&mut self, s: &'a str) -> i64 {
        // Chunks hold one meter (rarely two), so a linear search beats hashing.
        let i = match self.entries.iter().position(|e| *e == s) {
            Some(i) => i,
            None => {
                self.entries.push(s);
                self.entries.len() - 1
            }
        };
        i as i64
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_varint(out, self.entries.len() as u64);
        for e in &self.entries {
            put_varint(out, e.len() as u64);
            out.extend_from_slice(e.as_bytes());
        }
    }
}

fn read_dictionary<'a>(r: &mut Reader<'a>) -> Result<Vec<&'a str>, CodecError> {
    let count = r.count(r.remaining(), "a dictionary is longer than the chunk")?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.count(r.remaining(), "a text is longer than the chunk")?;
        let bytes = r.bytes(len)?;
        let s =
            std::str::from_utf8(bytes).map_err(|_| CodecError::Corrupt("a text is not UTF-8"))?;
        entries.push(s);
    }
    Ok(entries)
}

/// Encodes readings (in the order given) into one chunk. Lossless: [`decode`] gives back
/// readings equal to these. Chunks should hold at most [`MAX_READINGS`] readings.
pub fn encode(readings: &[Reading]) -> Vec<u8> {
    let n = readings.len();
    debug_assert!(
        n <= MAX_READINGS,
        "a chunk holds at most MAX_READINGS readings"
    );
    let mut columns: Vec<Option<Column>> = vec![None; 256];

    // One pass over the readings (each is a few hundred bytes) filling every column at once.
    let mut quantities: Vec<Column> = (0..Quantity::COUNT)
        .map(|_| Column::with_capacity(n))
        .collect();
    for r in readings {
        for (c, &q) in quantities.iter_mut().zip(&QUANTITIES) {
            c.push(r.get(q));
        }
    }
    for (slot, c) in columns.iter_mut().zip(quantities) {
        *slot = Some(c);
    }
    for k in 0..TIME_FIELDS {
        let mut unix = Column::with_capacity(n);
        let mut offset = Column::with_capacity(n);
        for r in readings {
            let t = time_field(r, k);
            unix.push(t.map(|t| t.unix));
            offset.push(t.map(|t| i64::from(t.offset_s)));
        }
        columns[usize::from(TAG_TIMES) + 2 * k] = Some(unix);
        columns[usize::from(TAG_TIMES) + 2 * k + 1] = Some(offset);
    }
    let mut protocols = Dictionary::default();
    let mut meter_ids = Dictionary::default();
    let mut versions = Dictionary::default();
    let mut protocol = Column::with_capacity(n);
    let mut meter_id = Column::with_capacity(n);
    let mut version = Column::with_capacity(n);
    for r in readings {
        protocol.push(Some(protocols.index(r.protocol.name())));
        meter_id.push(r.meter_id.as_ref().map(|id| meter_ids.index(id.as_str())));
        version.push(r.dsmr_version.as_deref().map(|v| versions.index(v)));
    }
    columns[usize::from(TAG_PROTOCOL)] = Some(protocol);
    columns[usize::from(TAG_METER_ID)] = Some(meter_id);
    columns[usize::from(TAG_DSMR_VERSION)] = Some(version);

    let mut body = Vec::with_capacity(16 * n + 64);
    put_varint(&mut body, n as u64);
    protocols.write(&mut body);
    meter_ids.write(&mut body);
    versions.write(&mut body);
    let written: Vec<usize> = (0..columns.len())
        .filter(|&t| columns[t].as_ref().is_some_and(|c| !c.is_absent()))
        .collect();
    put_varint(&mut body, written.len() as u64);
    let plans = relation_plans(&columns, &written);
    for &tag in &written {
        let Some(col) = columns[tag].as_ref() else {
            continue;
        };
        body.push(tag as u8);
        match plans.iter().find(|(t, _)| *t == tag) {
            Some((_, plan)) => column::write(&mut body, col, plan),
            None => column::write(&mut body, col, &column::plan(col, true, &[])),
        }
    }

    let mut out = Vec::with_capacity(body.len() / 2 + 16);
    out.push(VERSION);
    COMPRESSOR.with_borrow_mut(|zstd| match zstd.compress(&body) {
        Some(z) if z.len() + varint_len(body.len() as u64) < body.len() => {
            out.push(FLAG_ZSTD);
            put_varint(&mut out, body.len() as u64);
            out.extend_from_slice(z);
        }
        _ => {
            out.push(0);
            out.extend_from_slice(&body);
        }
    });
    out
}

/// A zstd compression context and its output buffer, kept per thread: setting up a context
/// (its tables are hundreds of kilobytes) costs more than compressing one chunk's body.
struct Compressor {
    context: Option<zstd::bulk::Compressor<'static>>,
    buffer: Vec<u8>,
}

impl Compressor {
    /// The body compressed at [`ZSTD_LEVEL`], or `None` if zstd failed (the body is then
    /// stored as it is).
    fn compress(&mut self, body: &[u8]) -> Option<&[u8]> {
        if self.context.is_none() {
            self.context = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        let context = self.context.as_mut()?;
        self.buffer.clear();
        self.buffer.reserve(zstd::compress_bound(body.len()));
        match context.compress_to_buffer(body, &mut self.buffer) {
            Ok(_) => Some(&self.buffer),
            Err(_) => {
                // A context that failed mid-frame is not trusted again.
                self.context = None;
                None
            }
        }
    }
}

thread_local! {
    static COMPRESSOR: std::cell::RefCell<Compressor> = const {
        std::cell::RefCell::new(Compressor {
            context: None,
            buffer: Vec::new(),
        })
    };
}

/// Decodes a chunk written by [`encode`]. Damaged, truncated or foreign bytes give an error,
/// never a panic.
pub fn decode(bytes: &[u8]) -> Result<Vec<Reading>, CodecError> {
    let mut r = Reader::new(bytes);
    let version = r.u8()?;
    if version != VERSION {
        return Err(CodecError::UnsupportedVersion(version));
    }
    let flags = r.u8()?;
    if flags & !FLAG_ZSTD != 0 {
        return Err(CodecError::Corrupt("the chunk has unknown flags"));
    }
    if flags & FLAG_ZSTD != 0 {
        let len = r.count(MAX_BODY, "the chunk announces too much data")?;
        let body = zstd::bulk::decompress(r.rest(), len).map_err(|_| CodecError::Decompress)?;
        if body.len() != len {
            return Err(CodecError::Decompress);
        }
        decode_body(&mut Reader::new(&body))
    } else {
        decode_body(&mut r)
    }
}

fn decode_body(r: &mut Reader<'_>) -> Result<Vec<Reading>, CodecError> {
    let n = r.count(MAX_READINGS, "the chunk holds too many readings")?;
    let protocols = read_dictionary(r)?
        .into_iter()
        .map(|name| Protocol::from_name(name).ok_or(CodecError::Corrupt("unknown protocol")))
        .collect::<Result<Vec<_>, _>>()?;
    let meter_ids = read_dictionary(r)?;
    let versions = read_dictionary(r)?;

    let count = r.count(256, "the chunk has too many columns")?;
    let mut columns: Vec<Option<Column>> = vec![None; 256];
    let mut variants = [0u8; 256];
    let mut last: Option<u8> = None;
    for _ in 0..count {
        let tag = r.u8()?;
        if last.is_some_and(|l| tag <= l) {
            return Err(CodecError::Corrupt("columns are out of order"));
        }
        last = Some(tag);
        if !known_tag(tag) {
            return Err(CodecError::Corrupt("a column is of an unknown kind"));
        }
        let (col, variant) = column::decode(r, n)?;
        if variant != 0 && relation(tag, variant).is_none() {
            return Err(CodecError::Corrupt(
                "a column refers to an unknown relation",
            ));
        }
        variants[usize::from(tag)] = variant;
        columns[usize::from(tag)] = Some(col);
    }
    if r.remaining() != 0 {
        return Err(CodecError::Corrupt("there are bytes after the last column"));
    }
    resolve_relations(&mut columns, &mut variants)?;

    let mut readings = vec![Reading::new(Protocol::Dsmr); n];
    match &columns[usize::from(TAG_PROTOCOL)] {
        Some(col) => {
            for (reading, i) in readings.iter_mut().zip(0..) {
                let p = col
                    .get(i)
                    .ok_or(CodecError::Corrupt("a reading has no protocol"))?;
                reading.protocol = *usize::try_from(p)
                    .ok()
                    .and_then(|p| protocols.get(p))
                    .ok_or(CodecError::Corrupt("a protocol index is out of range"))?;
            }
        }
        None if n > 0 => return Err(CodecError::Corrupt("the readings have no protocol")),
        None => {}
    }
    for q in Quantity::ALL {
        if let Some(col) = &columns[q as usize] {
            for (reading, v) in readings
                .iter_mut()
                .zip(0..)
                .filter_map(|(r, i)| col.get(i).map(|v| (r, v)))
            {
                reading.set(q, v);
            }
        }
    }
    for k in 0..TIME_FIELDS {
        let unix = &columns[usize::from(TAG_TIMES) + 2 * k];
        let offset = &columns[usize::from(TAG_TIMES) + 2 * k + 1];
        match (unix, offset) {
            (None, None) => {}
            (Some(unix), Some(offset)) if unix.present == offset.present => {
                for (i, reading) in readings.iter_mut().enumerate() {
                    if let (Some(u), Some(o)) = (unix.get(i), offset.get(i)) {
                        let offset_s = i32::try_from(o).map_err(|_| {
                            CodecError::Corrupt("a time zone offset is out of range")
                        })?;
                        *time_field_mut(reading, k) = Some(MeterTime { unix: u, offset_s });
                    }
                }
            }
            _ => return Err(CodecError::Corrupt("a time lacks its offset or instant")),
        }
    }
    for (tag, dict) in [(TAG_METER_ID, &meter_ids), (TAG_DSMR_VERSION, &versions)] {
        let Some(col) = &columns[usize::from(tag)] else {
            continue;
        };
        for (i, reading) in readings.iter_mut().enumerate() {
            let Some(v) = col.get(i) else { continue };
            let s = usize::try_from(v)
                .ok()
                .and_then(|v| dict.get(v))
                .ok_or(CodecError::Corrupt("a text index is out of range"))?;
            if tag == TAG_METER_ID {
                reading.meter_id = Some(MeterId::new(*s));
            } else {
                reading.dsmr_version = Some((*s).to_owned());
            }
        }
    }
    Ok(readings)
}

/// Decides which columns are stored against a relation. Each relation is worth what it saves
/// over coding the column alone; the biggest savings are taken first, skipping any that would
/// make two columns predict each other (`import_w` and `export_w` can each predict the other,
/// and only the costlier of the two should be the one predicted).
fn relation_plans(columns: &[Option<Column>], written: &[usize]) -> Vec<(usize, column::Plan)> {
    // (saving, tag, choice, prediction values)
    let mut options: Vec<(f64, usize, column::Choice, Vec<i64>)> = Vec::new();
    let mut plain: Vec<(usize, column::Choice)> = Vec::new();
    for &tag in written {
        let Some(col) = columns[tag].as_ref() else {
            continue;
        };
        let mut own = None;
        for &(q, variant, parts) in RELATIONS {
            if q as usize != tag {
                continue;
            }
            let Some(pred) = predict(columns, col, parts) else {
                continue;
            };
            if own.is_none() {
                own = column::choose(col, true, &[]).map(|(c, _)| c);
            }
            let Some(alone) = own else { continue };
            let Some((p, _)) = column::choose(
                col,
                false,
                &[Prediction {
                    variant,
                    values: &pred,
                }],
            ) else {
                continue;
            };
            if p.cost < alone.cost {
                options.push((alone.cost - p.cost, tag, p, pred));
            }
        }
        if let Some(own) = own {
            plain.push((tag, own));
        }
    }
    options.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut chosen = [0u8; 256];
    let mut plans: Vec<(usize, column::Plan)> = Vec::new();
    for (_, tag, choice, pred) in options {
        if chosen[tag] != 0 || depends_on(&chosen, plan_parts(tag, choice.variant()), tag) {
            continue;
        }
        chosen[tag] = choice.variant();
        let Some(col) = columns[tag].as_ref() else {
            continue;
        };
        let prediction = Prediction {
            variant: choice.variant(),
            values: &pred,
        };
        plans.push((tag, column::build(col, choice, Some(&prediction))));
    }
    for (tag, choice) in plain {
        if chosen[tag] == 0
            && let Some(col) = columns[tag].as_ref()
        {
            plans.push((tag, column::build(col, choice, None)));
        }
    }
    plans
}

fn plan_parts(tag: usize, variant: u8) -> Parts {
    relation(tag as u8, variant).unwrap_or(&[])
}

/// Whether any of `parts`, following the relations chosen so far, leads back to `target`.
fn depends_on(chosen: &[u8; 256], parts: &[(Quantity, bool)], target: usize) -> bool {
    parts.iter().any(|&(p, _)| {
        let p = p as usize;
        p == target || depends_on(chosen, relation(p as u8, chosen[p]).unwrap_or(&[]), target)
    })
}

fn known_tag(tag: u8) -> bool {
    usize::from(tag) < Quantity::COUNT
        || (TAG_TIMES..TAG_TIMES + 2 * TIME_FIELDS as u8).contains(&tag)
        || (TAG_PROTOCOL..=TAG_DSMR_VERSION).contains(&tag)
}

/// Adds the predictions back to residual columns, parts first; a cycle is an error.
fn resolve_relations(
    columns: &mut [Option<Column>],
    variants: &mut [u8; 256],
) -> Result<(), CodecError> {
    loop {
        let mut progressed = false;
        let mut pending = false;
        for tag in 0..variants.len() {
            let variant = variants[tag];
            if variant == 0 {
                continue;
            }
            let parts = relation(tag as u8, variant).ok_or(CodecError::Corrupt(
                "a column refers to an unknown relation",
            ))?;
            if parts.iter().any(|&(p, _)| variants[p as usize] != 0) {
                pending = true;
                continue;
            }
            let Some(mut target) = columns[tag].take() else {
                return Err(CodecError::Corrupt(
                    "a column refers to an unknown relation",
                ));
            };
            let pred = predict(columns, &target, parts).ok_or(CodecError::Corrupt(
                "a column refers to values that are missing",
            ))?;
            for (v, p) in target.values.iter_mut().zip(&pred) {
                *v = v.wrapping_add(*p);
            }
            columns[tag] = Some(target);
            variants[tag] = 0;
            progressed = true;
        }
        if !pending {
            return Ok(());
        }
        if !progressed {
            return Err(CodecError::Corrupt(
                "columns refer to each other in a circle",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2000 readings with a noisy power and voltage, so their columns are range-coded.
    fn noisy() -> Vec<Reading> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 41) as i64 - 20
        };
        let mut w = 500;
        (0..2000)
            .map(|i| {
                let mut r = Reading::new(Protocol::Dsmr);
                r.time = Some(MeterTime::utc(1_781_514_000 + i));
                w = (w + next()).max(0);
                r.set(Quantity::ImportW, w);
                r.set(Quantity::L1Dv, 2300 + next() / 4);
                r
            })
            .collect()
    }

    /// The same chunk with its body stored uncompressed, so damage reaches the columns.
    fn uncompressed(chunk: &[u8]) -> Vec<u8> {
        if chunk[1] == 0 {
            return chunk.to_vec();
        }
        let mut r = Reader::new(&chunk[2..]);
        let len = r.count(MAX_BODY, "len").expect("length");
        let body = zstd::bulk::decompress(r.rest(), len).expect("zstd");
        let mut out = vec![VERSION, 0];
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn the_reused_compressor_writes_what_a_fresh_one_would() {
        // The thread's zstd context is reused from chunk to chunk: each chunk must still be
        // exactly what a new context makes of its body, whatever was compressed before.
        // The noisy power copied into the gas register: its coded bytes repeat those of
        // `import_w`, which zstd finds, so the chunk goes through zstd.
        let a: Vec<Reading> = noisy()
            .into_iter()
            .map(|mut r| {
                if let Some(w) = r.get(Quantity::ImportW) {
                    r.set(Quantity::GasDm3, w);
                }
                r
            })
            .collect();
        let b: Vec<Reading> = noisy().into_iter().rev().take(700).collect();
        let first = encode(&a);
        let _ = encode(&b);
        let again = encode(&a);
        assert_eq!(first, again);
        assert_eq!(first[1], FLAG_ZSTD, "the noisy chunk is worth compressing");
        let plain = uncompressed(&first);
        let fresh = zstd::bulk::compress(&plain[2..], ZSTD_LEVEL).expect("zstd");
        let mut expected = vec![VERSION, FLAG_ZSTD];
        put_varint(&mut expected, (plain.len() - 2) as u64);
        expected.extend_from_slice(&fresh);
        assert_eq!(first, expected);
    }

    #[test]
    fn range_coded_columns_survive_and_damage_never_panics() {
        let readings = noisy();
        let chunk = encode(&readings);
        let plain = uncompressed(&chunk);
        assert_eq!(decode(&plain).as_deref(), Ok(&readings[..]));
        // Header bit 6 set on some column: the noisy ones were range-coded.
        let ranged = (0..plain.len() - 1)
            .any(|i| plain[i] == Quantity::ImportW as u8 && plain[i + 1] & 0x40 != 0);
        assert!(ranged, "import_w is range-coded");
        let mut x = 7u64;
        for round in 0..1500 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mut c = plain.clone();
            let at = 2 + (x >> 33) as usize % (c.len() - 2);
            c[at] ^= 1 << (round % 8);
            let _ = decode(&c);
            c.truncate(at);
            assert!(decode(&c).is_err(), "a truncated chunk decoded");
        }
    }
}
