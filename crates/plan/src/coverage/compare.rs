//! Candidate comparison: what each candidate site would bring against the current
//! stations.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use yizhan_core::{Candidate, Dataset, GridCell, LonLat};

use super::load::{CoverageReport, Nearest};
use super::units::UnitCoverage;
use crate::network::NetworkCosts;

/// What a candidate site would bring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// Candidate id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Where (WGS 84).
    pub location: LonLat,
    /// Demand now uncovered that it would cover.
    pub newly_covered_demand: f64,
    /// Hotspots now uncovered that it would cover.
    pub newly_covered_hotspots: usize,
    /// Load it would take off overloaded stations: Σ over them of
    /// min(load moving to the candidate, excess).
    pub relief: f64,
    /// Workers for whom it would be the nearest station within the cutoff.
    pub workers_served: f64,
    /// Mean distance saved by those workers (those that had a station at all), metres.
    pub mean_distance_saved_m: Option<f64>,
    /// Grid units without a station within the cutoff that it would cover.
    pub new_units: Vec<String>,
    /// Rank (1 = best): by newly covered demand, then relief, then distance saved.
    pub rank: usize,
}

/// Candidate sites from grid-cell centroids (id `cell:<cell id>`).
pub fn cell_candidates(cells: &[GridCell]) -> Vec<Candidate> {
    cells
        .iter()
        .map(|c| Candidate {
            id: format!("cell:{}", c.id),
            name: c.unit_name.clone(),
            location: c.centroid,
            capacity: None,
        })
        .collect()
}

/// Score and rank candidate sites against the current stations.
pub fn compare(
    ds: &Dataset,
    candidates: &[Candidate],
    report: &CoverageReport,
    near: &[Nearest],
    units: &[UnitCoverage],
    peak_share: f64,
) -> Vec<CandidateScore> {
    let c = report.cutoff_m;
    let reach = |k: usize| -> Reach {
        let at = candidates[k].location;
        let hot = ds
            .hotspots
            .within_radius(at, c, |_| true)
            .into_iter()
            .map(|h| (h.index, h.distance_m))
            .collect();
        let cells = ds
            .cells
            .within_radius(at, c, |_| true)
            .into_iter()
            .map(|h| h.index)
            .collect();
        (hot, cells)
    };
    compare_with(ds, candidates, report, near, units, peak_share, &reach)
}

/// [`compare`] on the street network of `costs`: a candidate serves the hotspots
/// from which it lies within the network cutoff, and takes a covered hotspot when it
/// is fewer network metres away than the hotspot's station; it covers a grid unit
/// when some cell centroid of the unit reaches it within the cutoff. `report` and
/// `near` come from [`coverage_network`](super::coverage_network) with `costs`.
pub fn compare_network(
    ds: &Dataset,
    candidates: &[Candidate],
    report: &CoverageReport,
    near: &[Nearest],
    units: &[UnitCoverage],
    peak_share: f64,
    costs: &NetworkCosts<'_>,
) -> Vec<CandidateScore> {
    let at: Vec<LonLat> = candidates.iter().map(|c| c.location).collect();
    let hot_at: Vec<LonLat> = ds.hotspots.items().iter().map(|h| h.location).collect();
    let cell_at: Vec<LonLat> = ds.cells.items().iter().map(|c| c.centroid).collect();
    let mut by_cand: Vec<Reach> = vec![(Vec::new(), Vec::new()); candidates.len()];
    for (i, row) in costs.matrix(&hot_at, &at).rows.iter().enumerate() {
        for (j, x) in row {
            by_cand[*j as usize].0.push((i, x.metres));
        }
    }
    for (i, row) in costs.matrix(&cell_at, &at).rows.iter().enumerate() {
        for (j, _) in row {
            by_cand[*j as usize].1.push(i);
        }
    }
    let reach = |k: usize| by_cand[k].clone();
    compare_with(ds, candidates, report, near, units, peak_share, &reach)
}

/// What a candidate reaches within the cutoff: (hotspot index, metres) and cell indices.
type Reach = (Vec<(usize, f64)>, Vec<usize>);

fn compare_with(
    ds: &Dataset,
    candidates: &[Candidate],
    report: &CoverageReport,
    near: &[Nearest],
    units: &[UnitCoverage],
    peak_share: f64,
    reach: &(dyn Fn(usize) -> Reach + Sync),
) -> Vec<CandidateScore> {
    let uncovered_units: HashSet<&str> = units
        .iter()
        .filter(|u| !u.covered)
        .map(|u| u.grid_unit.as_str())
        .collect();
    let hot = ds.hotspots.items();
    let mut out: Vec<CandidateScore> = candidates
        .par_iter()
        .enumerate()
        .map(|(k, cand)| {
            let (hot_in, cells_in) = reach(k);
            let mut newly = 0.0;
            let mut newly_n = 0;
            let mut served = 0.0;
            let mut saved = 0.0;
            let mut saved_w = 0.0;
            let mut moved: HashMap<usize, f64> = HashMap::new();
            for (index, dist) in hot_in {
                let w = hot[index].demand(report.hours);
                let nr = near[index];
                if !nr.covered {
                    newly += w;
                    newly_n += 1;
                    served += w;
                    if let Some(d) = nr.distance_m {
                        saved += w * (d - dist);
                        saved_w += w;
                    }
                } else if let (Some(s), Some(d)) = (nr.station, nr.distance_m) {
                    if dist < d {
                        served += w;
                        saved += w * (d - dist);
                        saved_w += w;
                        *moved.entry(s).or_default() += w * peak_share;
                    }
                }
            }
            let relief: f64 = moved
                .iter()
                .filter_map(|(s, m)| {
                    let l = &report.stations[*s];
                    l.overloaded.then(|| m.min(l.load - l.capacity as f64))
                })
                .sum();
            let mut new_units: Vec<String> = if uncovered_units.is_empty() {
                Vec::new()
            } else {
                cells_in
                    .iter()
                    .filter_map(|&i| ds.cells.items()[i].grid_unit.as_deref())
                    .filter(|u| uncovered_units.contains(u))
                    .map(str::to_string)
                    .collect()
            };
            new_units.sort();
            new_units.dedup();
            CandidateScore {
                id: cand.id.clone(),
                name: cand.name.clone(),
                location: cand.location,
                newly_covered_demand: newly,
                newly_covered_hotspots: newly_n,
                relief,
                workers_served: served,
                mean_distance_saved_m: (saved_w > 0.0).then(|| saved / saved_w),
                new_units,
                rank: 0,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.newly_covered_demand
            .total_cmp(&a.newly_covered_demand)
            .then(b.relief.total_cmp(&a.relief))
            .then(
                b.mean_distance_saved_m
                    .unwrap_or(0.0)
                    .total_cmp(&a.mean_distance_saved_m.unwrap_or(0.0)),
            )
            .then_with(|| a.id.cmp(&b.id))
    });
    for (k, s) in out.iter_mut().enumerate() {
        s.rank = k + 1;
    }
    out
}
