//! Tauri commands, by screen: each one a few lines from the UI's request to a `hearth-app`
//! call and back, its errors as `{code, message}`.

pub mod costs;
pub mod data;
pub mod history;
pub mod live;
pub mod meter;
pub mod session;
pub mod settings;

use crate::error::{Code, ShellError};
pub(crate) use live::live_image;
pub(crate) use meter::{check_local, start_collecting};
pub(crate) use session::open_vault_mut;

/// Runs blocking work (vault reads, drawing) on a blocking thread.
pub(crate) async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ShellError> + Send + 'static,
) -> Result<T, ShellError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?
}
