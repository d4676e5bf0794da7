//! Downsampling: fitting any number of samples into the pixels available.
//!
//! Two methods, for two jobs. [`min_max`] cuts the time range into equal buckets (one per pixel
//! column) and keeps each bucket's min, max and mean; drawing the mean as a line and min..max as a
//! band shows every spike, which is what a power chart must never hide. [`lttb`]
//! (Largest-Triangle-Three-Buckets, Steinarsson 2013) keeps a subset of the real samples chosen to
//! preserve the visual shape; use it where the points themselves are drawn.
//! Both run in one pass over the input and never allocate per sample. [`merge`] does for
//! precomputed min/max buckets (the vault's rollups) what [`min_max`] does for samples.

/// One sample: a time (unix seconds) and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Unix time in seconds.
    pub t: i64,
    /// The value, in the chart's unit.
    pub v: f64,
}

impl Point {
    /// A sample at `t` with value `v`.
    pub const fn new(t: i64, v: f64) -> Self {
        Point { t, v }
    }
}

/// The samples that fell into one time bucket, summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// First second covered by the bucket (inclusive).
    pub start: i64,
    /// End of the bucket (exclusive).
    pub end: i64,
    /// Smallest value in the bucket.
    pub min: f64,
    /// Largest value in the bucket.
    pub max: f64,
    /// Arithmetic mean of the values in the bucket.
    pub mean: f64,
    /// How many samples the bucket holds (never 0: empty buckets are left out).
    pub count: u32,
}

impl Bucket {
    /// The middle of the bucket, where its mean is drawn.
    pub fn mid(&self) -> i64 {
        self.start + (self.end - self.start) / 2
    }
}

/// Splits `[from, to)` into `buckets` equal time buckets and summarises the samples in each.
///
/// Samples outside the range or with a non-finite value are ignored; buckets without samples are
/// left out, so a gap in the data stays a gap. `points` must be sorted by time (samples out of
/// order still land in the right bucket, but a later bucket is never revisited: an out-of-order
/// sample is counted in the current bucket). Returns an empty vector when `buckets` is 0 or the
/// range is empty.
pub fn min_max(points: &[Point], from: i64, to: i64, buckets: usize) -> Vec<Bucket> {
    let mut out = Vec::new();
    if buckets == 0 || to <= from {
        return out;
    }
    let span = i128::from(to) - i128::from(from);
    let n = buckets as i128;
    // Bucket i covers [from + span*i/n, from + span*(i+1)/n): integer maths, no drift.
    let edge = |i: i128| -> i64 { (i128::from(from) + span * i / n) as i64 };
    let mut current: Option<(Bucket, f64)> = None;
    for p in points {
        if p.t < from || p.t >= to || !p.v.is_finite() {
            continue;
        }
        // Most samples fall in the bucket of the one before: two comparisons, no division.
        // An out-of-order sample before the current bucket is counted in it.
        match &mut current {
            Some((b, sum)) if p.t < b.end => {
                b.min = b.min.min(p.v);
                b.max = b.max.max(p.v);
                b.count += 1;
                *sum += p.v;
                continue;
            }
            _ => {}
        }
        if let Some((mut b, sum)) = current.take() {
            b.mean = sum / f64::from(b.count);
            out.push(b);
        }
        // The bucket whose edges hold t: the largest i with edge(i) <= t, i.e.
        // floor(span*i/n) <= d  <=>  i < (d+1)*n/span  <=>  i = ((d+1)*n - 1) / span.
        let d = i128::from(p.t) - i128::from(from);
        let idx = ((d + 1) * n - 1) / span;
        let b = Bucket {
            start: edge(idx),
            end: edge(idx + 1),
            min: p.v,
            max: p.v,
            mean: p.v,
            count: 1,
        };
        current = Some((b, p.v));
    }
    if let Some((mut b, sum)) = current {
        b.mean = sum / f64::from(b.count);
        out.push(b);
    }
    out
}

/// Merges precomputed buckets (from rollups) into `buckets` equal time buckets over
/// `[from, to)`: min of the mins, max of the maxes, and the mean weighted by sample count.
///
/// A bucket is placed by its middle, so a year of hourly rollups fits an 800-pixel chart as 800
/// buckets, with every spike still inside some band. Buckets with a non-finite value or a middle
/// outside the range are ignored; empty target buckets are left out (a gap stays a gap). `input`
/// must be sorted by time. Returns an empty vector when `buckets` is 0 or the range is empty.
pub fn merge(input: &[Bucket], from: i64, to: i64, buckets: usize) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    if buckets == 0 || to <= from {
        return out;
    }
    let span = i128::from(to) - i128::from(from);
    let n = buckets as i128;
    let edge = |i: i128| -> i64 { (i128::from(from) + span * i / n) as i64 };
    // The running sum of mean × count of the bucket being filled.
    let mut sum = 0.0;
    for b in input {
        let t = b.mid();
        if t < from || t >= to || !(b.min.is_finite() && b.max.is_finite() && b.mean.is_finite()) {
            continue;
        }
        let weight = f64::from(b.count.max(1));
        match out.last_mut() {
            Some(m) if t < m.end && t >= m.start => {
                m.min = m.min.min(b.min);
                m.max = m.max.max(b.max);
                m.count = m.count.saturating_add(b.count.max(1));
                sum += b.mean * weight;
                m.mean = sum / f64::from(m.count);
            }
            _ => {
                let d = i128::from(t) - i128::from(from);
                let idx = ((d + 1) * n - 1) / span;
                sum = b.mean * weight;
                out.push(Bucket {
                    start: edge(idx),
                    end: edge(idx + 1),
                    min: b.min,
                    max: b.max,
                    mean: b.mean,
                    count: b.count.max(1),
                });
            }
        }
    }
    out
}

/// Largest-Triangle-Three-Buckets: picks `threshold` of the samples that best keep the shape.
///
/// The first and last samples are always kept. With `threshold >= points.len()` or
/// `threshold < 3`, the input is returned unchanged (there is nothing sensible to drop).
pub fn lttb(points: &[Point], threshold: usize) -> Vec<Point> {
    let len = points.len();
    if threshold >= len || threshold < 3 {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(threshold);
    // Bucket size for the inner points (everything but the first and last).
    let every = (len - 2) as f64 / (threshold - 2) as f64;
    let mut a = 0usize;
    out.push(points[0]);
    for i in 0..threshold - 2 {
        // The next bucket's average is the third triangle corner.
        let next_start = ((i + 1) as f64 * every) as usize + 1;
        let next_end = (((i + 2) as f64 * every) as usize + 1).min(len);
        let next = &points[next_start.min(len - 1)..next_end.max(next_start.min(len - 1) + 1)];
        let (mut avg_t, mut avg_v) = (0.0, 0.0);
        for p in next {
            avg_t += p.t as f64;
            avg_v += p.v;
        }
        avg_t /= next.len() as f64;
        avg_v /= next.len() as f64;

        let start = (i as f64 * every) as usize + 1;
        let end = ((i + 1) as f64 * every) as usize + 1;
        let (pa_t, pa_v) = (points[a].t as f64, points[a].v);
        let mut best = start;
        let mut best_area = -1.0;
        for (j, p) in points.iter().enumerate().take(end.min(len - 1)).skip(start) {
            let area = ((pa_t - avg_t) * (p.v - pa_v) - (pa_t - p.t as f64) * (avg_v - pa_v)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        out.push(points[best]);
        a = best;
    }
    out.push(points[len - 1]);
    out
}

/// Splits sorted samples into runs with no step longer than `max_gap` seconds between them, so
/// a chart draws a break where data is missing instead of a straight line across the hole.
pub fn split_at_gaps(points: &[Point], max_gap: i64) -> Vec<&[Point]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].t - points[i - 1].t > max_gap {
            runs.push(&points[start..i]);
            start = i;
        }
    }
    if start < points.len() {
        runs.push(&points[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(start: i64, end: i64, min: f64, max: f64, mean: f64, count: u32) -> Bucket {
        Bucket {
            start,
            end,
            min,
            max,
            mean,
            count,
        }
    }

    #[test]
    fn merge_keeps_extremes_and_weights_means_by_count() {
        // Six 10-s buckets into three 20-s buckets; the fourth is missing (a gap) and the
        // fifth holds a spike. Means weighted by count: (100*10 + 200*30) / 40 = 175.
        let input = [
            bucket(0, 10, 50.0, 150.0, 100.0, 10),
            bucket(10, 20, 120.0, 400.0, 200.0, 30),
            bucket(20, 30, 90.0, 110.0, 100.0, 10),
            bucket(40, 50, 60.0, 9000.0, 300.0, 10),
            bucket(50, 60, 40.0, 80.0, 60.0, 10),
        ];
        let m = merge(&input, 0, 60, 3);
        assert_eq!(
            m,
            vec![
                bucket(0, 20, 50.0, 400.0, 175.0, 40),
                bucket(20, 40, 90.0, 110.0, 100.0, 10),
                bucket(40, 60, 40.0, 9000.0, 180.0, 20),
            ]
        );
        // Outside the range, non-finite, or nothing asked for: left out.
        let odd = [
            bucket(-20, -10, 1.0, 2.0, 1.5, 1),
            bucket(0, 10, f64::NAN, 2.0, 1.0, 1),
            bucket(10, 20, 1.0, 3.0, 2.0, 0),
            bucket(70, 80, 1.0, 2.0, 1.5, 1),
        ];
        // A zero count weighs as one sample.
        assert_eq!(merge(&odd, 0, 60, 3), vec![bucket(0, 20, 1.0, 3.0, 2.0, 1)]);
        assert!(merge(&input, 0, 60, 0).is_empty());
        assert!(merge(&input, 60, 60, 3).is_empty());
    }

    fn pts(vals: &[(i64, f64)]) -> Vec<Point> {
        vals.iter().map(|&(t, v)| Point::new(t, v)).collect()
    }

    #[test]
    fn min_max_summarises_each_bucket() {
        // Range [0, 10) in 2 buckets: [0,5) holds 1,7,3 and [5,10) holds 4,-2.
        let p = pts(&[(0, 1.0), (1, 7.0), (4, 3.0), (5, 4.0), (9, -2.0)]);
        let b = min_max(&p, 0, 10, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].start, b[0].end, b[0].min, b[0].max, b[0].count),
            (0, 5, 1.0, 7.0, 3)
        );
        assert!((b[0].mean - 11.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            (b[1].start, b[1].end, b[1].min, b[1].max, b[1].mean),
            (5, 10, -2.0, 4.0, 1.0)
        );
        assert_eq!(b[1].mid(), 7);
    }

    #[test]
    fn min_max_keeps_gaps_and_ignores_outside_and_nan() {
        // 10 buckets of 1 s over [0,10); data only at 0, 1 and 8; one NaN; one sample past the end.
        let p = pts(&[
            (-1, 100.0),
            (0, 1.0),
            (1, 2.0),
            (3, f64::NAN),
            (8, 3.0),
            (10, 50.0),
        ]);
        let b = min_max(&p, 0, 10, 10);
        let starts: Vec<i64> = b.iter().map(|b| b.start).collect();
        assert_eq!(starts, vec![0, 1, 8]);
        assert_eq!(b[2].max, 3.0);
    }

    #[test]
    fn min_max_uneven_edges_cover_the_range_exactly() {
        // 10 s in 3 buckets: edges 0, 3, 6, 10 (floor(10*i/3)).
        let p = pts(&[(2, 1.0), (3, 1.0), (5, 1.0), (6, 1.0), (9, 1.0)]);
        let b = min_max(&p, 0, 10, 3);
        let edges: Vec<(i64, i64, u32)> = b.iter().map(|b| (b.start, b.end, b.count)).collect();
        assert_eq!(edges, vec![(0, 3, 1), (3, 6, 2), (6, 10, 2)]);
    }

    #[test]
    fn min_max_counts_an_out_of_order_sample_in_the_current_bucket() {
        // Buckets [0,5) and [5,10); t=2 arrives after t=5: it joins [5,10) as documented.
        let b = min_max(&pts(&[(5, 1.0), (2, 9.0), (7, 3.0)]), 0, 10, 2);
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].start, b[0].min, b[0].max, b[0].count),
            (5, 1.0, 9.0, 3)
        );
    }

    #[test]
    fn min_max_degenerate_inputs() {
        assert!(min_max(&pts(&[(0, 1.0)]), 0, 10, 0).is_empty());
        assert!(min_max(&pts(&[(0, 1.0)]), 10, 10, 5).is_empty());
        assert!(min_max(&[], 0, 10, 5).is_empty());
    }

    #[test]
    fn min_max_keeps_a_one_second_spike_among_a_million_samples() {
        // A 3 kW kettle spike for one second in ~11.6 days of 300 W: the bucket holding it must
        // report max 3000 while its mean stays near 300.
        let n = 1_000_000i64;
        let p: Vec<Point> = (0..n)
            .map(|t| Point::new(t, if t == 123_457 { 3000.0 } else { 300.0 }))
            .collect();
        let b = min_max(&p, 0, n, 1000);
        assert_eq!(b.len(), 1000);
        let spike = b.iter().find(|b| b.max == 3000.0).map(|b| b.start);
        assert_eq!(spike, Some(123_000));
        assert_eq!(b.iter().filter(|b| b.max == 3000.0).count(), 1);
        // That bucket: 999 samples at 300 and one at 3000 -> mean 302.7.
        let hit = b
            .iter()
            .find(|b| b.max == 3000.0)
            .map(|b| b.mean)
            .unwrap_or(0.0);
        assert!((hit - 302.7).abs() < 1e-9, "{hit}");
    }

    #[test]
    fn lttb_keeps_ends_and_the_peak() {
        // A flat line with one peak at t=50: any 10-point LTTB must keep the peak.
        let p: Vec<Point> = (0..100)
            .map(|t| Point::new(t, if t == 50 { 10.0 } else { 0.0 }))
            .collect();
        let out = lttb(&p, 10);
        assert_eq!(out.len(), 10);
        assert_eq!(out[0], p[0]);
        assert_eq!(out[9], p[99]);
        assert!(out.contains(&Point::new(50, 10.0)));
        // Strictly increasing times: no sample twice.
        assert!(out.windows(2).all(|w| w[0].t < w[1].t));
    }

    #[test]
    fn lttb_small_inputs_pass_through() {
        let p = pts(&[(0, 1.0), (1, 2.0), (2, 3.0)]);
        assert_eq!(lttb(&p, 10), p);
        assert_eq!(lttb(&p, 2), p);
        assert!(lttb(&[], 5).is_empty());
    }

    #[test]
    fn gaps_split_runs() {
        let p = pts(&[
            (0, 1.0),
            (1, 1.0),
            (2, 1.0),
            (10, 1.0),
            (11, 1.0),
            (30, 1.0),
        ]);
        let runs = split_at_gaps(&p, 5);
        let lens: Vec<usize> = runs.iter().map(|r| r.len()).collect();
        assert_eq!(lens, vec![3, 2, 1]);
        assert!(split_at_gaps(&[], 5).is_empty());
    }
}
