//! A town's site-selection problem: its hotspots as demand, its stations and the
//! candidates as sites.

use yizhan_core::LonLat;

use super::matrix::{DemandPoint, Problem, SiteInfo};
use crate::error::PlanError;

/// The pieces of a town's site-selection problem: its hotspots as demand (weight =
/// workers), and as sites its rest stations (when kept open, listed in `fixed`)
/// followed by the candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct TownSites {
    /// One demand point per hotspot.
    pub demand: Vec<DemandPoint>,
    /// Where each demand point is.
    pub demand_at: Vec<LonLat>,
    /// Existing stations (when kept) then candidates.
    pub sites: Vec<SiteInfo>,
    /// Where each site is.
    pub site_at: Vec<LonLat>,
    /// Ids of the existing stations kept open.
    pub fixed: Vec<String>,
}

impl TownSites {
    /// Hotspots of `ds` against its worker stations (rest stations, see
    /// [`crate::coverage::worker_filter`]) when `keep_existing`, and `candidates`.
    pub fn new(
        ds: &yizhan_core::Dataset,
        candidates: &[yizhan_core::Candidate],
        keep_existing: bool,
        hours: Option<yizhan_core::profile::HourWindow>,
    ) -> Self {
        let hs = ds.hotspots.items();
        let mut out = TownSites {
            demand: hs
                .iter()
                .map(|h| DemandPoint {
                    id: h.id.clone(),
                    weight: h.demand(hours),
                })
                .collect(),
            demand_at: hs.iter().map(|h| h.location).collect(),
            sites: Vec::new(),
            site_at: Vec::new(),
            fixed: Vec::new(),
        };
        if keep_existing {
            let workers = crate::coverage::worker_filter(yizhan_core::StationFilter::default());
            for s in ds.stations.items().iter().filter(|s| workers.accepts(s)) {
                out.sites.push(SiteInfo {
                    id: s.id.clone(),
                    capacity: Some(f64::from(s.capacity)),
                });
                out.site_at.push(s.location);
                out.fixed.push(s.id.clone());
            }
        }
        for c in candidates {
            out.sites.push(SiteInfo {
                id: c.id.clone(),
                capacity: c.capacity.map(f64::from),
            });
            out.site_at.push(c.location);
        }
        out
    }

    /// Number of demand × site pairs a full matrix would hold.
    pub fn pairs(&self) -> usize {
        self.demand.len() * self.sites.len()
    }

    /// The problem, with costs for pairs within `max_m` (all pairs when `None`).
    pub fn into_problem(self, max_m: Option<f64>) -> Result<Problem, PlanError> {
        Problem::from_points(
            self.demand,
            &self.demand_at,
            self.sites,
            &self.site_at,
            max_m,
        )
    }

    /// The problem on the street network of `costs`: the cost of a pair is its
    /// network travel time in seconds ([`yizhan_net::Metric::Time`]) or network metres,
    /// kept only within the network cutoff (points off the network reach nothing).
    pub fn into_network_problem(
        self,
        costs: &crate::network::NetworkCosts<'_>,
    ) -> Result<Problem, PlanError> {
        let m = costs.matrix(&self.demand_at, &self.site_at);
        let trip = m.rows.iter().enumerate().flat_map(|(i, r)| {
            r.iter()
                .map(move |(j, c)| (i, *j as usize, c.get(costs.metric)))
        });
        let trip: Vec<_> = trip.collect();
        Problem::from_triplets(self.demand, self.sites, trip)
    }
}
