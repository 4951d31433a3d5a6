//! The coverage analysis every workflow starts from: the open stations' coverage of the
//! hotspots and each hotspot's nearest open station.

use yizhan_core::{Dataset, Station, StationFilter};

use crate::coverage::{self as cov, CoverageParams, CoverageReport, Nearest};
use crate::error::PlanError;
use crate::network::{By, DistanceUsed, NetworkCosts};

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
    /// Which distance it used.
    pub distance: DistanceUsed,
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
    analyse_on(data, params, filter, None)
}

/// [`analyse`] on the street network of `net` (straight lines when `None`; see
/// [`cov::coverage_network`]).
pub fn analyse_on(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
    net: Option<&NetworkCosts<'_>>,
) -> Result<Analysis, PlanError> {
    let filter = cov::worker_filter(filter);
    let keep = |s: &Station| filter.accepts(s);
    let hs = data.hotspots.items();
    let (report, near) = match net {
        None => cov::coverage(&data.stations, hs, params, &keep)?,
        Some(n) => cov::coverage_network(&data.stations, hs, params, &keep, n)?,
    };
    Ok(Analysis {
        filter,
        report,
        near,
        distance: used(net),
    })
}

/// What an analysis on `net` says it used.
pub(crate) fn used(net: Option<&NetworkCosts<'_>>) -> DistanceUsed {
    net.map_or(By::Straight, |n| n.by()).used()
}

/// The coverage report alone (see [`analyse`]).
pub fn coverage(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
) -> Result<CoverageReport, PlanError> {
    analyse(data, params, filter).map(|a| a.report)
}

/// The coverage report alone, on the street network of `net` (see [`analyse_on`]).
pub fn coverage_on(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
    net: Option<&NetworkCosts<'_>>,
) -> Result<CoverageReport, PlanError> {
    analyse_on(data, params, filter, net).map(|a| a.report)
}
