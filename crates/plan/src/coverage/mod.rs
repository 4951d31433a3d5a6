//! Coverage of outdoor-worker demand by stations, station load, gap scores per grid
//! cell, grid units without a station, and candidate-site comparison.
//!
//! Coverage is the share of demand (hotspot workers) whose nearest open station lies
//! within a cutoff — metres, or minutes at a travel speed (walk 4.5 km/h, e-bike
//! 15 km/h by default). This is the covering notion of Toregas et al. (1971) and Church &
//! ReVelle (1974). Optionally a distance-decay accessibility is reported as well:
//! Σ wᵢ f(dᵢ) / Σ wᵢ with dᵢ the distance to the nearest station and f linear
//! `max(0, 1 − d/c)`, power `(1 + d/c)^(−β)` or exponential `exp(−β d/c)` for cutoff
//! c (the gravity / decay forms surveyed by Kwan 1998).
//!
//! # Examples
//!
//! ```
//! use yizhan_plan::coverage::{Cutoff, TravelMode};
//! assert_eq!(Cutoff::Metres { metres: 500.0 }.metres().unwrap(), 500.0);
//! // 10 minutes' walk at 4.5 km/h is 750 m
//! let walk = Cutoff::Minutes { minutes: 10.0, mode: TravelMode::Walk, speed_kmh: None };
//! assert!((walk.metres().unwrap() - 750.0).abs() < 1e-9);
//! ```
//!
//! # Layout
//!
//! One concept a file: `params` the cutoff, travel modes, distance decay and which
//! stations serve workers; `load` each hotspot's nearest station, coverage and station
//! load; `gaps` the gap score of each grid cell; `units` coverage per grid unit;
//! `compare` what candidate sites would bring.

mod compare;
mod gaps;
mod load;
mod params;
mod units;

pub use compare::{cell_candidates, compare, compare_network, CandidateScore};
pub use gaps::{gaps, gaps_network, CellGap, GapWeights};
pub use load::{
    coverage, coverage_network, nearest_stations, CoverageReport, Nearest, StationLoad,
};
pub use params::{
    worker_filter, CoverageParams, Cutoff, Decay, TravelMode, DEFAULT_PEAK_SHARE,
    WORKER_STATION_KIND,
};
pub use units::{unit_coverage, UnitCoverage};
