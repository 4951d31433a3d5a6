//! Gap scoring: how much each grid cell needs a station.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use yizhan_core::{Dataset, LonLat, Station};

use super::load::{CoverageReport, Nearest};
use crate::network::NetworkCosts;

/// Weights of the three parts of the gap score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GapWeights {
    /// Weight of uncovered demand (default 0.5).
    pub uncovered: f64,
    /// Weight of distance to the nearest station (default 0.3).
    pub distance: f64,
    /// Weight of pressure from overloaded stations nearby (default 0.2).
    pub pressure: f64,
}

impl Default for GapWeights {
    fn default() -> Self {
        Self {
            uncovered: 0.5,
            distance: 0.3,
            pressure: 0.2,
        }
    }
}

/// The gap of one grid cell. Score (0–1, higher = more in need):
///
/// `score = a·U/Umax + b·min(D/c, 2)/2 + g·P/Pmax`
///
/// with U the uncovered demand in the cell, D the distance from the cell's centroid to
/// the nearest open station (2c when there is none), c the cutoff, P the pressure
/// Σ over overloaded stations s within c of the centroid of excessₛ·(1 − dₛ/c) (excess =
/// load − seats), Umax and Pmax the largest over all cells, and (a, b, g) the
/// [`GapWeights`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellGap {
    /// Cell id.
    pub id: String,
    /// Grid unit code.
    pub grid_unit: Option<String>,
    /// Grid unit name.
    pub unit_name: Option<String>,
    /// Demand in the cell (hotspot workers inside it).
    pub demand: f64,
    /// Of which uncovered.
    pub uncovered_demand: f64,
    /// Distance from the centroid to the nearest open station.
    pub nearest_station_m: Option<f64>,
    /// Pressure from overloaded stations nearby.
    pub pressure: f64,
    /// The combined score.
    pub score: f64,
    /// Rank by score (1 = worst gap).
    pub rank: usize,
}

/// What a cell's centroid reaches: the nearest open station's metres (None: none,
/// or in network mode none within the cutoff) and the open stations within the
/// cutoff with their cost as a share of the cutoff (0–1).
type CellAccess = (Option<f64>, Vec<(usize, f64)>);

/// Gap scores of every cell, ranked (worst first). `near` is the hotspots' nearest
/// stations from [`coverage`](super::coverage()) (same order as `ds.hotspots`).
pub fn gaps(
    ds: &Dataset,
    report: &CoverageReport,
    near: &[Nearest],
    weights: &GapWeights,
    keep: &(dyn Fn(&Station) -> bool + Sync),
) -> Vec<CellGap> {
    let c = report.cutoff_m;
    let any_overloaded = report.stations.iter().any(|l| l.overloaded);
    let access: Vec<CellAccess> = ds
        .cells
        .items()
        .par_iter()
        .map(|cell| {
            let nearest = ds
                .stations
                .nearest(cell.centroid, 1, None, keep)
                .first()
                .map(|h| h.distance_m);
            let within = if any_overloaded {
                ds.stations
                    .within_radius(cell.centroid, c, keep)
                    .iter()
                    .map(|h| (h.index, if c > 0.0 { h.distance_m / c } else { 1.0 }))
                    .collect()
            } else {
                Vec::new()
            };
            (nearest, within)
        })
        .collect();
    gaps_from(ds, report, near, weights, &access)
}

/// [`gaps`] on the street network of `costs`: a cell's nearest station is the
/// cheapest open one within the network cutoff from its centroid (its network metres
/// in `nearest_station_m`; none beyond the cutoff, which scores as no station), and
/// the pressure counts the overloaded stations within the network cutoff, weighted by
/// 1 − cost / cutoff. `report` and `near` come from
/// [`coverage_network`](super::coverage_network) with the same `costs`.
pub fn gaps_network(
    ds: &Dataset,
    report: &CoverageReport,
    near: &[Nearest],
    weights: &GapWeights,
    keep: &(dyn Fn(&Station) -> bool + Sync),
    costs: &NetworkCosts<'_>,
) -> Vec<CellGap> {
    let st = ds.stations.items();
    let open: Vec<usize> = (0..st.len()).filter(|&k| keep(&st[k])).collect();
    let at: Vec<LonLat> = open.iter().map(|&k| st[k].location).collect();
    let centroids: Vec<LonLat> = ds.cells.items().iter().map(|c| c.centroid).collect();
    let m = costs.matrix(&centroids, &at);
    let access: Vec<CellAccess> = m
        .rows
        .iter()
        .map(|r| {
            let nearest = r.first().map(|x| x.1.metres);
            let within = r
                .iter()
                .map(|(j, x)| {
                    let share = if costs.cutoff > 0.0 {
                        x.get(costs.metric) / costs.cutoff
                    } else {
                        1.0
                    };
                    (open[*j as usize], share)
                })
                .collect();
            (nearest, within)
        })
        .collect();
    gaps_from(ds, report, near, weights, &access)
}

fn gaps_from(
    ds: &Dataset,
    report: &CoverageReport,
    near: &[Nearest],
    weights: &GapWeights,
    access: &[CellAccess],
) -> Vec<CellGap> {
    let c = report.cutoff_m;
    let excess: HashMap<usize, f64> = report
        .stations
        .iter()
        .enumerate()
        .filter(|(_, l)| l.overloaded)
        .map(|(k, l)| (k, l.load - l.capacity as f64))
        .collect();
    let cells = ds.cells.items();
    let raw: Vec<(f64, f64, Option<f64>, f64)> = cells
        .par_iter()
        .zip(access)
        .map(|(cell, (nearest, within))| {
            let inside = ds.hotspots.within_polygon(&cell.polygon, |_| true);
            let demand: f64 = inside.iter().map(|h| h.item.demand(report.hours)).sum();
            let unc: f64 = inside
                .iter()
                .filter(|h| !near.get(h.index).is_some_and(|n| n.covered))
                .map(|h| h.item.demand(report.hours))
                .sum();
            let pressure: f64 = if excess.is_empty() {
                0.0
            } else {
                within
                    .iter()
                    .filter_map(|(k, share)| excess.get(k).map(|e| e * (1.0 - share)))
                    .sum::<f64>()
                    + 0.0 // an empty f64 sum is -0.0
            };
            (demand, unc, *nearest, pressure)
        })
        .collect();
    let umax = raw.iter().map(|r| r.1).fold(0.0, f64::max);
    let pmax = raw.iter().map(|r| r.3).fold(0.0, f64::max);
    let mut out: Vec<CellGap> = cells
        .iter()
        .zip(raw)
        .map(|(cell, (demand, unc, nearest, pressure))| {
            let dpart = match nearest {
                Some(d) if c > 0.0 => (d / c).min(2.0) / 2.0,
                Some(0.0) => 0.0,
                _ => 1.0,
            };
            let score = weights.uncovered * if umax > 0.0 { unc / umax } else { 0.0 }
                + weights.distance * dpart
                + weights.pressure * if pmax > 0.0 { pressure / pmax } else { 0.0 };
            CellGap {
                id: cell.id.clone(),
                grid_unit: cell.grid_unit.clone(),
                unit_name: cell.unit_name.clone(),
                demand,
                uncovered_demand: unc,
                nearest_station_m: nearest,
                pressure,
                score,
                rank: 0,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    for (k, g) in out.iter_mut().enumerate() {
        g.rank = k + 1;
    }
    out
}
