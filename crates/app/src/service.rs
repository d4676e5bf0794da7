//! The collector as a systemd user service: the unit Hearth installs (write-only by default,
//! so the box by the meter holds no key; restarted after a crash; started at login, or at boot
//! with lingering), the small environment file that names the meter source, and where both go.
//! Plain text and paths only: the CLI writes the files and calls `systemctl`.

use std::path::{Path, PathBuf};

/// The unit's name.
pub const UNIT: &str = "hearth-collect.service";

/// How the installed collector stores what it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Sealed to the vault's write-only key: no passphrase and no keyring on the box; it can
    /// store readings but never read them back (the default).
    WriteOnly,
    /// Write-only into a sync folder, with no vault on the box ([`crate::sync`]): the vault's
    /// computer merges it (`hearth merge`).
    Folder(PathBuf),
    /// Opened with the OS keyring (`hearth keyring on`): it can read what it stores.
    Keyring,
}

/// Where the user's unit goes: `CONFIG/systemd/user/hearth-collect.service`.
pub fn unit_path(config_home: &Path) -> PathBuf {
    config_home.join("systemd").join("user").join(UNIT)
}

/// Where the meter source is kept for the unit: `CONFIG/hearth/collect.env`.
pub fn env_path(config_home: &Path) -> PathBuf {
    config_home.join("hearth").join("collect.env")
}

/// The environment file: the meter source, for `${HEARTH_SOURCE}` in the unit. (A write-only
/// collector cannot read the source kept sealed in the vault.)
pub fn env_text(source: &str) -> String {
    format!(
        "# The meter source of Hearth's collector (hearth service install --source ...).\n\
         HEARTH_SOURCE={source}\n"
    )
}

/// The unit: `exe` collects into `vault` (the default vault when `None`) in `mode`, with the
/// source from `env` (a path, or `%h/...`); restarted 5 s after any failure, for ever.
pub fn unit_text(exe: &Path, vault: Option<&Path>, mode: Mode, env: &str) -> String {
    let vault = vault
        .filter(|_| !matches!(mode, Mode::Folder(_)))
        .map(|v| format!(" --vault {}", quoted(v)))
        .unwrap_or_default();
    let (what, how) = match &mode {
        Mode::WriteOnly => (
            "write-only: it stores readings it cannot read back",
            " --write-only".to_string(),
        ),
        Mode::Folder(dir) => (
            "write-only into a sync folder: it stores readings it cannot read back",
            format!(" --write-only --folder {}", quoted(dir)),
        ),
        Mode::Keyring => ("opened by the OS keyring", String::new()),
    };
    format!(
        "[Unit]\n\
         Description=Hearth meter collector ({what})\n\
         StartLimitIntervalSec=0\n\
         \n\
         [Service]\n\
         Type=simple\n\
         EnvironmentFile={env}\n\
         ExecStart={exe}{vault} collect{how} --source ${{HEARTH_SOURCE}}\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         NoNewPrivileges=yes\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        exe = quoted(exe),
    )
}

/// A path as one word of a systemd command line: in double quotes, `\` and `"` escaped, `%`
/// doubled (systemd's specifier character).
fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_unit_is_the_write_only_one_for_the_packaged_binary() {
        let shipped = include_str!("../../../assets/systemd/hearth-collect.service");
        let expected = unit_text(
            Path::new("/usr/bin/hearth"),
            None,
            Mode::WriteOnly,
            "%h/.config/hearth/collect.env",
        );
        assert_eq!(shipped, expected);
    }

    #[test]
    fn paths_with_spaces_quotes_and_percents_stay_one_word() {
        let unit = unit_text(
            Path::new("/opt/my apps/hearth"),
            Some(Path::new("/home/a \"b\"/100%/v.hearth")),
            Mode::Keyring,
            "/home/a/.config/hearth/collect.env",
        );
        assert!(unit.contains(
            "ExecStart=\"/opt/my apps/hearth\" --vault \"/home/a \\\"b\\\"/100%%/v.hearth\" \
             collect --source ${HEARTH_SOURCE}\n"
        ));
        assert!(unit.contains("Description=Hearth meter collector (opened by the OS keyring)\n"));
        assert_eq!(
            unit_path(Path::new("/c")),
            Path::new("/c/systemd/user/hearth-collect.service")
        );
        assert_eq!(
            env_path(Path::new("/c")),
            Path::new("/c/hearth/collect.env")
        );
    }
}
