//! Candidate sites ranked by what they would add.

use serde::Serialize;
use serde_json::{json, Value};
use yizhan_core::crs::Crs;
use yizhan_core::{Candidate, Dataset, StationFilter};

use super::analysis::analyse_on;
use super::gaps::GapsReport;
use crate::coverage::{self as cov, CandidateScore, CoverageParams};
use crate::error::PlanError;
use crate::network::{DistanceUsed, NetworkCosts};

/// A ranked comparison of candidate sites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The cutoff, metres.
    pub cutoff_m: f64,
    /// Share of demand covered by the stations today.
    pub covered_share_now: f64,
    /// The candidates, best first (at most `top` when asked).
    pub candidates: Vec<CandidateScore>,
    /// Which distance it used.
    pub distance: DistanceUsed,
}

/// Score `cands` against the stations that pass `filter` (kind defaulting to rest
/// stations) at `params`, best first; the first `top` when given.
pub fn compare(
    data: &Dataset,
    cands: &[Candidate],
    params: &CoverageParams,
    filter: StationFilter,
    top: Option<usize>,
) -> Result<Comparison, PlanError> {
    compare_on(data, cands, params, filter, top, None)
}

/// [`compare()`] on the street network of `net` (straight lines when `None`; see
/// [`cov::compare_network`]).
pub fn compare_on(
    data: &Dataset,
    cands: &[Candidate],
    params: &CoverageParams,
    filter: StationFilter,
    top: Option<usize>,
    net: Option<&NetworkCosts<'_>>,
) -> Result<Comparison, PlanError> {
    let a = analyse_on(data, params, filter, net)?;
    let gaps = GapsReport::of_on(data, &a, net);
    let (r, n, u, s) = (&a.report, &a.near, &gaps.units, params.peak_share);
    let mut scores = match net {
        None => cov::compare(data, cands, r, n, u, s),
        Some(costs) => cov::compare_network(data, cands, r, n, u, s, costs),
    };
    if let Some(t) = top {
        scores.truncate(t);
    }
    Ok(Comparison {
        cutoff_m: a.report.cutoff_m,
        covered_share_now: a.report.covered_share,
        candidates: scores,
        distance: a.distance,
    })
}

impl Comparison {
    /// The comparison as the API answers it and scenarios store it: each row with
    /// `lon` and `lat` in `crs` instead of a WGS 84 `location`.
    pub fn to_json_in(&self, crs: Crs) -> Value {
        let rows: Vec<Value> = self
            .candidates
            .iter()
            .map(|s| {
                let at = crs.from_wgs84(s.location);
                let mut v = json!(s);
                if let Some(o) = v.as_object_mut() {
                    o.remove("location");
                    o.insert("lon".into(), json!(at.lon));
                    o.insert("lat".into(), json!(at.lat));
                }
                v
            })
            .collect();
        json!({
            "cutoff_m": self.cutoff_m,
            "covered_share_now": self.covered_share_now,
            "candidates": rows,
            "distance": self.distance,
        })
    }
}
