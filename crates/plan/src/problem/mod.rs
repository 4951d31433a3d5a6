//! The generic location problem: weighted demand points × candidate sites with a
//! sparse cost matrix (metres, or any additive cost such as minutes).
//!
//! A [`Problem`] is built from geometry (great-circle metres computed with the core's
//! R-tree, optionally only within a radius, for scale), from a dense matrix, from
//! triplets, or from a long-format CSV ([`MatrixCsv`]) so that road-network distances
//! computed elsewhere can be used. Every model in [`crate::select`] and the capacitated
//! assignment in [`crate::assign`] solve on it.
//!
//! # Layout
//!
//! One concept a file: `matrix` the [`Problem`] itself, its items and its constructors;
//! `matrix_csv` the CSV reader; `town` a town's hotspots, stations and candidates as a
//! problem.

mod matrix;
mod matrix_csv;
mod town;

pub use matrix::{DemandPoint, Problem, SiteInfo};
pub use matrix_csv::{MatrixCsv, WeightsCsv};
pub use town::TownSites;
