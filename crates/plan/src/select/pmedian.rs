//! The p-median problem (Hakimi 1964; ReVelle & Swain 1970 for the integer program):
//! its heuristic (greedy addition, then Teitz & Bart interchange with Whitaker's 1983
//! fast evaluation, restarted from shaken answers) and its integer program.

use rayon::prelude::*;

use super::exact::{open_vars, solve_with_p, Exact};
use super::params::SiteParams;
use super::search::{tol, Key};
use super::setup::Setup;
use super::shaker::Shaker;
use crate::milp::{Cmp, Milp};
use crate::problem::Problem;

/// Distances to the nearest and second-nearest open sites (penalty when none).
fn two_nearest(prob: &Problem, open: &[bool], pen: f64) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let v: Vec<(usize, f64, f64)> = (0..prob.n_demand())
        .into_par_iter()
        .map(|i| {
            let (s, c) = prob.row(i);
            let mut it = s.iter().zip(c).filter(|(j, _)| open[**j as usize]);
            match (it.next(), it.next()) {
                (Some((j1, d1)), Some((_, d2))) => (*j1 as usize, *d1, *d2),
                (Some((j1, d1)), None) => (*j1 as usize, *d1, pen),
                _ => (usize::MAX, pen, pen),
            }
        })
        .collect();
    let mut c1 = Vec::with_capacity(v.len());
    let mut d1 = Vec::with_capacity(v.len());
    let mut d2 = Vec::with_capacity(v.len());
    for (a, b, c) in v {
        c1.push(a);
        d1.push(b);
        d2.push(c);
    }
    (c1, d1, d2)
}

/// The cost of leaving a demand point unassigned.
fn penalty(prob: &Problem) -> f64 {
    (prob.max_cost() * 100.0).max(1e9)
}

/// p-median heuristic: greedy addition, then Teitz & Bart interchange evaluated with
/// Whitaker's fast interchange (best improvement per pass).
pub(super) fn heuristic(prob: &Problem, s: &Setup, w: &[f64], p: usize) -> Vec<usize> {
    let pen = penalty(prob);
    let mut open = s.open_with(prob, &[]);
    let (_, mut d1, _) = two_nearest(prob, &open, pen);
    let mut chosen: Vec<usize> = Vec::with_capacity(p);
    for _ in 0..p {
        let best = s
            .free
            .par_iter()
            .filter(|&&j| !open[j])
            .map(|&j| {
                let (d, c) = prob.col(j);
                let red: f64 = d
                    .iter()
                    .zip(c)
                    .map(|(&i, &c)| w[i as usize] * (d1[i as usize] - c).max(0.0))
                    .sum();
                Key(red, j)
            })
            .max();
        let Some(Key(_, j)) = best else { break };
        chosen.push(j);
        open[j] = true;
        let (d, c) = prob.col(j);
        for (&i, &c) in d.iter().zip(c) {
            let i = i as usize;
            d1[i] = d1[i].min(c);
        }
    }
    let cost_of = |sites: &[usize]| -> f64 {
        let (_, d1, _) = two_nearest(prob, &s.open_with(prob, sites), pen);
        d1.iter().zip(w).map(|(d, w)| d * w).sum()
    };
    let mut chosen = swap(prob, s, w, chosen);
    let mut best = cost_of(&chosen);
    let mut rng = Shaker::new(prob, s, p);
    while let Some(start) = rng.shake(&chosen, &s.free) {
        let c2 = swap(prob, s, w, start);
        let v = cost_of(&c2);
        if v < best - tol(best) {
            (chosen, best) = (c2, v);
        }
    }
    chosen
}

/// Teitz & Bart interchange with Whitaker's fast evaluation, best improvement per pass.
fn swap(prob: &Problem, s: &Setup, w: &[f64], mut chosen: Vec<usize>) -> Vec<usize> {
    let m = prob.n_sites();
    let p = chosen.len();
    let pen = penalty(prob);
    let mut open = s.open_with(prob, &chosen);
    let total: f64 = w.iter().sum::<f64>() * prob.max_cost().max(1.0);
    let eps = tol(total);
    for _ in 0..(100 * p.max(1)) {
        let (c1, d1, d2) = two_nearest(prob, &open, pen);
        // Position of each chosen site.
        let mut pos = vec![usize::MAX; m];
        for (k, &j) in chosen.iter().enumerate() {
            pos[j] = k;
        }
        let mut base = vec![0.0f64; chosen.len()];
        for i in 0..prob.n_demand() {
            if c1[i] != usize::MAX && pos[c1[i]] != usize::MAX {
                base[pos[c1[i]]] += w[i] * (d2[i] - d1[i]);
            }
        }
        let best = s
            .free
            .par_iter()
            .filter(|&&j| !open[j])
            .map(|&c| {
                let mut gain = 0.0;
                let mut adj = vec![0.0f64; chosen.len()];
                let (d, cs) = prob.col(c);
                for (&i, &dic) in d.iter().zip(cs) {
                    let i = i as usize;
                    let r = if c1[i] == usize::MAX {
                        usize::MAX
                    } else {
                        pos[c1[i]]
                    };
                    if dic < d1[i] {
                        gain += w[i] * (d1[i] - dic);
                        if r != usize::MAX {
                            adj[r] -= w[i] * (d2[i] - d1[i]);
                        }
                    } else if dic < d2[i] && r != usize::MAX {
                        adj[r] += w[i] * (dic - d2[i]);
                    }
                }
                let mut b = (f64::NEG_INFINITY, usize::MAX, c);
                for k in 0..chosen.len() {
                    let profit = gain - (base[k] + adj[k]);
                    if profit > b.0 {
                        b = (profit, k, c);
                    }
                }
                b
            })
            .reduce(
                || (f64::NEG_INFINITY, usize::MAX, usize::MAX),
                |a, b| {
                    if b.0 > a.0 || (b.0 == a.0 && b.2 < a.2) {
                        b
                    } else {
                        a
                    }
                },
            );
        if best.1 == usize::MAX || best.0 <= eps {
            break;
        }
        open[chosen[best.1]] = false;
        chosen[best.1] = best.2;
        open[best.2] = true;
    }
    chosen
}

/// p-median (ReVelle & Swain 1970): min Σ wᵢ dᵢⱼ xᵢⱼ, Σⱼ xᵢⱼ = 1, xᵢⱼ ≤ yⱼ, Σ yⱼ = p.
/// Pairs farther than a demand point's nearest fixed site are left out (never better).
pub(super) fn exact(
    prob: &Problem,
    s: &Setup,
    w: &[f64],
    p: usize,
    warm: &[usize],
    params: &SiteParams,
) -> Exact {
    let n = prob.n_demand();
    let m = prob.n_sites();
    let pen = penalty(prob);
    let mut is_fixed = vec![false; m];
    for &j in &s.fixed {
        is_fixed[j] = true;
    }
    // Candidate pairs per demand point.
    let mut pairs: Vec<Vec<(usize, f64)>> = Vec::with_capacity(n);
    let mut count = s.free.len();
    for i in 0..n {
        let (st, c) = prob.row(i);
        let mut v = Vec::new();
        for (&j, &d) in st.iter().zip(c) {
            let j = j as usize;
            if !s.allowed[j] {
                continue;
            }
            v.push((j, d));
            if is_fixed[j] {
                break;
            }
        }
        count += v.len() + 1;
        pairs.push(v);
    }
    if count > params.max_exact_vars {
        return Ok(None);
    }
    let warm_open = s.open_with(prob, warm);
    let mut lp = Milp::default();
    let (yv, ys) = open_vars(&mut lp, &s.free, Some(&warm_open), 0.0, m);
    for (i, v) in pairs.iter().enumerate() {
        let mut assign: Vec<(usize, f64)> = Vec::with_capacity(v.len() + 1);
        let complete = v.last().is_some_and(|(j, _)| is_fixed[*j]) || v.len() == m;
        for &(j, d) in v {
            let x = lp.var(0.0, 1.0, false, w[i] * d, None);
            assign.push((x, 1.0));
            if !is_fixed[j] {
                lp.row(vec![(x, 1.0), (yv[j], -1.0)], Cmp::Le, 0.0);
            }
        }
        if !complete {
            let u = lp.var(0.0, 1.0, false, w[i] * pen, None);
            assign.push((u, 1.0));
        }
        lp.row(assign, Cmp::Eq, 1.0);
    }
    solve_with_p(lp, &ys, p, params)
}
