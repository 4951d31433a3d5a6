//! The cutoff, travel modes and distance decay: the parameters of a coverage analysis,
//! and which stations serve outdoor workers.

use serde::{Deserialize, Serialize};
use yizhan_core::{StationFilter, StationKind};

use crate::error::{Param, PlanError};

/// The kind of station that serves outdoor workers: rest stations. Childcare classes
/// serve children, not the workers at hotspots, so worker coverage, gaps, candidate
/// comparison and site selection count rest stations unless a kind is asked for.
pub const WORKER_STATION_KIND: StationKind = StationKind::RestStation;

/// `filter` with its kind defaulted to [`WORKER_STATION_KIND`] when none was given.
///
/// ```
/// use yizhan_core::{StationFilter, StationKind};
/// let f = yizhan_plan::coverage::worker_filter(StationFilter::default());
/// assert_eq!(f.kind, Some(StationKind::RestStation));
/// let g = StationFilter { kind: Some(StationKind::ChildcareClass), ..Default::default() };
/// assert_eq!(yizhan_plan::coverage::worker_filter(g).kind, Some(StationKind::ChildcareClass));
/// ```
pub fn worker_filter(filter: StationFilter) -> StationFilter {
    StationFilter {
        kind: filter.kind.or(Some(WORKER_STATION_KIND)),
        ..filter
    }
}

/// How workers travel to a station.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TravelMode {
    /// On foot, 4.5 km/h.
    #[default]
    Walk,
    /// By e-bike (delivery riders), 15 km/h.
    Ebike,
}

impl TravelMode {
    /// Default speed in km/h.
    pub fn speed_kmh(self) -> f64 {
        match self {
            TravelMode::Walk => 4.5,
            TravelMode::Ebike => 15.0,
        }
    }
}

impl std::str::FromStr for TravelMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "walk" => Ok(TravelMode::Walk),
            "ebike" => Ok(TravelMode::Ebike),
            _ => Err(format!("unknown travel mode {s:?} (expected walk, ebike)")),
        }
    }
}

/// The coverage cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit")]
pub enum Cutoff {
    /// A distance.
    Metres {
        /// Metres.
        metres: f64,
    },
    /// A travel time.
    Minutes {
        /// Minutes.
        minutes: f64,
        /// Travel mode (sets the default speed).
        #[serde(default)]
        mode: TravelMode,
        /// Speed overriding the mode's default, km/h.
        #[serde(default)]
        speed_kmh: Option<f64>,
    },
}

impl Cutoff {
    /// The cutoff in metres.
    pub fn metres(&self) -> Result<f64, PlanError> {
        let m = match *self {
            Cutoff::Metres { metres } => metres,
            Cutoff::Minutes {
                minutes,
                mode,
                speed_kmh,
            } => {
                let v = speed_kmh.unwrap_or(mode.speed_kmh());
                let v = Param::Speed.positive(v, "km/h")?;
                Param::Cutoff.non_negative(minutes, "minutes")? / 60.0 * v * 1000.0
            }
        };
        Param::Cutoff.non_negative(m, "metres")
    }
}

/// Distance decay of accessibility (c is the cutoff in metres).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Decay {
    /// f(d) = max(0, 1 − d/c).
    Linear,
    /// f(d) = (1 + d/c)^(−β).
    Power {
        /// β > 0.
        beta: f64,
    },
    /// f(d) = exp(−β d / c).
    Exponential {
        /// β > 0.
        beta: f64,
    },
}

impl Decay {
    /// The weight of demand at distance `d` for cutoff `c`.
    pub fn factor(&self, d: f64, c: f64) -> f64 {
        let x = if c > 0.0 { d / c } else { f64::INFINITY };
        match *self {
            Decay::Linear => (1.0 - x).max(0.0),
            Decay::Power { beta } => (1.0 + x).powf(-beta),
            Decay::Exponential { beta } => (-beta * x).exp(),
        }
    }
}

/// Default share of the workers a station serves who want a seat at the same time:
/// 10 %. An assumption (no survey of rest-station use exists for Anhai): outdoor
/// workers take short breaks spread over the day, so a station's peak load is a small
/// share of the workers whose nearest station it is. Every tool takes another share.
pub const DEFAULT_PEAK_SHARE: f64 = 0.1;

fn default_peak_share() -> f64 {
    DEFAULT_PEAK_SHARE
}

/// Parameters of a coverage analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoverageParams {
    /// The cutoff.
    pub cutoff: Cutoff,
    /// Optional distance decay, reported next to the hard-cutoff coverage.
    #[serde(default)]
    pub decay: Option<Decay>,
    /// Share of a hotspot's workers wanting a seat at the same time (load = workers ×
    /// this); [`DEFAULT_PEAK_SHARE`] when absent from serialized parameters.
    #[serde(default = "default_peak_share")]
    pub peak_share: f64,
    /// Plan for these local hours: each hotspot weighs its workers present then
    /// ([`yizhan_core::Hotspot::demand`]); `None`, the daily workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<yizhan_core::profile::HourWindow>,
}

impl CoverageParams {
    /// A hard cutoff in metres, no decay, peak share 1.
    pub fn metres(m: f64) -> Self {
        Self {
            cutoff: Cutoff::Metres { metres: m },
            decay: None,
            peak_share: 1.0,
            hours: None,
        }
    }
}
