//! Coverage and station load: each hotspot's nearest open station, the covered share of
//! demand and the load of every station.

use serde::{Deserialize, Serialize};
use yizhan_core::{GeoIndex, Hotspot, LonLat, Station};

use super::params::{CoverageParams, Decay};
use crate::error::{Param, PlanError};
use crate::network::NetworkCosts;

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
    /// The local hours planned for (`[start, end)`), when asked: demand is then the
    /// workers present in them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<yizhan_core::profile::HourWindow>,
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
    let c = check_params(params)?;
    let pts: Vec<LonLat> = hotspots.iter().map(|h| h.location).collect();
    let near = nearest_stations(stations, &pts, c, true, keep);
    Ok((report_of(stations, hotspots, params, c, &near), near))
}

/// Coverage of `hotspots` by the open stations (`keep`) on the street network of
/// `costs`: a hotspot is covered when an open station lies within the network cutoff
/// (travel time or network metres), and its nearest station is the cheapest one by
/// that measure. `distance_m` is the network metres to it (walks to and from the
/// streets included); a hotspot with no station within the cutoff has none (the
/// bounded search does not look farther), so `mean_distance_m` averages the covered
/// hotspots. The decay, when asked for, is taken on network metres against
/// [`NetworkCosts::cutoff_m`].
pub fn coverage_network(
    stations: &GeoIndex<Station>,
    hotspots: &[Hotspot],
    params: &CoverageParams,
    keep: &(dyn Fn(&Station) -> bool + Sync),
    costs: &NetworkCosts<'_>,
) -> Result<(CoverageReport, Vec<Nearest>), PlanError> {
    check_params(params)?;
    let c = costs.cutoff_m();
    let open: Vec<usize> = (0..stations.len())
        .filter(|&k| keep(&stations.items()[k]))
        .collect();
    let at: Vec<LonLat> = open.iter().map(|&k| stations.items()[k].location).collect();
    let pts: Vec<LonLat> = hotspots.iter().map(|h| h.location).collect();
    let m = costs.matrix(&pts, &at);
    let near: Vec<Nearest> = m
        .rows
        .iter()
        .map(|r| match r.first() {
            Some((j, cost)) => Nearest {
                station: Some(open[*j as usize]),
                distance_m: Some(cost.metres),
                covered: true,
            },
            None => Nearest {
                station: None,
                distance_m: None,
                covered: false,
            },
        })
        .collect();
    Ok((report_of(stations, hotspots, params, c, &near), near))
}

fn check_params(params: &CoverageParams) -> Result<f64, PlanError> {
    let c = params.cutoff.metres()?;
    Param::PeakShare.positive(params.peak_share, "workers per worker")?;
    if let Some(Decay::Power { beta } | Decay::Exponential { beta }) = params.decay {
        Param::DecayBeta.positive(beta, "(dimensionless)")?;
    }
    Ok(c)
}

/// The report of each hotspot's nearest station at cutoff `c` metres.
fn report_of(
    stations: &GeoIndex<Station>,
    hotspots: &[Hotspot],
    params: &CoverageParams,
    c: f64,
    near: &[Nearest],
) -> CoverageReport {
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
    for (h, nr) in hotspots.iter().zip(near) {
        let w = h.demand(params.hours);
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
    CoverageReport {
        cutoff_m: c,
        hours: params.hours,
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
    }
}
