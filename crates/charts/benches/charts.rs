//! Benchmarks: downsampling a long series to pixels, and rendering the resulting SVG.

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_charts::downsample::{Point, lttb, min_max};
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::Theme;
use std::hint::black_box;

/// One day of 1-s power samples with a repeating household-like pattern.
fn day() -> Vec<Point> {
    (0..86_400)
        .map(|t| {
            Point::new(
                t,
                250.0 + ((t * 7919) % 3000) as f64 * ((t % 600) as f64 / 600.0),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let points = day();
    c.bench_function("min_max 86400 -> 1000", |b| {
        b.iter(|| min_max(black_box(&points), 0, 86_400, 1000))
    });
    c.bench_function("lttb 86400 -> 1000", |b| {
        b.iter(|| lttb(black_box(&points), 1000))
    });
    let buckets = min_max(&points, 0, 86_400, 1000);
    let means: Vec<Point> = buckets
        .iter()
        .map(|b| Point::new(b.mid(), b.mean))
        .collect();
    c.bench_function("svg line 1000 px from 86400 samples", |b| {
        b.iter(|| {
            LineChart {
                title: "Power",
                unit: "W",
                width: 1000,
                height: 300,
                theme: Theme::LIGHT,
                from: 0,
                to: 86_400,
                utc_offset_s: 3600,
                lines: vec![Line {
                    name: "Import",
                    points: black_box(&points),
                    colour: 0,
                    max_gap_s: 5,
                    estimated: false,
                    envelope: &[],
                }],
            }
            .to_svg()
        })
    });
    c.bench_function("svg line 1000 points", |b| {
        b.iter(|| {
            LineChart {
                title: "Power",
                unit: "W",
                width: 1000,
                height: 300,
                theme: Theme::LIGHT,
                from: 0,
                to: 86_400,
                utc_offset_s: 3600,
                lines: vec![Line {
                    name: "Import",
                    points: black_box(&means),
                    colour: 0,
                    max_gap_s: 200,
                    estimated: false,
                    envelope: &[],
                }],
            }
            .to_svg()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
