//! Writing the PostGIS store: station writes, scenarios, tokens, import. Each
//! write validates first (with the GeoPackage's rules, from the shared modules)
//! and commits together with its history record.

use chrono::{DateTime, Utc};
use geo_types::Point;
use postgres::types::ToSql;
use postgres::{GenericClient, Transaction};
use yizhan_core::model::{Occupancy, Station};
use yizhan_core::Dataset;

use crate::auth::{hash, new_secret, Role, TokenInfo};
use crate::error::{Result, StoreError};
use crate::gpkg;
use crate::history::now;
use crate::import::{import_record, ticker, ImportSummary};
use crate::scenarios::{validate_name, Scenario};
use crate::stations::{
    amenities_text, check_occupied, station_json, validate_station, StationWrite,
};

use super::read::{get_scenario, get_station};
use super::PgStore;

/// SQLSTATE of a unique constraint broken (another server created the id first).
const UNIQUE_VIOLATION: &postgres::error::SqlState = &postgres::error::SqlState::UNIQUE_VIOLATION;

/// ISO WKB of a GeoPackage blob made by `crate::gpkg` (the one geometry encoder).
fn wkb(blob: Vec<u8>) -> Vec<u8> {
    gpkg::wkb_of(&blob)
        .map(<[u8]>::to_vec)
        .expect("crate::gpkg writes a valid header")
}

fn point_wkb(lon: f64, lat: f64) -> Vec<u8> {
    wkb(gpkg::point_blob(Point::new(lon, lat)))
}

/// A station's column values, in the order of [`STATION_COLUMNS`].
struct StationValues<'a> {
    s: &'a Station,
    kind: &'static str,
    geom: Vec<u8>,
    amenities: String,
    capacity: i64,
    hours: String,
    occupied: Option<i64>,
    at: Option<DateTime<Utc>>,
}

const STATION_COLUMNS: &str = "id, geom, name, name_zh, kind, amenities, capacity, opening_hours, grid_unit, operator, address, occupied, occupancy_reported_at";

impl<'a> StationValues<'a> {
    fn of(s: &'a Station) -> Self {
        StationValues {
            s,
            kind: s.kind.as_str(),
            geom: point_wkb(s.location.lon, s.location.lat),
            amenities: amenities_text(s.amenities),
            capacity: i64::from(s.capacity),
            hours: s.opening_hours.as_str().to_string(),
            occupied: s.occupancy.map(|o| i64::from(o.occupied)),
            at: s.occupancy.map(|o| o.reported_at),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 13] {
        [
            &self.s.id,
            &self.geom,
            &self.s.name,
            &self.s.name_zh,
            &self.kind,
            &self.amenities,
            &self.capacity,
            &self.hours,
            &self.s.grid_unit,
            &self.s.operator,
            &self.s.address,
            &self.occupied,
            &self.at,
        ]
    }
}

/// The station as PostgreSQL keeps it: its report's time to the microsecond.
fn as_stored(mut s: Station) -> Station {
    if let Some(o) = &mut s.occupancy {
        o.reported_at = micros(o.reported_at);
    }
    s
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn insert_station(c: &mut impl GenericClient, v: &StationValues<'_>) -> Result<()> {
    let sql = format!(
        "INSERT INTO stations ({STATION_COLUMNS}) VALUES ($1, ST_GeomFromWKB($2, 4326), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    c.execute(&sql, &v.params()).map_err(|e| {
        if e.code() == Some(UNIQUE_VIOLATION) {
            StoreError::DuplicateStation(v.s.id.clone())
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Append one history record in the write's transaction.
fn record(
    tx: &mut Transaction<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO history (at, actor, action, entity, entity_id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&now(), &actor, &action, &entity, &entity_id, &before, &after],
    )?;
    // Delivered to every listener when (and only if) the write commits.
    tx.execute("SELECT pg_notify($1, '')", &[&super::CHANGES_CHANNEL])?;
    Ok(())
}

impl PgStore {
    /// Add a new station. Fails if the id exists.
    pub(crate) fn create_station(&mut self, actor: &str, s: &Station) -> Result<Station> {
        self.write_station(actor, s, StationWrite::Create)
    }

    /// Replace a station's attributes and position. Fails if the id is unknown.
    pub(crate) fn update_station(&mut self, actor: &str, s: &Station) -> Result<Station> {
        self.write_station(actor, s, StationWrite::Update)
    }

    fn write_station(&mut self, actor: &str, s: &Station, how: StationWrite) -> Result<Station> {
        validate_station(s)?;
        let s = as_stored(s.clone());
        let v = StationValues::of(&s);
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let before = match how {
            StationWrite::Create => {
                if get_station(&mut tx, &s.id, false).is_ok() {
                    return Err(StoreError::DuplicateStation(s.id.clone()));
                }
                insert_station(&mut tx, &v)?;
                None
            }
            StationWrite::Update => {
                let before = get_station(&mut tx, &s.id, true)?;
                tx.execute(
                    "UPDATE stations SET geom = ST_GeomFromWKB($2, 4326), name = $3, name_zh = $4, kind = $5,
                     amenities = $6, capacity = $7, opening_hours = $8, grid_unit = $9, operator = $10,
                     address = $11, occupied = $12, occupancy_reported_at = $13 WHERE id = $1",
                    &v.params(),
                )?;
                Some(station_json(&before))
            }
        };
        record(
            &mut tx,
            actor,
            how.action(),
            "station",
            &s.id,
            before,
            Some(station_json(&s)),
        )?;
        tx.commit()?;
        Ok(s)
    }

    /// Retire (remove) a station; its last state stays in the history.
    pub(crate) fn retire_station(&mut self, actor: &str, id: &str) -> Result<Station> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let before = get_station(&mut tx, id, true)?;
        tx.execute("DELETE FROM stations WHERE id = $1", &[&id])?;
        record(
            &mut tx,
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
    pub(crate) fn set_occupancy(
        &mut self,
        actor: &str,
        id: &str,
        occupied: u32,
        at: DateTime<Utc>,
    ) -> Result<Station> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let mut s = get_station(&mut tx, id, true)?;
        check_occupied(&s, occupied)?;
        let before = station_json(&s);
        let at = micros(at);
        s.occupancy = Some(Occupancy {
            occupied,
            reported_at: at,
        });
        tx.execute(
            "UPDATE stations SET occupied = $2, occupancy_reported_at = $3 WHERE id = $1",
            &[&id, &i64::from(occupied), &at],
        )?;
        record(
            &mut tx,
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
    pub(crate) fn save_scenario(
        &mut self,
        actor: &str,
        name: &str,
        candidates: &serde_json::Value,
        comparison: Option<&serde_json::Value>,
    ) -> Result<Scenario> {
        validate_name(name)?;
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let at = now();
        let id: i64 = tx
            .query_one(
                "INSERT INTO scenarios (name, created_at, created_by, candidates, comparison)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&name, &at, &actor, candidates, &comparison],
            )?
            .try_get(0)?;
        let sc = Scenario {
            id,
            name: name.to_string(),
            created_at: at,
            created_by: actor.to_string(),
            candidates: candidates.clone(),
            comparison: comparison.cloned(),
        };
        record(
            &mut tx,
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

    /// Delete a scenario (its content stays in the history).
    pub(crate) fn delete_scenario(&mut self, actor: &str, id: i64) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let before = get_scenario(&mut tx, id)?;
        tx.execute("DELETE FROM scenarios WHERE id = $1", &[&id])?;
        record(
            &mut tx,
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

    /// Make a token; returns its record and the secret, which is not stored.
    pub(crate) fn create_token(
        &mut self,
        role: &Role,
        label: Option<&str>,
    ) -> Result<(TokenInfo, String)> {
        let secret = new_secret();
        let at = now();
        let id: i64 = self
            .conn()?
            .query_one(
                "INSERT INTO yizhan_tokens (hash, role, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&hash(&secret), &role.to_string(), &label, &at],
            )?
            .try_get(0)?;
        let info = TokenInfo {
            id,
            role: role.clone(),
            label: label.map(str::to_string),
            created_at: at,
            revoked_at: None,
        };
        Ok((info, secret))
    }

    /// Revoke a token by id.
    pub(crate) fn revoke_token(&mut self, id: i64) -> Result<()> {
        let n = self.conn()?.execute(
            "UPDATE yizhan_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now()],
        )?;
        if n == 0 {
            return Err(StoreError::UnknownToken(id));
        }
        Ok(())
    }

    /// Replace every layer with the dataset's, in one transaction.
    pub(crate) fn import(
        &mut self,
        data: &Dataset,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportSummary> {
        let summary = ImportSummary::of(data);
        let mut done = 0u64;
        let mut tick = ticker(summary.features(), progress);
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        tx.batch_execute("TRUNCATE stations, hotspots, cells, candidates, boundary")?;
        for s in data.stations.items() {
            insert_station(&mut tx, &StationValues::of(&as_stored(s.clone())))?;
            tick(&mut done);
        }
        let st = tx.prepare(
            "INSERT INTO hotspots (geom, id, workers, worker_type, grid_unit, profile)
             VALUES (ST_GeomFromWKB($1, 4326), $2, $3, $4, $5, $6)",
        )?;
        for h in data.hotspots.items() {
            let g = point_wkb(h.location.lon, h.location.lat);
            tx.execute(
                &st,
                &[
                    &g,
                    &h.id,
                    &i64::from(h.workers),
                    &h.worker_type.as_str(),
                    &h.grid_unit,
                    &h.profile.as_ref().map(|p| serde_json::json!(p)),
                ],
            )?;
            tick(&mut done);
        }
        let st = tx.prepare(
            "INSERT INTO cells (geom, id, grid_unit, unit_name, demand)
             VALUES (ST_GeomFromWKB($1, 4326), $2, $3, $4, $5)",
        )?;
        for cell in data.cells.items() {
            let g = wkb(gpkg::polygon_blob(&cell.polygon));
            tx.execute(
                &st,
                &[&g, &cell.id, &cell.grid_unit, &cell.unit_name, &cell.demand],
            )?;
            tick(&mut done);
        }
        let st = tx.prepare(
            "INSERT INTO candidates (geom, id, name, capacity) VALUES (ST_GeomFromWKB($1, 4326), $2, $3, $4)",
        )?;
        for cand in data.candidates.items() {
            let g = point_wkb(cand.location.lon, cand.location.lat);
            let capacity = cand.capacity.map(i64::from);
            tx.execute(&st, &[&g, &cand.id, &cand.name, &capacity])?;
            tick(&mut done);
        }
        if let Some(b) = &data.boundary {
            let g = wkb(gpkg::multipolygon_blob(&b.geometry));
            let props = serde_json::Value::Object(b.properties.clone());
            tx.execute(
                "INSERT INTO boundary (geom, name, properties) VALUES (ST_GeomFromWKB($1, 4326), $2, $3)",
                &[&g, &b.name, &props],
            )?;
        }
        record(
            &mut tx,
            "import",
            "import",
            "dataset",
            "*",
            None,
            Some(import_record(data)),
        )?;
        tx.commit()?;
        Ok(summary)
    }
}
