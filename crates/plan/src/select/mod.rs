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
//!
//! # Layout
//!
//! One concept a file: `params` holds the public types; `setup` which sites are
//! fixed, free and excluded; `cover` the covering view (rows × sites) that MCLP and its
//! relatives search; `search` the lazy greedy and swap search over it, which the MCLP
//! heuristic and the branch and bound both call; `lagrangian` the Lagrangian bound,
//! shared by the MILP reduction and the branch and bound; `bnb` (with `decompose`,
//! `knapsack` and `branch`) the exact MCLP without a MILP solver; one file per model
//! (`mclp`, `lscp`, `pmedian`, `pcenter`) with its heuristic and its integer program;
//! `exact` what the integer programs share; `shaker` the restarts of the heuristics;
//! `solve` the entry point and its report.

mod bnb;
mod branch;
mod cover;
mod cover_bound;
mod decompose;
mod exact;
mod knapsack;
mod lagrangian;
mod lscp;
mod mclp;
mod params;
mod pcenter;
mod pmedian;
mod reduce;
mod search;
mod setup;
mod shaker;
mod solve;

pub use params::{Model, SiteParams, SiteSolution};
pub use solve::solve;
