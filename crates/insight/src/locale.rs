//! The words Hearth writes in the user's language (English, Dutch, German, French, Norwegian
//! Bokmål, Swedish, Danish, Finnish): chart titles, period names, legends and bar labels,
//! numbers, money and dates, and which language a system locale means. The savings tips'
//! sentences and evidence are worded in `tips::words`. The window's own labels are in
//! `ui/src/lang/`.

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
    /// French (as in Wallonia, Brussels and Luxembourg).
    Fr,
    /// Norwegian Bokmål (also for Nynorsk and plain `no` systems).
    Nb,
    /// Swedish.
    Sv,
    /// Danish.
    Da,
    /// Finnish.
    Fi,
}

const MONTHS: [[&str; 12]; 8] = [
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
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ],
    [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "tammikuu",
        "helmikuu",
        "maaliskuu",
        "huhtikuu",
        "toukokuu",
        "kesäkuu",
        "heinäkuu",
        "elokuu",
        "syyskuu",
        "lokakuu",
        "marraskuu",
        "joulukuu",
    ],
];

const MONTHS_SHORT: [[&str; 12]; 8] = [
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    [
        "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ],
    [
        "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez",
    ],
    [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ],
    [
        "jan.", "feb.", "mar.", "apr.", "mai", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.",
        "des.",
    ],
    [
        "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ],
    [
        "jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.",
        "dec.",
    ],
    [
        "tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo", "syys", "loka",
        "marras", "joulu",
    ],
];

const WEEKDAYS: [[&str; 7]; 8] = [
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    ["ma", "di", "wo", "do", "vr", "za", "zo"],
    ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
    ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."],
    ["mån", "tis", "ons", "tors", "fre", "lör", "sön"],
    ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."],
    ["ma", "ti", "ke", "to", "pe", "la", "su"],
];

impl Lang {
    /// Every language, in the order of the window's menu.
    pub const ALL: [Lang; 8] = [
        Lang::En,
        Lang::Nl,
        Lang::De,
        Lang::Fr,
        Lang::Nb,
        Lang::Sv,
        Lang::Da,
        Lang::Fi,
    ];

    /// The window's code for it (`en`, `nl`, `de`, `fr`, `nb`, `sv`, `da`, `fi`).
    pub const fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Nb => "nb",
            Lang::Sv => "sv",
            Lang::Da => "da",
            Lang::Fi => "fi",
        }
    }

    /// The language of a locale tag as systems write it (`fr-BE`, `nb_NO.UTF-8`, `sv-FI`,
    /// `de_AT@euro`), or `None` when Hearth does not speak it. Norwegian in any form (`no`,
    /// `nb`, `nn`) is shown in Bokmål.
    pub fn from_locale(tag: &str) -> Option<Lang> {
        let base = tag
            .trim()
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match base.as_str() {
            "no" | "nn" => Some(Lang::Nb),
            b => Lang::ALL.into_iter().find(|l| l.code() == b),
        }
    }

    /// The language for a code from the window (`en`, `nl`, `fr`, ...; a system tag such as
    /// `fr-BE` works too); anything else is English.
    pub fn from_code(code: &str) -> Lang {
        Lang::from_locale(code).unwrap_or_default()
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

    /// A bar label for an hour of the day (`14h`, in Dutch `14u`, in the Nordic languages and
    /// Finnish the bare hour).
    pub fn hour(self, hour: i8) -> String {
        match self {
            Lang::Nl => format!("{hour:02}u"),
            Lang::En | Lang::De | Lang::Fr => format!("{hour:02}h"),
            Lang::Nb | Lang::Sv | Lang::Da | Lang::Fi => format!("{hour:02}"),
        }
    }

    /// A day and its month as a short label (`26 Nov`, `26. Nov`, Finnish `26.11.`).
    pub fn day_month(self, day: i8, month: i8) -> String {
        let m = self.month_short(month);
        match self {
            Lang::De | Lang::Nb | Lang::Da => format!("{day}. {m}"),
            Lang::Fi => format!("{day}.{month}."),
            _ => format!("{day} {m}"),
        }
    }

    /// A day's title: `Wed 26 Nov 2025`, `wo 26 nov 2025`, `Mi 26. Nov 2025`, `mer. 26 nov.
    /// 2025`, `ons. 26. nov. 2025`, `ons 26 nov 2025`, `ke 26.11.2025`.
    pub fn day_title(self, weekday: usize, day: i8, month: i8, year: i16) -> String {
        let (wd, m) = (self.weekday_short(weekday), self.month_short(month));
        match self {
            Lang::De | Lang::Nb | Lang::Da => format!("{wd} {day}. {m} {year}"),
            Lang::Fi => format!("{wd} {day}.{month}.{year}"),
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
            Lang::Fr => format!("Semaine du {day} {m} {year}"),
            Lang::Nb => format!("Uke fra {day}. {m} {year}"),
            Lang::Sv => format!("Vecka från {day} {m} {year}"),
            Lang::Da => format!("Uge fra {day}. {m} {year}"),
            Lang::Fi => format!("Viikko {day}.{month}.{year} alkaen"),
        }
    }

    /// The energy bar chart's title.
    pub fn energy_used(self, period: &str) -> String {
        let what = match self {
            Lang::En => "Energy used",
            Lang::Nl => "Energieverbruik",
            Lang::De => "Energieverbrauch",
            Lang::Fr => "Énergie consommée",
            Lang::Nb => "Energiforbruk",
            Lang::Sv => "Energiförbrukning",
            Lang::Da => "Energiforbrug",
            Lang::Fi => "Energiankulutus",
        };
        format!("{what}, {period}")
    }

    /// The power chart's title.
    pub fn power(self, period: &str) -> String {
        format!("{}, {period}", self.power_word())
    }

    fn power_word(self) -> &'static str {
        match self {
            Lang::En => "Power",
            Lang::Nl => "Vermogen",
            Lang::De => "Leistung",
            Lang::Fr => "Puissance",
            Lang::Nb | Lang::Sv | Lang::Da => "Effekt",
            Lang::Fi => "Teho",
        }
    }

    /// The live chart's title.
    pub fn power_last_minutes(self, minutes: i64) -> String {
        match self {
            Lang::En => format!("Power, last {minutes} minutes"),
            Lang::Nl => format!("Vermogen, laatste {minutes} minuten"),
            Lang::De => format!("Leistung, letzte {minutes} Minuten"),
            Lang::Fr => format!("Puissance, {minutes} dernières minutes"),
            Lang::Nb => format!("Effekt, siste {minutes} minutter"),
            Lang::Sv => format!("Effekt, senaste {minutes} minuterna"),
            Lang::Da => format!("Effekt, seneste {minutes} minutter"),
            Lang::Fi => format!("Teho, viimeiset {minutes} minuuttia"),
        }
    }

    /// The heatmap's title.
    pub fn use_by_hour(self, period: &str) -> String {
        let what = match self {
            Lang::En => "Use by hour",
            Lang::Nl => "Verbruik per uur",
            Lang::De => "Verbrauch nach Stunde",
            Lang::Fr => "Consommation par heure",
            Lang::Nb => "Forbruk per time",
            Lang::Sv => "Förbrukning per timme",
            Lang::Da => "Forbrug pr. time",
            Lang::Fi => "Kulutus tunneittain",
        };
        format!("{what}, {period}")
    }

    /// The gas bar chart's title.
    pub fn gas_used(self, period: &str) -> String {
        let what = match self {
            Lang::En => "Gas used",
            Lang::Nl => "Gasverbruik",
            Lang::De => "Gasverbrauch",
            Lang::Fr => "Gaz consommé",
            Lang::Nb => "Gassforbruk",
            Lang::Sv => "Gasförbrukning",
            Lang::Da => "Gasforbrug",
            Lang::Fi => "Kaasunkulutus",
        };
        format!("{what}, {period}")
    }

    /// The export bar chart's title.
    pub fn energy_exported(self, period: &str) -> String {
        let what = match self {
            Lang::En => "Energy fed back",
            Lang::Nl => "Teruggeleverd",
            Lang::De => "Eingespeist",
            Lang::Fr => "Énergie injectée",
            Lang::Nb => "Levert til nettet",
            Lang::Sv => "Såld el",
            Lang::Da => "Solgt strøm",
            Lang::Fi => "Verkkoon syötetty",
        };
        format!("{what}, {period}")
    }

    /// The load-duration chart's title.
    pub fn load_duration(self, period: &str) -> String {
        let what = match self {
            Lang::En => "Load duration",
            Lang::Nl => "Belastingsduur",
            Lang::De => "Lastdauerlinie",
            Lang::Fr => "Monotone de charge",
            Lang::Nb => "Varighetskurve",
            Lang::Sv => "Varaktighetskurva",
            Lang::Da => "Varighedskurve",
            Lang::Fi => "Pysyvyyskäyrä",
        };
        format!("{what}, {period}")
    }

    /// Legend names of the two tariff bands.
    pub fn tariff_bands(self) -> [&'static str; 2] {
        match self {
            Lang::En => ["Tariff 1 (low)", "Tariff 2 (normal)"],
            Lang::Nl => ["Tarief 1 (laag)", "Tarief 2 (normaal)"],
            Lang::De => ["Tarif 1 (Niedertarif)", "Tarif 2 (Normaltarif)"],
            Lang::Fr => ["Tarif 1 (bas)", "Tarif 2 (normal)"],
            Lang::Nb => ["Tariff 1 (lav)", "Tariff 2 (normal)"],
            Lang::Sv => ["Tariff 1 (låg)", "Tariff 2 (normal)"],
            Lang::Da => ["Tarif 1 (lav)", "Tarif 2 (normal)"],
            Lang::Fi => ["Tariffi 1 (edullinen)", "Tariffi 2 (normaali)"],
        }
    }

    /// Legend name of net power (import minus export).
    pub fn net_power(self) -> &'static str {
        match self {
            Lang::En => "Net power",
            Lang::Nl => "Nettovermogen",
            Lang::De => "Nettoleistung",
            Lang::Fr => "Puissance nette",
            Lang::Nb | Lang::Sv | Lang::Da => "Nettoeffekt",
            Lang::Fi => "Nettoteho",
        }
    }

    /// Legend name of gas.
    pub fn gas(self) -> &'static str {
        match self {
            Lang::Fr => "Gaz",
            Lang::Nb => "Gass",
            Lang::Fi => "Kaasu",
            _ => "Gas",
        }
    }

    /// Legend name of imported power.
    pub fn import(self) -> &'static str {
        match self {
            Lang::En => "Import",
            Lang::Nl => "Afname",
            Lang::De => "Bezug",
            Lang::Fr => "Prélèvement",
            Lang::Nb => "Forbruk",
            Lang::Sv => "Köpt",
            Lang::Da => "Køb",
            Lang::Fi => "Osto",
        }
    }

    /// Label of the base-load line.
    pub fn base_load(self) -> &'static str {
        match self {
            Lang::En => "Base load",
            Lang::Nl => "Basislast",
            Lang::De => "Grundlast",
            Lang::Fr => "Consommation de base",
            Lang::Nb => "Grunnlast",
            Lang::Sv => "Baslast",
            Lang::Da => "Grundforbrug",
            Lang::Fi => "Peruskuorma",
        }
    }

    /// The load-duration chart's description for screen readers.
    pub fn base_load_sentence(self, base_w: f64, max_w: f64) -> String {
        let base = self.base_load();
        match self {
            Lang::En => format!("{base} {base_w} W; highest {max_w} W."),
            Lang::Nl => format!("{base} {base_w} W; hoogste {max_w} W."),
            Lang::De => format!("{base} {base_w} W; höchste {max_w} W."),
            Lang::Fr => format!("{base} {base_w} W ; maximum {max_w} W."),
            Lang::Nb => format!("{base} {base_w} W; høyeste {max_w} W."),
            Lang::Sv => format!("{base} {base_w} W; högsta {max_w} W."),
            Lang::Da => format!("{base} {base_w} W; højeste {max_w} W."),
            Lang::Fi => format!("{base} {base_w} W; suurin {max_w} W."),
        }
    }

    /// Legend name of exported energy.
    pub fn export(self) -> &'static str {
        match self {
            Lang::En => "Export",
            Lang::Nl => "Teruglevering",
            Lang::De => "Einspeisung",
            Lang::Fr => "Injection",
            Lang::Nb => "Innmating",
            Lang::Sv => "Såld",
            Lang::Da => "Salg",
            Lang::Fi => "Myynti",
        }
    }

    /// The tray's power line: what the home draws or feeds back now, in W.
    pub fn tray_power(self, w: u64, exporting: bool) -> String {
        match (self, exporting) {
            (Lang::En, true) => format!("Exporting {w} W"),
            (Lang::En, false) => format!("Using {w} W"),
            (Lang::Nl, true) => format!("Levert {w} W terug"),
            (Lang::Nl, false) => format!("Verbruikt {w} W"),
            (Lang::De, true) => format!("Speist {w} W ein"),
            (Lang::De, false) => format!("Verbraucht {w} W"),
            (Lang::Fr, true) => format!("Injecte {w} W"),
            (Lang::Fr, false) => format!("Consomme {w} W"),
            (Lang::Nb, true) => format!("Leverer {w} W"),
            (Lang::Nb, false) => format!("Bruker {w} W"),
            (Lang::Sv, true) => format!("Matar ut {w} W"),
            (Lang::Sv, false) => format!("Använder {w} W"),
            (Lang::Da, true) => format!("Sender {w} W ud"),
            (Lang::Da, false) => format!("Bruger {w} W"),
            (Lang::Fi, true) => format!("Syöttää verkkoon {w} W"),
            (Lang::Fi, false) => format!("Kuluttaa {w} W"),
        }
    }

    /// The tray menu's fixed lines: waiting, show, quit.
    pub fn tray_menu(self) -> [&'static str; 3] {
        match self {
            Lang::En => ["Waiting for the meter…", "Show Hearth", "Quit Hearth"],
            Lang::Nl => ["Wachten op de meter…", "Hearth tonen", "Hearth afsluiten"],
            Lang::De => ["Warte auf den Zähler…", "Hearth anzeigen", "Hearth beenden"],
            Lang::Fr => [
                "En attente du compteur…",
                "Afficher Hearth",
                "Quitter Hearth",
            ],
            Lang::Nb => ["Venter på måleren…", "Vis Hearth", "Avslutt Hearth"],
            Lang::Sv => ["Väntar på mätaren…", "Visa Hearth", "Avsluta Hearth"],
            Lang::Da => ["Venter på måleren…", "Vis Hearth", "Afslut Hearth"],
            Lang::Fi => ["Odotetaan mittaria…", "Näytä Hearth", "Lopeta Hearth"],
        }
    }
}

// Numbers, money and dates (the savings tips' texts are in `tips::words`).
impl Lang {
    /// The thousands separator and the decimal mark, as the window's `Intl` numbers write them:
    /// Dutch, German and Danish `1.752,5`; French `1 752,5` (a narrow no-break space); Norwegian,
    /// Swedish and Finnish `1 752,5` (a no-break space).
    fn separators(self) -> (&'static str, char) {
        match self {
            Lang::En => ("", '.'),
            Lang::Nl | Lang::De | Lang::Da => (".", ','),
            Lang::Fr => ("\u{202f}", ','),
            Lang::Nb | Lang::Sv | Lang::Fi => ("\u{a0}", ','),
        }
    }

    /// `v` with exactly `decimals` decimals. English is written plainly (`1752`, `2.5`) as the
    /// English tips always were; the other languages group thousands and use a decimal comma
    /// (`1.752`, `2,5`; see [`Lang::separators`]), as the window's `Intl` numbers do.
    pub fn num(self, v: f64, decimals: usize) -> String {
        let plain = format!("{:.*}", decimals, v.abs());
        // No "-0" for a value that rounds to zero.
        let negative = v < 0.0 && plain.bytes().any(|b| (b'1'..=b'9').contains(&b));
        let sign = if negative { "-" } else { "" };
        if self == Lang::En {
            return format!("{sign}{plain}");
        }
        let (group, decimal) = self.separators();
        let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut grouped = String::new();
        for (k, ch) in int.chars().enumerate() {
            if k > 0 && (int.len() - k).is_multiple_of(3) {
                grouped.push_str(group);
            }
            grouped.push(ch);
        }
        if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}{decimal}{frac}")
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

    /// Money as the window's figures show it: `EUR 1.438,00` in Dutch and German, the code after
    /// the amount in French, the Nordic languages and Finnish (`1 438,00 NOK`); English keeps
    /// the tips' plain `1438.00`, without the code. Exact to the cent.
    pub fn money(self, m: Money, currency: &str) -> String {
        if self == Lang::En {
            return m.to_string();
        }
        let c = m.cents();
        let sign = if c < 0 { "-" } else { "" };
        let a = c.unsigned_abs();
        let (_, decimal) = self.separators();
        let amount = format!(
            "{sign}{}{decimal}{:02}",
            self.int((a / 100) as i64),
            a % 100
        );
        match self {
            Lang::Nl | Lang::De => format!("{currency} {amount}"),
            _ => format!("{amount} {currency}"),
        }
    }

    /// A yearly amount in whole units inside a sentence: `€88`, `€ 88`, `88 €`; a country's own
    /// krone or krona as `kr` in its language (`2 002 kr` in Norwegian for NOK); other
    /// currencies by their code (`2.002 NOK`).
    pub fn whole_money(self, a: &Amount) -> String {
        if self == Lang::En {
            return a.english();
        }
        let n = self.int(a.whole_units());
        let sign = match (self, a.currency.as_str()) {
            (_, "EUR") => "€",
            (_, "GBP") => "£",
            (_, "USD") => "$",
            (Lang::Nb, "NOK") | (Lang::Sv, "SEK") => "kr",
            (Lang::Da, "DKK") => "kr.",
            (_, c) => return format!("{n} {c}"),
        };
        match self {
            Lang::Nl => format!("{sign} {n}"),
            _ => format!("{n} {sign}"),
        }
    }

    /// A date: `2026-02-19`, `19 februari 2026`, `19. Februar 2026`, `19 février 2026`,
    /// `19. februar 2026`, `19 februari 2026`, `19. februar 2026`, `19.2.2026`.
    pub fn date(self, d: Date) -> String {
        let (day, month, year) = (d.day(), self.month(d.month()), d.year());
        match self {
            Lang::En => d.to_string(),
            Lang::Nl | Lang::Fr | Lang::Sv => format!("{day} {month} {year}"),
            Lang::De | Lang::Nb | Lang::Da => format!("{day}. {month} {year}"),
            Lang::Fi => format!("{day}.{}.{year}", d.month()),
        }
    }

    /// A clock time on the hour, as sentences write it: `19:00`, in Danish and Finnish `19.00`.
    pub fn clock(self, hour: u8) -> String {
        match self {
            Lang::Da | Lang::Fi => format!("{hour:02}.00"),
            _ => format!("{hour:02}:00"),
        }
    }

    /// A moment as the meter's clock showed it: RFC 3339 in English (as the tips always
    /// were), `za 10 jan 2026 18:00` in Dutch, `Sa 10. Jan 2026, 18:00` in German, `sam. 10
    /// janv. 2026 à 18:00`, `lør. 10. jan. 2026 kl. 18:00`, `lör 10 jan 2026 kl. 18:00`, `lør. 10.
    /// jan. 2026 kl. 18.00`, `la 10.1.2026 klo 18.00`.
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
        let (h, m) = (dt.hour(), dt.minute());
        match self {
            Lang::De => format!("{day}, {h:02}:{m:02}"),
            Lang::Fr => format!("{day} à {h:02}:{m:02}"),
            Lang::Nb | Lang::Sv => format!("{day} kl. {h:02}:{m:02}"),
            Lang::Da => format!("{day} kl. {h:02}.{m:02}"),
            Lang::Fi => format!("{day} klo {h:02}.{m:02}"),
            _ => format!("{day} {h:02}:{m:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_in_each_language() {
        assert_eq!(Lang::from_code("fr"), Lang::Fr);
        assert_eq!(Lang::from_code("es"), Lang::En);
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

    #[test]
    fn system_locales_choose_a_language() {
        for (tag, want) in [
            ("nb_NO.UTF-8", Some(Lang::Nb)),
            ("no", Some(Lang::Nb)),
            ("nn_NO", Some(Lang::Nb)),
            ("fr_BE.UTF-8", Some(Lang::Fr)),
            ("fr-LU", Some(Lang::Fr)),
            ("fr_CH", Some(Lang::Fr)),
            ("sv_FI.UTF-8", Some(Lang::Sv)),
            ("fi_FI", Some(Lang::Fi)),
            ("da_DK.UTF-8", Some(Lang::Da)),
            ("de_AT@euro", Some(Lang::De)),
            ("NL", Some(Lang::Nl)),
            ("en_GB.UTF-8", Some(Lang::En)),
            ("C.UTF-8", None),
            ("POSIX", None),
            ("pt_BR", None),
            ("", None),
        ] {
            assert_eq!(Lang::from_locale(tag), want, "{tag}");
        }
        for l in Lang::ALL {
            assert_eq!(Lang::from_code(l.code()), l);
        }
    }

    #[test]
    fn titles_numbers_and_dates_in_the_new_languages() {
        // Wednesday (index 2) 26 November 2025.
        assert_eq!(Lang::Fr.day_title(2, 26, 11, 2025), "mer. 26 nov. 2025");
        assert_eq!(Lang::Nb.day_title(2, 26, 11, 2025), "ons. 26. nov. 2025");
        assert_eq!(Lang::Sv.day_title(2, 26, 11, 2025), "ons 26 nov 2025");
        assert_eq!(Lang::Da.day_title(2, 26, 11, 2025), "ons. 26. nov. 2025");
        assert_eq!(Lang::Fi.day_title(2, 26, 11, 2025), "ke 26.11.2025");
        assert_eq!(
            Lang::Fi.week_title(24, 11, 2025),
            "Viikko 24.11.2025 alkaen"
        );
        assert_eq!(Lang::Fr.week_title(24, 11, 2025), "Semaine du 24 nov. 2025");
        assert_eq!(Lang::Sv.month(5), "maj");
        assert_eq!(Lang::Da.month(3), "marts");
        assert_eq!(Lang::Fi.month(12), "joulukuu");
        assert_eq!(
            Lang::Fr.energy_used("août 2026"),
            "Énergie consommée, août 2026"
        );
        assert_eq!(Lang::Nb.power_last_minutes(10), "Effekt, siste 10 minutter");
        assert_eq!(Lang::Fr.num(1_234_567.891, 2), "1\u{202f}234\u{202f}567,89");
        assert_eq!(Lang::Sv.num(1752.0, 0), "1\u{a0}752");
        assert_eq!(Lang::Da.num(1752.5, 1), "1.752,5");
        assert_eq!(Lang::Fi.num(-5.6, 1), "-5,6");
        let m = Money::parse("1437.555").unwrap();
        assert_eq!(Lang::Fr.money(m, "EUR"), "1\u{202f}437,56 EUR");
        assert_eq!(Lang::Nb.money(-m, "NOK"), "-1\u{a0}437,56 NOK");
        let amount = |c: &str| Amount {
            money: Money::units(1095),
            currency: c.into(),
        };
        assert_eq!(Lang::Fr.whole_money(&amount("EUR")), "1\u{202f}095 €");
        assert_eq!(Lang::Nb.whole_money(&amount("NOK")), "1\u{a0}095 kr");
        assert_eq!(Lang::Sv.whole_money(&amount("SEK")), "1\u{a0}095 kr");
        assert_eq!(Lang::Da.whole_money(&amount("DKK")), "1.095 kr.");
        assert_eq!(Lang::Da.whole_money(&amount("SEK")), "1.095 SEK");
        assert_eq!(Lang::Fi.whole_money(&amount("EUR")), "1\u{a0}095 €");
        let d = jiff::civil::date(2026, 2, 19);
        assert_eq!(Lang::Fr.date(d), "19 février 2026");
        assert_eq!(Lang::Nb.date(d), "19. februar 2026");
        assert_eq!(Lang::Fi.date(d), "19.2.2026");
        // 2026-01-10 18:00 at +01:00, a Saturday.
        let t = MeterTime {
            unix: 1_768_064_400,
            offset_s: 3600,
        };
        assert_eq!(Lang::Fr.moment(t), "sam. 10 janv. 2026 à 18:00");
        assert_eq!(Lang::Nb.moment(t), "lør. 10. jan. 2026 kl. 18:00");
        assert_eq!(Lang::Sv.moment(t), "lör 10 jan 2026 kl. 18:00");
        assert_eq!(Lang::Da.moment(t), "lør. 10. jan. 2026 kl. 18.00");
        assert_eq!(Lang::Fi.moment(t), "la 10.1.2026 klo 18.00");
        assert_eq!(Lang::Fi.tray_power(350, true), "Syöttää verkkoon 350 W");
        assert_eq!(Lang::Fr.tray_menu()[2], "Quitter Hearth");
    }
}
