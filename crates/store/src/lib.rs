//! # yizhan-store
//!
//! yizhan's embedded store: one OGC GeoPackage 1.3 file (SQLite, through `rusqlite`
//! with the bundled SQLite) holding stations, hotspots, cells, candidates, the
//! boundary, saved scenarios, an append-only history of changes, and hashed access
//! tokens. QGIS and GDAL open the file directly (`ogrinfo -ro store.gpkg`).
//!
//! Durability: WAL journal with `synchronous = FULL`, so a write returns only once
//! it is on disk. Every write validates first and runs in one transaction together
//! with its history record: an invalid write changes nothing.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod gpkg;
pub mod schema;

use std::path::Path;

use chrono::{DateTime, Utc};
use geo_types::Point;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use yizhan_core::hours::OpeningHours;
use yizhan_core::io::StationProps;
use yizhan_core::model::{
    AmenitySet, Boundary, Candidate, GridCell, Hotspot, Occupancy, Station, StationKind, WorkerType,
};
use yizhan_core::{Dataset, LonLat};

pub use auth::{Role, TokenInfo};

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

/// One record of the append-only history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Sequence number, increasing.
    pub seq: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// Who (token label / role, or `import`).
    pub actor: String,
    /// What: create, update, retire, occupancy, import, scenario_save, scenario_delete.
    pub action: String,
    /// Which kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: String,
    /// State before, as JSON.
    pub before: Option<serde_json::Value>,
    /// State after, as JSON.
    pub after: Option<serde_json::Value>,
}

/// A saved planning scenario: candidate sites and their comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Id assigned by the store.
    pub id: i64,
    /// Name given by the planner.
    pub name: String,
    /// When it was saved.
    pub created_at: String,
    /// Who saved it.
    pub created_by: String,
    /// Candidate sites (GeoJSON FeatureCollection).
    pub candidates: serde_json::Value,
    /// The comparison table, if computed.
    pub comparison: Option<serde_json::Value>,
}

/// Counts of what an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Stations written.
    pub stations: usize,
    /// Hotspots written.
    pub hotspots: usize,
    /// Cells written.
    pub cells: usize,
    /// Candidates written.
    pub candidates: usize,
    /// Boundary features written (0 or 1).
    pub boundary: usize,
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A station as the history records it: its GeoJSON properties (the one schema,
/// [`StationProps`]) and its position.
#[derive(Serialize)]
struct StationRecord<'a> {
    #[serde(flatten)]
    props: StationProps<'a>,
    lat: f64,
    lon: f64,
}

fn station_json(s: &Station) -> serde_json::Value {
    serde_json::to_value(StationRecord {
        props: StationProps::of(s),
        lat: s.location.lat,
        lon: s.location.lon,
    })
    .unwrap_or_default()
}

fn amenities_text(a: AmenitySet) -> String {
    a.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(",")
}

impl Store {
    /// Open (or create) a store file, applying migrations.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn, &path.display().to_string())
    }

    /// A store in memory (for tests and `yizhan serve` without a file).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?, ":memory:")
    }

    fn init(conn: Connection, name: &str) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL + FULL: a commit is durable when it returns.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let app_id: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let has_tables: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if has_tables && app_id != schema::GPKG_APPLICATION_ID {
            return Err(StoreError::NotAStore(name.to_string()));
        }
        let mut store = Store { conn };
        store.migrate(name)?;
        Ok(store)
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
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

    /// Replace every layer with the dataset's, in one transaction. `progress` is called
    /// with (done, total) features.
    pub fn import(
        &mut self,
        data: &Dataset,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportSummary> {
        let total =
            (data.stations.len() + data.hotspots.len() + data.cells.len() + data.candidates.len())
                as u64;
        let mut done = 0u64;
        let tx = self.conn.transaction()?;
        for t in ["stations", "hotspots", "cells", "candidates", "boundary"] {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
        let mut tick = |n: &mut u64| {
            *n += 1;
            if *n % 10_000 == 0 || *n == total {
                progress(*n, total);
            }
        };
        for s in data.stations.items() {
            insert_station(&tx, s)?;
            tick(&mut done);
        }
        {
            let mut st = tx.prepare("INSERT INTO hotspots (geom, id, workers, worker_type, grid_unit) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for h in data.hotspots.items() {
                st.execute(params![
                    gpkg::point_blob(Point::new(h.location.lon, h.location.lat)),
                    h.id,
                    h.workers,
                    h.worker_type.as_str(),
                    h.grid_unit
                ])?;
                tick(&mut done);
            }
            let mut st = tx.prepare("INSERT INTO cells (geom, id, grid_unit, unit_name, demand) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for c in data.cells.items() {
                st.execute(params![
                    gpkg::polygon_blob(&c.polygon),
                    c.id,
                    c.grid_unit,
                    c.unit_name,
                    c.demand
                ])?;
                tick(&mut done);
            }
            let mut st = tx.prepare(
                "INSERT INTO candidates (geom, id, name, capacity) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for c in data.candidates.items() {
                st.execute(params![
                    gpkg::point_blob(Point::new(c.location.lon, c.location.lat)),
                    c.id,
                    c.name,
                    c.capacity
                ])?;
                tick(&mut done);
            }
        }
        if let Some(b) = &data.boundary {
            tx.execute(
                "INSERT INTO boundary (geom, name, properties) VALUES (?1, ?2, ?3)",
                params![
                    gpkg::multipolygon_blob(&b.geometry),
                    b.name,
                    serde_json::Value::Object(b.properties.clone()).to_string()
                ],
            )?;
        }
        record(
            &tx,
            "import",
            "import",
            "dataset",
            "*",
            None,
            Some(serde_json::json!({
                "stations": data.stations.len(), "hotspots": data.hotspots.len(),
                "cells": data.cells.len(), "candidates": data.candidates.len(),
            })),
        )?;
        update_extents(
            &tx,
            &["stations", "hotspots", "cells", "candidates", "boundary"],
        )?;
        tx.commit()?;
        Ok(ImportSummary {
            stations: data.stations.len(),
            hotspots: data.hotspots.len(),
            cells: data.cells.len(),
            candidates: data.candidates.len(),
            boundary: usize::from(data.boundary.is_some()),
        })
    }

    /// Read every layer into a dataset (R-trees built).
    pub fn load(&self) -> Result<Dataset> {
        let stations = self.stations()?;
        let hotspots = read_all(
            &self.conn,
            "SELECT id, geom, workers, worker_type, grid_unit FROM hotspots ORDER BY fid",
            hotspot_row,
        )?;
        let cells = read_all(
            &self.conn,
            "SELECT id, geom, grid_unit, unit_name, demand FROM cells ORDER BY fid",
            cell_row,
        )?;
        let candidates = read_all(
            &self.conn,
            "SELECT id, geom, name, capacity FROM candidates ORDER BY fid",
            candidate_row,
        )?;
        let boundary = self
            .conn
            .query_row(
                "SELECT geom, name, properties FROM boundary ORDER BY fid LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?
            .map(|(g, name, props)| -> Result<Boundary> {
                let geometry = match gpkg::decode(&g).map_err(|e| corrupt("boundary", &name, e))? {
                    gpkg::Geom::MultiPolygon(m) => m,
                    gpkg::Geom::Polygon(p) => geo_types::MultiPolygon::new(vec![p]),
                    gpkg::Geom::Point(_) => return Err(corrupt("boundary", &name, "a point")),
                };
                let properties =
                    serde_json::from_str(&props).map_err(|e| corrupt("boundary", &name, e))?;
                Ok(Boundary {
                    name,
                    geometry,
                    properties,
                })
            })
            .transpose()?;
        Ok(Dataset::new(
            stations, hotspots, cells, candidates, boundary,
        ))
    }

    /// Every current station, in insertion order.
    pub fn stations(&self) -> Result<Vec<Station>> {
        read_all(&self.conn, &format!("{STATION_SELECT} ORDER BY fid"), |r| {
            station_row(r)?
        })
    }

    /// One station.
    pub fn station(&self, id: &str) -> Result<Station> {
        get_station(&self.conn, id)
    }

    /// Add a new station. Fails if the id exists.
    pub fn create_station(&mut self, actor: &str, s: &Station) -> Result<Station> {
        self.write_station(actor, s, StationWrite::Create)
    }

    /// Replace a station's attributes and position. Fails if the id is unknown.
    pub fn update_station(&mut self, actor: &str, s: &Station) -> Result<Station> {
        self.write_station(actor, s, StationWrite::Update)
    }

    /// Validate `s`, then create or update it together with its history record and
    /// the layer's extent, in one transaction.
    fn write_station(&mut self, actor: &str, s: &Station, how: StationWrite) -> Result<Station> {
        validate_station(s)?;
        let tx = self.conn.transaction()?;
        let before = match how {
            StationWrite::Create => {
                if get_station(&tx, &s.id).is_ok() {
                    return Err(StoreError::DuplicateStation(s.id.clone()));
                }
                insert_station(&tx, s)?;
                None
            }
            StationWrite::Update => {
                let before = get_station(&tx, &s.id)?;
                tx.execute(
                    "UPDATE stations SET geom = ?2, name = ?3, name_zh = ?4, kind = ?5, amenities = ?6, capacity = ?7,
                     opening_hours = ?8, grid_unit = ?9, operator = ?10, address = ?11, occupied = ?12,
                     occupancy_reported_at = ?13 WHERE id = ?1",
                    station_params(s),
                )?;
                Some(station_json(&before))
            }
        };
        let action = match how {
            StationWrite::Create => "create",
            StationWrite::Update => "update",
        };
        record(
            &tx,
            actor,
            action,
            "station",
            &s.id,
            before,
            Some(station_json(s)),
        )?;
        update_extents(&tx, &["stations"])?;
        tx.commit()?;
        Ok(s.clone())
    }

    /// Retire (remove) a station; its last state stays in the history.
    pub fn retire_station(&mut self, actor: &str, id: &str) -> Result<Station> {
        let tx = self.conn.transaction()?;
        let before = get_station(&tx, id)?;
        tx.execute("DELETE FROM stations WHERE id = ?1", [id])?;
        record(
            &tx,
            actor,
            "retire",
            "station",
            id,
            Some(station_json(&before)),
            None,
        )?;
        tx.commit()?;
        Ok(before)
    }

    /// Report how many seats of a station are taken now.
    pub fn set_occupancy(
        &mut self,
        actor: &str,
        id: &str,
        occupied: u32,
        at: DateTime<Utc>,
    ) -> Result<Station> {
        let tx = self.conn.transaction()?;
        let mut s = get_station(&tx, id)?;
        if occupied > s.capacity {
            return Err(StoreError::Invalid {
                field: "occupied",
                reason: format!("{occupied} is more than the station's {} seats", s.capacity),
            });
        }
        let before = station_json(&s);
        s.occupancy = Some(Occupancy {
            occupied,
            reported_at: at,
        });
        tx.execute(
            "UPDATE stations SET occupied = ?2, occupancy_reported_at = ?3 WHERE id = ?1",
            params![id, occupied, at.to_rfc3339()],
        )?;
        record(
            &tx,
            actor,
            "occupancy",
            "station",
            id,
            Some(before),
            Some(station_json(&s)),
        )?;
        tx.commit()?;
        Ok(s)
    }

    /// Save a scenario.
    pub fn save_scenario(
        &mut self,
        actor: &str,
        name: &str,
        candidates: &serde_json::Value,
        comparison: Option<&serde_json::Value>,
    ) -> Result<Scenario> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "name",
                reason: "must not be empty".into(),
            });
        }
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "INSERT INTO scenarios (name, created_at, created_by, candidates, comparison) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, at, actor, candidates.to_string(), comparison.map(|c| c.to_string())],
        )?;
        let id = tx.last_insert_rowid();
        let sc = Scenario {
            id,
            name: name.to_string(),
            created_at: at,
            created_by: actor.to_string(),
            candidates: candidates.clone(),
            comparison: comparison.cloned(),
        };
        record(
            &tx,
            actor,
            "scenario_save",
            "scenario",
            &id.to_string(),
            None,
            Some(serde_json::to_value(&sc).unwrap_or_default()),
        )?;
        tx.commit()?;
        Ok(sc)
    }

    /// Every saved scenario, newest first.
    pub fn scenarios(&self) -> Result<Vec<Scenario>> {
        read_all(
            &self.conn,
            "SELECT id, name, created_at, created_by, candidates, comparison FROM scenarios ORDER BY id DESC",
            |r| scenario_row(r)?,
        )
    }

    /// One scenario.
    pub fn scenario(&self, id: i64) -> Result<Scenario> {
        self.conn
            .query_row(
                "SELECT id, name, created_at, created_by, candidates, comparison FROM scenarios WHERE id = ?1",
                [id],
                scenario_row,
            )
            .optional()?
            .ok_or(StoreError::UnknownScenario(id))?
    }

    /// Delete a scenario (its content stays in the history).
    pub fn delete_scenario(&mut self, actor: &str, id: i64) -> Result<()> {
        let before = self.scenario(id)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM scenarios WHERE id = ?1", [id])?;
        record(
            &tx,
            actor,
            "scenario_delete",
            "scenario",
            &id.to_string(),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// History records after `after_seq`, oldest first, at most `limit`.
    pub fn history(&self, after_seq: i64, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut st = self.conn.prepare(
            "SELECT seq, at, actor, action, entity, entity_id, before, after FROM history WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![after_seq, limit as i64], |r| {
            let parse = |s: Option<String>| s.and_then(|t| serde_json::from_str(&t).ok());
            Ok(HistoryEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                entity: r.get(4)?,
                entity_id: r.get(5)?,
                before: parse(r.get(6)?),
                after: parse(r.get(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `PRAGMA integrity_check`: `ok` or the problems found.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// The underlying connection (for the token functions and tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Every row of the query `sql` (it takes no parameters), each read by `read`; the
/// first error, SQLite's or `read`'s, ends the reading.
fn read_all<T>(
    conn: &Connection,
    sql: &str,
    mut read: impl FnMut(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut st = conn.prepare(sql)?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// Which write of a whole station.
#[derive(Debug, Clone, Copy)]
enum StationWrite {
    /// A new id.
    Create,
    /// An existing id.
    Update,
}

const STATION_SELECT: &str = "SELECT id, geom, name, name_zh, kind, amenities, capacity, opening_hours, grid_unit, operator, address, occupied, occupancy_reported_at FROM stations";

fn corrupt(table: &'static str, id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        id: id.to_string(),
        reason: reason.to_string(),
    }
}

fn point_of(table: &'static str, id: &str, blob: &[u8]) -> Result<LonLat> {
    match gpkg::decode(blob).map_err(|e| corrupt(table, id, e))? {
        gpkg::Geom::Point(p) => LonLat::new(p.x(), p.y()).map_err(|e| corrupt(table, id, e)),
        other => Err(corrupt(
            table,
            id,
            format!("expected a point, found {other:?}"),
        )),
    }
}

fn station_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Station>> {
    let id: String = r.get(0)?;
    let blob: Vec<u8> = r.get(1)?;
    let kind: String = r.get(4)?;
    let amenities: String = r.get(5)?;
    let hours: String = r.get(7)?;
    let occupied: Option<u32> = r.get(11)?;
    let reported: Option<String> = r.get(12)?;
    let (name, name_zh, capacity, grid_unit, operator, address) = (
        r.get(2)?,
        r.get(3)?,
        r.get(6)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    );
    Ok((|| {
        let occupancy = match (occupied, reported) {
            (Some(o), Some(t)) => Some(Occupancy {
                occupied: o,
                reported_at: DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| corrupt("stations", &id, e))?
                    .with_timezone(&Utc),
            }),
            _ => None,
        };
        Ok(Station {
            location: point_of("stations", &id, &blob)?,
            name,
            name_zh,
            kind: kind
                .parse::<StationKind>()
                .map_err(|e| corrupt("stations", &id, e))?,
            amenities: AmenitySet::parse_list(&amenities)
                .map_err(|e| corrupt("stations", &id, e))?,
            capacity,
            occupancy,
            opening_hours: hours
                .parse::<OpeningHours>()
                .map_err(|e| corrupt("stations", &id, e))?,
            grid_unit,
            operator,
            address,
            id: id.clone(),
        })
    })())
}

fn hotspot_row(r: &rusqlite::Row<'_>) -> Result<Hotspot> {
    let id: String = r.get(0)?;
    let location = point_of("hotspots", &id, &r.get::<_, Vec<u8>>(1)?)?;
    let wt: String = r.get(3)?;
    Ok(Hotspot {
        location,
        worker_type: wt
            .parse::<WorkerType>()
            .map_err(|e| corrupt("hotspots", &id, e))?,
        workers: r.get(2)?,
        grid_unit: r.get(4)?,
        id,
    })
}

fn cell_row(r: &rusqlite::Row<'_>) -> Result<GridCell> {
    let id: String = r.get(0)?;
    let polygon =
        match gpkg::decode(&r.get::<_, Vec<u8>>(1)?).map_err(|e| corrupt("cells", &id, e))? {
            gpkg::Geom::Polygon(p) => p,
            other => {
                return Err(corrupt(
                    "cells",
                    &id,
                    format!("expected a polygon, found {other:?}"),
                ))
            }
        };
    let centroid = yizhan_core::io::polygon_centroid(&polygon)
        .ok_or_else(|| corrupt("cells", &id, "degenerate polygon"))?;
    Ok(GridCell {
        polygon,
        centroid,
        grid_unit: r.get(2)?,
        unit_name: r.get(3)?,
        demand: r.get(4)?,
        id,
    })
}

fn candidate_row(r: &rusqlite::Row<'_>) -> Result<Candidate> {
    let id: String = r.get(0)?;
    Ok(Candidate {
        location: point_of("candidates", &id, &r.get::<_, Vec<u8>>(1)?)?,
        name: r.get(2)?,
        capacity: r.get(3)?,
        id,
    })
}

fn get_station(conn: &Connection, id: &str) -> Result<Station> {
    conn.query_row(
        &format!("{STATION_SELECT} WHERE id = ?1"),
        [id],
        station_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::UnknownStation(id.to_string()))?
}

fn station_params(s: &Station) -> impl rusqlite::Params + '_ {
    (
        s.id.as_str(),
        gpkg::point_blob(Point::new(s.location.lon, s.location.lat)),
        s.name.as_str(),
        s.name_zh.as_deref(),
        s.kind.as_str(),
        amenities_text(s.amenities),
        s.capacity,
        s.opening_hours.as_str(),
        s.grid_unit.as_deref(),
        s.operator.as_deref(),
        s.address.as_deref(),
        s.occupancy.map(|o| o.occupied),
        s.occupancy.map(|o| o.reported_at.to_rfc3339()),
    )
}

fn insert_station(tx: &Transaction<'_>, s: &Station) -> Result<()> {
    tx.execute(
        "INSERT INTO stations (id, geom, name, name_zh, kind, amenities, capacity, opening_hours, grid_unit,
         operator, address, occupied, occupancy_reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        station_params(s),
    )?;
    Ok(())
}

fn validate_station(s: &Station) -> Result<()> {
    let invalid = |field, reason: &str| {
        Err(StoreError::Invalid {
            field,
            reason: reason.to_string(),
        })
    };
    if s.id.trim().is_empty() {
        return invalid("id", "must not be empty");
    }
    if s.name.trim().is_empty() {
        return invalid("name", "must not be empty");
    }
    if LonLat::new(s.location.lon, s.location.lat).is_err() {
        return invalid("location", "not a WGS 84 position");
    }
    if let Some(o) = s.occupancy {
        if o.occupied > s.capacity {
            return invalid("occupied", "more than the station's seats");
        }
    }
    Ok(())
}

fn scenario_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Scenario>> {
    let id: i64 = r.get(0)?;
    let cands: String = r.get(4)?;
    let comp: Option<String> = r.get(5)?;
    let (name, created_at, created_by) = (r.get(1)?, r.get(2)?, r.get(3)?);
    Ok((|| {
        Ok(Scenario {
            id,
            name,
            created_at,
            created_by,
            candidates: serde_json::from_str(&cands)
                .map_err(|e| corrupt("scenarios", &id.to_string(), e))?,
            comparison: comp
                .map(|c| serde_json::from_str(&c))
                .transpose()
                .map_err(|e| corrupt("scenarios", &id.to_string(), e))?,
        })
    })())
}

fn record(
    tx: &Transaction<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO history (at, actor, action, entity, entity_id, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![now(), actor, action, entity, entity_id, before.map(|b| b.to_string()), after.map(|a| a.to_string())],
    )?;
    Ok(())
}

/// Refresh `gpkg_contents` extents and change times of the feature tables.
fn update_extents(tx: &Transaction<'_>, tables: &[&str]) -> Result<()> {
    for table in tables {
        let mut st = tx.prepare(&format!("SELECT geom FROM {table}"))?;
        let mut failed = None;
        // Every outer vertex of every geometry that decodes (one that does not is
        // skipped), read row by row until SQLite fails.
        let coords = st
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .map_while(|blob| blob.map_err(|e| failed = Some(e)).ok())
            .filter_map(|blob| gpkg::decode(&blob).ok())
            .flat_map(|g| g.exterior_coords());
        let envelope = gpkg::envelope_of(coords);
        if let Some(e) = failed {
            return Err(e.into());
        }
        // The header's order is (min x, max x, min y, max y); gpkg_contents' is
        // (min x, min y, max x, max y).
        let ext = match envelope {
            Some([min_x, max_x, min_y, max_y]) => [min_x, min_y, max_x, max_y].map(Some),
            None => [None; 4],
        };
        tx.execute(
            "UPDATE gpkg_contents SET min_x = ?2, min_y = ?3, max_x = ?4, max_y = ?5,
             last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?1",
            params![table, ext[0], ext[1], ext[2], ext[3]],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
