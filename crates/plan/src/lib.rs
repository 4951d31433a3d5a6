//! # yizhan-plan
//!
//! Planning for yizhan (驿站): how much outdoor-worker demand the rest stations cover,
//! where the gaps are, how loaded each station is, how demand is best assigned to seats,
//! which candidate sites help most, and which sites to open, optimally or fast.
//!
//! * [`problem`]: the generic demand × sites cost problem (from geometry or a CSV matrix);
//! * [`select`]: MCLP, LSCP, p-median, p-center (heuristic and exact);
//! * [`assign`]: capacitated assignment by min-cost flow;
//! * [`coverage`]: coverage with cutoffs or distance decay, station load, gaps, grid units,
//!   candidate comparison;
//! * [`network`]: the same analyses on the street network (walk, e-bike);
//! * [`workflow`]: the planner's analyses from a dataset to a typed answer, with the
//!   defaults the server and the CLI share.
//!
//! Distances are metres (great circle, from `yizhan-core`) unless a cost matrix says
//! otherwise. No HTTP here: the server calls these functions.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assign;
pub mod coverage;
pub mod demand;
pub mod error;
pub mod milp;
pub mod network;
pub mod problem;
pub mod select;
pub mod service_area;
pub mod workflow;

// The integration tests' helpers (`tests/common`), shared with the unit tests, name the
// crate as they do.
#[cfg(test)]
extern crate self as yizhan_plan;

pub use error::PlanError;
pub use milp::ExactSolver;
pub use network::{By, DistanceUsed, NetworkCosts};
pub use problem::{DemandPoint, MatrixCsv, Problem, SiteInfo, TownSites, WeightsCsv};
pub use select::{solve, Model, SiteParams, SiteSolution};
