//! Shared by the integration tests, the unit tests of `select`, the benches and the
//! examples: a seeded instance as a dense matrix (planar distances in metres, rounded),
//! numbered demand points and sites, and the enumeration of p-subsets.

// Not every test binary, bench or example uses every helper.
#![allow(dead_code)]

use yizhan_core::{Candidate, LonLat};
use yizhan_plan::{DemandPoint, Model, Problem, SiteInfo, SiteParams, SiteSolution};

/// A problem and the data the brute force reads.
pub struct Inst {
    pub prob: Problem,
    /// `d[i][j]`: distance from demand point `i` to site `j`.
    pub d: Vec<Vec<f64>>,
    /// Demand weights.
    pub w: Vec<f64>,
}

/// The instance of demand points `pts` (weights `w`) and candidate sites `sites`.
pub fn instance_of(pts: &[(f64, f64)], sites: &[(f64, f64)], w: Vec<f64>) -> Inst {
    let d = distances(pts, sites);
    let prob = Problem::from_dense(
        demand_points("d", &w),
        site_infos("s", sites.iter().map(|_| None)),
        &d,
    );
    Inst {
        prob: prob.unwrap(),
        d,
        w,
    }
}

/// Planar distances in metres, rounded: `d[i][j]` from `pts[i]` to `sites[j]`.
pub fn distances(pts: &[(f64, f64)], sites: &[(f64, f64)]) -> Vec<Vec<f64>> {
    pts.iter()
        .map(|a| {
            sites
                .iter()
                .map(|b| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().round())
                .collect()
        })
        .collect()
}

/// Demand points `{prefix}{i}` weighted `w[i]`.
pub fn demand_points(prefix: &str, w: &[f64]) -> Vec<DemandPoint> {
    w.iter()
        .enumerate()
        .map(|(i, &weight)| DemandPoint {
            id: format!("{prefix}{i}"),
            weight,
        })
        .collect()
}

/// Sites `{prefix}{j}` with the capacities given.
pub fn site_infos(prefix: &str, caps: impl IntoIterator<Item = Option<f64>>) -> Vec<SiteInfo> {
    caps.into_iter()
        .enumerate()
        .map(|(j, capacity)| SiteInfo {
            id: format!("{prefix}{j}"),
            capacity,
        })
        .collect()
}

/// A located item (a candidate site) with id `id` at `at`, for a `GeoIndex`.
pub fn point(id: String, at: LonLat) -> Candidate {
    Candidate {
        id,
        name: None,
        location: at,
        capacity: None,
    }
}

/// The sites of `0..m` neither fixed nor excluded.
pub fn free_sites(m: usize, fixed: &[usize], excluded: &[usize]) -> Vec<usize> {
    (0..m)
        .filter(|j| !fixed.contains(j) && !excluded.contains(j))
        .collect()
}

/// Every `k`-subset of `items`, in lexicographic order.
pub fn subsets(items: &[usize], k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    if items.len() < k {
        return vec![];
    }
    let mut out = subsets(&items[1..], k - 1);
    for s in &mut out {
        s.insert(0, items[0]);
    }
    out.extend(subsets(&items[1..], k));
    out
}

/// Site indices from ids `s{j}`.
pub fn site_idx(ids: &[String]) -> Vec<usize> {
    ids.iter().map(|s| s[1..].parse().unwrap()).collect()
}

/// Seeded demand weights: whole numbers 1–29 (`integral`), or fractions 0.1–9.9.
pub fn weights(rng: &mut impl rand::Rng, n: usize, integral: bool) -> Vec<f64> {
    (0..n)
        .map(|_| {
            if integral {
                rng.random_range(1..30) as f64
            } else {
                rng.random_range(0.1..9.9)
            }
        })
        .collect()
}

/// The demand within `r` of some site of `open`: the MCLP objective, by brute force.
pub fn covered(inst: &Inst, open: &[usize], r: f64) -> f64 {
    (0..inst.w.len())
        .filter(|&i| open.iter().any(|&j| inst.d[i][j] <= r))
        .map(|i| inst.w[i])
        .sum()
}

/// The best MCLP objective over every `p`-subset of `free`, `fixed` open too.
pub fn best_cover(inst: &Inst, free: &[usize], fixed: &[usize], p: usize, r: f64) -> f64 {
    subsets(free, p)
        .into_iter()
        .map(|s| {
            let open: Vec<usize> = fixed.iter().chain(&s).copied().collect();
            covered(inst, &open, r)
        })
        .fold(f64::NEG_INFINITY, f64::max)
}

/// MCLP parameters for `p` new sites within `r` metres, with the sites `s{j}` of `fixed`
/// kept open and those of `excluded` left out (heuristic mode, default solver).
pub fn mclp_params(p: usize, r: f64, fixed: &[usize], excluded: &[usize]) -> SiteParams {
    let mut sp = SiteParams::new(Model::Mclp);
    sp.p = Some(p);
    sp.radius_m = Some(r);
    sp.fixed = fixed.iter().map(|j| format!("s{j}")).collect();
    sp.excluded = excluded.iter().map(|j| format!("s{j}")).collect();
    sp
}

/// Asserts that `e` is a proven MCLP optimum of `p` new sites within `r` metres: exact,
/// gap 0, each site once, `fixed` open and `excluded` not, its objective what its sites
/// cover, and that equal to `best` (the brute force's).
#[allow(clippy::too_many_arguments)]
pub fn assert_proven_optimum(
    inst: &Inst,
    e: &SiteSolution,
    p: usize,
    r: f64,
    fixed: &[usize],
    excluded: &[usize],
    best: f64,
    ctx: &str,
) {
    assert_eq!(e.method, "exact", "{ctx}: {:?}", e.note);
    assert!(e.optimal, "{ctx}: {:?}", e.note);
    assert_eq!(e.gap, Some(0.0), "{ctx}");
    assert_eq!(e.new_sites.len(), p, "{ctx}");
    let open = site_idx(&e.sites);
    let mut dedup = open.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), open.len(), "{ctx}: a site twice");
    for j in fixed {
        assert!(open.contains(j), "{ctx}");
    }
    for j in excluded {
        assert!(!open.contains(j), "{ctx}");
    }
    let v = covered(inst, &open, r);
    assert!((v - e.objective).abs() < 1e-6, "{ctx}");
    assert!((v - best).abs() < 1e-6, "{ctx}: exact {v} vs brute {best}");
}

/// The exact solvers to check: `microlp` always, CBC when its program is installed.
/// Without CBC the test says so loudly, and fails when `CI=true` (CI installs it).
pub fn exact_solvers() -> Vec<yizhan_plan::ExactSolver> {
    use yizhan_plan::ExactSolver;
    let mut v = vec![ExactSolver::Microlp];
    if yizhan_plan::milp::cbc_program().is_some() {
        v.push(ExactSolver::Cbc);
    } else {
        let msg = "SKIPPED the CBC half: the cbc program is not installed (Debian: coinor-cbc)";
        eprintln!("{msg}");
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "CI=true and {msg}"
        );
    }
    v
}
