//! The store's errors: [`StoreError`], with the drivers' own errors (SQLite's,
//! PostgreSQL's, the pool's) kept opaque inside [`DbError`].

/// Errors of the store, the same for both backends. The drivers' own errors stay
/// inside: what a caller may act on has its own variant ([`StoreError::Busy`],
/// [`StoreError::Unavailable`]); the rest is [`StoreError::Database`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another connection held the file's lock for longer than the busy timeout;
    /// nothing was written, and the same call may succeed when retried.
    #[error("the store is busy (another connection holds its lock); retry")]
    Busy,
    /// The database server cannot be reached (PostGIS: connection refused or lost,
    /// no pooled connection in time); nothing was written, retry later.
    #[error("the store's database cannot be reached; retry")]
    Unavailable(#[source] DbError),
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
    /// The file is an SQLite database but not a GeoPackage written by yizhan (or
    /// the PostgreSQL database holds tables but no yizhan schema).
    #[error("{0} is not a yizhan store")]
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
pub struct DbError(Driver);

/// Which driver failed.
#[derive(Debug)]
enum Driver {
    Sqlite(rusqlite::Error),
    Postgres(postgres::Error),
    Pool(r2d2_postgres::r2d2::Error),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Driver::Sqlite(e) => e.fmt(f),
            // Display of a server error is only its severity and code: show its message.
            Driver::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(f, "{}: {}", db.severity(), db.message()),
                None => e.fmt(f),
            },
            Driver::Pool(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Driver::Sqlite(e) => e.source(),
            Driver::Postgres(e) => e.source(),
            Driver::Pool(e) => e.source(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Database(DbError(Driver::Sqlite(e))),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState as S;
        let code = e.code().cloned();
        match code {
            // Serialisation failures, deadlocks and lock timeouts: retry the call.
            Some(c)
                if c == S::T_R_SERIALIZATION_FAILURE
                    || c == S::T_R_DEADLOCK_DETECTED
                    || c == S::LOCK_NOT_AVAILABLE =>
            {
                StoreError::Busy
            }
            // The server is going away or refuses connections: retry later.
            Some(c)
                if c == S::ADMIN_SHUTDOWN
                    || c == S::CRASH_SHUTDOWN
                    || c == S::CANNOT_CONNECT_NOW
                    || c == S::TOO_MANY_CONNECTIONS =>
            {
                StoreError::Unavailable(DbError(Driver::Postgres(e)))
            }
            Some(_) => StoreError::Database(DbError(Driver::Postgres(e))),
            // No SQLSTATE: the connection itself failed (closed, I/O, timed out), or
            // a value did not convert (a bug: Database).
            None if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) =>
            {
                StoreError::Unavailable(DbError(Driver::Postgres(e)))
            }
            None => StoreError::Database(DbError(Driver::Postgres(e))),
        }
    }
}

impl From<r2d2_postgres::r2d2::Error> for StoreError {
    fn from(e: r2d2_postgres::r2d2::Error) -> Self {
        // The pool's only error: no connection could be had in time.
        StoreError::Unavailable(DbError(Driver::Pool(e)))
    }
}

/// Result of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
