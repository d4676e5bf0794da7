//! The words Hearth writes in the user's language (English, Dutch, German): chart titles, period
//! names, legends and bar labels, numbers, money and dates. The savings tips' sentences and
//! evidence are worded in `tips::message`, every language beside the English. The window's own
//! labels are in `ui/src/i18n.ts`.

use crate::{Amount, Money};
use hearth_meter::MeterTime;
use jiff::civil::Date;

/// A language the window speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (also for anything unknown).
    #[default]
    En,
    /// Dutch.
    Nl,
    /// German.
    De,
}

const MONTHS: [[&str; 12]; 3] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
];

const MONTHS_SHORT: [[&str; 12]; 3] = [
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    [
        "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ],
    [
        "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez",
    ],
];

const WEEKDAYS: [[&str; 7]; 3] = [
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    ["ma", "di", "wo", "do", "vr", "za", "zo"],
    ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
];

impl Lang {
    /// The language for a code from the window (`en`, `nl`, `de`); anything else is English.
    pub fn from_code(code: &str) -> Lang {
        match code {
            "nl" => Lang::Nl,
            "de" => Lang::De,
            _ => Lang::En,
        }
    }

    fn i(self) -> usize {
        self as usize
    }

    /// A month's full name (`month` 1..=12, clamped).
    pub fn month(self, month: i8) -> &'static str {
        MONTHS[self.i()][(month.clamp(1, 12) - 1) as usize]
    }

    /// A month's short name.
    pub fn month_short(self, month: i8) -> &'static str {
        MONTHS_SHORT[self.i()][(month.clamp(1, 12) - 1) as usize]
    }

    /// A weekday's short name, counted from Monday (0) to Sunday (6).
    pub fn weekday_short(self, from_monday: usize) -> &'static str {
        WEEKDAYS[self.i()][from_monday % 7]
    }

    /// A bar label for an hour of the day (`14h`, in Dutch `14u`).
    pub fn hour(self, hour: i8) -> String {
        match self {
            Lang::Nl => format!("{hour:02}u"),
            _ => format!("{hour:02}h"),
        }
    }

    /// A day's title: `Wed 26 Nov 2025`, `wo 26 nov 2025`, `Mi 26. Nov 2025`.
    pub fn day_title(self, weekday: usize, day: i8, month: i8, year: i16) -> String {
        let (wd, m) = (self.weekday_short(weekday), self.month_short(month));
        match self {
            Lang::De => format!("{wd} {day}. {m} {year}"),
            _ => format!("{wd} {day} {m} {year}"),
        }
    }

    /// A week's title from its Monday.
    pub fn week_title(self, day: i8, month: i8, year: i16) -> String {
        let m = self.month_short(month);
        match self {
            Lang::En => format!("Week of {day} {m} {year}"),
            Lang::Nl => format!("Week van {day} {m} {year}"),
            Lang::De => format!("Woche ab {day}. {m} {year}"),
        }
    }

    /// The energy bar chart's title.
    pub fn energy_used(self, period: &str) -> String {
        match self {
            Lang::En => format!("Energy used, {period}"),
            Lang::Nl => format!("Energieverbruik, {period}"),
            Lang::De => format!("Energieverbrauch, {period}"),
        }
    }

    /// The power chart's title.
    pub fn power(self, period: &str) -> String {
        match self {
            Lang::En => format!("Power, {period}"),
            Lang::Nl => format!("Vermogen, {period}"),
            Lang::De => format!("Leistung, {period}"),
        }
    }

    /// The live chart's title.
    pub fn power_last_minutes(self, minutes: i64) -> String {
        match self {
            Lang::En => format!("Power, last {minutes} minutes"),
            Lang::Nl => format!("Vermogen, laatste {minutes} minuten"),
            Lang::De => format!("Leistung, letzte {minutes} Minuten"),
        }
    }

    /// The heatmap's title.
    pub fn use_by_hour(self, period: &str) -> String {
        match self {
            Lang::En => format!("Use by hour, {period}"),
            Lang::Nl => format!("Verbruik per uur, {period}"),
            Lang::De => format!("Verbrauch nach Stunde, {period}"),
        }
    }

    /// The gas bar chart's title.
    pub fn gas_used(self, period: &str) -> String {
        match self {
            Lang::En => format!("Gas used, {period}"),
            Lang::Nl => format!("Gasverbruik, {period}"),
            Lang::De => format!("Gasverbrauch, {period}"),
        }
    }

    /// The export bar chart's title.
    pub fn energy_exported(self, period: &str) -> String {
        match self {
            Lang::En => format!("Energy fed back, {period}"),
            Lang::Nl => format!("Teruggeleverd, {period}"),
            Lang::De => format!("Eingespeist, {period}"),
        }
    }

    /// The load-duration chart's title.
    pub fn load_duration(self, period: &str) -> String {
        match self {
            Lang::En => format!("Load duration, {period}"),
            Lang::Nl => format!("Belastingsduur, {period}"),
            Lang::De => format!("Lastdauerlinie, {period}"),
        }
    }

    /// Legend names of the two tariff bands.
    pub fn tariff_bands(self) -> [&'static str; 2] {
        match self {
            Lang::En => ["Tariff 1 (low)", "Tariff 2 (normal)"],
            Lang::Nl => ["Tarief 1 (laag)", "Tarief 2 (normaal)"],
            Lang::De => ["Tarif 1 (Niedertarif)", "Tarif 2 (Normaltarif)"],
        }
    }

    /// Legend name of net power (import minus export).
    pub fn net_power(self) -> &'static str {
        match self {
            Lang::En => "Net power",
            Lang::Nl => "Nettovermogen",
            Lang::De => "Nettoleistung",
        }
    }

    /// Legend name of gas.
    pub fn gas(self) -> &'static str {
        "Gas"
    }

    /// Legend name of imported power.
    pub fn import(self) -> &'static str {
        match self {
            Lang::En => "Import",
            Lang::Nl => "Afname",
            Lang::De => "Bezug",
        }
    }

    /// Label of the base-load line.
    pub fn base_load(self) -> &'static str {
        match self {
            Lang::En => "Base load",
            Lang::Nl => "Basislast",
            Lang::De => "Grundlast",
        }
    }

    /// The load-duration chart's description for screen readers.
    pub fn base_load_sentence(self, base_w: f64, max_w: f64) -> String {
        match self {
            Lang::En => format!("Base load {base_w} W; highest {max_w} W."),
            Lang::Nl => format!("Basislast {base_w} W; hoogste {max_w} W."),
            Lang::De => format!("Grundlast {base_w} W; höchste {max_w} W."),
        }
    }

    /// Legend name of exported energy.
    pub fn export(self) -> &'static str {
        match self {
            Lang::En => "Export",
            Lang::Nl => "Teruglevering",
            Lang::De => "Einspeisung",
        }
    }
}

// Numbers, money and dates (the savings tips' texts are in `tips::message`, beside the English).
impl Lang {
    /// `v` with exactly `decimals` decimals. English is written plainly (`1752`, `2.5`) as the
    /// English tips always were; Dutch and German group thousands with a point and use a
    /// decimal comma (`1.752`, `2,5`), as the window's `Intl` numbers do.
    pub fn num(self, v: f64, decimals: usize) -> String {
        let plain = format!("{:.*}", decimals, v.abs());
        // No "-0" for a value that rounds to zero.
        let negative = v < 0.0 && plain.bytes().any(|b| (b'1'..=b'9').contains(&b));
        let sign = if negative { "-" } else { "" };
        if self == Lang::En {
            return format!("{sign}{plain}");
        }
        let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut grouped = String::new();
        for (k, ch) in int.chars().enumerate() {
            if k > 0 && (int.len() - k).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped},{frac}")
        }
    }

    /// kW with one decimal from W (`2,5`).
    pub(crate) fn kw(self, w: i64) -> String {
        self.num(w as f64 / 1000.0, 1)
    }

    /// A whole number (`1.752` in Dutch and German).
    pub(crate) fn int(self, n: i64) -> String {
        self.num(n as f64, 0)
    }

    /// Money as the window's figures show it: `EUR 1.438,00` (English keeps the tips' plain
    /// `1438.00`, without the code). Exact to the cent.
    pub fn money(self, m: Money, currency: &str) -> String {
        if self == Lang::En {
            return m.to_string();
        }
        let c = m.cents();
        let sign = if c < 0 { "-" } else { "" };
        let a = c.unsigned_abs();
        format!(
            "{currency} {sign}{},{:02}",
            self.int((a / 100) as i64),
            a % 100
        )
    }

    /// A yearly amount in whole units inside a sentence: `€88`, `€ 88`, `88 €`; other
    /// currencies by their code (`2.002 NOK`).
    pub fn whole_money(self, a: &Amount) -> String {
        if self == Lang::En {
            return a.english();
        }
        let n = self.int(a.whole_units());
        let sign = match a.currency.as_str() {
            "EUR" => "€",
            "GBP" => "£",
            "USD" => "$",
            c => return format!("{n} {c}"),
        };
        match self {
            Lang::De => format!("{n} {sign}"),
            _ => format!("{sign} {n}"),
        }
    }

    /// A date: `2026-02-19`, `19 februari 2026`, `19. Februar 2026`.
    pub fn date(self, d: Date) -> String {
        match self {
            Lang::En => d.to_string(),
            Lang::Nl => format!("{} {} {}", d.day(), self.month(d.month()), d.year()),
            Lang::De => format!("{}. {} {}", d.day(), self.month(d.month()), d.year()),
        }
    }

    /// A moment as the meter's clock showed it: RFC 3339 in English (as the tips always
    /// were), `za 10 jan 2026 18:00` in Dutch, `Sa 10. Jan 2026, 18:00` in German.
    pub fn moment(self, t: MeterTime) -> String {
        if self == Lang::En {
            return t.to_string();
        }
        let dt = t.zoned().datetime();
        let day = self.day_title(
            dt.weekday().to_monday_zero_offset() as usize,
            dt.day(),
            dt.month(),
            dt.year(),
        );
        let sep = if self == Lang::De { "," } else { "" };
        format!("{day}{sep} {:02}:{:02}", dt.hour(), dt.minute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_in_each_language() {
        assert_eq!(Lang::from_code("fr"), Lang::En);
        // Wednesday (index 2) 26 November 2025.
        assert_eq!(Lang::En.day_title(2, 26, 11, 2025), "Wed 26 Nov 2025");
        assert_eq!(Lang::Nl.day_title(2, 26, 11, 2025), "wo 26 nov 2025");
        assert_eq!(Lang::De.day_title(2, 26, 11, 2025), "Mi 26. Nov 2025");
        assert_eq!(Lang::Nl.week_title(24, 11, 2025), "Week van 24 nov 2025");
        assert_eq!(Lang::De.week_title(24, 11, 2025), "Woche ab 24. Nov 2025");
        assert_eq!(Lang::De.month(3), "März");
        assert_eq!(Lang::Nl.month_short(3), "mrt");
        assert_eq!(Lang::Nl.month(0), "januari", "clamped, no panic");
        assert_eq!(Lang::De.month(13), "Dezember", "clamped, no panic");
        assert_eq!(Lang::Nl.hour(7), "07u");
        assert_eq!(Lang::En.power_last_minutes(10), "Power, last 10 minutes");
        assert_eq!(
            Lang::Nl.energy_used("november 2025"),
            "Energieverbruik, november 2025"
        );
    }

    fn eur(units: i64) -> Amount {
        Amount {
            money: Money::units(units),
            currency: "EUR".into(),
        }
    }

    #[test]
    fn numbers_money_and_dates() {
        assert_eq!(Lang::En.num(1752.0, 0), "1752");
        assert_eq!(Lang::Nl.num(1752.0, 0), "1.752");
        assert_eq!(Lang::De.num(1_234_567.891, 2), "1.234.567,89");
        assert_eq!(Lang::Nl.num(2.0, 1), "2,0");
        assert_eq!(Lang::De.num(-5.6, 1), "-5,6");
        assert_eq!(Lang::Nl.num(-0.04, 1), "0,0", "no minus zero");
        assert_eq!(Lang::Nl.num(999.0, 0), "999");
        let m = Money::parse("1437.555").unwrap();
        assert_eq!(Lang::En.money(m, "EUR"), "1437.56");
        assert_eq!(Lang::Nl.money(m, "EUR"), "EUR 1.437,56");
        assert_eq!(Lang::De.money(-m, "NOK"), "NOK -1.437,56");
        assert_eq!(Lang::En.whole_money(&eur(1095)), "€1095");
        assert_eq!(Lang::Nl.whole_money(&eur(1095)), "€ 1.095");
        assert_eq!(Lang::De.whole_money(&eur(1095)), "1.095 €");
        let nok = Amount {
            money: Money::parse("2001.61").unwrap(),
            currency: "NOK".into(),
        };
        assert_eq!(Lang::De.whole_money(&nok), "2.002 NOK");
        let d = jiff::civil::date(2026, 2, 19);
        assert_eq!(Lang::En.date(d), "2026-02-19");
        assert_eq!(Lang::Nl.date(d), "19 februari 2026");
        assert_eq!(Lang::De.date(d), "19. Februar 2026");
        // 1_768_064_400 = 2026-01-10T17:00Z, a Saturday, 18:00 at +01:00.
        let t = MeterTime {
            unix: 1_768_064_400,
            offset_s: 3600,
        };
        assert_eq!(Lang::En.moment(t), "2026-01-10T18:00:00+01:00");
        assert_eq!(Lang::Nl.moment(t), "za 10 jan 2026 18:00");
        assert_eq!(Lang::De.moment(t), "Sa 10. Jan 2026, 18:00");
    }
}
