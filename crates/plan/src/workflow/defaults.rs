//! The planner's named defaults and limits, and the checks of the parameters every
//! analysis takes (cutoff, peak share).

pub use crate::coverage::DEFAULT_PEAK_SHARE;
use crate::coverage::{CoverageParams, Cutoff};
use crate::error::PlanError;

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
        hours: None,
    };
    check_coverage_params(&p)?;
    Ok(p)
}
