//! Typed errors of the planning crate.

use std::path::PathBuf;

/// Everything that can go wrong while planning. Each variant carries structured fields
/// so that a server can turn it into a precise response; `Display` gives one clear line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// More sites were asked for than there are candidates left to choose from.
    #[error(
        "p = {requested} new sites asked for, but only {available} candidate sites are available"
    )]
    TooManySites {
        /// Sites asked for.
        requested: usize,
        /// Candidates that may be chosen (not fixed, not excluded).
        available: usize,
    },
    /// A model that needs `p` was called without it (or with 0 where that is meaningless).
    #[error("model {model} needs p, the number of new sites (p >= 1)")]
    MissingP {
        /// The model name.
        model: &'static str,
    },
    /// A model that needs a service radius was called without one.
    #[error("model {model} needs a service radius (radius_m)")]
    MissingRadius {
        /// The model name.
        model: &'static str,
    },
    /// A distance or speed parameter is negative, zero where it must be positive, or not a number.
    #[error("{param} must be a positive number of {unit}, got {value}")]
    BadParameter {
        /// Which parameter (a caller maps it to its own spelling: a flag, a field).
        param: Param,
        /// The unit it is measured in.
        unit: &'static str,
        /// The value given.
        value: f64,
    },
    /// A parameter lies outside the range the planner accepts.
    #[error("{what} {value} is out of range (must be above {min} and at most {max} {unit})")]
    OutOfRange {
        /// Which parameter, spelt as the API spells it (`cutoff_m`, `peak_share`).
        what: &'static str,
        /// The unit it is measured in.
        unit: &'static str,
        /// The value given.
        value: f64,
        /// Values must be above this.
        min: f64,
        /// Values must be at most this.
        max: f64,
    },
    /// A candidate site id appears twice in a list of candidates.
    #[error("duplicate candidate id {id:?} (candidate {index})")]
    DuplicateCandidate {
        /// Position (0-based) of the second occurrence in the list.
        index: usize,
        /// The id.
        id: String,
    },
    /// A complete demand × site matrix would be too large and no radius limits it.
    #[error("too many demand-site pairs ({pairs}) for a full matrix (at most {max}): give a service radius to limit assignment distance")]
    TooManyPairs {
        /// Pairs a full matrix would hold.
        pairs: usize,
        /// The most built without a radius.
        max: usize,
    },
    /// The same id appears twice.
    #[error("duplicate {what} id {id:?}")]
    DuplicateId {
        /// What kind of id ("demand point", "site").
        what: &'static str,
        /// The id.
        id: String,
    },
    /// An id given (fixed / excluded site) is not in the problem.
    #[error("unknown {what} id {id:?}")]
    UnknownId {
        /// What kind of id.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// A site is both fixed and excluded.
    #[error("site {id:?} is both fixed and excluded")]
    FixedAndExcluded {
        /// The site id.
        id: String,
    },
    /// A cost is negative or not finite.
    #[error("cost from demand {demand:?} to site {site:?} is {cost}, not a finite number >= 0")]
    BadCost {
        /// Demand id.
        demand: String,
        /// Site id.
        site: String,
        /// The value.
        cost: f64,
    },
    /// A weight is negative or not finite.
    #[error("weight of demand point {id:?} is {weight}, not a finite number >= 0")]
    BadWeight {
        /// Demand id.
        id: String,
        /// The value.
        weight: f64,
    },
    /// A weight that must be whole (capacitated assignment counts people) is fractional.
    #[error("weight of demand point {id:?} is {weight}; assignment needs whole numbers")]
    FractionalWeight {
        /// Demand id.
        id: String,
        /// The value.
        weight: f64,
    },
    /// A pair appears twice in a cost matrix.
    #[error("cost from demand {demand:?} to site {site:?} is given twice")]
    DuplicatePair {
        /// Demand id.
        demand: String,
        /// Site id.
        site: String,
    },
    /// A long-format cost matrix lacks pairs.
    #[error("cost matrix is missing {missing} of {expected} demand-site pairs (e.g. {demand:?} to {site:?})")]
    MissingPairs {
        /// How many pairs are missing.
        missing: usize,
        /// How many pairs a full matrix has.
        expected: usize,
        /// A demand id of one missing pair.
        demand: String,
        /// A site id of one missing pair.
        site: String,
    },
    /// A demand point has no weight in the weights file.
    #[error("demand point {id:?} has no weight in {path}")]
    MissingWeight {
        /// Demand id.
        id: String,
        /// The weights file.
        path: PathBuf,
    },
    /// The same demand point has two different weights in a matrix.
    #[error("demand point {id:?} has weights {first} and {second} in the matrix")]
    InconsistentWeight {
        /// Demand id.
        id: String,
        /// First weight seen.
        first: f64,
        /// A different weight.
        second: f64,
    },
    /// A CSV column is missing.
    #[error("{path}: no column {column:?} (columns: {available})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The columns present, comma-separated.
        available: String,
    },
    /// A CSV field could not be read as a number.
    #[error("{path}, line {line}: {column} {value:?} is not a number")]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column.
        column: String,
        /// The text.
        value: String,
    },
    /// A CSV file could not be read.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// There is nothing to plan for.
    #[error("no {what} to plan with")]
    Empty {
        /// What is missing ("demand points", "candidate sites").
        what: &'static str,
    },
    /// No set of sites can cover every demand point (LSCP, p-center feasibility).
    #[error(
        "infeasible: {count} demand point(s) have no site within {radius_m} m (e.g. {examples})"
    )]
    Uncoverable {
        /// The service radius.
        radius_m: f64,
        /// How many demand points cannot be covered.
        count: usize,
        /// The first few of their ids, comma-separated.
        examples: String,
        /// All their ids.
        ids: Vec<String>,
    },
    /// A demand point cannot reach any site at all (p-center needs every point served).
    #[error("infeasible: demand point {id:?} has no reachable site")]
    Unreachable {
        /// Demand id.
        id: String,
    },
    /// The exact solver failed (not for lack of time).
    #[error("exact solver failed: {message}")]
    Solver {
        /// The solver's message.
        message: String,
    },
}

/// A numeric parameter of a planning call, as named in [`PlanError::BadParameter`].
///
/// Typed so that each caller points at its own spelling of it (the server's
/// `cutoff_m`, the CLI's `--cutoff`) without parsing the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// The walking cutoff (in metres or minutes).
    Cutoff,
    /// The speed that turns a cutoff in minutes into metres.
    Speed,
    /// The share of workers wanting a seat at once.
    PeakShare,
    /// The exponent of a distance-decay function.
    DecayBeta,
    /// The service radius of site selection (or of a sparse cost matrix).
    Radius,
    /// The exact solver's time limit.
    TimeLimit,
    /// A site's capacity.
    Capacity,
}

impl Param {
    /// The parameter in words, as messages name it (`peak share`).
    pub fn as_str(self) -> &'static str {
        match self {
            Param::Cutoff => "cutoff",
            Param::Speed => "speed",
            Param::PeakShare => "peak share",
            Param::DecayBeta => "decay beta",
            Param::Radius => "radius",
            Param::TimeLimit => "time limit",
            Param::Capacity => "capacity",
        }
    }
}

impl Param {
    /// `value` when it is finite and >= 0, else [`PlanError::BadParameter`] for this
    /// parameter measured in `unit`.
    pub(crate) fn non_negative(self, value: f64, unit: &'static str) -> Result<f64, PlanError> {
        self.check(value >= 0.0 && value.is_finite(), value, unit)
    }

    /// `value` when it is finite and > 0, else [`PlanError::BadParameter`].
    pub(crate) fn positive(self, value: f64, unit: &'static str) -> Result<f64, PlanError> {
        self.check(value > 0.0 && value.is_finite(), value, unit)
    }

    fn check(self, ok: bool, value: f64, unit: &'static str) -> Result<f64, PlanError> {
        if ok {
            Ok(value)
        } else {
            Err(PlanError::BadParameter {
                param: self,
                unit,
                value,
            })
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
