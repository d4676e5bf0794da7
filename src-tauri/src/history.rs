//! The history screen's data: one period's rows from the vault, turned into chart inputs and a
//! table (the accessible alternative to each chart).

use crate::dto::{HistoryDto, HistoryRowDto};
use crate::period::{Period, PeriodKind};
use hearth_charts::bars::{Bar, BarChart};
use hearth_charts::downsample::{Bucket, Point};
use hearth_charts::heatmap::{HeatDay, Heatmap};
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::Theme;
use hearth_meter::{MeterTime, Quantity};
use hearth_vault::{Resolution, Row, Vault, VaultError};

/// Why history could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The vault failed (damaged chunk, IO).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] hearth_charts::ChartError),
    /// A date outside the calendar's range.
    #[error("that date is out of range")]
    Range,
}

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Day, week, month or year.
    pub kind: PeriodKind,
    /// Periods back from the current one (0 = this one, -1 = the previous, ...).
    pub shift: i32,
    /// Chart width in pixels.
    pub width: u32,
    /// Chart height in pixels.
    pub height: u32,
    /// Dark theme.
    pub dark: bool,
    /// Mark the previous period's totals on the bars.
    pub compare: bool,
}

const KWH: f64 = 1000.0;

/// The bar resolution for a period: hours of a day, days of a week or month, months of a year.
fn bar_resolution(kind: PeriodKind) -> Resolution {
    match kind {
        PeriodKind::Day => Resolution::Hour,
        PeriodKind::Week | PeriodKind::Month => Resolution::Day,
        PeriodKind::Year => Resolution::Month,
    }
}

fn rows(vault: &Vault, from: i64, to: i64, res: Resolution) -> Result<Vec<Row>, VaultError> {
    vault.readings(from, to, res)?.collect()
}

fn used_kwh(r: &Row, q: Quantity) -> Option<f64> {
    r.used(q).map(|wh| wh as f64 / KWH)
}

/// Import energy of a row split by tariff (T1, T2), or the total in T1 when there is no split.
fn import_bands(r: &Row) -> Vec<f64> {
    match (
        used_kwh(r, Quantity::ImportT1Wh),
        used_kwh(r, Quantity::ImportT2Wh),
    ) {
        (None, None) => vec![used_kwh(r, Quantity::ImportWh).unwrap_or(0.0), 0.0],
        (a, b) => vec![a.unwrap_or(0.0), b.unwrap_or(0.0)],
    }
}

fn label(kind: PeriodKind, t: MeterTime) -> String {
    let z = t.zoned();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match kind {
        PeriodKind::Day => format!("{:02}h", z.hour()),
        PeriodKind::Week => {
            let wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                [jiff::civil::Weekday::Monday.until(z.weekday()) as usize % 7];
            format!("{wd} {}", z.day())
        }
        PeriodKind::Month => format!("{}", z.day()),
        PeriodKind::Year => MONTHS[(z.month().clamp(1, 12) - 1) as usize].to_string(),
    }
}

/// Builds the history page for one period.
pub fn page(vault: &Vault, req: &Request, now: i64) -> Result<HistoryDto, HistoryError> {
    let tz = vault.time_zone().clone();
    let period = Period::around(req.kind, now, req.shift, &tz).ok_or(HistoryError::Range)?;
    let theme = if req.dark { Theme::DARK } else { Theme::LIGHT };
    let res = bar_resolution(req.kind);
    let bar_rows = rows(vault, period.from, period.to, res)?;
    let previous = if req.compare {
        let p = period.previous(&tz).ok_or(HistoryError::Range)?;
        rows(vault, p.from, p.to, res)?
    } else {
        Vec::new()
    };

    // One bar per calendar slot, empty where there is no data yet; the comparison period is
    // matched slot by slot.
    let slots = period.slots(&tz);
    let by_start: std::collections::HashMap<i64, &Row> =
        bar_rows.iter().map(|r| (r.start(), r)).collect();
    let previous_slots: Vec<f64> = match (req.compare, period.previous(&tz)) {
        (true, Some(p)) => {
            let prev: std::collections::HashMap<i64, &Row> =
                previous.iter().map(|r| (r.start(), r)).collect();
            p.slots(&tz)
                .iter()
                .map(|t| prev.get(t).map_or(0.0, |r| import_bands(r).iter().sum()))
                .collect()
        }
        _ => Vec::new(),
    };
    let mut table = Vec::with_capacity(bar_rows.len());
    let mut bars = Vec::with_capacity(slots.len());
    let (mut import, mut export, mut gas, mut estimated) = (0.0, 0.0, 0.0, 0.0);
    for (i, slot) in slots.iter().enumerate() {
        let t = MeterTime::in_zone(*slot, &tz);
        let lbl = label(req.kind, t);
        let prev = previous_slots.get(i).copied();
        let Some(r) = by_start.get(slot) else {
            bars.push(Bar {
                label: lbl,
                segments: Vec::new(),
                estimated: false,
                previous: prev,
            });
            continue;
        };
        let bands = import_bands(r);
        let total: f64 = bands.iter().sum();
        let exp = used_kwh(r, Quantity::ExportWh).unwrap_or(0.0);
        import += total;
        export += exp;
        gas += r.used(Quantity::GasDm3).map_or(0.0, |d| d as f64 / 1000.0);
        if r.estimated {
            estimated += total;
        }
        table.push(HistoryRowDto {
            label: lbl.clone(),
            start: t.to_string(),
            import_kwh: round3(total),
            export_kwh: round3(exp),
            previous_import_kwh: prev.map(round3),
            estimated: r.estimated,
        });
        bars.push(Bar {
            label: lbl,
            segments: bands,
            estimated: r.estimated,
            previous: prev,
        });
    }
    let previous_import = req.compare.then(|| {
        previous
            .iter()
            .map(|p| import_bands(p).iter().sum::<f64>())
            .sum()
    });
    let title = format!("Energy used, {}", period.title());
    let bars_svg = BarChart {
        title: &title,
        unit: "kWh",
        width: req.width,
        height: req.height,
        theme,
        bands: &["Tariff 1 (low)", "Tariff 2 (normal)"],
        bars: &bars,
    }
    .to_svg()?;

    // Power: the coarsest series that fills the width, as mean line plus min/max band.
    let power_rows: Vec<Row> = vault
        .readings_for_points(period.from, period.to, req.width.max(1))?
        .collect::<Result<_, _>>()?;
    let step = power_rows
        .windows(2)
        .map(|w| w[1].start() - w[0].start())
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(60);
    let mut means = Vec::with_capacity(power_rows.len());
    let mut band = Vec::with_capacity(power_rows.len());
    for r in &power_rows {
        let (Some(i), e) = (
            r.reading.get(Quantity::ImportW),
            r.reading.get(Quantity::ExportW).unwrap_or(0),
        ) else {
            continue;
        };
        let start = r.start();
        let end = start + step;
        means.push(Point::new(start + step / 2, (i - e) as f64));
        if r.resolution != Resolution::Raw {
            let max = r.import_w_max.unwrap_or(i) as f64 - r.export_w_min.unwrap_or(0) as f64;
            let min = r.import_w_min.unwrap_or(i) as f64 - r.export_w_max.unwrap_or(0) as f64;
            band.push(Bucket {
                start,
                end,
                min,
                max,
                mean: (i - e) as f64,
                count: r.samples,
            });
        }
    }
    let power_title = format!("Power, {}", period.title());
    let power_svg = LineChart {
        title: &power_title,
        unit: "W",
        width: req.width,
        height: req.height,
        theme,
        from: period.from,
        to: period.to,
        utc_offset_s: MeterTime::in_zone(period.from, &tz).offset_s,
        lines: vec![Line {
            name: "Net power",
            points: &means,
            colour: 0,
            max_gap_s: step * 3,
            estimated: false,
            envelope: &band,
        }],
    }
    .to_svg()?;

    // Heatmap for a week or longer: hour-of-day by day, energy per hour.
    let heatmap_svg = if req.kind == PeriodKind::Day {
        None
    } else {
        let hours = rows(vault, period.from, period.to, Resolution::Hour)?;
        let mut days: Vec<HeatDay> = Vec::new();
        let mut current: Option<jiff::civil::Date> = None;
        for r in &hours {
            let z = MeterTime::in_zone(r.start(), &tz).zoned();
            if current != Some(z.date()) {
                current = Some(z.date());
                days.push(HeatDay {
                    label: format!(
                        "{} {}",
                        z.day(),
                        &label(PeriodKind::Year, MeterTime::in_zone(r.start(), &tz))
                    ),
                    hours: [None; 24],
                });
            }
            if let (Some(d), Some(wh)) = (days.last_mut(), r.used(Quantity::ImportWh)) {
                d.hours[(z.hour().clamp(0, 23)) as usize] = Some(wh as f64 / KWH);
            }
        }
        let heat_title = format!("Use by hour, {}", period.title());
        Some(
            Heatmap {
                title: &heat_title,
                unit: "kWh",
                width: req.width,
                height: req.height.max(200),
                theme,
                days: &days,
            }
            .to_svg()?,
        )
    };

    Ok(HistoryDto {
        title: period.title(),
        from: MeterTime::in_zone(period.from, &tz).to_string(),
        to: MeterTime::in_zone(period.to, &tz).to_string(),
        import_kwh: round3(import),
        export_kwh: round3(export),
        gas_m3: round3(gas),
        estimated_kwh: round3(estimated),
        previous_import_kwh: previous_import.map(round3),
        bars_svg,
        power_svg,
        heatmap_svg,
        rows: table,
    })
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
