//! The contract store: presets and stored contracts, and a dynamic contract's price file sealed
//! in the vault beside it, so loading it never reads the working directory.

use hearth_app::contracts::{self, ContractsError, StoredError};
use hearth_insight::{ContractError, Price, PriceError, PriceFiles, Pricing};
use hearth_vault::{CreateOptions, KdfParams, Vault};
use std::path::Path;

const DYNAMIC: &str = "name = \"My dynamic\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\n\
                       prices_csv = \"prices.csv\"\nmarkup_per_kwh = 0.02\n";
/// The same contract, a new version of its text with another markup.
const DYNAMIC_V2: &str = "name = \"My dynamic\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\n\
                          prices_csv = \"prices.csv\"\nmarkup_per_kwh = 0.03\n";
const PRICES: &str =
    "start,price_per_kwh\n2026-01-05T00:00:00+01:00,0.10\n2026-01-05T01:00:00+01:00,0.20\n";

fn vault(dir: &Path) -> Vault {
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    Vault::create(&dir.join("v.hearth"), "pw", &options).expect("vault")
}

/// The price in force at 01:00 Amsterdam on 5 January (00:00Z) under the contract's import,
/// and its markup.
fn price_and_markup(c: &hearth_insight::Contract) -> (Option<Price>, Price) {
    let Pricing::Dynamic { prices, markup } = &c.import else {
        panic!("{c:?}")
    };
    (prices.at(1_767_571_200), *markup)
}

#[test]
fn a_dynamic_contract_file_is_stored_with_its_prices() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("dynamic.toml");
    std::fs::write(&file, DYNAMIC).expect("toml");
    std::fs::write(dir.path().join("prices.csv"), PRICES).expect("csv");
    let from_file = contracts::load_file(&file).expect("from the file");
    let mut v = vault(dir.path());
    assert_eq!(
        contracts::save_file(&mut v, &file).expect("saved"),
        "tariff/my-dynamic"
    );
    std::fs::remove_file(dir.path().join("prices.csv")).expect("gone");

    // Loaded by id, loaded as the stored ones, listed: the same prices as from the file.
    let by_id = contracts::load(&v, &["tariff/my-dynamic".into()]).expect("by id");
    let stored = contracts::load_stored(&v).expect("stored");
    let p = |s: &str| Price::parse(s).expect("price");
    assert_eq!(price_and_markup(&from_file), (Some(p("0.20")), p("0.02")));
    assert_eq!(price_and_markup(&by_id[0]), price_and_markup(&from_file));
    assert_eq!(price_and_markup(&stored[0]), price_and_markup(&from_file));
    let listed = contracts::list(&v).expect("list");
    let mine = listed.iter().find(|c| c.stored).expect("stored entry");
    assert_eq!(
        (mine.id.as_str(), mine.name.as_str(), mine.error.as_deref()),
        ("tariff/my-dynamic", "My dynamic", None)
    );
    assert_eq!(listed.len(), contracts::PRESETS.len() + 1);

    // A new version of its text, as the window sends it (text only), keeps its prices.
    let id = contracts::save(&mut v, DYNAMIC_V2, &PriceFiles::new()).expect("v2");
    assert_eq!(id, "tariff/my-dynamic");
    let c = &contracts::load(&v, &[id]).expect("v2 loaded")[0];
    assert_eq!(price_and_markup(c), (Some(p("0.20")), p("0.03")));
    // The price file read from disk is gone, so loading the file now says which one.
    match contracts::load_file(&file) {
        Err(ContractError::Prices {
            line: 4,
            path,
            source: PriceError::Io(_),
        }) => assert_eq!(path, dir.path().join("prices.csv")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dynamic_contract_without_its_prices_is_not_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let mut v = vault(dir.path());
    // Text only and nothing stored for it: refused, naming the file; nothing stored.
    let e = contracts::save(&mut v, DYNAMIC, &PriceFiles::new()).unwrap_err();
    assert!(
        matches!(
            &e,
            ContractsError::Contract(ContractError::Prices {
                line: 4,
                source: PriceError::NotGiven,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(contracts::load_stored(&v).expect("none").is_empty());
    // Stored by an older Hearth (the TOML alone): an error naming the stored contract.
    v.put_setting("tariff/old", DYNAMIC.as_bytes())
        .expect("put");
    match contracts::load_stored(&v) {
        Err(ContractsError::Stored {
            name,
            source: StoredError::Invalid(ContractError::Prices { .. }),
        }) => assert_eq!(name, "tariff/old"),
        other => panic!("{other:?}"),
    }
    // Given with its prices: stored, and a copy adopted from it keeps them.
    let mut prices = PriceFiles::new();
    prices.insert("prices.csv", PRICES);
    let id = contracts::save(&mut v, DYNAMIC, &prices).expect("saved");
    assert_eq!(
        contracts::adopt(&mut v, &id).expect("adopted"),
        "tariff/my-dynamic"
    );
    assert!(contracts::load(&v, &[id]).is_ok());
    assert!(matches!(
        contracts::load(&v, &["preset:nope".into()]),
        Err(ContractsError::Unknown(id)) if id == "preset:nope"
    ));
    assert_eq!(
        contracts::adopt(&mut v, "preset:nl-flat").expect("preset"),
        "tariff/nl-single-rate-example"
    );
}
