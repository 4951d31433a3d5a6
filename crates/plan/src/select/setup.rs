//! Which sites are fixed, free and excluded, the checks every model makes of its
//! parameters and its instance, and the evaluation of a set of open sites.

use rayon::prelude::*;

use super::params::{Model, SiteParams};
use crate::error::{Param, PlanError};
use crate::problem::Problem;

/// Which sites are fixed, excluded and free to choose.
pub(super) struct Setup {
    /// Sites open whatever happens, in problem order.
    pub fixed: Vec<usize>,
    /// Sites that may be chosen, in problem order.
    pub free: Vec<usize>,
    /// Per site: not excluded.
    pub allowed: Vec<bool>,
}

impl Setup {
    /// Reads and checks the sites and limits of `params` against `prob`.
    pub fn new(prob: &Problem, params: &SiteParams) -> Result<Self, PlanError> {
        let m = prob.n_sites();
        if prob.n_demand() == 0 {
            return Err(PlanError::Empty {
                what: "demand points",
            });
        }
        if m == 0 {
            return Err(PlanError::Empty {
                what: "candidate sites",
            });
        }
        let lookup = |id: &String| {
            prob.site_index(id).ok_or_else(|| PlanError::UnknownId {
                what: "site",
                id: id.clone(),
            })
        };
        let mut is_fixed = vec![false; m];
        let mut allowed = vec![true; m];
        for id in &params.fixed {
            is_fixed[lookup(id)?] = true;
        }
        for id in &params.excluded {
            let j = lookup(id)?;
            if is_fixed[j] {
                return Err(PlanError::FixedAndExcluded { id: id.clone() });
            }
            allowed[j] = false;
        }
        let fixed: Vec<usize> = (0..m).filter(|&j| is_fixed[j]).collect();
        let free: Vec<usize> = (0..m).filter(|&j| allowed[j] && !is_fixed[j]).collect();
        if let Some(r) = params.radius_m {
            Param::Radius.non_negative(r, "metres")?;
        }
        if params.time_limit_s.is_nan() || params.time_limit_s <= 0.0 {
            return Err(PlanError::BadParameter {
                param: Param::TimeLimit,
                unit: "seconds",
                value: params.time_limit_s,
            });
        }
        Ok(Setup {
            fixed,
            free,
            allowed,
        })
    }

    /// The same sites with `j` fixed as well (no longer free).
    pub fn with_fixed(&self, j: usize) -> Self {
        Setup {
            fixed: self.fixed.iter().copied().chain([j]).collect(),
            free: self.free.iter().copied().filter(|&x| x != j).collect(),
            allowed: self.allowed.clone(),
        }
    }

    /// The same fixed sites with only `free` free.
    pub fn with_free(&self, free: Vec<usize>) -> Self {
        Setup {
            fixed: self.fixed.clone(),
            free,
            allowed: self.allowed.clone(),
        }
    }

    /// The open mask (one flag per site of `prob`) of the fixed sites and `sites`.
    pub fn open_with(&self, prob: &Problem, sites: &[usize]) -> Vec<bool> {
        let mut open = vec![false; prob.n_sites()];
        for &j in self.fixed.iter().chain(sites) {
            open[j] = true;
        }
        open
    }

    /// Fills `chosen` up to `p` sites with the first free sites not in it: fewer can be
    /// optimal (nothing left to cover, or a tie), and the answer still names p.
    pub fn pad_to_p(&self, prob: &Problem, chosen: &mut Vec<usize>, p: usize) {
        let mut open = self.open_with(prob, chosen);
        for &j in &self.free {
            if chosen.len() >= p {
                break;
            }
            if !open[j] {
                open[j] = true;
                chosen.push(j);
            }
        }
    }

    /// The `p` of `params`, which the model needs, checked against the free sites.
    pub fn need_p(&self, params: &SiteParams) -> Result<usize, PlanError> {
        let p = params.p.ok_or(PlanError::MissingP {
            model: params.model.as_str(),
        })?;
        if p > self.free.len() {
            return Err(PlanError::TooManySites {
                requested: p,
                available: self.free.len(),
            });
        }
        if p == 0 && self.fixed.is_empty() && params.model != Model::Mclp {
            return Err(PlanError::MissingP {
                model: params.model.as_str(),
            });
        }
        Ok(p)
    }

    /// Every demand point has an allowed site within `r`.
    pub fn check_coverable(&self, prob: &Problem, r: f64) -> Result<(), PlanError> {
        let bad: Vec<String> = (0..prob.n_demand())
            .filter(|&i| !self.any_allowed(prob.row_within(i, r).0))
            .map(|i| prob.demand()[i].id.clone())
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(PlanError::Uncoverable {
                radius_m: r,
                count: bad.len(),
                examples: bad.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                ids: bad,
            })
        }
    }

    /// Every demand point has an allowed site at some cost.
    pub fn check_reachable(&self, prob: &Problem) -> Result<(), PlanError> {
        for i in 0..prob.n_demand() {
            if !self.any_allowed(prob.row(i).0) {
                return Err(PlanError::Unreachable {
                    id: prob.demand()[i].id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Whether some site of `sites` is allowed.
    pub fn any_allowed(&self, sites: &[u32]) -> bool {
        sites.iter().any(|&j| self.allowed[j as usize])
    }
}

/// The radius of `params`, which the model needs.
pub(super) fn need_radius(params: &SiteParams) -> Result<f64, PlanError> {
    params.radius_m.ok_or(PlanError::MissingRadius {
        model: params.model.as_str(),
    })
}

/// Evaluate an open set: nearest open site of every demand point.
pub(super) fn nearest_open(prob: &Problem, open: &[bool]) -> Vec<Option<(usize, f64)>> {
    (0..prob.n_demand())
        .into_par_iter()
        .map(|i| {
            let (s, c) = prob.row(i);
            s.iter()
                .zip(c)
                .find(|(j, _)| open[**j as usize])
                .map(|(j, c)| (*j as usize, *c))
        })
        .collect()
}

/// The worst cost from a demand point to its nearest open site (infinite when one has
/// none).
pub(super) fn worst_cost(prob: &Problem, open: &[bool]) -> f64 {
    nearest_open(prob, open)
        .iter()
        .map(|x| x.map_or(f64::INFINITY, |y| y.1))
        .fold(0.0f64, f64::max)
}
