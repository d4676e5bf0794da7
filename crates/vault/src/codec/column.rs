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

    /// The values of the readings that have one, in order.
    fn values_present(&self) -> Vec<i64> {
        self.present
            .iter()
            .zip(&self.values)
            .filter(|(p, _)| **p)
            .map(|(_, v)| *v)
            .collect()
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
    pub(super) fn variant(&self) -> u8 {
        (self.header >> VARIANT_SHIFT) & MAX_VARIANT
    }
}

/// Columns longer than this choose their coding on a sample: this many values taken as a few
/// evenly spread runs (differencing needs neighbours), then code all values that way.
const SAMPLE: usize = 1024;
const SAMPLE_RUNS: usize = 4;

/// Finds the cheapest coding of `col` (which must have at least one value): on its own when
/// `plain`, and against each prediction.
pub(super) fn plan(col: &Column, plain: bool, predictions: &[Prediction<'_>]) -> Plan {
    let plain = plain.then_some(None);
    let bases = plain.into_iter().chain(predictions.iter().map(Some));
    // (estimated cost, header without presence, values of that base)
    let mut best: Option<(f64, u8, Vec<i64>)> = None;
    let mut cand = Vec::new();
    for base in bases {
        let (variant, values) = match base {
            None => (0, col.values_present()),
            Some(pred) => (
                pred.variant,
                col.present
                    .iter()
                    .zip(&col.values)
                    .zip(pred.values)
                    .filter(|((p, _), _)| **p)
                    .map(|((_, v), e)| v.wrapping_sub(*e))
                    .collect(),
            ),
        };
        let mut d = sample(&values);
        let scale = values.len() as f64 / d.len().max(1) as f64;
        for order in 0..=2u8 {
            if order > 0 {
                difference(&mut d, usize::from(order - 1));
            }
            let mut all_zero = false;
            for zero_runs in [false, true] {
                all_zero = payload(&mut cand, &d, order, zero_runs);
                let cost = estimated_cost(&cand) * scale;
                if best.as_ref().is_none_or(|b| cost < b.0) {
                    let header = variant << VARIANT_SHIFT
                        | order << ORDER_SHIFT
                        | if zero_runs { FLAG_ZERO_RUNS } else { 0 };
                    best = Some((cost, header, values.clone()));
                }
            }
            if all_zero {
                // Every further difference is zero too: nothing cheaper for this base.
                break;
            }
        }
    }
    let Some((cost, header, mut d)) = best else {
        return Plan {
            cost: 0.0,
            header: 0,
            payload: Vec::new(),
        };
    };
    let order = (header >> ORDER_SHIFT) & 0b11;
    for pass in 0..usize::from(order) {
        difference(&mut d, pass);
    }
    let sampled = d.len() > SAMPLE;
    payload(&mut cand, &d, order, header & FLAG_ZERO_RUNS != 0);
    Plan {
        cost: if sampled { cost } else { estimated_cost(&cand) },
        header,
        payload: cand,
    }
}

/// Writes factor, head and body of already differenced values; returns whether the body is
/// all zeros.
fn payload(out: &mut Vec<u8>, d: &[i64], order: u8, zero_runs: bool) -> bool {
    out.clear();
    let head = usize::from(order).min(d.len());
    let g = common_factor(&d[head..]);
    put_varint(out, g);
    for &v in &d[..head] {
        put_varint(out, zigzag(v));
    }
    if zero_runs {
        write_zero_runs(out, &d[head..], g)
    } else {
        write_dense(out, &d[head..], g);
        false
    }
}

/// The values themselves when there are few, else `SAMPLE` of them in evenly spread runs.
fn sample(values: &[i64]) -> Vec<i64> {
    if values.len() <= SAMPLE {
        return values.to_vec();
    }
    let run = SAMPLE / SAMPLE_RUNS;
    let stride = (values.len() - run) / (SAMPLE_RUNS - 1);
    (0..SAMPLE_RUNS)
        .flat_map(|k| &values[k * stride..k * stride + run])
        .copied()
        .collect()
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

fn write_dense(out: &mut Vec<u8>, body: &[i64], g: u64) {
    let g = g as i64;
    for &v in body {
        put_varint(out, zigzag(v / g));
    }
}

/// Writes (count of nonzero values, then per nonzero value: zeros before it, the value).
/// Returns whether the body was all zeros.
fn write_zero_runs(out: &mut Vec<u8>, body: &[i64], g: u64) -> bool {
    let g = g as i64;
    let nonzero = body.iter().filter(|&&v| v != 0).count();
    put_varint(out, nonzero as u64);
    let mut zeros = 0u64;
    for &v in body {
        if v == 0 {
            zeros += 1;
        } else {
            put_varint(out, zeros);
            put_varint(out, zigzag(v / g));
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
fn estimated_cost(bytes: &[u8]) -> f64 {
    let mut hist = [0u32; 256];
    for &b in bytes {
        hist[usize::from(b)] += 1;
    }
    let total = bytes.len() as f64;
    let mut bits = 0.0;
    for &c in hist.iter().filter(|&&c| c > 0) {
        let c = f64::from(c);
        bits += c * (total / c).log2().max(1.0) + 8.0;
    }
    bits / 8.0
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
