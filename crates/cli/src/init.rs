//! `hearth init`, and how every vault command finds and unlocks the vault: the path from
//! `--vault`, `HEARTH_VAULT` or the user's data directory; the passphrase from
//! `--passphrase-file`, `HEARTH_PASSPHRASE` or a prompt on the terminal (never echoed).

use crate::Global;
use anyhow::{Context as _, bail};
use hearth_vault::{CreateOptions, KdfParams, Vault};
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

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
    let vault = Vault::create(&path, &passphrase, &options)?;
    let zone = vault.time_zone().iana_name().unwrap_or("UTC").to_string();
    vault.close()?;
    eprintln!(
        "Created an encrypted vault at {} (time zone {zone}). Keep your passphrase safe: \
         without it the data cannot be recovered.",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The vault file: `--vault`, `HEARTH_VAULT`, or `vault.hearth` in the user's data directory.
pub(crate) fn vault_path(global: &Global) -> anyhow::Result<PathBuf> {
    if let Some(p) = &global.vault {
        return Ok(p.clone());
    }
    let data = if cfg!(target_os = "windows") {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
    };
    let data = data.context("cannot find your data directory; pass --vault PATH")?;
    Ok(data.join("hearth").join("vault.hearth"))
}

/// The passphrase for an existing vault.
pub(crate) fn passphrase(global: &Global) -> anyhow::Result<String> {
    if let Some(file) = &global.passphrase_file {
        return first_line(file);
    }
    if let Ok(p) = std::env::var("HEARTH_PASSPHRASE") {
        return Ok(p);
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
) -> anyhow::Result<String> {
    let file = file.or(if env == "HEARTH_PASSPHRASE" {
        global.passphrase_file.as_ref()
    } else {
        None
    });
    let p = if let Some(file) = file {
        first_line(file)?
    } else if let Ok(p) = std::env::var(env) {
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
    if p.is_empty() {
        bail!("the passphrase is empty; choose a few words only you know");
    }
    Ok(p)
}

fn first_line(file: &PathBuf) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the passphrase file {}", file.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// Asks on the terminal with echo off (via `stty`, restored afterwards).
fn prompt(question: &str) -> anyhow::Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let stty = |arg: &str| {
        Command::new("stty")
            .arg(arg)
            .stdin(Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = !cfg!(windows) && stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo");
    }
    eprintln!();
    read.context("cannot read the passphrase")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Opens the vault as its writer.
pub(crate) fn open_writer(global: &Global) -> anyhow::Result<Vault> {
    let path = vault_path(global)?;
    let pass = passphrase(global)?;
    Vault::open(&path, &pass).with_context(|| format!("cannot open the vault {}", path.display()))
}

/// Opens the vault for reading (works while a collector writes).
pub(crate) fn open_reader(global: &Global) -> anyhow::Result<Vault> {
    let path = vault_path(global)?;
    let pass = passphrase(global)?;
    Vault::open_read_only(&path, &pass)
        .with_context(|| format!("cannot open the vault {}", path.display()))
}
