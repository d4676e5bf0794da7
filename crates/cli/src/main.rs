//! `hearth`: the command-line face of Hearth. Data goes to stdout, logs and progress to
//! stderr, and every failure exits non-zero with a message a homeowner can act on.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod backup;
mod collect;
mod decode;
mod detect;
mod export;
mod import;
mod init;
mod keyring;
mod meter_keys;
mod passwd;
mod report;
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
    /// Change the vault passphrase (re-wraps the key; data is not re-encrypted).
    Passwd(passwd::Args),
    /// Let the OS keyring unlock the vault, for unattended collection (on, off, status).
    Keyring(keyring::Args),
    /// Check every chunk of the vault and report damaged ones.
    Verify(verify::Args),
    /// Savings tips computed from your own data.
    Tips(tips::Args),
    /// Energy and cost report for a period under one or more contracts.
    Report(report::Args),
}

fn main() -> ExitCode {
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
        Command::Passwd(a) => passwd::run(g, a),
        Command::Keyring(a) => keyring::run(g, a),
        Command::Verify(a) => verify::run(g, a),
        Command::Tips(a) => tips::run(g, a),
        Command::Report(a) => report::run(g, a),
    };
    match result {
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
