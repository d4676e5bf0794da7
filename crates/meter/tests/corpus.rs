//! The corpus (issue 19, item 5): every capture in `tests/fixtures/`, of every protocol, decoded
//! as `hearth decode FILE` decodes it, against the expectation beside it (`NAME.EXT.expect.json`):
//! each frame's reading (every quantity as its exact fixed-point text, times, the meter id
//! masked to its last four characters), its implausible fields and other diagnostics, each
//! rejection with its reason, and the decoder's counts.
//!
//! In the spirit of rust-analyzer's `check()` tests: `UPDATE_EXPECT=1 cargo test -p
//! hearth-meter --test corpus` (re)writes the expectations, to be reviewed in the diff before
//! committing; otherwise a mismatch fails with a line diff naming the capture, its meter and
//! its country. Adding a meter is one capture plus one generated-and-reviewed expectation (see
//! `tests/fixtures/README.md`). A capture without an expectation fails, as does an expectation
//! whose capture is gone.

use hearth_meter::auto::{self, AuthKey, AutoDecoder, Keys};
use hearth_meter::glo::Key;
use hearth_meter::supplier::{self, Flow, IntervalSet};
use hearth_meter::{Decoded, Decoder, MeterId, Protocol, Quantity, Reading, RejectReason};
use hearth_meter::{Rejection, Stats};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The suffix of an expectation file: `aidon_no_list_1.hdlc.expect.json` is the expectation of
/// `aidon_no_list_1.hdlc` (the whole file name, so two captures never share one).
const EXPECT: &str = ".expect.json";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Files in the fixtures that are not captures: provenance notes, another decoder's reference
/// values, keys, and the expectations themselves.
fn is_capture(name: &str) -> bool {
    !(name.ends_with(".md")
        || name == "FILES"
        || name.ends_with(".reference.json")
        || name.ends_with(EXPECT)
        || name.ends_with(".keys")
        || name.starts_with('.'))
}

/// One capture: its folder under `tests/fixtures/` and its file name.
struct Capture {
    path: PathBuf,
    /// Folder and file name, `/`-separated (`han/aidon_no_list_1.hdlc`).
    rel: String,
    folder: String,
    name: String,
}

impl Capture {
    fn expect_path(&self) -> PathBuf {
        self.path.with_file_name(format!("{}{EXPECT}", self.name))
    }

    /// The file name without its extensions (`kaifa_no_list_2` for `kaifa_no_list_2.gcm.hdlc`).
    fn stem(&self) -> &str {
        self.name.split('.').next().unwrap_or(&self.name)
    }

    /// How a regression is named: the meter and the country, then the file.
    fn label(&self) -> String {
        format!(
            "{} ({}) [{}]",
            meter(&self.folder, self.stem()),
            country(&self.folder, self.stem()),
            self.rel
        )
    }
}

/// Every capture under `tests/fixtures/`, in any folder, sorted by path.
fn captures() -> Vec<Capture> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = fixtures();
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut out: Vec<Capture> = files
        .into_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_str()?
                .replace('\\', "/");
            let (folder, name) = rel.rsplit_once('/').unwrap_or(("", &rel));
            let (folder, name) = (folder.to_owned(), name.to_owned());
            is_capture(&name).then_some(Capture {
                path,
                rel,
                folder,
                name,
            })
        })
        .collect();
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// The meter a capture comes from, from its file name (where the name is only a format
/// version, the meter named in the capture's identification line).
fn meter(folder: &str, stem: &str) -> String {
    let named = match (folder, stem) {
        ("dsmr", "v2_2") => "Iskra MT382, DSMR 2.2",
        ("dsmr", "v3") => "Iskra MT382, DSMR 3",
        ("dsmr", "v4_2") => "Kaifa, DSMR 4.2",
        ("dsmr", "v5") => "Iskra MT382, DSMR 5",
        ("dsmr", "v5_two_mbus") => "Iskra AM550, DSMR 5 with two M-Bus devices",
        ("dsmr", "v5_eon_hu") => "Sagemcom, E.ON DSMR 5",
        ("dsmr", "unpadded_crc") => "heat meter (Warmtelink), unpadded CRC",
        ("dsmr", "amshan_a_landisgyr_360" | "amshan_d_landisgyr_360") => "Landis+Gyr E360",
        ("dsmr", "amshan_b") => "XMX5 (published without its CRC)",
        ("dsmr", "amshan_c") => "Sagemcom ELL5",
        ("dsmr", "amshan_kamstrup") => "Kamstrup",
        ("dsmr", "fluvius_v171" | "fluvius_v171_alt") => "Fluvius eMUCS 1.7.1",
        ("dsmr", "sagemcom_t210_d_r") => "Sagemcom T210-D-r",
        ("dsmr", "iskra_ie") => "Iskra IE",
        ("dsmr", s) if s.starts_with("esy5q3d") => "EasyMeter Q3D",
        ("glow", _) => "Glow (Hildebrand) CAD",
        ("raven", _) => "Rainforest RAVEn / EMU-2",
        _ => "",
    };
    if named.is_empty() {
        stem.replace('_', " ")
    } else {
        format!("{named}: {}", stem.replace('_', " "))
    }
}

/// The country a capture comes from: a country code or name among the words of its file name
/// (`kamstrup_no_list_1` is Norwegian, `iskra_am550_si_…` Slovenian), else the folder's.
fn country(folder: &str, stem: &str) -> &'static str {
    const WORDS: [(&str, &str); 24] = [
        ("no", "Norway"),
        ("se", "Sweden"),
        ("dk", "Denmark"),
        ("fi", "Finland"),
        ("at", "Austria"),
        ("austria", "Austria"),
        ("ch", "Switzerland"),
        ("si", "Slovenia"),
        ("hr", "Croatia"),
        ("pl", "Poland"),
        ("lt", "Lithuania"),
        ("hu", "Hungary"),
        ("ie", "Ireland"),
        ("nl", "Netherlands"),
        ("be", "Belgium"),
        ("fluvius", "Belgium"),
        ("lu", "Luxembourg"),
        ("de", "Germany"),
        ("es", "Spain"),
        ("fr", "France"),
        ("uk", "United Kingdom"),
        ("gb", "United Kingdom"),
        ("us", "United States"),
        ("gba", "United States"),
    ];
    let lower = stem.to_ascii_lowercase();
    for word in lower.split(['_', '-', '.']) {
        if let Some((_, c)) = WORDS.iter().find(|(w, _)| *w == word) {
            return c;
        }
    }
    match (folder, lower.as_str()) {
        ("dsmr", "sagemcom_t210_d_r") => "Luxembourg",
        ("dsmr", "amshan_b") => "Austria",
        ("dsmr", s) if s.starts_with("amshan_") => "Sweden",
        ("dsmr", s) if s.starts_with("esy5q3d") => "Germany",
        ("dsmr", _) => "Netherlands",
        ("sml", _) => "Germany",
        ("raven", _) => "United States",
        ("glow" | "supplier", _) => "United Kingdom",
        _ => "country unknown",
    }
}

/// How the captures of a folder are read: as `hearth decode` does by default (auto-detection,
/// with the keys beside the capture), with the protocol named (`--protocol`) for the formats
/// auto-detection does not claim, or as a supplier download.
#[derive(Clone, Copy, Debug)]
enum Via {
    Auto,
    Protocol(Protocol),
    Supplier,
}

fn via(folder: &str) -> Via {
    match folder.split('/').next().unwrap_or(folder) {
        "sml" => Via::Protocol(Protocol::Sml),
        "raven" => Via::Protocol(Protocol::Raven),
        "glow" => Via::Protocol(Protocol::Glow),
        "iec62056_21" => Via::Protocol(Protocol::Iec62056_21),
        "supplier" => Via::Supplier,
        _ => Via::Auto,
    }
}

/// The keys beside a capture: `NAME.keys` for `NAME.EXT`, or for a shorter name cut at a dot
/// (`kaifa_no_list_2.gcm.keys` for `kaifa_no_list_2.gcm.hdlc` and for
/// `kaifa_no_list_2.gcm.apdu.hex`), lines `encryption_key = HEX` and optionally
/// `authentication_key = HEX`.
fn keys_beside(c: &Capture) -> Option<Keys> {
    let text = c
        .name
        .match_indices('.')
        .map(|(i, _)| &c.name[..i])
        .rev()
        .find_map(|base| {
            std::fs::read_to_string(c.path.with_file_name(format!("{base}.keys"))).ok()
        })?;
    let get = |k: &str| {
        let line = text.lines().find(|l| l.trim_start().starts_with(k))?;
        Some(Key::from_hex(line.split_once('=')?.1.trim()).expect("a key of 32 hex digits"))
    };
    Some(Keys {
        key: get("encryption_key")?,
        auth_key: get("authentication_key").map_or(AuthKey::Skip, AuthKey::Key),
    })
}

/// A JSON string literal.
fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Splits a flat JSON object's text into its top-level members (`"k":v`), nested values
/// (the extras) kept whole.
fn members(object: &str) -> Vec<&str> {
    let inner = &object[1..object.len() - 1];
    let (mut out, mut depth, mut in_str, mut escaped, mut start) = (Vec::new(), 0, false, false, 0);
    for (i, ch) in inner.char_indices() {
        if in_str {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        out.push(&inner[start..]);
    }
    out
}

/// What a capture gave, written as its expectation.
#[derive(Default)]
struct Sweep {
    out: String,
    /// Every meter id seen, masked throughout the text at the end.
    ids: Vec<String>,
}

impl Sweep {
    fn reading(&mut self, r: &Reading, indent: &str) {
        let mut r = r.clone();
        if let Some(id) = r.meter_id.take() {
            if !self.ids.iter().any(|s| s == id.as_str()) {
                self.ids.push(id.as_str().to_owned());
            }
            r.meter_id = Some(MeterId::new(id.redacted()));
        }
        let json = r.to_json();
        let fields = members(&json);
        let _ = writeln!(self.out, "{indent}\"reading\": {{");
        for (i, m) in fields.iter().enumerate() {
            let comma = if i + 1 < fields.len() { "," } else { "" };
            // `"key":value` as `hearth decode` writes it, with a space for the reader.
            let m = m.replacen("\":", "\": ", 1);
            let _ = writeln!(self.out, "{indent}  {m}{comma}");
        }
        let _ = write!(self.out, "{indent}}}");
    }

    fn list(&mut self, key: &str, items: &[String], indent: &str) {
        let _ = write!(self.out, ",\n{indent}{}: [", js(key));
        for (i, item) in items.iter().enumerate() {
            let comma = if i + 1 < items.len() { "," } else { "" };
            let _ = write!(self.out, "\n{indent}  {}{comma}", js(item));
        }
        let _ = write!(self.out, "\n{indent}]");
    }

    fn decoded(&mut self, d: &Decoded) {
        let _ = writeln!(self.out, "    {{");
        self.reading(&d.reading, "      ");
        let (implausible, other): (Vec<_>, Vec<_>) = d
            .diagnostics
            .iter()
            .partition(|x| x.line == 0 && x.message.contains(" dropped: "));
        if !implausible.is_empty() {
            let items: Vec<String> = implausible.iter().map(|x| x.message.clone()).collect();
            self.list("implausible", &items, "      ");
        }
        if !other.is_empty() {
            let items: Vec<String> = other
                .iter()
                .map(|x| format!("line {} {}: {}", x.line, x.code, x.message))
                .collect();
            self.list("diagnostics", &items, "      ");
        }
        let _ = write!(self.out, "\n    }}");
    }

    fn rejected(&mut self, r: &Rejection) {
        let _ = write!(
            self.out,
            "    {{\n      \"rejected\": {},\n      \"detail\": {}\n    }}",
            js(r.reason.name()),
            js(&r.detail)
        );
    }

    fn stats(&mut self, s: &Stats) {
        let rejected: Vec<String> = RejectReason::ALL
            .iter()
            .filter(|r| s.rejected_for(**r) > 0)
            .map(|r| format!("{}: {}", js(r.name()), s.rejected_for(*r)))
            .collect();
        let _ = write!(
            self.out,
            "  \"stats\": {{\n    \"accepted\": {},\n    \"rejected\": {{{}}},\n    \
             \"skipped_bytes\": {},\n    \"implausible\": {}\n  }}",
            s.accepted,
            rejected.join(", "),
            s.skipped_bytes,
            s.implausible
        );
    }

    /// The text, every meter id masked to its last four characters wherever it appears.
    fn finish(mut self) -> String {
        self.ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
        for id in &self.ids {
            if id.chars().count() > 4 {
                self.out = self
                    .out
                    .replace(id.as_str(), &MeterId::new(id.as_str()).redacted());
            }
        }
        self.out
    }
}

/// A capture decoded as the CLI decodes it, written as its expectation.
fn render(c: &Capture) -> String {
    render_split(c, usize::MAX)
}

/// [`render`], the capture pushed `chunk` bytes at a time.
fn render_split(c: &Capture, chunk: usize) -> String {
    let bytes = std::fs::read(&c.path).unwrap();
    let how = via(&c.folder);
    let mut s = Sweep::default();
    let _ = write!(
        s.out,
        "{{\n  \"capture\": {},\n  \"meter\": {},\n  \"country\": {},\n",
        js(&c.rel),
        js(&meter(&c.folder, c.stem())),
        js(country(&c.folder, c.stem())),
    );
    match how {
        Via::Supplier => supplier_download(c, &bytes, &mut s),
        Via::Auto | Via::Protocol(_) => {
            let keys = keys_beside(c);
            let (said, mut dec): (String, Box<dyn Decoder>) = match how {
                Via::Protocol(p) => (
                    format!("--protocol {}", p.name()),
                    auto::decoder(p, keys.as_ref()).unwrap(),
                ),
                _ => (
                    "auto-detected".to_owned(),
                    Box::new(keys.map_or_else(AutoDecoder::new, AutoDecoder::with_keys)),
                ),
            };
            let keyed = if keys.is_some() {
                ", with its keys"
            } else {
                ""
            };
            let _ = write!(
                s.out,
                "  \"decoded\": {},\n  \"frames\": [",
                js(&format!("{said}{keyed}"))
            );
            let mut out: Vec<_> = Vec::new();
            for piece in bytes.chunks(chunk.min(bytes.len().max(1))) {
                dec.push(piece);
                out.extend(std::iter::from_fn(|| dec.next()));
            }
            out.extend(std::iter::from_fn(|| dec.finish()));
            for (i, frame) in out.iter().enumerate() {
                s.out.push_str(if i == 0 { "\n" } else { ",\n" });
                match frame {
                    Ok(d) => s.decoded(d),
                    Err(r) => s.rejected(r),
                }
            }
            s.out
                .push_str(if out.is_empty() { "],\n" } else { "\n  ],\n" });
            s.stats(dec.stats());
        }
    }
    s.out.push_str("\n}\n");
    s.finish()
}

/// A supplier download (`.csv`, or Green Button `.xml` with both flows), read as `hearth
/// import` reads it: times without an offset in UK wall time.
fn supplier_download(c: &Capture, bytes: &[u8], s: &mut Sweep) {
    let london = supplier::london();
    let flows: &[(Flow, Quantity, &str)] = if c.name.ends_with(".xml") {
        &[
            (
                Flow::Forward,
                Quantity::IntervalImportWh,
                "green button, forward flow",
            ),
            (
                Flow::Reverse,
                Quantity::IntervalExportWh,
                "green button, reverse flow",
            ),
        ]
    } else {
        &[(
            Flow::Forward,
            Quantity::IntervalImportWh,
            "csv, UK wall time",
        )]
    };
    let _ = write!(
        s.out,
        "  \"decoded\": \"supplier download\",\n  \"flows\": ["
    );
    for (n, (flow, quantity, said)) in flows.iter().enumerate() {
        let mut set = IntervalSet::new();
        let summary = if c.name.ends_with(".xml") {
            supplier::read_green_button(bytes, *flow, &mut set)
        } else {
            supplier::read_csv(bytes, &london, &mut set)
        };
        s.out.push_str(if n == 0 { "\n" } else { ",\n" });
        let _ = write!(s.out, "    {{\n      \"read\": {},\n", js(said));
        match summary {
            Err(e) => {
                let _ = write!(s.out, "      \"refused\": {}\n    }}", js(&e.to_string()));
                continue;
            }
            Ok(sum) => {
                let _ = writeln!(
                    s.out,
                    "      \"summary\": {{\"rows\": {}, \"added\": {}, \"duplicates\": {}, \
                     \"conflicts\": {}, \"skipped\": {}, \"implausible\": {}}},",
                    sum.rows,
                    sum.added,
                    sum.duplicates,
                    sum.conflicts,
                    sum.skipped,
                    sum.implausible
                );
            }
        }
        let diagnostics: Vec<String> = set
            .diagnostics
            .iter()
            .map(|x| format!("line {} {}: {}", x.line, x.code, x.message))
            .collect();
        let _ = write!(s.out, "      \"readings\": [");
        let readings = set.readings(*quantity, &london);
        for (i, r) in readings.iter().enumerate() {
            s.out.push_str(if i == 0 {
                "\n        {\n"
            } else {
                ",\n        {\n"
            });
            s.reading(r, "          ");
            s.out.push_str("\n        }");
        }
        s.out.push_str(if readings.is_empty() {
            "]"
        } else {
            "\n      ]"
        });
        if !diagnostics.is_empty() {
            s.list("diagnostics", &diagnostics, "      ");
        }
        s.out.push_str("\n    }");
    }
    s.out.push_str("\n  ]");
}

/// A line diff of `want` (the expectation) against `got` (what the capture decodes to now):
/// the common head and tail trimmed, the rest matched line by line (longest common
/// subsequence), shown with two lines of context and at most `MAX` changed lines.
fn diff(want: &str, got: &str) -> String {
    const MAX: usize = 60;
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    // (tag, line) for the middle part: ' ' both, '-' expected only, '+' got only.
    let mut ops: Vec<(char, &str)> = Vec::new();
    if am.len() * bm.len() <= 4_000_000 {
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push((' ', am[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                ops.push(('-', am[i]));
                i += 1;
            } else {
                ops.push(('+', bm[j]));
                j += 1;
            }
        }
    } else {
        ops.extend(am.iter().map(|l| ('-', *l)));
        ops.extend(bm.iter().map(|l| ('+', *l)));
    }
    let mut out = String::new();
    let from = head.saturating_sub(2);
    for (k, line) in a[from..head].iter().enumerate() {
        let _ = writeln!(out, "  {:>5}   {line}", from + k + 1);
    }
    let mut changed = 0;
    let mut line_no = head;
    let mut last_shown = true;
    for (k, (tag, line)) in ops.iter().enumerate() {
        let near = ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(t, _)| *t != ' ');
        if *tag != ' ' {
            changed += 1;
        }
        if changed > MAX {
            let _ = writeln!(out, "  … more differences left out");
            break;
        }
        if *tag == ' ' && !near {
            if last_shown {
                let _ = writeln!(out, "  …");
            }
            last_shown = false;
        } else {
            let shown_no = if *tag == '+' {
                String::new()
            } else {
                (line_no + 1).to_string()
            };
            let _ = writeln!(out, "{tag} {shown_no:>5}   {line}");
            last_shown = true;
        }
        if *tag != '+' {
            line_no += 1;
        }
    }
    for (k, line) in a[a.len() - tail..].iter().take(2).enumerate() {
        let _ = writeln!(out, "  {:>5}   {line}", a.len() - tail + k + 1);
    }
    out
}

/// Every capture in the fixtures decodes exactly as its expectation says.
#[test]
fn every_capture_decodes_as_its_expectation_says() {
    let update = updating();
    let all = captures();
    let mut failures = Vec::new();
    let mut written = Vec::new();
    for c in &all {
        let got = render(c);
        // The expectation is JSON (a reviewer's tools can read it) and shows no meter id in full.
        serde_json::from_str::<serde_json::Value>(&got)
            .unwrap_or_else(|e| panic!("{}: the expectation written is not JSON: {e}", c.label()));
        let path = c.expect_path();
        let want = std::fs::read_to_string(&path).ok();
        if want.as_deref() == Some(got.as_str()) {
            continue;
        }
        if update {
            std::fs::write(&path, &got).unwrap();
            written.push(c.rel.clone());
            continue;
        }
        failures.push(match want {
            None => format!(
                "{}: no expectation: run with UPDATE_EXPECT=1 and review {}",
                c.label(),
                path.strip_prefix(fixtures()).unwrap().display()
            ),
            Some(want) => format!(
                "{}: decodes differently from its expectation (- expected, + now); if the new \
                 numbers are right, run with UPDATE_EXPECT=1 and review the diff\n{}",
                c.label(),
                diff(&want, &got)
            ),
        });
    }
    if !written.is_empty() {
        eprintln!(
            "UPDATE_EXPECT: wrote {} expectation(s), review them:",
            written.len()
        );
        for w in &written {
            eprintln!("  {w}{EXPECT}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ from their expectations:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

/// An expectation without its capture (renamed or removed) is reported, not left behind.
#[test]
fn every_expectation_has_its_capture() {
    let captures: Vec<PathBuf> = captures().iter().map(Capture::expect_path).collect();
    let mut orphans = Vec::new();
    let mut dirs = vec![fixtures()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_str().is_some_and(|s| s.ends_with(EXPECT)) && !captures.contains(&p) {
                orphans.push(p.strip_prefix(fixtures()).unwrap().display().to_string());
            }
        }
    }
    orphans.sort();
    assert!(
        orphans.is_empty(),
        "expectations whose capture is gone (delete them): {orphans:?}"
    );
}

/// The sweep reaches every protocol's folder, and each capture is named after a meter and a
/// country.
#[test]
fn the_corpus_covers_every_protocol_and_names_each_meter() {
    let all = captures();
    for folder in ["dsmr", "han", "sml", "raven", "glow", "supplier"] {
        assert!(
            all.iter().any(|c| c.folder == folder),
            "no capture in fixtures/{folder}"
        );
    }
    assert!(all.len() >= 80, "{} captures", all.len());
    assert_eq!(
        captures()
            .iter()
            .find(|c| c.rel == "han/kamstrup_no_list_1_three_phase.hdlc")
            .map(Capture::label)
            .as_deref(),
        Some("kamstrup no list 1 three phase (Norway) [han/kamstrup_no_list_1_three_phase.hdlc]")
    );
    assert_eq!(country("dsmr", "sagemcom_t210_d_r"), "Luxembourg");
    assert_eq!(country("han", "iskra_am550_si_elektro_celje"), "Slovenia");
    assert_eq!(country("sml", "ISKRA_MT175_eHZ"), "Germany");
    assert_eq!(country("dlms", "e450_gbt"), "country unknown");
}

#[test]
fn the_diff_shows_what_changed_with_its_line() {
    let want = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}\n";
    let got = "{\n  \"a\": 1,\n  \"b\": 20,\n  \"c\": 3\n}\n";
    assert_eq!(
        diff(want, got),
        "      1   {\n      2     \"a\": 1,\n-     3     \"b\": 2,\n+           \"b\": 20,\n      \
         4     \"c\": 3\n      5   }\n"
    );
}

/// Every capture gives the same frames (readings, diagnostics, rejections) and the same counts
/// whether it arrives whole or a byte, seven bytes or a serial buffer at a time. (Glow once
/// counted the newline after a line it took as complete at its closing brace as a skipped
/// byte when that newline came in a later push.)
#[test]
fn every_capture_decodes_the_same_however_it_is_split() {
    let frames = |text: &str| text.to_owned();
    for c in &captures() {
        if matches!(via(&c.folder), Via::Supplier) {
            continue;
        }
        let whole = frames(&render(c));
        for chunk in [1, 7, 4096] {
            let split = frames(&render_split(c, chunk));
            assert!(
                split == whole,
                "{}: fed {chunk} byte(s) at a time, it decodes differently (- whole, + split):\n{}",
                c.label(),
                diff(&whole, &split)
            );
        }
    }
}
