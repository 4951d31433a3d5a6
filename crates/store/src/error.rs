//! The store's errors: [`StoreError`], with SQLite's own errors kept opaque
//! inside [`DbError`].

/// Errors of the store. SQLite's own errors stay inside: what a caller may act on
/// has its own variant ([`StoreError::Busy`]); the rest is [`StoreError::Database`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another connection held the file's lock for longer than the busy timeout;
    /// nothing was written, and the same call may succeed when retried.
    #[error("the store is busy (another connection holds its lock); retry")]
    Busy,
    /// The database failed (I/O, a read-only or corrupt file, a bug).
    #[error("store: {0}")]
    Database(#[source] DbError),
    /// The file was written by a newer yizhan.
    #[error("the store's schema version {found} is newer than this yizhan supports ({supported}); upgrade yizhan")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The file is an SQLite database but not a GeoPackage written by yizhan.
    #[error("{0} is not a yizhan GeoPackage store")]
    NotAStore(String),
    /// No station with this id.
    #[error("no station with id {0:?}")]
    UnknownStation(String),
    /// A station with this id exists already.
    #[error("a station with id {0:?} exists already")]
    DuplicateStation(String),
    /// No scenario with this id.
    #[error("no scenario with id {0}")]
    UnknownScenario(i64),
    /// No token with this id.
    #[error("no token with id {0}")]
    UnknownToken(i64),
    /// A value that the store refuses.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A stored row could not be read back into the domain (file edited by hand?).
    #[error("corrupt row in {table} (id {id}): {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row id.
        id: String,
        /// What is wrong.
        reason: String,
    },
}

/// A failure of the underlying database, opaque to callers (they see it only as
/// an error source, to log).
#[derive(Debug)]
pub struct DbError(rusqlite::Error);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Database(DbError(e)),
        }
    }
}

/// Result of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
