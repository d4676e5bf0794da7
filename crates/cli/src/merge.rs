//! `hearth merge DIR`: takes in what a collector box (`hearth collect --write-only --folder
//! DIR`) left in a sync folder, by [`hearth_app::sync`]. Opens the vault as its writer
//! (passphrase or keyring, like every command that stores), writes the folder's card the first
//! time, and says what it took in; `--json` prints the same as one JSON object. Safe to repeat
//! and to run while files are still arriving: a file cut short is taken next time.

use crate::Global;
use crate::unlock::open_writer;
use anyhow::Context as _;
use hearth_app::Clock as _;
use hearth_app::sync::{self, Merged};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `hearth merge`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The sync folder a collector box writes to.
    #[arg(value_name = "DIR")]
    pub folder: PathBuf,
    /// Print what was taken in as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let now = hearth_app::SystemClock.now_unix();
    let report = sync::merge(&mut vault, &args.folder, now)
        .with_context(|| format!("cannot merge the folder {}", args.folder.display()))?;
    let key = vault.write_key()?;
    vault.close()?;
    let mut merged = Merged::from(&report);
    merged.fingerprint = key.map(|k| hearth_vault::Card(k).fingerprint());
    if args.json {
        println!("{}", serde_json::to_string(&merged)?);
    } else {
        for line in words(&merged, &args.folder) {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What was taken in, in a homeowner's words.
fn words(m: &Merged, folder: &std::path::Path) -> Vec<String> {
    let mut lines = Vec::new();
    let key = m.fingerprint.as_deref().unwrap_or("?");
    match m.card {
        "written" => lines.push(format!(
            "wrote the collector card into {} (key {key}): a collector box can now use the \
             folder",
            folder.display()
        )),
        "replaced" => lines.push(format!(
            "the collector card in {} named another key: put this vault's back (key {key}); a \
             box that pinned the other one refuses to collect until you check it",
            folder.display()
        )),
        _ => {}
    }
    lines.push(format!(
        "merged {} new file(s): {} readings, {} new, {} already here{}; {} file(s) unchanged \
         since the last merge",
        m.files,
        m.readings,
        m.added,
        m.duplicates,
        if m.future > 0 {
            format!(", {} dated in the future (refused)", m.future)
        } else {
            String::new()
        },
        m.unchanged
    ));
    for f in &m.skipped {
        lines.push(format!("left for later: {}: {}", f.file, f.why));
    }
    for f in &m.refused {
        lines.push(format!("refused: {}: {}", f.file, f.why));
    }
    lines
}
