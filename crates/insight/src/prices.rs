//! Dynamic prices: a CSV file of prices per hour or quarter hour that the user downloaded.
//!
//! Hearth's own format is two columns, `start,price_per_kwh`, with `start` in RFC 3339
//! (`2026-01-05T00:00:00+01:00`) and the price in currency per kWh before VAT; each price holds
//! until the next start, and the last one for as long as the step before it. Common exports are
//! accepted too:
//!
//! - the separator may be `,`, `;` or a tab; with `;` or a tab a decimal comma is accepted;
//! - the time column is the first whose header contains `start`, `time`, `date`, `from`,
//!   `mtu`, `period`, `hour`, `datum`, `tijd`, `zeit` or `dato`; it may be RFC 3339, or local wall time in the contract's
//!   zone as `2026-01-05 13:00`, `2026-01-05T13:00`, `05.01.2026 13:00` or `05-01-2026 13:00`;
//!   a range such as ENTSO-E's `05.01.2026 13:00 - 05.01.2026 14:00` uses its start;
//! - the price column is the first whose header contains `price`, `prijs`, `preis`, `prix`
//!   or `pris`; a header naming `MWh` (e.g. `Day-ahead Price [EUR/MWh]`) is divided by 1000, one
//!   naming cents (`ct`, `cent`, `øre`, `öre`) by 100.
//!
//! Starts must increase and fall on a quarter hour. A row without a price is an error, not a
//! silent gap: a contract with unknown prices cannot be priced.

use crate::money::{PRICE_SCALE, Price, parse_scaled};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Prices per interval, sorted by start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceSeries {
    starts: Vec<i64>,
    prices: Vec<Price>,
    end: i64,
}

/// Why a price file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// The file could not be read.
    #[error("cannot read it: {0}")]
    Io(String),
    /// The contract names the file, but its text was not given with the contract (a stored
    /// contract saved without its price file).
    #[error(
        "it is not stored with this contract; save the contract again from its file, with the price file beside it"
    )]
    NotGiven,
    /// No rows.
    #[error("it has no prices")]
    Empty,
    /// No time or price column could be found.
    #[error("no time and price columns found; the header needs e.g. \"start,price_per_kwh\"")]
    Columns,
    /// A time that is not a date and time.
    #[error("line {line}: \"{text}\" is not a date and time like 2026-01-05T13:00:00+01:00")]
    Time {
        /// 1-based line.
        line: usize,
        /// The field.
        text: String,
    },
    /// A price that is not a number.
    #[error("line {line}: \"{text}\" is not a price")]
    Price {
        /// 1-based line.
        line: usize,
        /// The field.
        text: String,
    },
    /// Starts out of order or repeated.
    #[error("line {line}: the start is not after the previous row's; rows must be in time order")]
    Order {
        /// 1-based line.
        line: usize,
    },
    /// A start inside a quarter hour.
    #[error("line {line}: prices must start on a quarter hour (:00, :15, :30, :45)")]
    QuarterHour {
        /// 1-based line.
        line: usize,
    },
    /// A malformed CSV row.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// What the CSV reader said.
        message: String,
    },
}

impl PriceSeries {
    /// Builds a series from `(start unix seconds, price)` pairs in increasing order; the last
    /// price holds as long as the step before it (one hour if there is only one).
    pub fn new(rows: Vec<(i64, Price)>) -> Result<PriceSeries, PriceError> {
        if rows.is_empty() {
            return Err(PriceError::Empty);
        }
        let mut starts = Vec::with_capacity(rows.len());
        let mut prices = Vec::with_capacity(rows.len());
        for (i, (t, p)) in rows.into_iter().enumerate() {
            if t.rem_euclid(900) != 0 {
                return Err(PriceError::QuarterHour { line: i + 2 });
            }
            if starts.last().is_some_and(|l| *l >= t) {
                return Err(PriceError::Order { line: i + 2 });
            }
            starts.push(t);
            prices.push(p);
        }
        let n = starts.len();
        let step = if n >= 2 {
            starts[n - 1] - starts[n - 2]
        } else {
            3600
        };
        let end = starts[n - 1] + step;
        Ok(PriceSeries {
            starts,
            prices,
            end,
        })
    }

    /// The price in force at `unix`, or `None` outside the file's range.
    pub fn at(&self, unix: i64) -> Option<Price> {
        if unix >= self.end {
            return None;
        }
        match self.starts.binary_search(&unix) {
            Ok(i) => Some(self.prices[i]),
            Err(0) => None,
            Err(i) => Some(self.prices[i - 1]),
        }
    }

    /// The first start and the end of the last price.
    pub fn span(&self) -> (i64, i64) {
        (self.starts.first().copied().unwrap_or(self.end), self.end)
    }

    /// Reads a price file (see the module docs); local times are in `tz`.
    pub fn parse(text: &str, tz: &TimeZone) -> Result<PriceSeries, PriceError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let first = text.lines().next().ok_or(PriceError::Empty)?;
        let delim = [b';', b'\t', b',']
            .into_iter()
            .max_by_key(|d| first.bytes().filter(|b| b == d).count())
            .unwrap_or(b',');
        let decimal_comma = delim != b',';
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| PriceError::Csv {
                line: 1,
                message: e.to_string(),
            })?
            .iter()
            .map(|h| h.to_lowercase())
            .collect();
        let find = |keys: &[&str]| {
            header
                .iter()
                .position(|h| keys.iter().any(|k| h.contains(k)))
        };
        let time_col = find(&[
            "start", "time", "date", "from", "mtu", "period", "hour", "datum", "tijd", "zeit",
            "dato",
        ]);
        let price_col = find(&["price", "prijs", "preis", "prix", "pris"]);
        let (time_col, price_col) = match (time_col, price_col) {
            (Some(t), Some(p)) if t != p => (t, p),
            _ => return Err(PriceError::Columns),
        };
        let unit = &header[price_col];
        // Scale the literal to pico-units per kWh: per MWh needs 3 fewer places, cents 2 fewer.
        let scale_down = if unit.contains("mwh") {
            3
        } else if unit.contains("cent")
            || unit.contains("ct")
            || unit.contains("øre")
            || unit.contains("öre")
        {
            2
        } else {
            0
        };
        let mut rows: Vec<(i64, Price)> = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| PriceError::Csv {
                line,
                message: e.to_string(),
            })?;
            if rec.iter().all(str::is_empty) {
                continue;
            }
            let t_text = rec.get(time_col).unwrap_or_default();
            let p_text = rec.get(price_col).unwrap_or_default();
            let prev = rows.last().map(|r| r.0);
            let t = parse_time(t_text, tz, prev).ok_or_else(|| PriceError::Time {
                line,
                text: t_text.to_owned(),
            })?;
            let literal = if decimal_comma {
                p_text.replace(',', ".")
            } else {
                p_text.to_owned()
            };
            let p = parse_scaled(&literal, PRICE_SCALE - scale_down).ok_or_else(|| {
                PriceError::Price {
                    line,
                    text: p_text.to_owned(),
                }
            })?;
            if t.rem_euclid(900) != 0 {
                return Err(PriceError::QuarterHour { line });
            }
            if prev.is_some_and(|p| p >= t) {
                return Err(PriceError::Order { line });
            }
            rows.push((t, Price(p)));
        }
        PriceSeries::new(rows)
    }
}

/// An RFC 3339 instant, or a local wall time in `tz`. In the repeated autumn hour the later
/// instant is taken when the earlier one would not follow `prev`.
fn parse_time(text: &str, tz: &TimeZone, prev: Option<i64>) -> Option<i64> {
    let text = text.split(" - ").next().unwrap_or(text).trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_second());
    }
    let civil = parse_civil(text)?;
    let amb = tz.to_ambiguous_timestamp(civil);
    let early = amb.earlier().ok()?.as_second();
    let late = amb.later().ok()?.as_second();
    match prev {
        Some(p) if early <= p && late > p => Some(late),
        _ => Some(early),
    }
}

fn parse_civil(text: &str) -> Option<DateTime> {
    if let Ok(dt) = text.parse::<DateTime>() {
        return Some(dt);
    }
    for fmt in [
        "%Y-%m-%d %H:%M",
        "%d.%m.%Y %H:%M",
        "%d-%m-%Y %H:%M",
        "%d/%m/%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d-%m-%Y %H:%M:%S",
    ] {
        if let Ok(dt) = DateTime::strptime(fmt, text) {
            return Some(dt);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brussels() -> TimeZone {
        TimeZone::get("Europe/Brussels").unwrap()
    }

    #[test]
    fn hearth_format() {
        let s = PriceSeries::parse(
            "start,price_per_kwh\n2026-01-05T00:00:00+01:00,0.1012\n2026-01-05T01:00:00+01:00,-0.0050\n",
            &brussels(),
        )
        .unwrap();
        // 2026-01-04T23:00:00Z = 1767567600.
        let t0 = 1_767_567_600;
        assert_eq!(s.at(t0 - 1), None);
        assert_eq!(s.at(t0), Price::parse("0.1012"));
        assert_eq!(s.at(t0 + 3599), Price::parse("0.1012"));
        assert_eq!(s.at(t0 + 3600), Price::parse("-0.005"));
        // The last price holds one step (1 h) and no longer.
        assert_eq!(s.at(t0 + 7199), Price::parse("-0.005"));
        assert_eq!(s.at(t0 + 7200), None);
    }

    #[test]
    fn entsoe_style_export_in_mwh_with_local_ranges() {
        let csv = "\"MTU (CET/CEST)\",\"Day-ahead Price [EUR/MWh]\"\n\
                   \"05.01.2026 00:00 - 05.01.2026 01:00\",\"101.20\"\n\
                   \"05.01.2026 01:00 - 05.01.2026 02:00\",\"95.5\"\n";
        let s = PriceSeries::parse(csv, &brussels()).unwrap();
        // 101.20 EUR/MWh = 0.1012 EUR/kWh.
        assert_eq!(s.at(1_767_567_600), Price::parse("0.1012"));
        assert_eq!(s.at(1_767_567_600 + 3600), Price::parse("0.0955"));
    }

    #[test]
    fn semicolons_decimal_commas_and_cents() {
        let csv = "Datum;Prijs (ct/kWh)\n2026-01-05 00:00;10,12\n2026-01-05 00:15;9,5\n";
        let s = PriceSeries::parse(csv, &brussels()).unwrap();
        assert_eq!(s.at(1_767_567_600), Price::parse("0.1012"));
        assert_eq!(s.at(1_767_567_600 + 900), Price::parse("0.095"));
        assert_eq!(s.at(1_767_567_600 + 1800), None);
    }

    #[test]
    fn repeated_autumn_hour_in_local_time() {
        // 25 Oct 2026: 02:00 local happens twice in Brussels (CEST then CET).
        let csv = "start;price\n2026-10-25 01:00;1\n2026-10-25 02:00;2\n2026-10-25 02:00;3\n2026-10-25 03:00;4\n";
        let s = PriceSeries::parse(csv, &brussels()).unwrap();
        // 01:00 CEST = 2026-10-24T23:00Z = 1792882800; then 00:00Z, 01:00Z, 02:00Z (03:00 CET).
        let t = 1_792_882_800;
        assert_eq!(s.at(t), Price::parse("1"));
        assert_eq!(s.at(t + 3600), Price::parse("2"));
        assert_eq!(s.at(t + 7200), Price::parse("3"));
        assert_eq!(s.at(t + 10800), Price::parse("4"));
    }

    #[test]
    fn bad_files_are_errors_with_lines() {
        let tz = brussels();
        assert_eq!(PriceSeries::parse("", &tz), Err(PriceError::Empty));
        assert_eq!(
            PriceSeries::parse("a,b\n1,2\n", &tz),
            Err(PriceError::Columns)
        );
        assert_eq!(
            PriceSeries::parse("start,price_per_kwh\n", &tz),
            Err(PriceError::Empty)
        );
        assert_eq!(
            PriceSeries::parse(
                "start,price_per_kwh\n2026-01-05T00:00:00Z,1\nyesterday,2\n",
                &tz
            ),
            Err(PriceError::Time {
                line: 3,
                text: "yesterday".into()
            })
        );
        assert_eq!(
            PriceSeries::parse("start,price_per_kwh\n2026-01-05T00:00:00Z,n/e\n", &tz),
            Err(PriceError::Price {
                line: 2,
                text: "n/e".into()
            })
        );
        assert_eq!(
            PriceSeries::parse(
                "start,price_per_kwh\n2026-01-05T01:00:00Z,1\n2026-01-05T00:00:00Z,2\n",
                &tz
            ),
            Err(PriceError::Order { line: 3 })
        );
        assert_eq!(
            PriceSeries::parse("start,price_per_kwh\n2026-01-05T00:10:00Z,1\n", &tz),
            Err(PriceError::QuarterHour { line: 2 })
        );
    }
}
