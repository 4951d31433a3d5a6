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
    /// Every feasible solution has an integral objective value (e.g. MCLP with integral
    /// weights): a bound may then be rounded to the next integer towards the incumbent.
    pub integral_objective: bool,
    /// A constant added to the objective (e.g. demand that fixed sites cover): `gap` is
    /// relative to the whole value.
    pub offset: f64,
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

    /// The answer `x` with objective `obj` and the solver's proven `bound` (both without
    /// the offset): optimal or the gap between them.
    fn out(&self, x: Vec<f64>, obj: f64, bound: f64) -> MilpOut {
        let (optimal, gap) = gap_of(
            obj + self.offset,
            bound + self.offset,
            self.maximize,
            self.integral_objective,
        );
        MilpOut { x, optimal, gap }
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
                let x: Vec<f64> = vars.iter().map(|v| sol.value(*v)).collect();
                if matches!(sol.status(), SolutionStatus::Optimal) {
                    return Ok(MilpOut {
                        x,
                        optimal: true,
                        gap: Some(0.0),
                    });
                }
                let obj: f64 = self.obj.iter().zip(&x).map(|(c, v)| c * v).sum();
                let bound = sol.into_inner().stats().best_bound.unwrap_or(f64::NAN);
                Ok(self.out(x, obj, bound))
            }
            #[cfg(feature = "highs")]
            ExactSolver::Highs => {
                let mut model = unsolved.using(good_lp::solvers::highs::highs);
                for c in cons {
                    model.add_constraint(c);
                }
                self.solve_highs(model, time_limit_s)
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

#[cfg(feature = "highs")]
impl Milp {
    /// HiGHS, driven directly rather than through `good_lp`'s `solve`, so that the
    /// answer carries HiGHS's own dual bound (`mip_dual_bound`): `optimal` and `gap` come
    /// from that bound and the incumbent, not from the status alone. The warm start
    /// (initial values; 0 where none is given) is passed with `Highs_setSolution`, which
    /// HiGHS takes as its first incumbent when it is feasible.
    fn solve_highs(
        &self,
        model: good_lp::solvers::highs::HighsProblem,
        time_limit_s: f64,
    ) -> Result<MilpOut, PlanError> {
        let err = |what: &str| PlanError::Solver {
            message: format!("HiGHS: {what}"),
        };
        let mut m = model.try_into_inner().map_err(|e| err(&e.to_string()))?;
        m.try_set_option("time_limit", time_limit_s)
            .map_err(|e| err(&format!("time_limit: {e:?}")))?;
        // Stop only when the bound meets the incumbent: below one unit when every
        // solution's value is an integer, else within 1e-9 relative.
        let (rel, abs) = if self.integral_objective {
            (0.0, 0.999)
        } else {
            (1e-9, 1e-9)
        };
        m.try_set_option("mip_rel_gap", rel)
            .map_err(|e| err(&format!("mip_rel_gap: {e:?}")))?;
        m.try_set_option("mip_abs_gap", abs)
            .map_err(|e| err(&format!("mip_abs_gap: {e:?}")))?;
        if self.init.iter().any(Option::is_some) {
            let x0: Vec<f64> = self.init.iter().map(|v| v.unwrap_or(0.0)).collect();
            m.try_set_solution(Some(&x0), None, None, None)
                .map_err(|e| err(&format!("warm start: {e:?}")))?;
        }
        let solved = m.try_solve().map_err(|e| err(&format!("{e:?}")))?;
        let status = format!("{:?}", solved.status());
        let feasible = solved
            .int_info_value(c"primal_solution_status")
            .map_err(|e| err(&format!("{e:?}")))?
            == 2;
        if !feasible {
            return Err(err(&format!("no feasible solution ({status})")));
        }
        let x = solved.get_solution().columns().to_vec();
        // The incumbent's value, recomputed from x (HiGHS's own objective_value agrees
        // up to its tolerances).
        let obj: f64 = self.obj.iter().zip(&x).map(|(c, v)| c * v).sum();
        let has_int = self.int.iter().any(|&b| b);
        let bound = if has_int {
            solved
                .double_info_value(c"mip_dual_bound")
                .map_err(|e| err(&format!("{e:?}")))?
        } else if status == "Optimal" {
            obj
        } else {
            f64::NAN
        };
        Ok(self.out(x, obj, bound))
    }
}

/// Whether `obj` is proven optimal by `bound` (a dual bound: an upper bound when
/// maximising, a lower one when minimising), and the relative gap |bound − obj| / |bound|
/// (maximising) or / |obj| (minimising). With an integral objective the bound is first
/// rounded to an integer towards the incumbent. `None` when no finite bound is known.
pub(crate) fn gap_of(obj: f64, bound: f64, maximize: bool, integral: bool) -> (bool, Option<f64>) {
    if !bound.is_finite() {
        return (false, None);
    }
    let eps = 1e-9 * obj.abs().max(1.0);
    let (b, diff) = if maximize {
        let b = if integral {
            (bound + 1e-6).floor()
        } else {
            bound
        };
        (b, b - obj)
    } else {
        let b = if integral {
            (bound - 1e-6).ceil()
        } else {
            bound
        };
        (b, obj - b)
    };
    if diff <= eps {
        return (true, Some(0.0));
    }
    let den = if maximize { b.abs() } else { obj.abs() };
    (false, Some(if den > 0.0 { diff / den } else { 1.0 }))
}
