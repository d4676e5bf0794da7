//! What each tip says, as data (the numbers, dates, hours and names its sentence uses), and the
//! one place it is worded: in English ([`TipMessage::english`], the tip's `summary`), Dutch and
//! German ([`Lang::tip_summary`]), with the evidence lines and the few words around a list of
//! tips, so the desktop and `hearth tips --lang` say the same.

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

// Every language: the sentences, the evidence lines, and the words around a list of tips.
impl Lang {
    /// A tip's sentences for the homeowner. English is the CLI's `summary`, word for word.
    pub fn tip_summary(self, m: &TipMessage) -> String {
        match self {
            Lang::En => m.english(),
            Lang::Nl => self.tip_nl(m),
            Lang::De => self.tip_de(m),
        }
    }

    fn tip_nl(self, m: &TipMessage) -> String {
        let money = |a: &Amount| self.whole_money(a);
        match m {
            TipMessage::BaseLoad {
                watts,
                kwh_per_year,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!(" ({})", money(a)))
                    .unwrap_or_default();
                format!(
                    "Je huis verbruikt altijd minstens zo'n {} W, ook 's nachts: ongeveer {} kWh per jaar{cost}. \
                     Dit sluipverbruik komt van apparaten op stand-by, de router, de koelkast en pompen.",
                    self.int(*watts),
                    self.int(*kwh_per_year)
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
                    .map(|a| format!(", ofwel {}", money(a)))
                    .unwrap_or_default();
                format!(
                    "Sinds {} verbruikt iets dag en nacht zo'n {} W meer: ongeveer {} kWh per jaar{cost}. \
                     Is er rond die tijd een apparaat bijgekomen dat altijd aan blijft?",
                    self.date(*since),
                    self.int(*watts),
                    self.int(*kwh_per_year)
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
                "Op {runs} van de {days} dagen draait er zo'n {minutes} minuten een groot apparaat van ongeveer {} kW, \
                 meestal aangezet tussen {from_hour:02}:00 en {until_hour:02}:00. Zet je het voortaan rond \
                 {better_hour:02}:00 aan, dan bespaar je ongeveer {} per jaar.",
                self.kw(*watts),
                money(saving)
            ),
            TipMessage::CheapestContract {
                days,
                cheapest,
                current,
                saving,
            } => format!(
                "Met je verbruik van de afgelopen {days} dagen was “{cheapest}” ongeveer {} per jaar goedkoper \
                 geweest dan “{current}”.",
                money(saving)
            ),
            TipMessage::CapacityPeak {
                basis,
                peak_w,
                latest,
                above_base_w,
                target_w,
                saving,
            } => {
                let what = match basis {
                    PeakBasis::QuarterHour => "was je hoogste kwartier",
                    PeakBasis::TopThreeHours => {
                        "was het gemiddelde van je drie hoogste uren (op verschillende dagen)"
                    }
                };
                let when = latest
                    .map(|t| format!(" (de laatste op {})", self.moment(t)))
                    .unwrap_or_default();
                format!(
                    "Je capaciteitstarief hangt af van je pieken: vorige maand {what} {} kW{when}, {} kW boven je \
                     sluipverbruik. Meestal draaien er dan meerdere grote apparaten tegelijk. Beperk je je pieken \
                     tot ongeveer {} kW, dan bespaar je ongeveer {} per jaar.",
                    self.kw(*peak_w),
                    self.kw(*above_base_w),
                    self.kw(*target_w),
                    money(saving)
                )
            }
            TipMessage::Solar {
                export_kwh_per_year,
                from_hour,
                until_hour,
                saving,
            } => format!(
                "Je levert zo'n {} kWh per jaar terug, vooral tussen {from_hour:02}:00 en {until_hour:02}:00, en krijgt \
                 daar minder voor dan je later voor stroom betaalt. Laat je je grote apparaten in die uren draaien, \
                 dan bespaar je ongeveer {} per jaar. (Hearth ziet alleen wat door de meter gaat en kan dus niet \
                 meten hoeveel zonnestroom je al zelf gebruikt.)",
                self.int(*export_kwh_per_year),
                money(saving)
            ),
            TipMessage::Unusual {
                extra_mwh,
                percent,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!("; {} per jaar als dit zo doorgaat", money(a)))
                    .unwrap_or_default();
                format!(
                    "De afgelopen 7 dagen verbruikte je huis {} kWh meer dan in een gewone week ({percent}% meer{cost}). \
                     De grootste verschillen staan onder ‘Waarom’.",
                    self.num(*extra_mwh as f64 / 1e6, 0)
                )
            }
        }
    }

    fn tip_de(self, m: &TipMessage) -> String {
        let money = |a: &Amount| self.whole_money(a);
        match m {
            TipMessage::BaseLoad {
                watts,
                kwh_per_year,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!(" bzw. {}", money(a)))
                    .unwrap_or_default();
                format!(
                    "Ihr Haushalt braucht nie weniger als etwa {} W, auch nachts nicht: rund {} kWh{cost} im Jahr. \
                     Diese Grundlast kommt von Geräten im Stand-by, dem Router, dem Kühlschrank und Pumpen.",
                    self.int(*watts),
                    self.int(*kwh_per_year)
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
                    .map(|a| format!(" bzw. {}", money(a)))
                    .unwrap_or_default();
                format!(
                    "Seit dem {} verbraucht etwas Tag und Nacht etwa {} W mehr: rund {} kWh{cost} im Jahr. \
                     Ist um diese Zeit ein Gerät dazugekommen, das ständig eingeschaltet bleibt?",
                    self.date(*since),
                    self.int(*watts),
                    self.int(*kwh_per_year)
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
                "An {runs} von {days} Tagen läuft ein großes Gerät mit etwa {} kW rund {minutes} Minuten lang \
                 und wird meist zwischen {from_hour:02}:00 und {until_hour:02}:00 Uhr eingeschaltet. Starten Sie es \
                 stattdessen gegen {better_hour:02}:00 Uhr, sparen Sie etwa {} im Jahr.",
                self.kw(*watts),
                money(saving)
            ),
            TipMessage::CheapestContract {
                days,
                cheapest,
                current,
                saving,
            } => format!(
                "Bei Ihrem Verbrauch der letzten {days} Tage wäre „{cheapest}“ etwa {} im Jahr günstiger gewesen \
                 als „{current}“.",
                money(saving)
            ),
            TipMessage::CapacityPeak {
                basis,
                peak_w,
                latest,
                above_base_w,
                target_w,
                saving,
            } => {
                let what = match basis {
                    PeakBasis::QuarterHour => "lag Ihre höchste Viertelstunde",
                    PeakBasis::TopThreeHours => {
                        "lag der Mittelwert Ihrer drei höchsten Stunden (an verschiedenen Tagen)"
                    }
                };
                let when = latest
                    .map(|t| format!(" (zuletzt am {})", self.moment(t)))
                    .unwrap_or_default();
                format!(
                    "Ihr Leistungspreis richtet sich nach Ihren Spitzen: Im letzten Monat {what} bei {} kW{when}, \
                     {} kW über Ihrer Grundlast. Meist laufen dann mehrere große Geräte gleichzeitig. Begrenzen Sie \
                     Ihre Spitzen auf etwa {} kW, sparen Sie etwa {} im Jahr.",
                    self.kw(*peak_w),
                    self.kw(*above_base_w),
                    self.kw(*target_w),
                    money(saving)
                )
            }
            TipMessage::Solar {
                export_kwh_per_year,
                from_hour,
                until_hour,
                saving,
            } => format!(
                "Sie speisen rund {} kWh im Jahr ein, vor allem zwischen {from_hour:02}:00 und {until_hour:02}:00 Uhr, \
                 und bekommen dafür weniger, als Sie später für Strom bezahlen. Lassen Sie Ihre großen Geräte \
                 stattdessen in diesen Stunden laufen, sparen Sie etwa {} im Jahr. (Hearth sieht nur, was über \
                 den Zähler fließt, und kann deshalb nicht messen, wie viel Solarstrom Sie schon selbst nutzen.)",
                self.int(*export_kwh_per_year),
                money(saving)
            ),
            TipMessage::Unusual {
                extra_mwh,
                percent,
                cost,
            } => {
                let cost = cost
                    .as_ref()
                    .map(|a| format!("; hochgerechnet {} im Jahr", money(a)))
                    .unwrap_or_default();
                format!(
                    "In den letzten 7 Tagen hat Ihr Haushalt {} kWh mehr verbraucht als in einer typischen Woche \
                     ({percent} % mehr{cost}). Die größten Unterschiede stehen unter „Warum“.",
                    self.num(*extra_mwh as f64 / 1e6, 0)
                )
            }
        }
    }

    /// Evidence line: when a change began.
    pub fn tip_since(self, d: Date) -> String {
        match self {
            Lang::En => format!("Since {d}"),
            Lang::Nl => format!("Sinds {}", self.date(d)),
            Lang::De => format!("Seit dem {}", self.date(d)),
        }
    }

    /// Evidence line: the power involved.
    pub fn tip_watts(self, w: i64) -> String {
        match self {
            Lang::En => format!("About {w} W"),
            Lang::Nl => format!("Ongeveer {} W", self.int(w)),
            Lang::De => format!("Etwa {} W", self.int(w)),
        }
    }

    /// Evidence line: the moments that show it.
    pub fn tip_times(self, times: &[MeterTime]) -> String {
        let list: Vec<String> = times.iter().map(|t| self.moment(*t)).collect();
        match self {
            Lang::En => format!("When: {}", list.join(", ")),
            Lang::Nl => format!("Wanneer: {}", list.join("; ")),
            Lang::De => format!("Wann: {}", list.join("; ")),
        }
    }

    /// Evidence line: one contract's yearly total in a comparison.
    pub fn tip_contract(self, name: &str, per_year: Money, currency: &str) -> String {
        let m = self.money(per_year, currency);
        match self {
            Lang::En => format!("{name}: {m} a year"),
            Lang::Nl => format!("{name}: {m} per jaar"),
            Lang::De => format!("{name}: {m} im Jahr"),
        }
    }

    /// One point of an evidence series. English keeps the label and bare value (`2026-01 200`);
    /// Dutch and German name the month or day and the unit (`jan 2026: 200 W`).
    pub fn tip_point(self, label: &str, value: i64, unit: &str) -> String {
        if self == Lang::En {
            return format!("{label} {value}");
        }
        format!("{}: {} {unit}", self.series_label(label), self.int(value))
    }

    /// `2026-01` -> `jan 2026`, `2026-02-19` -> `19 feb`/`19. Feb`; other labels unchanged.
    fn series_label(self, label: &str) -> String {
        let part = |s: Option<&str>| s.and_then(|p| p.parse::<i16>().ok());
        let mut it = label.split('-');
        let (y, m, d) = (part(it.next()), part(it.next()), part(it.next()));
        match (y, m, d, it.next()) {
            (Some(y), Some(m), None, None) if (1..=12).contains(&m) => {
                format!("{} {y}", self.month_short(m as i8))
            }
            (Some(_), Some(m), Some(d), None) if (1..=12).contains(&m) && (1..=31).contains(&d) => {
                match self {
                    Lang::De => format!("{d}. {}", self.month_short(m as i8)),
                    _ => format!("{d} {}", self.month_short(m as i8)),
                }
            }
            _ => label.to_string(),
        }
    }

    /// After a tip's sentences in a list: how sure it is (`confidence` 0..1, as a whole percent).
    pub fn tip_confidence(self, confidence: f64) -> String {
        let pct = confidence * 100.0;
        match self {
            Lang::En => format!("(confidence {pct:.0}%)"),
            Lang::Nl => format!("(zekerheid {pct:.0}%)"),
            Lang::De => format!("(Sicherheit {pct:.0} %)"),
        }
    }

    /// Said when no tip was found.
    pub fn no_tips(self) -> &'static str {
        match self {
            Lang::En => "No tips: the data does not show anything worth changing yet.",
            Lang::Nl => "Geen tips: de gegevens laten nog niets zien dat het veranderen waard is.",
            Lang::De => "Keine Tipps: Die Daten zeigen noch nichts, was sich zu ändern lohnt.",
        }
    }

    /// Said under the tips when no contract was given, so no tip can say what it is worth.
    pub fn tips_need_a_contract(self) -> &'static str {
        match self {
            Lang::En => {
                "Add --tariff FILE to see what each tip is worth (examples in assets/tariffs/)."
            }
            Lang::Nl => {
                "Geef --tariff BESTAND op om te zien wat elke tip waard is (voorbeelden in assets/tariffs/)."
            }
            Lang::De => {
                "Mit --tariff DATEI sehen Sie, was jeder Tipp wert ist (Beispiele in assets/tariffs/)."
            }
        }
    }
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
        let peak = TipMessage::CapacityPeak {
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
        };
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
}
