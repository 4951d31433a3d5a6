//! Coverage of outdoor-worker demand by stations, station load, gap scores per grid
//! cell, grid units without a station, and candidate-site comparison.
//!
//! Coverage is the share of demand (hotspot workers) whose nearest open station lies
//! within a cutoff — metres, or minutes at a travel speed (walk 4.5 km/h, e-bike
//! 15 km/h by default). This is the covering notion of Toregas et al. (1971) and Church &
//! ReVelle (1974). Optionally a distance-decay accessibility is reported as well:
//! Σ wᵢ f(dᵢ) / Σ wᵢ with dᵢ the distance to the nearest station and f linear
//! `max(0, 1 − d/c)`, power `(1 + d/c)^(−β)` or exponential `exp(−β d/c)` for cutoff
//! c (the gravity / decay forms surveyed by Kwan 1998).
//!
//! # Examples
//!
//! ```
//! use yizhan_plan::coverage::{Cutoff, TravelMode};
//! assert_eq!(Cutoff::Metres { metres: 500.0 }.metres().unwrap(), 500.0);
//! // 10 minutes' walk at 4.5 km/h is 750 m
//! let walk = Cutoff::Minutes { minutes: 10.0, mode: TravelMode::Walk, speed_kmh: None };
//! assert!((walk.metres().unwrap() - 750.0).abs() < 1e-9);
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use yizhan_core::{
    Candidate, Dataset, GeoIndex, GridCell, Hotspot, LonLat, Station, StationFilter, StationKind,
};

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
}

impl CoverageParams {
    /// A hard cutoff in metres, no decay, peak share 1.
    pub fn metres(m: f64) -> Self {
        Self {
            cutoff: Cutoff::Metres { metres: m },
            decay: None,
            peak_share: 1.0,
        }
    }
}

/// Each hotspot's nearest open station.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Nearest {
    /// Index of the nearest open station in the station index, if any.
    pub station: Option<usize>,
    /// Distance to it, metres.
    pub distance_m: Option<f64>,
    /// Whether it lies within the cutoff.
    pub covered: bool,
}

/// Load of one station: the demand of the hotspots for which it is the nearest covering
/// station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationLoad {
    /// Station id.
    pub id: String,
    /// Station name.
    pub name: String,
    /// Seats.
    pub capacity: u32,
    /// Hotspots served.
    pub hotspots: usize,
    /// Workers served.
    pub workers: f64,
    /// Load: workers × peak share.
    pub load: f64,
    /// load / capacity (null when capacity is 0).
    pub utilisation: Option<f64>,
    /// load > capacity.
    pub overloaded: bool,
}

/// The coverage of a town.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageReport {
    /// Cutoff in metres.
    pub cutoff_m: f64,
    /// Total workers.
    pub total_demand: f64,
    /// Workers with an open station within the cutoff.
    pub covered_demand: f64,
    /// covered / total.
    pub covered_share: f64,
    /// Decay-weighted accessibility, when asked for.
    pub decay_share: Option<f64>,
    /// Number of hotspots.
    pub hotspots: usize,
    /// Hotspots covered.
    pub hotspots_covered: usize,
    /// Demand-weighted mean distance to the nearest station (hotspots with a station).
    pub mean_distance_m: Option<f64>,
    /// Per-station load, in station order.
    pub stations: Vec<StationLoad>,
    /// Ids of overloaded stations.
    pub overloaded: Vec<String>,
    /// Ids of uncovered hotspots (first 1,000).
    pub uncovered_hotspots: Vec<String>,
}

/// Nearest open station of each point (the core's batch join,
/// [`GeoIndex::nearest_each_map`], on all cores): the core of coverage at scale. `keep`
/// decides which stations are open (a closure is called directly, a `dyn Fn` through
/// its vtable). With `beyond_cutoff` false the search
/// stops at the cutoff (much faster for sparse regions; `distance_m` is then None for
/// uncovered points).
pub fn nearest_stations<S, K>(
    stations: &GeoIndex<S>,
    points: &[LonLat],
    cutoff_m: f64,
    beyond_cutoff: bool,
    keep: &K,
) -> Vec<Nearest>
where
    S: yizhan_core::Located + Sync,
    K: Fn(&S) -> bool + Sync + ?Sized,
{
    let max = (!beyond_cutoff).then_some(cutoff_m);
    // The core visits the points along a Hilbert curve on all cores (cache-friendly)
    // and writes these records straight into the result.
    stations.nearest_each_map(points, max, keep, |hit| match hit {
        Some((station, d)) => Nearest {
            station: Some(station),
            distance_m: Some(d),
            covered: d <= cutoff_m,
        },
        None => Nearest {
            station: None,
            distance_m: None,
            covered: false,
        },
    })
}

/// Coverage of `hotspots` by the open stations (`keep`), with per-station load.
/// Returns the report and each hotspot's nearest station.
pub fn coverage(
    stations: &GeoIndex<Station>,
    hotspots: &[Hotspot],
    params: &CoverageParams,
    keep: &(dyn Fn(&Station) -> bool + Sync),
) -> Result<(CoverageReport, Vec<Nearest>), PlanError> {
    let c = params.cutoff.metres()?;
    Param::PeakShare.positive(params.peak_share, "workers per worker")?;
    if let Some(Decay::Power { beta } | Decay::Exponential { beta }) = params.decay {
        Param::DecayBeta.positive(beta, "(dimensionless)")?;
    }
    let pts: Vec<LonLat> = hotspots.iter().map(|h| h.location).collect();
    let near = nearest_stations(stations, &pts, c, true, keep);
    let mut total = 0.0;
    let mut covered = 0.0;
    let mut decayed = 0.0;
    let mut wd = 0.0;
    let mut wsum = 0.0;
    let mut n_cov = 0;
    let mut uncovered = Vec::new();
    let ns = stations.len();
    let mut workers = vec![0.0; ns];
    let mut count = vec![0usize; ns];
    for (h, nr) in hotspots.iter().zip(&near) {
        let w = h.workers as f64;
        total += w;
        if let Some(d) = nr.distance_m {
            wd += w * d;
            wsum += w;
            if let Some(dec) = params.decay {
                decayed += w * dec.factor(d, c);
            }
        }
        if nr.covered {
            covered += w;
            n_cov += 1;
            if let Some(s) = nr.station {
                workers[s] += w;
                count[s] += 1;
            }
        } else if uncovered.len() < 1000 {
            uncovered.push(h.id.clone());
        }
    }
    let loads: Vec<StationLoad> = stations
        .items()
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let load = workers[k] * params.peak_share;
            StationLoad {
                id: s.id.clone(),
                name: s.name_zh.clone().unwrap_or_else(|| s.name.clone()),
                capacity: s.capacity,
                hotspots: count[k],
                workers: workers[k],
                load,
                utilisation: (s.capacity > 0).then(|| load / s.capacity as f64),
                overloaded: load > s.capacity as f64,
            }
        })
        .collect();
    let share = |x: f64| if total > 0.0 { x / total } else { 0.0 };
    Ok((
        CoverageReport {
            cutoff_m: c,
            total_demand: total,
            covered_demand: covered,
            covered_share: share(covered),
            decay_share: params.decay.map(|_| share(decayed)),
            hotspots: hotspots.len(),
            hotspots_covered: n_cov,
            mean_distance_m: (wsum > 0.0).then(|| wd / wsum),
            overloaded: loads
                .iter()
                .filter(|l| l.overloaded)
                .map(|l| l.id.clone())
                .collect(),
            stations: loads,
            uncovered_hotspots: uncovered,
        },
        near,
    ))
}

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

/// Gap scores of every cell, ranked (worst first). `near` is the hotspots' nearest
/// stations from [`coverage`] (same order as `ds.hotspots`).
pub fn gaps(
    ds: &Dataset,
    report: &CoverageReport,
    near: &[Nearest],
    weights: &GapWeights,
    keep: &(dyn Fn(&Station) -> bool + Sync),
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
        .map(|cell| {
            let inside = ds.hotspots.within_polygon(&cell.polygon, |_| true);
            let demand: f64 = inside.iter().map(|h| h.item.workers as f64).sum();
            let unc: f64 = inside
                .iter()
                .filter(|h| !near.get(h.index).is_some_and(|n| n.covered))
                .map(|h| h.item.workers as f64)
                .sum();
            let nearest = ds
                .stations
                .nearest(cell.centroid, 1, None, keep)
                .first()
                .map(|h| h.distance_m);
            let pressure: f64 = if excess.is_empty() {
                0.0
            } else {
                ds.stations
                    .within_radius(cell.centroid, c, keep)
                    .iter()
                    .filter_map(|h| {
                        excess
                            .get(&h.index)
                            .map(|e| e * (1.0 - if c > 0.0 { h.distance_m / c } else { 1.0 }))
                    })
                    .sum::<f64>()
                    + 0.0 // an empty f64 sum is -0.0
            };
            (demand, unc, nearest, pressure)
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

/// Coverage of one grid unit (village / community).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitCoverage {
    /// Unit code.
    pub grid_unit: String,
    /// Unit name.
    pub unit_name: Option<String>,
    /// Cells in the unit.
    pub cells: usize,
    /// Cells whose centroid has an open station within the cutoff.
    pub cells_covered: usize,
    /// Demand in the unit's cells.
    pub demand: f64,
    /// Of which uncovered.
    pub uncovered_demand: f64,
    /// Nearest open station from any of its cells' centroids.
    pub nearest_station_m: Option<f64>,
    /// Whether some cell has a station within the cutoff.
    pub covered: bool,
}

/// Per grid unit: is any station within the cutoff? (The seed's claim "every work
/// district is covered" is `units.iter().all(|u| u.covered)`.)
pub fn unit_coverage(cells: &[CellGap], cutoff_m: f64) -> Vec<UnitCoverage> {
    let mut by: BTreeMap<String, UnitCoverage> = BTreeMap::new();
    for g in cells {
        let Some(code) = &g.grid_unit else { continue };
        let u = by.entry(code.clone()).or_insert_with(|| UnitCoverage {
            grid_unit: code.clone(),
            unit_name: g.unit_name.clone(),
            cells: 0,
            cells_covered: 0,
            demand: 0.0,
            uncovered_demand: 0.0,
            nearest_station_m: None,
            covered: false,
        });
        u.cells += 1;
        u.demand += g.demand;
        u.uncovered_demand += g.uncovered_demand;
        if let Some(d) = g.nearest_station_m {
            u.nearest_station_m = Some(u.nearest_station_m.map_or(d, |x| x.min(d)));
            if d <= cutoff_m {
                u.cells_covered += 1;
                u.covered = true;
            }
        }
    }
    by.into_values().collect()
}

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
    let uncovered_units: HashSet<&str> = units
        .iter()
        .filter(|u| !u.covered)
        .map(|u| u.grid_unit.as_str())
        .collect();
    let hot = ds.hotspots.items();
    let mut out: Vec<CandidateScore> = candidates
        .par_iter()
        .map(|cand| {
            let mut newly = 0.0;
            let mut newly_n = 0;
            let mut served = 0.0;
            let mut saved = 0.0;
            let mut saved_w = 0.0;
            let mut moved: HashMap<usize, f64> = HashMap::new();
            for h in ds.hotspots.within_radius(cand.location, c, |_| true) {
                let w = hot[h.index].workers as f64;
                let nr = near[h.index];
                if !nr.covered {
                    newly += w;
                    newly_n += 1;
                    served += w;
                    if let Some(d) = nr.distance_m {
                        saved += w * (d - h.distance_m);
                        saved_w += w;
                    }
                } else if let (Some(s), Some(d)) = (nr.station, nr.distance_m) {
                    if h.distance_m < d {
                        served += w;
                        saved += w * (d - h.distance_m);
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
                ds.cells
                    .within_radius(cand.location, c, |_| true)
                    .iter()
                    .filter_map(|h| h.item.grid_unit.as_deref())
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
