//! Planning workflows: the analyses a planner asks for, from a loaded [`Dataset`] to a
//! typed answer. The server's planning routes and the CLI's planning commands both
//! call these functions with these defaults, so the same request gets the same
//! answer from either; the adapters only read their parameters and render the result.
//!
//! * [`analyse`] / [`coverage`]: coverage and per-station load;
//! * [`gaps`]: gap scores of every cell, grid units without a station, and the gap
//!   layer's features ([`GapsReport::features`], [`gap_layer`]);
//! * [`compare`]: candidate sites ranked by what they would add ([`candidate_sites`]
//!   chooses and checks the list);
//! * [`town_problem`]: the town's site-selection problem for [`crate::select::solve`];
//! * [`town_assignment`]: workers' seats wanted at once, assigned to station seats.
//!
//! # Examples
//!
//! ```
//! use yizhan_plan::workflow::{self, DEFAULT_CUTOFF_M, DEFAULT_PEAK_SHARE};
//! let p = workflow::coverage_params(None, None).unwrap();
//! assert_eq!(p.cutoff.metres().unwrap(), DEFAULT_CUTOFF_M);
//! assert_eq!(p.peak_share, DEFAULT_PEAK_SHARE);
//! assert!(workflow::coverage_params(Some(0.0), None).is_err());
//! assert!(workflow::coverage_params(None, Some(2.0)).is_err());
//! ```

mod assign;
mod candidates;
mod compare;
mod gaps;
mod site;

use yizhan_core::{Dataset, Station, StationFilter};

pub use crate::coverage::DEFAULT_PEAK_SHARE;
use crate::coverage::{self as cov, CoverageParams, CoverageReport, Cutoff, Nearest};
use crate::error::PlanError;

pub use assign::{seats_wanted, town_assignment, TownAssignment};
pub use candidates::{candidate_sites, CandidateSource};
pub use compare::{compare, Comparison};
pub use gaps::{gap_layer, gaps, GapProperties, GapsReport};
pub use site::town_problem;

/// Default walking cutoff of coverage, gaps, comparison and assignment, metres
/// (about seven minutes on foot).
pub const DEFAULT_CUTOFF_M: f64 = 500.0;

/// Largest cutoff accepted, metres.
pub const MAX_CUTOFF_M: f64 = 100_000.0;

/// Largest complete demand × site matrix built without a service radius (p-median,
/// p-center): 5 million pairs, about 60 MB of costs and indices.
pub const MAX_DENSE_PAIRS: usize = 5_000_000;

/// `nearest_station_m` in the gap layer is rounded to 1 / this metres (0.1 m).
pub const NEAREST_STEPS_PER_M: f64 = 10.0;

/// `m` when it is a cutoff in metres the planner accepts: in (0, [`MAX_CUTOFF_M`]].
pub fn check_cutoff_m(m: f64) -> Result<f64, PlanError> {
    if m.is_finite() && m > 0.0 && m <= MAX_CUTOFF_M {
        Ok(m)
    } else {
        Err(PlanError::OutOfRange {
            what: "cutoff_m",
            unit: "metres",
            value: m,
            min: 0.0,
            max: MAX_CUTOFF_M,
        })
    }
}

/// `s` when it is a peak share the planner accepts: in (0, 1].
pub fn check_peak_share(s: f64) -> Result<f64, PlanError> {
    if s > 0.0 && s <= 1.0 {
        Ok(s)
    } else {
        Err(PlanError::OutOfRange {
            what: "peak_share",
            unit: "(share of workers)",
            value: s,
            min: 0.0,
            max: 1.0,
        })
    }
}

/// Check a coverage analysis' cutoff (in metres, after converting a travel time) and
/// peak share; returns the cutoff in metres.
pub fn check_coverage_params(p: &CoverageParams) -> Result<f64, PlanError> {
    let m = match p.cutoff {
        Cutoff::Metres { metres } => metres,
        travel_time => travel_time.metres()?,
    };
    let m = check_cutoff_m(m)?;
    check_peak_share(p.peak_share)?;
    Ok(m)
}

/// Coverage parameters from a cutoff in metres and a peak share, each defaulting to
/// [`DEFAULT_CUTOFF_M`] and [`DEFAULT_PEAK_SHARE`], checked.
pub fn coverage_params(
    cutoff_m: Option<f64>,
    peak_share: Option<f64>,
) -> Result<CoverageParams, PlanError> {
    let p = CoverageParams {
        cutoff: Cutoff::Metres {
            metres: cutoff_m.unwrap_or(DEFAULT_CUTOFF_M),
        },
        decay: None,
        peak_share: peak_share.unwrap_or(DEFAULT_PEAK_SHARE),
    };
    check_coverage_params(&p)?;
    Ok(p)
}

/// A coverage analysis: its report, each hotspot's nearest open station, and the
/// station filter it counted (the worker default applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The filter that decided which stations are open.
    pub filter: StationFilter,
    /// Coverage summary and per-station load.
    pub report: CoverageReport,
    /// Each hotspot's nearest open station (same order as the dataset's hotspots).
    pub near: Vec<Nearest>,
}

impl Analysis {
    /// Whether the analysis counted station `s` as open.
    pub fn counts(&self, s: &Station) -> bool {
        self.filter.accepts(s)
    }
}

/// Coverage of the dataset's hotspots by the stations that pass `filter` (its kind
/// defaulting to rest stations, [`cov::worker_filter`]).
pub fn analyse(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
) -> Result<Analysis, PlanError> {
    let filter = cov::worker_filter(filter);
    let keep = |s: &Station| filter.accepts(s);
    let (report, near) = cov::coverage(&data.stations, data.hotspots.items(), params, &keep)?;
    Ok(Analysis {
        filter,
        report,
        near,
    })
}

/// The coverage report alone (see [`analyse`]).
pub fn coverage(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
) -> Result<CoverageReport, PlanError> {
    analyse(data, params, filter).map(|a| a.report)
}
