//! `hearth verify`: not built yet (placeholder while the owning issue is in progress).

use crate::Global;
use std::process::ExitCode;

/// Options of `hearth verify`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("'hearth verify' is not available in this build yet")
}
