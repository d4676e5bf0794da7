//! Errors at the IPC edge: a small closed set of codes the UI can act on, and a message a
//! homeowner understands. Serialized as `{ "code": "...", "message": "..." }`.

use hearth_vault::VaultError;
use serde::Serialize;

/// What kind of failure reached the UI; the UI switches on this, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Code {
    /// The request itself was not valid (a size out of range, an unknown name).
    BadRequest,
    /// No reading has arrived yet.
    NoData,
    /// A chart could not be drawn.
    Chart,
    /// The passphrase does not open the vault.
    WrongPassphrase,
    /// The vault is locked (or not created yet).
    Locked,
    /// Another Hearth process is writing to the vault.
    Busy,
    /// The vault's data failed an integrity check.
    Corrupt,
    /// A file could not be read or written.
    Io,
    /// The OS keyring could not keep or give the vault's key.
    Keyring,
    /// A meter key does not open the meter's frames.
    WrongKey,
    /// Something unexpected inside the app.
    Internal,
}

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ShellError {
    /// The stable code.
    pub code: Code,
    /// What happened, for a human.
    pub message: String,
}

impl ShellError {
    /// An error with a code and message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ShellError {
            code,
            message: message.into(),
        }
    }

    /// The vault is not open.
    pub fn locked() -> Self {
        ShellError::new(
            Code::Locked,
            "Hearth is locked. Unlock it with your passphrase first.",
        )
    }
}

impl From<hearth_charts::ChartError> for ShellError {
    fn from(e: hearth_charts::ChartError) -> Self {
        match e {
            hearth_charts::ChartError::Size { .. } => {
                ShellError::new(Code::BadRequest, e.to_string())
            }
            other => ShellError::new(Code::Chart, other.to_string()),
        }
    }
}

impl From<hearth_app::OpenError> for ShellError {
    fn from(e: hearth_app::OpenError) -> Self {
        match e {
            hearth_app::OpenError::Vault(v) => v.into(),
            // The window's way to turn the keyring on again is Settings.
            e @ (hearth_app::OpenError::NoKeyringEntry
            | hearth_app::OpenError::KeyringKeyDoesNotFit) => ShellError::new(
                Code::Keyring,
                format!("{} in Settings.", e.to_string().trim_end_matches('.')),
            ),
            other => ShellError::new(Code::Keyring, other.to_string()),
        }
    }
}

impl From<VaultError> for ShellError {
    fn from(e: VaultError) -> Self {
        let code = match &e {
            VaultError::WrongPassphrase => Code::WrongPassphrase,
            // Read-only: the app follows another process that writes (`hearth collect`).
            VaultError::Busy | VaultError::ReadOnly => Code::Busy,
            VaultError::Damaged { .. } | VaultError::NotAVault(_) | VaultError::Backup(_) => {
                Code::Corrupt
            }
            VaultError::Io(_)
            | VaultError::AlreadyExists(_)
            | VaultError::Missing(_)
            | VaultError::ReadOnlyStorage(_)
            | VaultError::WriterLock { .. } => Code::Io,
            // Their messages say to unlock with the passphrase instead.
            VaultError::NoSecretSlot | VaultError::WrongSecret => Code::Locked,
            _ => Code::Internal,
        };
        let message = match code {
            Code::WrongPassphrase => {
                "That passphrase does not unlock this vault. Check it and try again.".to_string()
            }
            _ => e.to_string(),
        };
        ShellError::new(code, message)
    }
}

impl From<hearth_app::history::HistoryError> for ShellError {
    fn from(e: hearth_app::history::HistoryError) -> Self {
        use hearth_app::history::HistoryError;
        match e {
            HistoryError::Vault(v) => v.into(),
            HistoryError::Chart(c) => c.into(),
            HistoryError::Range => ShellError::new(Code::BadRequest, "That date is out of range."),
        }
    }
}

impl From<hearth_app::export::ExportError> for ShellError {
    fn from(e: hearth_app::export::ExportError) -> Self {
        use hearth_app::export::ExportError;
        match e {
            ExportError::Vault(v) => v.into(),
            ExportError::Date(_)
            | ExportError::EmptyRange
            | ExportError::VaultFile(_)
            | ExportError::NotChosen => ShellError::new(Code::BadRequest, e.to_string()),
            ExportError::Random => ShellError::new(Code::Internal, e.to_string()),
            // Exists, a link, not a file, changed since chosen, a failed write.
            _ => ShellError::new(Code::Io, e.to_string()),
        }
    }
}

impl From<hearth_app::preferences::PrefsError> for ShellError {
    fn from(e: hearth_app::preferences::PrefsError) -> Self {
        let code = match e {
            hearth_app::preferences::PrefsError::Invalid(_) => Code::BadRequest,
            hearth_app::preferences::PrefsError::Io { .. } => Code::Io,
        };
        ShellError::new(code, e.to_string())
    }
}
