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
    /// `herald user` CLI, held the write lock), or no pooled connection came free in time.
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

/// SQLite primary result codes that mean "someone else holds a lock": `SQLITE_BUSY` (5)
/// and `SQLITE_LOCKED` (6). The extended codes (`SQLITE_BUSY_SNAPSHOT` = 517, ...) share
/// the low byte.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolClosed => StoreError::Closed,
            sqlx::Error::PoolTimedOut => {
                StoreError::Busy("timed out waiting for a database connection".into())
            }
            sqlx::Error::Database(db) => {
                let code = db.code().and_then(|c| c.parse::<i32>().ok());
                match code.map(|c| c & 0xff) {
                    Some(SQLITE_BUSY | SQLITE_LOCKED) => StoreError::Busy(db.message().to_owned()),
                    _ => StoreError::Backend(Box::new(sqlx::Error::Database(db))),
                }
            }
            other => StoreError::Backend(Box::new(other)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => match StoreError::from(inner) {
                busy @ (StoreError::Busy(_) | StoreError::Closed) => busy,
                StoreError::Backend(b) => StoreError::Migrate(b),
                other => StoreError::Migrate(Box::new(other)),
            },
            other => StoreError::Migrate(Box::new(other)),
        }
    }
}
