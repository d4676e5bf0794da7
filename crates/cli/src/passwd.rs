//! `hearth passwd`: changes the vault passphrase. Only the wrapped data key is rewritten; the
//! data itself is not re-encrypted, so it takes a second whatever the vault's size, and the
//! data key stays (an old header still opens it with the old passphrase). `--rekey` also
//! replaces the data key (`hearth rekey`). The use case is `hearth_app::passphrase`; this file
//! finds the passphrases and prints.

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
    /// Also replace the data key and re-seal everything (as `hearth rekey`), so the old
    /// passphrase opens nothing in this vault even with an old copy of its header.
    #[arg(long)]
    pub rekey: bool,
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
    if args.rekey {
        let keyring_was_on = vault.secret_slot_enabled()?;
        let path = vault.path().to_path_buf();
        let report = passphrase::change_and_rekey(vault, &new, &mut crate::rekey::progress())?;
        eprintln!("Passphrase changed.");
        crate::rekey::finish(&path, &new, &report, keyring_was_on)?;
        return Ok(ExitCode::SUCCESS);
    }
    let changed = passphrase::change(vault, &new)?;
    eprintln!(
        "Passphrase changed. The old one no longer opens this vault as it is now (older backups \
         keep theirs)."
    );
    eprintln!("{}", crate::rekey::REVOKE_HINT);
    if changed.keyring_still_unlocks {
        eprintln!("The OS keyring still unlocks this vault (`hearth keyring off` to stop that).");
    }
    Ok(ExitCode::SUCCESS)
}
