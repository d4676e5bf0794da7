//! The history screen's use case: one period's rows from the vault, turned into charts (energy
//! by tariff, power with its band, gas, export, a heatmap and the load-duration curve) and
//! tables (the accessible alternative to each chart). Any one chart can also be drawn as PNG or
//! SVG for saving.

use crate::period::{Period, PeriodKind};
use hearth_charts::ChartError;
use hearth_charts::bars::{Bar, BarChart};
use hearth_charts::downsample::{Bucket, Point};
use hearth_charts::duration::{LoadDuration, LoadDurationChart};
use hearth_charts::heatmap::{HeatDay, Heatmap};
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::{EXPORT, GAS, Theme};
use hearth_insight::Lang;
use hearth_meter::{MeterTime, Quantity};
use hearth_vault::{Resolution, Row, Vault, VaultError};
use serde::Serialize;

/// One row of the history table (the chart's data, readable without the chart).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "HistoryRowDto"))]
pub struct HistoryRow {
    /// Bar label (`14h`, `Mon 24`, `Nov`).
    pub label: String,
    /// Interval start, RFC 3339 local.
    pub start: String,
    /// Energy imported (kWh).
    pub import_kwh: f64,
    /// Energy exported (kWh).
    pub export_kwh: f64,
    /// Gas used (m³), when the meter reports gas.
    pub gas_m3: Option<f64>,
    /// The same slot in the previous period (kWh), when comparing.
    pub previous_import_kwh: Option<f64>,
    /// Part of the energy was spread over a gap.
    pub estimated: bool,
}

/// One history page. Its JSON (snake_case fields, as declared) is what the desktop's window
/// receives (`HistoryDto` in `ui/src/dto.ts`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "HistoryDto"))]
pub struct HistoryPage {
    /// `November 2025`.
    pub title: String,
    /// Period start (RFC 3339 local).
    pub from: String,
    /// Period end, exclusive.
    pub to: String,
    /// Energy imported in the period (kWh).
    pub import_kwh: f64,
    /// Energy exported (kWh).
    pub export_kwh: f64,
    /// Gas used (m³).
    pub gas_m3: f64,
    /// Of the import, how much was spread over gaps (kWh).
    pub estimated_kwh: f64,
    /// Import in the previous period (kWh), when comparing.
    pub previous_import_kwh: Option<f64>,
    /// Energy bars by tariff (SVG).
    pub bars_svg: String,
    /// Power with min/max band (SVG).
    pub power_svg: String,
    /// Hour-by-day heatmap (SVG), for a week or longer.
    pub heatmap_svg: Option<String>,
    /// Gas bars (SVG), when gas was used in the period.
    pub gas_svg: Option<String>,
    /// Export bars (SVG), when energy was fed back in the period.
    pub export_svg: Option<String>,
    /// Load-duration curve (SVG).
    pub duration_svg: String,
    /// Base load: the power the home stays at or above 95 % of the time (W).
    pub base_load_w: Option<f64>,
    /// The load-duration curve as a table.
    pub duration: Vec<DurationPoint>,
    /// The bars as a table.
    pub rows: Vec<HistoryRow>,
}

/// One point of the load-duration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "DurationPointDto"))]
pub struct DurationPoint {
    /// Share of the period's time (per cent).
    pub share_pct: f64,
    /// Import power reached or exceeded for that share of the time (W).
    pub import_w: f64,
}

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
    /// Language of titles, labels and legends.
    pub lang: Lang,
}

/// One of the history page's charts (for saving it as an image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartId {
    /// Energy bars by tariff.
    Bars,
    /// Power with its min/max band.
    Power,
    /// Hour-by-day heatmap (a week or longer).
    Heatmap,
    /// Gas bars.
    Gas,
    /// Export bars.
    Export,
    /// Load-duration curve.
    Duration,
}

impl ChartId {
    /// The chart for a name from the window (`bars`, `power`, `heatmap`, `gas`, `export`,
    /// `duration`).
    pub fn from_name(name: &str) -> Option<ChartId> {
        Some(match name {
            "bars" => ChartId::Bars,
            "power" => ChartId::Power,
            "heatmap" => ChartId::Heatmap,
            "gas" => ChartId::Gas,
            "export" => ChartId::Export,
            "duration" => ChartId::Duration,
            _ => return None,
        })
    }
}

/// How to draw a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SVG text.
    Svg,
    /// A PNG image at this scale (1 to 4) of the chart's pixel size.
    Png(u32),
}

/// A drawn chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// SVG text.
    Svg(String),
    /// PNG bytes.
    Png(Vec<u8>),
}

impl Image {
    fn svg(self) -> String {
        match self {
            Image::Svg(s) => s,
            Image::Png(_) => String::new(),
        }
    }
}

/// The charts of the chart crate, drawn either way.
trait Drawable {
    fn draw(&self, f: Format) -> Result<Image, ChartError>;
}

macro_rules! drawable {
    ($($t:ident),*) => {$(
        impl Drawable for $t<'_> {
            fn draw(&self, f: Format) -> Result<Image, ChartError> {
                Ok(match f {
                    Format::Svg => Image::Svg(self.to_svg()?),
                    Format::Png(scale) => Image::Png(self.to_png(scale)?),
                })
            }
        }
    )*};
}
drawable!(BarChart, LineChart, Heatmap, LoadDurationChart);

/// Shares of time (per cent) listed in the load-duration table.
pub const DURATION_SHARES: [f64; 9] = [0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 100.0];

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
/// The bands add up to the total register's energy, as every other view does: the vault rounds
/// each register's share of a gap on its own, so a row's T1 + T2 can be a watt-hour off the
/// total. The difference goes to (or comes from) the larger band.
fn import_bands(r: &Row) -> Vec<f64> {
    let (t1, t2) = (r.used(Quantity::ImportT1Wh), r.used(Quantity::ImportT2Wh));
    let total = r.used(Quantity::ImportWh);
    if t1.is_none() && t2.is_none() {
        return vec![total.unwrap_or(0) as f64 / KWH, 0.0];
    }
    let mut bands = [t1.unwrap_or(0), t2.unwrap_or(0)];
    if let Some(total) = total.filter(|t| *t >= 0) {
        let larger = usize::from(bands[1] > bands[0]);
        let diff = total - bands[0] - bands[1];
        bands[larger] += diff;
        if bands[larger] < 0 {
            bands[1 - larger] += bands[larger];
            bands[larger] = 0;
        }
    }
    bands.iter().map(|wh| *wh as f64 / KWH).collect()
}

fn label(kind: PeriodKind, t: MeterTime, lang: Lang) -> String {
    let z = t.zoned();
    match kind {
        PeriodKind::Day => lang.hour(z.hour()),
        PeriodKind::Week => {
            let wd = jiff::civil::Weekday::Monday.until(z.weekday()) as usize;
            format!("{} {}", lang.weekday_short(wd), z.day())
        }
        PeriodKind::Month => format!("{}", z.day()),
        PeriodKind::Year => lang.month_short(z.month()).to_string(),
    }
}

/// The series the load-duration curve is built from: minutes for a day, hours otherwise (the
/// same hourly rows the heatmap reads).
fn duration_resolution(kind: PeriodKind) -> (Resolution, i64) {
    match kind {
        PeriodKind::Day => (Resolution::Minute, 60),
        _ => (Resolution::Hour, 3600),
    }
}

/// Builds the history page for one period, every chart as SVG.
pub fn page(vault: &Vault, req: &Request, now: i64) -> Result<HistoryPage, HistoryError> {
    build(vault, req, now, None)
}

/// Draws one chart of the page as PNG or SVG (for saving); `None` when the period has no
/// such chart (no heatmap for a day, no gas or export in it).
pub fn chart(
    vault: &Vault,
    req: &Request,
    now: i64,
    id: ChartId,
    format: Format,
) -> Result<Option<Image>, HistoryError> {
    let mut out = None;
    build(vault, req, now, Some((id, format, &mut out)))?;
    Ok(out)
}

/// The page; with `only`, draws just that chart into its slot (and the page is a by-product).
fn build(
    vault: &Vault,
    req: &Request,
    now: i64,
    mut only: Option<(ChartId, Format, &mut Option<Image>)>,
) -> Result<HistoryPage, HistoryError> {
    let mut draw = |id: ChartId, c: &dyn Drawable| -> Result<Option<String>, ChartError> {
        match &mut only {
            None => Ok(Some(c.draw(Format::Svg)?.svg())),
            Some((want, format, slot)) if *want == id => {
                **slot = Some(c.draw(*format)?);
                Ok(None)
            }
            Some(_) => Ok(None),
        }
    };
    let lang = req.lang;
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
    let mut gas_bars = Vec::with_capacity(slots.len());
    let mut export_bars = Vec::with_capacity(slots.len());
    let (mut import, mut export, mut gas, mut estimated) = (0.0, 0.0, 0.0, 0.0);
    let (mut any_gas, mut any_export) = (false, false);
    let empty = |label: String, previous: Option<f64>| Bar {
        label,
        segments: Vec::new(),
        estimated: false,
        previous,
    };
    for (i, slot) in slots.iter().enumerate() {
        let t = MeterTime::in_zone(*slot, &tz);
        let lbl = label(req.kind, t, lang);
        let prev = previous_slots.get(i).copied();
        let Some(r) = by_start.get(slot) else {
            bars.push(empty(lbl.clone(), prev));
            gas_bars.push(empty(lbl.clone(), None));
            export_bars.push(empty(lbl, None));
            continue;
        };
        let bands = import_bands(r);
        let total: f64 = bands.iter().sum();
        let exp = used_kwh(r, Quantity::ExportWh).unwrap_or(0.0);
        let gas_m3 = r.used(Quantity::GasDm3).map(|d| d as f64 / 1000.0);
        import += total;
        export += exp;
        gas += gas_m3.unwrap_or(0.0);
        any_gas |= gas_m3.is_some_and(|g| g > 0.0);
        any_export |= exp > 0.0;
        if r.estimated {
            estimated += total;
        }
        table.push(HistoryRow {
            label: lbl.clone(),
            start: t.to_string(),
            import_kwh: round3(total),
            export_kwh: round3(exp),
            gas_m3: gas_m3.map(round3),
            previous_import_kwh: prev.map(round3),
            estimated: r.estimated,
        });
        gas_bars.push(Bar {
            label: lbl.clone(),
            segments: gas_m3.into_iter().collect(),
            estimated: r.estimated,
            previous: None,
        });
        export_bars.push(Bar {
            label: lbl.clone(),
            segments: vec![exp],
            estimated: r.estimated,
            previous: None,
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
    let period_title = period.title_in(lang);
    let title = lang.energy_used(&period_title);
    let bands = lang.tariff_bands();
    let bars_svg = draw(
        ChartId::Bars,
        &BarChart {
            title: &title,
            unit: "kWh",
            width: req.width,
            height: req.height,
            theme,
            bands: &bands,
            bars: &bars,
        },
    )?;
    let gas_title = lang.gas_used(&period_title);
    let gas_svg = if any_gas {
        draw(
            ChartId::Gas,
            &BarChart {
                title: &gas_title,
                unit: "m³",
                width: req.width,
                height: req.height,
                theme: theme.starting_with(GAS),
                bands: &[lang.gas()],
                bars: &gas_bars,
            },
        )?
    } else {
        None
    };
    let export_title = lang.energy_exported(&period_title);
    let export_svg = if any_export {
        draw(
            ChartId::Export,
            &BarChart {
                title: &export_title,
                unit: "kWh",
                width: req.width,
                height: req.height,
                theme: theme.starting_with(EXPORT),
                bands: &[lang.export()],
                bars: &export_bars,
            },
        )?
    } else {
        None
    };

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
    let power_title = lang.power(&period_title);
    let power_svg = draw(
        ChartId::Power,
        &LineChart {
            title: &power_title,
            unit: "W",
            width: req.width,
            height: req.height,
            theme,
            from: period.from,
            to: period.to,
            utc_offset_s: MeterTime::in_zone(period.from, &tz).offset_s,
            lines: vec![Line {
                name: lang.net_power(),
                points: &means,
                colour: 0,
                max_gap_s: step * 3,
                estimated: false,
                envelope: &band,
            }],
        },
    )?;

    // Hourly rows feed the heatmap and (beyond a day) the load-duration curve.
    let hours = if req.kind == PeriodKind::Day {
        Vec::new()
    } else {
        rows(vault, period.from, period.to, Resolution::Hour)?
    };

    // Load duration: mean power of each interval (from its energy, so estimated gap energy
    // counts too), sorted high to low.
    let (dres, dstep) = duration_resolution(req.kind);
    let minutes;
    let drows = if dres == Resolution::Hour {
        &hours
    } else {
        minutes = rows(vault, period.from, period.to, dres)?;
        &minutes
    };
    let mean_w = |r: &Row, q: Quantity| r.used(q).map(|wh| (wh * 3600 / dstep) as f64);
    // The interval still running would read low (its energy so far over a whole interval).
    let complete = |r: &&Row| r.start() + dstep <= now;
    let import_w: Vec<(f64, i64)> = drows
        .iter()
        .filter(complete)
        .filter_map(|r| mean_w(r, Quantity::ImportWh).map(|w| (w, dstep)))
        .collect();
    let export_w: Vec<(f64, i64)> = drows
        .iter()
        .filter(complete)
        .filter_map(|r| mean_w(r, Quantity::ExportWh).map(|w| (w, dstep)))
        .collect();
    let ld = LoadDuration::new(&import_w);
    let base_load_w = ld.base_load().map(f64::round);
    let duration_table: Vec<DurationPoint> = DURATION_SHARES
        .iter()
        .filter_map(|s| {
            ld.value_at(*s).map(|w| DurationPoint {
                share_pct: *s,
                import_w: w.round(),
            })
        })
        .collect();
    let duration_title = lang.load_duration(&period_title);
    let duration_desc = match (base_load_w, ld.max()) {
        (Some(b), Some(m)) => lang.base_load_sentence(b, m.round()),
        _ => String::new(),
    };
    let duration_svg = draw(
        ChartId::Duration,
        &LoadDurationChart {
            title: &duration_title,
            desc: &duration_desc,
            unit: "W",
            width: req.width,
            height: req.height,
            theme,
            import: &import_w,
            import_name: lang.import(),
            export: if export_w.iter().any(|(w, _)| *w > 0.0) {
                &export_w
            } else {
                &[]
            },
            export_name: lang.export(),
            base_load_name: lang.base_load(),
        },
    )?;

    // Heatmap for a week or longer: hour-of-day by day, energy per hour.
    let heatmap_svg = if req.kind == PeriodKind::Day {
        None
    } else {
        let mut days: Vec<HeatDay> = Vec::new();
        let mut current: Option<jiff::civil::Date> = None;
        for r in &hours {
            let z = MeterTime::in_zone(r.start(), &tz).zoned();
            if current != Some(z.date()) {
                current = Some(z.date());
                days.push(HeatDay {
                    label: lang.day_month(z.day(), z.month()),
                    hours: [None; 24],
                });
            }
            if let (Some(d), Some(wh)) = (days.last_mut(), r.used(Quantity::ImportWh)) {
                d.hours[(z.hour().clamp(0, 23)) as usize] = Some(wh as f64 / KWH);
            }
        }
        let heat_title = lang.use_by_hour(&period_title);
        draw(
            ChartId::Heatmap,
            &Heatmap {
                title: &heat_title,
                unit: "kWh",
                width: req.width,
                height: req.height.max(200),
                theme,
                days: &days,
            },
        )?
    };

    Ok(HistoryPage {
        title: period_title,
        from: MeterTime::in_zone(period.from, &tz).to_string(),
        to: MeterTime::in_zone(period.to, &tz).to_string(),
        import_kwh: round3(import),
        export_kwh: round3(export),
        gas_m3: round3(gas),
        estimated_kwh: round3(estimated),
        previous_import_kwh: previous_import.map(round3),
        bars_svg: bars_svg.unwrap_or_default(),
        power_svg: power_svg.unwrap_or_default(),
        heatmap_svg,
        gas_svg,
        export_svg,
        duration_svg: duration_svg.unwrap_or_default(),
        base_load_w,
        duration: duration_table,
        rows: table,
    })
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
