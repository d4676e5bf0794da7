//! `ui/src/dto.ts` is generated from the Rust DTOs (ts-rs) and must not drift: this test builds
//! the whole file from the types the shell sends to its window and compares it with the file on
//! disk. With `HEARTH_WRITE_DTO_TS=1` it rewrites the file instead.
//!
//! serde's renames are followed (ts-rs `serde-compat`). A field the JSON may leave out must say
//! so to ts-rs too: ts-rs makes it optional (`name?:`) only for
//! `#[serde(default, skip_serializing_if = "...")]` or `#[ts(optional)]`, not for
//! `skip_serializing_if` alone.

use hearth_desktop::dto::{
    AppInfoDto, ContractCostDto, ContractDto, CostReportDto, DroppedDto, DurationPointDto,
    ExportDto, ExportProgressDto, HistoryDto, HistoryRowDto, LiveDto, PhaseDto, PreferencesDto,
    SaveChoiceDto, StatusDto, TipDto, TookInDto,
};
use hearth_desktop::dto::{BackupDto, ImportDto, OpenChoiceDto, RestoreDto, VerifyDto};
use hearth_desktop::dto::{FoundPortDto, PreviewDto, ProbeStepDto};
use hearth_desktop::dto::{MergedDto, MergedFileDto};
use std::collections::BTreeSet;
use std::path::PathBuf;
use ts_rs::{Config, TS, TypeVisitor};

/// Set to `1` to rewrite `ui/src/dto.ts` from the Rust types instead of checking it.
const WRITE_VAR: &str = "HEARTH_WRITE_DTO_TS";

/// The file's opening comment: what it is and how to regenerate it.
const HEADER: &str = "\
// Generated from the Rust DTOs (src-tauri/src/dto.rs and the hearth-app types it re-exports) by
// src-tauri/tests/dto_ts.rs; do not edit by hand. After changing a DTO, regenerate with
//   HEARTH_WRITE_DTO_TS=1 cargo test -p hearth-desktop --test dto_ts
";

/// How Rust types map to TypeScript. serde_json writes `i64`/`u64` as plain JSON numbers, which
/// the window parses as `number` (not `bigint`, ts-rs's default for 64-bit integers).
fn config() -> Config {
    Config::default().with_large_int("number")
}

/// One declaration: its name, the names of the declared types it refers to, and its text.
struct Declaration {
    name: String,
    depends_on: Vec<String>,
    text: String,
}

/// Collects the TypeScript names of the declared types a declaration refers to.
struct Dependencies<'a> {
    cfg: &'a Config,
    names: Vec<String>,
}

impl TypeVisitor for Dependencies<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives (`string`, `number`, ...) have no declaration of their own.
        if T::output_path().is_some() {
            self.names.push(T::ident(self.cfg));
        }
    }
}

/// `export type Name = { ... };` for `T`, its doc comment and each field's on their own lines.
fn declaration<T: TS + 'static>(cfg: &Config) -> Declaration {
    let mut deps = Dependencies {
        cfg,
        names: Vec::new(),
    };
    T::visit_dependencies(&mut deps);
    let name = T::ident(cfg);
    let decl = T::decl(cfg);
    let prefix = format!("type {name} = {{");
    let body = decl
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("};"))
        .unwrap_or_else(|| panic!("{name} is not declared as an object type: {decl}"));

    let mut text = String::new();
    if let Some(docs) = T::docs() {
        text.push_str(&doc_comment(&docs, ""));
    }
    text.push_str(&format!("export type {name} = {{\n"));
    for member in members(body) {
        let (docs, field) = match member.rfind("*/") {
            Some(end) => (Some(&member[..end + 2]), member[end + 2..].trim()),
            None => (None, member.trim()),
        };
        if let Some(docs) = docs {
            text.push_str(&doc_comment(docs, "  "));
        }
        text.push_str(&format!("  {field};\n"));
    }
    text.push_str("};\n");
    Declaration {
        name,
        depends_on: deps.names,
        text,
    }
}

/// Splits an object type's body at the commas that end its members (not those inside a tuple,
/// a generic, a string literal or a doc comment).
fn members(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut depth, mut in_string, mut in_comment) = (0usize, false, false);
    let chars: Vec<char> = body.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_comment {
            in_comment = !(c == '/' && i > 0 && chars[i - 1] == '*');
        } else if in_string {
            in_string = c != '"';
        } else {
            match c {
                '/' if chars.get(i + 1) == Some(&'*') => in_comment = true,
                '"' => in_string = true,
                '[' | '(' | '{' | '<' => depth += 1,
                ']' | ')' | '}' | '>' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
        }
        current.push(c);
    }
    assert!(current.trim().is_empty(), "unterminated member in {body:?}");
    out
}

/// A JSDoc comment (as ts-rs writes one) again, indented: one line when the text is one line.
fn doc_comment(jsdoc: &str, indent: &str) -> String {
    let lines: Vec<&str> = jsdoc
        .trim()
        .trim_start_matches("/**")
        .trim_end_matches("*/")
        .lines()
        .map(|l| {
            let l = l.trim();
            l.strip_prefix('*').unwrap_or(l).trim()
        })
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => format!("{indent}/** {one} */\n"),
        many => {
            let mut out = format!("{indent}/**\n");
            for l in many {
                out.push_str(&format!("{indent} * {l}\n"));
            }
            out.push_str(&format!("{indent} */\n"));
            out
        }
    }
}

/// Every type the shell sends to the window, in the file's order.
fn declarations(cfg: &Config) -> Vec<Declaration> {
    vec![
        declaration::<PhaseDto>(cfg),
        declaration::<DroppedDto>(cfg),
        declaration::<LiveDto>(cfg),
        declaration::<AppInfoDto>(cfg),
        declaration::<StatusDto>(cfg),
        declaration::<TookInDto>(cfg),
        declaration::<MergedDto>(cfg),
        declaration::<MergedFileDto>(cfg),
        declaration::<HistoryRowDto>(cfg),
        declaration::<DurationPointDto>(cfg),
        declaration::<HistoryDto>(cfg),
        declaration::<ExportProgressDto>(cfg),
        declaration::<SaveChoiceDto>(cfg),
        declaration::<OpenChoiceDto>(cfg),
        declaration::<ImportDto>(cfg),
        declaration::<BackupDto>(cfg),
        declaration::<RestoreDto>(cfg),
        declaration::<VerifyDto>(cfg),
        declaration::<ExportDto>(cfg),
        declaration::<ContractDto>(cfg),
        declaration::<ContractCostDto>(cfg),
        declaration::<CostReportDto>(cfg),
        declaration::<TipDto>(cfg),
        declaration::<FoundPortDto>(cfg),
        declaration::<PreviewDto>(cfg),
        declaration::<ProbeStepDto>(cfg),
        declaration::<PreferencesDto>(cfg),
    ]
}

/// The whole text of `ui/src/dto.ts`.
fn generated() -> String {
    let decls = declarations(&config());
    let declared: BTreeSet<&str> = decls.iter().map(|d| d.name.as_str()).collect();
    for d in &decls {
        for dep in &d.depends_on {
            assert!(
                declared.contains(dep.as_str()),
                "{} refers to {dep}, which dto.ts does not declare: add it to `declarations`",
                d.name
            );
        }
    }
    let texts: Vec<&str> = decls.iter().map(|d| d.text.as_str()).collect();
    format!("{HEADER}\n{}", texts.join("\n"))
}

fn dto_ts_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/dto.ts")
}

#[test]
fn ui_dto_ts_is_generated_from_the_rust_dtos() {
    let path = dto_ts_path();
    let want = generated();
    if std::env::var(WRITE_VAR).is_ok_and(|v| v == "1") {
        std::fs::write(&path, &want).expect("write ui/src/dto.ts");
        return;
    }
    let have = std::fs::read_to_string(&path).expect("read ui/src/dto.ts");
    if have != want {
        let (line, ours, theirs) = want
            .lines()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(have.lines().map(Some).chain(std::iter::repeat(None)))
            .take_while(|(w, h)| w.is_some() || h.is_some())
            .enumerate()
            .find(|(_, (w, h))| w != h)
            .map(|(i, (w, h))| {
                (
                    i + 1,
                    w.unwrap_or("<end of file>"),
                    h.unwrap_or("<end of file>"),
                )
            })
            .unwrap_or((0, "", ""));
        panic!(
            "ui/src/dto.ts has drifted from the Rust DTOs. First difference at line {line}:\n  \
             generated: {ours}\n  on disk:   {theirs}\n\
             Regenerate it with `{WRITE_VAR}=1 cargo test -p hearth-desktop --test dto_ts` \
             (and check the window still builds: `npm --prefix ui run build`)."
        );
    }
}

#[test]
fn option_fields_are_nullable_and_64_bit_integers_are_numbers() {
    // The mapping the window relies on, checked on one type whose TypeScript is written out
    // here by hand: `Option<T>` is `T | null` (the field is always present), `i64` is `number`.
    let phase = declaration::<PhaseDto>(&config()).text;
    assert_eq!(
        phase,
        "/** One phase of the live reading. */\n\
         export type PhaseDto = {\n  \
           /** `L1`, `L2`, `L3`. */\n  \
           name: string;\n  \
           /** Power drawn on this phase (W). */\n  \
           import_w: number | null;\n  \
           /** Power fed back on this phase (W). */\n  \
           export_w: number | null;\n  \
           /** Voltage (V). */\n  \
           voltage_v: number | null;\n  \
           /** Current (A). */\n  \
           current_a: number | null;\n\
         };\n"
    );
}
