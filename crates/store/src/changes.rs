//! The history read as changes to apply: what a server sharing the store with
//! others (a replica) replays to keep its served snapshot current.

use yizhan_core::crs::Crs;
use yizhan_core::model::Station;

use crate::error::{Result, StoreError};
use crate::history::HistoryEntry;
use crate::Store;

/// What one history record changed in the served layers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// A station was created (`created`) or updated (`updated`): its state after.
    Station {
        /// `created` or `updated`, as the live events name them.
        action: &'static str,
        /// The station after the write.
        station: Box<Station>,
    },
    /// A station was retired: its last state.
    Retired(Box<Station>),
    /// A station's occupancy was reported: the station after the report.
    Occupancy(Box<Station>),
    /// Every layer was replaced (an import): reload them.
    Reload,
    /// Nothing served changed (a scenario saved or deleted).
    None,
}

/// A change with its place in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEntry {
    /// The history's sequence number.
    pub seq: i64,
    /// What changed.
    pub change: Change,
}

/// The station a history record holds (its `before` or `after`: the station's
/// GeoJSON properties with `lat` and `lon`).
fn station_of(e: &HistoryEntry, state: Option<&serde_json::Value>) -> Result<Box<Station>> {
    let corrupt = |reason: String| StoreError::Corrupt {
        table: "history",
        id: e.seq.to_string(),
        reason,
    };
    let mut props = state
        .and_then(|v| v.as_object())
        .cloned()
        .ok_or_else(|| corrupt("no station state".into()))?;
    let coord = |p: &mut serde_json::Map<String, serde_json::Value>, k: &str| {
        p.remove(k)
            .and_then(|v| v.as_f64())
            .ok_or_else(|| corrupt(format!("no {k}")))
    };
    let (lat, lon) = (coord(&mut props, "lat")?, coord(&mut props, "lon")?);
    let fc = serde_json::json!({
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props,
        }],
    });
    let mut stations = yizhan_core::io::read_stations_str(&fc.to_string(), Crs::Wgs84)
        .map_err(|e| corrupt(e.to_string()))?;
    match stations.pop() {
        Some(s) if stations.is_empty() => Ok(Box::new(s)),
        _ => Err(corrupt("not one station".into())),
    }
}

impl ChangeEntry {
    /// The change a history record describes.
    pub fn of(e: &HistoryEntry) -> Result<ChangeEntry> {
        let change = match (e.entity.as_str(), e.action.as_str()) {
            ("station", "create") => Change::Station {
                action: "created",
                station: station_of(e, e.after.as_ref())?,
            },
            ("station", "update") => Change::Station {
                action: "updated",
                station: station_of(e, e.after.as_ref())?,
            },
            ("station", "retire") => Change::Retired(station_of(e, e.before.as_ref())?),
            ("station", "occupancy") => Change::Occupancy(station_of(e, e.after.as_ref())?),
            ("dataset", "import") => Change::Reload,
            _ => Change::None,
        };
        Ok(ChangeEntry { seq: e.seq, change })
    }
}

impl Store {
    /// The changes recorded after `after_seq`, oldest first, at most `limit`.
    pub fn changes(&self, after_seq: i64, limit: usize) -> Result<Vec<ChangeEntry>> {
        self.history(after_seq, limit)?
            .iter()
            .map(ChangeEntry::of)
            .collect()
    }
}
