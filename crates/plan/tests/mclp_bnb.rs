//! The default exact MCLP (Lagrangian branch and bound with spatial decomposition, no
//! MILP solver) against brute-force enumeration of all p-subsets, on seeded instances
//! whose demand lies in far-apart clusters, so that the candidates fall into several
//! independent components; with fixed and excluded sites, integral and fractional
//! weights, and p up to nearly every candidate.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
mod common;

use common::{
    assert_proven_optimum, best_cover, free_sites, instance_of, mclp_params, weights, Inst,
};
use yizhan_plan::solve;

/// `clusters` groups of demand and sites, 20 km apart (farther than twice the radius).
fn instance(seed: u64, clusters: usize, n: usize, m: usize, integral: bool) -> Inst {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let near = |rng: &mut ChaCha8Rng, c: usize, spread: f64| {
        (
            20_000.0 * c as f64 + rng.random_range(-spread..spread),
            rng.random_range(-spread..spread),
        )
    };
    let mut pts = Vec::with_capacity(n);
    while pts.len() < n {
        let c = rng.random_range(0..clusters);
        let p = near(&mut rng, c, 1800.0);
        for _ in 0..rng.random_range(1..4) {
            if pts.len() < n {
                pts.push(p);
            }
        }
    }
    let sites: Vec<(f64, f64)> = (0..m)
        .map(|j| near(&mut rng, j % clusters, 2000.0))
        .collect();
    let w = weights(&mut rng, n, integral);
    instance_of(&pts, &sites, w)
}

#[test]
fn exact_mclp_on_several_components_agrees_with_enumeration() {
    let mut cases = 0;
    for seed in 0..16u64 {
        let integral = seed % 2 == 0;
        let clusters = 2 + seed as usize % 3;
        let (n, m) = (45 + (seed as usize % 3) * 10, 10 + seed as usize % 3);
        let inst = instance(seed, clusters, n, m, integral);
        let fixed: Vec<usize> = if seed % 3 == 0 { vec![1] } else { vec![] };
        let excluded: Vec<usize> = if seed % 4 == 1 {
            vec![m - 1, 2]
        } else {
            vec![]
        };
        let free = free_sites(m, &fixed, &excluded);
        let r = 1100.0 + 100.0 * (seed % 4) as f64;
        for p in (1..=4usize).chain([free.len() - 1, free.len()]) {
            let best = best_cover(&inst, &free, &fixed, p, r);
            let mut sp = mclp_params(p, r, &fixed, &excluded);
            sp.exact = true;
            let ctx = format!("seed {seed} clusters {clusters} n {n} m {m} p {p}");
            let e = solve(&inst.prob, &sp).unwrap();
            assert_eq!(e.solver, None, "{ctx}: no MILP solver is used");
            assert_proven_optimum(&inst, &e, p, r, &fixed, &excluded, best, &ctx);
            cases += 1;
        }
    }
    assert_eq!(cases, 16 * 6);
}

/// With a time limit too short to prove anything on a larger instance, the answer is
/// still a valid p-set, and `optimal` and `gap` stay honest: never optimal unless the
/// value is the optimum (checked here against a long run).
#[test]
fn exact_mclp_reports_an_honest_gap() {
    let inst = instance(99, 3, 400, 60, true);
    let mut sp = mclp_params(6, 1300.0, &[], &[]);
    sp.exact = true;
    let full = solve(&inst.prob, &sp).unwrap();
    assert!(full.optimal, "{:?}", full.note);
    sp.time_limit_s = 1e-9;
    let quick = solve(&inst.prob, &sp).unwrap();
    assert_eq!(quick.new_sites.len(), 6);
    assert!(quick.objective <= full.objective + 1e-9);
    if quick.optimal {
        assert_eq!(quick.objective, full.objective);
    } else {
        let g = quick.gap.expect("a gap when not optimal");
        assert!(g > 0.0 && g <= 1.0, "gap {g}");
        // The reported bound is an upper bound of the optimum.
        assert!(full.objective <= quick.objective / (1.0 - g) + 1e-6);
    }
}
