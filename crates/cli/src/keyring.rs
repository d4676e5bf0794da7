//! `hearth keyring on|off|status`: lets the OS keyring (Secret Service) unlock the vault, so
//! `hearth collect` runs unattended (a systemd user unit, say) with no passphrase anywhere.
//! Off by default: anyone who can read the user's unlocked keyring can then open the vault.

use crate::Global;
use crate::unlock::{keyring_for_this_run, open_writer, open_writer_with_passphrase, vault_path};
use anyhow::Context as _;
use hearth_vault::Vault;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `hearth keyring`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Keep a key in the OS keyring that opens this vault (asks for the passphrase once).
    On,
    /// Remove the key from the vault and from the keyring; only the passphrase opens it.
    Off,
    /// Whether the vault has a keyring key and the keyring holds it.
    Status,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::On => on(global),
        Action::Off => off(global),
        Action::Status => status(global),
    }
}

/// The path shown in the keyring entry's label: absolute, so the user can tell vaults apart.
fn shown_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Sets up the keyring slot of an open (writer) vault and stores its secret; on a keyring
/// failure the slot is removed again, so the vault is never left with a key nobody holds.
pub(crate) fn enable(vault: &mut Vault) -> anyhow::Result<()> {
    let secret = vault.enable_secret_slot()?;
    let stored = keyring_for_this_run().store(&vault.id_hex(), &shown_path(vault.path()), &secret);
    if let Err(e) = stored {
        vault
            .disable_secret_slot()
            .context("could not undo the keyring slot")?;
        return Err(e).context("the OS keyring stays off for this vault");
    }
    Ok(())
}

fn on(global: &Global) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer_with_passphrase(global)?;
    enable(&mut vault)?;
    let path = vault.path().to_path_buf();
    vault.close()?;
    eprintln!(
        "The OS keyring now unlocks {}: `hearth collect` and the app open it without your \
         passphrase while your keyring is unlocked. Anyone who can read your unlocked keyring \
         can open the vault; `hearth keyring off` undoes this. Keep your passphrase: it still \
         opens the vault, also if the keyring is lost.",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn off(global: &Global) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let id = vault.id_hex();
    let path = vault.path().to_path_buf();
    let had_slot = vault.disable_secret_slot()?;
    vault.close()?;
    // The slot is gone, so whatever the keyring still holds opens nothing; tidy it anyway.
    match keyring_for_this_run().delete(&id) {
        Ok(_) => {}
        Err(e) => eprintln!(
            "hearth: the vault no longer accepts a keyring key, but the old entry could not be \
             removed from the keyring ({e}); delete \"Hearth vault key\" in your keyring manager \
             if you like"
        ),
    }
    if had_slot {
        eprintln!(
            "The OS keyring no longer unlocks {}; use your passphrase.",
            path.display()
        );
        eprintln!("{}", crate::rekey::REVOKE_HINT);
    } else {
        eprintln!(
            "The OS keyring was not on for {}; nothing changed.",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status(global: &Global) -> anyhow::Result<ExitCode> {
    let path = vault_path(global)?;
    let info = Vault::inspect(&path)
        .with_context(|| format!("cannot read the vault {}", path.display()))?;
    println!("vault: {}", path.display());
    println!(
        "keyring unlock: {}",
        if info.secret_slot { "on" } else { "off" }
    );
    let entry = hearth_keyring::Keyring::unattended().contains(&info.id_hex);
    match (&entry, info.secret_slot) {
        (Ok(true), true) => println!("keyring entry: present"),
        (Ok(false), true) => println!(
            "keyring entry: missing (the vault needs its passphrase; `hearth keyring on` stores \
             a new key)"
        ),
        (Ok(true), false) => {
            println!("keyring entry: left over, opens nothing (`hearth keyring off` removes it)")
        }
        (Ok(false), false) => println!("keyring entry: none"),
        (Err(e), _) => println!("keyring entry: unknown ({e})"),
    }
    Ok(ExitCode::SUCCESS)
}
