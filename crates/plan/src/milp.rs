//! A small mixed-integer program representation, solved through `good_lp`: the pure-Rust
//! `microlp` solver by default, HiGHS with the `highs` cargo feature.

use good_lp::{variable, Expression, ProblemVariables, Solution, SolutionStatus, SolverModel};
use good_lp::{Variable, WithTimeLimit};
use serde::{Deserialize, Serialize};

use crate::error::PlanError;

/// Which MILP solver the exact mode uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExactSolver {
    /// `microlp`, pure Rust (always available).
    #[default]
    Microlp,
    /// HiGHS (needs the `highs` cargo feature, which needs cmake and libclang to build).
    Highs,
}

impl ExactSolver {
    /// The solver's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExactSolver::Microlp => "microlp",
            ExactSolver::Highs => "highs",
        }
    }
}

/// Comparison of a constraint row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Le,
    Ge,
    Eq,
}

/// A constraint row: terms, comparison, right-hand side.
type Row = (Vec<(usize, f64)>, Cmp, f64);

/// A MILP: variables with bounds, integrality, objective coefficient and initial value.
#[derive(Debug, Default)]
pub(crate) struct Milp {
    lo: Vec<f64>,
    hi: Vec<f64>,
    int: Vec<bool>,
    obj: Vec<f64>,
    init: Vec<Option<f64>>,
    rows: Vec<Row>,
    pub maximize: bool,
}

/// What the solver found.
#[derive(Debug, Clone)]
pub(crate) struct MilpOut {
    pub x: Vec<f64>,
    pub optimal: bool,
    pub gap: Option<f64>,
}

impl Milp {
    pub fn var(&mut self, lo: f64, hi: f64, int: bool, obj: f64, init: Option<f64>) -> usize {
        self.lo.push(lo);
        self.hi.push(hi);
        self.int.push(int);
        self.obj.push(obj);
        self.init.push(init);
        self.lo.len() - 1
    }
    pub fn row(&mut self, terms: Vec<(usize, f64)>, cmp: Cmp, rhs: f64) {
        self.rows.push((terms, cmp, rhs));
    }
    pub fn n_vars(&self) -> usize {
        self.lo.len()
    }

    fn build(&self) -> (ProblemVariables, Vec<Variable>, Expression) {
        let mut pv = ProblemVariables::new();
        let vars: Vec<Variable> = (0..self.n_vars())
            .map(|k| {
                let mut d = variable().min(self.lo[k]).max(self.hi[k]);
                if self.int[k] {
                    d = d.integer();
                }
                if let Some(v) = self.init[k] {
                    d = d.initial(v);
                }
                pv.add(d)
            })
            .collect();
        let mut obj = Expression::with_capacity(self.n_vars());
        for (k, &c) in self.obj.iter().enumerate() {
            if c != 0.0 {
                obj.add_mul(c, vars[k]);
            }
        }
        (pv, vars, obj)
    }

    fn constraints(&self, vars: &[Variable]) -> Vec<good_lp::Constraint> {
        self.rows
            .iter()
            .map(|(terms, cmp, rhs)| {
                let mut e = Expression::with_capacity(terms.len());
                for &(k, c) in terms {
                    e.add_mul(c, vars[k]);
                }
                match cmp {
                    Cmp::Le => e.leq(*rhs),
                    Cmp::Ge => e.geq(*rhs),
                    Cmp::Eq => e.eq(*rhs),
                }
            })
            .collect()
    }

    /// Solve within `time_limit_s` seconds.
    pub fn solve(&self, solver: ExactSolver, time_limit_s: f64) -> Result<MilpOut, PlanError> {
        let (pv, vars, obj) = self.build();
        let unsolved = if self.maximize {
            pv.maximise(obj)
        } else {
            pv.minimise(obj)
        };
        let cons = self.constraints(&vars);
        let fail = |e: good_lp::ResolutionError| PlanError::Solver {
            message: e.to_string(),
        };
        match solver {
            ExactSolver::Microlp => {
                let mut model = unsolved
                    .using(good_lp::solvers::microlp::microlp)
                    .with_time_limit(time_limit_s);
                for c in cons {
                    model.add_constraint(c);
                }
                let sol = model.solve().map_err(fail)?;
                let x = vars.iter().map(|v| sol.value(*v)).collect();
                let optimal = matches!(sol.status(), SolutionStatus::Optimal);
                let gap = if optimal {
                    Some(0.0)
                } else {
                    sol.into_inner().gap()
                };
                Ok(MilpOut { x, optimal, gap })
            }
            #[cfg(feature = "highs")]
            ExactSolver::Highs => {
                let mut model = unsolved
                    .using(good_lp::solvers::highs::highs)
                    .with_time_limit(time_limit_s);
                for c in cons {
                    model.add_constraint(c);
                }
                let sol = model.solve().map_err(fail)?;
                let x = vars.iter().map(|v| sol.value(*v)).collect();
                let optimal = matches!(sol.status(), SolutionStatus::Optimal);
                Ok(MilpOut {
                    x,
                    optimal,
                    gap: optimal.then_some(0.0),
                })
            }
            #[cfg(not(feature = "highs"))]
            ExactSolver::Highs => {
                drop((unsolved, cons));
                Err(PlanError::Solver {
                    message: "this build has no HiGHS; rebuild with --features highs".into(),
                })
            }
        }
    }
}
