//! One integer column of a chunk: which readings have a value, and the values, coded with the
//! cheapest of a few reversible transforms (see the column section of the format in
//! [`crate::codec`]).

use super::CodecError;
use super::range;
use super::varint::{Reader, put_varint, varint_len, zigzag};

/// Column header bit: presence runs follow (otherwise every reading has a value).
const FLAG_RUNS: u8 = 0b0000_0001;
/// Column header bits: which relation the values are a residual against (0 = none).
const VARIANT_SHIFT: u8 = 1;
/// Column header bits: how many times the values were differenced (0, 1 or 2).
const ORDER_SHIFT: u8 = 3;
/// Column header bit: the body is written as (zeros before, value) pairs.
const FLAG_ZERO_RUNS: u8 = 0b0010_0000;
/// Column header bit: the payload (factor, head, body) is range-coded.
const FLAG_RANGE: u8 = 0b0100_0000;
/// Header bits no version-1 writer sets.
const UNKNOWN_BITS: u8 = 0b1000_0000;
/// Payloads shorter than this are left to zstd.
const RANGE_MIN: usize = 64;

/// The highest relation variant the header can name.
pub(super) const MAX_VARIANT: u8 = 3;

/// Up to `n` optional integers, one per reading of the chunk: a presence flag and a value
/// (0 where absent) per reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Column {
    pub(super) present: Vec<bool>,
    pub(super) values: Vec<i64>,
}

impl Column {
    pub(super) fn with_capacity(n: usize) -> Self {
        Column {
            present: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }

    #[inline]
    pub(super) fn push(&mut self, v: Option<i64>) {
        self.present.push(v.is_some());
        self.values.push(v.unwrap_or(0));
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<i64> {
        match self.present.get(i) {
            Some(true) => self.values.get(i).copied(),
            _ => None,
        }
    }

    /// Whether no reading has a value (such a column is left out of the chunk).
    pub(super) fn is_absent(&self) -> bool {
        !self.present.iter().any(|&p| p)
    }
}

/// A prediction the encoder may subtract before coding: `values[i]` predicts the column's
/// value at every reading where the column is present.
pub(super) struct Prediction<'a> {
    pub(super) variant: u8,
    pub(super) values: &'a [i64],
}

/// The cheapest coding found for a column's values (presence is written separately).
pub(super) struct Plan {
    /// Estimated bytes after zstd.
    pub(super) cost: f64,
    header: u8,
    payload: Vec<u8>,
}

impl Plan {
    /// The relation variant the plan stores the values against (0 = none).
    #[cfg(test)]
    pub(super) fn variant(&self) -> u8 {
        (self.header >> VARIANT_SHIFT) & MAX_VARIANT
    }
}

/// Columns longer than this choose their coding on a sample: this many values taken as a few
/// evenly spread runs (differencing needs neighbours), then code all values that way.
const SAMPLE: usize = 512;
const SAMPLE_RUNS: usize = 4;

/// A coding chosen for a column (its estimated cost and header), before any of its bytes are
/// written: choosing is cheap on a sample, writing touches every value, so only the codings
/// actually used are written.
#[derive(Clone, Copy)]
pub(super) struct Choice {
    /// Estimated bytes after zstd.
    pub(super) cost: f64,
    header: u8,
}

impl Choice {
    /// The relation variant the choice stores the values against (0 = none).
    pub(super) fn variant(&self) -> u8 {
        (self.header >> VARIANT_SHIFT) & MAX_VARIANT
    }
}

/// Finds the cheapest coding of `col` (which must have at least one value): on its own when
/// `plain`, and against each prediction; then writes its payload.
pub(super) fn plan(col: &Column, plain: bool, predictions: &[Prediction<'_>]) -> Plan {
    match choose(col, plain, predictions) {
        Some((choice, base)) => build(col, choice, base.and_then(|i| predictions.get(i))),
        None => Plan {
            cost: 0.0,
            header: 0,
            payload: Vec::new(),
        },
    }
}

/// The values a base codes: the column's present values, or their residuals against a
/// prediction.
fn base_values(col: &Column, prediction: Option<&Prediction<'_>>, out: &mut Vec<i64>) {
    out.clear();
    match prediction {
        None => out.extend(
            col.present
                .iter()
                .zip(&col.values)
                .filter(|(p, _)| **p)
                .map(|(_, v)| *v),
        ),
        Some(pred) => out.extend(
            col.present
                .iter()
                .zip(&col.values)
                .zip(pred.values)
                .filter(|((p, _), _)| **p)
                .map(|((_, v), e)| v.wrapping_sub(*e)),
        ),
    }
}

/// Finds the cheapest coding of `col` (on its own when `plain`, and against each prediction)
/// from a sample of its values; returns it with the prediction it uses (`None` = on its own),
/// or `None` when there is nothing to choose from.
pub(super) fn choose(
    col: &Column,
    plain: bool,
    predictions: &[Prediction<'_>],
) -> Option<(Choice, Option<usize>)> {
    let plain = plain.then_some(None);
    let bases = plain.into_iter().chain((0..predictions.len()).map(Some));
    let mut best: Option<(Choice, Option<usize>)> = None;
    let mut values = Vec::new();
    let mut d = Vec::with_capacity(SAMPLE);
    let all_present = col.present.iter().all(|&p| p);
    for base in bases {
        let prediction = base.and_then(|i| predictions.get(i));
        let m = if all_present {
            // The sample straight from the column: no copy of all its values first.
            sampled_base(col, prediction, &mut d);
            col.values.len()
        } else {
            base_values(col, prediction, &mut values);
            sample(&values, &mut d);
            values.len()
        };
        let scale = m as f64 / d.len().max(1) as f64;
        let variant = prediction.map_or(0, |p| p.variant);
        for order in 0..=2u8 {
            if order > 0 {
                difference(&mut d, usize::from(order - 1));
            }
            let mut all_zero = false;
            for zero_runs in [false, true] {
                let mut hist = Histogram([0; 256]);
                all_zero = payload(&mut hist, &d, order, zero_runs);
                let cost = hist.cost() * scale;
                if best.as_ref().is_none_or(|b| cost < b.0.cost) {
                    let header = variant << VARIANT_SHIFT
                        | order << ORDER_SHIFT
                        | if zero_runs { FLAG_ZERO_RUNS } else { 0 };
                    best = Some((Choice { cost, header }, base));
                }
            }
            if all_zero {
                // Every further difference is zero too: nothing cheaper for this base.
                break;
            }
        }
    }
    best
}

/// Writes the payload of `choice` (made by [`choose`] with this `prediction`).
pub(super) fn build(col: &Column, choice: Choice, prediction: Option<&Prediction<'_>>) -> Plan {
    let mut d = Vec::with_capacity(col.values.len());
    base_values(col, prediction, &mut d);
    let header = choice.header;
    let order = (header >> ORDER_SHIFT) & 0b11;
    for pass in 0..usize::from(order) {
        difference(&mut d, pass);
    }
    let mut out = Vec::with_capacity(d.len() + 16);
    payload(&mut out, &d, order, header & FLAG_ZERO_RUNS != 0);
    // A column of at most SAMPLE values was priced whole, so the choice's cost is already
    // that of these bytes.
    Plan {
        cost: choice.cost,
        header,
        payload: out,
    }
}

/// Where payload bytes go: a buffer when writing, or only their histogram when pricing a
/// candidate coding (the estimate needs the byte frequencies, not the bytes).
trait Sink {
    fn byte(&mut self, b: u8);

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn byte(&mut self, b: u8) {
        self.push(b);
    }

    #[inline]
    fn varint(&mut self, v: u64) {
        put_varint(self, v);
    }
}

/// How often each byte value occurs.
struct Histogram([u32; 256]);

impl Sink for Histogram {
    #[inline]
    fn byte(&mut self, b: u8) {
        self.0[usize::from(b)] += 1;
    }
}

/// Writes factor, head and body of already differenced values; returns whether the body is
/// all zeros.
fn payload<S: Sink>(out: &mut S, d: &[i64], order: u8, zero_runs: bool) -> bool {
    let head = usize::from(order).min(d.len());
    let g = common_factor(&d[head..]);
    out.varint(g);
    for &v in &d[..head] {
        out.varint(zigzag(v));
    }
    if zero_runs {
        write_zero_runs(out, &d[head..], g)
    } else {
        write_dense(out, &d[head..], g);
        false
    }
}

/// Where [`sample`] takes its runs from `m` values.
fn sample_runs(m: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let (runs, run, stride) = if m <= SAMPLE {
        (1, m, 0)
    } else {
        let run = SAMPLE / SAMPLE_RUNS;
        (SAMPLE_RUNS, run, (m - run) / (SAMPLE_RUNS - 1))
    };
    (0..runs).map(move |k| k * stride..k * stride + run)
}

/// [`sample`] of [`base_values`] for a column in which every reading has a value.
fn sampled_base(col: &Column, prediction: Option<&Prediction<'_>>, out: &mut Vec<i64>) {
    out.clear();
    for r in sample_runs(col.values.len()) {
        let values = &col.values[r.clone()];
        match prediction.and_then(|p| p.values.get(r)) {
            Some(pred) => out.extend(values.iter().zip(pred).map(|(v, e)| v.wrapping_sub(*e))),
            None => out.extend_from_slice(values),
        }
    }
}

/// The values themselves when there are few, else `SAMPLE` of them in evenly spread runs.
fn sample(values: &[i64], out: &mut Vec<i64>) {
    out.clear();
    for r in sample_runs(values.len()) {
        out.extend_from_slice(&values[r]);
    }
}

/// Writes `col` coded as `plan` says, range-coding the payload when that beats what zstd is
/// expected to make of it.
pub(super) fn write(out: &mut Vec<u8>, col: &Column, plan: &Plan) {
    let all_present = col.present.iter().all(|&p| p);
    let runs = if all_present { 0 } else { FLAG_RUNS };
    let coded = (plan.payload.len() >= RANGE_MIN)
        .then(|| range::encode(&plan.payload))
        .filter(|c| {
            let total =
                c.len() + varint_len(c.len() as u64) + varint_len(plan.payload.len() as u64);
            (total as f64) < plan.cost
        });
    out.push(plan.header | runs | if coded.is_some() { FLAG_RANGE } else { 0 });
    if !all_present {
        write_presence(out, &col.present);
    }
    match coded {
        Some(c) => {
            put_varint(out, plan.payload.len() as u64);
            put_varint(out, c.len() as u64);
            out.extend_from_slice(&c);
        }
        None => out.extend_from_slice(&plan.payload),
    }
}

/// Reads one column of `n` readings; returns it with the relation variant its values are a
/// residual against (not yet added back).
pub(super) fn decode(r: &mut Reader<'_>, n: usize) -> Result<(Column, u8), CodecError> {
    let header = r.u8()?;
    if header & UNKNOWN_BITS != 0 {
        return Err(CodecError::Corrupt("a column uses an unknown coding"));
    }
    let order = (header >> ORDER_SHIFT) & 0b11;
    if order == 3 {
        return Err(CodecError::Corrupt("a column uses an unknown coding"));
    }
    let variant = (header >> VARIANT_SHIFT) & MAX_VARIANT;
    let present = if header & FLAG_RUNS != 0 {
        read_presence(r, n)?
    } else {
        vec![true; n]
    };
    let m = present.iter().filter(|&&p| p).count();
    let mut d = if header & FLAG_RANGE != 0 {
        // The longest payload a writer makes: factor and head varints, then at most two
        // varints per value.
        let len = r.count(20 * m + 40, "a column is longer than its values")?;
        let coded_len = r.count(r.remaining(), "a column is longer than the chunk")?;
        let payload = range::decode(r.bytes(coded_len)?, len);
        let mut inner = Reader::new(&payload);
        let d = read_payload(&mut inner, header, order, m)?;
        if inner.remaining() != 0 {
            return Err(CodecError::Corrupt("a column has bytes left over"));
        }
        d
    } else {
        read_payload(r, header, order, m)?
    };
    for pass in (0..usize::from(order)).rev() {
        for i in pass + 1..m {
            d[i] = d[i].wrapping_add(d[i - 1]);
        }
    }
    let mut values = vec![0i64; n];
    let mut next = d.into_iter();
    for (slot, _) in values.iter_mut().zip(&present).filter(|(_, p)| **p) {
        *slot = next.next().unwrap_or(0);
    }
    Ok((Column { present, values }, variant))
}

/// Reads factor, head and body: the `m` values still differenced (and maybe a residual).
fn read_payload(
    r: &mut Reader<'_>,
    header: u8,
    order: u8,
    m: usize,
) -> Result<Vec<i64>, CodecError> {
    let g = r.varint()?;
    let g = match i64::try_from(g) {
        Ok(g) if g > 0 => g,
        _ => return Err(CodecError::Corrupt("a column has an impossible scale")),
    };
    let head = usize::from(order).min(m);
    let mut d = Vec::with_capacity(m);
    for _ in 0..head {
        d.push(r.signed()?);
    }
    if header & FLAG_ZERO_RUNS != 0 {
        let k = r.count(m - head, "a column has too many values")?;
        for _ in 0..k {
            let room = m - d.len();
            let zeros = r.count(room, "a column has too many values")?;
            if zeros >= room {
                return Err(CodecError::Corrupt("a column has too many values"));
            }
            d.resize(d.len() + zeros, 0);
            d.push(r.signed()?.wrapping_mul(g));
        }
        d.resize(m, 0);
    } else {
        if m - head > r.remaining() {
            return Err(CodecError::Truncated);
        }
        for _ in head..m {
            d.push(r.signed()?.wrapping_mul(g));
        }
    }
    Ok(d)
}

/// One differencing pass in place, keeping the first `keep + 1` values: pass 0 turns values
/// into (first value, deltas); pass 1 turns those deltas into (first delta, delta-of-deltas).
fn difference(d: &mut [i64], keep: usize) {
    for i in (keep + 1..d.len()).rev() {
        d[i] = d[i].wrapping_sub(d[i - 1]);
    }
}

/// The greatest common divisor of the magnitudes (1 when all are zero or it would not fit).
fn common_factor(body: &[i64]) -> u64 {
    let mut g = 0u64;
    for v in body {
        let mut a = v.unsigned_abs();
        let mut b = g;
        while b != 0 {
            (a, b) = (b, a % b);
        }
        g = a;
        if g == 1 {
            return 1;
        }
    }
    if g == 0 || g > i64::MAX as u64 { 1 } else { g }
}

fn write_dense<S: Sink>(out: &mut S, body: &[i64], g: u64) {
    if g == 1 {
        // The usual case: no division (a 64-bit division costs dozens of cycles).
        for &v in body {
            out.varint(zigzag(v));
        }
        return;
    }
    let g = g as i64;
    for &v in body {
        out.varint(zigzag(v / g));
    }
}

/// Writes (count of nonzero values, then per nonzero value: zeros before it, the value).
/// Returns whether the body was all zeros.
fn write_zero_runs<S: Sink>(out: &mut S, body: &[i64], g: u64) -> bool {
    let g = g as i64;
    let nonzero = body.iter().filter(|&&v| v != 0).count();
    out.varint(nonzero as u64);
    let mut zeros = 0u64;
    for &v in body {
        if v == 0 {
            zeros += 1;
        } else {
            out.varint(zeros);
            out.varint(zigzag(if g == 1 { v } else { v / g }));
            zeros = 0;
        }
    }
    nonzero == 0
}

fn write_presence(out: &mut Vec<u8>, present: &[bool]) {
    // Runs alternate absent, present, absent, ... starting with a (possibly empty) absent run.
    let mut runs = Vec::new();
    let mut current = false;
    let mut len = 0u64;
    for &p in present {
        if p == current {
            len += 1;
        } else {
            runs.push(len);
            current = p;
            len = 1;
        }
    }
    runs.push(len);
    put_varint(out, runs.len() as u64);
    for run in runs {
        put_varint(out, run);
    }
}

fn read_presence(r: &mut Reader<'_>, n: usize) -> Result<Vec<bool>, CodecError> {
    const BAD: CodecError = CodecError::Corrupt("a column's presence does not add up");
    let count = r.count(n.saturating_add(1), "a column's presence does not add up")?;
    let mut present = Vec::with_capacity(n);
    let mut value = false;
    for i in 0..count {
        let len = r.count(n - present.len(), "a column's presence does not add up")?;
        if len == 0 && i > 0 {
            return Err(BAD);
        }
        present.resize(present.len() + len, value);
        value = !value;
    }
    if present.len() != n {
        return Err(BAD);
    }
    Ok(present)
}

/// What the bytes should cost after zstd's literal coding: Huffman needs at least one bit per
/// byte, and about -log2(p) bits for a byte of frequency p.
#[cfg(test)]
fn estimated_cost(bytes: &[u8]) -> f64 {
    let mut hist = Histogram([0; 256]);
    for &b in bytes {
        hist.byte(b);
    }
    hist.cost()
}

impl Histogram {
    /// What the bytes counted should cost after zstd's literal coding: Huffman needs at least
    /// one bit per byte, and about -log2(p) bits for a byte of frequency p.
    fn cost(&self) -> f64 {
        let total = self.0.iter().map(|&c| f64::from(c)).sum::<f64>();
        let mut bits = 0.0;
        for &c in self.0.iter().filter(|&&c| c > 0) {
            let c = f64::from(c);
            bits += c * (total / c).log2().max(1.0) + 8.0;
        }
        bits / 8.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[Option<i64>]) -> Column {
        let mut c = Column::with_capacity(values.len());
        for &v in values {
            c.push(v);
        }
        c
    }

    fn round_trip(values: &[Option<i64>]) -> Vec<u8> {
        let col = column(values);
        let mut out = Vec::new();
        write(&mut out, &col, &plan(&col, true, &[]));
        let mut r = Reader::new(&out);
        let (back, variant) = decode(&mut r, values.len()).expect("decodes");
        assert_eq!(variant, 0);
        assert_eq!(r.remaining(), 0);
        assert_eq!(back, col);
        out
    }

    #[test]
    fn steady_clock_costs_a_few_bytes() {
        // 1-s timestamps: second differences are all zero. Expected bytes: header, scale 1,
        // head (x0 = 1_700_000_000 zigzagged: 5 varint bytes, first delta 1 → 2: 1 byte),
        // zero nonzero values (1 byte) = 1 + 1 + 5 + 1 + 1 = 9.
        let ts: Vec<_> = (0..3600).map(|i| Some(1_700_000_000 + i)).collect();
        let out = round_trip(&ts);
        assert_eq!(out.len(), 9);
        assert_eq!(out[0], 2 << ORDER_SHIFT | FLAG_ZERO_RUNS);
    }

    #[test]
    fn common_factor_is_divided_out() {
        // Currents in whole amperes stored as mA: deltas are multiples of 1000.
        let ma: Vec<_> = [2000, 3000, 3000, 1000, 6000].map(Some).to_vec();
        let out = round_trip(&ma);
        // header, scale 1000 (2 bytes), then the differenced values divided by 1000.
        assert_eq!(&out[1..3], &[0xe8, 0x07]);
        assert_eq!(common_factor(&[0, 0]), 1);
        assert_eq!(common_factor(&[i64::MIN, 0]), 1);
        assert_eq!(common_factor(&[-12, 18]), 6);
    }

    #[test]
    fn presence_runs_and_extremes_round_trip() {
        round_trip(&[
            None,
            Some(i64::MIN),
            Some(i64::MAX),
            None,
            None,
            Some(0),
            Some(-1),
        ]);
        round_trip(&[
            Some(i64::MAX),
            Some(i64::MIN),
            Some(i64::MAX),
            Some(i64::MIN),
        ]);
        round_trip(&[Some(5), None]);
        round_trip(&[Some(7)]);
    }

    #[test]
    fn residual_against_a_prediction() {
        let col = column(&[Some(100), Some(105), None, Some(90)]);
        let pred = [100, 105, 999, 91];
        let mut out = Vec::new();
        let plan = plan(
            &col,
            true,
            &[Prediction {
                variant: 1,
                values: &pred,
            }],
        );
        assert_eq!(plan.variant(), 1);
        write(&mut out, &col, &plan);
        let (back, v) = decode(&mut Reader::new(&out), 4).expect("decodes");
        assert_eq!(v, 1);
        // The residual comes back; the caller adds the prediction.
        assert_eq!(back.values, vec![0, 0, 0, -1]);
        assert_eq!(back.present, col.present);
    }

    #[test]
    fn pricing_a_coding_counts_exactly_the_bytes_it_writes() {
        // The histogram sink must see the very bytes the buffer gets: same order, zero runs
        // and common factor (deltas of 30 mixed with zeros and a large value).
        let d: Vec<i64> = (0..700)
            .map(|i| match i % 7 {
                0 => 0,
                3 => -90,
                5 => 1 << 40,
                _ => 30 * (i % 5),
            })
            .collect();
        for order in 0..=2 {
            for zero_runs in [false, true] {
                let mut bytes = Vec::new();
                let mut hist = Histogram([0; 256]);
                let zeros_a = payload(&mut bytes, &d, order, zero_runs);
                let zeros_b = payload(&mut hist, &d, order, zero_runs);
                assert_eq!(zeros_a, zeros_b);
                assert_eq!(hist.cost(), estimated_cost(&bytes));
                assert_eq!(
                    hist.0.iter().map(|&c| c as usize).sum::<usize>(),
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn the_sample_of_a_full_column_is_taken_in_place() {
        // 2000 values, all present: four runs of 128 starting at 0, 624, 1248 and 1872
        // ((2000 - 128) / 3 = 624), against a prediction and on their own.
        let col = column(&(0..2000).map(|i| Some(i * i)).collect::<Vec<_>>());
        let pred: Vec<i64> = (0..2000).map(|i| 3 * i).collect();
        let prediction = Prediction {
            variant: 1,
            values: &pred,
        };
        for p in [None, Some(&prediction)] {
            let mut all = Vec::new();
            base_values(&col, p, &mut all);
            let mut expected = Vec::new();
            sample(&all, &mut expected);
            let mut got = Vec::new();
            sampled_base(&col, p, &mut got);
            assert_eq!(got, expected);
        }
        let mut got = Vec::new();
        sampled_base(&col, Some(&prediction), &mut got);
        assert_eq!(got.len(), 512);
        assert_eq!(got[128], 624 * 624 - 3 * 624);
        assert_eq!(got[511], 1999 * 1999 - 3 * 1999);
    }

    #[test]
    fn impossible_headers_are_errors() {
        let bad = |bytes: &[u8], n| decode(&mut Reader::new(bytes), n).is_err();
        assert!(bad(&[0x80, 1, 0], 1), "unknown bit");
        assert!(bad(&[3 << ORDER_SHIFT, 1, 0], 1), "order 3");
        assert!(bad(&[0, 0, 0], 1), "scale 0");
        assert!(bad(&[FLAG_RUNS, 2, 1, 5], 3), "runs add up to 6, not 3");
        assert!(
            bad(&[FLAG_RUNS, 3, 0, 0, 3], 3),
            "empty run after the first"
        );
        assert!(
            bad(&[FLAG_ZERO_RUNS, 1, 1, 3, 2], 3),
            "zeros overrun the column"
        );
        assert!(bad(&[0, 1, 2], 3), "dense body truncated");
    }
}
