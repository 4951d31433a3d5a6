//! Station writes: create, update, retire, occupancy, each validated and recorded
//! in the history in one transaction.

use chrono::{DateTime, Utc};
use geo_types::Point;
use rusqlite::{params, Transaction};
use serde::Serialize;
use yizhan_core::io::StationProps;
use yizhan_core::model::{AmenitySet, Occupancy, Station};
use yizhan_core::LonLat;

use crate::error::{Result, StoreError};
use crate::extents::update_extents;
use crate::gpkg;
use crate::gpkg_store::GpkgStore;
use crate::history::record;
use crate::rows::get_station;

/// A station as the history records it: its GeoJSON properties (the one schema,
/// [`StationProps`]) and its position.
#[derive(Serialize)]
struct StationRecord<'a> {
    #[serde(flatten)]
    props: StationProps<'a>,
    lat: f64,
    lon: f64,
}

/// A station as the history records it.
pub(crate) fn station_json(s: &Station) -> serde_json::Value {
    serde_json::to_value(StationRecord {
        props: StationProps::of(s),
        lat: s.location.lat,
        lon: s.location.lon,
    })
    .unwrap_or_default()
}

/// Amenities as the stores keep them: comma-separated names.
pub(crate) fn amenities_text(a: AmenitySet) -> String {
    a.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(",")
}

impl GpkgStore {
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
        record(
            &tx,
            actor,
            how.action(),
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
        check_occupied(&s, occupied)?;
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
}

/// Refuse an occupancy report of more seats than the station has.
pub(crate) fn check_occupied(s: &Station, occupied: u32) -> Result<()> {
    if occupied > s.capacity {
        return Err(StoreError::Invalid {
            field: "occupied",
            reason: format!("{occupied} is more than the station's {} seats", s.capacity),
        });
    }
    Ok(())
}

/// Which write of a whole station.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StationWrite {
    /// A new id.
    Create,
    /// An existing id.
    Update,
}

impl StationWrite {
    /// The history's name of the write.
    pub(crate) fn action(self) -> &'static str {
        match self {
            StationWrite::Create => "create",
            StationWrite::Update => "update",
        }
    }
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

pub(crate) fn insert_station(tx: &Transaction<'_>, s: &Station) -> Result<()> {
    tx.execute(
        "INSERT INTO stations (id, geom, name, name_zh, kind, amenities, capacity, opening_hours, grid_unit,
         operator, address, occupied, occupancy_reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        station_params(s),
    )?;
    Ok(())
}

/// Refuse a station the store must not hold.
pub(crate) fn validate_station(s: &Station) -> Result<()> {
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
