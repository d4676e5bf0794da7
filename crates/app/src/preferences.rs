//! Window preferences needed before the vault is unlocked: language, theme and auto-lock.
//!
//! The lock screen must already speak the chosen language and wear the chosen theme, so these
//! cannot live in the vault (it is sealed until the passphrase is given). They reveal nothing
//! about the household's readings, so they sit in a small plain JSON file in the user's config
//! directory (`$XDG_CONFIG_HOME/hearth/preferences.json`). A missing or unreadable file means
//! the defaults; an unknown value is refused, never written.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Languages the window is translated into (`""` follows the system).
pub const LANGUAGES: [&str; 4] = ["", "en", "nl", "de"];
/// Themes (`system` follows the desktop's light/dark setting).
pub const THEMES: [&str; 3] = ["system", "light", "dark"];
/// Auto-lock choices in minutes of no keyboard or mouse use (0 = never).
pub const AUTO_LOCK_MINUTES: [u32; 5] = [0, 5, 15, 30, 60];

/// The preferences as stored and as the UI sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// `en`, `nl`, `de`, or empty to follow the system language.
    pub language: String,
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Lock after this many idle minutes; 0 never locks by itself.
    pub auto_lock_minutes: u32,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            language: String::new(),
            theme: "system".to_string(),
            auto_lock_minutes: 15,
        }
    }
}

/// Why preferences were not saved.
#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    /// A value outside the offered choices.
    #[error("{0}")]
    Invalid(String),
    /// The file could not be written.
    #[error("cannot save the preferences in {path}: {source}")]
    Io {
        /// The preferences file.
        path: PathBuf,
        /// The IO failure.
        source: std::io::Error,
    },
}

impl Preferences {
    /// The preferences file under a config directory (`$XDG_CONFIG_HOME`).
    pub fn path(config_home: &Path) -> PathBuf {
        config_home.join("hearth").join("preferences.json")
    }

    /// Reads the file; anything missing or unreadable gives the defaults for that field.
    pub fn load(path: &Path) -> Preferences {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Preferences::default();
        };
        match serde_json::from_str::<Preferences>(&text) {
            Ok(p) if p.check().is_ok() => p,
            _ => Preferences::default(),
        }
    }

    /// Refuses values the window does not offer.
    pub fn check(&self) -> Result<(), PrefsError> {
        if !LANGUAGES.contains(&self.language.as_str()) {
            return Err(PrefsError::Invalid(format!(
                "Hearth is not translated into {:?}; choose English, Nederlands or Deutsch.",
                self.language
            )));
        }
        if !THEMES.contains(&self.theme.as_str()) {
            return Err(PrefsError::Invalid(format!(
                "Unknown theme {:?}; choose light, dark or system.",
                self.theme
            )));
        }
        if !AUTO_LOCK_MINUTES.contains(&self.auto_lock_minutes) {
            return Err(PrefsError::Invalid(format!(
                "Auto-lock can be off or after 5, 15, 30 or 60 minutes, not {}.",
                self.auto_lock_minutes
            )));
        }
        Ok(())
    }

    /// Checks and writes the file (through a temporary file, so a crash leaves the old one).
    pub fn save(&self, path: &Path) -> Result<(), PrefsError> {
        self.check()?;
        let io = |source| PrefsError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hearth-prefs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn defaults_round_trip_and_bad_files() {
        let dir = scratch("rt");
        let path = dir.join("hearth").join("preferences.json");
        // No file yet: follow the system language and theme, lock after 15 minutes.
        assert_eq!(Preferences::load(&path), Preferences::default());
        assert_eq!(Preferences::default().auto_lock_minutes, 15);
        let p = Preferences {
            language: "nl".into(),
            theme: "dark".into(),
            auto_lock_minutes: 5,
        };
        p.save(&path).expect("save");
        assert_eq!(Preferences::load(&path), p);
        // A missing field takes its default, the others are kept.
        std::fs::write(&path, r#"{"language":"de"}"#).expect("write");
        let q = Preferences::load(&path);
        assert_eq!(
            (q.language.as_str(), q.theme.as_str(), q.auto_lock_minutes),
            ("de", "system", 15)
        );
        // Garbage or a value we do not offer: defaults, no panic.
        for bad in [
            "not json",
            "",
            r#"{"language":"fr"}"#,
            r#"{"auto_lock_minutes":-3}"#,
        ] {
            std::fs::write(&path, bad).expect("write");
            assert_eq!(Preferences::load(&path), Preferences::default(), "{bad}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_values_are_refused_and_not_written() {
        let dir = scratch("bad");
        let path = dir.join("preferences.json");
        for p in [
            Preferences {
                language: "fr".into(),
                ..Preferences::default()
            },
            Preferences {
                theme: "pink".into(),
                ..Preferences::default()
            },
            Preferences {
                auto_lock_minutes: 7,
                ..Preferences::default()
            },
        ] {
            assert!(
                matches!(p.save(&path), Err(PrefsError::Invalid(_))),
                "{p:?}"
            );
        }
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
