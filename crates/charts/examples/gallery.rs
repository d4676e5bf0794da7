//! Writes every chart type as SVG and PNG (1x and 2x) into a directory, for looking at them:
//! `cargo run -p hearth-charts --example gallery -- /tmp/charts`.

use hearth_charts::bars::{Bar, BarChart};
use hearth_charts::downsample::Point;
use hearth_charts::duration::{LoadDuration, LoadDurationChart};
use hearth_charts::heatmap::{HeatDay, Heatmap};
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::{self, Theme};
use hearth_charts::{ChartError, line::format_value};
use std::path::{Path, PathBuf};

/// A made-up household: base load, evening peaks, a midday solar dip.
fn power(t: i64) -> f64 {
    let hour = (t % 86_400) as f64 / 3600.0;
    let evening = if (17.0..21.0).contains(&hour) {
        1800.0
    } else {
        0.0
    };
    let kettle = if t % 5400 < 180 { 2000.0 } else { 0.0 };
    180.0 + evening + kettle + ((t * 7919) % 400) as f64
}

fn write(
    dir: &Path,
    name: &str,
    svg: Result<String, ChartError>,
    png: [Result<Vec<u8>, ChartError>; 2],
) {
    let svg = svg.unwrap_or_else(|e| panic!("{name}: {e}"));
    std::fs::write(dir.join(format!("{name}.svg")), svg).unwrap();
    for (scale, png) in [1, 2].into_iter().zip(png) {
        let png = png.unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::write(dir.join(format!("{name}@{scale}x.png")), png).unwrap();
    }
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("charts-gallery"), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let theme = if std::env::args().any(|a| a == "--dark") {
        Theme::DARK
    } else {
        Theme::LIGHT
    };

    let points: Vec<Point> = (0..86_400)
        .step_by(10)
        .map(|t| Point::new(t, power(t)))
        .collect();
    let line = LineChart {
        title: "Power, 26 Nov",
        unit: "W",
        width: 800,
        height: 300,
        theme,
        from: 0,
        to: 86_400,
        utc_offset_s: 3600,
        lines: vec![Line {
            name: "Import",
            points: &points,
            colour: theme::IMPORT,
            max_gap_s: 30,
            estimated: false,
            envelope: &[],
        }],
    };
    write(
        &dir,
        "line",
        line.to_svg(),
        [line.to_png(1), line.to_png(2)],
    );

    let bars: Vec<Bar> = (1..=14)
        .map(|d| Bar {
            label: format!("{d} Nov"),
            segments: vec![4.0 + (d % 4) as f64, 2.0 + (d % 3) as f64],
            estimated: d == 9,
            previous: Some(7.5),
        })
        .collect();
    let energy = BarChart {
        title: "Energy per day",
        unit: "kWh",
        width: 800,
        height: 300,
        theme,
        bands: &["Tariff 1 (low)", "Tariff 2 (normal)"],
        bars: &bars,
    };
    write(
        &dir,
        "bars",
        energy.to_svg(),
        [energy.to_png(1), energy.to_png(2)],
    );

    let gas_bars: Vec<Bar> = (0..24)
        .map(|h| Bar {
            label: format!("{h:02}h"),
            segments: vec![if (6..9).contains(&h) || (17..22).contains(&h) {
                0.3
            } else {
                0.04
            }],
            estimated: false,
            previous: None,
        })
        .collect();
    let gas = BarChart {
        title: "Gas per hour",
        unit: "m³",
        width: 800,
        height: 300,
        theme: theme.starting_with(theme::GAS),
        bands: &["Gas"],
        bars: &gas_bars,
    };
    write(&dir, "gas", gas.to_svg(), [gas.to_png(1), gas.to_png(2)]);

    let days: Vec<HeatDay> = (0..60)
        .map(|d| {
            let mut hours = [None; 24];
            for (h, v) in hours.iter_mut().enumerate() {
                *v = Some(power(d * 86_400 + h as i64 * 3600) / 1000.0);
            }
            HeatDay {
                label: format!("{} Oct", d + 1),
                hours,
            }
        })
        .collect();
    let heat = Heatmap {
        title: "Use by hour",
        unit: "kWh",
        width: 800,
        height: 300,
        theme,
        days: &days,
    };
    write(
        &dir,
        "heatmap",
        heat.to_svg(),
        [heat.to_png(1), heat.to_png(2)],
    );

    let import: Vec<(f64, i64)> = (0..86_400).step_by(60).map(|t| (power(t), 60)).collect();
    let export: Vec<(f64, i64)> = (0..24)
        .map(|h| (if (10..16).contains(&h) { 900.0 } else { 0.0 }, 3600))
        .collect();
    let stats = LoadDuration::new(&import);
    let desc = format!(
        "Base load {} W. Above 1 kW for {} hours.",
        format_value(stats.base_load().unwrap_or(0.0)),
        format_value(stats.seconds_at_or_above(1000.0) as f64 / 3600.0)
    );
    let duration = LoadDurationChart {
        title: "Load duration, 26 Nov",
        desc: &desc,
        unit: "W",
        width: 800,
        height: 300,
        theme,
        import: &import,
        import_name: "Import",
        export: &export,
        export_name: "Export",
        base_load_name: "Base load",
    };
    write(
        &dir,
        "duration",
        duration.to_svg(),
        [duration.to_png(1), duration.to_png(2)],
    );
    println!("wrote charts to {}", dir.display());
}
