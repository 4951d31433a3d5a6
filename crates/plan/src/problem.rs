//! The generic location problem: weighted demand points × candidate sites with a
//! sparse cost matrix (metres, or any additive cost such as minutes).
//!
//! A [`Problem`] is built from geometry (great-circle metres computed with the core's
//! R-tree, optionally only within a radius, for scale), from a dense matrix, from
//! triplets, or from a long-format CSV ([`MatrixCsv`]) so that road-network distances
//! computed elsewhere can be used. Every model in [`crate::select`] and the capacitated
//! assignment in [`crate::assign`] solve on it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

    /// Read a long-format cost matrix (one row per demand–site pair). See [`MatrixCsv`].
    pub fn from_csv(spec: &MatrixCsv) -> Result<Self, PlanError> {
        read_matrix(spec)
    }
}

/// How to read a long-format cost matrix CSV: one line per demand–site pair, e.g.
/// spopt's `distance,name,DestinationName,demand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixCsv {
    /// The matrix file.
    pub path: PathBuf,
    /// Column with the demand point id.
    pub demand_col: String,
    /// Column with the site id.
    pub site_col: String,
    /// Column with the cost (metres, or any additive cost).
    pub cost_col: String,
    /// Column with the demand weight in the matrix file (all 1 when neither this nor
    /// `weights` is given).
    #[serde(default)]
    pub weight_col: Option<String>,
    /// Weights from a second file instead: (file, id column, weight column).
    #[serde(default)]
    pub weights: Option<WeightsCsv>,
    /// Require every demand–site pair (default true): a missing pair is an error.
    #[serde(default = "yes")]
    pub require_complete: bool,
}

fn yes() -> bool {
    true
}

/// A second file with demand weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsCsv {
    /// The file.
    pub path: PathBuf,
    /// Column with the demand id.
    pub id_col: String,
    /// Column with the weight.
    pub weight_col: String,
}

fn open_csv(path: &Path) -> Result<(csv::Reader<std::fs::File>, Vec<String>), PlanError> {
    let err = |m: String| PlanError::Csv {
        path: path.to_path_buf(),
        message: m,
    };
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(e.to_string()))?;
    let headers = r
        .headers()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .map(|h| h.to_string())
        .collect();
    Ok((r, headers))
}

fn column(path: &Path, headers: &[String], name: &str) -> Result<usize, PlanError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| PlanError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: headers.join(", "),
        })
}

fn number(path: &Path, rec: &csv::StringRecord, col: usize, name: &str) -> Result<f64, PlanError> {
    let s = rec.get(col).unwrap_or("");
    s.parse::<f64>().map_err(|_| PlanError::BadNumber {
        path: path.to_path_buf(),
        line: rec.position().map_or(0, |p| p.line()),
        column: name.to_string(),
        value: s.to_string(),
    })
}

fn read_matrix(spec: &MatrixCsv) -> Result<Problem, PlanError> {
    let path = spec.path.as_path();
    let (mut rdr, headers) = open_csv(path)?;
    let dc = column(path, &headers, &spec.demand_col)?;
    let sc = column(path, &headers, &spec.site_col)?;
    let cc = column(path, &headers, &spec.cost_col)?;
    let wc = spec
        .weight_col
        .as_deref()
        .map(|w| column(path, &headers, w))
        .transpose()?;
    let mut d_idx: HashMap<String, usize> = HashMap::new();
    let mut s_idx: HashMap<String, usize> = HashMap::new();
    let mut demand: Vec<DemandPoint> = Vec::new();
    let mut sites: Vec<SiteInfo> = Vec::new();
    let mut trip = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| PlanError::Csv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let did = rec.get(dc).unwrap_or("").to_string();
        let sid = rec.get(sc).unwrap_or("").to_string();
        let cost = number(path, &rec, cc, &spec.cost_col)?;
        let w = match wc {
            Some(c) => Some(number(
                path,
                &rec,
                c,
                spec.weight_col.as_deref().unwrap_or(""),
            )?),
            None => None,
        };
        let i = match d_idx.get(&did) {
            Some(&i) => {
                if let Some(w) = w {
                    if demand[i].weight != w {
                        return Err(PlanError::InconsistentWeight {
                            id: did,
                            first: demand[i].weight,
                            second: w,
                        });
                    }
                }
                i
            }
            None => {
                d_idx.insert(did.clone(), demand.len());
                demand.push(DemandPoint {
                    id: did,
                    weight: w.unwrap_or(1.0),
                });
                demand.len() - 1
            }
        };
        let j = *s_idx.entry(sid.clone()).or_insert_with(|| {
            sites.push(SiteInfo {
                id: sid,
                capacity: None,
            });
            sites.len() - 1
        });
        trip.push((i, j, cost));
    }
    if demand.is_empty() {
        return Err(PlanError::Empty {
            what: "demand points",
        });
    }
    if let Some(wf) = &spec.weights {
        let p = wf.path.as_path();
        let (mut r, h) = open_csv(p)?;
        let ic = column(p, &h, &wf.id_col)?;
        let wcol = column(p, &h, &wf.weight_col)?;
        let mut ws: HashMap<String, f64> = HashMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| PlanError::Csv {
                path: p.to_path_buf(),
                message: e.to_string(),
            })?;
            let w = number(p, &rec, wcol, &wf.weight_col)?;
            ws.insert(rec.get(ic).unwrap_or("").to_string(), w);
        }
        for d in &mut demand {
            d.weight = *ws.get(&d.id).ok_or_else(|| PlanError::MissingWeight {
                id: d.id.clone(),
                path: p.to_path_buf(),
            })?;
        }
    }
    let expected = demand.len() * sites.len();
    if spec.require_complete && trip.len() < expected {
        let mut have = vec![false; expected];
        for &(i, j, _) in &trip {
            have[i * sites.len() + j] = true;
        }
        let k = have.iter().position(|h| !h).unwrap_or(0);
        return Err(PlanError::MissingPairs {
            missing: have.iter().filter(|h| !**h).count(),
            expected,
            demand: demand[k / sites.len()].id.clone(),
            site: sites[k % sites.len()].id.clone(),
        });
    }
    Problem::from_triplets(demand, sites, trip)
}

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
    ) -> Self {
        let hs = ds.hotspots.items();
        let mut out = TownSites {
            demand: hs
                .iter()
                .map(|h| DemandPoint {
                    id: h.id.clone(),
                    weight: f64::from(h.workers),
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
}
