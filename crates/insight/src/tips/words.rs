//! The tips' sentences, evidence lines and the words around a list of tips in every language,
//! as templates with `{name}` placeholders, one table per language. `tips::message` fills them
//! with numbers, dates and money already written the language's way; a test checks that every
//! language has every template with exactly English's placeholders.

use crate::locale::Lang;

/// One language's templates. The comment on each field names its placeholders.
pub(crate) struct TipWords {
    /// `{watts}` `{kwh}` `{cost}` (the `base_load_cost` clause or nothing).
    pub base_load: &'static str,
    /// `{money}`.
    pub base_load_cost: &'static str,
    /// `{since}` `{watts}` `{kwh}` `{cost}`.
    pub new_load: &'static str,
    /// `{money}`.
    pub new_load_cost: &'static str,
    /// `{kw}` `{minutes}` `{runs}` `{days}` `{from}` `{until}` `{better}` `{money}`.
    pub load_shift: &'static str,
    /// `{days}` `{cheapest}` `{current}` `{money}`.
    pub cheapest: &'static str,
    /// `{basis}` (`peak_quarter` or `peak_top3`) `{peak}` `{latest}` `{above}` `{target}` `{money}`.
    pub peak: &'static str,
    /// No placeholder.
    pub peak_quarter: &'static str,
    /// No placeholder.
    pub peak_top3: &'static str,
    /// `{when}`.
    pub peak_latest: &'static str,
    /// `{kwh}` `{from}` `{until}` `{money}`.
    pub solar: &'static str,
    /// `{kwh}` `{percent}` `{cost}`.
    pub unusual: &'static str,
    /// `{money}`.
    pub unusual_cost: &'static str,
    /// Evidence: `{date}`.
    pub since: &'static str,
    /// Evidence: `{watts}`.
    pub watts: &'static str,
    /// Evidence: `{times}` (joined by `times_separator`).
    pub times: &'static str,
    /// Between the moments of `times`.
    pub times_separator: &'static str,
    /// Evidence: `{name}` `{money}`.
    pub contract: &'static str,
    /// After a tip in a list: `{pct}`.
    pub confidence: &'static str,
    /// Said when no tip was found.
    pub no_tips: &'static str,
    /// Said under the tips when no contract was given.
    pub need_contract: &'static str,
}

#[cfg(test)]
impl TipWords {
    /// Every template by name (the separator is no template and is left out).
    pub(crate) fn all(&self) -> [(&'static str, &'static str); 20] {
        [
            ("base_load", self.base_load),
            ("base_load_cost", self.base_load_cost),
            ("new_load", self.new_load),
            ("new_load_cost", self.new_load_cost),
            ("load_shift", self.load_shift),
            ("cheapest", self.cheapest),
            ("peak", self.peak),
            ("peak_quarter", self.peak_quarter),
            ("peak_top3", self.peak_top3),
            ("peak_latest", self.peak_latest),
            ("solar", self.solar),
            ("unusual", self.unusual),
            ("unusual_cost", self.unusual_cost),
            ("since", self.since),
            ("watts", self.watts),
            ("times", self.times),
            ("contract", self.contract),
            ("confidence", self.confidence),
            ("no_tips", self.no_tips),
            ("need_contract", self.need_contract),
        ]
    }
}

/// `template` with each `{name}` replaced by its value in `values`, in one pass (a value that
/// itself holds braces, such as a contract's name, is never filled again). An unknown
/// placeholder stays as written.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_end = after.find('}').filter(|&e| {
            after[..e]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match name_end.and_then(|e| {
            values
                .iter()
                .find(|(n, _)| *n == &after[..e])
                .map(|v| (e, v.1))
        }) {
            Some((e, value)) => {
                out.push_str(value);
                rest = &after[e + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a template, sorted.
#[cfg(test)]
pub(crate) fn placeholders(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> = template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    names
}

impl Lang {
    /// This language's tip templates.
    pub(crate) fn tip_words(self) -> &'static TipWords {
        match self {
            Lang::En => &EN,
            Lang::Nl => &NL,
            Lang::De => &DE,
            Lang::Fr => &FR,
            Lang::Nb => &NB,
            Lang::Sv => &SV,
            Lang::Da => &DA,
            Lang::Fi => &FI,
        }
    }
}

/// English: the reference (the summary itself is `TipMessage::english`, word for word the same;
/// a test keeps the two equal).
static EN: TipWords = TipWords {
    base_load: "Your home never uses less than about {watts} W, even at night: about {kwh} kWh a year{cost}. \
                Devices on standby, routers, fridges and pumps make up this always-on load.",
    base_load_cost: " ({money} a year)",
    new_load: "Since {since} something uses about {watts} W more, day and night: about {kwh} kWh a year{cost}. \
               Did a device start staying on around then?",
    new_load_cost: ", {money} a year",
    load_shift: "A large load of about {kw} kW for about {minutes} minutes runs on {runs} of {days} days, usually \
                 starting between {from} and {until}. Starting it around {better} instead would save about {money} a year.",
    cheapest: "Over your last {days} days of use, \"{cheapest}\" would have cost about {money} a year less than \"{current}\".",
    peak: "Your capacity charge follows your peaks: last month your {basis} {peak} kW{latest}, {above} kW above your \
           always-on load, usually several large appliances at once. Keeping peaks to about {target} kW would save \
           about {money} a year.",
    peak_quarter: "highest quarter hour",
    peak_top3: "three highest hours (on different days) averaged",
    peak_latest: " (latest {when})",
    solar: "You export about {kwh} kWh a year, mostly between {from} and {until}, for less than you pay for power later. \
            Running your large loads in those hours instead would save about {money} a year. (Hearth sees only what \
            crosses the meter, so it cannot measure how much solar you already use yourself.)",
    unusual: "The last 7 days used {kwh} kWh more than a typical week for your home ({percent}% more){cost}. \
              The biggest differences are listed under evidence.",
    unusual_cost: " ({money} a year if it continues)",
    since: "Since {date}",
    watts: "About {watts} W",
    times: "When: {times}",
    times_separator: ", ",
    contract: "{name}: {money} a year",
    confidence: "(confidence {pct}%)",
    no_tips: "No tips: the data does not show anything worth changing yet.",
    need_contract: "Add --tariff FILE to see what each tip is worth (examples in assets/tariffs/).",
};

static NL: TipWords = TipWords {
    base_load: "Je huis verbruikt altijd minstens zo'n {watts} W, ook 's nachts: ongeveer {kwh} kWh per jaar{cost}. \
                Dit sluipverbruik komt van apparaten op stand-by, de router, de koelkast en pompen.",
    base_load_cost: " ({money})",
    new_load: "Sinds {since} verbruikt iets dag en nacht zo'n {watts} W meer: ongeveer {kwh} kWh per jaar{cost}. \
               Is er rond die tijd een apparaat bijgekomen dat altijd aan blijft?",
    new_load_cost: ", ofwel {money}",
    load_shift: "Op {runs} van de {days} dagen draait er zo'n {minutes} minuten een groot apparaat van ongeveer {kw} kW, \
                 meestal aangezet tussen {from} en {until}. Zet je het voortaan rond {better} aan, dan bespaar je \
                 ongeveer {money} per jaar.",
    cheapest: "Met je verbruik van de afgelopen {days} dagen was “{cheapest}” ongeveer {money} per jaar goedkoper \
               geweest dan “{current}”.",
    peak: "Je capaciteitstarief hangt af van je pieken: vorige maand {basis} {peak} kW{latest}, {above} kW boven je \
           sluipverbruik. Meestal draaien er dan meerdere grote apparaten tegelijk. Beperk je je pieken tot ongeveer \
           {target} kW, dan bespaar je ongeveer {money} per jaar.",
    peak_quarter: "was je hoogste kwartier",
    peak_top3: "was het gemiddelde van je drie hoogste uren (op verschillende dagen)",
    peak_latest: " (de laatste op {when})",
    solar: "Je levert zo'n {kwh} kWh per jaar terug, vooral tussen {from} en {until}, en krijgt daar minder voor dan je \
            later voor stroom betaalt. Laat je je grote apparaten in die uren draaien, dan bespaar je ongeveer {money} \
            per jaar. (Hearth ziet alleen wat door de meter gaat en kan dus niet meten hoeveel zonnestroom je al zelf \
            gebruikt.)",
    unusual: "De afgelopen 7 dagen verbruikte je huis {kwh} kWh meer dan in een gewone week ({percent}% meer{cost}). \
              De grootste verschillen staan onder ‘Waarom’.",
    unusual_cost: "; {money} per jaar als dit zo doorgaat",
    since: "Sinds {date}",
    watts: "Ongeveer {watts} W",
    times: "Wanneer: {times}",
    times_separator: "; ",
    contract: "{name}: {money} per jaar",
    confidence: "(zekerheid {pct}%)",
    no_tips: "Geen tips: de gegevens laten nog niets zien dat het veranderen waard is.",
    need_contract: "Geef --tariff BESTAND op om te zien wat elke tip waard is (voorbeelden in assets/tariffs/).",
};

static DE: TipWords = TipWords {
    base_load: "Ihr Haushalt braucht nie weniger als etwa {watts} W, auch nachts nicht: rund {kwh} kWh{cost} im Jahr. \
                Diese Grundlast kommt von Geräten im Stand-by, dem Router, dem Kühlschrank und Pumpen.",
    base_load_cost: " bzw. {money}",
    new_load: "Seit dem {since} verbraucht etwas Tag und Nacht etwa {watts} W mehr: rund {kwh} kWh{cost} im Jahr. \
               Ist um diese Zeit ein Gerät dazugekommen, das ständig eingeschaltet bleibt?",
    new_load_cost: " bzw. {money}",
    load_shift: "An {runs} von {days} Tagen läuft ein großes Gerät mit etwa {kw} kW rund {minutes} Minuten lang \
                 und wird meist zwischen {from} und {until} Uhr eingeschaltet. Starten Sie es stattdessen gegen \
                 {better} Uhr, sparen Sie etwa {money} im Jahr.",
    cheapest: "Bei Ihrem Verbrauch der letzten {days} Tage wäre „{cheapest}“ etwa {money} im Jahr günstiger gewesen \
               als „{current}“.",
    peak: "Ihr Leistungspreis richtet sich nach Ihren Spitzen: Im letzten Monat {basis} bei {peak} kW{latest}, \
           {above} kW über Ihrer Grundlast. Meist laufen dann mehrere große Geräte gleichzeitig. Begrenzen Sie \
           Ihre Spitzen auf etwa {target} kW, sparen Sie etwa {money} im Jahr.",
    peak_quarter: "lag Ihre höchste Viertelstunde",
    peak_top3: "lag der Mittelwert Ihrer drei höchsten Stunden (an verschiedenen Tagen)",
    peak_latest: " (zuletzt am {when})",
    solar: "Sie speisen rund {kwh} kWh im Jahr ein, vor allem zwischen {from} und {until} Uhr, und bekommen dafür \
            weniger, als Sie später für Strom bezahlen. Lassen Sie Ihre großen Geräte stattdessen in diesen Stunden \
            laufen, sparen Sie etwa {money} im Jahr. (Hearth sieht nur, was über den Zähler fließt, und kann deshalb \
            nicht messen, wie viel Solarstrom Sie schon selbst nutzen.)",
    unusual: "In den letzten 7 Tagen hat Ihr Haushalt {kwh} kWh mehr verbraucht als in einer typischen Woche \
              ({percent} % mehr{cost}). Die größten Unterschiede stehen unter „Warum“.",
    unusual_cost: "; hochgerechnet {money} im Jahr",
    since: "Seit dem {date}",
    watts: "Etwa {watts} W",
    times: "Wann: {times}",
    times_separator: "; ",
    contract: "{name}: {money} im Jahr",
    confidence: "(Sicherheit {pct} %)",
    no_tips: "Keine Tipps: Die Daten zeigen noch nichts, was sich zu ändern lohnt.",
    need_contract: "Mit --tariff DATEI sehen Sie, was jeder Tipp wert ist (Beispiele in assets/tariffs/).",
};

static FR: TipWords = TipWords {
    base_load: "Votre logement ne consomme jamais moins d’environ {watts} W, même la nuit : environ {kwh} kWh par \
                an{cost}. Cette consommation permanente vient des appareils en veille, du routeur, du frigo et des \
                pompes.",
    base_load_cost: " ({money})",
    new_load: "Depuis le {since}, quelque chose consomme environ {watts} W de plus, jour et nuit : environ {kwh} kWh \
               par an{cost}. Un appareil est-il resté allumé en permanence depuis ce moment-là ?",
    new_load_cost: ", soit {money}",
    load_shift: "Un gros appareil d’environ {kw} kW tourne pendant environ {minutes} minutes {runs} jours sur {days}, \
                 en général lancé entre {from} et {until}. Le lancer plutôt vers {better} vous ferait économiser \
                 environ {money} par an.",
    cheapest: "Avec votre consommation des {days} derniers jours, « {cheapest} » vous aurait coûté environ {money} \
               de moins par an que « {current} ».",
    peak: "Votre tarif capacitaire dépend de vos pointes : le mois dernier, {basis} était de {peak} kW{latest}, soit \
           {above} kW au-dessus de votre consommation permanente ; en général, plusieurs gros appareils tournaient en \
           même temps. Limiter vos pointes à environ {target} kW vous ferait économiser environ {money} par an.",
    peak_quarter: "votre quart d’heure le plus élevé",
    peak_top3: "la moyenne de vos trois heures les plus élevées (sur des jours différents)",
    peak_latest: " (la dernière le {when})",
    solar: "Vous injectez environ {kwh} kWh par an, surtout entre {from} et {until}, et cette énergie vous rapporte \
            moins que ce que vous payez pour l’électricité plus tard. Faire tourner vos gros appareils pendant ces \
            heures-là vous ferait économiser environ {money} par an. (Hearth ne voit que ce qui passe par le \
            compteur : il ne peut donc pas mesurer l’énergie solaire que vous consommez déjà vous-même.)",
    unusual: "Ces 7 derniers jours, votre logement a consommé {kwh} kWh de plus qu’une semaine habituelle \
              ({percent} % de plus{cost}). Les plus grandes différences figurent sous « Pourquoi ».",
    unusual_cost: " ; {money} par an si cela continue",
    since: "Depuis le {date}",
    watts: "Environ {watts} W",
    times: "Quand : {times}",
    times_separator: " ; ",
    contract: "{name} : {money} par an",
    confidence: "(fiabilité {pct} %)",
    no_tips: "Aucun conseil : les données ne montrent encore rien qui vaille la peine d’être changé.",
    need_contract: "Ajoutez --tariff FICHIER pour voir ce que vaut chaque conseil (exemples dans assets/tariffs/).",
};

static NB: TipWords = TipWords {
    base_load: "Boligen din bruker aldri mindre enn rundt {watts} W, heller ikke om natten: omtrent {kwh} kWh i \
                året{cost}. Dette grunnforbruket kommer fra apparater i hvilemodus, ruteren, kjøleskapet og pumper.",
    base_load_cost: " ({money})",
    new_load: "Siden {since} har noe brukt rundt {watts} W mer, dag og natt: omtrent {kwh} kWh i året{cost}. \
               Kom det et apparat som alltid står på, rundt den tiden?",
    new_load_cost: ", altså {money}",
    load_shift: "På {runs} av {days} dager går et stort apparat på rundt {kw} kW i omtrent {minutes} minutter, som \
                 regel startet mellom {from} og {until}. Starter du det heller rundt {better}, sparer du omtrent \
                 {money} i året.",
    cheapest: "Med forbruket ditt de siste {days} dagene hadde «{cheapest}» kostet omtrent {money} mindre i året enn \
               «{current}».",
    peak: "Effektleddet i nettleien din følger toppene dine: forrige måned var {basis} {peak} kW{latest}, {above} kW \
           over grunnforbruket ditt. Som regel går da flere store apparater samtidig. Holder du toppene rundt \
           {target} kW, sparer du omtrent {money} i året.",
    peak_quarter: "ditt høyeste kvarter",
    peak_top3: "snittet av dine tre høyeste timer (på forskjellige dager)",
    peak_latest: " (sist {when})",
    solar: "Du leverer omtrent {kwh} kWh i året til nettet, mest mellom {from} og {until}, og får mindre for det enn \
            du betaler for strøm senere. Lar du de store apparatene dine gå i de timene, sparer du omtrent {money} i \
            året. (Hearth ser bare det som går gjennom måleren, og kan derfor ikke måle hvor mye solstrøm du allerede \
            bruker selv.)",
    unusual: "De siste 7 dagene brukte boligen din {kwh} kWh mer enn i en vanlig uke ({percent} % mer{cost}). \
              De største forskjellene står under «Hvorfor».",
    unusual_cost: "; {money} i året hvis det fortsetter",
    since: "Siden {date}",
    watts: "Omtrent {watts} W",
    times: "Når: {times}",
    times_separator: "; ",
    contract: "{name}: {money} i året",
    confidence: "(sikkerhet {pct} %)",
    no_tips: "Ingen tips: dataene viser ennå ikke noe som er verdt å endre.",
    need_contract: "Legg til --tariff FIL for å se hva hvert tips er verdt (eksempler i assets/tariffs/).",
};

static SV: TipWords = TipWords {
    base_load: "Ditt hem använder aldrig mindre än ungefär {watts} W, inte ens på natten: omkring {kwh} kWh per \
                år{cost}. Den här baslasten kommer från apparater i viloläge, routern, kylskåpet och pumpar.",
    base_load_cost: " ({money})",
    new_load: "Sedan {since} drar något ungefär {watts} W mer, dygnet runt: omkring {kwh} kWh per år{cost}. \
               Tillkom det en apparat som alltid är på vid den tiden?",
    new_load_cost: ", alltså {money}",
    load_shift: "Under {runs} av {days} dagar går en stor apparat på ungefär {kw} kW i omkring {minutes} minuter, \
                 oftast startad mellan {from} och {until}. Startar du den i stället runt {better} sparar du ungefär \
                 {money} per år.",
    cheapest: "Med din förbrukning de senaste {days} dagarna hade ”{cheapest}” kostat ungefär {money} mindre per år \
               än ”{current}”.",
    peak: "Din effektavgift beror på dina toppar: förra månaden var {basis} {peak} kW{latest}, {above} kW över din \
           baslast. Oftast går då flera stora apparater samtidigt. Håller du topparna till ungefär {target} kW \
           sparar du ungefär {money} per år.",
    peak_quarter: "din högsta kvart",
    peak_top3: "medelvärdet av dina tre högsta timmar (olika dagar)",
    peak_latest: " (senast {when})",
    solar: "Du matar ut ungefär {kwh} kWh per år till elnätet, mest mellan {from} och {until}, och får mindre betalt \
            för det än du betalar för el senare. Kör du dina stora apparater under de timmarna i stället sparar du \
            ungefär {money} per år. (Hearth ser bara det som passerar elmätaren och kan därför inte mäta hur mycket \
            solel du redan använder själv.)",
    unusual: "De senaste 7 dagarna använde ditt hem {kwh} kWh mer än en vanlig vecka ({percent} % mer{cost}). \
              De största skillnaderna står under ”Varför”.",
    unusual_cost: "; {money} per år om det fortsätter",
    since: "Sedan {date}",
    watts: "Ungefär {watts} W",
    times: "När: {times}",
    times_separator: "; ",
    contract: "{name}: {money} per år",
    confidence: "(säkerhet {pct} %)",
    no_tips: "Inga tips: uppgifterna visar ännu inget som är värt att ändra.",
    need_contract: "Lägg till --tariff FIL för att se vad varje tips är värt (exempel i assets/tariffs/).",
};

static DA: TipWords = TipWords {
    base_load: "Dit hjem bruger aldrig mindre end omkring {watts} W, heller ikke om natten: cirka {kwh} kWh om \
                året{cost}. Dette grundforbrug kommer fra apparater på standby, routeren, køleskabet og pumper.",
    base_load_cost: " ({money})",
    new_load: "Siden {since} har noget brugt omkring {watts} W mere, dag og nat: cirka {kwh} kWh om året{cost}. \
               Kom der et apparat, som altid er tændt, omkring det tidspunkt?",
    new_load_cost: ", altså {money}",
    load_shift: "På {runs} af {days} dage kører et stort apparat på omkring {kw} kW i cirka {minutes} minutter, som \
                 regel startet mellem kl. {from} og {until}. Starter du det i stedet omkring kl. {better}, sparer du \
                 cirka {money} om året.",
    cheapest: "Med dit forbrug de seneste {days} dage ville »{cheapest}« have kostet cirka {money} mindre om året end \
               »{current}«.",
    peak: "Din effektbetaling afhænger af dine spidser: sidste måned var {basis} {peak} kW{latest}, {above} kW over \
           dit grundforbrug. Som regel kører flere store apparater så på samme tid. Holder du spidserne på omkring \
           {target} kW, sparer du cirka {money} om året.",
    peak_quarter: "dit højeste kvarter",
    peak_top3: "gennemsnittet af dine tre højeste timer (på forskellige dage)",
    peak_latest: " (senest {when})",
    solar: "Du sender omkring {kwh} kWh om året ud på nettet, mest mellem kl. {from} og {until}, og får mindre for \
            det, end du betaler for strøm senere. Kører du dine store apparater i de timer i stedet, sparer du cirka \
            {money} om året. (Hearth ser kun det, der går gennem elmåleren, og kan derfor ikke måle, hvor meget \
            solstrøm du allerede selv bruger.)",
    unusual: "De seneste 7 dage brugte dit hjem {kwh} kWh mere end i en almindelig uge ({percent} % mere{cost}). \
              De største forskelle står under »Hvorfor«.",
    unusual_cost: "; {money} om året, hvis det fortsætter",
    since: "Siden {date}",
    watts: "Omkring {watts} W",
    times: "Hvornår: {times}",
    times_separator: "; ",
    contract: "{name}: {money} om året",
    confidence: "(sikkerhed {pct} %)",
    no_tips: "Ingen tips: dataene viser endnu intet, der er værd at ændre.",
    need_contract: "Tilføj --tariff FIL for at se, hvad hvert tip er værd (eksempler i assets/tariffs/).",
};

static FI: TipWords = TipWords {
    base_load: "Kotisi ei koskaan kuluta alle noin {watts} W, ei edes yöllä: noin {kwh} kWh vuodessa{cost}. Tämä \
                jatkuva peruskulutus tulee valmiustilassa olevista laitteista, reitittimestä, jääkaapista ja pumpuista.",
    base_load_cost: " ({money})",
    new_load: "{since} alkaen jokin on kuluttanut noin {watts} W enemmän, yötä päivää: noin {kwh} kWh \
               vuodessa{cost}. Tuliko silloin käyttöön laite, joka on aina päällä?",
    new_load_cost: " eli {money}",
    load_shift: "Noin {kw} kW:n suuri laite on käynyt noin {minutes} minuuttia {runs} päivänä {days} päivästä, \
                 yleensä käynnistettynä kello {from}–{until}. Jos käynnistät sen sen sijaan noin kello {better}, \
                 säästät noin {money} vuodessa.",
    cheapest: "Viimeisten {days} päivän kulutuksellasi ”{cheapest}” olisi maksanut noin {money} vuodessa vähemmän \
               kuin ”{current}”.",
    peak: "Tehomaksusi määräytyy kulutushuippujesi mukaan: viime kuussa {basis} oli {peak} kW{latest}, {above} kW \
           yli jatkuvan peruskulutuksesi. Silloin käy yleensä useita suuria laitteita yhtä aikaa. Jos pidät huiput \
           noin {target} kW:ssa, säästät noin {money} vuodessa.",
    peak_quarter: "suurin varttisi",
    peak_top3: "kolmen suurimman tuntisi keskiarvo (eri päivinä)",
    peak_latest: " (viimeksi {when})",
    solar: "Syötät verkkoon noin {kwh} kWh vuodessa, enimmäkseen kello {from}–{until}, ja saat siitä vähemmän kuin \
            maksat sähköstä myöhemmin. Jos käytät suuria laitteitasi noina tunteina, säästät noin {money} vuodessa. \
            (Hearth näkee vain sen, mikä kulkee sähkömittarin läpi, joten se ei voi mitata, kuinka paljon \
            aurinkosähköä jo käytät itse.)",
    unusual: "Viimeisten 7 päivän aikana kotisi kulutti {kwh} kWh enemmän kuin tavallisena viikkona ({percent} % \
              enemmän{cost}). Suurimmat erot näkyvät kohdassa ”Miksi”.",
    unusual_cost: "; {money} vuodessa, jos sama jatkuu",
    since: "{date} alkaen",
    watts: "Noin {watts} W",
    times: "Milloin: {times}",
    times_separator: "; ",
    contract: "{name}: {money} vuodessa",
    confidence: "(varmuus {pct} %)",
    no_tips: "Ei vinkkejä: tiedot eivät vielä näytä mitään, mitä kannattaisi muuttaa.",
    need_contract: "Lisää --tariff TIEDOSTO nähdäksesi, mitä kukin vinkki on arvoinen (esimerkit kansiossa \
                    assets/tariffs/).",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_template_with_english_placeholders() {
        let en = Lang::En.tip_words().all();
        for lang in Lang::ALL {
            let words = lang.tip_words();
            assert!(!words.times_separator.is_empty(), "{lang:?}");
            for ((name, text), (_, english)) in words.all().into_iter().zip(en) {
                assert!(!text.trim().is_empty(), "{lang:?} {name} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(english),
                    "{lang:?} {name}: {text}"
                );
                assert!(!text.contains("  "), "{lang:?} {name} has a double space");
            }
        }
        // The reference has the placeholders each field's comment names.
        assert_eq!(
            placeholders(EN.load_shift),
            [
                "better", "days", "from", "kw", "minutes", "money", "runs", "until"
            ]
        );
        assert_eq!(placeholders(EN.peak_quarter), Vec::<&str>::new());
    }

    #[test]
    fn filling_is_one_pass() {
        assert_eq!(
            fill(
                "{name}: {money} a year",
                &[("name", "My {money} plan"), ("money", "€5")]
            ),
            "My {money} plan: €5 a year"
        );
        assert_eq!(fill("{unknown} {x", &[("x", "1")]), "{unknown} {x");
        assert_eq!(fill("a{b}c", &[("b", "")]), "ac");
    }
}
