//! The location set covering problem (Toregas, Swain, ReVelle & Bergman 1971): its
//! heuristic (greedy set cover, then the MCLP search with one site fewer) and its
//! integer program.

use std::time::Instant;

use super::cover::{Cover, CoverRows, Within};
use super::cover_bound::{complete_cover, cover_bound, greedy_cover, CoverBound, COVER_STEPS};
use super::decompose::components;
use super::exact::Exact;
use super::mclp::Mclp;
use super::params::SiteParams;
use super::reduce::reduce;
use super::search::{greedy, Counts};
use super::setup::Setup;
use crate::error::PlanError;
use crate::milp::{Cmp, Milp};
use crate::problem::Problem;

/// LSCP heuristic: greedy set cover, drop redundant sites, then try to do with one
/// site fewer through the MCLP heuristic.
pub(super) fn heuristic(prob: &Problem, s: &Setup, r: f64) -> Vec<usize> {
    let ones = vec![1.0; prob.n_demand()];
    let cov = Within { prob, r, w: &ones };
    let mut st = Counts::new(&cov, &s.fixed);
    let (mut chosen, _) = greedy(&cov, &s.free, &mut st, usize::MAX, true);
    // Drop redundant sites, last chosen first.
    for k in (0..chosen.len()).rev() {
        let j = chosen[k];
        if cov.col(j).iter().all(|&i| st.cnt[i as usize] > 1) {
            st.remove(&cov, j);
            chosen.remove(k);
        }
    }
    // Try with fewer sites.
    while !chosen.is_empty() {
        let p = chosen.len() - 1;
        let h = Mclp {
            prob,
            s,
            w: &ones,
            r,
            p,
        }
        .heuristic();
        if Counts::new(&cov, s.fixed.iter().chain(&h.sites)).all_covered() {
            chosen = h.sites;
        } else {
            break;
        }
    }
    chosen
}

/// The rows to cover: per demand point not covered by a fixed site, the free sites
/// (as positions in `s.free`) within `r` of it.
fn open_rows(prob: &Problem, s: &Setup, r: f64) -> Vec<Vec<u32>> {
    let ones = vec![1.0; prob.n_demand()];
    let fixed_cov = Within { prob, r, w: &ones }.covered(&s.fixed);
    let mut pos = vec![u32::MAX; prob.n_sites()];
    for (k, &j) in s.free.iter().enumerate() {
        pos[j] = k as u32;
    }
    (0..prob.n_demand())
        .filter(|&i| !fixed_cov[i])
        .map(|i| {
            prob.row_within(i, r)
                .0
                .iter()
                .map(|&j| pos[j as usize])
                .filter(|&k| k != u32::MAX)
                .collect()
        })
        .collect()
}

/// One independent group's answer: its cover (local columns), its proven lower bound,
/// and whether the MILP solver was needed.
struct GroupAnswer {
    cover: Vec<usize>,
    lower: usize,
    solver_used: bool,
}

/// The smallest cover of one group: the Lagrangian bound first, the MILP solver only
/// when the bound leaves the incumbent unproven (over the columns that reduced-cost
/// fixing keeps), within `time_left` seconds.
fn solve_group(
    rows: &[Vec<u32>],
    n: usize,
    start: Option<Vec<usize>>,
    params: &SiteParams,
    time_left: f64,
) -> Result<GroupAnswer, PlanError> {
    let b = cover_bound(rows, n, start, COVER_STEPS);
    if b.proven() {
        return Ok(GroupAnswer {
            lower: b.best.len(),
            cover: b.best,
            solver_used: false,
        });
    }
    milp_group(rows, n, &b, params, time_left)
}

/// The MILP on one group's columns that may still improve on the incumbent of `b`.
fn milp_group(
    rows: &[Vec<u32>],
    n: usize,
    b: &CoverBound,
    params: &SiteParams,
    time_left: f64,
) -> Result<GroupAnswer, PlanError> {
    let keep = b.may_improve();
    let mut lp = Milp::default();
    lp.integral_objective = true;
    let mut var = vec![usize::MAX; n];
    let in_best: Vec<bool> = {
        let mut v = vec![false; n];
        for &j in &b.best {
            v[j] = true;
        }
        v
    };
    for j in (0..n).filter(|&j| keep[j]) {
        let init = Some(if in_best[j] { 1.0 } else { 0.0 });
        var[j] = lp.var(0.0, 1.0, true, 1.0, init);
    }
    for r in rows {
        let t: Vec<(usize, f64)> = r
            .iter()
            .filter(|&&j| var[j as usize] != usize::MAX)
            .map(|&j| (var[j as usize], 1.0))
            .collect();
        if t.is_empty() {
            // No smaller cover can cover this row: the incumbent is smallest.
            return Ok(GroupAnswer {
                lower: b.best.len(),
                cover: b.best.clone(),
                solver_used: false,
            });
        }
        lp.row(t, Cmp::Ge, 1.0);
    }
    let out = lp.solve(params.solver, time_left.max(1.0))?;
    let found: Vec<usize> = (0..n)
        .filter(|&j| var[j] != usize::MAX && out.x[var[j]] > 0.5)
        .collect();
    let valid = rows.iter().all(|r| {
        r.iter()
            .any(|&j| found.binary_search(&(j as usize)).is_ok())
    });
    let cover = if valid && found.len() < b.best.len() {
        found
    } else {
        b.best.clone()
    };
    let lower = if out.optimal {
        cover.len()
    } else {
        b.lower_int()
    };
    Ok(GroupAnswer {
        cover,
        lower,
        solver_used: true,
    })
}

/// LSCP (Toregas et al. 1971): min Σ yⱼ, Σ_{j ∈ Nᵢ} yⱼ ≥ 1 for every demand point not
/// covered by a fixed site.
///
/// Before any solver: the set-covering reductions (essential sites, row and column
/// dominance; see `reduce`), then the independent groups of what is left (sites that
/// share no demand point), and per group the Lagrangian bound with its heuristic
/// (Beasley 1990; see `cover_bound`). Only a group whose bound leaves its best cover
/// unproven goes to the MILP solver, over the sites reduced-cost fixing keeps. The
/// answer's lower bound is the essential sites plus each group's bound; `gap` is
/// measured against it. `warm` (the heuristic's sites) seeds each group's incumbent.
pub(super) fn exact(
    prob: &Problem,
    s: &Setup,
    r: f64,
    warm: Option<&[usize]>,
    params: &SiteParams,
) -> Exact {
    let started = Instant::now();
    let rows = open_rows(prob, s, r);
    let red = reduce(&rows, s.free.len()).map_err(|_| {
        // check_coverable ran first; kept for a caller that did not.
        PlanError::Uncoverable {
            radius_m: r,
            count: 1,
            examples: String::new(),
            ids: Vec::new(),
        }
    })?;
    if red.cols.len() > params.max_exact_vars {
        return Ok(None);
    }
    let ones: Vec<(Vec<u32>, f64)> = red.rows.iter().map(|r| (r.clone(), 1.0)).collect();
    let cover = CoverRows::new(red.cols.len(), ones);
    let parts = components(
        &cover,
        &vec![true; red.cols.len()],
        &vec![0.0; cover.w.len()],
    );
    // The warm start's sites, as positions in red.cols.
    let mut in_warm = vec![false; red.cols.len()];
    if let Some(w) = warm {
        let mut free_pos = vec![usize::MAX; prob.n_sites()];
        for (k, &j) in s.free.iter().enumerate() {
            free_pos[j] = k;
        }
        for &j in w {
            if let Ok(c) = red.cols.binary_search(&free_pos[j]) {
                in_warm[c] = true;
            }
        }
    }
    let mut chosen: Vec<usize> = red.essential.iter().map(|&k| s.free[k]).collect();
    let mut lower = red.essential.len();
    let mut solver_used = false;
    let mut largest = (0, 0);
    for part in &parts {
        let rows: Vec<Vec<u32>> = part.cover.rows.clone();
        let n = part.site.len();
        if rows.len() * n > largest.0 * largest.1 {
            largest = (rows.len(), n);
        }
        let greedy = greedy_cover(&rows, n);
        let start = if warm.is_some() {
            let mut w: Vec<usize> = (0..n).filter(|&k| in_warm[part.site[k]]).collect();
            let c: Vec<f64> = (0..n)
                .map(|k| if in_warm[part.site[k]] { 0.0 } else { 1.0 })
                .collect();
            complete_cover(&rows, n, &c, &mut w);
            if w.len() < greedy.len() {
                w
            } else {
                greedy
            }
        } else {
            greedy
        };
        let left = params.time_limit_s - started.elapsed().as_secs_f64();
        let g = solve_group(&rows, n, Some(start), params, left)?;
        solver_used |= g.solver_used;
        lower += g.lower;
        chosen.extend(g.cover.iter().map(|&k| s.free[red.cols[part.site[k]]]));
    }
    // Never worse than the warm start (it is a cover too).
    if let Some(w) = warm {
        if w.len() < chosen.len() {
            chosen = w.to_vec();
        }
    }
    chosen.sort_unstable();
    let ub = chosen.len();
    let optimal = lower >= ub;
    let gap = Some(if optimal || ub == 0 {
        0.0
    } else {
        (ub - lower) as f64 / ub as f64
    });
    let note = (!solver_used).then(|| {
        format!(
            "proven by the set-covering reductions and a Lagrangian bound, no MILP solver \
             needed: {} essential sites, {} demand rows × {} sites left in {} independent \
             groups (the largest {} × {}), lower bound {}",
            red.essential.len(),
            red.rows.len(),
            red.cols.len(),
            parts.len(),
            largest.0,
            largest.1,
            lower
        )
    });
    let note = if optimal {
        note
    } else {
        note.map(|n| n.replace("proven by", "bounded by"))
    };
    Ok(Some((chosen, optimal, gap, note)))
}

#[cfg(test)]
mod tests {
    use super::super::lagrangian::Steps;
    use super::super::reduce::covers;
    use super::*;
    use crate::milp::ExactSolver;
    use crate::select::Model;

    #[test]
    fn the_solver_path_proves_what_the_bound_leaves_open() {
        // Odd cycles with chords: a weak start (every column) and no subgradient step
        // leave the incumbent unproven, so the MILP must find and prove the optimum.
        for n in [5usize, 7, 9, 11] {
            let rows: Vec<Vec<u32>> = (0..n as u32)
                .map(|i| vec![i, (i + 1) % n as u32])
                .chain([vec![0, (n / 2) as u32]])
                .collect();
            let opt = (0u32..1 << n)
                .filter(|&m| {
                    covers(
                        &rows,
                        &(0..n).filter(|&j| m >> j & 1 == 1).collect::<Vec<_>>(),
                    )
                })
                .map(u32::count_ones)
                .min()
                .unwrap() as usize;
            let weak = Steps {
                mu: 2.0,
                stall: 60,
                iters: 0,
            };
            let b = cover_bound(&rows, n, Some((0..n).collect()), weak);
            assert!(!b.proven(), "n {n}: the weak bound proves nothing");
            let mut params = SiteParams::new(Model::Lscp);
            params.solver = ExactSolver::Microlp;
            let g = milp_group(&rows, n, &b, &params, 30.0).unwrap();
            assert!(g.solver_used);
            assert_eq!(g.cover.len(), opt, "n {n}");
            assert_eq!(g.lower, opt, "n {n}: proven by the solver");
            assert!(covers(&rows, &g.cover));
        }
    }
}
