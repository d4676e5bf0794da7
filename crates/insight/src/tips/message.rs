//! What each tip says, as data (the numbers, dates, hours and names its sentence uses), and the
//! one place it is filled in: in English ([`TipMessage::english`], the tip's `summary`) and every
//! other language ([`Lang::tip_summary`], from the templates in `tips::words`), with the
//! evidence lines and the few words around a list of tips, so the desktop and `hearth tips
//! --lang` say the same.

use super::words::fill;
use crate::locale::Lang;
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

// Every language: the sentences, the evidence lines, and the words around a list of tips, from
// the templates in `tips::words`.
impl Lang {
    /// A tip's sentences for the homeowner. English is the CLI's `summary`, word for word.
    pub fn tip_summary(self, m: &TipMessage) -> String {
        match self {
            Lang::En => m.english(),
            _ => self.tip_from_words(m),
        }
    }

    /// A tip's sentences filled into this language's templates (for English the same words
    /// as [`TipMessage::english`]; a test keeps them equal).
    fn tip_from_words(self, m: &TipMessage) -> String {
        let w = self.tip_words();
        let money = |a: &Amount| self.whole_money(a);
        let clause = |template: &str, cost: &Option<Amount>| {
            cost.as_ref()
                .map(|a| fill(template, &[("money", &money(a))]))
                .unwrap_or_default()
        };
        match m {
            TipMessage::BaseLoad {
                watts,
                kwh_per_year,
                cost,
            } => fill(
                w.base_load,
                &[
                    ("watts", &self.int(*watts)),
                    ("kwh", &self.int(*kwh_per_year)),
                    ("cost", &clause(w.base_load_cost, cost)),
                ],
            ),
            TipMessage::NewConstantLoad {
                since,
                watts,
                kwh_per_year,
                cost,
            } => fill(
                w.new_load,
                &[
                    ("since", &self.date(*since)),
                    ("watts", &self.int(*watts)),
                    ("kwh", &self.int(*kwh_per_year)),
                    ("cost", &clause(w.new_load_cost, cost)),
                ],
            ),
            TipMessage::LoadShift {
                watts,
                minutes,
                runs,
                days,
                from_hour,
                until_hour,
                better_hour,
                saving,
            } => fill(
                w.load_shift,
                &[
                    ("kw", &self.kw(*watts)),
                    ("minutes", &minutes.to_string()),
                    ("runs", &runs.to_string()),
                    ("days", &days.to_string()),
                    ("from", &self.clock(*from_hour)),
                    ("until", &self.clock(*until_hour)),
                    ("better", &self.clock(*better_hour)),
                    ("money", &money(saving)),
                ],
            ),
            TipMessage::CheapestContract {
                days,
                cheapest,
                current,
                saving,
            } => fill(
                w.cheapest,
                &[
                    ("days", &days.to_string()),
                    ("cheapest", cheapest),
                    ("current", current),
                    ("money", &money(saving)),
                ],
            ),
            TipMessage::CapacityPeak {
                basis,
                peak_w,
                latest,
                above_base_w,
                target_w,
                saving,
            } => {
                let basis = match basis {
                    PeakBasis::QuarterHour => w.peak_quarter,
                    PeakBasis::TopThreeHours => w.peak_top3,
                };
                let latest = latest
                    .map(|t| fill(w.peak_latest, &[("when", &self.moment(t))]))
                    .unwrap_or_default();
                fill(
                    w.peak,
                    &[
                        ("basis", basis),
                        ("peak", &self.kw(*peak_w)),
                        ("latest", &latest),
                        ("above", &self.kw(*above_base_w)),
                        ("target", &self.kw(*target_w)),
                        ("money", &money(saving)),
                    ],
                )
            }
            TipMessage::Solar {
                export_kwh_per_year,
                from_hour,
                until_hour,
                saving,
            } => fill(
                w.solar,
                &[
                    ("kwh", &self.int(*export_kwh_per_year)),
                    ("from", &self.clock(*from_hour)),
                    ("until", &self.clock(*until_hour)),
                    ("money", &money(saving)),
                ],
            ),
            TipMessage::Unusual {
                extra_mwh,
                percent,
                cost,
            } => fill(
                w.unusual,
                &[
                    ("kwh", &self.num(*extra_mwh as f64 / 1e6, 0)),
                    ("percent", &percent.to_string()),
                    ("cost", &clause(w.unusual_cost, cost)),
                ],
            ),
        }
    }

    /// Evidence line: when a change began.
    pub fn tip_since(self, d: Date) -> String {
        fill(self.tip_words().since, &[("date", &self.date(d))])
    }

    /// Evidence line: the power involved.
    pub fn tip_watts(self, w: i64) -> String {
        fill(self.tip_words().watts, &[("watts", &self.int(w))])
    }

    /// Evidence line: the moments that show it.
    pub fn tip_times(self, times: &[MeterTime]) -> String {
        let words = self.tip_words();
        let list: Vec<String> = times.iter().map(|t| self.moment(*t)).collect();
        fill(words.times, &[("times", &list.join(words.times_separator))])
    }

    /// Evidence line: one contract's yearly total in a comparison.
    pub fn tip_contract(self, name: &str, per_year: Money, currency: &str) -> String {
        fill(
            self.tip_words().contract,
            &[("name", name), ("money", &self.money(per_year, currency))],
        )
    }

    /// One point of an evidence series. English keeps the label and bare value (`2026-01 200`);
    /// the other languages name the month or day and the unit (`jan 2026: 200 W`).
    pub fn tip_point(self, label: &str, value: i64, unit: &str) -> String {
        if self == Lang::En {
            return format!("{label} {value}");
        }
        format!("{}: {} {unit}", self.series_label(label), self.int(value))
    }

    /// `2026-01` -> `jan 2026`, `2026-02-19` -> `19 feb`/`19. Feb` (Finnish `1/2026`,
    /// `19.2.`); other labels unchanged.
    fn series_label(self, label: &str) -> String {
        let part = |s: Option<&str>| s.and_then(|p| p.parse::<i16>().ok());
        let mut it = label.split('-');
        let (y, m, d) = (part(it.next()), part(it.next()), part(it.next()));
        match (y, m, d, it.next()) {
            (Some(y), Some(m), None, None) if (1..=12).contains(&m) => match self {
                Lang::Fi => format!("{m}/{y}"),
                _ => format!("{} {y}", self.month_short(m as i8)),
            },
            (Some(_), Some(m), Some(d), None) if (1..=12).contains(&m) && (1..=31).contains(&d) => {
                self.day_month(d as i8, m as i8)
            }
            _ => label.to_string(),
        }
    }

    /// After a tip's sentences in a list: how sure it is (`confidence` 0..1, as a whole percent).
    pub fn tip_confidence(self, confidence: f64) -> String {
        let pct = format!("{:.0}", confidence * 100.0);
        fill(self.tip_words().confidence, &[("pct", &pct)])
    }

    /// Said when no tip was found.
    pub fn no_tips(self) -> &'static str {
        self.tip_words().no_tips
    }

    /// Said under the tips when no contract was given, so no tip can say what it is worth.
    pub fn tips_need_a_contract(self) -> &'static str {
        self.tip_words().need_contract
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Norwegian capacity peak: 6 kW last on Sat 10 Jan 2026 18:00, NOK 2,001.61 a year.
    fn norwegian_peak() -> TipMessage {
        TipMessage::CapacityPeak {
            basis: PeakBasis::TopThreeHours,
            peak_w: 6_000,
            latest: Some(MeterTime {
                unix: 1_768_064_400,
                offset_s: 3600,
            }),
            above_base_w: 5_000,
            target_w: 2_000,
            saving: Amount {
                money: Money::parse("2001.61").unwrap(),
                currency: "NOK".into(),
            },
        }
    }

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

    #[test]
    fn evidence_points_in_each_language() {
        assert_eq!(
            Lang::Nl.tip_point("2026-03", 1250, "W"),
            "mrt 2026: 1.250 W"
        );
        assert_eq!(Lang::De.tip_point("2026-02-19", 210, "W"), "19. Feb: 210 W");
        assert_eq!(
            Lang::De.tip_point("10:00", 52_500, "Wh"),
            "10:00: 52.500 Wh"
        );
        assert_eq!(Lang::Nl.tip_point("2026-13", 1, "W"), "2026-13: 1 W");
        assert_eq!(Lang::En.tip_point("2026-03", 1250, "W"), "2026-03 1250");
    }

    #[test]
    fn tip_sentences_in_dutch_and_german() {
        let shift = TipMessage::LoadShift {
            watts: 2_000,
            minutes: 60,
            runs: 28,
            days: 28,
            from_hour: 18,
            until_hour: 20,
            better_hour: 22,
            saving: eur(52),
        };
        assert_eq!(Lang::En.tip_summary(&shift), shift.english());
        assert_eq!(
            Lang::Nl.tip_summary(&shift),
            "Op 28 van de 28 dagen draait er zo'n 60 minuten een groot apparaat van ongeveer 2,0 kW, \
             meestal aangezet tussen 18:00 en 20:00. Zet je het voortaan rond 22:00 aan, dan \
             bespaar je ongeveer € 52 per jaar."
        );
        assert_eq!(
            Lang::De.tip_summary(&shift),
            "An 28 von 28 Tagen läuft ein großes Gerät mit etwa 2,0 kW rund 60 Minuten lang und wird \
             meist zwischen 18:00 und 20:00 Uhr eingeschaltet. Starten Sie es stattdessen gegen 22:00 \
             Uhr, sparen Sie etwa 52 € im Jahr."
        );
        let since = TipMessage::NewConstantLoad {
            since: jiff::civil::date(2026, 2, 19),
            watts: 60,
            kwh_per_year: 525,
            cost: Some(eur(131)),
        };
        assert_eq!(
            Lang::Nl.tip_summary(&since),
            "Sinds 19 februari 2026 verbruikt iets dag en nacht zo'n 60 W meer: ongeveer 525 kWh per \
             jaar, ofwel € 131. Is er rond die tijd een apparaat bijgekomen dat altijd aan blijft?"
        );
        assert_eq!(
            Lang::De.tip_summary(&since),
            "Seit dem 19. Februar 2026 verbraucht etwas Tag und Nacht etwa 60 W mehr: rund 525 kWh \
             bzw. 131 € im Jahr. Ist um diese Zeit ein Gerät dazugekommen, das ständig eingeschaltet \
             bleibt?"
        );
        let peak = norwegian_peak();
        assert_eq!(
            Lang::De.tip_summary(&peak),
            "Ihr Leistungspreis richtet sich nach Ihren Spitzen: Im letzten Monat lag der Mittelwert \
             Ihrer drei höchsten Stunden (an verschiedenen Tagen) bei 6,0 kW (zuletzt am Sa 10. Jan \
             2026, 18:00), 5,0 kW über Ihrer Grundlast. Meist laufen dann mehrere große Geräte \
             gleichzeitig. Begrenzen Sie Ihre Spitzen auf etwa 2,0 kW, sparen Sie etwa 2.002 NOK im Jahr."
        );
        let unusual = TipMessage::Unusual {
            extra_mwh: 84_400_000,
            percent: 35,
            cost: Some(eur(1101)),
        };
        assert_eq!(
            Lang::Nl.tip_summary(&unusual),
            "De afgelopen 7 dagen verbruikte je huis 84 kWh meer dan in een gewone week (35% meer; \
             € 1.101 per jaar als dit zo doorgaat). De grootste verschillen staan onder ‘Waarom’."
        );
        assert_eq!(
            Lang::De.tip_summary(&unusual),
            "In den letzten 7 Tagen hat Ihr Haushalt 84 kWh mehr verbraucht als in einer typischen \
             Woche (35 % mehr; hochgerechnet 1.101 € im Jahr). Die größten Unterschiede stehen unter \
             „Warum“."
        );
        let solar = TipMessage::Solar {
            export_kwh_per_year: 2_737,
            from_hour: 10,
            until_hour: 15,
            saving: eur(213),
        };
        assert!(
            Lang::Nl.tip_summary(&solar).starts_with(
                "Je levert zo'n 2.737 kWh per jaar terug, vooral tussen 10:00 en 15:00,"
            )
        );
        assert!(
            Lang::De
                .tip_summary(&solar)
                .contains("sparen Sie etwa 213 € im Jahr.")
        );
    }

    /// One message of every kind, with and without the optional parts.
    fn every_kind() -> Vec<TipMessage> {
        let latest = Some(MeterTime {
            unix: 1_768_064_400,
            offset_s: 3600,
        });
        let mut all = vec![];
        for cost in [None, Some(eur(88))] {
            all.push(TipMessage::BaseLoad {
                watts: 1_234,
                kwh_per_year: 10_810,
                cost: cost.clone(),
            });
            all.push(TipMessage::NewConstantLoad {
                since: jiff::civil::date(2026, 2, 19),
                watts: 60,
                kwh_per_year: 525,
                cost: cost.clone(),
            });
            all.push(TipMessage::Unusual {
                extra_mwh: 84_400_000,
                percent: 35,
                cost,
            });
        }
        for basis in [PeakBasis::QuarterHour, PeakBasis::TopThreeHours] {
            all.push(TipMessage::CapacityPeak {
                basis,
                peak_w: 6_000,
                latest,
                above_base_w: 5_600,
                target_w: 3_000,
                saving: eur(157),
            });
        }
        all.push(TipMessage::LoadShift {
            watts: 2_000,
            minutes: 60,
            runs: 28,
            days: 28,
            from_hour: 8,
            until_hour: 10,
            better_hour: 22,
            saving: eur(52),
        });
        all.push(TipMessage::CheapestContract {
            days: 30,
            cheapest: "Flat {money} 0.25".into(),
            current: "Flat 0.30".into(),
            saving: eur(88),
        });
        all.push(TipMessage::Solar {
            export_kwh_per_year: 2_737,
            from_hour: 10,
            until_hour: 24,
            saving: eur(213),
        });
        all
    }

    #[test]
    fn english_templates_say_what_english_says() {
        for m in every_kind() {
            assert_eq!(Lang::En.tip_from_words(&m), m.english(), "{m:?}");
        }
        assert_eq!(
            Lang::En.tip_since(jiff::civil::date(2026, 2, 19)),
            "Since 2026-02-19"
        );
        assert_eq!(Lang::En.tip_watts(1234), "About 1234 W");
        assert_eq!(Lang::En.tip_confidence(0.8), "(confidence 80%)");
        assert_eq!(
            Lang::En.tip_contract("A", Money::parse("1437.555").unwrap(), "EUR"),
            "A: 1437.56 a year"
        );
    }

    #[test]
    fn every_tip_in_every_language_is_filled() {
        for lang in Lang::ALL {
            for m in every_kind() {
                let text = lang.tip_summary(&m);
                // Every placeholder was filled (a contract's own braces aside), no doubled spaces.
                let without_name = text.replace("{money}", "");
                assert!(!without_name.contains('{'), "{lang:?}: {text}");
                assert!(!text.contains("  "), "{lang:?}: {text}");
                assert!(text.ends_with(['.', ')', '?']), "{lang:?}: {text}");
            }
        }
    }

    #[test]
    fn tip_sentences_in_french_and_the_nordic_languages() {
        let shift = TipMessage::LoadShift {
            watts: 2_000,
            minutes: 60,
            runs: 28,
            days: 28,
            from_hour: 18,
            until_hour: 20,
            better_hour: 22,
            saving: eur(1052),
        };
        assert_eq!(
            Lang::Fr.tip_summary(&shift),
            "Un gros appareil d’environ 2,0 kW tourne pendant environ 60 minutes 28 jours sur 28, en \
             général lancé entre 18:00 et 20:00. Le lancer plutôt vers 22:00 vous ferait économiser \
             environ 1\u{202f}052 € par an."
        );
        assert_eq!(
            Lang::Da.tip_summary(&shift),
            "På 28 af 28 dage kører et stort apparat på omkring 2,0 kW i cirka 60 minutter, som regel \
             startet mellem kl. 18.00 og 20.00. Starter du det i stedet omkring kl. 22.00, sparer du \
             cirka 1.052 € om året."
        );
        assert_eq!(
            Lang::Fi.tip_summary(&shift),
            "Noin 2,0 kW:n suuri laite on käynyt noin 60 minuuttia 28 päivänä 28 päivästä, yleensä \
             käynnistettynä kello 18.00–20.00. Jos käynnistät sen sen sijaan noin kello 22.00, säästät \
             noin 1\u{a0}052 € vuodessa."
        );
        let peak = norwegian_peak();
        assert_eq!(
            Lang::Nb.tip_summary(&peak),
            "Effektleddet i nettleien din følger toppene dine: forrige måned var snittet av dine tre \
             høyeste timer (på forskjellige dager) 6,0 kW (sist lør. 10. jan. 2026 kl. 18:00), 5,0 kW \
             over grunnforbruket ditt. Som regel går da flere store apparater samtidig. Holder du \
             toppene rundt 2,0 kW, sparer du omtrent 2\u{a0}002 kr i året."
        );
        // Kroner are "kr" only in their own country's language.
        assert!(
            Lang::Sv
                .tip_summary(&peak)
                .ends_with("ungefär 2\u{a0}002 NOK per år.")
        );
        let since = TipMessage::NewConstantLoad {
            since: jiff::civil::date(2026, 2, 19),
            watts: 60,
            kwh_per_year: 525,
            cost: Some(Amount {
                money: Money::units(131),
                currency: "SEK".into(),
            }),
        };
        assert_eq!(
            Lang::Sv.tip_summary(&since),
            "Sedan 19 februari 2026 drar något ungefär 60 W mer, dygnet runt: omkring 525 kWh per år, \
             alltså 131 kr. Tillkom det en apparat som alltid är på vid den tiden?"
        );
        assert_eq!(
            Lang::Fr.tip_since(jiff::civil::date(2026, 2, 19)),
            "Depuis le 19 février 2026"
        );
        assert_eq!(
            Lang::Fi.tip_since(jiff::civil::date(2026, 2, 19)),
            "19.2.2026 alkaen"
        );
        assert_eq!(Lang::Da.tip_confidence(0.8), "(sikkerhed 80 %)");
        assert_eq!(
            Lang::Fr.tip_contract("Mon contrat", Money::parse("1437.555").unwrap(), "EUR"),
            "Mon contrat : 1\u{202f}437,56 EUR par an"
        );
        assert_eq!(
            Lang::Fi.tip_point("2026-03", 1250, "W"),
            "3/2026: 1\u{a0}250 W"
        );
        assert_eq!(
            Lang::Nb.tip_point("2026-02-19", 210, "W"),
            "19. feb.: 210 W"
        );
        assert_eq!(Lang::Sv.tip_point("2026-02-19", 210, "W"), "19 feb: 210 W");
    }
}
