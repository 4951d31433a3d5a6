//! Gap scores of every grid cell, grid units without a station, and the gap layer.

use std::collections::HashMap;

use geojson::Feature;
use serde::Serialize;
use yizhan_core::crs::Crs;
use yizhan_core::{Dataset, GridCell, StationFilter};

use super::analysis::{analyse_on, used, Analysis};
use super::defaults::{DEFAULT_PEAK_SHARE, NEAREST_STEPS_PER_M};
use crate::coverage::{self as cov, CellGap, CoverageParams, GapWeights, UnitCoverage};
use crate::error::PlanError;
use crate::network::{DistanceUsed, NetworkCosts};

/// The gaps of a town at one cutoff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapsReport {
    /// The cutoff, metres.
    pub cutoff_m: f64,
    /// Every cell's gap, worst first: by score, equal scores by cell id, so
    /// `cells[i].rank == i + 1`.
    pub cells: Vec<CellGap>,
    /// Coverage of every grid unit the cells name, ordered by unit code (cells
    /// without a unit code count in no unit).
    pub units: Vec<UnitCoverage>,
    /// The units with no station within the cutoff.
    pub uncovered_units: Vec<UnitCoverage>,
    /// Whether every unit has a station within the cutoff.
    pub all_units_covered: bool,
    /// Which distance it used.
    pub distance: DistanceUsed,
    /// The local hours planned for, when asked.
    pub hours: Option<yizhan_core::profile::HourWindow>,
}

/// The properties a cell carries in the gap layer (next to the cell's own).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GapProperties {
    /// The cutoff, metres.
    pub cutoff_m: f64,
    /// Demand in the cell with no open station within the cutoff.
    pub uncovered_demand: f64,
    /// Distance from the centroid to the nearest open station, metres
    /// (rounded to 1 / [`NEAREST_STEPS_PER_M`] m).
    pub nearest_station_m: Option<f64>,
    /// Whether all of the cell's demand is covered.
    pub covered: bool,
    /// Pressure from overloaded stations nearby.
    pub pressure: f64,
    /// Gap score (higher is worse).
    pub score: f64,
    /// Rank by score (1 = worst).
    pub rank: usize,
    /// The local hours planned for, when asked: the cell's `demand` is then the
    /// workers present in them (not the cell's daily demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<yizhan_core::profile::HourWindow>,
    /// The cell's demand in `hours`.
    #[serde(skip)]
    pub hours_demand: f64,
}

impl GapProperties {
    /// The layer properties of one cell's gap.
    pub fn new(
        g: &CellGap,
        cutoff_m: f64,
        hours: Option<yizhan_core::profile::HourWindow>,
    ) -> Self {
        let k = NEAREST_STEPS_PER_M;
        GapProperties {
            cutoff_m,
            uncovered_demand: g.uncovered_demand,
            nearest_station_m: g.nearest_station_m.map(|d| (d * k).round() / k),
            covered: g.uncovered_demand <= 0.0,
            pressure: g.pressure,
            score: g.score,
            rank: g.rank,
            hours,
            hours_demand: g.demand,
        }
    }

    fn feature(&self, cell: &GridCell, crs: Crs) -> Feature {
        let extra = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => serde_json::Map::new(),
        };
        let mut f = yizhan_core::io::cell_feature(cell, crs, extra);
        if self.hours.is_some() {
            if let Some(p) = f.properties.as_mut() {
                p.insert("demand".into(), self.hours_demand.into());
            }
        }
        f
    }
}

/// Gap scores at `params` counting the stations that pass `filter` (kind defaulting
/// to rest stations), with the grid units' coverage.
pub fn gaps(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
) -> Result<GapsReport, PlanError> {
    gaps_on(data, params, filter, None)
}

/// [`gaps()`] on the street network of `net` (straight lines when `None`).
pub fn gaps_on(
    data: &Dataset,
    params: &CoverageParams,
    filter: StationFilter,
    net: Option<&NetworkCosts<'_>>,
) -> Result<GapsReport, PlanError> {
    Ok(GapsReport::of_on(
        data,
        &analyse_on(data, params, filter, net)?,
        net,
    ))
}

impl GapsReport {
    /// The gaps of an analysis already run.
    pub fn of(data: &Dataset, a: &Analysis) -> Self {
        Self::of_on(data, a, None)
    }

    /// The gaps of an analysis already run on the street network of `net` (the same
    /// as the analysis'). On a network a cell's `nearest_station_m` is set only when a
    /// station lies within the network cutoff, and that is what covers its unit.
    pub fn of_on(data: &Dataset, a: &Analysis, net: Option<&NetworkCosts<'_>>) -> Self {
        let keep = |s: &yizhan_core::Station| a.counts(s);
        let w = GapWeights::default();
        let (cells, unit_cutoff) = match net {
            None => (
                cov::gaps(data, &a.report, &a.near, &w, &keep),
                a.report.cutoff_m,
            ),
            Some(n) => (
                cov::gaps_network(data, &a.report, &a.near, &w, &keep, n),
                f64::INFINITY,
            ),
        };
        let units = cov::unit_coverage(&cells, unit_cutoff);
        let uncovered_units: Vec<UnitCoverage> =
            units.iter().filter(|u| !u.covered).cloned().collect();
        GapsReport {
            cutoff_m: a.report.cutoff_m,
            hours: a.report.hours,
            all_units_covered: uncovered_units.is_empty(),
            cells,
            units,
            uncovered_units,
            distance: used(net),
        }
    }

    /// The gap layer: every cell of `data` (in the dataset's order) with its
    /// [`GapProperties`], coordinates in `crs`.
    pub fn features(&self, data: &Dataset, crs: Crs) -> Vec<Feature> {
        let by_id: HashMap<&str, &CellGap> =
            self.cells.iter().map(|g| (g.id.as_str(), g)).collect();
        data.cells
            .items()
            .iter()
            .filter_map(|c| {
                let g = by_id.get(c.id.as_str())?;
                Some(GapProperties::new(g, self.cutoff_m, self.hours).feature(c, crs))
            })
            .collect()
    }

    /// The `n` worst cells as gap-layer features, worst first.
    pub fn worst_features(&self, data: &Dataset, n: usize, crs: Crs) -> Vec<Feature> {
        let by_id: HashMap<&str, &GridCell> = data
            .cells
            .items()
            .iter()
            .map(|c| (c.id.as_str(), c))
            .collect();
        self.cells
            .iter()
            .take(n)
            .filter_map(|g| {
                let c = by_id.get(g.id.as_str())?;
                Some(GapProperties::new(g, self.cutoff_m, self.hours).feature(c, crs))
            })
            .collect()
    }
}

/// The published gap layer at `cutoff_m`: all worker stations open, the default peak
/// share, coordinates in `crs`.
pub fn gap_layer(data: &Dataset, cutoff_m: f64, crs: Crs) -> Result<Vec<Feature>, PlanError> {
    let params = CoverageParams {
        peak_share: DEFAULT_PEAK_SHARE,
        ..CoverageParams::metres(cutoff_m)
    };
    Ok(gaps(data, &params, StationFilter::default())?.features(data, crs))
}
