//! Reading rows into the domain's types; a row that does not read back is
//! [`StoreError::Corrupt`].

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use yizhan_core::hours::OpeningHours;
use yizhan_core::model::{
    AmenitySet, Boundary, Candidate, GridCell, Hotspot, Occupancy, Station, StationKind, WorkerType,
};
use yizhan_core::profile::DemandProfile;
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
    geom_point(
        table,
        id,
        gpkg::decode(blob).map_err(|e| corrupt(table, id, e))?,
    )
}

/// A station's columns as either backend reads them, before they are checked.
pub(crate) struct StationFields {
    pub(crate) id: String,
    pub(crate) location: Result<LonLat>,
    pub(crate) name: String,
    pub(crate) name_zh: Option<String>,
    pub(crate) kind: String,
    pub(crate) amenities: String,
    pub(crate) capacity: u32,
    pub(crate) opening_hours: String,
    pub(crate) grid_unit: Option<String>,
    pub(crate) operator: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) occupied: Option<u32>,
    pub(crate) reported_at: Option<Result<DateTime<Utc>>>,
}

impl StationFields {
    /// The station, or [`StoreError::Corrupt`] naming what does not read back.
    pub(crate) fn into_station(self) -> Result<Station> {
        let id = self.id;
        let occupancy = match (self.occupied, self.reported_at) {
            (Some(o), Some(t)) => Some(Occupancy {
                occupied: o,
                reported_at: t?,
            }),
            _ => None,
        };
        Ok(Station {
            location: self.location?,
            name: self.name,
            name_zh: self.name_zh,
            kind: self
                .kind
                .parse::<StationKind>()
                .map_err(|e| corrupt("stations", &id, e))?,
            amenities: AmenitySet::parse_list(&self.amenities)
                .map_err(|e| corrupt("stations", &id, e))?,
            capacity: self.capacity,
            occupancy,
            opening_hours: self
                .opening_hours
                .parse::<OpeningHours>()
                .map_err(|e| corrupt("stations", &id, e))?,
            grid_unit: self.grid_unit,
            operator: self.operator,
            address: self.address,
            id,
        })
    }
}

/// A decoded geometry as a WGS 84 point, or [`StoreError::Corrupt`].
pub(crate) fn geom_point(table: &'static str, id: &str, g: gpkg::Geom) -> Result<LonLat> {
    match g {
        gpkg::Geom::Point(p) => LonLat::new(p.x(), p.y()).map_err(|e| corrupt(table, id, e)),
        other => Err(corrupt(
            table,
            id,
            format!("expected a point, found {other:?}"),
        )),
    }
}

/// A decoded geometry as a polygon, or [`StoreError::Corrupt`].
pub(crate) fn geom_polygon(
    table: &'static str,
    id: &str,
    g: gpkg::Geom,
) -> Result<geo_types::Polygon<f64>> {
    match g {
        gpkg::Geom::Polygon(p) => Ok(p),
        other => Err(corrupt(
            table,
            id,
            format!("expected a polygon, found {other:?}"),
        )),
    }
}

/// A grid cell from its columns; its centroid computed.
pub(crate) fn cell_of(
    id: String,
    polygon: geo_types::Polygon<f64>,
    grid_unit: Option<String>,
    unit_name: Option<String>,
    demand: f64,
) -> Result<GridCell> {
    let centroid = yizhan_core::io::polygon_centroid(&polygon)
        .ok_or_else(|| corrupt("cells", &id, "degenerate polygon"))?;
    Ok(GridCell {
        polygon,
        centroid,
        grid_unit,
        unit_name,
        demand,
        id,
    })
}

/// The boundary from its columns (a polygon is read as a one-part multipolygon).
pub(crate) fn boundary_of(
    name: String,
    geom: gpkg::Geom,
    properties: serde_json::Value,
) -> Result<Boundary> {
    let geometry = match geom {
        gpkg::Geom::MultiPolygon(m) => m,
        gpkg::Geom::Polygon(p) => geo_types::MultiPolygon::new(vec![p]),
        gpkg::Geom::Point(_) => return Err(corrupt("boundary", &name, "a point")),
    };
    let properties = match properties {
        serde_json::Value::Object(m) => m,
        other => {
            return Err(corrupt(
                "boundary",
                &name,
                format!("properties are {other}"),
            ))
        }
    };
    Ok(Boundary {
        name,
        geometry,
        properties,
    })
}

/// A worker type read back, or [`StoreError::Corrupt`].
pub(crate) fn worker_type(id: &str, wt: &str) -> Result<WorkerType> {
    wt.parse::<WorkerType>()
        .map_err(|e| corrupt("hotspots", id, e))
}

pub(crate) fn station_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Station>> {
    let id: String = r.get(0)?;
    let blob: Vec<u8> = r.get(1)?;
    let reported: Option<String> = r.get(12)?;
    let fields = StationFields {
        location: point_of("stations", &id, &blob),
        name: r.get(2)?,
        name_zh: r.get(3)?,
        kind: r.get(4)?,
        amenities: r.get(5)?,
        capacity: r.get(6)?,
        opening_hours: r.get(7)?,
        grid_unit: r.get(8)?,
        operator: r.get(9)?,
        address: r.get(10)?,
        occupied: r.get(11)?,
        reported_at: reported.map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt("stations", &id, e))
        }),
        id,
    };
    Ok(fields.into_station())
}

pub(crate) fn hotspot_row(r: &rusqlite::Row<'_>) -> Result<Hotspot> {
    let id: String = r.get(0)?;
    let location = point_of("hotspots", &id, &r.get::<_, Vec<u8>>(1)?)?;
    let wt: String = r.get(3)?;
    let profile: Option<String> = r.get(5)?;
    let profile = profile
        .map(serde_json::Value::String)
        .map(|v| profile_of(&id, Some(&v)))
        .transpose()?
        .flatten();
    Ok(Hotspot {
        location,
        worker_type: worker_type(&id, &wt)?,
        workers: r.get(2)?,
        grid_unit: r.get(4)?,
        profile,
        id,
    })
}

/// A hotspot's stored profile (JSON, or its text) read back, or [`StoreError::Corrupt`].
pub(crate) fn profile_of(id: &str, v: Option<&serde_json::Value>) -> Result<Option<DemandProfile>> {
    v.filter(|v| !v.is_null())
        .map(|v| DemandProfile::from_json(v).map_err(|e| corrupt("hotspots", id, e)))
        .transpose()
}

/// A hotspot's profile as the GeoPackage stores it (JSON text).
pub(crate) fn profile_text(h: &Hotspot) -> Option<String> {
    h.profile.as_ref().map(|p| serde_json::json!(p).to_string())
}

pub(crate) fn cell_row(r: &rusqlite::Row<'_>) -> Result<GridCell> {
    let id: String = r.get(0)?;
    let geom = gpkg::decode(&r.get::<_, Vec<u8>>(1)?).map_err(|e| corrupt("cells", &id, e))?;
    let polygon = geom_polygon("cells", &id, geom)?;
    cell_of(id, polygon, r.get(2)?, r.get(3)?, r.get(4)?)
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
