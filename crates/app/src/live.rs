//! The live view's memory: the latest reading and the last minutes of power, bounded in size,
//! drawn as the Now chart.
//!
//! The collector records every decoded reading here; the face reads it. Time is the reading's own
//! (meter time when present, else receive time), so charts are reproducible and a meter whose
//! clock jumps back does not leave a tangle of lines: samples later than the new time are dropped.
//!
//! Values the plausibility check dropped from readings ([`hearth_meter::plausible`]) are counted
//! here too, by kind, with the last one in words a homeowner understands: the meter status says
//! what Hearth refused to store, and why.

use crate::history::{Format, Image};
use hearth_charts::ChartError;
use hearth_charts::downsample::Point;
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::Theme;
use hearth_insight::Lang;
use hearth_meter::plausible::{Field, Rule};
use hearth_meter::{Decoder, Diagnostic, Quantity, Reading};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One phase of the live reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "PhaseDto"))]
pub struct LivePhase {
    /// `L1`, `L2`, `L3`.
    pub name: String,
    /// Power drawn on this phase (W).
    pub import_w: Option<i64>,
    /// Power fed back on this phase (W).
    pub export_w: Option<i64>,
    /// Voltage (V).
    pub voltage_v: Option<f64>,
    /// Current (A).
    pub current_a: Option<f64>,
}

/// The latest reading, for the Now screen and the `live` event (read back by the tray).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "LiveDto"))]
pub struct LiveReading {
    /// Meter time (RFC 3339 with the meter's offset), if the meter sent one.
    pub time: Option<String>,
    /// The reading's time as unix seconds (meter time, else receive time).
    pub unix: i64,
    /// Power drawn from the grid (W).
    pub import_w: Option<i64>,
    /// Power fed to the grid (W).
    pub export_w: Option<i64>,
    /// Import minus export (W); negative while exporting.
    pub net_w: i64,
    /// Phases present in the reading.
    pub phases: Vec<LivePhase>,
    /// Import register, all tariffs (kWh).
    pub import_kwh: Option<f64>,
    /// Export register, all tariffs (kWh).
    pub export_kwh: Option<f64>,
    /// Gas register (m³).
    pub gas_m3: Option<f64>,
    /// Active tariff (1-based).
    pub tariff: Option<i64>,
    /// Telegrams decoded so far.
    pub accepted: u64,
    /// Telegrams rejected so far.
    pub rejected: u64,
    /// Values dropped from readings as implausible so far (a voltage of 4000 V, a meter id that
    /// is an OBIS code); the rest of each reading was kept.
    pub implausible: u64,
    /// Those values by kind (`voltage`, `current`, `power`, `meter_id`, `time`, `other`), in
    /// that order, only the kinds with any.
    pub implausible_kinds: Vec<(String, u64)>,
    /// The last value dropped as implausible.
    pub last_implausible: Option<LiveDropped>,
}

/// A value dropped from a reading as implausible, for the meter status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "DroppedDto"))]
pub struct LiveDropped {
    /// The reading's field (`l1_v`, `import_w`, `meter_id`, `time`).
    pub field: String,
    /// Its kind: `voltage`, `current`, `power`, `meter_id`, `time` or `other`.
    pub kind: String,
    /// The phase (`L1`, `L2`, `L3`) of a phase's value.
    pub phase: Option<String>,
    /// The value as it came, in the field's unit with a `.` for decimals (`30.0`), or the text
    /// of a meter id or a time.
    pub value: String,
    /// The value's unit (`V`, `A`, `W`, `var`); empty for meter ids and times.
    pub unit: String,
    /// The rule it broke (`voltage`, `current`, `power`, `power-beyond-volts-times-amps`,
    /// `current-beyond-power`, `meter-id-is-obis-code`, `year`); empty for a rule this build
    /// does not know by name (`explanation` still says it).
    pub rule: String,
    /// The rule in English (`a household voltage is 0 or between 80 and 300 V`).
    pub explanation: String,
    /// All of it in English: `a voltage of 30.0 V on L1 was dropped: a household voltage is 0
    /// or between 80 and 300 V`.
    pub message: String,
}

/// The kinds of values counted, in the order the meter status names them.
const KINDS: [&str; 6] = ["voltage", "current", "power", "meter_id", "time", "other"];

/// Every field the plausibility check judges or may judge, by its canonical name.
fn field_named(name: &str) -> Option<Field> {
    Quantity::ALL
        .into_iter()
        .map(Field::Quantity)
        .chain([
            Field::MeterId,
            Field::Time,
            Field::DemandPeakMonthTime,
            Field::GasTime,
            Field::WaterTime,
            Field::HeatTime,
        ])
        .find(|f| f.name() == name)
}

/// Every rule, to know one by its explanation.
const RULES: [Rule; 7] = [
    Rule::Voltage,
    Rule::Current,
    Rule::Power,
    Rule::PowerBeyondVoltsTimesAmps,
    Rule::CurrentBeyondPower,
    Rule::MeterIdIsObisCode,
    Rule::Year,
];

impl LiveDropped {
    /// The dropped value a reading's diagnostic tells of, if it is one: the plausibility
    /// check's (`l1_v 30.0 dropped: a household voltage is 0 or between 80 and 300 V`, on
    /// line 0, coded with the field's name; see [`hearth_meter::plausible::Implausible`]).
    /// Other diagnostics (a line a decoder could not read) give `None`.
    pub fn from_diagnostic(d: &Diagnostic) -> Option<Self> {
        if d.line != 0 {
            return None;
        }
        let field = field_named(&d.code)?;
        let rest = d.message.strip_prefix(d.code.as_str())?.strip_prefix(' ')?;
        let (value, explanation) = rest.split_once(" dropped: ")?;
        let rule = RULES.into_iter().find(|r| r.explain() == explanation);
        let phase = ["l1_", "l2_", "l3_"]
            .iter()
            .position(|p| d.code.starts_with(p))
            .map(|i| format!("L{}", i + 1));
        let (kind, unit, what) = match field {
            Field::Quantity(q) => {
                let (kind, unit, noun) = match q {
                    Quantity::L1Dv | Quantity::L2Dv | Quantity::L3Dv => {
                        ("voltage", "V", "a voltage of")
                    }
                    Quantity::L1Ma | Quantity::L2Ma | Quantity::L3Ma => {
                        ("current", "A", "a current of")
                    }
                    Quantity::ReactiveImportVar | Quantity::ReactiveExportVar => {
                        ("power", "var", "a reactive power of")
                    }
                    Quantity::ImportW
                    | Quantity::ExportW
                    | Quantity::L1ImportW
                    | Quantity::L2ImportW
                    | Quantity::L3ImportW
                    | Quantity::L1ExportW
                    | Quantity::L2ExportW
                    | Quantity::L3ExportW
                    | Quantity::DemandCurrentW
                    | Quantity::DemandPeakMonthW => ("power", "W", "a power of"),
                    // Not judged today (registers are the vault's to judge).
                    _ => ("other", "", ""),
                };
                let what = if noun.is_empty() {
                    format!("{} {value}", d.code)
                } else {
                    format!("{noun} {value} {unit}")
                };
                (kind, unit, what)
            }
            Field::MeterId => ("meter_id", "", format!("the meter id {value}")),
            time => {
                let (kind, noun) = match time {
                    Field::Time => ("time", "the meter time"),
                    Field::DemandPeakMonthTime => ("time", "the demand peak's time"),
                    Field::GasTime => ("time", "the gas reading's time"),
                    Field::WaterTime => ("time", "the water reading's time"),
                    Field::HeatTime => ("time", "the heat reading's time"),
                    _ => ("other", d.code.as_str()),
                };
                let what = format!("{noun} {value}");
                (kind, "", what)
            }
        };
        let on = phase
            .as_deref()
            .map_or(String::new(), |p| format!(" on {p}"));
        Some(LiveDropped {
            field: d.code.clone(),
            kind: kind.to_owned(),
            message: format!("{what}{on} was dropped: {explanation}"),
            phase,
            value: value.to_owned(),
            unit: unit.to_owned(),
            rule: rule.map_or("", Rule::name).to_owned(),
            explanation: explanation.to_owned(),
        })
    }
}

/// Scales a stored integer by its quantity's decimals (Wh -> kWh, dV -> V, mA -> A, dm³ -> m³).
fn scaled(r: &Reading, q: Quantity) -> Option<f64> {
    r.get(q)
        .map(|v| v as f64 / 10f64.powi(i32::from(q.decimals())))
}

impl LiveReading {
    /// What to show of a reading received at `unix` (used when the meter sent no time).
    /// (The counts of implausible values are the live view's: see [`Live::record`].)
    pub fn from_reading(r: &Reading, unix: i64, accepted: u64, rejected: u64) -> Self {
        let import_w = r.get(Quantity::ImportW);
        let export_w = r.get(Quantity::ExportW);
        let phases = [
            (
                "L1",
                Quantity::L1ImportW,
                Quantity::L1ExportW,
                Quantity::L1Dv,
                Quantity::L1Ma,
            ),
            (
                "L2",
                Quantity::L2ImportW,
                Quantity::L2ExportW,
                Quantity::L2Dv,
                Quantity::L2Ma,
            ),
            (
                "L3",
                Quantity::L3ImportW,
                Quantity::L3ExportW,
                Quantity::L3Dv,
                Quantity::L3Ma,
            ),
        ]
        .into_iter()
        .filter(|(_, i, e, v, a)| [*i, *e, *v, *a].iter().any(|q| r.get(*q).is_some()))
        .map(|(name, i, e, v, a)| LivePhase {
            name: name.to_string(),
            import_w: r.get(i),
            export_w: r.get(e),
            voltage_v: scaled(r, v),
            current_a: scaled(r, a),
        })
        .collect();
        LiveReading {
            time: r.time.map(|t| t.to_string()),
            unix: r.time.map_or(unix, |t| t.unix),
            import_w,
            export_w,
            net_w: import_w.unwrap_or(0) - export_w.unwrap_or(0),
            phases,
            import_kwh: scaled(r, Quantity::ImportWh),
            export_kwh: scaled(r, Quantity::ExportWh),
            gas_m3: scaled(r, Quantity::GasDm3),
            tariff: r.get(Quantity::Tariff),
            accepted,
            rejected,
            implausible: 0,
            implausible_kinds: Vec::new(),
            last_implausible: None,
        }
    }
}

/// How much history the live chart can show.
pub const KEEP_S: i64 = 30 * 60;

/// One power sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    unix: i64,
    import_w: Option<i64>,
    export_w: Option<i64>,
}

/// Latest reading, counters and recent power.
#[derive(Debug, Default)]
pub struct Live {
    samples: VecDeque<Sample>,
    latest: Option<LiveReading>,
    accepted: u64,
    rejected: u64,
    /// Values dropped as implausible, indexed like [`KINDS`].
    implausible: [u64; KINDS.len()],
    last_implausible: Option<LiveDropped>,
}

impl Live {
    /// Records a decoded reading received at `received_unix`; returns what the UI should show.
    /// Tell the values dropped from it first ([`record_implausible`](Self::record_implausible)).
    pub fn record(&mut self, r: &Reading, received_unix: i64) -> LiveReading {
        self.accepted += 1;
        let mut dto = LiveReading::from_reading(r, received_unix, self.accepted, self.rejected);
        self.show_implausible(&mut dto);
        let s = Sample {
            unix: dto.unix,
            import_w: r.get(Quantity::ImportW),
            export_w: r.get(Quantity::ExportW),
        };
        // A clock that went back: forget the samples "from the future".
        while self.samples.back().is_some_and(|b| b.unix >= s.unix) {
            self.samples.pop_back();
        }
        self.samples.push_back(s);
        while self
            .samples
            .front()
            .is_some_and(|f| f.unix <= s.unix - KEEP_S)
        {
            self.samples.pop_front();
        }
        self.latest = Some(dto.clone());
        dto
    }

    /// Fills the chart with stored readings (the minutes before the app started), so the Now
    /// chart draws before the meter's first telegram. Only while no live sample has arrived;
    /// readings without a time are skipped, and the latest reading (the numbers on the Now
    /// screen) stays empty until the meter speaks.
    pub fn seed(&mut self, readings: &[Reading]) {
        if !self.samples.is_empty() {
            return;
        }
        for r in readings {
            let Some(t) = r.time else { continue };
            if self.samples.back().is_some_and(|b| b.unix >= t.unix) {
                continue;
            }
            self.samples.push_back(Sample {
                unix: t.unix,
                import_w: r.get(Quantity::ImportW),
                export_w: r.get(Quantity::ExportW),
            });
        }
        if let Some(newest) = self.samples.back().map(|s| s.unix) {
            self.samples.retain(|s| s.unix > newest - KEEP_S);
        }
    }

    /// Feeds received bytes through a decoder into the live view; returns each decoded reading
    /// (to store) with what to show, in order. Rejected frames are counted, not returned; values
    /// a [`Checked`](hearth_meter::plausible::Checked) decoder dropped are counted.
    pub fn ingest(
        &mut self,
        decoder: &mut dyn Decoder,
        bytes: &[u8],
        received_unix: i64,
    ) -> Vec<(Reading, LiveReading)> {
        decoder.push(bytes);
        let mut out = Vec::new();
        while let Some(frame) = decoder.next() {
            match frame {
                Ok(decoded) => {
                    for d in &decoded.diagnostics {
                        if let Some(dropped) = LiveDropped::from_diagnostic(d) {
                            self.record_implausible(dropped);
                        }
                    }
                    let shown = self.record(&decoded.reading, received_unix);
                    out.push((decoded.reading, shown));
                }
                Err(_) => self.record_rejection(),
            }
        }
        out
    }

    /// Counts a rejected frame.
    pub fn record_rejection(&mut self) {
        self.rejected += 1;
        if let Some(l) = &mut self.latest {
            l.rejected = self.rejected;
        }
    }

    /// Counts a value dropped from a reading as implausible; it is the last one shown.
    pub fn record_implausible(&mut self, dropped: LiveDropped) {
        let kind = KINDS
            .iter()
            .position(|k| *k == dropped.kind)
            .unwrap_or(KINDS.len() - 1);
        self.implausible[kind] += 1;
        self.last_implausible = Some(dropped);
        if let Some(mut l) = self.latest.take() {
            self.show_implausible(&mut l);
            self.latest = Some(l);
        }
    }

    /// Puts the counts of implausible values into what is shown.
    fn show_implausible(&self, dto: &mut LiveReading) {
        dto.implausible = self.implausible.iter().sum();
        dto.implausible_kinds = KINDS
            .iter()
            .zip(self.implausible)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| ((*k).to_owned(), n))
            .collect();
        dto.last_implausible.clone_from(&self.last_implausible);
    }

    /// The latest reading, if any arrived.
    pub fn latest(&self) -> Option<&LiveReading> {
        self.latest.as_ref()
    }

    /// How many power samples are held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// No samples yet.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Net power (import - export) over the last `minutes` before the latest sample, as an SVG
    /// with time labels at `utc_offset_s` (the machine's local time: store UTC, show local).
    pub fn chart(
        &self,
        minutes: u32,
        width: u32,
        height: u32,
        dark: bool,
        utc_offset_s: i32,
    ) -> Result<String, ChartError> {
        let size = (width, height);
        match self.chart_in(minutes, size, dark, utc_offset_s, Lang::En, Format::Svg)? {
            Image::Svg(s) => Ok(s),
            Image::Png(_) => Ok(String::new()),
        }
    }

    /// [`chart`](Self::chart) with its words in `lang`, drawn as SVG or PNG.
    pub fn chart_in(
        &self,
        minutes: u32,
        (width, height): (u32, u32),
        dark: bool,
        utc_offset_s: i32,
        lang: Lang,
        format: Format,
    ) -> Result<Image, ChartError> {
        let span = i64::from(minutes.clamp(1, (KEEP_S / 60) as u32)) * 60;
        let to = self.samples.back().map_or(0, |s| s.unix) + 1;
        let from = to - span;
        let net: Vec<Point> = self
            .samples
            .iter()
            .filter(|s| s.import_w.is_some() || s.export_w.is_some())
            .map(|s| {
                Point::new(
                    s.unix,
                    (s.import_w.unwrap_or(0) - s.export_w.unwrap_or(0)) as f64,
                )
            })
            .collect();
        let title = lang.power_last_minutes(span / 60);
        let chart = LineChart {
            title: &title,
            unit: "W",
            width,
            height,
            theme: if dark { Theme::DARK } else { Theme::LIGHT },
            from,
            to,
            utc_offset_s,
            lines: vec![Line {
                name: lang.net_power(),
                points: &net,
                colour: 0,
                max_gap_s: 10,
                estimated: false,
                envelope: &[],
            }],
        };
        Ok(match format {
            Format::Svg => Image::Svg(chart.to_svg()?),
            Format::Png(scale) => Image::Png(chart.to_png(scale)?),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hearth_meter::dsmr::DsmrDecoder;
    use hearth_meter::plausible::Checked;
    use hearth_meter::{MeterTime, Protocol};
    use hearth_meter_io::simulator::Simulator;

    fn reading(unix: i64, import_w: i64, export_w: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime {
            unix,
            offset_s: 3600,
        });
        r.set(Quantity::ImportW, import_w);
        r.set(Quantity::ExportW, export_w);
        r
    }

    #[test]
    fn keeps_a_bounded_window() {
        let mut live = Live::default();
        for t in 0..(KEEP_S + 100) {
            live.record(&reading(1_000_000 + t, 500, 0), 0);
        }
        // Samples strictly newer than latest - KEEP_S: exactly KEEP_S of them.
        assert_eq!(live.len(), KEEP_S as usize);
        assert_eq!(
            live.latest().map(|l| l.accepted),
            Some((KEEP_S + 100) as u64)
        );
    }

    #[test]
    fn clock_jumping_back_drops_later_samples() {
        let mut live = Live::default();
        for t in [100, 101, 102, 103] {
            live.record(&reading(t, 1, 0), 0);
        }
        live.record(&reading(101, 2, 0), 0);
        // 101..103 dropped, 100 kept, the new 101 appended.
        assert_eq!(live.len(), 2);
        assert_eq!(live.latest().map(|l| l.unix), Some(101));
    }

    #[test]
    fn stored_minutes_fill_the_chart_until_the_meter_speaks() {
        let mut live = Live::default();
        // 40 stored minutes at 10-s steps, one without a time, one out of order: only the
        // last 30 minutes (180 samples, strictly newer than newest - KEEP_S) are kept.
        let mut stored: Vec<Reading> = (0..240).map(|i| reading(10_000 + i * 10, 800, 0)).collect();
        stored.insert(100, reading(10_000, 1, 0));
        let mut untimed = reading(0, 5, 0);
        untimed.time = None;
        stored.push(untimed);
        live.seed(&stored);
        assert_eq!(live.len(), 180);
        assert!(
            live.latest().is_none(),
            "no live numbers before the meter speaks"
        );
        // The chart draws from them: its time axis ends at the newest stored sample.
        assert!(live.chart(10, 600, 240, false, 0).is_ok());
        // The first telegram appends (and the oldest, 10_600 = 12_400 - KEEP_S, falls out);
        // seeding again once live data exists changes nothing.
        live.record(&reading(12_400, 900, 0), 0);
        live.seed(&[reading(12_500, 1, 0)]);
        assert_eq!(live.len(), 180);
        assert_eq!(live.latest().map(|l| l.unix), Some(12_400));
    }

    #[test]
    fn rejections_show_in_the_latest() {
        let mut live = Live::default();
        live.record_rejection();
        live.record(&reading(5, 1, 0), 0);
        live.record_rejection();
        let l = live.latest().cloned();
        assert_eq!(l.map(|l| (l.accepted, l.rejected)), Some((1, 2)));
    }

    #[test]
    fn chart_labels_use_the_given_offset() {
        let mut live = Live::default();
        // 2025-11-26T14:05:00Z shown at +01:00 -> labels 15:0x.
        for t in 0..120 {
            live.record(&reading(1_764_165_900 + t, 300 + t, 0), 0);
        }
        let svg = live.chart(2, 600, 240, false, 3600).unwrap_or_default();
        assert!(svg.contains("<title>Power, last 2 minutes</title>"));
        assert!(svg.contains("\n15:0"), "labels at +01:00");
        assert!(!svg.contains("\n14:0"), "not UTC");
        // One data line, in the first palette colour (axes are polylines too, in other colours).
        let data_lines = svg
            .split("<polyline")
            .filter(|p| {
                p.split('>')
                    .next()
                    .is_some_and(|tag| tag.contains("stroke=\"#0072B2\""))
            })
            .count();
        assert_eq!(data_lines, 1);
    }

    #[test]
    fn simulator_telegrams_reach_the_live_view_and_garbage_is_counted() {
        // 2026-01-15T12:00:00Z; the simulator's own reading is the reference.
        let mut meter = Simulator::new(7, 1_768_478_400);
        let mut decoder = DsmrDecoder::new();
        let mut live = Live::default();
        let t1 = meter.next_telegram();
        let expected = meter.reading();
        let shown = live.ingest(&mut decoder, &t1, 0);
        assert_eq!(shown.len(), 1);
        // What gets stored is what the decoder read: every value equal to the simulator's own
        // reading (the decoder may add extras the simulator does not model, such as the
        // power-failure log).
        let got = &shown[0].0;
        assert_eq!(
            (got.time, got.meter_id.clone()),
            (expected.time, expected.meter_id.clone())
        );
        for q in Quantity::ALL {
            assert_eq!(got.get(q), expected.get(q), "{}", q.name());
        }
        let shown: Vec<LiveReading> = shown.into_iter().map(|(_, d)| d).collect();
        let want_net = expected.get(Quantity::ImportW).unwrap_or(0)
            - expected.get(Quantity::ExportW).unwrap_or(0);
        assert_eq!(shown[0].net_w, want_net);
        assert_eq!(shown[0].unix, 1_768_478_400);
        assert_eq!(shown[0].time.as_deref(), Some("2026-01-15T13:00:00+01:00"));
        // A telegram with one flipped byte fails its CRC: counted, not shown.
        let mut bad = meter.next_telegram();
        bad[20] ^= 0x01;
        assert!(live.ingest(&mut decoder, &bad, 0).is_empty());
        // Split across pushes, the next one still decodes.
        let t3 = meter.next_telegram();
        let (a, b) = t3.split_at(100);
        assert!(live.ingest(&mut decoder, a, 0).is_empty());
        let shown = live.ingest(&mut decoder, b, 0);
        assert_eq!(shown.len(), 1);
        let shown: Vec<LiveReading> = shown.into_iter().map(|(_, d)| d).collect();
        assert_eq!((shown[0].accepted, shown[0].rejected), (2, 1));
        assert_eq!(shown[0].unix, 1_768_478_402);
    }

    /// A DSMR telegram with L1's voltage replaced by `volts` (`0030.0`), its CRC made anew.
    pub(crate) fn with_l1_voltage(telegram: &[u8], volts: &str) -> Vec<u8> {
        let text = std::str::from_utf8(telegram).expect("a DSMR telegram is text");
        let at = text.find("1-0:32.7.0(").expect("an L1 voltage") + "1-0:32.7.0(".len();
        let end = at + text[at..].find("*V)").expect("in volts");
        let bang = text.find('!').expect("the end");
        let body = format!("{}{volts}{}", &text[..at], &text[end..=bang]);
        let crc = hearth_meter::checksum::crc16_arc(body.as_bytes());
        format!("{body}{crc:04X}\r\n").into_bytes()
    }

    #[test]
    fn an_implausible_voltage_is_counted_and_told_in_homeowner_words() {
        let mut meter = Simulator::new(7, 1_768_478_400);
        let mut decoder = Checked::new(DsmrDecoder::new());
        let mut live = Live::default();
        let plausible = meter.next_telegram();
        let shown = live.ingest(&mut decoder, &plausible, 0);
        assert_eq!(
            shown[0].1.implausible, 0,
            "the simulator's telegrams are plausible"
        );
        assert_eq!(shown[0].1.last_implausible, None);
        // 30.0 V on L1: a scaler read wrong, no live phase is that low.
        let low = with_l1_voltage(&meter.next_telegram(), "0030.0");
        let shown = live.ingest(&mut decoder, &low, 0);
        assert_eq!(shown.len(), 1, "the reading is kept");
        let (reading, dto) = &shown[0];
        assert_eq!(reading.get(Quantity::L1Dv), None, "without its voltage");
        assert!(reading.get(Quantity::L1Ma).is_some(), "the rest is kept");
        assert!(reading.get(Quantity::L2Dv).is_some());
        assert_eq!(decoder.stats().implausible, 1);
        assert_eq!(dto.implausible, 1);
        assert_eq!(dto.implausible_kinds, [("voltage".to_owned(), 1)]);
        assert_eq!(
            dto.last_implausible,
            Some(LiveDropped {
                field: "l1_v".into(),
                kind: "voltage".into(),
                phase: Some("L1".into()),
                value: "30.0".into(),
                unit: "V".into(),
                rule: "voltage".into(),
                explanation: "a household voltage is 0 or between 80 and 300 V".into(),
                message: "a voltage of 30.0 V on L1 was dropped: a household voltage is 0 or \
                          between 80 and 300 V"
                    .into(),
            })
        );
        assert_eq!(dto.phases[0].voltage_v, None);
        // The counts stay with the next, plausible reading; a rejection keeps them too.
        let shown = live.ingest(&mut decoder, &meter.next_telegram(), 0);
        assert_eq!(shown[0].1.implausible, 1);
        live.record_rejection();
        let latest = live.latest().cloned().expect("a reading");
        assert_eq!(
            (latest.accepted, latest.rejected, latest.implausible),
            (3, 1, 1)
        );
        assert!(latest.last_implausible.is_some());
    }

    /// A diagnostic as the plausibility check writes it, through [`Implausible::diagnostic`].
    fn told(field: Field, value: &str, rule: Rule) -> Option<LiveDropped> {
        let found = hearth_meter::plausible::Implausible {
            field,
            value: value.into(),
            rule,
        };
        LiveDropped::from_diagnostic(&found.diagnostic())
    }

    #[test]
    fn every_kind_of_dropped_value_is_told_in_homeowner_words() {
        let message = |f, v: &str, r| told(f, v, r).map(|d| (d.kind, d.message));
        let q = Field::Quantity;
        assert_eq!(
            message(q(Quantity::L3Ma), "900.000", Rule::Current),
            Some((
                "current".into(),
                "a current of 900.000 A on L3 was dropped: a household current is within ±500 A"
                    .into()
            ))
        );
        assert_eq!(
            message(q(Quantity::ImportW), "900000", Rule::Power),
            Some((
                "power".into(),
                "a power of 900000 W was dropped: a household connection carries at most ±60 kW"
                    .into()
            ))
        );
        assert_eq!(
            message(
                q(Quantity::L2ExportW),
                "4000",
                Rule::PowerBeyondVoltsTimesAmps
            ),
            Some((
                "power".into(),
                "a power of 4000 W on L2 was dropped: the power is more than the phase's \
                 voltage and current can carry"
                    .into()
            ))
        );
        assert_eq!(
            message(q(Quantity::ReactiveImportVar), "70000", Rule::Power),
            Some((
                "power".into(),
                "a reactive power of 70000 var was dropped: a household connection carries at \
                 most ±60 kW"
                    .into()
            ))
        );
        assert_eq!(
            message(Field::MeterId, "1-0:96.1.0*255", Rule::MeterIdIsObisCode),
            Some((
                "meter_id".into(),
                "the meter id 1-0:96.1.0*255 was dropped: a meter id is not an OBIS code".into()
            ))
        );
        assert_eq!(
            message(Field::Time, "1999-12-31T23:00:00+01:00", Rule::Year),
            Some((
                "time".into(),
                "the meter time 1999-12-31T23:00:00+01:00 was dropped: a meter time lies \
                 between the years 2000 and 2100"
                    .into()
            ))
        );
        assert_eq!(
            message(Field::GasTime, "2100-01-01T00:00:00Z", Rule::Year),
            Some((
                "time".into(),
                "the gas reading's time 2100-01-01T00:00:00Z was dropped: a meter time lies \
                 between the years 2000 and 2100"
                    .into()
            ))
        );
        // A register (never judged today) would still be counted, as another kind.
        assert_eq!(
            told(q(Quantity::ImportWh), "1.000", Rule::Power).map(|d| d.kind),
            Some("other".into())
        );
    }

    #[test]
    fn every_rule_and_field_is_known_by_its_diagnostic() {
        // A new rule or field in `hearth_meter::plausible` fails to compile here: add it to
        // `RULES` or `field_named`.
        for rule in RULES {
            match rule {
                Rule::Voltage
                | Rule::Current
                | Rule::Power
                | Rule::PowerBeyondVoltsTimesAmps
                | Rule::CurrentBeyondPower
                | Rule::MeterIdIsObisCode
                | Rule::Year => {}
            }
            let d = told(Field::Quantity(Quantity::L1Dv), "1.0", rule).expect("known");
            assert_eq!(d.rule, rule.name());
        }
        let fields = Quantity::ALL.into_iter().map(Field::Quantity).chain([
            Field::MeterId,
            Field::Time,
            Field::DemandPeakMonthTime,
            Field::GasTime,
            Field::WaterTime,
            Field::HeatTime,
        ]);
        for field in fields {
            match field {
                Field::Quantity(_)
                | Field::MeterId
                | Field::Time
                | Field::DemandPeakMonthTime
                | Field::GasTime
                | Field::WaterTime
                | Field::HeatTime => {}
            }
            let d = told(field, "7", Rule::Year).expect("known");
            assert_eq!((d.field.as_str(), d.value.as_str()), (field.name(), "7"));
        }
    }

    #[test]
    fn other_diagnostics_are_no_dropped_values() {
        let diagnostic = |line: u32, code: &str, message: &str| Diagnostic {
            line,
            code: code.into(),
            message: message.into(),
        };
        // A decoder's own: a line it could not read.
        assert_eq!(
            LiveDropped::from_diagnostic(&diagnostic(
                7,
                "1-0:32.7.0",
                "1-0:32.7.0 x dropped: unreadable"
            )),
            None
        );
        // Line 0, but not a field's name, or not the check's words.
        assert_eq!(
            LiveDropped::from_diagnostic(&diagnostic(0, "1-0:32.7.0", "1-0:32.7.0 1 dropped: x")),
            None
        );
        assert_eq!(
            LiveDropped::from_diagnostic(&diagnostic(0, "l1_v", "l1_v has no unit")),
            None
        );
        // A rule this build does not know by name is still told, in the meter crate's words.
        let d = LiveDropped::from_diagnostic(&diagnostic(0, "l1_v", "l1_v 1.0 dropped: too new"));
        assert_eq!(
            d.map(|d| (d.rule, d.message)),
            Some((
                String::new(),
                "a voltage of 1.0 V on L1 was dropped: too new".into()
            ))
        );
    }

    #[test]
    fn dropped_values_are_counted_by_kind_in_order() {
        let mut live = Live::default();
        let q = Field::Quantity;
        for (f, rule) in [
            (q(Quantity::ImportW), Rule::Power),
            (q(Quantity::L1Dv), Rule::Voltage),
            (q(Quantity::L2Dv), Rule::Voltage),
            (Field::MeterId, Rule::MeterIdIsObisCode),
            (q(Quantity::L3Dv), Rule::Voltage),
            (q(Quantity::L1Ma), Rule::Current),
        ] {
            live.record_implausible(told(f, "1", rule).expect("told"));
        }
        let dto = live.record(&reading(5, 1, 0), 0);
        assert_eq!(dto.implausible, 6);
        assert_eq!(
            dto.implausible_kinds,
            [
                ("voltage".to_owned(), 3),
                ("current".to_owned(), 1),
                ("power".to_owned(), 1),
                ("meter_id".to_owned(), 1)
            ]
        );
        assert_eq!(
            dto.last_implausible.map(|d| d.field),
            Some("l1_a".to_owned())
        );
    }
}
