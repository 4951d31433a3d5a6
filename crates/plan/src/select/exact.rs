//! What the exact paths share: the answer of an exact attempt and the fall-back to the
//! heuristic's, and the pieces of the integer programs every model writes (one binary
//! "site j is open" variable per free site, "exactly p new sites", the solve).

use super::params::SiteParams;
use crate::milp::{Cmp, Milp};

/// A heuristic answer: the new sites and what is known of its quality.
pub(super) struct Heur {
    /// The new sites.
    pub sites: Vec<usize>,
    /// Whether optimality is proven.
    pub optimal: bool,
    /// The proven gap, if any.
    pub gap: Option<f64>,
}

impl Heur {
    /// An answer of unknown quality.
    pub fn unproven(sites: Vec<usize>) -> Self {
        Heur {
            sites,
            optimal: false,
            gap: None,
        }
    }
}

/// The new sites, whether optimal, the gap, a note, and the method.
pub(super) type Outcome = (Vec<usize>, bool, Option<f64>, Option<String>, &'static str);

/// An exact attempt: Ok(Some) solved (sites, optimal, gap, and a note when no MILP
/// solver was needed), Ok(None) too large.
pub(super) type Exact =
    Result<Option<(Vec<usize>, bool, Option<f64>, Option<String>)>, crate::PlanError>;

impl Heur {
    /// The heuristic's own outcome.
    pub fn outcome(self) -> Outcome {
        (self.sites, self.optimal, self.gap, None, "heuristic")
    }

    /// The exact answer when there is one, else this one with a note of why not.
    pub fn or_exact(self, params: &SiteParams, ex: Exact) -> Outcome {
        let why = match ex {
            Ok(Some((sites, optimal, gap, note))) => return (sites, optimal, gap, note, "exact"),
            Ok(None) => format!(
                "integer program larger than max_exact_vars = {}; heuristic answer returned",
                params.max_exact_vars
            ),
            Err(e) => format!("exact solver gave no answer ({e}); heuristic answer returned"),
        };
        (self.sites, self.optimal, self.gap, Some(why), "heuristic")
    }
}

/// One binary "site j is open" variable per free site, warm-started from
/// `warm_open`: the variable of each site (`usize::MAX` for sites that are not free)
/// and the (site, variable) pairs. `cost` is each variable's objective coefficient.
pub(super) fn open_vars(
    lp: &mut Milp,
    free: &[usize],
    warm_open: Option<&[bool]>,
    cost: f64,
    m: usize,
) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut yv = vec![usize::MAX; m];
    let mut ys = Vec::with_capacity(free.len());
    for &j in free {
        let init = warm_open.map(|o| if o[j] { 1.0 } else { 0.0 });
        let v = lp.var(0.0, 1.0, true, cost, init);
        yv[j] = v;
        ys.push((j, v));
    }
    (yv, ys)
}

/// Adds Σ yⱼ = p over the open-site variables `ys`, then [`solve`].
pub(super) fn solve_with_p(
    mut lp: Milp,
    ys: &[(usize, usize)],
    p: usize,
    params: &SiteParams,
) -> Exact {
    lp.row(
        ys.iter().map(|&(_, v)| (v, 1.0)).collect(),
        Cmp::Eq,
        p as f64,
    );
    solve(&lp, ys, params)
}

/// Solves `lp` with the solver and time limit of `params`; the sites whose variable of
/// `ys` is 1.
pub(super) fn solve(lp: &Milp, ys: &[(usize, usize)], params: &SiteParams) -> Exact {
    let out = lp.solve(params.solver, params.time_limit_s)?;
    let sites = ys
        .iter()
        .filter(|(_, v)| out.x[*v] > 0.5)
        .map(|(j, _)| *j)
        .collect();
    Ok(Some((sites, out.optimal, out.gap, None)))
}
