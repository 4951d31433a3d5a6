//! Reading the PostGIS store: layers, stations, scenarios, history, tokens.
//! Geometries come back as WKB (`ST_AsBinary`) and are decoded by the one WKB
//! reader (`crate::gpkg`); rows become domain types through `crate::rows`.

use postgres::{GenericClient, Row};
use yizhan_core::model::{Candidate, Hotspot, Station};
use yizhan_core::Dataset;

use crate::auth::{hash, stored_role, TokenInfo};
use crate::error::{Result, StoreError};
use crate::gpkg::{self, Geom};
use crate::history::HistoryEntry;
use crate::rows::{
    boundary_of, cell_of, corrupt, geom_point, geom_polygon, profile_of, worker_type, StationFields,
};
use crate::scenarios::Scenario;

use super::PgStore;

/// The station columns, in the order [`station_row`] reads them.
pub(super) const STATION_SELECT: &str = "SELECT id, ST_AsBinary(geom), name, name_zh, kind, amenities, capacity, opening_hours, grid_unit, operator, address, occupied, occupancy_reported_at FROM stations";

const SCENARIO_SELECT: &str =
    "SELECT id, name, created_at, created_by, candidates, comparison FROM scenarios";

const TOKEN_SELECT: &str = "SELECT id, role, label, created_at, revoked_at FROM yizhan_tokens";

/// The geometry in column `i` (WKB), decoded.
fn geom(table: &'static str, id: &str, r: &Row, i: usize) -> Result<Geom> {
    let wkb: Vec<u8> = r.try_get(i)?;
    gpkg::decode_wkb(&wkb).map_err(|e| corrupt(table, id, e))
}

/// A stored count (`bigint`) as the domain's `u32`.
fn count(table: &'static str, id: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(table, id, format!("count {v} out of range")))
}

pub(super) fn station_row(r: &Row) -> Result<Station> {
    let id: String = r.try_get(0)?;
    let capacity: i64 = r.try_get(6)?;
    let occupied: Option<i64> = r.try_get(11)?;
    StationFields {
        location: geom("stations", &id, r, 1).and_then(|g| geom_point("stations", &id, g)),
        name: r.try_get(2)?,
        name_zh: r.try_get(3)?,
        kind: r.try_get(4)?,
        amenities: r.try_get(5)?,
        capacity: count("stations", &id, capacity)?,
        opening_hours: r.try_get(7)?,
        grid_unit: r.try_get(8)?,
        operator: r.try_get(9)?,
        address: r.try_get(10)?,
        occupied: occupied.map(|o| count("stations", &id, o)).transpose()?,
        reported_at: r
            .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(12)?
            .map(Ok),
        id,
    }
    .into_station()
}

/// One station, read with `c` (a transaction when `lock`: the row stays locked
/// until it ends).
pub(super) fn get_station(c: &mut impl GenericClient, id: &str, lock: bool) -> Result<Station> {
    let sql = format!(
        "{STATION_SELECT} WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    match c.query_opt(&sql, &[&id])? {
        Some(r) => station_row(&r),
        None => Err(StoreError::UnknownStation(id.to_string())),
    }
}

fn hotspot_row(r: &Row) -> Result<Hotspot> {
    let id: String = r.try_get(0)?;
    let location = geom_point("hotspots", &id, geom("hotspots", &id, r, 1)?)?;
    let workers: i64 = r.try_get(2)?;
    let wt: String = r.try_get(3)?;
    let profile: Option<serde_json::Value> = r.try_get(5)?;
    Ok(Hotspot {
        location,
        workers: count("hotspots", &id, workers)?,
        worker_type: worker_type(&id, &wt)?,
        grid_unit: r.try_get(4)?,
        profile: profile_of(&id, profile.as_ref())?,
        id,
    })
}

fn candidate_row(r: &Row) -> Result<Candidate> {
    let id: String = r.try_get(0)?;
    let location = geom_point("candidates", &id, geom("candidates", &id, r, 1)?)?;
    let capacity: Option<i64> = r.try_get(3)?;
    Ok(Candidate {
        location,
        name: r.try_get(2)?,
        capacity: capacity.map(|c| count("candidates", &id, c)).transpose()?,
        id,
    })
}

fn scenario_row(r: &Row) -> Result<Scenario> {
    Ok(Scenario {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        created_at: r.try_get(2)?,
        created_by: r.try_get(3)?,
        candidates: r.try_get(4)?,
        comparison: r.try_get(5)?,
    })
}

fn token_row(r: &Row) -> Result<TokenInfo> {
    let id: i64 = r.try_get(0)?;
    let role: String = r.try_get(1)?;
    Ok(TokenInfo {
        id,
        role: stored_role(id, &role)?,
        label: r.try_get(2)?,
        created_at: r.try_get(3)?,
        revoked_at: r.try_get(4)?,
    })
}

/// Every row of `sql` (no parameters), each read by `read`.
fn read_all<T>(
    c: &mut impl GenericClient,
    sql: &str,
    read: impl FnMut(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    c.query(sql, &[])?.iter().map(read).collect()
}

impl PgStore {
    /// Every layer, read in one transaction (one consistent version).
    pub(crate) fn load(&self) -> Result<Dataset> {
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let stations = read_all(
            &mut tx,
            &format!("{STATION_SELECT} ORDER BY fid"),
            station_row,
        )?;
        let hotspots = read_all(
            &mut tx,
            "SELECT id, ST_AsBinary(geom), workers, worker_type, grid_unit, profile FROM hotspots ORDER BY fid",
            hotspot_row,
        )?;
        let cells = read_all(
            &mut tx,
            "SELECT id, ST_AsBinary(geom), grid_unit, unit_name, demand FROM cells ORDER BY fid",
            |r| {
                let id: String = r.try_get(0)?;
                let polygon = geom_polygon("cells", &id, geom("cells", &id, r, 1)?)?;
                cell_of(id, polygon, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)
            },
        )?;
        let candidates = read_all(
            &mut tx,
            "SELECT id, ST_AsBinary(geom), name, capacity FROM candidates ORDER BY fid",
            candidate_row,
        )?;
        let boundary = tx
            .query_opt(
                "SELECT name, ST_AsBinary(geom), properties FROM boundary ORDER BY fid LIMIT 1",
                &[],
            )?
            .map(|r| -> Result<_> {
                let name: String = r.try_get(0)?;
                let g = geom("boundary", &name, &r, 1)?;
                boundary_of(name, g, r.try_get(2)?)
            })
            .transpose()?;
        tx.commit()?;
        Ok(Dataset::new(
            stations, hotspots, cells, candidates, boundary,
        ))
    }

    /// Every current station, in insertion order.
    pub(crate) fn stations(&self) -> Result<Vec<Station>> {
        read_all(
            &mut *self.conn()?,
            &format!("{STATION_SELECT} ORDER BY fid"),
            station_row,
        )
    }

    /// One station.
    pub(crate) fn station(&self, id: &str) -> Result<Station> {
        get_station(&mut *self.conn()?, id, false)
    }

    /// Every saved scenario, newest first.
    pub(crate) fn scenarios(&self) -> Result<Vec<Scenario>> {
        read_all(
            &mut *self.conn()?,
            &format!("{SCENARIO_SELECT} ORDER BY id DESC"),
            scenario_row,
        )
    }

    /// One scenario.
    pub(crate) fn scenario(&self, id: i64) -> Result<Scenario> {
        get_scenario(&mut *self.conn()?, id)
    }

    /// History records after `after_seq`, oldest first, at most `limit`.
    pub(crate) fn history(&self, after_seq: i64, limit: usize) -> Result<Vec<HistoryEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            "SELECT seq, at, actor, action, entity, entity_id, before, after FROM history
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after_seq, &limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    entity: r.try_get(4)?,
                    entity_id: r.try_get(5)?,
                    before: r.try_get(6)?,
                    after: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// The newest history sequence number (0 when the history is empty).
    pub(crate) fn last_seq(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT coalesce(max(seq), 0)::bigint FROM history", &[])?
            .try_get(0)?)
    }

    /// The record of a valid, unrevoked token.
    pub(crate) fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        self.conn()?
            .query_opt(
                &format!("{TOKEN_SELECT} WHERE hash = $1 AND revoked_at IS NULL"),
                &[&hash(secret)],
            )?
            .map(|r| token_row(&r))
            .transpose()
    }

    /// Every token (without secrets).
    pub(crate) fn tokens(&self) -> Result<Vec<TokenInfo>> {
        read_all(
            &mut *self.conn()?,
            &format!("{TOKEN_SELECT} ORDER BY id"),
            token_row,
        )
    }
}

/// One scenario, read with `c`.
pub(super) fn get_scenario(c: &mut impl GenericClient, id: i64) -> Result<Scenario> {
    match c.query_opt(&format!("{SCENARIO_SELECT} WHERE id = $1"), &[&id])? {
        Some(r) => scenario_row(&r),
        None => Err(StoreError::UnknownScenario(id)),
    }
}
