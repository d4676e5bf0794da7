//! Window preferences needed before the vault is unlocked: language, theme and auto-lock.
//!
//! The lock screen must already speak the chosen language and wear the chosen theme, so these
//! cannot live in the vault (it is sealed until the passphrase is given). They reveal nothing
//! about the household's readings, so they sit in a small plain JSON file in the user's config
//! directory (`$XDG_CONFIG_HOME/hearth/preferences.json`). A missing or unreadable file means
//! the defaults; an unknown value is refused, never written.

use hearth_insight::Lang;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Languages the window is translated into (`""` follows the system).
pub const LANGUAGES: [&str; 9] = ["", "en", "nl", "de", "fr", "nb", "sv", "da", "fi"];

/// The locale variables gettext reads, strongest first.
const LOCALE_VARIABLES: [&str; 4] = ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"];

/// The language to speak for a saved `preference`: the preference itself, or, when it is empty
/// (the default, so at first start), the system's. The system's is read as gettext does: the
/// first of `LANGUAGE`, `LC_ALL`, `LC_MESSAGES` and `LANG` that is set and not empty, looked up
/// by `var`; in a `LANGUAGE` list (`es:fr`) the first entry Hearth speaks. `nb`, `no` and `nn`
/// speak Bokmål, `fr_BE`, `fr_LU` and `fr_CH` French, `sv_FI` Swedish; anything else English.
pub fn language(preference: &str, var: impl Fn(&str) -> Option<String>) -> Lang {
    if !preference.is_empty() {
        return Lang::from_code(preference);
    }
    LOCALE_VARIABLES
        .iter()
        .filter_map(|name| var(name))
        .find(|value| !value.is_empty())
        .and_then(|value| value.split(':').find_map(Lang::from_locale))
        .unwrap_or_default()
}

/// [`language`] with this process's environment.
pub fn language_here(preference: &str) -> Lang {
    language(preference, |name| std::env::var(name).ok())
}
/// Themes (`system` follows the desktop's light/dark setting).
pub const THEMES: [&str; 3] = ["system", "light", "dark"];
/// Auto-lock choices in minutes of no keyboard or mouse use (0 = never).
pub const AUTO_LOCK_MINUTES: [u32; 5] = [0, 5, 15, 30, 60];

/// The preferences as stored and as the UI sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// `en`, `nl`, `de`, `fr`, `nb`, `sv`, `da`, `fi`, or empty to follow the system language.
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
                "Hearth is not translated into {:?}; choose English, Nederlands, Deutsch, Français, \
                 Norsk bokmål, Svenska, Dansk or Suomi.",
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
            r#"{"language":"es"}"#,
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
                language: "es".into(),
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

    #[test]
    fn every_offered_language_is_kept() {
        let dir = scratch("langs");
        let path = dir.join("preferences.json");
        for code in ["fr", "nb", "sv", "da", "fi"] {
            let p = Preferences {
                language: code.into(),
                ..Preferences::default()
            };
            p.save(&path).expect("save");
            assert_eq!(Preferences::load(&path).language, code);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_system_locale_chooses_the_language_at_first_start() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        for (vars, want) in [
            (&[("LANG", "nb_NO.UTF-8")][..], Lang::Nb),
            (&[("LANG", "no_NO.UTF-8")][..], Lang::Nb),
            (&[("LANG", "nn_NO.UTF-8")][..], Lang::Nb),
            (&[("LANG", "fr_BE.UTF-8")][..], Lang::Fr),
            (&[("LANG", "fr_LU.UTF-8")][..], Lang::Fr),
            (&[("LANG", "fr_CH.UTF-8")][..], Lang::Fr),
            (&[("LANG", "sv_FI.UTF-8")][..], Lang::Sv),
            (&[("LANG", "fi_FI.UTF-8")][..], Lang::Fi),
            (&[("LANG", "da_DK.UTF-8")][..], Lang::Da),
            (&[("LANG", "pt_BR.UTF-8")][..], Lang::En),
            (&[("LANG", "C.UTF-8")][..], Lang::En),
            (&[][..], Lang::En),
            // gettext's order: LANGUAGE, then LC_ALL, LC_MESSAGES, LANG; empty ones are skipped.
            (
                &[
                    ("LANGUAGE", ""),
                    ("LC_ALL", "da_DK.UTF-8"),
                    ("LANG", "fr_BE.UTF-8"),
                ][..],
                Lang::Da,
            ),
            (
                &[("LC_MESSAGES", "sv_SE.UTF-8"), ("LANG", "de_DE.UTF-8")][..],
                Lang::Sv,
            ),
            (
                &[("LANGUAGE", "es:fi:en"), ("LANG", "es_ES.UTF-8")][..],
                Lang::Fi,
            ),
            // A system Hearth does not speak is English, even when a weaker variable would be.
            (
                &[("LC_ALL", "es_ES.UTF-8"), ("LANG", "fr_FR.UTF-8")][..],
                Lang::En,
            ),
        ] {
            assert_eq!(language("", env(vars)), want, "{vars:?}");
        }
        // A saved choice wins over the system.
        assert_eq!(language("fi", env(&[("LANG", "fr_BE.UTF-8")])), Lang::Fi);
        assert_eq!(language("nb", env(&[])), Lang::Nb);
    }
}
