//! Capacitated assignment (min-cost flow) against an independent LP solve.

use good_lp::{variable, Expression, ProblemVariables, Solution, SolverModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_plan::assign::{assign, UnassignedReason};
use yizhan_plan::Problem;
mod common;

use common::{demand_points, distances, site_infos};

/// Children (weight 1) and classes with seats, in a 4 km town, metres.
fn childcare(seed: u64, children: usize, caps: &[u32]) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kids: Vec<(f64, f64)> = (0..children)
        .map(|_| (rng.random_range(0.0..4000.0), rng.random_range(0.0..4000.0)))
        .collect();
    let classes: Vec<(f64, f64)> = caps
        .iter()
        .map(|_| (rng.random_range(0.0..4000.0), rng.random_range(0.0..4000.0)))
        .collect();
    let demand = demand_points("child", &vec![1.0; children]);
    let sites = site_infos("class", caps.iter().map(|&c| Some(f64::from(c))));
    Problem::from_dense(demand, sites, &distances(&kids, &classes)).unwrap()
}

/// The transportation LP (totally unimodular, so the LP optimum is integral):
/// maximise assigned units first (big M per unit), then minimise distance.
fn lp_check(p: &Problem, cutoff: f64) -> (f64, f64) {
    let mut vars = ProblemVariables::new();
    let mut xs = Vec::new();
    for i in 0..p.n_demand() {
        let (s, c) = p.row_within(i, cutoff);
        for (&j, &d) in s.iter().zip(c) {
            xs.push((i, j as usize, d, vars.add(variable().min(0.0))));
        }
    }
    let big = 1.0 + p.total_weight() * p.max_cost();
    let mut obj = Expression::with_capacity(xs.len());
    for &(_, _, d, x) in &xs {
        obj.add_mul(d - big, x);
    }
    let mut model = vars.minimise(obj).using(good_lp::microlp);
    for i in 0..p.n_demand() {
        let mut e = Expression::with_capacity(8);
        for &(ii, _, _, x) in &xs {
            if ii == i {
                e.add_mul(1.0, x);
            }
        }
        model.add_constraint(e.leq(p.demand()[i].weight));
    }
    for j in 0..p.n_sites() {
        let mut e = Expression::with_capacity(64);
        for &(_, jj, _, x) in &xs {
            if jj == j {
                e.add_mul(1.0, x);
            }
        }
        model.add_constraint(e.leq(p.sites()[j].capacity.unwrap()));
    }
    let sol = model.solve().unwrap();
    let assigned: f64 = xs.iter().map(|x| sol.value(x.3)).sum();
    let cost: f64 = xs.iter().map(|x| sol.value(x.3) * x.2).sum();
    (assigned, cost)
}

fn caps_21(seed: u64, total: u32) -> Vec<u32> {
    // 21 classes whose seats add up to `total`.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut caps: Vec<u32> = (0..21).map(|_| rng.random_range(20..36)).collect();
    let mut sum: u32 = caps.iter().sum();
    let mut k = 0;
    while sum != total {
        if sum < total {
            caps[k % 21] += 1;
            sum += 1;
        } else if caps[k % 21] > 1 {
            caps[k % 21] -= 1;
            sum -= 1;
        }
        k += 1;
    }
    caps
}

#[test]
fn childcare_579_children_in_21_classes_matches_lp() {
    // Enough seats (600) and too few (560), a 1.5 km cutoff.
    for (seed, seats) in [(1u64, 600u32), (2, 560)] {
        let caps = caps_21(seed, seats);
        let p = childcare(seed, 579, &caps);
        let cutoff = 1500.0;
        let a = assign(&p, Some(cutoff)).unwrap();
        let (lp_assigned, lp_cost) = lp_check(&p, cutoff);
        assert_eq!(a.assigned_weight, lp_assigned.round(), "seats {seats}");
        assert!(
            (a.total_cost - lp_cost).abs() < 1e-6 * lp_cost.max(1.0),
            "flow {} vs LP {lp_cost}",
            a.total_cost
        );
        for (s, c) in a.sites.iter().zip(&caps) {
            assert!(s.load <= *c as f64);
        }
        assert_eq!(a.assigned_weight + a.unassigned_weight, 579.0);
        if seats < 579 {
            assert!(a.unassigned_weight >= 19.0);
        }
        for u in &a.unassigned {
            let i = p.demand().iter().position(|d| d.id == u.id).unwrap();
            let reachable = !p.row_within(i, cutoff).0.is_empty();
            assert_eq!(u.reason == UnassignedReason::SitesFull, reachable);
        }
    }
}

#[test]
fn weighted_hotspots_match_lp() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for round in 0..5 {
        let n = 40;
        let m = 6;
        let w: Vec<f64> = (0..n).map(|_| rng.random_range(0..30) as f64).collect();
        let demand = demand_points("h", &w);
        let caps: Vec<Option<f64>> = (0..m)
            .map(|_| Some(rng.random_range(20..120) as f64))
            .collect();
        let sites = site_infos("s", caps);
        let d: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..m).map(|_| rng.random_range(0..3000) as f64).collect())
            .collect();
        let p = Problem::from_dense(demand, sites, &d).unwrap();
        let a = assign(&p, Some(2000.0)).unwrap();
        let (la, lc) = lp_check(&p, 2000.0);
        assert_eq!(a.assigned_weight, la.round(), "round {round}");
        assert!(
            (a.total_cost - lc).abs() < 1e-6 * lc.max(1.0),
            "round {round}"
        );
    }
}

#[test]
fn fractional_weights_are_refused() {
    let p = Problem::from_dense(
        demand_points("x", &[1.5]),
        site_infos("s", [Some(3.0)]),
        &[vec![10.0]],
    )
    .unwrap();
    assert!(assign(&p, None)
        .unwrap_err()
        .to_string()
        .contains("whole numbers"));
}
