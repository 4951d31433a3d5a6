//! The location set covering problem (Toregas, Swain, ReVelle & Bergman 1971): its
//! heuristic (greedy set cover, then the MCLP search with one site fewer) and its
//! integer program.

use super::cover::{Cover, Within};
use super::exact::{open_vars, solve, Exact};
use super::mclp::Mclp;
use super::params::SiteParams;
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

/// LSCP (Toregas et al. 1971): min Σ yⱼ, Σ_{j ∈ Nᵢ} yⱼ ≥ 1 for every demand point not
/// covered by a fixed site; warm-started with `warm` when given.
pub(super) fn exact(
    prob: &Problem,
    s: &Setup,
    r: f64,
    warm: Option<&[usize]>,
    params: &SiteParams,
) -> Exact {
    if s.free.len() > params.max_exact_vars {
        return Ok(None);
    }
    let ones = vec![1.0; prob.n_demand()];
    let fixed_cov = Within { prob, r, w: &ones }.covered(&s.fixed);
    let warm_open = warm.map(|sites| s.open_with(prob, sites));
    let mut lp = Milp::default();
    let (yv, ys) = open_vars(&mut lp, &s.free, warm_open.as_deref(), 1.0, prob.n_sites());
    for (i, &done) in fixed_cov.iter().enumerate() {
        if done {
            continue;
        }
        let t: Vec<(usize, f64)> = prob
            .row_within(i, r)
            .0
            .iter()
            .filter(|&&j| yv[j as usize] != usize::MAX)
            .map(|&j| (yv[j as usize], 1.0))
            .collect();
        if t.is_empty() {
            return Err(PlanError::Uncoverable {
                radius_m: r,
                count: 1,
                examples: prob.demand()[i].id.clone(),
                ids: vec![prob.demand()[i].id.clone()],
            });
        }
        lp.row(t, Cmp::Ge, 1.0);
    }
    solve(&lp, &ys, params)
}
