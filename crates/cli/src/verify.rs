//! `hearth verify`: checks every sealed record of the vault (authentication and decoding)
//! and lists the damaged ones without stopping at the first. Exit status 1 if any is damaged.

use crate::Global;
use crate::unlock::open_reader;
use std::process::ExitCode;

/// Options of `hearth verify`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    let vault = open_reader(global)?;
    let report = vault.verify()?;
    for d in &report.damaged {
        println!("damaged: {d}");
    }
    println!(
        "{} records intact ({} readings), {} damaged",
        report.ok,
        report.readings,
        report.damaged.len()
    );
    Ok(if report.damaged.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
