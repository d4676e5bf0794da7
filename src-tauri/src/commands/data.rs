//! The household's files, from the window: import (chosen in the open dialog or dropped on the
//! window), backup, restore and merge, merging a collector box's sync folder, and the vault
//! check. Paths stay on this side: the page
//! gets a token per choice ([`hearth_app::held::Held`]). Long tasks run on the vault lent out
//! of the session ([`hearth_app::session::on_loan`]), so collection goes on meanwhile.

use crate::collector::lock;
use crate::commands::off_the_runtime;
use crate::dto::{BackupDto, ImportDto, MergedDto, OpenChoiceDto, RestoreDto, VerifyDto};
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::session::{LoanError, on_loan};
use hearth_app::sync::{self, SyncError};
use hearth_app::{backup, import, meter_keys, verify};
use std::path::PathBuf;
use std::time::Instant;
use tauri::{AppHandle, Emitter as _, Manager as _, Runtime, State};
use zeroize::Zeroizing;

/// The event carrying an import's progress: the file being read, and files done of all.
pub const IMPORT_EVENT: &str = "import-progress";
/// The event telling the page that files were dropped on the window ([`OpenChoiceDto`]).
pub const DROPPED_EVENT: &str = "files-dropped";

/// Holds `paths` for the page: a token and the files' names.
pub fn hold(state: &AppState, paths: Vec<PathBuf>) -> Result<OpenChoiceDto, ShellError> {
    let names = paths
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or(p.as_os_str())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let token = lock(&state.opened)
        .hold(paths, Instant::now())
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
    Ok(OpenChoiceDto { token, names })
}

/// Files dropped on the window: held, and told to the page, which offers to import them.
pub fn dropped<R: Runtime>(app: &AppHandle<R>, paths: Vec<PathBuf>) {
    let state = app.state::<AppState>();
    if let Ok(choice) = hold(&state, paths) {
        let _ = app.emit(DROPPED_EVENT, choice);
    }
}

fn take(state: &AppState, token: &str) -> Result<Vec<PathBuf>, ShellError> {
    lock(&state.opened)
        .take(token, Instant::now())
        .ok_or_else(|| {
            ShellError::new(
                Code::BadRequest,
                "Choose the files again: each choice is good for one use, within 15 minutes.",
            )
        })
}

fn loan_error(e: LoanError) -> ShellError {
    match e {
        LoanError::Locked => ShellError::locked(),
        LoanError::GiveBack(v) => v.into(),
    }
}

/// Asks for files to read with the desktop's open dialog: several to import (`many`), one
/// backup otherwise. `None` when cancelled. Where [`AppState::open_dialog_stand_in`] names a
/// directory (end-to-end tests), the "chosen" files are the regular files in it, by name.
#[tauri::command]
pub async fn pick_open_files<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    many: bool,
    title: String,
) -> Result<Option<OpenChoiceDto>, ShellError> {
    let paths = match &state.open_dialog_stand_in {
        Some(dir) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| ShellError::new(Code::Io, e.to_string()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            files.truncate(if many { usize::MAX } else { 1 });
            Some(files).filter(|f| !f.is_empty())
        }
        None => {
            let Some(dialog) = app.try_state::<tauri_plugin_dialog::Dialog<R>>() else {
                return Err(ShellError::new(
                    Code::Internal,
                    "The open dialog is not available.",
                ));
            };
            let builder = dialog.file().set_title(title);
            let picked = tauri::async_runtime::spawn_blocking(move || match many {
                true => builder.blocking_pick_files(),
                false => builder.blocking_pick_file().map(|f| vec![f]),
            })
            .await
            .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
            let paths: Result<Vec<PathBuf>, _> = picked
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.into_path())
                .collect();
            Some(paths.map_err(|e| ShellError::new(Code::Io, e.to_string()))?)
                .filter(|f| !f.is_empty())
        }
    };
    paths.map(|p| hold(&state, p)).transpose()
}

/// Asks for a folder with the desktop's folder dialog: a collector box's sync folder to merge.
/// `None` when cancelled. Where [`AppState::open_dialog_stand_in`] names a directory
/// (end-to-end tests), that directory is the "chosen" folder.
#[tauri::command]
pub async fn pick_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<OpenChoiceDto>, ShellError> {
    let folder = match &state.open_dialog_stand_in {
        Some(dir) => Some(dir.clone()),
        None => {
            let Some(dialog) = app.try_state::<tauri_plugin_dialog::Dialog<R>>() else {
                return Err(ShellError::new(
                    Code::Internal,
                    "The folder dialog is not available.",
                ));
            };
            let builder = dialog.file().set_title(title);
            let picked =
                tauri::async_runtime::spawn_blocking(move || builder.blocking_pick_folder())
                    .await
                    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
            picked
                .map(|p| p.into_path())
                .transpose()
                .map_err(|e| ShellError::new(Code::Io, e.to_string()))?
        }
    };
    folder.map(|f| hold(&state, vec![f])).transpose()
}

/// Merges a collector box's sync folder (chosen by its `token`) into the vault: the readings it
/// sealed there write-only, in any order and as often as the user likes (a file merged before
/// and unchanged is not read again; a file still being copied is taken next time). Writes the
/// folder's collector card at the first merge.
#[tauri::command]
pub async fn merge_folder(
    state: State<'_, AppState>,
    token: String,
) -> Result<MergedDto, ShellError> {
    let folder = take(&state, &token)?
        .into_iter()
        .next()
        .ok_or_else(|| ShellError::new(Code::BadRequest, "Choose the folder first."))?;
    let store = state.store.clone();
    off_the_runtime(move || {
        sync::merge_open(&store, &folder, &hearth_app::SystemClock).map_err(|e| match e {
            SyncError::Loan(l) => loan_error(l),
            other => ShellError::new(Code::BadRequest, other.to_string()),
        })
    })
    .await
}

/// Imports the files chosen or dropped (by their `token`): meter captures, Hearth's own
/// exports, supplier downloads. Readings already stored are skipped, so importing twice
/// changes nothing. Progress goes to the page as [`IMPORT_EVENT`]s.
#[tauri::command]
pub async fn import_files<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    token: String,
) -> Result<ImportDto, ShellError> {
    let files = take(&state, &token)?;
    let store = state.store.clone();
    off_the_runtime(move || {
        let total = files.len();
        let summary = on_loan(&store, |vault| {
            let keys = meter_keys::load(vault).ok().flatten();
            let mut done = 0usize;
            import::import(vault, &files, keys, &mut |event| match event {
                // Files done of all, and how far into the next one (by its bytes).
                import::Event::Read {
                    bytes,
                    total: Some(size),
                    ..
                } if size > 0 => {
                    let part = (bytes as f64 / size as f64).min(1.0);
                    let _ = app.emit(IMPORT_EVENT, (done, total, part));
                }
                import::Event::File(_) => {
                    done += 1;
                    let _ = app.emit(IMPORT_EVENT, (done, total, 0.0));
                }
                _ => {}
            })
        })
        .map_err(loan_error)?
        .map_err(|e| ShellError::new(Code::Io, e.to_string()))?;
        Ok(ImportDto {
            added: summary.added,
            duplicates: summary.duplicates,
            estimated: summary.estimated,
            refused: summary.refused,
            implausible: summary.implausible,
            unusable: summary
                .unusable
                .iter()
                .map(|u| format!("{}: {}", u.path.display(), u.why))
                .collect(),
        })
    })
    .await
}

/// Writes an encrypted backup, of everything or of the local dates `from`..`to` (either may be
/// empty), to the file chosen in the save dialog (its `token`).
#[tauri::command]
pub async fn backup_vault(
    state: State<'_, AppState>,
    from: String,
    to: String,
    token: String,
) -> Result<BackupDto, ShellError> {
    let mut vault = state.reader()?;
    let vault_path = lock(&state.store).path().to_path_buf();
    let dest = lock(&state.chosen).take(&token, Instant::now())?;
    off_the_runtime(move || {
        let bound = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
        let (from, to) = (bound(&from), bound(&to));
        let report = backup::to_destination(
            &mut vault,
            &vault_path,
            &dest,
            from.as_deref(),
            to.as_deref(),
        )
        .map_err(|e| match e {
            backup::BackupError::Date(d) => ShellError::new(Code::BadRequest, d.to_string()),
            backup::BackupError::Vault(v) => v.into(),
            backup::BackupError::Destination(d) => d.into(),
            other => ShellError::new(Code::Io, other.to_string()),
        })?;
        Ok(BackupDto {
            hours: report.chunks,
            settings: report.settings,
            path: dest.path().display().to_string(),
        })
    })
    .await
}

/// Merges the backup chosen in the open dialog (its `token`), which opens with `passphrase`,
/// into the vault. Meter source and keys come along only with `credentials`.
#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    token: String,
    passphrase: Zeroizing<String>,
    credentials: bool,
) -> Result<RestoreDto, ShellError> {
    let file = take(&state, &token)?
        .into_iter()
        .next()
        .ok_or_else(|| ShellError::new(Code::BadRequest, "Choose a backup file first."))?;
    let store = state.store.clone();
    off_the_runtime(move || {
        let now = jiff::Timestamp::now().as_second();
        let report = on_loan(&store, |vault| {
            backup::restore(vault, &file, &passphrase, now, credentials)
        })
        .map_err(loan_error)?
        .map_err(|e| {
            let mut shell = ShellError::from(e.source);
            if shell.code == Code::WrongPassphrase {
                shell.message = "That passphrase does not open this backup. Use the passphrase \
                                 Hearth had when the backup was made."
                    .into();
            }
            shell
        })?;
        Ok(RestoreDto::from(&report))
    })
    .await
}

/// Checks every sealed record of the vault (beside the collector) and lists the damaged ones.
#[tauri::command]
pub async fn verify_vault(state: State<'_, AppState>) -> Result<VerifyDto, ShellError> {
    let vault = state.reader()?;
    off_the_runtime(move || Ok(verify::check(&vault)?)).await
}
