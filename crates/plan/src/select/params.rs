//! The public types of site selection: the model, its parameters and the answer.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::milp::ExactSolver;

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
    /// For the town's problem: weigh each hotspot by its workers present in these
    /// local hours ([`yizhan_core::Hotspot::demand`]), e.g. the lunch peak; `None`,
    /// the daily workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<yizhan_core::profile::HourWindow>,
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
            hours: None,
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
