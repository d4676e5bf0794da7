//! `hearth init`: creates a new encrypted vault (never overwrites one), optionally with the
//! OS keyring unlocking it for unattended collection.

use crate::Global;
use crate::unlock::{new_passphrase, vault_path};
use anyhow::bail;
use hearth_app::session;
use hearth_vault::KdfParams;
use std::process::ExitCode;

/// Options of `hearth init`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Time zone for local days and months (IANA name, e.g. Europe/Amsterdam). Default: the
    /// system's.
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Argon2id memory in KiB for the passphrase key (default 65536 = 64 MiB; 19456 to
    /// 2097152). Lower only on very small machines.
    #[arg(long, value_name = "KIB", default_value_t = KdfParams::default().memory_kib)]
    pub kdf_memory_kib: u32,
    /// Argon2id passes over that memory (2 to 16).
    #[arg(long, value_name = "N", default_value_t = KdfParams::default().iterations)]
    pub kdf_iterations: u32,
    /// Also let the OS keyring unlock the vault (as `hearth keyring on`), so collection runs
    /// unattended. The passphrase still opens it.
    #[arg(long)]
    pub keyring: bool,
}

/// Runs the command. Everything is checked before anything is created (the time zone, the
/// Argon2 settings, the passphrase), and a creation that fails midway leaves nothing behind.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let path = vault_path(global)?;
    if path.exists() {
        bail!(
            "{} already exists; Hearth never overwrites a vault",
            path.display()
        );
    }
    let kdf = KdfParams {
        memory_kib: args.kdf_memory_kib,
        iterations: args.kdf_iterations,
        parallelism: 1,
    };
    // Before asking for a passphrase: a wrong zone or setting is told first.
    session::new_zone(args.time_zone.as_deref())?;
    session::check_kdf(kdf)?;
    let passphrase = new_passphrase(global, "HEARTH_PASSPHRASE", None)?;
    let (mut vault, zone) =
        session::create_new(&path, &passphrase, kdf, args.time_zone.as_deref())?;
    if zone.fell_back_to_utc {
        eprintln!(
            "The system's time zone is not known, so the vault keeps UTC: local days and months \
             are UTC ones (`hearth init --time-zone ZONE` chooses another for a new vault)."
        );
    }
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
