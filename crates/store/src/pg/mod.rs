//! The PostGIS backend: a PostgreSQL database with the PostGIS extension, reached
//! through the `postgres` driver and an `r2d2` pool.
//!
//! Every connection runs with `synchronous_commit = on`, so a write returns only
//! once its commit is flushed to the server's WAL: the GeoPackage's promise.
//! Writes that read before they write (`update`, `occupancy`, `retire`) lock the
//! station's row (`FOR UPDATE`), so servers sharing the database apply them in turn.

mod read;
mod schema;
mod write;

use std::time::Duration;

use r2d2_postgres::postgres::{Config, NoTls};
use r2d2_postgres::{r2d2, PostgresConnectionManager};

use crate::error::{Result, StoreError};
use crate::location::Location;

/// Connections a store keeps to the database at most.
pub const DEFAULT_POOL_SIZE: u32 = 4;

/// How long opening a connection may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for a free pooled connection.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// The channel every committed write notifies (`pg_notify`, in the write's
/// transaction), so other servers on the database know to read the history.
pub(crate) const CHANGES_CHANNEL: &str = "yizhan_changes";

/// The pool's connections.
pub(crate) type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
/// One connection taken from the pool.
type Conn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// An open PostGIS store.
pub(crate) struct PgStore {
    pool: Pool,
    config: Config,
    /// The URL without its password, for messages.
    name: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("name", &self.name).finish()
    }
}

impl PgStore {
    /// Connect to `url`, create PostGIS if missing, and migrate.
    pub(crate) fn connect(url: &str) -> Result<Self> {
        let name = Location::Postgres(url.to_string()).to_string();
        let mut config: Config = url.parse().map_err(|e| StoreError::Invalid {
            field: "store",
            reason: format!("{name} is not a PostgreSQL URL: {e}"),
        })?;
        config
            .application_name("yizhan")
            .connect_timeout(CONNECT_TIMEOUT)
            .options("-c synchronous_commit=on");
        let pool = r2d2::Pool::builder()
            .max_size(DEFAULT_POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(POOL_TIMEOUT)
            // Failures reach the caller as StoreError::Unavailable (and the server
            // logs them once); r2d2 would log every retry besides.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(PostgresConnectionManager::new(config.clone(), NoTls))?;
        let store = PgStore { pool, config, name };
        store.migrate()?;
        Ok(store)
    }

    /// A handle on the pool that reads its state without the store.
    pub(crate) fn pool_monitor(&self) -> crate::PoolMonitor {
        crate::PoolMonitor {
            pool: self.pool.clone(),
        }
    }

    /// A listener on its own connection (not the pool's).
    pub(crate) fn listen(&self) -> Result<Listener> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))?;
        Ok(Listener { client })
    }

    /// A connection from the pool.
    fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&schema::MIGRATION_LOCK],
        )?;
        let has_meta: bool = tx
            .query_one("SELECT to_regclass('yizhan_meta') IS NOT NULL", &[])?
            .try_get(0)?;
        if !has_meta {
            // A database with tables of its own is not ours to write into.
            let tables: i64 = tx
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()
                     AND tablename <> 'spatial_ref_sys'",
                    &[],
                )?
                .try_get(0)?;
            if tables > 0 {
                return Err(StoreError::NotAStore(self.name.clone()));
            }
        }
        tx.batch_execute(schema::BOOTSTRAP)?;
        let version = read_version(&mut tx)?
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| StoreError::NotAStore(self.name.clone()))
            })
            .transpose()?
            .unwrap_or(0);
        if version > crate::schema::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: crate::schema::SCHEMA_VERSION,
            });
        }
        for m in schema::MIGRATIONS.iter().skip(version.max(0) as usize) {
            tx.batch_execute(m)?;
        }
        tx.execute(
            "INSERT INTO yizhan_meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&crate::schema::SCHEMA_VERSION.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The schema version of the database.
    pub(crate) fn schema_version(&self) -> Result<i64> {
        let mut c = self.conn()?;
        Ok(read_version(&mut *c)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// `ok`, or the layers with invalid or non-WGS 84 geometries.
    pub(crate) fn integrity_check(&self) -> Result<String> {
        let mut c = self.conn()?;
        let mut problems = Vec::new();
        for table in LAYERS {
            let n: i64 = c
                .query_one(
                    &format!(
                        "SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom) OR ST_SRID(geom) <> 4326"
                    ),
                    &[],
                )?
                .try_get(0)?;
            if n > 0 {
                problems.push(format!("{n} invalid geometries in {table}"));
            }
        }
        Ok(if problems.is_empty() {
            "ok".into()
        } else {
            problems.join("; ")
        })
    }
}

/// Told of every write committed to a PostGIS store, by any server.
pub struct Listener {
    client: postgres::Client,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

impl Listener {
    /// Wait up to `timeout` for writes; `true` when at least one was committed
    /// (every notification already waiting is taken). An error means the
    /// connection is lost ([`StoreError::Unavailable`]): listen again.
    pub fn wait(&mut self, timeout: Duration) -> Result<bool> {
        use postgres::fallible_iterator::FallibleIterator as _;
        let mut n = self.client.notifications();
        let first = n.timeout_iter(timeout).next()?;
        if first.is_none() {
            // A lost connection shows only as silence: check it.
            drop(n);
            if self.client.is_closed() {
                // The closed connection's own error, as Unavailable.
                self.client.simple_query("")?;
            }
            return Ok(false);
        }
        let mut waiting = n.iter();
        while waiting.next()?.is_some() {}
        Ok(true)
    }
}

/// The feature tables.
const LAYERS: [&str; 5] = ["stations", "hotspots", "cells", "candidates", "boundary"];

/// The stored schema version, if any.
fn read_version(c: &mut impl postgres::GenericClient) -> Result<Option<String>> {
    Ok(c.query_opt(
        "SELECT value FROM yizhan_meta WHERE key = 'schema_version'",
        &[],
    )?
    .map(|r| r.try_get(0))
    .transpose()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_have_every_migration() {
        assert_eq!(
            super::schema::MIGRATIONS.len() as i64,
            crate::schema::SCHEMA_VERSION
        );
        assert_eq!(
            crate::schema::MIGRATIONS.len() as i64,
            crate::schema::SCHEMA_VERSION
        );
    }
}
