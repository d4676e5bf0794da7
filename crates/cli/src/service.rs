//! `hearth service install|remove|status`: the collector as a systemd user service
//! ([`hearth_app::service`]): write-only by default, restarted after a crash, started at login
//! (at boot too once lingering is on: `loginctl enable-linger $USER`). Writes the unit and the
//! file naming the meter source under the user's config directory, then asks `systemctl
//! --user` to load and start it; where there is no user systemd it says what to run.

use crate::Global;
use anyhow::Context as _;
use hearth_app::service::{self, Mode, UNIT};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Options of `hearth service`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Install the collector as a systemd user service and start it.
    Install {
        /// The meter source (as for `hearth collect --source`).
        #[arg(long, value_name = "SOURCE")]
        source: String,
        /// Open the vault with the OS keyring instead of collecting write-only (see `hearth
        /// keyring on`); the box can then read what it stores.
        #[arg(long)]
        with_keyring: bool,
        /// A collector box with no vault: store write-only into this sync folder, which the
        /// vault's computer merges (`hearth merge`). The folder's collector card must be there
        /// already; it is pinned now and its key shown.
        #[arg(long, value_name = "DIR", conflicts_with = "with_keyring")]
        folder: Option<PathBuf>,
        /// Only write the unit; do not ask systemd to load or start it.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop the service and remove its files.
    Remove,
    /// Whether the service is installed, its meter source, and whether it runs.
    Status,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let config = dirs::config_dir().context("this system has no configuration directory")?;
    match args.action {
        Action::Install {
            source,
            with_keyring,
            folder,
            no_start,
        } => {
            let mode = match (folder, with_keyring) {
                (Some(dir), _) => Mode::Folder(pin_folder(&dir)?),
                (None, true) => Mode::Keyring,
                (None, false) => Mode::WriteOnly,
            };
            install(global, &config, &source, mode, no_start)
        }
        Action::Remove => remove(&config),
        Action::Status => status(&config),
    }
}

fn install(
    global: &Global,
    config: &Path,
    source: &str,
    mode: Mode,
    no_start: bool,
) -> anyhow::Result<ExitCode> {
    let source: hearth_meter_io::Source = source
        .parse()
        .with_context(|| format!("{source:?} is not a meter source"))?;
    let exe = std::env::current_exe().context("cannot tell where this hearth program is")?;
    let vault = global
        .vault
        .as_deref()
        .map(std::path::absolute)
        .transpose()?;
    let env = service::env_path(config);
    let unit = service::unit_path(config);
    write(&env, &service::env_text(&source.to_string()), 0o600)?;
    let text = service::unit_text(&exe, vault.as_deref(), mode, &env.display().to_string());
    write(&unit, &text, 0o644)?;
    println!("installed {}", unit.display());
    println!("meter source in {}", env.display());
    if no_start {
        println!(
            "start it with: systemctl --user daemon-reload && systemctl --user enable --now {UNIT}"
        );
    } else {
        systemctl(&["daemon-reload"])?;
        systemctl(&["enable", "--now", UNIT])?;
        println!("started; it restarts after a crash and starts when you log in");
    }
    println!("to start it at boot without logging in: loginctl enable-linger $USER");
    Ok(ExitCode::SUCCESS)
}

/// The sync folder as an absolute path, its collector card pinned now (as the collector's
/// first run would), with the card's key shown to compare with what `hearth merge` showed.
fn pin_folder(dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = std::path::absolute(dir)?;
    let pins = hearth_app::sync::default_pins()
        .context("cannot find your data directory to remember the folder's card in")?;
    let pinned = hearth_vault::Card::pinned(&dir, &pins, false)
        .with_context(|| format!("cannot use {} as the collector's folder", dir.display()))?;
    println!(
        "the folder's collector card has the key {}: check that `hearth merge` showed the same",
        pinned.card().fingerprint()
    );
    Ok(dir)
}

fn remove(config: &Path) -> anyhow::Result<ExitCode> {
    let unit = service::unit_path(config);
    if unit.exists() {
        // Stopped first where systemd runs; the files go whatever it says.
        if let Err(e) = systemctl(&["disable", "--now", UNIT]) {
            eprintln!("hearth: {e:#}");
        }
    }
    for file in [unit, service::env_path(config)] {
        match std::fs::remove_file(&file) {
            Ok(()) => println!("removed {}", file.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", file.display())),
        }
    }
    let _ = systemctl(&["daemon-reload"]);
    Ok(ExitCode::SUCCESS)
}

fn status(config: &Path) -> anyhow::Result<ExitCode> {
    let unit = service::unit_path(config);
    if !unit.exists() {
        println!("not installed (hearth service install --source SOURCE)");
        return Ok(ExitCode::SUCCESS);
    }
    println!("installed: {}", unit.display());
    let env = std::fs::read_to_string(service::env_path(config)).unwrap_or_default();
    if let Some(source) = env.lines().find_map(|l| l.strip_prefix("HEARTH_SOURCE=")) {
        println!("meter source: {source}");
    }
    let active = Command::new("systemctl")
        .args(["--user", "is-active", UNIT])
        .output();
    match active {
        Ok(out) => println!("running: {}", String::from_utf8_lossy(&out.stdout).trim()),
        Err(_) => println!("running: unknown (no systemctl on this system)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` (its folder made first) with `mode`.
fn write(path: &PathBuf, text: &str, mode: u32) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // A file there before keeps its mode on open: set it.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `systemctl --user ARGS`, its failure told with what to do.
fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let shown = format!("systemctl --user {}", args.join(" "));
    let out = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .output()
        .with_context(|| format!("could not run {shown}: is this a systemd system? The unit is written; start it your own way"))?;
    if !out.status.success() {
        anyhow::bail!(
            "{shown} failed: {}; the unit is written, run the command yourself once a user session runs",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
