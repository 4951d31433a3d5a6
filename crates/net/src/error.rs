//! The errors of the street network.

use std::path::PathBuf;

use crate::profile::Mode;

/// What went wrong building, reading or querying a street network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A point lies farther from every street than the snapping limit.
    #[error("the point is {distance_m:.0} m from the nearest street usable by {mode} (the limit is {limit_m:.0} m)")]
    OffNetwork {
        /// Distance to the nearest usable street, metres.
        distance_m: f64,
        /// The limit, metres.
        limit_m: f64,
        /// The profile.
        mode: Mode,
    },
    /// No road of the input is usable by the profile (or the usable ones do not connect).
    #[error(
        "none of the {roads} roads is usable for {mode} (no connected street network to route on)"
    )]
    NoRoutableRoads {
        /// The profile.
        mode: Mode,
        /// Roads given.
        roads: usize,
    },
    /// A profile with a speed that is not positive and finite.
    #[error("the {mode} profile has a speed that is not between 0.1 and 200 km/h")]
    BadProfile {
        /// The profile.
        mode: Mode,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An OpenStreetMap PBF file could not be decoded.
    #[error("{}: not a readable OpenStreetMap PBF file ({reason})", path.display())]
    Pbf {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// A graph file that is not one, of another version, or damaged.
    #[error("{}: {reason}", path.display())]
    GraphFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}
