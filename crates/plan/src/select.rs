//! Optimal and fast site selection: MCLP, LSCP, p-median and p-center.
//!
//! | model | question | source |
//! |---|---|---|
//! | [`Model::Mclp`] | best `p` new sites, maximising demand within the radius | Church & ReVelle (1974), "The maximal covering location problem", *Papers of the Regional Science Association* 32 |
//! | [`Model::Lscp`] | fewest sites covering every demand point | Toregas, Swain, ReVelle & Bergman (1971), "The location of emergency service facilities", *Operations Research* 19 |
//! | [`Model::PMedian`] | `p` new sites minimising total weighted distance | Hakimi (1964), "Optimum locations of switching centers and the absolute centers and medians of a graph", *Operations Research* 12; ReVelle & Swain (1970) for the integer program |
//! | [`Model::PCenter`] | `p` new sites minimising the worst distance of any demand point | Hakimi (1964, 1965); solved exactly by a sequence of set-covering problems (Minieka 1970) |
//!
//! Each model is solved either by a fast heuristic or exactly:
//!
//! * heuristic: lazy greedy (Minoux 1978) then swap / interchange local search
//!   (Teitz & Bart 1968, with Whitaker's 1983 fast interchange for p-median); p-center by
//!   bisection on the radius with the MCLP heuristic as the covering test. For MCLP the
//!   heuristic also reports a gap against the submodular upper bound
//!   f(S) + Σ of the `p` largest marginal gains (Nemhauser, Wolsey & Fisher 1978).
//! * exact: the integer program through `good_lp` (microlp by default, HiGHS with the
//!   `highs` cargo feature and `solver: highs`), warm-started with the heuristic answer;
//!   `optimal` says whether optimality was proven, `gap` how far from the solver's proven
//!   bound the answer may be. The MCLP program is reduced exactly first: demand points
//!   with the same set of covering candidates share one row (their weights summed), and
//!   candidates that a Lagrangian bound (Galvão & ReVelle 1996) shows cannot beat the
//!   warm start are left out; when that bound already meets the warm start, the answer is
//!   proven without the solver.
//!
//! Existing stations can be kept open (`fixed`), and candidates can be `excluded`;
//! `p` counts new sites only.
//!
//! # Examples
//!
//! ```
//! use yizhan_plan::problem::{DemandPoint, Problem, SiteInfo};
//! use yizhan_plan::select::{solve, Model, SiteParams};
//! let demand = (0..4).map(|i| DemandPoint { id: format!("d{i}"), weight: 1.0 + i as f64 }).collect();
//! let sites = (0..3).map(|j| SiteInfo { id: format!("s{j}"), capacity: None }).collect();
//! let costs = vec![
//!     vec![100.0, 900.0, 2000.0],
//!     vec![800.0, 200.0, 2000.0],
//!     vec![2000.0, 700.0, 300.0],
//!     vec![2000.0, 2000.0, 100.0],
//! ];
//! let problem = Problem::from_dense(demand, sites, &costs).unwrap();
//! let mut params = SiteParams::new(Model::Mclp);
//! params.p = Some(1);
//! params.radius_m = Some(1000.0);
//! let fast = solve(&problem, &params).unwrap();
//! assert_eq!(fast.sites, vec!["s2"]); // covers d2 and d3: weight 7 of 10 (s1: 6)
//! params.exact = true;
//! let exact = solve(&problem, &params).unwrap();
//! assert!(exact.optimal);
//! assert_eq!(exact.covered_demand, 7.0);
//! ```

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bnb;
use crate::error::PlanError;
use crate::milp::{gap_of, Cmp, ExactSolver, Milp};
use crate::problem::Problem;

/// A site-selection model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Model {
    /// Maximal covering location problem (Church & ReVelle 1974).
    Mclp,
    /// Location set covering problem (Toregas et al. 1971).
    Lscp,
    /// p-median (Hakimi 1964).
    #[serde(rename = "pmedian")]
    PMedian,
    /// p-center (Hakimi 1964).
    #[serde(rename = "pcenter")]
    PCenter,
}

impl Model {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Mclp => "mclp",
            Model::Lscp => "lscp",
            Model::PMedian => "pmedian",
            Model::PCenter => "pcenter",
        }
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "mclp" => Ok(Model::Mclp),
            "lscp" => Ok(Model::Lscp),
            "pmedian" => Ok(Model::PMedian),
            "pcenter" => Ok(Model::PCenter),
            _ => Err(format!(
                "unknown model {s:?} (expected mclp, lscp, pmedian, pcenter)"
            )),
        }
    }
}

fn default_time_limit() -> f64 {
    60.0
}
fn default_max_vars() -> usize {
    60_000
}

/// Parameters of a site selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteParams {
    /// Which model.
    pub model: Model,
    /// Number of new sites (MCLP, p-median, p-center).
    #[serde(default)]
    pub p: Option<usize>,
    /// Service radius (cost units, metres for geometry): needed by MCLP and LSCP; for
    /// p-median and p-center it only sets what `covered_demand` counts.
    #[serde(default)]
    pub radius_m: Option<f64>,
    /// Site ids that are open whatever happens (existing stations).
    #[serde(default)]
    pub fixed: Vec<String>,
    /// Site ids that may not be chosen.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Solve the integer program (proving optimality or reporting the gap).
    #[serde(default)]
    pub exact: bool,
    /// Which MILP solver (exact mode).
    #[serde(default)]
    pub solver: ExactSolver,
    /// Time limit of the exact solver, seconds.
    #[serde(default = "default_time_limit")]
    pub time_limit_s: f64,
    /// Largest integer program (variables) the exact mode attempts; above it the
    /// heuristic answer is returned with `optimal: false`.
    #[serde(default = "default_max_vars")]
    pub max_exact_vars: usize,
}

impl SiteParams {
    /// Defaults for a model: no p, no radius, nothing fixed or excluded, heuristic.
    pub fn new(model: Model) -> Self {
        Self {
            model,
            p: None,
            radius_m: None,
            fixed: Vec::new(),
            excluded: Vec::new(),
            exact: false,
            solver: ExactSolver::default(),
            time_limit_s: default_time_limit(),
            max_exact_vars: default_max_vars(),
        }
    }
}

/// The chosen sites and how good they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSolution {
    /// The model solved.
    pub model: Model,
    /// Every open site id: fixed first, then the new ones in problem order.
    pub sites: Vec<String>,
    /// The new sites chosen.
    pub new_sites: Vec<String>,
    /// The fixed (existing) sites.
    pub fixed_sites: Vec<String>,
    /// The model's objective: covered weight (MCLP), number of new sites (LSCP),
    /// total weighted cost (p-median), worst cost (p-center).
    pub objective: f64,
    /// What `objective` measures.
    pub objective_name: String,
    /// Demand weight within the radius of an open site (with no radius: reachable).
    pub covered_demand: f64,
    /// Total demand weight.
    pub total_demand: f64,
    /// covered / total (0 when there is no demand).
    pub covered_share: f64,
    /// Number of demand points not covered.
    pub uncovered_points: usize,
    /// Percentage of demand points covered (spopt's `perc_cov`).
    pub covered_points_pct: f64,
    /// Ids of the demand points not covered (first 1,000).
    pub uncovered_ids: Vec<String>,
    /// Weighted mean cost from each demand point to its nearest open site (reachable demand).
    pub mean_distance_m: Option<f64>,
    /// Worst cost from a demand point to its nearest open site.
    pub max_distance_m: Option<f64>,
    /// Whether optimality is proven.
    pub optimal: bool,
    /// Relative gap to the best proven bound (0 when optimal; null when unknown).
    pub gap: Option<f64>,
    /// "heuristic" or "exact".
    pub method: String,
    /// The MILP solver, in exact mode.
    pub solver: Option<String>,
    /// Anything worth knowing about how the answer was reached.
    pub note: Option<String>,
}

/// Which sites are fixed, excluded and free to choose.
struct Setup {
    fixed: Vec<usize>,
    free: Vec<usize>,
    allowed: Vec<bool>,
}

fn setup(prob: &Problem, params: &SiteParams) -> Result<Setup, PlanError> {
    let m = prob.n_sites();
    if prob.n_demand() == 0 {
        return Err(PlanError::Empty {
            what: "demand points",
        });
    }
    if m == 0 {
        return Err(PlanError::Empty {
            what: "candidate sites",
        });
    }
    let lookup = |id: &String| {
        prob.site_index(id).ok_or_else(|| PlanError::UnknownId {
            what: "site",
            id: id.clone(),
        })
    };
    let mut is_fixed = vec![false; m];
    let mut allowed = vec![true; m];
    for id in &params.fixed {
        is_fixed[lookup(id)?] = true;
    }
    for id in &params.excluded {
        let j = lookup(id)?;
        if is_fixed[j] {
            return Err(PlanError::FixedAndExcluded { id: id.clone() });
        }
        allowed[j] = false;
    }
    let fixed: Vec<usize> = (0..m).filter(|&j| is_fixed[j]).collect();
    let free: Vec<usize> = (0..m).filter(|&j| allowed[j] && !is_fixed[j]).collect();
    if let Some(r) = params.radius_m {
        if !(r >= 0.0 && r.is_finite()) {
            return Err(PlanError::BadParameter {
                param: crate::error::Param::Radius,
                unit: "metres",
                value: r,
            });
        }
    }
    if params.time_limit_s.is_nan() || params.time_limit_s <= 0.0 {
        return Err(PlanError::BadParameter {
            param: crate::error::Param::TimeLimit,
            unit: "seconds",
            value: params.time_limit_s,
        });
    }
    Ok(Setup {
        fixed,
        free,
        allowed,
    })
}

fn need_p(params: &SiteParams, s: &Setup) -> Result<usize, PlanError> {
    let p = params.p.ok_or(PlanError::MissingP {
        model: params.model.as_str(),
    })?;
    if p > s.free.len() {
        return Err(PlanError::TooManySites {
            requested: p,
            available: s.free.len(),
        });
    }
    if p == 0 && s.fixed.is_empty() && params.model != Model::Mclp {
        return Err(PlanError::MissingP {
            model: params.model.as_str(),
        });
    }
    Ok(p)
}

fn need_radius(params: &SiteParams) -> Result<f64, PlanError> {
    params.radius_m.ok_or(PlanError::MissingRadius {
        model: params.model.as_str(),
    })
}

/// Solve a site-selection problem. See the module documentation.
pub fn solve(prob: &Problem, params: &SiteParams) -> Result<SiteSolution, PlanError> {
    let s = setup(prob, params)?;
    let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
    let ones = vec![1.0; prob.n_demand()];
    let (new, optimal, gap, note, method) = match params.model {
        Model::Mclp => {
            let p = need_p(params, &s)?;
            let r = need_radius(params)?;
            let h = mclp_heuristic(prob, &s, &w, r, p);
            if params.exact && params.solver == ExactSolver::Microlp {
                // The default exact mode: no MILP solver needed.
                exact_or_fallback(params, mclp_bnb(prob, &s, &w, r, p, &h.sites, params), h)
            } else if params.exact {
                exact_or_fallback(params, mclp_exact(prob, &s, &w, r, p, &h.sites, params), h)
            } else {
                (h.sites, h.optimal, h.gap, None, "heuristic")
            }
        }
        Model::Lscp => {
            let r = need_radius(params)?;
            check_coverable(prob, &s, r)?;
            let h = lscp_heuristic(prob, &s, r);
            if params.exact {
                exact_or_fallback(params, lscp_exact(prob, &s, r, &h, params), heur(h))
            } else {
                (h, false, None, None, "heuristic")
            }
        }
        Model::PMedian => {
            let p = need_p(params, &s)?;
            let h = pmedian_heuristic(prob, &s, &w, p);
            if params.exact {
                exact_or_fallback(params, pmedian_exact(prob, &s, &w, p, &h, params), heur(h))
            } else {
                (h, false, None, None, "heuristic")
            }
        }
        Model::PCenter => {
            let p = need_p(params, &s)?;
            check_reachable(prob, &s)?;
            let h = pcenter_heuristic(prob, &s, &ones, p);
            if params.exact {
                exact_or_fallback(params, pcenter_exact(prob, &s, p, &h, params), heur(h))
            } else {
                (h, false, None, None, "heuristic")
            }
        }
    };
    Ok(report(prob, params, &s, new, optimal, gap, note, method))
}

/// A heuristic answer: the new sites and what is known of its quality.
struct Heur {
    sites: Vec<usize>,
    optimal: bool,
    gap: Option<f64>,
}

fn heur(sites: Vec<usize>) -> Heur {
    Heur {
        sites,
        optimal: false,
        gap: None,
    }
}

type Outcome = (Vec<usize>, bool, Option<f64>, Option<String>, &'static str);

/// An exact attempt: Ok(Some) solved (sites, optimal, gap, and a note when no MILP
/// solver was needed), Ok(None) too large.
type Exact = Result<Option<(Vec<usize>, bool, Option<f64>, Option<String>)>, PlanError>;

fn exact_or_fallback(params: &SiteParams, ex: Exact, h: Heur) -> Outcome {
    match ex {
        Ok(Some((sites, optimal, gap, note))) => (sites, optimal, gap, note, "exact"),
        Ok(None) => (
            h.sites,
            h.optimal,
            h.gap,
            Some(format!(
                "integer program larger than max_exact_vars = {}; heuristic answer returned",
                params.max_exact_vars
            )),
            "heuristic",
        ),
        Err(e) => (
            h.sites,
            h.optimal,
            h.gap,
            Some(format!(
                "exact solver gave no answer ({e}); heuristic answer returned"
            )),
            "heuristic",
        ),
    }
}

/// Evaluate an open set: nearest open site of every demand point.
pub(crate) fn nearest_open(prob: &Problem, open: &[bool]) -> Vec<Option<(usize, f64)>> {
    (0..prob.n_demand())
        .into_par_iter()
        .map(|i| {
            let (s, c) = prob.row(i);
            s.iter()
                .zip(c)
                .find(|(j, _)| open[**j as usize])
                .map(|(j, c)| (*j as usize, *c))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn report(
    prob: &Problem,
    params: &SiteParams,
    s: &Setup,
    mut new: Vec<usize>,
    optimal: bool,
    gap: Option<f64>,
    note: Option<String>,
    method: &str,
) -> SiteSolution {
    new.sort_unstable();
    let mut open = vec![false; prob.n_sites()];
    for &j in s.fixed.iter().chain(&new) {
        open[j] = true;
    }
    let near = nearest_open(prob, &open);
    let radius = match params.model {
        Model::Mclp | Model::Lscp => params.radius_m,
        _ => params.radius_m,
    };
    let total: f64 = prob.total_weight();
    let mut covered = 0.0;
    let mut uncovered = Vec::new();
    let mut wsum = 0.0;
    let mut wd = 0.0;
    let mut maxd: Option<f64> = None;
    for (i, nr) in near.iter().enumerate() {
        let wi = prob.demand()[i].weight;
        match nr {
            Some((_, d)) => {
                wd += wi * d;
                wsum += wi;
                maxd = Some(maxd.map_or(*d, |m: f64| m.max(*d)));
                if radius.is_none_or(|r| *d <= r) {
                    covered += wi;
                } else {
                    uncovered.push(i);
                }
            }
            None => uncovered.push(i),
        }
    }
    let objective = match params.model {
        Model::Mclp => covered,
        Model::Lscp => new.len() as f64,
        Model::PMedian => wd,
        Model::PCenter => maxd.unwrap_or(0.0),
    };
    let name = |j: &usize| prob.sites()[*j].id.clone();
    let n = prob.n_demand();
    SiteSolution {
        model: params.model,
        sites: s.fixed.iter().chain(&new).map(name).collect(),
        new_sites: new.iter().map(name).collect(),
        fixed_sites: s.fixed.iter().map(name).collect(),
        objective,
        objective_name: match params.model {
            Model::Mclp => "covered demand",
            Model::Lscp => "new sites",
            Model::PMedian => "total weighted distance",
            Model::PCenter => "maximum distance",
        }
        .into(),
        covered_demand: covered,
        total_demand: total,
        covered_share: if total > 0.0 { covered / total } else { 0.0 },
        uncovered_points: uncovered.len(),
        covered_points_pct: (1.0 - uncovered.len() as f64 / n as f64) * 100.0,
        uncovered_ids: uncovered
            .iter()
            .take(1000)
            .map(|&i| prob.demand()[i].id.clone())
            .collect(),
        mean_distance_m: (wsum > 0.0).then(|| wd / wsum),
        max_distance_m: maxd,
        optimal,
        gap,
        method: method.into(),
        // An exact answer with a note was proven without the MILP solver.
        solver: (method == "exact" && note.is_none()).then(|| params.solver.as_str().to_string()),
        note,
    }
}

// ---------------------------------------------------------------------------------------
// Heuristics

/// A non-negative f64 with a total order, for heaps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64, usize);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> Ordering {
        // Larger value first; on ties the smaller index first.
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

/// Weight of demand in column `j` (within `r`) that no open site covers yet.
fn cover_gain(prob: &Problem, j: usize, r: f64, w: &[f64], cnt: &[u32]) -> f64 {
    let (d, _) = prob.col_within(j, r);
    d.iter()
        .filter(|&&i| cnt[i as usize] == 0)
        .map(|&i| w[i as usize])
        .sum()
}

fn tol(total: f64) -> f64 {
    1e-9 * total.abs().max(1.0)
}

/// MCLP heuristic: lazy greedy, then best-improvement swaps.
fn mclp_heuristic(prob: &Problem, s: &Setup, w: &[f64], r: f64, p: usize) -> Heur {
    let n = prob.n_demand();
    let m = prob.n_sites();
    let mut cnt = vec![0u32; n];
    let mut open = vec![false; m];
    let add = |j: usize, cnt: &mut Vec<u32>| {
        for &i in prob.col_within(j, r).0 {
            cnt[i as usize] += 1;
        }
    };
    for &j in &s.fixed {
        open[j] = true;
        add(j, &mut cnt);
    }
    let gains: Vec<f64> = s
        .free
        .par_iter()
        .map(|&j| cover_gain(prob, j, r, w, &cnt))
        .collect();
    let mut heap: BinaryHeap<Key> = s
        .free
        .iter()
        .zip(&gains)
        .map(|(&j, &g)| Key(g, j))
        .collect();
    let mut chosen = Vec::with_capacity(p);
    while chosen.len() < p {
        let Some(Key(_, j)) = heap.pop() else { break };
        let g = cover_gain(prob, j, r, w, &cnt);
        let next = heap.peek().map_or(f64::NEG_INFINITY, |k| k.0);
        if g >= next {
            chosen.push(j);
            open[j] = true;
            add(j, &mut cnt);
        } else {
            heap.push(Key(g, j));
        }
    }
    let covered_of = |cnt: &[u32]| -> f64 { (0..n).filter(|&i| cnt[i] > 0).map(|i| w[i]).sum() };
    let (mut chosen, mut cnt, mut open) = mclp_swap(prob, s, w, r, chosen);
    let mut best = covered_of(&cnt);
    // Restarts draw their new sites from the candidates that cover most on their
    // own (a random one of all would nearly always be swapped straight back out).
    let mut pool: Vec<(f64, usize)> = gains.iter().copied().zip(s.free.iter().copied()).collect();
    pool.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    pool.truncate((10 * p).max(1));
    let pool: Vec<usize> = pool.into_iter().map(|(_, j)| j).collect();
    // Up to p − 1 sites replaced: the greedy answer's basin is deep.
    let mut rng = Shaker::new(prob, s, p).with_span(p);
    while let Some(start) = rng.shake(&chosen, &pool) {
        let (c2, cnt2, open2) = mclp_swap(prob, s, w, r, start);
        let v = covered_of(&cnt2);
        if v > best + tol(best) {
            (chosen, cnt, open, best) = (c2, cnt2, open2, v);
        }
    }
    mclp_quality(prob, s, w, r, p, chosen, &cnt, &open)
}

/// Deterministic random restarts ("shaking" of variable neighbourhood search,
/// Mladenović & Hansen 1997) for problems small enough to afford them.
struct Shaker {
    state: u64,
    left: usize,
    /// Most sites replaced by one shake.
    span: usize,
}

impl Shaker {
    fn new(prob: &Problem, s: &Setup, p: usize) -> Self {
        let size = prob.nnz().max(prob.n_demand()) * p.max(1);
        let left = if p == 0 || s.free.len() <= p {
            0
        } else if size <= 200_000 {
            40
        } else if size <= 4_000_000 {
            // 20,000 × 1,000, p = 10 (≈ 2.3 M): ≈ 0.35 s (BENCHMARKS.md).
            50
        } else {
            0
        };
        Self {
            state: 0x9E37_79B9_7F4A_7C15,
            left,
            span: 3,
        }
    }
    /// Shakes replacing up to `span` sites (at least one).
    fn with_span(mut self, span: usize) -> Self {
        self.span = span.max(1);
        self
    }
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A copy of `chosen` with one to `span` sites (and one fewer than all) replaced
    /// by random ones of `free`.
    fn shake(&mut self, chosen: &[usize], free: &[usize]) -> Option<Vec<usize>> {
        if self.left == 0 || chosen.is_empty() {
            return None;
        }
        self.left -= 1;
        let mut t = chosen.to_vec();
        let k = 1 + (self.left % self.span).min(chosen.len() - 1);
        for _ in 0..k {
            let pos = (self.next() % t.len() as u64) as usize;
            for _ in 0..16 {
                let c = free[(self.next() % free.len() as u64) as usize];
                if !t.contains(&c) {
                    t[pos] = c;
                    break;
                }
            }
        }
        Some(t)
    }
}

/// MCLP best-improvement swaps from `chosen`; gives the sites, cover counts and open mask.
fn mclp_swap(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    r: f64,
    mut chosen: Vec<usize>,
) -> (Vec<usize>, Vec<u32>, Vec<bool>) {
    let n = prob.n_demand();
    let m = prob.n_sites();
    let p = chosen.len();
    let mut cnt = vec![0u32; n];
    let mut open = vec![false; m];
    let add = |j: usize, cnt: &mut Vec<u32>| {
        for &i in prob.col_within(j, r).0 {
            cnt[i as usize] += 1;
        }
    };
    for &j in s.fixed.iter().chain(&chosen) {
        open[j] = true;
        add(j, &mut cnt);
    }
    let total: f64 = w.iter().sum();
    let eps = tol(total);
    for _ in 0..(50 * p.max(1)) {
        let gain0: Vec<f64> = s
            .free
            .par_iter()
            .map(|&j| {
                if open[j] {
                    f64::NEG_INFINITY
                } else {
                    cover_gain(prob, j, r, w, &cnt)
                }
            })
            .collect();
        let best = chosen
            .par_iter()
            .enumerate()
            .map(|(pos, &out)| {
                let mut extra = vec![0.0f64; m];
                let mut loss = 0.0;
                for &i in prob.col_within(out, r).0 {
                    let i = i as usize;
                    if cnt[i] == 1 {
                        loss += w[i];
                        for &j in prob.row_within(i, r).0 {
                            extra[j as usize] += w[i];
                        }
                    }
                }
                let mut best = (0.0f64, usize::MAX, usize::MAX);
                for (k, &j) in s.free.iter().enumerate() {
                    if open[j] {
                        continue;
                    }
                    let delta = gain0[k] + extra[j] - loss;
                    if delta > best.0 + eps {
                        best = (delta, pos, j);
                    }
                }
                best
            })
            .reduce(
                || (0.0, usize::MAX, usize::MAX),
                |a, b| {
                    if b.0 > a.0 + eps || (b.0 >= a.0 - eps && b.1 < a.1 && b.0 > eps) {
                        b
                    } else {
                        a
                    }
                },
            );
        if best.1 == usize::MAX || best.0 <= eps {
            break;
        }
        let (pos, inn) = (best.1, best.2);
        let out = chosen[pos];
        for &i in prob.col_within(out, r).0 {
            cnt[i as usize] -= 1;
        }
        open[out] = false;
        chosen[pos] = inn;
        open[inn] = true;
        add(inn, &mut cnt);
    }
    (chosen, cnt, open)
}

/// The MCLP answer with its submodular upper bound and gap.
#[allow(clippy::too_many_arguments)]
fn mclp_quality(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    r: f64,
    p: usize,
    chosen: Vec<usize>,
    cnt: &[u32],
    open: &[bool],
) -> Heur {
    let n = prob.n_demand();
    let covered: f64 = (0..n).filter(|&i| cnt[i] > 0).map(|i| w[i]).sum();
    let mut g: Vec<f64> = s
        .free
        .par_iter()
        .filter(|&&j| !open[j])
        .map(|&j| cover_gain(prob, j, r, w, cnt))
        .collect();
    g.sort_by(|a, b| b.total_cmp(a));
    let coverable: f64 = (0..n)
        .filter(|&i| {
            prob.row_within(i, r)
                .0
                .iter()
                .any(|&j| s.allowed[j as usize])
        })
        .map(|i| w[i])
        .sum();
    let ub = (covered + g.iter().take(p).sum::<f64>()).min(coverable);
    let gap = if ub > 0.0 {
        ((ub - covered) / ub).max(0.0)
    } else {
        0.0
    };
    Heur {
        sites: chosen,
        optimal: gap <= 1e-12,
        gap: Some(if gap <= 1e-12 { 0.0 } else { gap }),
    }
}

/// Lagrangian relaxation of the MCLP (Galvão & ReVelle 1996, "A Lagrangean heuristic
/// for the maximal covering location problem", *European Journal of Operational
/// Research* 88; the method of Fisher 1981, "The Lagrangian relaxation method for
/// solving integer programming problems", *Management Science* 27). The coverage
/// constraints zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ of the rows of [`mclp_rows`] are relaxed with
/// multipliers λᵢ ∈ [0, wᵢ]:
///
/// L(λ) = Σᵢ max(0, wᵢ − λᵢ) + (sum of the p largest cⱼ(λ) = Σ_{i : j ∈ Nᵢ} λᵢ),
///
/// an upper bound of the optimum for every λ. λ follows subgradient steps with Polyak's
/// step length towards the best known value, the step factor halving when the bound
/// stalls (Held, Wolfe & Crowder 1974). The best L equals the linear-programming bound
/// (the relaxed problem has the integrality property), which it approaches from above.
struct Lagrangian {
    /// The best (lowest) bound found, without demand that fixed sites cover.
    bound: f64,
    /// cⱼ at the best multipliers, per free site (in `Setup::free` order).
    c: Vec<f64>,
}

impl Lagrangian {
    /// Runs at most `iters` subgradient iterations, stopping early once the bound is
    /// within `stop` of `target` (the best known value of a solution).
    fn solve(
        rows: &[(Vec<u32>, f64)],
        free: &[usize],
        p: usize,
        target: f64,
        stop: f64,
        iters: usize,
    ) -> Self {
        let nf = free.len();
        let total: f64 = rows.iter().map(|r| r.1).sum();
        let p = p.min(nf);
        if rows.is_empty() || p == 0 {
            let bound = if p == 0 { 0.0 } else { total };
            return Self {
                bound,
                c: vec![0.0; nf],
            };
        }
        // Rows as positions in `free` (CSR), and the columns (CSC).
        let m = free.iter().copied().max().map_or(0, |x| x + 1);
        let mut pos = vec![u32::MAX; m];
        for (k, &j) in free.iter().enumerate() {
            pos[j] = k as u32;
        }
        let mut start = Vec::with_capacity(rows.len() + 1);
        let mut idx: Vec<u32> = Vec::new();
        start.push(0);
        for (cover, _) in rows {
            idx.extend(cover.iter().map(|&j| pos[j as usize]));
            start.push(idx.len());
        }
        let mut cstart = vec![0usize; nf + 1];
        for &k in &idx {
            cstart[k as usize + 1] += 1;
        }
        for k in 0..nf {
            cstart[k + 1] += cstart[k];
        }
        let mut fill = cstart.clone();
        let mut cidx = vec![0u32; idx.len()];
        for g in 0..rows.len() {
            for &k in &idx[start[g]..start[g + 1]] {
                cidx[fill[k as usize]] = g as u32;
                fill[k as usize] += 1;
            }
        }
        let w: Vec<f64> = rows.iter().map(|r| r.1).collect();
        // Start halfway (λ = w gives the p largest column weights, λ = 0 the total).
        let mut lam: Vec<f64> = w.iter().map(|x| 0.5 * x).collect();
        let mut c = vec![0.0f64; nf];
        let mut order: Vec<u32> = (0..nf as u32).collect();
        let mut y = vec![false; nf];
        let mut sg = vec![0.0f64; rows.len()];
        let mut best = Self {
            bound: f64::INFINITY,
            c: Vec::new(),
        };
        let (mut mu, mut stall) = (2.0f64, 0);
        let par = idx.len() > 50_000;
        for _ in 0..iters {
            let col = |k: usize| -> f64 {
                cidx[cstart[k]..cstart[k + 1]]
                    .iter()
                    .map(|&g| lam[g as usize])
                    .sum()
            };
            if par {
                c.par_iter_mut()
                    .enumerate()
                    .for_each(|(k, ck)| *ck = col(k));
            } else {
                c.iter_mut().enumerate().for_each(|(k, ck)| *ck = col(k));
            }
            order.select_nth_unstable_by(p - 1, |&a, &b| c[b as usize].total_cmp(&c[a as usize]));
            y.iter_mut().for_each(|v| *v = false);
            let mut l = 0.0;
            for &k in &order[..p] {
                y[k as usize] = true;
                l += c[k as usize];
            }
            l += w
                .iter()
                .zip(&lam)
                .map(|(wi, li)| (wi - li).max(0.0))
                .sum::<f64>();
            if l < best.bound - 1e-9 * l.abs().max(1.0) {
                best.bound = l;
                best.c.clone_from(&c);
                stall = 0;
            } else {
                stall += 1;
                if stall >= 20 {
                    mu *= 0.5;
                    stall = 0;
                }
            }
            if best.bound - target <= stop || mu < 1e-4 {
                break;
            }
            // Subgradient: Σ_{j ∈ Nᵢ} yⱼ − zᵢ, with zᵢ = 1 when wᵢ > λᵢ.
            let row = |g: usize| -> f64 {
                let cy = idx[start[g]..start[g + 1]]
                    .iter()
                    .filter(|&&k| y[k as usize])
                    .count() as f64;
                cy - if w[g] > lam[g] { 1.0 } else { 0.0 }
            };
            if par {
                sg.par_iter_mut().enumerate().for_each(|(g, x)| *x = row(g));
            } else {
                sg.iter_mut().enumerate().for_each(|(g, x)| *x = row(g));
            }
            let norm: f64 = sg.iter().map(|x| x * x).sum();
            if norm == 0.0 {
                break; // (z, y) is feasible and complementary: L is the optimum.
            }
            let step = mu * (l - target).max(1e-6 * l.abs().max(1.0)) / norm;
            for ((li, g), wi) in lam.iter_mut().zip(&sg).zip(&w) {
                *li = (*li - step * g).clamp(0.0, *wi);
            }
        }
        best
    }

    /// The p-th largest cⱼ at the best multipliers.
    fn pth(&self, p: usize) -> f64 {
        let mut v = self.c.clone();
        let p = p.min(v.len());
        if p == 0 {
            return f64::INFINITY;
        }
        v.select_nth_unstable_by(p - 1, |a, b| b.total_cmp(a));
        v[p - 1]
    }

    /// An upper bound of every solution that opens free site `k` (`cp` = [`Self::pth`]):
    /// site k takes the place of the p-th best column in the relaxed problem.
    fn bound_with(&self, k: usize, cp: f64) -> f64 {
        self.bound - (cp - self.c[k]).max(0.0)
    }
}

fn check_coverable(prob: &Problem, s: &Setup, r: f64) -> Result<(), PlanError> {
    let bad: Vec<String> = (0..prob.n_demand())
        .filter(|&i| {
            !prob
                .row_within(i, r)
                .0
                .iter()
                .any(|&j| s.allowed[j as usize])
        })
        .map(|i| prob.demand()[i].id.clone())
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Uncoverable {
            radius_m: r,
            count: bad.len(),
            examples: bad.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            ids: bad,
        })
    }
}

fn check_reachable(prob: &Problem, s: &Setup) -> Result<(), PlanError> {
    for i in 0..prob.n_demand() {
        if !prob.row(i).0.iter().any(|&j| s.allowed[j as usize]) {
            return Err(PlanError::Unreachable {
                id: prob.demand()[i].id.clone(),
            });
        }
    }
    Ok(())
}

/// LSCP heuristic: greedy set cover, drop redundant sites, then try to do with one
/// site fewer through the MCLP swap search.
fn lscp_heuristic(prob: &Problem, s: &Setup, r: f64) -> Vec<usize> {
    let n = prob.n_demand();
    let ones = vec![1.0; n];
    let mut cnt = vec![0u32; n];
    for &j in &s.fixed {
        for &i in prob.col_within(j, r).0 {
            cnt[i as usize] += 1;
        }
    }
    let mut left = cnt.iter().filter(|&&c| c == 0).count();
    let mut heap: BinaryHeap<Key> = s
        .free
        .iter()
        .map(|&j| Key(cover_gain(prob, j, r, &ones, &cnt), j))
        .collect();
    let mut chosen = Vec::new();
    while left > 0 {
        let Some(Key(_, j)) = heap.pop() else { break };
        let g = cover_gain(prob, j, r, &ones, &cnt);
        let next = heap.peek().map_or(f64::NEG_INFINITY, |k| k.0);
        if g >= next {
            if g <= 0.0 {
                break;
            }
            chosen.push(j);
            for &i in prob.col_within(j, r).0 {
                if cnt[i as usize] == 0 {
                    left -= 1;
                }
                cnt[i as usize] += 1;
            }
        } else {
            heap.push(Key(g, j));
        }
    }
    // Drop redundant sites, last chosen first.
    for k in (0..chosen.len()).rev() {
        let j = chosen[k];
        if prob.col_within(j, r).0.iter().all(|&i| cnt[i as usize] > 1) {
            for &i in prob.col_within(j, r).0 {
                cnt[i as usize] -= 1;
            }
            chosen.remove(k);
        }
    }
    // Try with fewer sites.
    while !chosen.is_empty() {
        let k = chosen.len() - 1;
        let h = mclp_heuristic(prob, s, &ones, r, k);
        let mut c2 = vec![0u32; n];
        for &j in s.fixed.iter().chain(&h.sites) {
            for &i in prob.col_within(j, r).0 {
                c2[i as usize] += 1;
            }
        }
        if c2.iter().all(|&c| c > 0) {
            chosen = h.sites;
        } else {
            break;
        }
    }
    chosen
}

/// Distances to the nearest and second-nearest open sites (penalty when none).
fn two_nearest(prob: &Problem, open: &[bool], pen: f64) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let v: Vec<(usize, f64, f64)> = (0..prob.n_demand())
        .into_par_iter()
        .map(|i| {
            let (s, c) = prob.row(i);
            let mut it = s.iter().zip(c).filter(|(j, _)| open[**j as usize]);
            match (it.next(), it.next()) {
                (Some((j1, d1)), Some((_, d2))) => (*j1 as usize, *d1, *d2),
                (Some((j1, d1)), None) => (*j1 as usize, *d1, pen),
                _ => (usize::MAX, pen, pen),
            }
        })
        .collect();
    let mut c1 = Vec::with_capacity(v.len());
    let mut d1 = Vec::with_capacity(v.len());
    let mut d2 = Vec::with_capacity(v.len());
    for (a, b, c) in v {
        c1.push(a);
        d1.push(b);
        d2.push(c);
    }
    (c1, d1, d2)
}

fn penalty(prob: &Problem) -> f64 {
    (prob.max_cost() * 100.0).max(1e9)
}

/// p-median heuristic: greedy addition, then Teitz & Bart interchange evaluated with
/// Whitaker's fast interchange (best improvement per pass).
fn pmedian_heuristic(prob: &Problem, s: &Setup, w: &[f64], p: usize) -> Vec<usize> {
    let m = prob.n_sites();
    let pen = penalty(prob);
    let mut open = vec![false; m];
    for &j in &s.fixed {
        open[j] = true;
    }
    let (_, mut d1, _) = two_nearest(prob, &open, pen);
    let mut chosen: Vec<usize> = Vec::with_capacity(p);
    for _ in 0..p {
        let best = s
            .free
            .par_iter()
            .filter(|&&j| !open[j])
            .map(|&j| {
                let (d, c) = prob.col(j);
                let red: f64 = d
                    .iter()
                    .zip(c)
                    .map(|(&i, &c)| w[i as usize] * (d1[i as usize] - c).max(0.0))
                    .sum();
                Key(red, j)
            })
            .max();
        let Some(Key(_, j)) = best else { break };
        chosen.push(j);
        open[j] = true;
        let (d, c) = prob.col(j);
        for (&i, &c) in d.iter().zip(c) {
            let i = i as usize;
            d1[i] = d1[i].min(c);
        }
    }
    let cost_of = |sites: &[usize]| -> f64 {
        let mut open = vec![false; m];
        for &j in s.fixed.iter().chain(sites) {
            open[j] = true;
        }
        let (_, d1, _) = two_nearest(prob, &open, pen);
        d1.iter().zip(w).map(|(d, w)| d * w).sum()
    };
    let mut chosen = pmedian_swap(prob, s, w, chosen);
    let mut best = cost_of(&chosen);
    let mut rng = Shaker::new(prob, s, p);
    while let Some(start) = rng.shake(&chosen, &s.free) {
        let c2 = pmedian_swap(prob, s, w, start);
        let v = cost_of(&c2);
        if v < best - tol(best) {
            (chosen, best) = (c2, v);
        }
    }
    chosen
}

/// Teitz & Bart interchange with Whitaker's fast evaluation, best improvement per pass.
fn pmedian_swap(prob: &Problem, s: &Setup, w: &[f64], mut chosen: Vec<usize>) -> Vec<usize> {
    let m = prob.n_sites();
    let p = chosen.len();
    let pen = penalty(prob);
    let mut open = vec![false; m];
    for &j in s.fixed.iter().chain(&chosen) {
        open[j] = true;
    }
    let total: f64 = w.iter().sum::<f64>() * prob.max_cost().max(1.0);
    let eps = tol(total);
    for _ in 0..(100 * p.max(1)) {
        let (c1, d1, d2) = two_nearest(prob, &open, pen);
        // Position of each chosen site.
        let mut pos = vec![usize::MAX; m];
        for (k, &j) in chosen.iter().enumerate() {
            pos[j] = k;
        }
        let mut base = vec![0.0f64; chosen.len()];
        for i in 0..prob.n_demand() {
            if c1[i] != usize::MAX && pos[c1[i]] != usize::MAX {
                base[pos[c1[i]]] += w[i] * (d2[i] - d1[i]);
            }
        }
        let best = s
            .free
            .par_iter()
            .filter(|&&j| !open[j])
            .map(|&c| {
                let mut gain = 0.0;
                let mut adj = vec![0.0f64; chosen.len()];
                let (d, cs) = prob.col(c);
                for (&i, &dic) in d.iter().zip(cs) {
                    let i = i as usize;
                    let r = if c1[i] == usize::MAX {
                        usize::MAX
                    } else {
                        pos[c1[i]]
                    };
                    if dic < d1[i] {
                        gain += w[i] * (d1[i] - dic);
                        if r != usize::MAX {
                            adj[r] -= w[i] * (d2[i] - d1[i]);
                        }
                    } else if dic < d2[i] && r != usize::MAX {
                        adj[r] += w[i] * (dic - d2[i]);
                    }
                }
                let mut b = (f64::NEG_INFINITY, usize::MAX, c);
                for k in 0..chosen.len() {
                    let profit = gain - (base[k] + adj[k]);
                    if profit > b.0 {
                        b = (profit, k, c);
                    }
                }
                b
            })
            .reduce(
                || (f64::NEG_INFINITY, usize::MAX, usize::MAX),
                |a, b| {
                    if b.0 > a.0 || (b.0 == a.0 && b.2 < a.2) {
                        b
                    } else {
                        a
                    }
                },
            );
        if best.1 == usize::MAX || best.0 <= eps {
            break;
        }
        open[chosen[best.1]] = false;
        chosen[best.1] = best.2;
        open[best.2] = true;
    }
    chosen
}

/// p-center heuristic: bisection over the distinct costs, with the MCLP heuristic (unit
/// weights) deciding whether `p` new sites can cover every point at that radius.
fn pcenter_heuristic(prob: &Problem, s: &Setup, ones: &[f64], p: usize) -> Vec<usize> {
    let n = prob.n_demand();
    // Lower bound: every point's nearest allowed site.
    let lb = (0..n)
        .map(|i| {
            let (st, c) = prob.row(i);
            st.iter()
                .zip(c)
                .find(|(j, _)| s.allowed[**j as usize])
                .map_or(f64::INFINITY, |x| *x.1)
        })
        .fold(0.0f64, f64::max);
    // Upper bound: the p-median heuristic's worst distance.
    let start = pmedian_heuristic(prob, s, ones, p);
    let worst = |sites: &[usize]| {
        let mut open = vec![false; prob.n_sites()];
        for &j in s.fixed.iter().chain(sites) {
            open[j] = true;
        }
        nearest_open(prob, &open)
            .iter()
            .map(|x| x.map_or(f64::INFINITY, |y| y.1))
            .fold(0.0f64, f64::max)
    };
    let mut best = start.clone();
    let ub = worst(&start);
    let mut radii: Vec<f64> = (0..n)
        .flat_map(|i| prob.row(i).1.iter().copied())
        .filter(|&c| c >= lb && c < ub)
        .collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    let (mut lo, mut hi) = (0usize, radii.len());
    // Invariant: radii[hi..] feasible (ub feasible), radii[..lo] not known feasible.
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = radii[mid];
        if let Some(sites) = cover_test(prob, s, ones, r, p) {
            best = sites;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    pcenter_polish(prob, s, best)
}

/// Best-improvement swaps on (worst distance, total distance), while the neighbourhood
/// is small enough to evaluate in full.
fn pcenter_polish(prob: &Problem, s: &Setup, mut chosen: Vec<usize>) -> Vec<usize> {
    let n = prob.n_demand();
    if chosen.is_empty() || chosen.len() * s.free.len() * n > 20_000_000 {
        return chosen;
    }
    let eval = |sites: &[usize]| -> (f64, f64) {
        let mut open = vec![false; prob.n_sites()];
        for &j in s.fixed.iter().chain(sites) {
            open[j] = true;
        }
        let near = nearest_open(prob, &open);
        let mut worst = 0.0f64;
        let mut sum = 0.0;
        for x in near {
            let d = x.map_or(f64::INFINITY, |y| y.1);
            worst = worst.max(d);
            sum += d;
        }
        (worst, sum)
    };
    let mut cur = eval(&chosen);
    for _ in 0..(20 * chosen.len()) {
        let mut best: Option<((f64, f64), usize, usize)> = None;
        for pos in 0..chosen.len() {
            for &c in &s.free {
                if chosen.contains(&c) {
                    continue;
                }
                let mut t = chosen.clone();
                t[pos] = c;
                let v = eval(&t);
                let better = |a: (f64, f64), b: (f64, f64)| {
                    a.0 < b.0 - 1e-9 || (a.0 <= b.0 + 1e-9 && a.1 < b.1 - 1e-9)
                };
                if better(v, best.map_or(cur, |b| b.0)) {
                    best = Some((v, pos, c));
                }
            }
        }
        match best {
            Some((v, pos, c)) => {
                chosen[pos] = c;
                cur = v;
            }
            None => break,
        }
    }
    chosen
}

/// Can `p` new sites cover every point within `r`? The MCLP heuristic, restarted with
/// each site that could cover a point it left uncovered forced open.
fn cover_test(prob: &Problem, s: &Setup, ones: &[f64], r: f64, p: usize) -> Option<Vec<usize>> {
    let h = mclp_heuristic(prob, s, ones, r, p);
    if covers_all(prob, s, &h.sites, r) {
        return Some(h.sites);
    }
    if p == 0 {
        return None;
    }
    let mut cov = vec![false; prob.n_demand()];
    for &j in s.fixed.iter().chain(&h.sites) {
        for &i in prob.col_within(j, r).0 {
            cov[i as usize] = true;
        }
    }
    let i = cov.iter().position(|c| !c)?;
    let forced: Vec<usize> = prob
        .row_within(i, r)
        .0
        .iter()
        .map(|&j| j as usize)
        .filter(|&j| s.allowed[j] && !s.fixed.contains(&j))
        .take(32)
        .collect();
    forced.into_par_iter().find_map_first(|j| {
        let sub = Setup {
            fixed: s.fixed.iter().copied().chain([j]).collect(),
            free: s.free.iter().copied().filter(|&x| x != j).collect(),
            allowed: s.allowed.clone(),
        };
        let h = mclp_heuristic(prob, &sub, ones, r, p - 1);
        covers_all(prob, &sub, &h.sites, r).then(|| {
            let mut v = h.sites;
            v.push(j);
            v
        })
    })
}

fn covers_all(prob: &Problem, s: &Setup, sites: &[usize], r: f64) -> bool {
    let mut c = vec![false; prob.n_demand()];
    for &j in s.fixed.iter().chain(sites) {
        for &i in prob.col_within(j, r).0 {
            c[i as usize] = true;
        }
    }
    c.iter().all(|&x| x)
}

// ---------------------------------------------------------------------------------------
// Exact integer programs

/// One binary "site j is open" variable per free site, warm-started from
/// `warm_open`: the variable of each site (`usize::MAX` for sites that are not free)
/// and the (site, variable) pairs.
fn open_vars(
    lp: &mut Milp,
    free: &[usize],
    warm_open: &[bool],
) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut yv = vec![usize::MAX; warm_open.len()];
    let mut ys = Vec::with_capacity(free.len());
    for &j in free {
        let v = lp.var(
            0.0,
            1.0,
            true,
            0.0,
            Some(if warm_open[j] { 1.0 } else { 0.0 }),
        );
        yv[j] = v;
        ys.push((j, v));
    }
    (yv, ys)
}

fn picked(x: &[f64], yvars: &[(usize, usize)]) -> Vec<usize> {
    yvars
        .iter()
        .filter(|(_, v)| x[*v] > 0.5)
        .map(|(j, _)| *j)
        .collect()
}

/// The demand rows of the MCLP integer program, reduced exactly: demand already covered
/// by a fixed site or covered by no free candidate is left out (its contribution does
/// not depend on the choice), and demand points with the same set Nᵢ of free covering
/// sites share one row with their summed weight — their constraints zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ
/// are identical, so any optimum sets their zᵢ equal. Gives (sorted Nᵢ, weight) per row,
/// in order of first appearance; with `aggregate == false` one row per demand point.
fn mclp_rows(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    r: f64,
    aggregate: bool,
) -> Vec<(Vec<u32>, f64)> {
    let n = prob.n_demand();
    let mut fixed_cov = vec![false; n];
    for &j in &s.fixed {
        for &i in prob.col_within(j, r).0 {
            fixed_cov[i as usize] = true;
        }
    }
    let mut is_free = vec![false; prob.n_sites()];
    for &j in &s.free {
        is_free[j] = true;
    }
    let sets: Vec<Option<Vec<u32>>> = (0..n)
        .into_par_iter()
        .map(|i| {
            if fixed_cov[i] || w[i] <= 0.0 {
                return None;
            }
            let mut c: Vec<u32> = prob
                .row_within(i, r)
                .0
                .iter()
                .copied()
                .filter(|&j| is_free[j as usize])
                .collect();
            c.sort_unstable();
            (!c.is_empty()).then_some(c)
        })
        .collect();
    let mut rows: Vec<(Vec<u32>, f64)> = Vec::new();
    let mut at: HashMap<Vec<u32>, usize> = HashMap::new();
    for (i, c) in sets.into_iter().enumerate() {
        let Some(c) = c else { continue };
        if !aggregate {
            rows.push((c, w[i]));
            continue;
        }
        match at.entry(c) {
            Entry::Occupied(e) => rows[*e.get()].1 += w[i],
            Entry::Vacant(e) => {
                rows.push((e.key().clone(), w[i]));
                e.insert(rows.len() - 1);
            }
        }
    }
    rows
}

/// Fills `chosen` up to `p` sites with the first free sites not in it: fewer can be
/// optimal (nothing left to cover, or a tie), and the answer still names p.
fn pad_to_p(prob: &Problem, s: &Setup, chosen: &mut Vec<usize>, p: usize) {
    let mut open = vec![false; prob.n_sites()];
    for &j in s.fixed.iter().chain(chosen.iter()) {
        open[j] = true;
    }
    for &j in &s.free {
        if chosen.len() >= p {
            break;
        }
        if !open[j] {
            open[j] = true;
            chosen.push(j);
        }
    }
}

/// MCLP exactly without a MILP solver ([`crate::bnb`]: Lagrangian reduction, spatial
/// decomposition with a knapsack over the components, branch and bound), on the reduced
/// rows of [`mclp_rows`], warm-started with the heuristic answer. Stops at
/// `params.time_limit_s` with the best answer and the proven gap.
fn mclp_bnb(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    r: f64,
    p: usize,
    warm: &[usize],
    params: &SiteParams,
) -> Exact {
    let rows = mclp_rows(prob, s, w, r, true);
    let integral = rows.iter().all(|(_, wi)| wi.fract() == 0.0 && *wi < 1e15);
    let mut pos = vec![u32::MAX; prob.n_sites()];
    for (k, &j) in s.free.iter().enumerate() {
        pos[j] = k as u32;
    }
    let rows: Vec<(Vec<u32>, f64)> = rows
        .into_iter()
        .map(|(c, wi)| (c.iter().map(|&j| pos[j as usize]).collect(), wi))
        .collect();
    let warm_local: Vec<usize> = warm
        .iter()
        .filter(|&&j| pos[j] != u32::MAX)
        .map(|&j| pos[j] as usize)
        .collect();
    let start = Instant::now();
    let deadline = Duration::try_from_secs_f64(params.time_limit_s)
        .ok()
        .and_then(|d| start.checked_add(d))
        .unwrap_or_else(|| start + Duration::from_secs(365 * 86_400));
    let a = bnb::solve(s.free.len(), rows, p, &warm_local, integral, deadline);
    let mut chosen: Vec<usize> = a.sites.iter().map(|&k| s.free[k]).collect();
    pad_to_p(prob, s, &mut chosen, p);
    let fixed_part: f64 = {
        let mut c = vec![false; prob.n_demand()];
        for &j in &s.fixed {
            for &i in prob.col_within(j, r).0 {
                c[i as usize] = true;
            }
        }
        (0..c.len()).filter(|&i| c[i]).map(|i| w[i].max(0.0)).sum()
    };
    let (optimal, gap) = if a.optimal {
        (true, Some(0.0))
    } else {
        gap_of(
            a.value + fixed_part,
            a.bound + fixed_part,
            true,
            integral && fixed_part.fract() == 0.0,
        )
    };
    let note = format!(
        "{} by branch and bound with spatial decomposition (no MILP solver): {} of {} \
         candidates left by the Lagrangian reduction, in {} independent components; \
         {} nodes, {:.2} s",
        if optimal {
            "proven optimal"
        } else {
            "time limit reached"
        },
        a.kept,
        s.free.len(),
        a.components,
        a.nodes,
        start.elapsed().as_secs_f64()
    );
    Ok(Some((chosen, optimal, gap, Some(note))))
}

/// MCLP (Church & ReVelle 1974): max Σ wᵢ zᵢ, zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ, Σ yⱼ = p, on the
/// reduced rows of [`mclp_rows`]. The heuristic answer is the warm start (sites and the
/// coverage they give).
fn mclp_exact(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    r: f64,
    p: usize,
    warm: &[usize],
    params: &SiteParams,
) -> Exact {
    mclp_exact_rows(prob, s, w, r, p, warm, params, true)
}

#[allow(clippy::too_many_arguments)]
fn mclp_exact_rows(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    r: f64,
    p: usize,
    warm: &[usize],
    params: &SiteParams,
    reduce: bool,
) -> Exact {
    let mut rows = mclp_rows(prob, s, w, r, reduce);
    let integral = rows.iter().all(|(_, wi)| wi.fract() == 0.0 && *wi < 1e15);
    let mut warm_open = vec![false; prob.n_sites()];
    for &j in warm {
        warm_open[j] = true;
    }
    let value = |rows: &[(Vec<u32>, f64)]| -> f64 {
        rows.iter()
            .filter(|(c, _)| c.iter().any(|&j| warm_open[j as usize]))
            .map(|x| x.1)
            .sum()
    };
    let fixed_part: f64 = {
        let mut c = vec![false; prob.n_demand()];
        for &j in &s.fixed {
            for &i in prob.col_within(j, r).0 {
                c[i as usize] = true;
            }
        }
        (0..c.len()).filter(|&i| c[i]).map(|i| w[i].max(0.0)).sum()
    };
    let mut free = s.free.clone();
    if reduce && warm.len() == p && p > 0 {
        // Lagrangian reduction: a site whose every solution is bounded by the warm
        // start's value (below the next integer, with integral weights) is left out; the
        // warm start's own sites stay, so the optimum is unchanged.
        let lb = value(&rows);
        let slack = if integral {
            1.0 - 1e-6
        } else {
            -1e-9 * lb.abs().max(1.0)
        };
        let stop = if integral {
            1.0 - 1e-6
        } else {
            1e-9 * lb.abs().max(1.0)
        };
        let lag = Lagrangian::solve(&rows, &s.free, p, lb, stop, 600);
        if lag.bound < lb + slack {
            return Ok(Some((
                warm.to_vec(),
                true,
                Some(0.0),
                Some(
                    "proven optimal by the Lagrangian bound (Galvão & ReVelle 1996); \
                     the MILP solver was not needed"
                        .into(),
                ),
            )));
        }
        let cp = lag.pth(p);
        free = s
            .free
            .iter()
            .enumerate()
            .filter(|&(k, &j)| warm_open[j] || lag.bound_with(k, cp) >= lb + slack)
            .map(|(_, &j)| j)
            .collect();
        if free.len() < s.free.len() {
            let sub = Setup {
                fixed: s.fixed.clone(),
                free: free.clone(),
                allowed: s.allowed.clone(),
            };
            rows = mclp_rows(prob, &sub, w, r, true);
        }
    }
    if free.len() + rows.len() > params.max_exact_vars {
        return Ok(None);
    }
    let mut lp = Milp::default();
    lp.maximize = true;
    lp.integral_objective = integral && fixed_part.fract() == 0.0;
    lp.offset = fixed_part;
    let (yv, ys) = open_vars(&mut lp, &free, &warm_open);
    for (cover, wi) in &rows {
        let hit = cover.iter().any(|&j| warm_open[j as usize]);
        let z = lp.var(0.0, 1.0, false, *wi, Some(if hit { 1.0 } else { 0.0 }));
        let mut t: Vec<(usize, f64)> = Vec::with_capacity(cover.len() + 1);
        t.push((z, 1.0));
        t.extend(cover.iter().map(|&j| (yv[j as usize], -1.0)));
        lp.row(t, Cmp::Le, 0.0);
    }
    lp.row(
        ys.iter().map(|&(_, v)| (v, 1.0)).collect(),
        Cmp::Eq,
        p as f64,
    );
    let out = lp.solve(params.solver, params.time_limit_s)?;
    Ok(Some((picked(&out.x, &ys), out.optimal, out.gap, None)))
}

/// LSCP (Toregas et al. 1971): min Σ yⱼ, Σ_{j ∈ Nᵢ} yⱼ ≥ 1 for every demand point.
fn lscp_exact(prob: &Problem, s: &Setup, r: f64, warm: &[usize], params: &SiteParams) -> Exact {
    lscp_exact_inner(prob, s, r, Some(warm), params)
}

fn lscp_exact_inner(
    prob: &Problem,
    s: &Setup,
    r: f64,
    warm: Option<&[usize]>,
    params: &SiteParams,
) -> Exact {
    let n = prob.n_demand();
    if s.free.len() > params.max_exact_vars {
        return Ok(None);
    }
    let mut fixed_cov = vec![false; n];
    for &j in &s.fixed {
        for &i in prob.col_within(j, r).0 {
            fixed_cov[i as usize] = true;
        }
    }
    let mut warm_open = vec![false; prob.n_sites()];
    for &j in warm.unwrap_or(&[]) {
        warm_open[j] = true;
    }
    let mut lp = Milp::default();
    let mut yv = vec![usize::MAX; prob.n_sites()];
    let mut ys = Vec::new();
    for &j in &s.free {
        let init = warm.map(|_| if warm_open[j] { 1.0 } else { 0.0 });
        let v = lp.var(0.0, 1.0, true, 1.0, init);
        yv[j] = v;
        ys.push((j, v));
    }
    for (i, &done) in fixed_cov.iter().enumerate() {
        if done {
            continue;
        }
        let t: Vec<(usize, f64)> = prob
            .row_within(i, r)
            .0
            .iter()
            .filter(|&&j| yv[j as usize] != usize::MAX)
            .map(|&j| (yv[j as usize], 1.0))
            .collect();
        if t.is_empty() {
            return Err(PlanError::Uncoverable {
                radius_m: r,
                count: 1,
                examples: prob.demand()[i].id.clone(),
                ids: vec![prob.demand()[i].id.clone()],
            });
        }
        lp.row(t, Cmp::Ge, 1.0);
    }
    let out = lp.solve(params.solver, params.time_limit_s)?;
    Ok(Some((picked(&out.x, &ys), out.optimal, out.gap, None)))
}

/// p-median (ReVelle & Swain 1970): min Σ wᵢ dᵢⱼ xᵢⱼ, Σⱼ xᵢⱼ = 1, xᵢⱼ ≤ yⱼ, Σ yⱼ = p.
/// Pairs farther than a demand point's nearest fixed site are left out (never better).
fn pmedian_exact(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    p: usize,
    warm: &[usize],
    params: &SiteParams,
) -> Exact {
    let n = prob.n_demand();
    let m = prob.n_sites();
    let pen = penalty(prob);
    let mut is_fixed = vec![false; m];
    for &j in &s.fixed {
        is_fixed[j] = true;
    }
    // Candidate pairs per demand point.
    let mut pairs: Vec<Vec<(usize, f64)>> = Vec::with_capacity(n);
    let mut count = s.free.len();
    for i in 0..n {
        let (st, c) = prob.row(i);
        let mut v = Vec::new();
        for (&j, &d) in st.iter().zip(c) {
            let j = j as usize;
            if !s.allowed[j] {
                continue;
            }
            v.push((j, d));
            if is_fixed[j] {
                break;
            }
        }
        count += v.len() + 1;
        pairs.push(v);
    }
    if count > params.max_exact_vars {
        return Ok(None);
    }
    let mut warm_open = vec![false; m];
    for &j in warm.iter().chain(&s.fixed) {
        warm_open[j] = true;
    }
    let mut lp = Milp::default();
    let (yv, ys) = open_vars(&mut lp, &s.free, &warm_open);
    for (i, v) in pairs.iter().enumerate() {
        let mut assign: Vec<(usize, f64)> = Vec::with_capacity(v.len() + 1);
        let complete = v.last().is_some_and(|(j, _)| is_fixed[*j]) || v.len() == m;
        for &(j, d) in v {
            let x = lp.var(0.0, 1.0, false, w[i] * d, None);
            assign.push((x, 1.0));
            if !is_fixed[j] {
                lp.row(vec![(x, 1.0), (yv[j], -1.0)], Cmp::Le, 0.0);
            }
        }
        if !complete {
            let u = lp.var(0.0, 1.0, false, w[i] * pen, None);
            assign.push((u, 1.0));
        }
        lp.row(assign, Cmp::Eq, 1.0);
    }
    lp.row(
        ys.iter().map(|&(_, v)| (v, 1.0)).collect(),
        Cmp::Eq,
        p as f64,
    );
    let out = lp.solve(params.solver, params.time_limit_s)?;
    Ok(Some((picked(&out.x, &ys), out.optimal, out.gap, None)))
}

/// p-center, exactly: the smallest radius among the distinct costs at which the exact
/// LSCP needs at most `p` new sites (Minieka 1970), found by bisection.
fn pcenter_exact(
    prob: &Problem,
    s: &Setup,
    p: usize,
    warm: &[usize],
    params: &SiteParams,
) -> Exact {
    let mut open = vec![false; prob.n_sites()];
    for &j in s.fixed.iter().chain(warm) {
        open[j] = true;
    }
    let ub = nearest_open(prob, &open)
        .iter()
        .map(|x| x.map_or(f64::INFINITY, |y| y.1))
        .fold(0.0f64, f64::max);
    let mut radii: Vec<f64> = (0..prob.n_demand())
        .flat_map(|i| prob.row(i).1.iter().copied())
        .filter(|&c| c < ub)
        .collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    let mut best = warm.to_vec();
    let mut all_optimal = true;
    let (mut lo, mut hi) = (0usize, radii.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = radii[mid];
        let res = match lscp_exact_inner(prob, s, r, None, params) {
            Ok(x) => x,
            Err(PlanError::Uncoverable { .. }) => {
                lo = mid + 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some((sites, optimal, _, _)) = res else {
            return Ok(None);
        };
        if sites.len() <= p {
            best = sites;
            // Pad with unused candidates to exactly p sites (keeps the answer a p-set).
            hi = mid;
            if !optimal {
                all_optimal = false;
            }
        } else if optimal {
            lo = mid + 1;
        } else {
            all_optimal = false;
            lo = mid + 1;
        }
    }
    pad_to_p(prob, s, &mut best, p);
    Ok(Some((
        best,
        all_optimal,
        if all_optimal { Some(0.0) } else { None },
        None,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{DemandPoint, SiteInfo};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Clustered demand, several points per spot, integral weights.
    fn instance(seed: u64, n: usize, m: usize) -> Problem {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let spot = |rng: &mut ChaCha8Rng| {
            let c = [(1000.0, 1000.0), (4000.0, 1500.0), (2500.0, 4000.0)][rng.random_range(0..3)];
            (
                c.0 + rng.random_range(-1200.0..1200.0),
                c.1 + rng.random_range(-1200.0..1200.0),
            )
        };
        let mut pts = Vec::new();
        while pts.len() < n {
            let p = spot(&mut rng);
            for _ in 0..rng.random_range(1..5) {
                pts.push(p);
            }
        }
        pts.truncate(n);
        let sites: Vec<(f64, f64)> = (0..m).map(|_| spot(&mut rng)).collect();
        let d: Vec<Vec<f64>> = pts
            .iter()
            .map(|a| {
                sites
                    .iter()
                    .map(|b| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().round())
                    .collect()
            })
            .collect();
        let demand = (0..n)
            .map(|i| DemandPoint {
                id: format!("d{i}"),
                weight: rng.random_range(1..25) as f64,
            })
            .collect();
        let s = (0..m)
            .map(|j| SiteInfo {
                id: format!("s{j}"),
                capacity: None,
            })
            .collect();
        Problem::from_dense(demand, s, &d).unwrap()
    }

    fn params(p: usize, r: f64, fixed: &[usize]) -> SiteParams {
        let mut sp = SiteParams::new(Model::Mclp);
        sp.p = Some(p);
        sp.radius_m = Some(r);
        sp.fixed = fixed.iter().map(|j| format!("s{j}")).collect();
        sp.exact = true;
        sp
    }

    fn covered(prob: &Problem, s: &Setup, w: &[f64], r: f64, sites: &[usize]) -> f64 {
        let mut c = vec![false; prob.n_demand()];
        for &j in s.fixed.iter().chain(sites) {
            for &i in prob.col_within(j, r).0 {
                c[i as usize] = true;
            }
        }
        (0..c.len()).filter(|&i| c[i]).map(|i| w[i]).sum()
    }

    /// Writes the aggregated MCLP rows of the bench instance (`yizhan-bench mclp
    /// --export DIR`, radius 800 m) for the offline certificate of
    /// `crates/plan/tools/mclp_certificate.py`: `YZ_EXPORT=DIR YZ_OUT=FILE cargo test
    /// --release -p yizhan-plan --lib dump_bench_rows -- --ignored`. One line per row:
    /// weight, then the covering sites.
    #[test]
    #[ignore]
    fn dump_bench_rows() {
        let dir = std::path::PathBuf::from(std::env::var("YZ_EXPORT").expect("YZ_EXPORT"));
        let read = |name: &str, k: usize| -> Vec<Vec<f64>> {
            let b = std::fs::read(dir.join(name)).unwrap();
            b.chunks_exact(8 * k)
                .map(|r| {
                    r.chunks_exact(8)
                        .map(|x| f64::from_le_bytes(x.try_into().unwrap()))
                        .collect()
                })
                .collect()
        };
        let d = read("mclp_demand.f64", 3);
        let st = read("mclp_sites.f64", 2);
        let prob = Problem::from_points(
            d.iter()
                .enumerate()
                .map(|(i, r)| DemandPoint {
                    id: format!("D{i}"),
                    weight: r[2],
                })
                .collect(),
            &d.iter()
                .map(|r| yizhan_core::LonLat {
                    lon: r[0],
                    lat: r[1],
                })
                .collect::<Vec<_>>(),
            (0..st.len())
                .map(|j| SiteInfo {
                    id: format!("s{j}"),
                    capacity: None,
                })
                .collect(),
            &st.iter()
                .map(|r| yizhan_core::LonLat {
                    lon: r[0],
                    lat: r[1],
                })
                .collect::<Vec<_>>(),
            Some(800.0),
        )
        .unwrap();
        let sp = params(10, 800.0, &[]);
        let s = setup(&prob, &sp).unwrap();
        let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
        let rows = mclp_rows(&prob, &s, &w, 800.0, true);
        let mut out = format!("{} {}\n", prob.n_sites(), rows.len());
        for (c, wi) in &rows {
            out.push_str(&format!("{wi}"));
            for j in c {
                out.push_str(&format!(" {}", s.free[*j as usize]));
            }
            out.push('\n');
        }
        std::fs::write(std::env::var("YZ_OUT").unwrap(), out).unwrap();
    }

    /// The reduced (aggregated) model and the one-row-per-point model have the same
    /// optimum; the reduced one is smaller on clustered demand.
    #[test]
    fn aggregated_and_plain_mclp_models_agree() {
        let mut shrunk = 0;
        for seed in 0..10u64 {
            let prob = instance(seed, 150 + 10 * seed as usize, 25);
            let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
            let fixed: &[usize] = if seed % 3 == 0 { &[2] } else { &[] };
            for (p, r) in [(2, 900.0), (4, 700.0)] {
                let sp = params(p, r, fixed);
                let s = setup(&prob, &sp).unwrap();
                let agg = mclp_rows(&prob, &s, &w, r, true);
                let plain = mclp_rows(&prob, &s, &w, r, false);
                let tot = |v: &[(Vec<u32>, f64)]| v.iter().map(|x| x.1).sum::<f64>();
                assert!((tot(&agg) - tot(&plain)).abs() < 1e-9);
                if agg.len() < plain.len() {
                    shrunk += 1;
                }
                let h = mclp_heuristic(&prob, &s, &w, r, p);
                let run = |aggregate| {
                    let (sites, optimal, _, _) =
                        mclp_exact_rows(&prob, &s, &w, r, p, &h.sites, &sp, aggregate)
                            .unwrap()
                            .unwrap();
                    assert!(optimal, "seed {seed} p {p} aggregate {aggregate}");
                    assert_eq!(sites.len(), p);
                    covered(&prob, &s, &w, r, &sites)
                };
                let (a, b) = (run(true), run(false));
                assert!((a - b).abs() < 1e-9, "seed {seed} p {p}: {a} vs {b}");
                // A poor warm start: the reduction keeps every site an optimum may need.
                let poor: Vec<usize> = s.free[..p].to_vec();
                let (sites, optimal, _, _) = mclp_exact_rows(&prob, &s, &w, r, p, &poor, &sp, true)
                    .unwrap()
                    .unwrap();
                assert!(optimal);
                let c = covered(&prob, &s, &w, r, &sites);
                assert!(
                    (c - b).abs() < 1e-9,
                    "seed {seed} p {p} poor start: {c} vs {b}"
                );
            }
        }
        assert!(
            shrunk >= 10,
            "aggregation shrank only {shrunk} of 20 models"
        );
    }

    /// The Lagrangian bound is never below the optimum (found by enumeration).
    #[test]
    fn lagrangian_bound_is_an_upper_bound() {
        for seed in 0..10u64 {
            let prob = instance(100 + seed, 60, 10);
            let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
            let fixed: &[usize] = if seed % 2 == 0 { &[0] } else { &[] };
            for p in 1..=3usize {
                let r = 800.0;
                let sp = params(p, r, fixed);
                let s = setup(&prob, &sp).unwrap();
                let mut best = 0.0f64;
                let free = &s.free;
                // The best value of the solutions that open each free site.
                let mut best_with = vec![0.0f64; free.len()];
                let mut idx: Vec<usize> = (0..p).collect();
                loop {
                    let sites: Vec<usize> = idx.iter().map(|&k| free[k]).collect();
                    let v = covered(&prob, &s, &w, r, &sites);
                    best = best.max(v);
                    for &k in &idx {
                        best_with[k] = best_with[k].max(v);
                    }
                    // next p-combination of 0..free.len()
                    let mut k = p;
                    while k > 0 && idx[k - 1] == free.len() - p + k - 1 {
                        k -= 1;
                    }
                    if k == 0 {
                        break;
                    }
                    idx[k - 1] += 1;
                    let first = idx[k - 1];
                    for (t, x) in idx[k..].iter_mut().enumerate() {
                        *x = first + 1 + t;
                    }
                }
                let c0 = covered(&prob, &s, &w, r, &[]);
                let rows = mclp_rows(&prob, &s, &w, r, true);
                for iters in [1, 5, 50, 500] {
                    let lag = Lagrangian::solve(&rows, &s.free, p, best - c0, 0.0, iters);
                    let ctx = format!("seed {seed} p {p} iters {iters}");
                    assert!(
                        c0 + lag.bound >= best - 1e-6,
                        "{ctx}: {} < {best}",
                        lag.bound
                    );
                    // The bound of the solutions opening a site (used to leave sites out).
                    let cp = lag.pth(p);
                    for (k, &b) in best_with.iter().enumerate() {
                        let ub = c0 + lag.bound_with(k, cp);
                        assert!(ub >= b - 1e-6, "{ctx} site {k}: {ub} < {b}");
                    }
                }
            }
        }
    }
}
