//! Workers' seats wanted at once, assigned to the stations' seats.

use serde::Serialize;
use yizhan_core::Dataset;

use super::defaults::{check_cutoff_m, check_peak_share};
use crate::assign::{assign, Assignment};
use crate::error::PlanError;
use crate::problem::TownSites;

/// Seats `workers` want at the same time: workers × peak share, rounded to whole
/// seats (assignment counts people).
///
/// ```
/// assert_eq!(yizhan_plan::workflow::seats_wanted(47.0, 0.1), 5.0);
/// ```
pub fn seats_wanted(workers: f64, peak_share: f64) -> f64 {
    (workers * peak_share).round()
}

/// A town's capacitated assignment at a cutoff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownAssignment {
    /// The farthest a worker is sent, metres.
    pub cutoff_m: f64,
    /// The assignment.
    #[serde(flatten)]
    pub assignment: Assignment,
}

/// Assign each hotspot's [`seats_wanted`] to the worker stations' seats within
/// `cutoff_m` (min-cost flow: most seats assigned, then least distance).
pub fn town_assignment(
    data: &Dataset,
    cutoff_m: f64,
    peak_share: f64,
) -> Result<TownAssignment, PlanError> {
    let cutoff_m = check_cutoff_m(cutoff_m)?;
    let share = check_peak_share(peak_share)?;
    let mut town = TownSites::new(data, &[], true, None);
    for d in &mut town.demand {
        d.weight = seats_wanted(d.weight, share);
    }
    let prob = town.into_problem(Some(cutoff_m))?;
    Ok(TownAssignment {
        cutoff_m,
        assignment: assign(&prob, Some(cutoff_m))?,
    })
}
