//! `hearth`: the command-line face of Hearth. Data goes to stdout, logs and progress to
//! stderr, and every failure exits non-zero with a message a homeowner can act on.
//!
//! # Closed pipes
//!
//! A reader that goes away (`hearth export | head`, `hearth collect … 2>&1 | head -1`) is an
//! ordinary ending, never a crash. The standard `println!`/`eprintln!` panic (exit 101) when
//! their stream is closed, so this crate replaces them, for every module, with the macros
//! below, which never panic:
//!
//! - stderr (logs, progress, the final error): what cannot be written is dropped; the command
//!   carries on, so `collect` and `import` still store and checkpoint everything they read.
//! - stdout (data): when its reader is gone the rest of the output is dropped and the command
//!   ends as it would have, **exit 0** (what `head` users expect; `decode` and `export` stop
//!   writing at once). Any other write error (a full disk) ends with exit 1 and a message.
//!
//! Tested through the real binary in `tests/closed_pipes.rs`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

/// The first stdout write error other than a closed reader, reported when the command ends.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Notes a failed write to stdout: a closed reader (broken pipe) is an ordinary ending; any
/// other error is reported when the command ends.
pub fn stdout_failed(e: &std::io::Error) {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        let mut first = STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert_with(|| e.to_string());
    }
}

/// Whether `err` comes from writing to a reader that went away.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `eprintln!` that never panics: a line stderr cannot take is dropped.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics (see the module doc).
#[allow(unused_macros)]
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::stdout_failed(&e);
        }
    }};
}

/// `print!` that never panics (see the module doc).
#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            $crate::stdout_failed(&e);
        }
    }};
}

/// `eprint!` that never panics.
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod backup;
mod collect;
mod decode;
mod detect;
mod export;
mod import;
mod init;
mod keyring;
mod merge;
mod meter_keys;
mod passwd;
mod rekey;
mod report;
mod service;
mod tips;
mod unlock;
mod verify;

/// Hearth keeps your smart meter's data at home, encrypted, forever.
#[derive(Parser, Debug)]
#[command(name = "hearth", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command understands.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// The vault file (default: the user's data directory, e.g. ~/.local/share/hearth/vault.hearth).
    #[arg(long, global = true, env = "HEARTH_VAULT")]
    pub vault: Option<PathBuf>,
    /// Read the passphrase from this file (first line) instead of asking.
    #[arg(long, global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// Do not try the OS keyring (see `hearth keyring`); ask for the passphrase.
    #[arg(long, global = true)]
    pub no_keyring: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode meter bytes (a capture file or stdin) into JSON Lines readings.
    Decode(decode::Args),
    /// Find serial ports and the meter protocol each one speaks.
    Detect(detect::Args),
    /// Create a new vault protected by a passphrase.
    Init(init::Args),
    /// Read a meter continuously and store every reading in the vault.
    Collect(collect::Args),
    /// Import raw meter captures into the vault.
    Import(import::Args),
    /// Export readings or interval totals as CSV.
    Export(export::Args),
    /// Write an encrypted backup of the vault (all of it, or a range).
    Backup(backup::BackupArgs),
    /// Merge an encrypted backup into the vault (safe to repeat).
    Restore(backup::RestoreArgs),
    /// Take in what a collector box left in a sync folder (safe to repeat).
    Merge(merge::Args),
    /// Change the vault passphrase (re-wraps the key; data is not re-encrypted; --rekey does both).
    Passwd(passwd::Args),
    /// Replace the vault's data key and re-seal everything, so old headers, backups' keys and
    /// keyring secrets open nothing in it any more.
    Rekey(rekey::Args),
    /// Let the OS keyring unlock the vault, for unattended collection (on, off, status).
    Keyring(keyring::Args),
    /// Check every chunk of the vault and report damaged ones.
    Verify(verify::Args),
    /// Run the collector as a systemd user service (install, remove, status).
    Service(service::Args),
    /// Savings tips computed from your own data.
    Tips(tips::Args),
    /// Energy and cost report for a period under one or more contracts.
    Report(report::Args),
}

fn main() -> ExitCode {
    // No core dump of a process that may hold the data key, and no attaching to it.
    hearth_app::secrets::protect_process();
    unlock::take_env_secrets();
    let cli = Cli::parse();
    let g = &cli.global;
    let result = match cli.command {
        Command::Decode(a) => decode::run(g, a),
        Command::Detect(a) => detect::run(g, a),
        Command::Init(a) => init::run(g, a),
        Command::Collect(a) => collect::run(g, a),
        Command::Import(a) => import::run(g, a),
        Command::Export(a) => export::run(g, a),
        Command::Backup(a) => backup::run_backup(g, a),
        Command::Restore(a) => backup::run_restore(g, a),
        Command::Merge(a) => merge::run(g, a),
        Command::Passwd(a) => passwd::run(g, a),
        Command::Rekey(a) => rekey::run(g, a),
        Command::Keyring(a) => keyring::run(g, a),
        Command::Verify(a) => verify::run(g, a),
        Command::Service(a) => service::run(g, a),
        Command::Tips(a) => tips::run(g, a),
        Command::Report(a) => report::run(g, a),
    };
    if let Err(e) = std::io::Write::flush(&mut std::io::stdout()) {
        stdout_failed(&e);
    }
    let stdout_error = STDOUT_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    match result {
        Ok(_) if let Some(e) = stdout_error => {
            eprintln!("hearth: cannot write the output: {e}");
            ExitCode::FAILURE
        }
        Ok(code) => code,
        Err(err) => {
            eprintln!("hearth: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  because: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
