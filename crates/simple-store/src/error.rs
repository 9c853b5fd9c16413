//! [`StoreError`] and the crate's [`Result`].

use std::path::PathBuf;

/// What a store operation returns.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Why a store operation failed.
///
/// The variants are shaped by what a caller does about them: [`StoreError::Invalid`] is a
/// bug in the caller (nothing was written), [`StoreError::Busy`] is worth a retry (a SIP
/// server answers 500 with Retry-After, RFC 3261 §21.5.1), the rest are operational.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The caller handed the store a value it refuses; nothing was written.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which kind of value: `"user"`, `"HA1"`, `"binding"`.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database stayed locked past the busy timeout (another process, such as the
    /// `herald user` CLI, held the write lock).
    #[error("database busy: {0}")]
    Busy(String),
    /// A stored row does not decode into the domain type (edited by hand, or written by
    /// an incompatible version).
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// The table the row came from.
        table: &'static str,
        /// What did not decode.
        reason: String,
    },
    /// The store has been closed.
    #[error("store is closed")]
    Closed,
    /// The data directory could not be created.
    #[error("cannot create data directory {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Bringing the schema up to date failed (for example: the database was written by a
    /// newer Herald with migrations this build does not know).
    #[error("schema migration failed: {0}")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Any other database error.
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StoreError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(table: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            table,
            reason: reason.into(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            // "Someone else holds a lock": `SQLITE_BUSY` (the busy timeout ran out) and
            // `SQLITE_LOCKED`, with their extended codes (`SQLITE_BUSY_SNAPSHOT`, ...).
            rusqlite::Error::SqliteFailure(f, message)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Busy(message.clone().unwrap_or_else(|| f.to_string()))
            }
            _ => StoreError::Backend(Box::new(e)),
        }
    }
}
