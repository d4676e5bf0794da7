//! `hearth passwd`: changes the vault passphrase. Only the wrapped data key is rewritten; the
//! data itself is not re-encrypted, so it takes a second whatever the vault's size. The use
//! case is `hearth_app::passphrase`; this file finds the passphrases and prints.

use crate::Global;
use crate::unlock::{new_passphrase, open_writer_with_passphrase};
use hearth_app::passphrase;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `hearth passwd`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Read the new passphrase from this file (first line) instead of `HEARTH_NEW_PASSPHRASE`
    /// or asking twice.
    #[arg(long, value_name = "FILE")]
    pub new_passphrase_file: Option<PathBuf>,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    // The current passphrase, never the keyring: whoever changes it must know it.
    let vault = open_writer_with_passphrase(global)?;
    let new = new_passphrase(
        global,
        "HEARTH_NEW_PASSPHRASE",
        args.new_passphrase_file.as_ref(),
    )?;
    let changed = passphrase::change(vault, &new)?;
    eprintln!(
        "Passphrase changed. The old one no longer opens this vault (older backups keep theirs)."
    );
    if changed.keyring_still_unlocks {
        eprintln!("The OS keyring still unlocks this vault (`hearth keyring off` to stop that).");
    }
    Ok(ExitCode::SUCCESS)
}
