//! `hearth rekey`: replaces the vault's data key and re-seals everything under the new one, so
//! old copies of the key (an old header from a backup or a copy of the file, a keyring secret
//! from before `hearth keyring off`) open nothing in the vault any more. The use case is
//! `hearth_app::passphrase::rekey`; this file finds the passphrase, shows progress and prints.

use crate::Global;
use crate::unlock::{passphrase, vault_path};
use anyhow::Context as _;
use hearth_app::passphrase as use_case;
use hearth_app::session::{self, Access};
use hearth_vault::RekeyReport;
use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;

/// What `hearth keyring off` and `hearth passwd` say about revoking old copies of keys.
pub(crate) const REVOKE_HINT: &str = "Copies of the old key still open this vault's data: an \
     older backup's header put into a copy of the file, or a keyring secret saved before. \
     `hearth rekey` replaces the key and re-seals everything, so they open nothing any more.";

/// Options of `hearth rekey`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command: the passphrase, never the keyring (the new key is wrapped under it).
pub fn run(global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    let path = vault_path(global)?;
    let pass = passphrase(global)?;
    let vault = session::open_with_passphrase(&path, &pass, Access::Writer)
        .with_context(|| format!("cannot open the vault {}", path.display()))?;
    let keyring_was_on = vault.secret_slot_enabled()?;
    let report = use_case::rekey(vault, &pass, &mut progress())?;
    finish(&path, &pass, &report, keyring_was_on)?;
    Ok(ExitCode::SUCCESS)
}

/// A progress line on a terminal's stderr (every 1 %), nothing when stderr is a file or pipe.
pub(crate) fn progress() -> impl FnMut(u64, u64) {
    let shown = std::io::stderr().is_terminal();
    let mut last = u64::MAX;
    move |done, total| {
        let pct = done * 100 / total.max(1);
        if shown && pct != last {
            last = pct;
            eprint!("\rRe-sealing the vault: {pct:3} % ({done} of {total} records)");
            if done == total {
                eprintln!();
            }
        }
    }
}

/// Tells what changed and turns the OS keyring on again (a new secret) if it was on, opening
/// the vault at `path` with `pass`, the passphrase the new key is wrapped under.
pub(crate) fn finish(
    path: &Path,
    pass: &str,
    report: &RekeyReport,
    keyring_was_on: bool,
) -> anyhow::Result<()> {
    eprintln!(
        "New data key: {} records re-sealed. Old headers, old keyring secrets and older \
         backups' keys no longer open anything in this vault (those backups still open with \
         the passphrase they had; make a new backup and delete the old ones if they may be \
         exposed).",
        report.resealed
    );
    if report.damaged > 0 {
        eprintln!(
            "{} records were already damaged and were left as they were (`hearth verify` lists \
             them).",
            report.damaged
        );
    }
    if keyring_was_on && report.keyring_slot_removed {
        let mut vault = session::open_with_passphrase(path, pass, Access::Writer)
            .with_context(|| format!("cannot open the vault {}", path.display()))?;
        crate::keyring::enable(&mut vault)
            .context("the OS keyring no longer unlocks the vault; `hearth keyring on` to retry")?;
        vault.close()?;
        eprintln!("The OS keyring unlocks it again, with a new key.");
    }
    Ok(())
}
