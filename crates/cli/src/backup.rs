//! `hearth backup` / `hearth restore`: an encrypted backup file (the whole vault or a range)
//! that any Hearth vault can merge; restoring twice changes nothing. The use case is
//! `hearth_app::backup`, shared with the desktop; this file finds the passphrases and prints.

use crate::Global;
use crate::unlock::{open_reader, open_writer, passphrase};
use anyhow::Context as _;
use hearth_app::backup;
use hearth_app::bounded_read::Cap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `hearth backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The backup file to write (must not exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Only readings from this local date, local time or RFC 3339 time on (whole hours are
    /// copied).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only readings before this local date, local time or RFC 3339 time.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

/// Options of `hearth restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The passphrase of the backup, if it differs from this vault's (first line of FILE);
    /// `HEARTH_BACKUP_PASSPHRASE` works too.
    #[arg(long, value_name = "FILE")]
    pub backup_passphrase_file: Option<PathBuf>,
    /// Also take the backup's meter source, MQTT password and meter keys where this vault
    /// has none (left out by default: a backup is not trusted to say where to connect).
    #[arg(long)]
    pub with_credentials: bool,
}

/// Runs `hearth backup`.
pub fn run_backup(global: &Global, args: BackupArgs) -> anyhow::Result<ExitCode> {
    // A reader: works while a collector is writing (it copies what was last flushed).
    let mut vault = open_reader(global)?;
    let report = backup::write(
        &mut vault,
        &args.out,
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    eprintln!(
        "Wrote {} ({} hours of readings, {} settings), encrypted with the vault's passphrase.",
        args.out.display(),
        report.chunks,
        report.settings
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `hearth restore`.
pub fn run_restore(global: &Global, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let backup_pass = if let Some(f) = &args.backup_passphrase_file {
        let text = zeroize::Zeroizing::new(
            hearth_app::bounded_read::read_text(f, Cap::PASSPHRASE_FILE)
                .with_context(|| format!("cannot read {}", f.display()))?,
        );
        zeroize::Zeroizing::new(text.lines().next().unwrap_or("").to_string())
    } else if let Some(p) = crate::unlock::env_secret("HEARTH_BACKUP_PASSPHRASE") {
        p
    } else {
        passphrase(global)?
    };
    let now = jiff::Timestamp::now().as_second();
    let report = backup::restore(
        &mut vault,
        &args.file,
        &backup_pass,
        now,
        args.with_credentials,
    )?;
    vault.close()?;
    println!(
        "{} readings in the backup: {} added, {} already present; {} settings added",
        report.read, report.added, report.already_present, report.settings_added
    );
    if report.future + report.outside_window > 0 {
        eprintln!(
            "{} reading(s) refused: {} dated after now, {} outside the hour they were sealed for",
            report.future + report.outside_window,
            report.future,
            report.outside_window
        );
    }
    if report.settings_skipped > 0 {
        eprintln!(
            "{} setting(s) left out: the backup's meter source, MQTT password or meter keys \
             (restore with --with-credentials to take them)",
            report.settings_skipped
        );
    }
    Ok(ExitCode::SUCCESS)
}
