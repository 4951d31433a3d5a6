//! The town's site-selection problem.

use yizhan_core::{Candidate, Dataset};

use super::defaults::MAX_DENSE_PAIRS;
use crate::error::PlanError;
use crate::network::NetworkCosts;
use crate::problem::{Problem, TownSites};
use crate::select::{Model, SiteParams};

/// The site-selection problem of `data`'s hotspots against `cands` (after the worker
/// stations, kept open as fixed sites when `keep_existing`; their ids are added to
/// `params.fixed`). MCLP and LSCP need `params.radius_m` and keep only pairs within
/// it; p-median and p-center build the complete matrix up to [`MAX_DENSE_PAIRS`]
/// pairs, and beyond that need a radius ([`PlanError::TooManyPairs`]).
pub fn town_problem(
    data: &Dataset,
    cands: &[Candidate],
    keep_existing: bool,
    params: &mut SiteParams,
) -> Result<Problem, PlanError> {
    let town = TownSites::new(data, cands, keep_existing, params.hours);
    let max_m = match params.model {
        Model::Mclp | Model::Lscp => Some(params.radius_m.ok_or(PlanError::MissingRadius {
            model: params.model.as_str(),
        })?),
        _ if town.pairs() <= MAX_DENSE_PAIRS => None,
        _ => Some(params.radius_m.ok_or(PlanError::TooManyPairs {
            pairs: town.pairs(),
            max: MAX_DENSE_PAIRS,
        })?),
    };
    params.fixed.extend(town.fixed.iter().cloned());
    town.into_problem(max_m)
}

/// [`town_problem`] on the street network of `net`: every model's costs are the
/// network's (travel seconds for a minutes cutoff, network metres for a metres
/// cutoff), kept within the network cutoff, which is also the service radius of MCLP
/// and LSCP (`params.radius_m` is set to it, in the same unit). Straight lines when
/// `net` is `None`.
pub fn town_problem_on(
    data: &Dataset,
    cands: &[Candidate],
    keep_existing: bool,
    params: &mut SiteParams,
    net: Option<&NetworkCosts<'_>>,
) -> Result<Problem, PlanError> {
    let Some(costs) = net else {
        return town_problem(data, cands, keep_existing, params);
    };
    let town = TownSites::new(data, cands, keep_existing, params.hours);
    params.radius_m = Some(costs.cutoff);
    params.fixed.extend(town.fixed.iter().cloned());
    town.into_network_problem(costs)
}
