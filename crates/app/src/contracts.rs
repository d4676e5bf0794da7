//! The contract store: the example contracts shipped with Hearth (presets), the contracts the
//! household stored in its vault, and contract files on disk. One store for the desktop's
//! Costs screen and `hearth report` / `hearth tips`.
//!
//! A stored contract is the vault setting `tariff/<slug of its name>` holding its TOML; a
//! dynamic contract's price files are sealed beside it, one setting per file, named
//! `tariff-prices/<slug>/<file as prices_csv names it>`. So loading a stored contract reads
//! only the vault, never the working directory, and saving a contract under the same name
//! again (a new version of its text) keeps the price files already stored for it.

use crate::bounded_read::{Cap, read_text};
use hearth_insight::{Contract, ContractError, PriceError, PriceFiles};
use hearth_vault::{Vault, VaultError};
use std::path::{Path, PathBuf};

/// Prefix of the vault settings that hold contracts.
pub const TARIFF_PREFIX: &str = "tariff/";

/// Prefix of the vault settings that hold stored contracts' price files.
pub const PRICES_PREFIX: &str = "tariff-prices/";

/// Prefix of preset ids.
pub const PRESET_PREFIX: &str = "preset:";

/// The example contracts shipped in `assets/tariffs/` (the ones that need no price file).
pub const PRESETS: &[(&str, &str)] = &[
    (
        "nl-flat",
        include_str!("../../../assets/tariffs/nl-flat.toml"),
    ),
    (
        "nl-day-night",
        include_str!("../../../assets/tariffs/nl-day-night.toml"),
    ),
    (
        "be-day-night-capacity",
        include_str!("../../../assets/tariffs/be-day-night-capacity.toml"),
    ),
    (
        "uk-flat",
        include_str!("../../../assets/tariffs/uk-flat.toml"),
    ),
    (
        "uk-economy7",
        include_str!("../../../assets/tariffs/uk-economy7.toml"),
    ),
    (
        "no-top3-steps",
        include_str!("../../../assets/tariffs/no-top3-steps.toml"),
    ),
];

/// Why a contract cannot be listed, loaded or stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractsError {
    /// The vault could not be read or written.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No preset or stored contract has this id.
    #[error("There is no contract {0:?}.")]
    Unknown(String),
    /// The contract's text is not a usable contract (the message names the line).
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// A contract stored in the vault cannot be used.
    #[error("stored contract {name}")]
    Stored {
        /// Its setting name (`tariff/<name>`).
        name: String,
        /// Why.
        source: StoredError,
    },
}

/// Why a stored contract cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoredError {
    /// Its setting is not text.
    #[error(transparent)]
    NotText(#[from] std::str::Utf8Error),
    /// Its text is not a usable contract.
    #[error(transparent)]
    Invalid(#[from] ContractError),
}

/// One contract the household can choose: a preset or a stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractEntry {
    /// `preset:nl-flat` or the vault setting name `tariff/<name>`.
    pub id: String,
    /// The contract's own name (the id when it does not parse).
    pub name: String,
    /// Stored in the vault (the household's own), not a preset.
    pub stored: bool,
    /// Its TOML.
    pub toml: String,
    /// Why it cannot be used, if it cannot (the message names the line).
    pub error: Option<String>,
    /// What it does that is probably not meant (overlapping periods; each message names the
    /// line), for the window to show beside it. Empty when it cannot be used.
    pub warnings: Vec<String>,
}

/// The setting that holds stored contract `id`'s price file `file`.
fn prices_key(id: &str, file: &str) -> String {
    let slug = id.strip_prefix(TARIFF_PREFIX).unwrap_or(id);
    format!("{PRICES_PREFIX}{slug}/{file}")
}

/// The price files stored with contract `id` that its `text` names.
fn stored_prices(vault: &Vault, id: &str, text: &str) -> Result<PriceFiles, VaultError> {
    let mut files = PriceFiles::new();
    // Malformed TOML names no files; parsing then reports the error itself.
    for f in Contract::price_files(text).unwrap_or_default() {
        if let Some(csv) = vault.get_setting(&prices_key(id, &f.name))? {
            files.insert(f.name, String::from_utf8_lossy(&csv).into_owned());
        }
    }
    Ok(files)
}

/// Parses the text of preset or stored contract `id`, with the price files stored beside it.
fn parse_entry(vault: &Vault, id: &str, text: &str) -> Result<Contract, ContractsError> {
    let files = if id.starts_with(TARIFF_PREFIX) {
        stored_prices(vault, id, text)?
    } else {
        PriceFiles::new()
    };
    Ok(Contract::parse_with_prices(text, &files)?)
}

/// The presets, then the contracts stored in the vault (each with its error, if any).
pub fn list(vault: &Vault) -> Result<Vec<ContractEntry>, ContractsError> {
    let mut out = Vec::new();
    let mut push = |id: String, stored: bool, text: String| -> Result<(), ContractsError> {
        let (name, error, warnings) = match parse_entry(vault, &id, &text) {
            Ok(c) => (
                c.name,
                None,
                c.warnings.iter().map(ToString::to_string).collect(),
            ),
            Err(ContractsError::Vault(e)) => return Err(e.into()),
            Err(e) => (id.clone(), Some(e.to_string()), Vec::new()),
        };
        out.push(ContractEntry {
            id,
            name,
            stored,
            toml: text,
            error,
            warnings,
        });
        Ok(())
    };
    for (id, text) in PRESETS {
        push(format!("{PRESET_PREFIX}{id}"), false, (*text).to_string())?;
    }
    for name in stored_names(vault)? {
        if let Some(bytes) = vault.get_setting(&name)? {
            push(name, true, String::from_utf8_lossy(&bytes).into_owned())?;
        }
    }
    Ok(out)
}

/// The setting names of the stored contracts, in the vault's order.
fn stored_names(vault: &Vault) -> Result<Vec<String>, VaultError> {
    Ok(vault
        .setting_names()?
        .into_iter()
        .filter(|n| n.starts_with(TARIFF_PREFIX))
        .collect())
}

/// The text of a preset or stored contract.
fn text_of(vault: &Vault, id: &str) -> Result<String, ContractsError> {
    let unknown = || ContractsError::Unknown(id.to_string());
    if let Some(p) = id.strip_prefix(PRESET_PREFIX) {
        return PRESETS
            .iter()
            .find(|(n, _)| *n == p)
            .map(|(_, t)| (*t).to_string())
            .ok_or_else(unknown);
    }
    if id.starts_with(TARIFF_PREFIX) {
        return vault
            .get_setting(id)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(unknown);
    }
    Err(unknown())
}

/// Loads presets and stored contracts by id, in the order given.
pub fn load(vault: &Vault, ids: &[String]) -> Result<Vec<Contract>, ContractsError> {
    ids.iter()
        .map(|id| parse_entry(vault, id, &text_of(vault, id)?))
        .collect()
}

/// Every contract stored in the vault, in the vault's order (what `hearth report` prices
/// with when no `--tariff` is given). One that cannot be used is an error naming it.
pub fn load_stored(vault: &Vault) -> Result<Vec<Contract>, ContractsError> {
    let mut out = Vec::new();
    for name in stored_names(vault)? {
        let Some(bytes) = vault.get_setting(&name)? else {
            continue;
        };
        let stored = |source: StoredError| ContractsError::Stored {
            name: name.clone(),
            source,
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| stored(e.into()))?;
        let files = stored_prices(vault, &name, text)?;
        out.push(Contract::parse_with_prices(text, &files).map_err(|e| stored(e.into()))?);
    }
    Ok(out)
}

/// A contract file read from disk with the price files beside it.
struct ContractFile {
    text: String,
    /// The folder `prices_csv` names are relative to.
    dir: PathBuf,
    /// The price files that could be read, by the name the contract gives them.
    prices: PriceFiles,
    /// The ones that could not, with why.
    unread: Vec<(String, String)>,
}

impl ContractFile {
    /// Reads the contract at `path` and each price file it names, relative to its folder.
    fn read(path: &Path) -> Result<ContractFile, ContractError> {
        let text = read_text(path, Cap::CONTRACT).map_err(|source| ContractError::Io {
            path: path.to_owned(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
        let (mut prices, mut unread) = (PriceFiles::new(), Vec::new());
        // Malformed TOML names no files; parsing then reports the error itself.
        for f in Contract::price_files(&text).unwrap_or_default() {
            match read_text(&dir.join(&f.name), Cap::PRICE_FILE) {
                Ok(csv) => prices.insert(f.name, csv),
                Err(e) => unread.push((f.name, e.to_string())),
            }
        }
        Ok(ContractFile {
            text,
            dir,
            prices,
            unread,
        })
    }

    /// A price-file error as the homeowner needs it: the file's path beside the contract, and
    /// why it could not be read where parsing found it missing.
    fn locate(&self, e: ContractError) -> ContractError {
        match e {
            ContractError::Prices { line, path, source } => {
                let source = match source {
                    PriceError::NotGiven => self
                        .unread
                        .iter()
                        .find(|(n, _)| Path::new(n) == path)
                        .map_or(PriceError::NotGiven, |(_, why)| PriceError::Io(why.clone())),
                    other => other,
                };
                ContractError::Prices {
                    line,
                    path: self.dir.join(path),
                    source,
                }
            }
            other => other,
        }
    }
}

/// Reads a contract file; a `prices_csv` path is relative to the file's folder.
pub fn load_file(path: &Path) -> Result<Contract, ContractError> {
    let file = ContractFile::read(path)?;
    Contract::parse_with_prices(&file.text, &file.prices).map_err(|e| file.locate(e))
}

/// Checks contract TOML and stores it under `tariff/<slug of its name>`, with the price files
/// it names: from `prices`, else those already stored for a contract of that name. Returns
/// its id.
pub fn save(vault: &mut Vault, text: &str, prices: &PriceFiles) -> Result<String, ContractsError> {
    let id = stored_id(&Contract::name_of(text)?);
    let needed = Contract::price_files(text)?;
    let mut files = stored_prices(vault, &id, text)?;
    for f in &needed {
        if let Some(csv) = prices.get(&f.name) {
            files.insert(f.name.clone(), csv);
        }
    }
    Contract::parse_with_prices(text, &files)?;
    // The price files first: the contract is never stored without them.
    for (file, csv) in files.iter() {
        vault.put_setting(&prices_key(&id, file), csv.as_bytes())?;
    }
    vault.put_setting(&id, text.as_bytes())?;
    Ok(id)
}

/// Stores the contract file at `path` with the price files beside it (see [`save`]), so it
/// keeps working once the files are moved or deleted. Returns its id.
pub fn save_file(vault: &mut Vault, path: &Path) -> Result<String, ContractsError> {
    let file = ContractFile::read(path)?;
    save(vault, &file.text, &file.prices).map_err(|e| match e {
        ContractsError::Contract(e) => ContractsError::Contract(file.locate(e)),
        other => other,
    })
}

/// Stores a copy of a preset (or another contract, with its price files) as the household's
/// own, so it becomes a contract costs are priced with; returns the stored id.
pub fn adopt(vault: &mut Vault, id: &str) -> Result<String, ContractsError> {
    let text = text_of(vault, id)?;
    let files = if id.starts_with(TARIFF_PREFIX) {
        stored_prices(vault, id, &text)?
    } else {
        PriceFiles::new()
    };
    save(vault, &text, &files)
}

/// `tariff/<slug>`: the name in lower case, runs of anything but letters and digits as one
/// `-` (`contract` for a name with neither).
fn stored_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() {
                ch.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!(
        "{TARIFF_PREFIX}{}",
        if slug.is_empty() { "contract" } else { &slug }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses() {
        for (id, text) in PRESETS {
            let c = Contract::parse(text).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(c.name.contains("(example)"), "{id}: {}", c.name);
            assert_eq!(c.warnings, [], "{id}");
        }
    }

    /// Night on weekdays 22:00-07:00, then an evening 18:00-23:00 every day that overlaps it.
    const OVERLAPPING: &str = "name = \"Evening\"\ntime_zone = \"Europe/Brussels\"\n[import]\n\
        [[import.period]]\nname = \"night\"\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n\
        from = \"22:00\"\nto = \"07:00\"\nprice_per_kwh = 0.21\n\
        [[import.period]]\nname = \"evening\"\nfrom = \"18:00\"\nto = \"23:00\"\nprice_per_kwh = 0.35\n\
        [[import.period]]\nname = \"day\"\nprice_per_kwh = 0.31\n";

    const OVERLAP_MESSAGE: &str = "contract file, line 11: [[import.period]] \"evening\" (line 11: \
        every day 18:00-23:00) overlaps \"night\" (line 5: Mon, Tue, Wed, Thu, Fri 22:00-07:00) on \
        Mon, Tue, Wed, Thu, Fri 22:00-23:00; there \"night\" applies, since the first period that \
        matches wins (change their days or hours if your contract says otherwise)";

    #[test]
    fn overlapping_periods_reach_the_window_and_every_loader_as_warnings() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("evening.toml");
        std::fs::write(&file, OVERLAPPING).expect("toml");
        let from_file = load_file(&file).expect("a warning is no error");
        let messages =
            |c: &Contract| -> Vec<String> { c.warnings.iter().map(ToString::to_string).collect() };
        assert_eq!(messages(&from_file), [OVERLAP_MESSAGE]);
        let options = hearth_vault::CreateOptions {
            kdf: hearth_vault::KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Brussels".into()),
        };
        let mut v = Vault::create(&dir.path().join("v.hearth"), "pw", &options).expect("vault");
        let id = save_file(&mut v, &file).expect("stored with its warning");
        assert_eq!(id, "tariff/evening");
        assert_eq!(
            messages(&load_stored(&v).expect("stored")[0]),
            [OVERLAP_MESSAGE]
        );
        assert_eq!(
            messages(&load(&v, std::slice::from_ref(&id)).expect("by id")[0]),
            [OVERLAP_MESSAGE]
        );
        let listed = list(&v).expect("list");
        let entry = listed.iter().find(|e| e.id == id).expect("listed");
        assert_eq!(entry.warnings, [OVERLAP_MESSAGE]);
        assert_eq!(entry.error, None);
        assert!(
            listed
                .iter()
                .filter(|e| e.id != id)
                .all(|e| e.warnings.is_empty())
        );
    }

    #[test]
    fn stored_ids_are_slugs_of_the_name() {
        assert_eq!(stored_id("My plain contract"), "tariff/my-plain-contract");
        assert_eq!(stored_id("  Día/Nacht (2026) "), "tariff/día-nacht-2026");
        assert_eq!(stored_id("!!"), "tariff/contract");
        assert_eq!(
            prices_key("tariff/dyn", "prices/p.csv"),
            "tariff-prices/dyn/prices/p.csv"
        );
    }
}
