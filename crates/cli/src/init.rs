//! `hearth init`: creates a new encrypted vault (never overwrites one), optionally with the
//! OS keyring unlocking it for unattended collection.

use crate::Global;
use crate::unlock::{new_passphrase, vault_path};
use anyhow::{Context as _, bail};
use hearth_vault::{CreateOptions, KdfParams, Vault};
use std::process::ExitCode;

/// Options of `hearth init`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Time zone for local days and months (IANA name, e.g. Europe/Amsterdam). Default: the
    /// system's.
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Argon2id memory in KiB for the passphrase key (default 65536 = 64 MiB). Lower only on
    /// very small machines.
    #[arg(long, value_name = "KIB", default_value_t = KdfParams::default().memory_kib)]
    pub kdf_memory_kib: u32,
    /// Argon2id passes over that memory.
    #[arg(long, value_name = "N", default_value_t = KdfParams::default().iterations)]
    pub kdf_iterations: u32,
    /// Also let the OS keyring unlock the vault (as `hearth keyring on`), so collection runs
    /// unattended. The passphrase still opens it.
    #[arg(long)]
    pub keyring: bool,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let path = vault_path(global)?;
    if path.exists() {
        bail!(
            "{} already exists; Hearth never overwrites a vault",
            path.display()
        );
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let passphrase = new_passphrase(global, "HEARTH_PASSPHRASE", None)?;
    let options = CreateOptions {
        kdf: KdfParams {
            memory_kib: args.kdf_memory_kib,
            iterations: args.kdf_iterations,
            parallelism: 1,
        },
        time_zone: args.time_zone,
    };
    let mut vault = Vault::create(&path, &passphrase, &options)?;
    let zone = vault.time_zone().iana_name().unwrap_or("UTC").to_string();
    let keyring = if args.keyring {
        Some(crate::keyring::enable(&mut vault))
    } else {
        None
    };
    vault.close()?;
    eprintln!(
        "Created an encrypted vault at {} (time zone {zone}). Keep your passphrase safe: \
         without it the data cannot be recovered.",
        path.display()
    );
    match keyring {
        Some(Err(e)) => {
            return Err(e.context(
                "the vault was created and opens with your passphrase, but the OS keyring could \
                 not be set up (try `hearth keyring on` later)",
            ));
        }
        Some(Ok(())) => eprintln!(
            "The OS keyring unlocks it too (anyone who can read your unlocked keyring can open \
             it; `hearth keyring off` undoes this)."
        ),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}
