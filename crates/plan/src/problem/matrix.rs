//! The sparse cost problem: demand points, sites, and the costs between them stored by
//! row and by column, built from triplets, a dense matrix or positions.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use yizhan_core::{Candidate, GeoIndex, LonLat};

use crate::error::PlanError;

/// A weighted demand point (a hotspot of outdoor workers, a child, a census tract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandPoint {
    /// Unique id.
    pub id: String,
    /// Demand weight (workers, children, population); finite and >= 0.
    pub weight: f64,
}

/// A site that may serve demand: a candidate or an existing station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Unique id.
    pub id: String,
    /// Seats, if known (used by the capacitated assignment).
    #[serde(default)]
    pub capacity: Option<f64>,
}

/// Demand × sites with costs stored sparsely, both by row (demand) and by column (site),
/// each sorted by cost, so that "everything within radius r" is a prefix.
/// A pair that is absent is unreachable.
#[derive(Debug, Clone)]
pub struct Problem {
    demand: Vec<DemandPoint>,
    sites: Vec<SiteInfo>,
    row_ptr: Vec<usize>,
    row_site: Vec<u32>,
    row_cost: Vec<f64>,
    col_ptr: Vec<usize>,
    col_dem: Vec<u32>,
    col_cost: Vec<f64>,
    max_cost: f64,
}

fn check_ids<'a>(
    what: &'static str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<&'a str, usize>, PlanError> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        if map.insert(id, i).is_some() {
            return Err(PlanError::DuplicateId {
                what,
                id: id.to_string(),
            });
        }
    }
    Ok(map)
}

/// Unique demand and site ids, and demand weights finite and >= 0.
fn check_items(demand: &[DemandPoint], sites: &[SiteInfo]) -> Result<(), PlanError> {
    check_ids("demand point", demand.iter().map(|d| d.id.as_str()))?;
    check_ids("site", sites.iter().map(|s| s.id.as_str()))?;
    match demand
        .iter()
        .find(|d| !d.weight.is_finite() || d.weight < 0.0)
    {
        Some(d) => Err(PlanError::BadWeight {
            id: d.id.clone(),
            weight: d.weight,
        }),
        None => Ok(()),
    }
}

impl Problem {
    /// Build from (demand index, site index, cost) triplets. Costs must be finite and
    /// >= 0, weights finite and >= 0, ids unique, and each pair given once.
    pub fn from_triplets(
        demand: Vec<DemandPoint>,
        sites: Vec<SiteInfo>,
        triplets: impl IntoIterator<Item = (usize, usize, f64)>,
    ) -> Result<Self, PlanError> {
        check_items(&demand, &sites)?;
        let n = demand.len();
        let m = sites.len();
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        for (i, j, c) in triplets {
            if i >= n || j >= m {
                return Err(PlanError::Solver {
                    message: format!("triplet ({i}, {j}) out of range {n} x {m}"),
                });
            }
            if !c.is_finite() || c < 0.0 {
                return Err(PlanError::BadCost {
                    demand: demand[i].id.clone(),
                    site: sites[j].id.clone(),
                    cost: c,
                });
            }
            rows[i].push((j as u32, c));
        }
        Self::from_rows(demand, sites, rows)
    }

    /// Build from a dense matrix `costs[demand][site]`; `f64::INFINITY` marks an
    /// unreachable pair.
    pub fn from_dense(
        demand: Vec<DemandPoint>,
        sites: Vec<SiteInfo>,
        costs: &[Vec<f64>],
    ) -> Result<Self, PlanError> {
        let trip = costs.iter().enumerate().flat_map(|(i, r)| {
            r.iter()
                .enumerate()
                .filter(|(_, c)| **c != f64::INFINITY)
                .map(move |(j, c)| (i, j, *c))
        });
        let trip: Vec<_> = trip.collect();
        Self::from_triplets(demand, sites, trip)
    }

    /// Build from positions: the cost is the great-circle distance in metres (core
    /// haversine). With `max_m`, only pairs within that distance are kept (found with
    /// the R-tree, in parallel), which is how large problems stay small; without it the
    /// matrix is complete.
    pub fn from_points(
        demand: Vec<DemandPoint>,
        demand_at: &[LonLat],
        sites: Vec<SiteInfo>,
        site_at: &[LonLat],
        max_m: Option<f64>,
    ) -> Result<Self, PlanError> {
        if let Some(r) = max_m {
            crate::error::Param::Radius.non_negative(r, "metres")?;
        }
        let index = GeoIndex::new(
            sites
                .iter()
                .zip(site_at)
                .map(|(s, &location)| Candidate {
                    id: s.id.clone(),
                    name: None,
                    location,
                    capacity: None,
                })
                .collect(),
        );
        let rows: Vec<Vec<(u32, f64)>> = demand_at
            .par_iter()
            .map(|&p| match max_m {
                Some(r) => index
                    .within_radius(p, r, |_| true)
                    .into_iter()
                    .map(|h| (h.index as u32, h.distance_m))
                    .collect(),
                None => site_at
                    .iter()
                    .enumerate()
                    .map(|(j, &s)| (j as u32, yizhan_core::haversine_m(p, s)))
                    .collect(),
            })
            .collect();
        check_items(&demand, &sites)?;
        Self::from_rows(demand, sites, rows)
    }

    fn from_rows(
        demand: Vec<DemandPoint>,
        sites: Vec<SiteInfo>,
        mut rows: Vec<Vec<(u32, f64)>>,
    ) -> Result<Self, PlanError> {
        let m = sites.len();
        rows.par_iter_mut().for_each(|r| {
            r.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        });
        for (i, r) in rows.iter().enumerate() {
            let mut seen: Vec<u32> = r.iter().map(|x| x.0).collect();
            seen.sort_unstable();
            if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
                return Err(PlanError::DuplicatePair {
                    demand: demand[i].id.clone(),
                    site: sites[w[0] as usize].id.clone(),
                });
            }
        }
        let nnz: usize = rows.iter().map(|r| r.len()).sum();
        let mut row_ptr = Vec::with_capacity(rows.len() + 1);
        let mut row_site = Vec::with_capacity(nnz);
        let mut row_cost = Vec::with_capacity(nnz);
        let mut col_count = vec![0usize; m];
        let mut max_cost: f64 = 0.0;
        row_ptr.push(0);
        for r in &rows {
            for &(j, c) in r {
                row_site.push(j);
                row_cost.push(c);
                col_count[j as usize] += 1;
                max_cost = max_cost.max(c);
            }
            row_ptr.push(row_site.len());
        }
        drop(rows);
        let mut col_ptr = vec![0usize; m + 1];
        for j in 0..m {
            col_ptr[j + 1] = col_ptr[j] + col_count[j];
        }
        let mut fill = col_ptr.clone();
        let mut col_dem = vec![0u32; nnz];
        let mut col_cost = vec![0f64; nnz];
        for i in 0..demand.len() {
            for k in row_ptr[i]..row_ptr[i + 1] {
                let j = row_site[k] as usize;
                col_dem[fill[j]] = i as u32;
                col_cost[fill[j]] = row_cost[k];
                fill[j] += 1;
            }
        }
        // Sort each column by cost (then demand index).
        let mut cols: Vec<(&mut [u32], &mut [f64])> = Vec::with_capacity(m);
        {
            let mut d_rest: &mut [u32] = &mut col_dem;
            let mut c_rest: &mut [f64] = &mut col_cost;
            for j in 0..m {
                let len = col_ptr[j + 1] - col_ptr[j];
                let (d, dr) = std::mem::take(&mut d_rest).split_at_mut(len);
                let (c, cr) = std::mem::take(&mut c_rest).split_at_mut(len);
                d_rest = dr;
                c_rest = cr;
                cols.push((d, c));
            }
        }
        cols.par_iter_mut().for_each(|(d, c)| {
            let mut pairs: Vec<(u32, f64)> = d.iter().copied().zip(c.iter().copied()).collect();
            pairs.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            for (k, (i, cost)) in pairs.into_iter().enumerate() {
                d[k] = i;
                c[k] = cost;
            }
        });
        drop(cols);
        Ok(Self {
            demand,
            sites,
            row_ptr,
            row_site,
            row_cost,
            col_ptr,
            col_dem,
            col_cost,
            max_cost,
        })
    }

    /// Demand points, in order.
    pub fn demand(&self) -> &[DemandPoint] {
        &self.demand
    }

    /// Sites, in order.
    pub fn sites(&self) -> &[SiteInfo] {
        &self.sites
    }

    /// Number of demand points.
    pub fn n_demand(&self) -> usize {
        self.demand.len()
    }

    /// Number of sites.
    pub fn n_sites(&self) -> usize {
        self.sites.len()
    }

    /// Number of stored (reachable) pairs.
    pub fn nnz(&self) -> usize {
        self.row_site.len()
    }

    /// Whether every pair is present.
    pub fn is_complete(&self) -> bool {
        self.nnz() == self.n_demand() * self.n_sites()
    }

    /// The largest stored cost.
    pub fn max_cost(&self) -> f64 {
        self.max_cost
    }

    /// Total demand weight.
    pub fn total_weight(&self) -> f64 {
        self.demand.iter().map(|d| d.weight).sum()
    }

    /// Sites reachable from demand point `i` and their costs, cheapest first.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        (&self.row_site[r.clone()], &self.row_cost[r])
    }

    /// Demand points reachable from site `j` and their costs, cheapest first.
    pub fn col(&self, j: usize) -> (&[u32], &[f64]) {
        let r = self.col_ptr[j]..self.col_ptr[j + 1];
        (&self.col_dem[r.clone()], &self.col_cost[r])
    }

    /// The prefix of row `i` with cost <= `r`.
    pub fn row_within(&self, i: usize, r: f64) -> (&[u32], &[f64]) {
        let (s, c) = self.row(i);
        let k = c.partition_point(|&x| x <= r);
        (&s[..k], &c[..k])
    }

    /// The prefix of column `j` with cost <= `r`.
    pub fn col_within(&self, j: usize, r: f64) -> (&[u32], &[f64]) {
        let (d, c) = self.col(j);
        let k = c.partition_point(|&x| x <= r);
        (&d[..k], &c[..k])
    }

    /// The cost from demand `i` to site `j`, if reachable.
    pub fn cost(&self, i: usize, j: usize) -> Option<f64> {
        let (s, c) = self.row(i);
        s.iter().position(|&x| x as usize == j).map(|k| c[k])
    }

    /// Index of a site by id.
    pub fn site_index(&self, id: &str) -> Option<usize> {
        self.sites.iter().position(|s| s.id == id)
    }

    /// Replace demand weights (same order and length).
    pub fn with_weights(mut self, weights: &[f64]) -> Result<Self, PlanError> {
        for (d, &w) in self.demand.iter_mut().zip(weights) {
            if !w.is_finite() || w < 0.0 {
                return Err(PlanError::BadWeight {
                    id: d.id.clone(),
                    weight: w,
                });
            }
            d.weight = w;
        }
        Ok(self)
    }
}
