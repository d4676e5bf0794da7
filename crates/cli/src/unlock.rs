//! How every vault command finds and unlocks the vault: the path from `--vault`,
//! `HEARTH_VAULT` or the user's data directory; the passphrase from `--passphrase-file`,
//! `HEARTH_PASSPHRASE` or a prompt on the terminal (never echoed). Passphrases are wiped from
//! memory when dropped.

use crate::Global;
use anyhow::{Context as _, bail};
use hearth_vault::Vault;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// A passphrase that is zeroed when dropped.
pub(crate) type Passphrase = Zeroizing<String>;

/// The vault file: `--vault`, `HEARTH_VAULT`, or `hearth/vault.hearth` in the user's data
/// directory (`$XDG_DATA_HOME` or `~/.local/share` on Linux).
pub(crate) fn vault_path(global: &Global) -> anyhow::Result<PathBuf> {
    if let Some(p) = &global.vault {
        return Ok(p.clone());
    }
    let data = dirs::data_dir().context("cannot find your data directory; pass --vault PATH")?;
    Ok(data.join("hearth").join("vault.hearth"))
}

/// The passphrase for an existing vault.
pub(crate) fn passphrase(global: &Global) -> anyhow::Result<Passphrase> {
    if let Some(file) = &global.passphrase_file {
        return first_line(file);
    }
    if let Ok(p) = std::env::var("HEARTH_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() {
        return prompt("Vault passphrase: ");
    }
    bail!("no passphrase: set HEARTH_PASSPHRASE, pass --passphrase-file FILE, or run in a terminal")
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
    } else if let Ok(p) = std::env::var(env) {
        Zeroizing::new(p)
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
    if p.is_empty() {
        bail!("the passphrase is empty; choose a few words only you know");
    }
    Ok(p)
}

fn first_line(file: &PathBuf) -> anyhow::Result<Passphrase> {
    let text = Zeroizing::new(
        std::fs::read_to_string(file)
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

/// Opens the vault as its writer.
pub(crate) fn open_writer(global: &Global) -> anyhow::Result<Vault> {
    let path = vault_path(global)?;
    let pass = passphrase(global)?;
    let vault = Vault::open(&path, &pass)
        .with_context(|| format!("cannot open the vault {}", path.display()))?;
    if vault.writer_state_rebuilt() {
        eprintln!(
            "hearth: the vault's checkpoint was damaged and has been rebuilt from the stored \
             readings; nothing stored was lost"
        );
    }
    Ok(vault)
}

/// Opens the vault for reading (works while a collector writes).
pub(crate) fn open_reader(global: &Global) -> anyhow::Result<Vault> {
    let path = vault_path(global)?;
    let pass = passphrase(global)?;
    Vault::open_read_only(&path, &pass)
        .with_context(|| format!("cannot open the vault {}", path.display()))
}
