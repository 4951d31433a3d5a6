//! The GeoPackage backend: one SQLite file (WAL, `synchronous = FULL`), opened
//! and migrated here; its reads and writes live in the files named after each
//! concept (`layers`, `stations`, `scenarios`, `history`, `import`, `auth`).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::schema;

/// An open GeoPackage store.
#[derive(Debug)]
pub(crate) struct GpkgStore {
    pub(crate) conn: Connection,
}

impl GpkgStore {
    /// Open (or create) a store file, applying migrations.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn, &path.display().to_string())
    }

    /// A store in memory (for tests and `yizhan serve` without a file).
    pub(crate) fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?, ":memory:")
    }

    fn init(conn: Connection, name: &str) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL + FULL: a commit is durable when it returns.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // The functions the R-tree triggers call, before any write or migration.
        crate::rtree::register_functions(&conn)?;
        let app_id: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let has_tables: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if has_tables && app_id != schema::GPKG_APPLICATION_ID {
            return Err(StoreError::NotAStore(name.to_string()));
        }
        let mut store = GpkgStore { conn };
        store.migrate(name)?;
        Ok(store)
    }

    /// The schema version of the open file.
    pub(crate) fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM yizhan_meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    fn migrate(&mut self, name: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.pragma_update(None, "application_id", schema::GPKG_APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", schema::GPKG_USER_VERSION)?;
        tx.execute_batch(schema::GPKG_CORE)?;
        tx.execute(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
             ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
             ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
             ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
            [schema::WGS84_WKT],
        )?;
        let version: i64 = tx
            .query_row(
                "SELECT value FROM yizhan_meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|v| {
                v.parse()
                    .map_err(|_| StoreError::NotAStore(name.to_string()))
            })
            .transpose()?
            .unwrap_or(0);
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        for m in &schema::MIGRATIONS[version as usize..] {
            tx.execute_batch(m)?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO yizhan_meta (key, value) VALUES ('schema_version', ?1)",
            [schema::SCHEMA_VERSION.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `ok` or the problems found.
    pub(crate) fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}
