//! Planning workflows: the analyses a planner asks for, from a loaded
//! [`Dataset`](yizhan_core::Dataset) to a typed answer. The server's planning routes
//! and the CLI's planning commands both call these functions with these defaults, so
//! the same request gets the same answer from either; the adapters only read their
//! parameters and render the result.
//!
//! * [`analyse`] / [`coverage`]: coverage and per-station load;
//! * [`gaps()`]: gap scores of every cell, grid units without a station, and the gap
//!   layer's features ([`GapsReport::features`], [`gap_layer`]);
//! * [`compare()`]: candidate sites ranked by what they would add ([`candidate_sites`]
//!   chooses and checks the list);
//! * [`town_problem`]: the town's site-selection problem for [`crate::select::solve`];
//! * [`town_assignment`]: workers' seats wanted at once, assigned to station seats.
//!
//! # Examples
//!
//! ```
//! use yizhan_plan::workflow::{self, DEFAULT_CUTOFF_M, DEFAULT_PEAK_SHARE};
//! let p = workflow::coverage_params(None, None).unwrap();
//! assert_eq!(p.cutoff.metres().unwrap(), DEFAULT_CUTOFF_M);
//! assert_eq!(p.peak_share, DEFAULT_PEAK_SHARE);
//! assert!(workflow::coverage_params(Some(0.0), None).is_err());
//! assert!(workflow::coverage_params(None, Some(2.0)).is_err());
//! ```

mod analysis;
mod assign;
mod candidates;
mod compare;
mod defaults;
mod gaps;
mod site;

pub use analysis::{analyse, analyse_on, coverage, coverage_on, Analysis};
pub use assign::{seats_wanted, town_assignment, TownAssignment};
pub use candidates::{candidate_sites, CandidateSource};
pub use compare::{compare, compare_on, Comparison};
pub use defaults::{
    check_coverage_params, check_cutoff_m, check_peak_share, coverage_params, DEFAULT_CUTOFF_M,
    DEFAULT_PEAK_SHARE, MAX_CUTOFF_M, MAX_DENSE_PAIRS, NEAREST_STEPS_PER_M,
};
pub use gaps::{gap_layer, gaps, gaps_on, GapProperties, GapsReport};
pub use site::{town_problem, town_problem_on};
