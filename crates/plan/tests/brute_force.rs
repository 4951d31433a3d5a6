//! Every model, heuristic and exact, against brute-force enumeration of all p-subsets
//! on small seeded instances (with fixed and excluded sites).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
mod common;

use common::{exact_solvers, free_sites, instance_of, site_idx, subsets, Inst};
use yizhan_plan::{solve, DemandPoint, ExactSolver, Model, Problem, SiteInfo, SiteParams};

fn instance(seed: u64, n: usize, m: usize) -> Inst {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.random_range(0.0..5000.0), rng.random_range(0.0..5000.0)))
        .collect();
    let sites: Vec<(f64, f64)> = (0..m)
        .map(|_| (rng.random_range(0.0..5000.0), rng.random_range(0.0..5000.0)))
        .collect();
    let w: Vec<f64> = (0..n).map(|_| rng.random_range(1..20) as f64).collect();
    instance_of(&pts, &sites, w)
}

fn nearest(inst: &Inst, open: &[usize], i: usize) -> f64 {
    open.iter()
        .map(|&j| inst.d[i][j])
        .fold(f64::INFINITY, f64::min)
}

fn value(inst: &Inst, model: Model, open: &[usize], r: f64) -> f64 {
    let n = inst.w.len();
    match model {
        Model::Mclp => (0..n)
            .filter(|&i| nearest(inst, open, i) <= r)
            .map(|i| inst.w[i])
            .sum(),
        Model::PMedian => (0..n).map(|i| inst.w[i] * nearest(inst, open, i)).sum(),
        Model::PCenter => (0..n).map(|i| nearest(inst, open, i)).fold(0.0, f64::max),
        _ => unreachable!(),
    }
}

#[test]
fn p_models_agree_with_enumeration() {
    // The heuristic, then the exact mode with each solver.
    let runs: Vec<(bool, ExactSolver)> = std::iter::once((false, ExactSolver::Auto))
        .chain(exact_solvers().into_iter().map(|s| (true, s)))
        .collect();
    for seed in 0..12u64 {
        let (n, m) = (14 + (seed as usize % 5) * 3, 7 + seed as usize % 3);
        let inst = instance(seed, n, m);
        let fixed: Vec<usize> = if seed % 3 == 0 { vec![0] } else { vec![] };
        let excluded: Vec<usize> = if seed % 4 == 1 { vec![m - 1] } else { vec![] };
        let free = free_sites(m, &fixed, &excluded);
        let r = 1500.0;
        for p in 1..=3usize {
            for model in [Model::Mclp, Model::PMedian, Model::PCenter] {
                let best = subsets(&free, p)
                    .into_iter()
                    .map(|s| {
                        let open: Vec<usize> = fixed.iter().chain(&s).copied().collect();
                        value(&inst, model, &open, r)
                    })
                    .fold(
                        if model == Model::Mclp {
                            f64::NEG_INFINITY
                        } else {
                            f64::INFINITY
                        },
                        |a, b| {
                            if model == Model::Mclp {
                                a.max(b)
                            } else {
                                a.min(b)
                            }
                        },
                    );
                for (exact, solver) in &runs {
                    let (exact, solver) = (*exact, *solver);
                    let mut sp = SiteParams::new(model);
                    sp.p = Some(p);
                    sp.radius_m = Some(r);
                    sp.exact = exact;
                    sp.solver = solver;
                    sp.fixed = fixed.iter().map(|j| format!("s{j}")).collect();
                    sp.excluded = excluded.iter().map(|j| format!("s{j}")).collect();
                    let sol = solve(&inst.prob, &sp).unwrap();
                    let open = site_idx(&sol.sites);
                    assert_eq!(sol.new_sites.len(), p);
                    for j in &excluded {
                        assert!(!open.contains(j));
                    }
                    for j in &fixed {
                        assert!(open.contains(j));
                    }
                    let got = value(&inst, model, &open, r);
                    assert!((got - sol.objective).abs() < 1e-6, "{model} objective");
                    let ctx = format!(
                        "seed {seed} n {n} m {m} p {p} {model} exact {exact} {}",
                        solver.as_str()
                    );
                    if exact {
                        assert!(sol.optimal, "{ctx}");
                        if let Some(used) = &sol.solver {
                            assert_eq!(used, solver.as_str(), "{ctx}");
                        }
                        assert!((got - best).abs() < 1e-6, "{ctx}: {got} vs brute {best}");
                    } else {
                        // The heuristic is never better than the optimum, and on these
                        // small instances it reaches it.
                        assert!((got - best).abs() < 1e-6, "{ctx}: {got} vs brute {best}");
                        if model == Model::Mclp {
                            let g = sol.gap.unwrap();
                            assert!(best <= got / (1.0 - g).max(1e-12) + 1e-6);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn lscp_agrees_with_enumeration() {
    let runs: Vec<(bool, ExactSolver)> = std::iter::once((false, ExactSolver::Auto))
        .chain(exact_solvers().into_iter().map(|s| (true, s)))
        .collect();
    for seed in 0..40u64 {
        // Two sizes: sparse covers (most proven by the reductions alone) and denser ones.
        let (n_demand, r) = if seed < 20 {
            (15, 2200.0)
        } else {
            (40, 1800.0)
        };
        let inst = instance(100 + seed, n_demand, 8);
        let n = inst.w.len();
        let all: Vec<usize> = (0..8).collect();
        let coverable = (0..n).all(|i| all.iter().any(|&j| inst.d[i][j] <= r));
        let mut sp = SiteParams::new(Model::Lscp);
        sp.radius_m = Some(r);
        if !coverable {
            let e = solve(&inst.prob, &sp).unwrap_err();
            assert!(e.to_string().starts_with("infeasible"), "{e}");
            continue;
        }
        let best = (1..=8)
            .find(|&k| {
                subsets(&all, k)
                    .iter()
                    .any(|s| (0..n).all(|i| nearest(&inst, s, i) <= r))
            })
            .unwrap();
        for (exact, solver) in &runs {
            sp.exact = *exact;
            sp.solver = *solver;
            let sol = solve(&inst.prob, &sp).unwrap();
            let ctx = format!("seed {seed} exact {exact} {}", solver.as_str());
            assert_eq!(sol.uncovered_points, 0, "{ctx}");
            assert_eq!(sol.new_sites.len(), best, "{ctx}");
            if *exact {
                assert!(sol.optimal, "{ctx}");
                assert_eq!(sol.gap, Some(0.0), "{ctx}");
                // Either the named solver proved it, or no solver was needed and the
                // note says what proved it.
                match sol.solver.as_deref() {
                    Some(used) => assert_eq!(used, solver.as_str(), "{ctx}"),
                    None => assert!(
                        sol.note
                            .as_deref()
                            .is_some_and(|n| n.starts_with("proven by the set-covering")),
                        "{ctx}: {:?}",
                        sol.note
                    ),
                }
            }
        }
    }
}

#[test]
fn lscp_names_uncoverable_demand() {
    let demand = vec![
        DemandPoint {
            id: "near".into(),
            weight: 1.0,
        },
        DemandPoint {
            id: "far".into(),
            weight: 1.0,
        },
    ];
    let sites = vec![SiteInfo {
        id: "s".into(),
        capacity: None,
    }];
    let prob = Problem::from_dense(demand, sites, &[vec![10.0], vec![9000.0]]).unwrap();
    let mut sp = SiteParams::new(Model::Lscp);
    sp.radius_m = Some(500.0);
    let e = solve(&prob, &sp).unwrap_err();
    assert_eq!(
        e.to_string(),
        "infeasible: 1 demand point(s) have no site within 500 m (e.g. far)"
    );
}

#[test]
fn bad_inputs_are_refused() {
    let inst = instance(7, 10, 5);
    let mut sp = SiteParams::new(Model::Mclp);
    sp.p = Some(2);
    sp.radius_m = Some(-1.0);
    assert!(solve(&inst.prob, &sp)
        .unwrap_err()
        .to_string()
        .contains("radius must be a positive number"));
    sp.radius_m = None;
    assert!(solve(&inst.prob, &sp)
        .unwrap_err()
        .to_string()
        .contains("needs a service radius"));
    sp.radius_m = Some(100.0);
    sp.fixed = vec!["nope".into()];
    assert!(solve(&inst.prob, &sp)
        .unwrap_err()
        .to_string()
        .contains("unknown site id \"nope\""));
    sp.fixed = vec!["s1".into()];
    sp.excluded = vec!["s1".into()];
    assert!(solve(&inst.prob, &sp)
        .unwrap_err()
        .to_string()
        .contains("both fixed and excluded"));
    let dup = vec![
        DemandPoint {
            id: "a".into(),
            weight: 1.0,
        },
        DemandPoint {
            id: "a".into(),
            weight: 1.0,
        },
    ];
    let s = vec![SiteInfo {
        id: "s".into(),
        capacity: None,
    }];
    let e = Problem::from_dense(dup, s.clone(), &[vec![1.0], vec![2.0]]).unwrap_err();
    assert_eq!(e.to_string(), "duplicate demand point id \"a\"");
    let neg = vec![DemandPoint {
        id: "a".into(),
        weight: -3.0,
    }];
    assert!(Problem::from_dense(neg, s, &[vec![1.0]]).is_err());
}
