//! A small mixed-integer program representation, solved by one of three back ends:
//! the pure-Rust `microlp` (through `good_lp`, always built in), COIN-OR CBC (the
//! `cbc` program, run on an LP file through the `lp-solvers` crate, as PuLP and spopt
//! run it), or HiGHS (the `highs` cargo feature). [`ExactSolver::Auto`], the default,
//! takes CBC when the program is installed and `microlp` otherwise; an answer names
//! the solver it used.

use good_lp::{variable, Expression, ProblemVariables, Solution, SolutionStatus, SolverModel};
use good_lp::{Variable, WithTimeLimit};
use serde::{Deserialize, Serialize};

use crate::error::PlanError;

/// Which MILP solver the exact mode uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExactSolver {
    /// CBC when the `cbc` program is installed, else `microlp` ([`ExactSolver::resolve`]).
    #[default]
    Auto,
    /// `microlp`, pure Rust (always available).
    Microlp,
    /// COIN-OR CBC, the `cbc` program (Debian's `coinor-cbc`): found on `PATH`, or at
    /// the path in the environment variable [`CBC_ENV`].
    Cbc,
    /// HiGHS (needs the `highs` cargo feature, which needs cmake and libclang to build).
    Highs,
}

/// The environment variable that names the `cbc` program, when it is not on `PATH`.
pub const CBC_ENV: &str = "YIZHAN_CBC";

impl ExactSolver {
    /// Every solver, for messages.
    pub const ALL: [ExactSolver; 4] = [
        ExactSolver::Auto,
        ExactSolver::Microlp,
        ExactSolver::Cbc,
        ExactSolver::Highs,
    ];

    /// The solver's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExactSolver::Auto => "auto",
            ExactSolver::Microlp => "microlp",
            ExactSolver::Cbc => "cbc",
            ExactSolver::Highs => "highs",
        }
    }

    /// The solver that runs: `Auto` becomes CBC when its program is found, else `microlp`.
    pub fn resolve(self) -> ExactSolver {
        match self {
            ExactSolver::Auto if cbc_program().is_some() => ExactSolver::Cbc,
            ExactSolver::Auto => ExactSolver::Microlp,
            other => other,
        }
    }
}

impl std::str::FromStr for ExactSolver {
    type Err = yizhan_core::model::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExactSolver::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| yizhan_core::model::UnknownName {
                what: "solver",
                value: s.to_string(),
                expected: ExactSolver::ALL.map(|v| v.as_str()).join(", "),
            })
    }
}

/// The `cbc` program: [`CBC_ENV`] when set, else the first `cbc` on `PATH`.
pub fn cbc_program() -> Option<std::path::PathBuf> {
    match std::env::var_os(CBC_ENV) {
        Some(p) if !p.is_empty() => Some(std::path::PathBuf::from(p)).filter(|p| p.is_file()),
        _ => which::which("cbc").ok(),
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
        match solver.resolve() {
            ExactSolver::Cbc => {
                drop((unsolved, cons));
                self.solve_cbc(time_limit_s)
            }
            ExactSolver::Microlp | ExactSolver::Auto => {
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

impl Milp {
    /// CBC on this program written as an LP file. CBC's first line says whether it
    /// proved optimality (`Optimal`) or stopped (on time …); it reports no dual bound
    /// in its solution file, so a stopped answer has no gap (`None`), and the better of
    /// CBC's incumbent and the warm start (the heuristic's answer, which an LP file
    /// cannot pass to CBC) is returned.
    fn solve_cbc(&self, time_limit_s: f64) -> Result<MilpOut, PlanError> {
        use lp_solvers::lp_format::{Constraint, LpObjective};
        use lp_solvers::problem::{Problem, StrExpression, Variable};
        use lp_solvers::solvers::{CbcSolver, SolverTrait, Status, WithMaxSeconds};
        use std::cmp::Ordering;

        let fail = |message: String| PlanError::Solver {
            message: format!("CBC: {message}"),
        };
        let program = cbc_program().ok_or_else(|| {
            fail(format!(
                "the cbc program is not installed (Debian: coinor-cbc), nor named by {CBC_ENV}"
            ))
        })?;
        let name = |k: usize| format!("x{k}");
        let expr = |terms: &mut dyn Iterator<Item = (usize, f64)>| {
            let text: Vec<String> = terms
                .filter(|&(_, c)| c != 0.0)
                .map(|(k, c)| format!("{c:+} {}", name(k)))
                .collect();
            // An empty expression is not valid LP text: 0 times the first variable.
            StrExpression(if text.is_empty() {
                format!("0 {}", name(0))
            } else {
                text.join(" ")
            })
        };
        let problem = Problem {
            name: "yizhan".into(),
            sense: if self.maximize {
                LpObjective::Maximize
            } else {
                LpObjective::Minimize
            },
            objective: expr(&mut self.obj.iter().copied().enumerate()),
            variables: (0..self.n_vars())
                .map(|k| Variable {
                    name: name(k),
                    is_integer: self.int[k],
                    lower_bound: self.lo[k],
                    upper_bound: self.hi[k],
                })
                .collect(),
            constraints: self
                .rows
                .iter()
                .map(|(terms, cmp, rhs)| Constraint {
                    lhs: expr(&mut terms.iter().copied()),
                    operator: match cmp {
                        Cmp::Le => Ordering::Less,
                        Cmp::Ge => Ordering::Greater,
                        Cmp::Eq => Ordering::Equal,
                    },
                    rhs: *rhs,
                })
                .collect(),
        };
        let seconds = time_limit_s.ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
        let solver = CbcSolver::new()
            .command_name(program.to_string_lossy().into_owned())
            .with_max_seconds(seconds);
        let sol = solver.run(&problem).map_err(fail)?;
        let x: Vec<f64> = (0..self.n_vars())
            .map(|k| {
                let v = sol.results.get(&name(k)).map_or(0.0, |&v| f64::from(v));
                // CBC's values come as f32 text: integers snap back to integers.
                if self.int[k] && (v - v.round()).abs() < 1e-4 {
                    v.round()
                } else {
                    v
                }
            })
            .collect();
        let value = |x: &[f64]| -> f64 { self.obj.iter().zip(x).map(|(c, v)| c * v).sum() };
        match sol.status {
            Status::Optimal if self.feasible(&x) => Ok(MilpOut {
                x,
                optimal: true,
                gap: Some(0.0),
            }),
            Status::Infeasible => Err(fail("the program is infeasible".into())),
            Status::Unbounded => Err(fail("the program is unbounded".into())),
            status => {
                let warm: Option<Vec<f64>> = self.init.iter().copied().collect();
                let warm = warm.filter(|w| self.feasible(w));
                let better = |a: f64, b: f64| if self.maximize { a > b } else { a < b };
                let x = match (self.feasible(&x), warm) {
                    (true, Some(w)) if better(value(&w), value(&x)) => w,
                    (true, _) => x,
                    (false, Some(w)) => w,
                    (false, None) => {
                        return Err(fail(format!("no feasible solution ({status:?})")))
                    }
                };
                Ok(MilpOut {
                    x,
                    optimal: false,
                    gap: None,
                })
            }
        }
    }

    /// Whether `x` keeps every bound, integrality and row (to 1e-6).
    fn feasible(&self, x: &[f64]) -> bool {
        const TOL: f64 = 1e-6;
        let vars_ok = (0..self.n_vars()).all(|k| {
            x[k] >= self.lo[k] - TOL
                && x[k] <= self.hi[k] + TOL
                && (!self.int[k] || (x[k] - x[k].round()).abs() <= TOL)
        });
        vars_ok
            && self.rows.iter().all(|(terms, cmp, rhs)| {
                let lhs: f64 = terms.iter().map(|&(k, c)| c * x[k]).sum();
                let tol = TOL * rhs.abs().max(1.0);
                match cmp {
                    Cmp::Le => lhs <= rhs + tol,
                    Cmp::Ge => lhs >= rhs - tol,
                    Cmp::Eq => (lhs - rhs).abs() <= tol,
                }
            })
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
