//! The entry point: each model's heuristic, then its exact path when asked for, and the
//! report of the chosen sites.

use super::exact::{Heur, Outcome};
use super::mclp::Mclp;
use super::params::{Model, SiteParams, SiteSolution};
use super::setup::{nearest_open, need_radius, Setup};
use super::{lscp, pcenter, pmedian};
use crate::error::PlanError;
use crate::milp::ExactSolver;
use crate::problem::Problem;

/// Solve a site-selection problem. See the module documentation.
pub fn solve(prob: &Problem, params: &SiteParams) -> Result<SiteSolution, PlanError> {
    let s = Setup::new(prob, params)?;
    let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
    let ones = vec![1.0; prob.n_demand()];
    let outcome: Outcome = match params.model {
        Model::Mclp => {
            let p = s.need_p(params)?;
            let r = need_radius(params)?;
            let mclp = Mclp {
                prob,
                s: &s,
                w: &w,
                r,
                p,
            };
            let h = mclp.heuristic();
            if !params.exact {
                h.outcome()
            } else if matches!(params.solver, ExactSolver::Microlp | ExactSolver::Auto) {
                // The default exact mode: no MILP solver needed (the own branch and
                // bound proves what microlp cannot, and needs no installed program).
                let ex = mclp.branch_and_bound(&h.sites, params);
                h.or_exact(params, ex)
            } else {
                let ex = mclp.exact(&h.sites, params, true);
                h.or_exact(params, ex)
            }
        }
        Model::Lscp => {
            let r = need_radius(params)?;
            s.check_coverable(prob, r)?;
            let h = Heur::unproven(lscp::heuristic(prob, &s, r));
            if params.exact {
                let ex = lscp::exact(prob, &s, r, Some(&h.sites), params);
                h.or_exact(params, ex)
            } else {
                h.outcome()
            }
        }
        Model::PMedian => {
            let p = s.need_p(params)?;
            let h = Heur::unproven(pmedian::heuristic(prob, &s, &w, p));
            if params.exact {
                let ex = pmedian::exact(prob, &s, &w, p, &h.sites, params);
                h.or_exact(params, ex)
            } else {
                h.outcome()
            }
        }
        Model::PCenter => {
            let p = s.need_p(params)?;
            s.check_reachable(prob)?;
            let h = Heur::unproven(pcenter::heuristic(prob, &s, &ones, p));
            if params.exact {
                let ex = pcenter::exact(prob, &s, p, &h.sites, params);
                h.or_exact(params, ex)
            } else {
                h.outcome()
            }
        }
    };
    Ok(report(prob, params, &s, outcome))
}

/// The solution of the outcome: the open sites, the objective and what they cover.
fn report(prob: &Problem, params: &SiteParams, s: &Setup, outcome: Outcome) -> SiteSolution {
    let (mut new, optimal, gap, note, method) = outcome;
    new.sort_unstable();
    let near = nearest_open(prob, &s.open_with(prob, &new));
    let radius = params.radius_m;
    let total: f64 = prob.total_weight();
    let mut covered = 0.0;
    let mut uncovered = Vec::new();
    let mut wsum = 0.0;
    let mut wd = 0.0;
    let mut maxd: Option<f64> = None;
    for (i, nr) in near.iter().enumerate() {
        let wi = prob.demand()[i].weight;
        match nr {
            Some((_, d)) => {
                wd += wi * d;
                wsum += wi;
                maxd = Some(maxd.map_or(*d, |m: f64| m.max(*d)));
                if radius.is_none_or(|r| *d <= r) {
                    covered += wi;
                } else {
                    uncovered.push(i);
                }
            }
            None => uncovered.push(i),
        }
    }
    let objective = match params.model {
        Model::Mclp => covered,
        Model::Lscp => new.len() as f64,
        Model::PMedian => wd,
        Model::PCenter => maxd.unwrap_or(0.0),
    };
    let name = |j: &usize| prob.sites()[*j].id.clone();
    let n = prob.n_demand();
    SiteSolution {
        model: params.model,
        sites: s.fixed.iter().chain(&new).map(name).collect(),
        new_sites: new.iter().map(name).collect(),
        fixed_sites: s.fixed.iter().map(name).collect(),
        objective,
        objective_name: match params.model {
            Model::Mclp => "covered demand",
            Model::Lscp => "new sites",
            Model::PMedian => "total weighted distance",
            Model::PCenter => "maximum distance",
        }
        .into(),
        covered_demand: covered,
        total_demand: total,
        covered_share: if total > 0.0 { covered / total } else { 0.0 },
        uncovered_points: uncovered.len(),
        covered_points_pct: (1.0 - uncovered.len() as f64 / n as f64) * 100.0,
        uncovered_ids: uncovered
            .iter()
            .take(1000)
            .map(|&i| prob.demand()[i].id.clone())
            .collect(),
        mean_distance_m: (wsum > 0.0).then(|| wd / wsum),
        max_distance_m: maxd,
        optimal,
        gap,
        method: method.into(),
        // An exact answer with a note was proven without the MILP solver.
        solver: (method == "exact" && note.is_none())
            .then(|| params.solver.resolve().as_str().to_string()),
        note,
    }
}
