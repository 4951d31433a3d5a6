//! # yizhan-store
//!
//! yizhan's store: stations, hotspots, cells, candidates, the boundary, saved
//! scenarios, an append-only history of changes, and hashed access tokens, behind
//! one interface, [`Store`], with two backends:
//!
//! - **GeoPackage** (the default, embedded): one OGC GeoPackage 1.3 file (SQLite,
//!   through `rusqlite` with the bundled SQLite). QGIS and GDAL open the file
//!   directly (`ogrinfo -ro store.gpkg`). WAL journal with `synchronous = FULL`.
//! - **PostGIS** (`postgres://USER@HOST:PORT/DB`): the layers are PostGIS tables
//!   (`geometry(Point, 4326)` … with GiST indexes) that QGIS and `ogrinfo PG:…`
//!   open; through the `postgres` driver and an `r2d2` pool, with
//!   `synchronous_commit = on` (module `pg`).
//!
//! Durability, the same on both: a write returns only once it is committed. Every
//! write validates first and runs in one transaction together with its history
//! record: an invalid write changes nothing.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod error;
mod extents;
pub mod gpkg;
mod gpkg_store;
mod history;
mod import;
mod layers;
mod location;
mod pg;
mod rows;
pub mod rtree;
mod scenarios;
pub mod schema;
mod stations;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

use std::path::Path;

use chrono::{DateTime, Utc};
use yizhan_core::model::Station;
use yizhan_core::Dataset;

pub use auth::{Role, TokenInfo};
pub use error::{DbError, Result, StoreError};
pub use history::HistoryEntry;
pub use import::ImportSummary;
pub use location::Location;
pub use pg::DEFAULT_POOL_SIZE;
pub use scenarios::Scenario;

use gpkg_store::GpkgStore;
use pg::PgStore;

/// An open store, on either backend.
///
/// An enum over the two backends rather than a trait object: the set of backends
/// is closed and lives in this crate, so a `match` dispatches each call without
/// boxing, and methods may take `impl FnMut` callbacks (import progress) that a
/// `dyn` trait could not. The interface is synchronous, as SQLite is: the server
/// calls it on blocking threads while holding its writer lock, so the served
/// snapshots follow the order of commits. The PostGIS backend keeps that shape
/// with the `postgres` driver (the blocking face of `tokio-postgres`, running
/// its own small runtime) and an `r2d2` pool, so the server needs no second
/// code path. Call it from a blocking context (`spawn_blocking`, or before the
/// server's runtime starts), never from inside an async task.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Gpkg(GpkgStore),
    Postgres(Box<PgStore>),
}

/// A handle on a PostGIS store's connection pool: reads how many connections are
/// open and idle without taking the store (cheap to clone, shares the pool).
#[derive(Clone)]
pub struct PoolMonitor {
    pool: pg::Pool,
}

impl std::fmt::Debug for PoolMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolMonitor")
            .field("status", &self.status())
            .finish()
    }
}

/// A connection pool's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolStatus {
    /// Connections open (in use or idle).
    pub connections: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Connections the pool opens at most.
    pub max: u32,
}

impl PoolMonitor {
    /// The pool's state now.
    pub fn status(&self) -> PoolStatus {
        let st = self.pool.state();
        PoolStatus {
            connections: st.connections,
            idle: st.idle_connections,
            max: self.pool.max_size(),
        }
    }
}

/// Which backend a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// One GeoPackage file (or SQLite in memory).
    Gpkg,
    /// A PostgreSQL database with PostGIS.
    Postgres,
}

/// Call the same method on whichever backend the store has.
macro_rules! dispatch {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.backend {
            Backend::Gpkg($b) => $call,
            Backend::Postgres($b) => $call,
        }
    };
    (mut $self:ident, $b:ident => $call:expr) => {
        match &mut $self.backend {
            Backend::Gpkg($b) => $call,
            Backend::Postgres($b) => $call,
        }
    };
}

mod changes;
pub use changes::{Change, ChangeEntry};
pub use pg::Listener;

impl Store {
    /// Open (or create) a GeoPackage store file, applying migrations.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self::of(Backend::Gpkg(GpkgStore::open(path)?)))
    }

    /// A GeoPackage store in memory (for tests and `yizhan serve` without a store).
    pub fn open_in_memory() -> Result<Self> {
        Ok(Self::of(Backend::Gpkg(GpkgStore::open_in_memory()?)))
    }

    /// Connect to a PostgreSQL database (`postgres://USER@HOST:PORT/DB`), create
    /// the PostGIS extension if it is missing, and apply migrations.
    pub fn connect(url: &str) -> Result<Self> {
        Ok(Self::of(Backend::Postgres(Box::new(PgStore::connect(
            url,
        )?))))
    }

    /// Open the store at `location`: a GeoPackage file or a PostgreSQL URL.
    pub fn open_at(location: &Location) -> Result<Self> {
        match location {
            Location::File(path) => Self::open(path),
            Location::Postgres(url) => Self::connect(url),
        }
    }

    fn of(backend: Backend) -> Self {
        Store { backend }
    }

    /// The connection pool's monitor (PostGIS; a GeoPackage has no pool).
    pub fn pool_monitor(&self) -> Option<PoolMonitor> {
        match &self.backend {
            Backend::Gpkg(_) => None,
            Backend::Postgres(pg) => Some(pg.pool_monitor()),
        }
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> BackendKind {
        match self.backend {
            Backend::Gpkg(_) => BackendKind::Gpkg,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<i64> {
        dispatch!(self, b => b.schema_version())
    }

    /// The backend's own consistency check: `ok`, or the problems found
    /// (GeoPackage: `PRAGMA integrity_check`; PostGIS: invalid or non-WGS 84
    /// geometries).
    pub fn integrity_check(&self) -> Result<String> {
        dispatch!(self, b => b.integrity_check())
    }

    /// Read every layer into a dataset (R-trees built).
    pub fn load(&self) -> Result<Dataset> {
        dispatch!(self, b => b.load())
    }

    /// Every current station, in insertion order.
    pub fn stations(&self) -> Result<Vec<Station>> {
        dispatch!(self, b => b.stations())
    }

    /// One station.
    pub fn station(&self, id: &str) -> Result<Station> {
        dispatch!(self, b => b.station(id))
    }

    /// Add a new station. Fails if the id exists.
    pub fn create_station(&mut self, actor: &str, s: &Station) -> Result<Station> {
        dispatch!(mut self, b => b.create_station(actor, s))
    }

    /// Replace a station's attributes and position. Fails if the id is unknown.
    pub fn update_station(&mut self, actor: &str, s: &Station) -> Result<Station> {
        dispatch!(mut self, b => b.update_station(actor, s))
    }

    /// Retire (remove) a station; its last state stays in the history.
    pub fn retire_station(&mut self, actor: &str, id: &str) -> Result<Station> {
        dispatch!(mut self, b => b.retire_station(actor, id))
    }

    /// Report how many seats of a station are taken at `at`. Returns the station
    /// as stored (PostGIS keeps the time to the microsecond).
    pub fn set_occupancy(
        &mut self,
        actor: &str,
        id: &str,
        occupied: u32,
        at: DateTime<Utc>,
    ) -> Result<Station> {
        dispatch!(mut self, b => b.set_occupancy(actor, id, occupied, at))
    }

    /// Save a scenario.
    pub fn save_scenario(
        &mut self,
        actor: &str,
        name: &str,
        candidates: &serde_json::Value,
        comparison: Option<&serde_json::Value>,
    ) -> Result<Scenario> {
        dispatch!(mut self, b => b.save_scenario(actor, name, candidates, comparison))
    }

    /// Every saved scenario, newest first.
    pub fn scenarios(&self) -> Result<Vec<Scenario>> {
        dispatch!(self, b => b.scenarios())
    }

    /// One scenario.
    pub fn scenario(&self, id: i64) -> Result<Scenario> {
        dispatch!(self, b => b.scenario(id))
    }

    /// Delete a scenario (its content stays in the history).
    pub fn delete_scenario(&mut self, actor: &str, id: i64) -> Result<()> {
        dispatch!(mut self, b => b.delete_scenario(actor, id))
    }

    /// History records after `after_seq`, oldest first, at most `limit`.
    pub fn history(&self, after_seq: i64, limit: usize) -> Result<Vec<HistoryEntry>> {
        dispatch!(self, b => b.history(after_seq, limit))
    }

    /// Replace every layer with the dataset's, in one transaction. `progress` is
    /// called with (done, total) features.
    pub fn import(
        &mut self,
        data: &Dataset,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportSummary> {
        dispatch!(mut self, b => b.import(data, progress))
    }

    /// Make a token; returns its record and the secret, which is not stored.
    pub fn create_token(
        &mut self,
        role: &Role,
        label: Option<&str>,
    ) -> Result<(TokenInfo, String)> {
        dispatch!(mut self, b => b.create_token(role, label))
    }

    /// The record of a valid, unrevoked token.
    pub fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        dispatch!(self, b => b.verify_token(secret))
    }

    /// Revoke a token by id.
    pub fn revoke_token(&mut self, id: i64) -> Result<()> {
        dispatch!(mut self, b => b.revoke_token(id))
    }

    /// Every token (without secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        dispatch!(self, b => b.tokens())
    }

    /// The newest history sequence number (0 when the history is empty).
    pub fn last_seq(&self) -> Result<i64> {
        dispatch!(self, b => b.last_seq())
    }

    /// A listener told of every write committed to the store by anyone (PostGIS:
    /// its own connection, `LISTEN`); `None` on the GeoPackage, which only this
    /// process writes.
    pub fn listen(&self) -> Result<Option<Listener>> {
        match &self.backend {
            Backend::Gpkg(_) => Ok(None),
            Backend::Postgres(b) => b.listen().map(Some),
        }
    }
}

#[cfg(test)]
mod tests;
