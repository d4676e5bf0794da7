//! The rules of Hearth's layout that the compiler does not check, like rust-analyzer's
//! `xtask/src/tidy.rs`: each source file says what it is for, Tauri stays in the shell,
//! SQLite stays in the vault, and only the edges read the wall clock.

use std::fmt;
use std::path::{Path, PathBuf};

/// One broken rule: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the repository root.
    pub path: String,
    /// The line, 1-based (0 for the whole file).
    pub line: usize,
    /// What is wrong, and the rule it breaks.
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.what)
    }
}

/// The repository root (this crate's parent directory).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository root")
        .to_path_buf()
}

/// Directories never searched: build output, dependencies, fuzzing corpora, hidden ones.
fn skipped(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "target" | "node_modules" | "dist" | "corpus" | "artifacts" | "coverage"
        )
}

/// Every file under `root` whose name ends in one of `endings`, relative paths with `/`.
fn files(root: &Path, endings: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !skipped(&name) {
                    dirs.push(path);
                }
            } else if endings.iter().any(|e| name.ends_with(e)) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Runs every rule over the repository at `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for path in files(root, &[".rs"]) {
        let Ok(text) = std::fs::read_to_string(root.join(&path)) else {
            continue;
        };
        problems.extend(module_doc(&path, &text));
        problems.extend(crate_stays_home(&path, &text));
        problems.extend(wall_clock(&path, &text));
    }
    for path in files(root, &["Cargo.toml"]) {
        let Ok(text) = std::fs::read_to_string(root.join(&path)) else {
            continue;
        };
        problems.extend(manifest_stays_home(&path, &text));
    }
    problems
}

/// Every Rust file opens with a `//!` line saying what it is for.
pub fn module_doc(path: &str, text: &str) -> Option<Problem> {
    (!text.starts_with("//!")).then(|| Problem {
        path: path.to_owned(),
        line: 1,
        what: "does not open with a `//!` line saying what the file is for".to_owned(),
    })
}

/// Crates that only one place may use, and that place (a path prefix).
const HOMES: &[(&str, &str, &str)] = &[
    (
        "tauri",
        "src-tauri/",
        "the desktop shell is the only Tauri code",
    ),
    ("rusqlite", "crates/vault/", "only the vault touches SQLite"),
];

/// Whether `path` lies under the home `prefix`, or is the workspace manifest (which only
/// declares versions) or this crate (whose tests name the rules' crates).
fn at_home(path: &str, prefix: &str) -> bool {
    path.starts_with(prefix) || path == "Cargo.toml" || path.starts_with("xtask/")
}

/// No Tauri outside the shell and no SQLite outside the vault, in code.
pub fn crate_stays_home(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (krate, home, why) in HOMES {
        if at_home(path, home) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let uses = code.contains(&format!("{krate}::"))
                && !code.contains(&format!("_{krate}::"))
                && !code.contains(&format!("-{krate}::"));
            if uses {
                problems.push(Problem {
                    path: path.to_owned(),
                    line: i + 1,
                    what: format!("uses `{krate}` outside {home}: {why}"),
                });
            }
        }
    }
    problems
}

/// No Tauri outside the shell and no SQLite outside the vault, in manifests: no dependency
/// named after either (any section: normal, dev, build, per target).
pub fn manifest_stays_home(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (krate, home, why) in HOMES {
        if at_home(path, home) {
            continue;
        }
        let mut in_dependencies = false;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                in_dependencies = line.contains("dependencies");
                continue;
            }
            // `name = ...`, `name.workspace = true`, `name = { ... }`.
            let key = line
                .split('=')
                .next()
                .unwrap_or("")
                .split('.')
                .next()
                .unwrap_or("")
                .trim();
            if in_dependencies && (key == *krate || key.starts_with(&format!("{krate}-"))) {
                problems.push(Problem {
                    path: path.to_owned(),
                    line: i + 1,
                    what: format!("depends on `{key}` outside {home}: {why}"),
                });
            }
        }
    }
    problems
}

/// Ways to read the wall clock.
const WALL_CLOCK: &[&str] = &[
    "SystemTime::now",
    "Timestamp::now",
    "Zoned::now",
    "Date::today",
];

/// The edges, where the wall clock may be read: the IO crate (its `clock` is the one clock of
/// the use cases; a byte's receive time), the two faces; and code that never ships (tests, benches,
/// examples, fuzzing, this crate).
fn may_read_the_clock(path: &str) -> bool {
    const EDGES: &[&str] = &[
        "crates/meter-io/src/",
        "crates/cli/src/",
        "src-tauri/src/",
        "xtask/",
    ];
    EDGES.iter().any(|e| path.starts_with(e))
        || ["/tests/", "/benches/", "/examples/", "/fuzz/"]
            .iter()
            .any(|d| path.contains(d))
}

/// The wall clock is read only at the edges: library code takes "now" as an argument (or a
/// `hearth_app::Clock`), so it can be tested at any moment.
pub fn wall_clock(path: &str, text: &str) -> Vec<Problem> {
    if may_read_the_clock(path) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if let Some(call) = WALL_CLOCK.iter().find(|c| code.contains(*c)) {
            problems.push(Problem {
                path: path.to_owned(),
                line: i + 1,
                what: format!(
                    "reads the wall clock ({call}) outside the edges: take `now` as an argument \
                     or a hearth_app::Clock"
                ),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_keeps_every_rule() {
        let problems = check(&repository_root());
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(problems.is_empty(), "tidy:\n{}", list.join("\n"));
    }

    #[test]
    fn it_searches_the_real_tree() {
        // A check over nothing would pass: make sure the walk finds the crates.
        let root = repository_root();
        let rs = files(&root, &[".rs"]);
        assert!(
            rs.iter().any(|p| p == "crates/vault/src/lib.rs"),
            "{}",
            rs.len()
        );
        assert!(rs.iter().any(|p| p == "src-tauri/src/lib.rs"));
        assert!(!rs.iter().any(|p| p.contains("/target/")));
        let manifests = files(&root, &["Cargo.toml"]);
        assert!(manifests.iter().any(|p| p == "crates/insight/Cargo.toml"));
    }

    #[test]
    fn a_file_without_its_purpose_is_named() {
        assert_eq!(
            module_doc("crates/x/src/a.rs", "//! Does a.\nfn a() {}\n"),
            None
        );
        let p = module_doc("crates/x/src/b.rs", "use std::fmt;\n").expect("problem");
        assert_eq!((p.path.as_str(), p.line), ("crates/x/src/b.rs", 1));
        assert!(module_doc("crates/x/src/c.rs", "// plain comment\n").is_some());
    }

    #[test]
    fn tauri_and_sqlite_outside_their_homes_are_named() {
        let code = "//! x\nuse tauri::Manager;\nlet c = rusqlite::Connection::open(p);\n\
                    // tauri::Manager in a comment is fine\nuse tauri_plugin_dialog::Dialog;\n";
        let app = crate_stays_home("crates/app/src/lib.rs", code);
        assert_eq!(
            app.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![2, 3],
            "{app:?}"
        );
        assert!(crate_stays_home("src-tauri/src/lib.rs", "use tauri::Manager;\n").is_empty());
        assert!(crate_stays_home("crates/vault/src/db.rs", "rusqlite::params![];\n").is_empty());

        let manifest = "[package]\nname = \"hearth-insight\"\n[dependencies]\njiff = \"1\"\n\
                        [dev-dependencies]\nrusqlite.workspace = true\n\
                        [target.'cfg(unix)'.dependencies]\ntauri-plugin-fs = \"2\"\n";
        let found = manifest_stays_home("crates/insight/Cargo.toml", manifest);
        assert_eq!(
            found.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![8, 6],
            "{found:?}"
        );
        assert!(
            manifest_stays_home("src-tauri/Cargo.toml", "[dependencies]\ntauri = \"2\"\n")
                .is_empty()
        );
        assert!(
            manifest_stays_home(
                "Cargo.toml",
                "[workspace.dependencies]\nrusqlite = \"0.4\"\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn the_wall_clock_is_read_only_at_the_edges() {
        let code = "//! x\nlet now = jiff::Timestamp::now();\nlet t = SystemTime::now();\n";
        assert_eq!(wall_clock("crates/insight/src/tips/mod.rs", code).len(), 2);
        assert!(wall_clock("crates/cli/src/tips.rs", code).is_empty());
        assert!(wall_clock("crates/meter-io/src/clock.rs", code).is_empty());
        assert!(wall_clock("crates/vault/tests/store.rs", code).is_empty());
        assert_eq!(wall_clock("crates/app/src/tips.rs", code).len(), 2);
    }
}
