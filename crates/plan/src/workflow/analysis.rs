//! The coverage analysis every workflow starts from: the open stations' coverage of the
//! hotspots and each hotspot's nearest open station.

use yizhan_core::{Dataset, Station, StationFilter};

use crate::coverage::{self as cov, CoverageParams, CoverageReport, Nearest};
use crate::error::PlanError;

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
