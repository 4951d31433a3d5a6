//! Reading rows into the domain's types; a row that does not read back is
//! [`StoreError::Corrupt`].

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use yizhan_core::hours::OpeningHours;
use yizhan_core::model::{
    AmenitySet, Candidate, GridCell, Hotspot, Occupancy, Station, StationKind, WorkerType,
};
use yizhan_core::LonLat;

use crate::error::{Result, StoreError};
use crate::gpkg;

/// Every row of the query `sql` (it takes no parameters), each read by `read`; the
/// first error, SQLite's or `read`'s, ends the reading.
pub(crate) fn read_all<T>(
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

pub(crate) const STATION_SELECT: &str = "SELECT id, geom, name, name_zh, kind, amenities, capacity, opening_hours, grid_unit, operator, address, occupied, occupancy_reported_at FROM stations";

pub(crate) fn corrupt(table: &'static str, id: &str, reason: impl std::fmt::Display) -> StoreError {
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

pub(crate) fn station_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Station>> {
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

pub(crate) fn hotspot_row(r: &rusqlite::Row<'_>) -> Result<Hotspot> {
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

pub(crate) fn cell_row(r: &rusqlite::Row<'_>) -> Result<GridCell> {
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

pub(crate) fn candidate_row(r: &rusqlite::Row<'_>) -> Result<Candidate> {
    let id: String = r.get(0)?;
    Ok(Candidate {
        location: point_of("candidates", &id, &r.get::<_, Vec<u8>>(1)?)?,
        name: r.get(2)?,
        capacity: r.get(3)?,
        id,
    })
}

pub(crate) fn get_station(conn: &Connection, id: &str) -> Result<Station> {
    conn.query_row(
        &format!("{STATION_SELECT} WHERE id = ?1"),
        [id],
        station_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::UnknownStation(id.to_string()))?
}
