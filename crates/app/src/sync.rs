//! A collector box and a laptop, no server: the box collects write-only into a folder a file
//! sync carries (Syncthing, a USB stick), and the computer that holds the vault merges that
//! folder in (`hearth merge`, and the desktop's "Merge from folder"). The files are
//! [`hearth_vault::increment`]s; this module is what both faces share around them: where the
//! box pins the folder's card, opening the box's collector, and merging a folder into an open
//! vault (the CLI's own handle, or the desktop's [`Session`], lent out while it runs).

use crate::clock::Clock;
use crate::session::{LoanError, Session, on_loan};
use hearth_vault::increment::CardAction;
use hearth_vault::{Card, FileNote, FolderError, MergeReport, Pinned, Vault, WriteOnly};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why merging a folder did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The folder or its card (another vault's folder, a changed card, no card yet).
    #[error(transparent)]
    Folder(#[from] FolderError),
    /// The vault is locked or could not take back what waited meanwhile.
    #[error(transparent)]
    Loan(#[from] LoanError),
    /// No data directory to keep the box's pins in.
    #[error("cannot find your data directory to remember the folder's card in")]
    NoDataDir,
}

/// Where a collector box keeps the cards it pinned (`$XDG_DATA_HOME/hearth/folder-keys` on
/// Linux).
pub fn default_pins() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("hearth").join("folder-keys"))
}

/// The box's collector into `folder`: the folder's card checked against the one pinned in
/// `pins` (trust on first use; a changed card refused unless `accept_changed`), and a
/// write-only handle writing increment files there. Returns how the card was trusted, so
/// the face can show its fingerprint the first time.
pub fn collector(
    folder: &Path,
    pins: &Path,
    accept_changed: bool,
) -> Result<(WriteOnly, Pinned), SyncError> {
    let pinned = Card::pinned(folder, pins, accept_changed)?;
    let w = WriteOnly::to_folder(folder, pinned.card().0).map_err(FolderError::from)?;
    Ok((w, pinned))
}

/// Merges `folder` into `vault` (the writer): readings dated more than an hour after `now`
/// are refused and counted. The guard is lifted again after (a live collector sets its own
/// before every append; a fast demo or replay must not inherit this one).
pub fn merge(vault: &mut Vault, folder: &Path, now: i64) -> Result<MergeReport, FolderError> {
    vault.set_clock(now)?;
    let merged = vault.merge_folder(folder);
    vault.set_clock(i64::MAX)?;
    merged
}

/// Merges `folder` into the vault the desktop's session holds open, lent out of it while it
/// runs ([`on_loan`]: readings collected meanwhile wait, sealed, and are written after).
pub fn merge_open(
    session: &Mutex<Session>,
    folder: &Path,
    clock: &dyn Clock,
) -> Result<Merged, SyncError> {
    let (report, key) = on_loan(session, |vault| {
        let report = merge(vault, folder, clock.now_unix())?;
        Ok::<_, FolderError>((report, vault.write_key().map_err(FolderError::from)?))
    })??;
    let mut merged = Merged::from(&report);
    merged.fingerprint = key.map(|k| Card(k).fingerprint());
    Ok(merged)
}

/// A folder merged, as the desktop's window receives it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "MergedDto"))]
pub struct Merged {
    /// Files opened and taken in.
    pub files: u64,
    /// Files merged before and unchanged since.
    pub unchanged: u64,
    /// Readings in the files taken in.
    pub readings: u64,
    /// Readings new to this vault.
    pub added: u64,
    /// Readings this vault already had.
    pub duplicates: u64,
    /// Readings dated in the future (refused).
    pub future: u64,
    /// Files left for a later merge (still being copied), each with why.
    pub skipped: Vec<MergedFile>,
    /// Files refused (another vault's, changed, not an increment), each with why.
    pub refused: Vec<MergedFile>,
    /// What happened to the folder's card: `kept`, `written` or `replaced`.
    pub card: &'static str,
    /// The card's fingerprint, to compare with what the box showed when it pinned it.
    pub fingerprint: Option<String>,
}

/// A file a merge did not take.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "MergedFileDto"))]
pub struct MergedFile {
    /// Its name in the folder.
    pub file: String,
    /// Why, in words.
    pub why: String,
    /// Whether a later merge tries it again.
    pub tried_again: bool,
}

impl From<&FileNote> for MergedFile {
    fn from(n: &FileNote) -> Self {
        MergedFile {
            file: n.file.clone(),
            why: n.problem.to_string(),
            tried_again: n.problem.tried_again(),
        }
    }
}

impl From<&MergeReport> for Merged {
    fn from(r: &MergeReport) -> Self {
        Merged {
            files: r.files,
            unchanged: r.unchanged,
            readings: r.readings,
            added: r.added,
            duplicates: r.duplicates,
            future: r.future,
            skipped: r.skipped.iter().map(MergedFile::from).collect(),
            refused: r.refused.iter().map(MergedFile::from).collect(),
            card: card_word(r.card),
            fingerprint: None,
        }
    }
}

/// `kept`, `written` or `replaced`.
pub fn card_word(action: CardAction) -> &'static str {
    match action {
        CardAction::Kept => "kept",
        CardAction::Written => "written",
        CardAction::Replaced => "replaced",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
    use hearth_vault::{CreateOptions, KdfParams};

    /// 2026-01-15T00:00:00Z.
    const T0: i64 = 1_768_435_200;

    #[test]
    fn a_box_pins_the_card_and_the_open_session_merges_what_it_collected() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        };
        let vault = Vault::create(&path, "words words", &options).expect("vault");
        let mut session = Session::new(path.clone());
        session.install(vault).expect("open");
        let session = Mutex::new(session);
        let folder = dir.path().join("sync");
        std::fs::create_dir(&folder).expect("folder");
        let pins = dir.path().join("pins");
        let clock = crate::ManualClock::at(T0 + 86_400);

        // Before the first merge the box has no card to seal to.
        let Err(SyncError::Folder(FolderError::NoCard { .. })) = collector(&folder, &pins, false)
        else {
            panic!("a box without a card");
        };
        let first = merge_open(&session, &folder, &clock).expect("merge");
        assert_eq!((first.files, first.card), (0, "written"));

        let (mut w, pinned) = collector(&folder, &pins, false).expect("box");
        assert!(matches!(pinned, Pinned::First(_)));
        let readings: Vec<Reading> = (0..90)
            .map(|i| {
                let mut r = Reading::new(Protocol::Dsmr);
                r.time = Some(MeterTime::utc(T0 + 60 * i));
                r.set(Quantity::ImportWh, 2_000_000 + 10 * i);
                r
            })
            .collect();
        w.append(&readings).expect("append");
        w.close().expect("close");
        let (_, again) = collector(&folder, &pins, false).expect("box again");
        assert!(matches!(again, Pinned::Same(_)));

        let merged = merge_open(&session, &folder, &clock).expect("merge");
        assert_eq!(
            (
                merged.files,
                merged.readings,
                merged.added,
                merged.duplicates
            ),
            (1, 90, 90, 0)
        );
        assert!(merged.skipped.is_empty() && merged.refused.is_empty());
        let guard = session.lock().expect("session");
        let v = guard.vault().expect("open");
        let last: Vec<i64> = v
            .readings(T0, T0 + 90 * 60, hearth_vault::Resolution::Raw)
            .expect("rows")
            .map(|r| r.expect("row").reading.get(Quantity::ImportWh).expect("wh"))
            .collect();
        assert_eq!(
            last,
            (0..90).map(|i| 2_000_000 + 10 * i).collect::<Vec<_>>()
        );
        drop(guard);

        // Locked: nothing to merge into.
        session.lock().expect("session").lock().expect("lock");
        assert!(matches!(
            merge_open(&session, &folder, &clock),
            Err(SyncError::Loan(LoanError::Locked))
        ));
    }

    #[test]
    fn a_changed_card_is_refused_until_accepted() {
        let dir = tempfile::tempdir().expect("dir");
        let folder = dir.path().join("sync");
        std::fs::create_dir(&folder).expect("folder");
        let pins = dir.path().join("pins");
        let card = Card(hearth_vault::write_key::PublicKey::from_parts(
            [1; 16], [2; 32],
        ));
        card.write(&folder).expect("card");
        assert!(matches!(
            collector(&folder, &pins, false).expect("first").1,
            Pinned::First(_)
        ));
        let other = Card(hearth_vault::write_key::PublicKey::from_parts(
            [1; 16], [3; 32],
        ));
        other.write(&folder).expect("changed");
        let Err(SyncError::Folder(e @ FolderError::CardChanged { .. })) =
            collector(&folder, &pins, false)
        else {
            panic!("a changed card taken");
        };
        let text = e.to_string();
        assert!(text.contains(&card.fingerprint()), "{text}");
        assert!(text.contains(&other.fingerprint()), "{text}");
        assert!(text.contains("--accept-new-card"), "{text}");
        let (_, accepted) = collector(&folder, &pins, true).expect("accepted");
        assert_eq!(accepted, Pinned::Accepted(other));
        assert_eq!(
            collector(&folder, &pins, false).expect("now pinned").1,
            Pinned::Same(other)
        );
    }

    #[cfg(feature = "ts")]
    #[test]
    fn the_window_s_shape_is_declared_for_typescript() {
        use ts_rs::TS as _;
        // As the desktop generates `ui/src/dto.ts`: 64-bit integers as `number`.
        let cfg = ts_rs::Config::default().with_large_int("number");
        let decl = Merged::decl(&cfg);
        for field in [
            "files: number",
            "skipped: Array<MergedFileDto>",
            "card: string",
            "fingerprint: string | null",
        ] {
            assert!(decl.contains(field), "{field} in {decl}");
        }
        let file = MergedFile::decl(&cfg);
        assert!(file.contains("tried_again: boolean"), "{file}");
    }
}
