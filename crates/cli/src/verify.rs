//! `hearth verify`: checks every sealed record of the vault (authentication and decoding)
//! and lists the damaged ones without stopping at the first, by `hearth_app::verify`. Exit
//! status 1 if any is damaged.

use crate::Global;
use crate::unlock::open_reader;
use hearth_app::verify;
use std::process::ExitCode;

/// Options of `hearth verify`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    let vault = open_reader(global)?;
    let verdict = verify::check(&vault)?;
    for d in &verdict.damaged {
        println!("damaged: {d}");
    }
    println!(
        "{} records intact ({} readings), {} damaged",
        verdict.intact,
        verdict.readings,
        verdict.damaged.len()
    );
    Ok(if verdict.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
