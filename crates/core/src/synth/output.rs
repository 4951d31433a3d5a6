//! A generated dataset in memory, and its layer files.

use std::path::{Path, PathBuf};

use geojson::{Feature, JsonObject, JsonValue};

use super::SynthError;
use crate::crs::Crs;
use crate::io::{self, Layer};
use crate::model::{Boundary, Candidate, GridCell, Hotspot, Road, Station, StationKind};

/// A generated dataset, every layer in memory (town and small runs).
#[derive(Debug, Clone)]
pub struct SynthDataset {
    /// Rest stations, then childcare classes.
    pub stations: Vec<Station>,
    /// Outdoor-worker hotspots.
    pub hotspots: Vec<Hotspot>,
    /// Grid cells, north to south, west to east.
    pub cells: Vec<GridCell>,
    /// Candidate sites.
    pub candidates: Vec<Candidate>,
    /// The (synthetic) extent.
    pub boundary: Boundary,
    /// The street network (empty for generators that make none).
    pub roads: Vec<Road>,
    /// Rivers and lakes for the map (none for generators that make none).
    pub water: Option<Boundary>,
}

/// The `synthetic: true` property every generated station, candidate and road carries.
pub(super) fn synthetic_tag() -> JsonObject {
    let mut o = JsonObject::new();
    o.insert("synthetic".into(), JsonValue::Bool(true));
    o
}

impl SynthDataset {
    /// Rest stations only.
    pub fn rest_stations(&self) -> impl Iterator<Item = &Station> {
        self.stations
            .iter()
            .filter(|s| s.kind == StationKind::RestStation)
    }

    /// Total workers over all hotspots.
    pub fn total_workers(&self) -> u64 {
        self.hotspots.iter().map(|h| u64::from(h.workers)).sum()
    }

    /// The text of one layer file, exactly as written (one feature per line).
    pub fn layer_text(&self, layer: Layer) -> String {
        let tag = synthetic_tag;
        let features: Vec<Feature> = match layer {
            Layer::Stations => self
                .stations
                .iter()
                .map(|s| io::station_feature(s, Crs::Wgs84, tag()))
                .collect(),
            Layer::Hotspots => self
                .hotspots
                .iter()
                .map(|h| io::hotspot_feature(h, Crs::Wgs84))
                .collect(),
            Layer::Cells => self
                .cells
                .iter()
                .map(|c| io::cell_feature(c, Crs::Wgs84, JsonObject::new()))
                .collect(),
            Layer::Candidates => self
                .candidates
                .iter()
                .map(|c| {
                    let mut f = io::candidate_feature(c, Crs::Wgs84);
                    if let Some(p) = f.properties.as_mut() {
                        p.extend(tag());
                    }
                    f
                })
                .collect(),
            Layer::Boundary => vec![io::boundary_feature(&self.boundary, Crs::Wgs84)],
            Layer::Roads => self
                .roads
                .iter()
                .map(|r| {
                    let mut f = io::road_feature(r, Crs::Wgs84);
                    if let Some(p) = f.properties.as_mut() {
                        p.extend(tag());
                    }
                    f
                })
                .collect(),
            Layer::Water => self
                .water
                .iter()
                .map(|w| io::boundary_feature(w, Crs::Wgs84))
                .collect(),
        };
        io::to_string_lines(&features)
    }

    /// Write the layer files ([`Layer::ALL`], but an empty roads or water layer) into `dir` (created if missing). Returns the paths.
    pub fn write_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
        std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut out = Vec::new();
        for layer in Layer::ALL {
            let absent = match layer {
                Layer::Roads => self.roads.is_empty(),
                Layer::Water => self.water.is_none(),
                _ => false,
            };
            if absent {
                continue;
            }
            let path = dir.join(format!("{}.geojson", layer.as_str()));
            std::fs::write(&path, self.layer_text(layer)).map_err(|source| SynthError::Io {
                path: path.clone(),
                source,
            })?;
            out.push(path);
        }
        Ok(out)
    }
}
