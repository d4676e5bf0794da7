//! `hearth backup` / `hearth restore`: not built yet (placeholder while the vault issue is in progress).

use crate::Global;
use std::process::ExitCode;

/// Options of `hearth backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {}

/// Options of `hearth restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {}

/// Runs `hearth backup`.
pub fn run_backup(_global: &Global, _args: BackupArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("'hearth backup' is not available in this build yet")
}

/// Runs `hearth restore`.
pub fn run_restore(_global: &Global, _args: RestoreArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("'hearth restore' is not available in this build yet")
}
