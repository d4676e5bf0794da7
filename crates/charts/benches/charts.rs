//! Benchmarks: downsampling a long series to pixels, rendering the resulting SVG and PNG, and
//! the load-duration curve of a month.

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_charts::bars::{Bar, BarChart};
use hearth_charts::downsample::{Point, lttb, min_max};
use hearth_charts::duration::{LoadDuration, LoadDurationChart, curve};
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

fn bench_png_and_duration(c: &mut Criterion) {
    let points = day();
    let buckets = min_max(&points, 0, 86_400, 1000);
    let means: Vec<Point> = buckets
        .iter()
        .map(|b| Point::new(b.mid(), b.mean))
        .collect();
    let line = LineChart {
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
            points: &means,
            colour: 0,
            max_gap_s: 200,
            estimated: false,
            envelope: &[],
        }],
    };
    c.bench_function("png line 1000x300 @1x, 1000 points", |b| {
        b.iter(|| black_box(&line).to_png(1))
    });
    c.bench_function("png line 1000x300 @2x, 1000 points", |b| {
        b.iter(|| black_box(&line).to_png(2))
    });
    let bars: Vec<Bar> = (0..31)
        .map(|d| Bar {
            label: format!("{d}"),
            segments: vec![5.0 + (d % 4) as f64, 3.0],
            estimated: d == 9,
            previous: Some(8.0),
        })
        .collect();
    let chart = BarChart {
        title: "Energy per day",
        unit: "kWh",
        width: 1000,
        height: 300,
        theme: Theme::LIGHT,
        bands: &["Day", "Night"],
        bars: &bars,
    };
    c.bench_function("png bars 1000x300 @2x, 31 bars", |b| {
        b.iter(|| black_box(&chart).to_png(2))
    });

    // A month of 1-minute means (44 640 intervals), as the vault's minute rollups give them.
    let month: Vec<(f64, i64)> = (0..44_640)
        .map(|m| (points[(m * 97) % points.len()].v, 60))
        .collect();
    c.bench_function("duration curve 44640 intervals -> 931 points", |b| {
        b.iter(|| curve(black_box(&month), 931))
    });
    let sorted = LoadDuration::new(&month);
    c.bench_function("duration base load + curve of sorted month", |b| {
        b.iter(|| (black_box(&sorted).base_load(), sorted.curve(931)))
    });
    let duration = LoadDurationChart {
        title: "Load duration",
        desc: "",
        unit: "W",
        width: 1000,
        height: 300,
        theme: Theme::LIGHT,
        import: &month,
        import_name: "Import",
        export: &[],
        export_name: "Export",
        base_load_name: "Base load",
    };
    c.bench_function("svg duration 1000x300 from 44640 intervals", |b| {
        b.iter(|| black_box(&duration).to_svg())
    });
    c.bench_function("png duration 1000x300 @1x from 44640 intervals", |b| {
        b.iter(|| black_box(&duration).to_png(1))
    });
}

criterion_group!(benches, bench, bench_png_and_duration);
criterion_main!(benches);
