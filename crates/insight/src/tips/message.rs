//! What each tip says, as data: the numbers, dates, hours and names its sentence uses, so a
//! front end can word it in the homeowner's language. [`TipMessage::english`] is the one place
//! the English sentence (the CLI's `summary`) is built.

use crate::money::Money;
use hearth_meter::MeterTime;
use jiff::civil::Date;

/// An amount of money a year in the contract's currency, shown in whole units in sentences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    /// The exact amount.
    pub money: Money,
    /// ISO 4217 code of the contract (`EUR`, `GBP`, `NOK`, ...).
    pub currency: String,
}

impl Amount {
    /// The amount rounded to whole currency units, as sentences show it.
    pub fn whole_units(&self) -> i64 {
        (self.money.cents() as f64 / 100.0).round() as i64
    }

    /// `€73`, `£73`, `$73` or `73 NOK`.
    pub fn english(&self) -> String {
        let units = self.whole_units();
        match self.currency.as_str() {
            "EUR" => format!("€{units}"),
            "GBP" => format!("£{units}"),
            "USD" => format!("${units}"),
            c => format!("{units} {c}"),
        }
    }
}

/// What a capacity charge is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeakBasis {
    /// The month's highest quarter hour (Belgian style).
    QuarterHour,
    /// The mean of the three highest hours on different days (Norwegian style).
    TopThreeHours,
}

/// The message of one tip, one variant per [`TipKind`](super::TipKind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TipMessage {
    /// The always-on load.
    BaseLoad {
        /// The night-time low, W.
        watts: i64,
        /// What it uses a year, kWh (whole, rounded down).
        kwh_per_year: i64,
        /// What that costs a year, if a contract is known.
        cost: Option<Amount>,
    },
    /// A constant load that appeared since a date.
    NewConstantLoad {
        /// The first night of the higher base load (household's local date).
        since: Date,
        /// How much more, W.
        watts: i64,
        /// What it uses a year, kWh (whole, rounded down).
        kwh_per_year: i64,
        /// What that costs a year, if a contract is known.
        cost: Option<Amount>,
    },
    /// A recurring large load that would be cheaper at other hours.
    LoadShift {
        /// Its mean power while running, W.
        watts: i64,
        /// How long a run lasts on average, minutes.
        minutes: i64,
        /// How many runs were seen.
        runs: i64,
        /// Over how many days.
        days: i64,
        /// Runs usually start from this local hour (0..=23)...
        from_hour: u8,
        /// ...until this one (two hours later, 0..=23).
        until_hour: u8,
        /// The local hour it would best start at.
        better_hour: u8,
        /// The saving a year.
        saving: Amount,
    },
    /// Another contract would have been cheaper.
    CheapestContract {
        /// Days of readings compared.
        days: i64,
        /// The cheapest contract's name.
        cheapest: String,
        /// The current contract's name.
        current: String,
        /// How much less the cheapest costs a year.
        saving: Amount,
    },
    /// The capacity charge and the peaks that set it.
    CapacityPeak {
        /// What the charge is measured on.
        basis: PeakBasis,
        /// The latest charged month's peak, W.
        peak_w: i64,
        /// When its latest peak was (in the contract's zone), if known.
        latest: Option<MeterTime>,
        /// How far the peak is above the always-on load, W.
        above_base_w: i64,
        /// The peak level that would save the money, W.
        target_w: i64,
        /// The saving a year.
        saving: Amount,
    },
    /// Exported solar energy that could be used at home.
    Solar {
        /// Energy exported a year, kWh (whole, rounded down).
        export_kwh_per_year: i64,
        /// Most export is from this local hour (0..=23)...
        from_hour: u8,
        /// ...until this one (1..=24; 24 is midnight).
        until_hour: u8,
        /// The saving a year from running large loads then.
        saving: Amount,
    },
    /// This week's use against the household's typical week.
    Unusual {
        /// How much more the last 7 days used, mWh (shown as whole kWh).
        extra_mwh: i64,
        /// That as a percentage of a typical week (rounded down).
        percent: i64,
        /// What it would cost a year if it continued, if a contract is known.
        cost: Option<Amount>,
    },
}

impl PeakBasis {
    /// The English words for it, as the summary uses them.
    pub const fn english(self) -> &'static str {
        match self {
            PeakBasis::QuarterHour => "highest quarter hour",
            PeakBasis::TopThreeHours => "three highest hours (on different days) averaged",
        }
    }
}

/// kW with one decimal from W, as the English sentences show it.
fn kw(w: i64) -> String {
    format!("{:.1}", w as f64 / 1000.0)
}

impl TipMessage {
    /// The English sentence(s) for the homeowner (the tip's `summary`).
    pub fn english(&self) -> String {
        match self {
            TipMessage::BaseLoad {
                watts,
                kwh_per_year,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!(" ({} a year)", a.english()))
                    .unwrap_or_default();
                format!(
                    "Your home never uses less than about {watts} W, even at night: about {kwh_per_year} kWh a year{cost}. \
                     Devices on standby, routers, fridges and pumps make up this always-on load."
                )
            }
            TipMessage::NewConstantLoad {
                since,
                watts,
                kwh_per_year,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!(", {} a year", a.english()))
                    .unwrap_or_default();
                format!(
                    "Since {since} something uses about {watts} W more, day and night: about {kwh_per_year} kWh a year{cost}. \
                     Did a device start staying on around then?"
                )
            }
            TipMessage::LoadShift {
                watts,
                minutes,
                runs,
                days,
                from_hour,
                until_hour,
                better_hour,
                saving,
            } => format!(
                "A large load of about {} kW for about {minutes} minutes runs on {runs} of {days} days, usually starting between {from_hour:02}:00 and {until_hour:02}:00. \
                 Starting it around {better_hour:02}:00 instead would save about {} a year.",
                kw(*watts),
                saving.english()
            ),
            TipMessage::CheapestContract {
                days,
                cheapest,
                current,
                saving,
            } => format!(
                "Over your last {days} days of use, \"{cheapest}\" would have cost about {} a year less than \"{current}\".",
                saving.english()
            ),
            TipMessage::CapacityPeak {
                basis,
                peak_w,
                latest,
                above_base_w,
                target_w,
                saving,
            } => format!(
                "Your capacity charge follows your peaks: last month your {} {} kW (latest {}), {} kW above your \
                 always-on load, usually several large appliances at once. Keeping peaks to about {} kW would save about {} a year.",
                basis.english(),
                kw(*peak_w),
                latest.map(|t| t.to_string()).unwrap_or_default(),
                kw(*above_base_w),
                kw(*target_w),
                saving.english()
            ),
            TipMessage::Solar {
                export_kwh_per_year,
                from_hour,
                until_hour,
                saving,
            } => format!(
                "You export about {export_kwh_per_year} kWh a year, mostly between {from_hour:02}:00 and {until_hour:02}:00, for less than you pay for \
                 power later. Running your large loads in those hours instead would save about {} a year. \
                 (Hearth sees only what crosses the meter, so it cannot measure how much solar you already use yourself.)",
                saving.english()
            ),
            TipMessage::Unusual {
                extra_mwh,
                percent,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!(" ({} a year if it continues)", a.english()))
                    .unwrap_or_default();
                format!(
                    "The last 7 days used {:.0} kWh more than a typical week for your home ({percent}% more){cost}. \
                     The biggest differences are listed under evidence.",
                    *extra_mwh as f64 / 1e6
                )
            }
        }
    }

    /// The money a year the sentence names, if any.
    pub fn amount(&self) -> Option<&Amount> {
        match self {
            TipMessage::BaseLoad { cost, .. }
            | TipMessage::NewConstantLoad { cost, .. }
            | TipMessage::Unusual { cost, .. } => cost.as_ref(),
            TipMessage::LoadShift { saving, .. }
            | TipMessage::CheapestContract { saving, .. }
            | TipMessage::CapacityPeak { saving, .. }
            | TipMessage::Solar { saving, .. } => Some(saving),
        }
    }
}

/// Joins a money amount and its currency when both are known.
pub(crate) fn amount(money: Option<Money>, currency: Option<&String>) -> Option<Amount> {
    Some(Amount {
        money: money?,
        currency: currency?.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(units: i64) -> Amount {
        Amount {
            money: Money::units(units),
            currency: "EUR".into(),
        }
    }

    #[test]
    fn money_in_whole_units_with_the_currency_sign() {
        // 87.60 rounds to 88; 0.49 to 0.
        let a = |m: &str, c: &str| Amount {
            money: Money::parse(m).unwrap(),
            currency: c.into(),
        };
        assert_eq!(a("87.60", "EUR").english(), "€88");
        assert_eq!(a("87.60", "EUR").whole_units(), 88);
        assert_eq!(a("0.49", "GBP").english(), "£0");
        assert_eq!(a("12.50", "USD").english(), "$13");
        assert_eq!(a("2001.61", "NOK").english(), "2002 NOK");
    }

    #[test]
    fn english_sentences_from_the_data() {
        let m = TipMessage::LoadShift {
            watts: 2_000,
            minutes: 60,
            runs: 28,
            days: 28,
            from_hour: 19,
            until_hour: 21,
            better_hour: 22,
            saving: eur(52),
        };
        assert_eq!(
            m.english(),
            "A large load of about 2.0 kW for about 60 minutes runs on 28 of 28 days, usually starting \
             between 19:00 and 21:00. Starting it around 22:00 instead would save about €52 a year."
        );
        assert_eq!(m.amount(), Some(&eur(52)));
        let m = TipMessage::CapacityPeak {
            basis: PeakBasis::QuarterHour,
            peak_w: 6_000,
            latest: Some(MeterTime {
                unix: 1_768_064_400,
                offset_s: 3600,
            }),
            above_base_w: 5_600,
            target_w: 3_000,
            saving: eur(157),
        };
        // 1_768_064_400 = 2026-01-10T17:00:00Z = 18:00 in Brussels.
        assert_eq!(
            m.english(),
            "Your capacity charge follows your peaks: last month your highest quarter hour 6.0 kW \
             (latest 2026-01-10T18:00:00+01:00), 5.6 kW above your always-on load, usually several \
             large appliances at once. Keeping peaks to about 3.0 kW would save about €157 a year."
        );
        let m = TipMessage::Unusual {
            extra_mwh: 84_400_000,
            percent: 35,
            cost: None,
        };
        assert_eq!(
            m.english(),
            "The last 7 days used 84 kWh more than a typical week for your home (35% more). The \
             biggest differences are listed under evidence."
        );
        assert_eq!(m.amount(), None);
    }
}
