//! How every vault command finds and unlocks the vault: the path from `--vault`,
//! `HEARTH_VAULT` or the user's data directory; then, unless a passphrase was given
//! explicitly (`--passphrase-file`, `HEARTH_PASSPHRASE`) or `--no-keyring` is set, the OS
//! keyring when the vault has a keyring slot (`hearth keyring on`), so a collector runs
//! unattended; otherwise, or when the keyring cannot help, the passphrase from a prompt on
//! the terminal (never echoed). Passphrases and keyring secrets are wiped from memory when
//! dropped.

use crate::Global;
use anyhow::{Context as _, bail};
use hearth_app::bounded_read::{Cap, read_text};
use hearth_app::session::{self, Access, OpenError};
use hearth_keyring::Keyring;
use hearth_vault::Vault;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// A passphrase that is zeroed when dropped.
pub(crate) type Passphrase = Zeroizing<String>;

/// The environment variables that may carry a passphrase.
pub(crate) const SECRET_VARS: [&str; 3] = [
    "HEARTH_PASSPHRASE",
    "HEARTH_NEW_PASSPHRASE",
    "HEARTH_BACKUP_PASSPHRASE",
];

/// The passphrases the environment gave, taken out of it by [`take_env_secrets`].
static ENV_SECRETS: OnceLock<Vec<(&'static str, Passphrase)>> = OnceLock::new();

/// Takes the passphrases out of the environment ([`SECRET_VARS`]) and keeps them, wiped on
/// exit, for [`env_secret`]: they are then in no child's environment and not in this
/// process's `environ` for the rest of its life (with the process non-dumpable, its initial
/// environment block is readable by root only).
///
/// Call it first thing in `main`, before any thread exists.
pub(crate) fn take_env_secrets() {
    let _ = ENV_SECRETS.set(take_from_env(&SECRET_VARS));
}

/// Removes the variables `names` from the environment and returns the values they had.
#[allow(unsafe_code)] // `remove_var` is unsafe in edition 2024; see the SAFETY note.
fn take_from_env(names: &[&'static str]) -> Vec<(&'static str, Passphrase)> {
    let mut taken = Vec::new();
    for &name in names {
        if let Some(value) = std::env::var_os(name) {
            // SAFETY: `take_env_secrets` runs first thing in `main`, before any thread exists
            // (Rust starts none of its own), so nothing reads the environment while it
            // changes; the test below changes only a variable no other code reads.
            unsafe { std::env::remove_var(name) };
            taken.push((name, Zeroizing::new(value.to_string_lossy().into_owned())));
        }
    }
    taken
}

/// The passphrase the environment variable `name` gave at start, if any.
pub(crate) fn env_secret(name: &str) -> Option<Passphrase> {
    ENV_SECRETS
        .get()?
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
}

/// The vault file: `--vault`, `HEARTH_VAULT`, or `hearth/vault.hearth` in the user's data
/// directory (`$XDG_DATA_HOME` or `~/.local/share` on Linux).
pub(crate) fn vault_path(global: &Global) -> anyhow::Result<PathBuf> {
    if let Some(p) = &global.vault {
        return Ok(p.clone());
    }
    session::default_path().context("cannot find your data directory; pass --vault PATH")
}

/// The passphrase for an existing vault.
pub(crate) fn passphrase(global: &Global) -> anyhow::Result<Passphrase> {
    if let Some(file) = &global.passphrase_file {
        return first_line(file);
    }
    if let Some(p) = env_secret("HEARTH_PASSPHRASE") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return prompt("Vault passphrase: ");
    }
    bail!("no passphrase: set HEARTH_PASSPHRASE, pass --passphrase-file FILE, or run in a terminal")
}

/// Whether the passphrase was given explicitly (file or environment): then it is used and
/// the keyring is not asked.
fn passphrase_given(global: &Global) -> bool {
    global.passphrase_file.is_some() || env_secret("HEARTH_PASSPHRASE").is_some()
}

/// The keyring for a command run by a person (may show the desktop's unlock dialog) or
/// unattended (never waits for a dialog).
pub(crate) fn keyring_for_this_run() -> Keyring {
    if std::io::stdin().is_terminal() {
        Keyring::interactive()
    } else {
        Keyring::unattended()
    }
}

/// Opens the vault with the OS keyring, when it should be tried: the vault has a keyring
/// slot, no passphrase was given explicitly and `--no-keyring` is not set. Whatever keeps the
/// keyring from helping is said on stderr, and `None` lets the passphrase try; a vault that
/// will not open whatever the key (busy, read-only storage, damage) is an error.
fn open_with_keyring(
    global: &Global,
    path: &Path,
    access: Access,
) -> anyhow::Result<Option<Vault>> {
    if global.no_keyring || passphrase_given(global) {
        return Ok(None);
    }
    // A missing or foreign file is reported by the passphrase path.
    if !Vault::inspect(path).is_ok_and(|info| info.secret_slot) {
        return Ok(None);
    }
    match session::open_with_keyring(path, &Keyring::unattended(), access) {
        Ok(v) => Ok(Some(v)),
        Err(OpenError::NoKeyringEntry) => {
            eprintln!(
                "hearth: the OS keyring holds no key for this vault (run `hearth keyring on` \
                 again); using the passphrase"
            );
            Ok(None)
        }
        Err(e) if e.passphrase_may_help() => {
            eprintln!("hearth: {e}");
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("cannot open the vault {}", path.display())),
    }
}

/// Opens the vault (as the writer or a reader) with the keyring when it can, else with the
/// passphrase.
fn open(global: &Global, access: Access) -> anyhow::Result<Vault> {
    let path = vault_path(global)?;
    if let Some(vault) = open_with_keyring(global, &path, access)? {
        return Ok(vault);
    }
    let pass = passphrase(global).map_err(|e| {
        if !passphrase_given(global)
            && !global.no_keyring
            && Vault::inspect(&path).is_ok_and(|i| !i.secret_slot)
        {
            anyhow::anyhow!(
                "{e} (the OS keyring is off for this vault; `hearth keyring on` lets it open \
                 without a passphrase)"
            )
        } else {
            e
        }
    })?;
    session::open_with_passphrase(&path, &pass, access)
        .with_context(|| format!("cannot open the vault {}", path.display()))
}

/// A new passphrase: from `--passphrase-file` (for `init` only, `file` otherwise), the
/// environment variable `env`, or typed twice on the terminal.
pub(crate) fn new_passphrase(
    global: &Global,
    env: &str,
    file: Option<&PathBuf>,
) -> anyhow::Result<Passphrase> {
    let file = file.or(if env == "HEARTH_PASSPHRASE" {
        global.passphrase_file.as_ref()
    } else {
        None
    });
    let p = if let Some(file) = file {
        first_line(file)?
    } else if let Some(p) = env_secret(env) {
        p
    } else if std::io::stdin().is_terminal() {
        let a = prompt("New passphrase: ")?;
        let b = prompt("Repeat it: ")?;
        if a != b {
            bail!("the two passphrases differ; nothing was changed");
        }
        a
    } else {
        bail!("no new passphrase: set {env}, pass a passphrase file, or run in a terminal")
    };
    hearth_app::passphrase::check_new(&p)?;
    Ok(p)
}

/// The first line of a passphrase file (at most [`Cap::PASSPHRASE_FILE`], 64 KiB).
fn first_line(file: &Path) -> anyhow::Result<Passphrase> {
    let text = Zeroizing::new(
        read_text(file, Cap::PASSPHRASE_FILE)
            .with_context(|| format!("cannot read the passphrase file {}", file.display()))?,
    );
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or("").to_string(),
    ))
}

/// Asks on the terminal with echo off.
fn prompt(question: &str) -> anyhow::Result<Passphrase> {
    rpassword::prompt_password(question)
        .map(Zeroizing::new)
        .context("cannot read the passphrase from the terminal")
}

/// Opens the vault as its writer (keyring or passphrase).
pub(crate) fn open_writer(global: &Global) -> anyhow::Result<Vault> {
    let vault = open(global, Access::Writer)?;
    warn_if_rebuilt(&vault);
    Ok(vault)
}

/// Opens the vault as its writer with the passphrase only, never the keyring: for changing
/// how the vault is unlocked (`passwd`, `keyring on`), which the keyring must not vouch for.
pub(crate) fn open_writer_with_passphrase(global: &Global) -> anyhow::Result<Vault> {
    let path = vault_path(global)?;
    let pass = passphrase(global)?;
    let vault = session::open_with_passphrase(&path, &pass, Access::Writer)
        .with_context(|| format!("cannot open the vault {}", path.display()))?;
    warn_if_rebuilt(&vault);
    Ok(vault)
}

fn warn_if_rebuilt(vault: &Vault) {
    let inbox = vault.inbox_report();
    if inbox.blocks > 0 || !inbox.refused.is_empty() {
        eprintln!(
            "hearth: took in {} readings a write-only collector stored ({} new, {} already \
             here)",
            inbox.readings, inbox.added, inbox.duplicates
        );
    }
    for why in &inbox.refused {
        eprintln!("hearth: refused {why}");
    }
    if vault.writer_state_rebuilt() {
        eprintln!(
            "hearth: the vault's checkpoint was damaged and has been rebuilt from the stored \
             readings; nothing stored was lost"
        );
    }
}

/// Opens the vault for reading (keyring or passphrase; works while a collector writes and on
/// read-only storage).
pub(crate) fn open_reader(global: &Global) -> anyhow::Result<Vault> {
    // Readings a write-only collector left are taken in first when no one else is writing,
    // so what is read is everything.
    let path = vault_path(global)?;
    if Vault::inbox_waiting(&path).unwrap_or(0) > 0 {
        match open_writer(global) {
            Ok(writer) => return Ok(writer.reader()?),
            // Another writer, read-only storage, an unusable lock file: read what is stored.
            Err(e) if writer_unavailable(&e) => {}
            Err(e) => return Err(e),
        }
    }
    open(global, Access::ReadOnly)
}

/// Whether opening as the writer failed for a reason a reader does not share.
fn writer_unavailable(e: &anyhow::Error) -> bool {
    use hearth_vault::VaultError as E;
    let unavailable = |v: &E| matches!(v, E::Busy | E::ReadOnlyStorage(_) | E::WriterLock { .. });
    e.chain().any(|c| {
        c.downcast_ref::<E>().is_some_and(unavailable)
            || matches!(c.downcast_ref::<OpenError>(), Some(OpenError::Vault(v)) if unavailable(v))
    })
}
