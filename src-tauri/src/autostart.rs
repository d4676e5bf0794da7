//! Start at login: an XDG autostart entry (`$XDG_CONFIG_HOME/autostart/hearth.desktop`) that
//! runs this binary with `--minimized`, so collection starts in the tray without a window.
//!
//! Written by hand rather than with an autostart plugin: it is one small text file, and the
//! desktop-entry quoting rules are the only subtle part (tested below).

use std::path::{Path, PathBuf};

/// The entry's file name inside `autostart/`.
pub const FILE_NAME: &str = "hearth.desktop";

/// The argument that starts Hearth hidden in the tray.
pub const MINIMIZED_ARG: &str = "--minimized";

/// The autostart entry for a config directory (`$XDG_CONFIG_HOME`).
pub fn entry_path(config_home: &Path) -> PathBuf {
    config_home.join("autostart").join(FILE_NAME)
}

/// Whether Hearth starts at login (our entry exists and is not hidden).
pub fn is_enabled(config_home: &Path) -> bool {
    std::fs::read_to_string(entry_path(config_home))
        .map(|t| !t.lines().any(|l| l.trim() == "Hidden=true"))
        .unwrap_or(false)
}

/// Writes the entry starting `exe` minimized at login.
pub fn enable(config_home: &Path, exe: &Path) -> std::io::Result<()> {
    let path = entry_path(config_home);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let exe = exe.to_str().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the program's path is not valid UTF-8, so it cannot go in an autostart entry",
        )
    })?;
    std::fs::write(&path, desktop_entry(exe))
}

/// Removes the entry (no error when there is none).
pub fn disable(config_home: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(entry_path(config_home)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The desktop entry text (Desktop Entry Specification 1.5, Application type).
pub fn desktop_entry(exe: &str) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Hearth\n\
         Comment=Keeps reading your smart meter, stored encrypted on this computer\n\
         Exec={} {MINIMIZED_ARG}\n\
         Icon=hearth-desktop\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n",
        exec_arg(exe)
    )
}

/// One `Exec=` argument: quoted when it holds reserved characters, with `"`, `` ` ``, `$` and
/// `\` escaped inside the quotes, then every `\` doubled again because the value is a string,
/// and `%` doubled because it starts field codes.
fn exec_arg(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c));
    let quoted = if plain {
        arg.to_string()
    } else {
        let mut q = String::from("\"");
        for c in arg.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    };
    quoted.replace('\\', "\\\\").replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_quoting_follows_the_spec() {
        assert_eq!(
            exec_arg("/usr/bin/hearth-desktop"),
            "/usr/bin/hearth-desktop"
        );
        // A space needs quotes; `$` and `"` are backslash-escaped inside them, and the
        // backslash itself is doubled once more at the string level.
        assert_eq!(exec_arg("/home/a b/$x\"y"), "\"/home/a b/\\\\$x\\\\\"y\"");
        assert_eq!(exec_arg("/opt/100%/h"), "\"/opt/100%%/h\"");
    }

    #[test]
    fn enable_disable_in_a_temp_config_home() {
        let home = std::env::temp_dir().join(format!("hearth-autostart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        assert!(!is_enabled(&home));
        disable(&home).expect("removing nothing is fine");
        enable(&home, Path::new("/opt/Hearth App/hearth-desktop")).expect("enable");
        assert!(is_enabled(&home));
        let text = std::fs::read_to_string(home.join("autostart/hearth.desktop")).expect("read");
        assert!(
            text.starts_with("[Desktop Entry]\nType=Application\n"),
            "{text}"
        );
        assert!(
            text.contains("\nExec=\"/opt/Hearth App/hearth-desktop\" --minimized\n"),
            "{text}"
        );
        // A user who hid it in their desktop's settings has it off.
        std::fs::write(entry_path(&home), text.clone() + "Hidden=true\n").expect("write");
        assert!(!is_enabled(&home));
        disable(&home).expect("disable");
        assert!(!entry_path(&home).exists());
        let _ = std::fs::remove_dir_all(&home);
    }
}
