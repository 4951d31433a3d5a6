//! The layers of a dataset.

use std::fmt;
use std::str::FromStr;

use crate::model::UnknownName;

/// The layers of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Layer {
    /// Service stations.
    Stations,
    /// Outdoor-worker hotspots (demand points).
    Hotspots,
    /// Grid cells.
    Cells,
    /// The town's outline.
    Boundary,
    /// Candidate sites.
    Candidates,
    /// The road network: streets, paths and bridges (LineStrings with OpenStreetMap tags).
    Roads,
    /// Rivers and lakes drawn on the map (polygons; context, not used in analyses).
    Water,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 7] = [
        Layer::Stations,
        Layer::Hotspots,
        Layer::Cells,
        Layer::Boundary,
        Layer::Candidates,
        Layer::Roads,
        Layer::Water,
    ];

    /// The layer's name, also its file stem in a dataset folder.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Stations => "stations",
            Layer::Hotspots => "hotspots",
            Layer::Cells => "cells",
            Layer::Boundary => "boundary",
            Layer::Candidates => "candidates",
            Layer::Roads => "roads",
            Layer::Water => "water",
        }
    }

    /// Guess the layer of a file from its name (`…/stations.geojson` → stations).
    pub fn from_path(path: &std::path::Path) -> Option<Layer> {
        let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
        Layer::ALL.into_iter().find(|l| stem.contains(l.as_str()))
    }
}

impl FromStr for Layer {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName {
                what: "layer",
                value: s.to_string(),
                expected: Layer::ALL.map(|l| l.as_str()).join(", "),
            })
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
