//! The p-center problem (Hakimi 1964, 1965): its heuristic (bisection on the radius
//! with the MCLP heuristic as the covering test, then swaps) and its exact path (a
//! sequence of set-covering problems, Minieka 1970).

use rayon::prelude::*;

use super::cover::{Cover, Within};
use super::exact::Exact;
use super::mclp::Mclp;
use super::params::SiteParams;
use super::setup::{nearest_open, worst_cost, Setup};
use super::{lscp, pmedian};
use crate::error::PlanError;
use crate::problem::Problem;

/// The distinct costs in `[lo, hi)`, ascending: the radii a p-center answer can have.
fn radii(prob: &Problem, lo: f64, hi: f64) -> Vec<f64> {
    let mut radii: Vec<f64> = (0..prob.n_demand())
        .flat_map(|i| prob.row(i).1.iter().copied())
        .filter(|&c| c >= lo && c < hi)
        .collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    radii
}

/// p-center heuristic: bisection over the distinct costs, with the MCLP heuristic (unit
/// weights) deciding whether `p` new sites can cover every point at that radius.
pub(super) fn heuristic(prob: &Problem, s: &Setup, ones: &[f64], p: usize) -> Vec<usize> {
    let n = prob.n_demand();
    // Lower bound: every point's nearest allowed site.
    let lb = (0..n)
        .map(|i| {
            let (st, c) = prob.row(i);
            st.iter()
                .zip(c)
                .find(|(j, _)| s.allowed[**j as usize])
                .map_or(f64::INFINITY, |x| *x.1)
        })
        .fold(0.0f64, f64::max);
    // Upper bound: the p-median heuristic's worst distance.
    let start = pmedian::heuristic(prob, s, ones, p);
    let ub = worst_cost(prob, &s.open_with(prob, &start));
    let mut best = start;
    let radii = radii(prob, lb, ub);
    let (mut lo, mut hi) = (0usize, radii.len());
    // Invariant: radii[hi..] feasible (ub feasible), radii[..lo] not known feasible.
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = radii[mid];
        if let Some(sites) = cover_test(prob, s, ones, r, p) {
            best = sites;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    polish(prob, s, best)
}

/// Best-improvement swaps on (worst distance, total distance), while the neighbourhood
/// is small enough to evaluate in full.
fn polish(prob: &Problem, s: &Setup, mut chosen: Vec<usize>) -> Vec<usize> {
    let n = prob.n_demand();
    if chosen.is_empty() || chosen.len() * s.free.len() * n > 20_000_000 {
        return chosen;
    }
    let eval = |sites: &[usize]| -> (f64, f64) {
        let near = nearest_open(prob, &s.open_with(prob, sites));
        let mut worst = 0.0f64;
        let mut sum = 0.0;
        for x in near {
            let d = x.map_or(f64::INFINITY, |y| y.1);
            worst = worst.max(d);
            sum += d;
        }
        (worst, sum)
    };
    let mut cur = eval(&chosen);
    for _ in 0..(20 * chosen.len()) {
        let mut best: Option<((f64, f64), usize, usize)> = None;
        for pos in 0..chosen.len() {
            for &c in &s.free {
                if chosen.contains(&c) {
                    continue;
                }
                let mut t = chosen.clone();
                t[pos] = c;
                let v = eval(&t);
                let better = |a: (f64, f64), b: (f64, f64)| {
                    a.0 < b.0 - 1e-9 || (a.0 <= b.0 + 1e-9 && a.1 < b.1 - 1e-9)
                };
                if better(v, best.map_or(cur, |b| b.0)) {
                    best = Some((v, pos, c));
                }
            }
        }
        match best {
            Some((v, pos, c)) => {
                chosen[pos] = c;
                cur = v;
            }
            None => break,
        }
    }
    chosen
}

/// Can `p` new sites cover every point within `r`? The MCLP heuristic, restarted with
/// each site that could cover a point it left uncovered forced open.
fn cover_test(prob: &Problem, s: &Setup, ones: &[f64], r: f64, p: usize) -> Option<Vec<usize>> {
    let cov = Within { prob, r, w: ones };
    let covers_all =
        |s: &Setup, sites: &[usize]| cov.covered(s.fixed.iter().chain(sites)).iter().all(|&x| x);
    let h = Mclp {
        prob,
        s,
        w: ones,
        r,
        p,
    }
    .heuristic();
    if covers_all(s, &h.sites) {
        return Some(h.sites);
    }
    if p == 0 {
        return None;
    }
    let i = cov
        .covered(s.fixed.iter().chain(&h.sites))
        .iter()
        .position(|c| !c)?;
    let forced: Vec<usize> = cov
        .row(i)
        .iter()
        .map(|&j| j as usize)
        .filter(|&j| s.allowed[j] && !s.fixed.contains(&j))
        .take(32)
        .collect();
    forced.into_par_iter().find_map_first(|j| {
        let sub = s.with_fixed(j);
        let mclp = Mclp {
            prob,
            s: &sub,
            w: ones,
            r,
            p: p - 1,
        };
        let h = mclp.heuristic();
        covers_all(&sub, &h.sites).then(|| {
            let mut v = h.sites;
            v.push(j);
            v
        })
    })
}

/// p-center, exactly: the smallest radius among the distinct costs at which the exact
/// LSCP needs at most `p` new sites (Minieka 1970), found by bisection.
pub(super) fn exact(
    prob: &Problem,
    s: &Setup,
    p: usize,
    warm: &[usize],
    params: &SiteParams,
) -> Exact {
    let ub = worst_cost(prob, &s.open_with(prob, warm));
    let radii = radii(prob, f64::NEG_INFINITY, ub);
    let mut best = warm.to_vec();
    let mut all_optimal = true;
    let (mut lo, mut hi) = (0usize, radii.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = radii[mid];
        let res = match lscp::exact(prob, s, r, None, params) {
            Ok(x) => x,
            Err(PlanError::Uncoverable { .. }) => {
                lo = mid + 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some((sites, optimal, _, _)) = res else {
            return Ok(None);
        };
        if sites.len() <= p {
            best = sites;
            // Pad with unused candidates to exactly p sites (keeps the answer a p-set).
            hi = mid;
            if !optimal {
                all_optimal = false;
            }
        } else if optimal {
            lo = mid + 1;
        } else {
            all_optimal = false;
            lo = mid + 1;
        }
    }
    s.pad_to_p(prob, &mut best, p);
    Ok(Some((
        best,
        all_optimal,
        if all_optimal { Some(0.0) } else { None },
        None,
    )))
}
