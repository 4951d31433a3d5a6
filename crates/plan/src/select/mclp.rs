//! The maximal covering location problem (Church & ReVelle 1974): its heuristic (the
//! covering search with restarts, and the submodular bound of its gap), its reduced
//! rows, and its two exact paths (the branch and bound, and the integer program).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::bnb;
use super::cover::{local_rows, Cover, Within};
use super::exact::{open_vars, solve_with_p, Exact, Heur};
use super::lagrangian::Lagrangian;
use super::params::SiteParams;
use super::search::{greedy, swap, tol, Counts};
use super::setup::Setup;
use super::shaker::Shaker;
use crate::milp::{gap_of, Cmp, Milp};
use crate::problem::Problem;

/// An MCLP instance: `p` new sites of `s` covering demand weighted `w` within `r`.
#[derive(Clone, Copy)]
pub(super) struct Mclp<'a> {
    /// The problem.
    pub prob: &'a Problem,
    /// Its fixed, free and excluded sites.
    pub s: &'a Setup,
    /// The demand weights.
    pub w: &'a [f64],
    /// The service radius.
    pub r: f64,
    /// New sites.
    pub p: usize,
}

impl Mclp<'_> {
    /// The covering view: demand within `r` of each site.
    fn cover(&self) -> Within<'_> {
        Within {
            prob: self.prob,
            r: self.r,
            w: self.w,
        }
    }

    /// MCLP heuristic: lazy greedy, then best-improvement swaps, restarted from shaken
    /// answers while the problem is small enough.
    pub(super) fn heuristic(&self) -> Heur {
        let Mclp { prob, s, w, p, .. } = *self;
        let cov = self.cover();
        let mut st = Counts::new(&cov, &s.fixed);
        let (chosen, gains) = greedy(&cov, &s.free, &mut st, p, false);
        let (mut chosen, mut st) = swap(&cov, &s.fixed, &s.free, chosen);
        let mut best = st.covered(w);
        // Restarts draw their new sites from the candidates that cover most on their
        // own (a random one of all would nearly always be swapped straight back out).
        let mut pool: Vec<(f64, usize)> =
            gains.iter().copied().zip(s.free.iter().copied()).collect();
        pool.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        pool.truncate((10 * p).max(1));
        let pool: Vec<usize> = pool.into_iter().map(|(_, j)| j).collect();
        // Up to p − 1 sites replaced: the greedy answer's basin is deep.
        let mut rng = Shaker::new(prob, s, p).with_span(p);
        while let Some(start) = rng.shake(&chosen, &pool) {
            let (c2, st2) = swap(&cov, &s.fixed, &s.free, start);
            let v = st2.covered(w);
            if v > best + tol(best) {
                (chosen, st, best) = (c2, st2, v);
            }
        }
        self.quality(&cov, chosen, &st)
    }

    /// The MCLP answer with its submodular upper bound f(S) + Σ of the `p` largest marginal
    /// gains (Nemhauser, Wolsey & Fisher 1978) and the gap to it.
    fn quality(&self, cov: &Within<'_>, chosen: Vec<usize>, st: &Counts) -> Heur {
        let Mclp { prob, s, w, p, .. } = *self;
        let covered = st.covered(w);
        let mut g: Vec<f64> = s
            .free
            .par_iter()
            .filter(|&&j| !st.open[j])
            .map(|&j| cov.gain(j, &st.cnt))
            .collect();
        g.sort_by(|a, b| b.total_cmp(a));
        let coverable: f64 = (0..prob.n_demand())
            .filter(|&i| s.any_allowed(cov.row(i)))
            .map(|i| w[i])
            .sum();
        let ub = (covered + g.iter().take(p).sum::<f64>()).min(coverable);
        let gap = if ub > 0.0 {
            ((ub - covered) / ub).max(0.0)
        } else {
            0.0
        };
        Heur {
            sites: chosen,
            optimal: gap <= 1e-12,
            gap: Some(if gap <= 1e-12 { 0.0 } else { gap }),
        }
    }

    /// The demand rows of the MCLP integer program, reduced exactly: demand already covered
    /// by a fixed site or covered by no free candidate is left out (its contribution does
    /// not depend on the choice), and demand points with the same set Nᵢ of free covering
    /// sites share one row with their summed weight — their constraints zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ
    /// are identical, so any optimum sets their zᵢ equal. Gives (sorted Nᵢ, weight) per row,
    /// in order of first appearance; with `aggregate == false` one row per demand point.
    pub(super) fn rows(&self, aggregate: bool) -> Vec<(Vec<u32>, f64)> {
        let Mclp { prob, s, w, .. } = *self;
        let cov = self.cover();
        let fixed_cov = cov.covered(&s.fixed);
        let mut is_free = vec![false; prob.n_sites()];
        for &j in &s.free {
            is_free[j] = true;
        }
        let sets: Vec<Option<Vec<u32>>> = (0..prob.n_demand())
            .into_par_iter()
            .map(|i| {
                if fixed_cov[i] || w[i] <= 0.0 {
                    return None;
                }
                let mut c: Vec<u32> = cov
                    .row(i)
                    .iter()
                    .copied()
                    .filter(|&j| is_free[j as usize])
                    .collect();
                c.sort_unstable();
                (!c.is_empty()).then_some(c)
            })
            .collect();
        let mut rows: Vec<(Vec<u32>, f64)> = Vec::new();
        let mut at: HashMap<Vec<u32>, usize> = HashMap::new();
        for (i, c) in sets.into_iter().enumerate() {
            let Some(c) = c else { continue };
            if !aggregate {
                rows.push((c, w[i]));
                continue;
            }
            match at.entry(c) {
                Entry::Occupied(e) => rows[*e.get()].1 += w[i],
                Entry::Vacant(e) => {
                    rows.push((e.key().clone(), w[i]));
                    e.insert(rows.len() - 1);
                }
            }
        }
        rows
    }

    /// MCLP exactly without a MILP solver ([`bnb`]: Lagrangian reduction, spatial
    /// decomposition with a knapsack over the components, branch and bound), on the reduced
    /// rows of [`Mclp::rows`], warm-started with the heuristic answer. Stops at
    /// `params.time_limit_s` with the best answer and the proven gap.
    pub(super) fn branch_and_bound(&self, warm: &[usize], params: &SiteParams) -> Exact {
        let Mclp { prob, s, p, .. } = *self;
        let rows = self.rows(true);
        let integral = integral(&rows);
        let (rows, pos) = local_rows(&rows, &s.free, prob.n_sites());
        let warm_local: Vec<usize> = warm
            .iter()
            .filter(|&&j| pos[j] != u32::MAX)
            .map(|&j| pos[j] as usize)
            .collect();
        let start = Instant::now();
        let deadline = Duration::try_from_secs_f64(params.time_limit_s)
            .ok()
            .and_then(|d| start.checked_add(d))
            .unwrap_or_else(|| start + Duration::from_secs(365 * 86_400));
        let a = bnb::solve(s.free.len(), rows, p, &warm_local, integral, deadline);
        let mut chosen: Vec<usize> = a.sites.iter().map(|&k| s.free[k]).collect();
        s.pad_to_p(prob, &mut chosen, p);
        let fixed_part = self.cover().covered_weight(&s.fixed);
        let (optimal, gap) = if a.optimal {
            (true, Some(0.0))
        } else {
            gap_of(
                a.value + fixed_part,
                a.bound + fixed_part,
                true,
                integral && fixed_part.fract() == 0.0,
            )
        };
        let note = format!(
            "{} by branch and bound with spatial decomposition (no MILP solver): {} of {} \
         candidates left by the Lagrangian reduction, in {} independent components; \
         {} nodes, {:.2} s",
            if optimal {
                "proven optimal"
            } else {
                "time limit reached"
            },
            a.kept,
            s.free.len(),
            a.components,
            a.nodes,
            start.elapsed().as_secs_f64()
        );
        Ok(Some((chosen, optimal, gap, Some(note))))
    }

    /// MCLP (Church & ReVelle 1974) as an integer program: max Σ wᵢ zᵢ,
    /// zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ, Σ yⱼ = p, on the rows of [`Mclp::rows`] (reduced when `reduce`:
    /// aggregated, and the sites the Lagrangian bound rules out left out). The heuristic
    /// answer is the warm start (sites and the coverage they give).
    pub(super) fn exact(&self, warm: &[usize], params: &SiteParams, reduce: bool) -> Exact {
        let Mclp { prob, s, p, .. } = *self;
        let mut rows = self.rows(reduce);
        let integral = integral(&rows);
        let mut warm_open = vec![false; prob.n_sites()];
        for &j in warm {
            warm_open[j] = true;
        }
        let value = |rows: &[(Vec<u32>, f64)]| -> f64 {
            rows.iter()
                .filter(|(c, _)| c.iter().any(|&j| warm_open[j as usize]))
                .map(|x| x.1)
                .sum()
        };
        let fixed_part = self.cover().covered_weight(&s.fixed);
        let mut free = s.free.clone();
        if reduce && warm.len() == p && p > 0 {
            // Lagrangian reduction: a site whose every solution is bounded by the warm
            // start's value (below the next integer, with integral weights) is left out; the
            // warm start's own sites stay, so the optimum is unchanged.
            let lb = value(&rows);
            let slack = if integral {
                1.0 - 1e-6
            } else {
                -1e-9 * lb.abs().max(1.0)
            };
            let stop = if integral {
                1.0 - 1e-6
            } else {
                1e-9 * lb.abs().max(1.0)
            };
            let lag = Lagrangian::solve(&rows, &s.free, p, lb, stop, 600);
            if lag.bound < lb + slack {
                return Ok(Some((
                    warm.to_vec(),
                    true,
                    Some(0.0),
                    Some(
                        "proven optimal by the Lagrangian bound (Galvão & ReVelle 1996); \
                     the MILP solver was not needed"
                            .into(),
                    ),
                )));
            }
            let cp = lag.pth(p);
            free = s
                .free
                .iter()
                .enumerate()
                .filter(|&(k, &j)| warm_open[j] || lag.bound_with(k, cp) >= lb + slack)
                .map(|(_, &j)| j)
                .collect();
            if free.len() < s.free.len() {
                let sub = s.with_free(free.clone());
                rows = Mclp { s: &sub, ..*self }.rows(true);
            }
        }
        if free.len() + rows.len() > params.max_exact_vars {
            return Ok(None);
        }
        let mut lp = Milp::default();
        lp.maximize = true;
        lp.integral_objective = integral && fixed_part.fract() == 0.0;
        lp.offset = fixed_part;
        let (yv, ys) = open_vars(&mut lp, &free, Some(&warm_open), 0.0, prob.n_sites());
        for (cover, wi) in &rows {
            let hit = cover.iter().any(|&j| warm_open[j as usize]);
            let z = lp.var(0.0, 1.0, false, *wi, Some(if hit { 1.0 } else { 0.0 }));
            let mut t: Vec<(usize, f64)> = Vec::with_capacity(cover.len() + 1);
            t.push((z, 1.0));
            t.extend(cover.iter().map(|&j| (yv[j as usize], -1.0)));
            lp.row(t, Cmp::Le, 0.0);
        }
        solve_with_p(lp, &ys, p, params)
    }
}

/// Whether every row weight is a whole number (then so is every solution value).
fn integral(rows: &[(Vec<u32>, f64)]) -> bool {
    rows.iter().all(|(_, wi)| wi.fract() == 0.0 && *wi < 1e15)
}

/// The integration tests' instances, shared with the unit tests.
#[cfg(test)]
#[path = "../../tests/common/mod.rs"]
mod test_common;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::params::Model;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::test_common as common;

    /// Clustered demand, several points per spot, integral weights.
    fn instance(seed: u64, n: usize, m: usize) -> Problem {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let spot = |rng: &mut ChaCha8Rng| {
            let c = [(1000.0, 1000.0), (4000.0, 1500.0), (2500.0, 4000.0)][rng.random_range(0..3)];
            (
                c.0 + rng.random_range(-1200.0..1200.0),
                c.1 + rng.random_range(-1200.0..1200.0),
            )
        };
        let mut pts = Vec::new();
        while pts.len() < n {
            let p = spot(&mut rng);
            for _ in 0..rng.random_range(1..5) {
                pts.push(p);
            }
        }
        pts.truncate(n);
        let sites: Vec<(f64, f64)> = (0..m).map(|_| spot(&mut rng)).collect();
        let w = (0..n).map(|_| rng.random_range(1..25) as f64).collect();
        common::instance_of(&pts, &sites, w).prob
    }

    fn params(p: usize, r: f64, fixed: &[usize]) -> SiteParams {
        let mut sp = SiteParams::new(Model::Mclp);
        sp.p = Some(p);
        sp.radius_m = Some(r);
        sp.fixed = fixed.iter().map(|j| format!("s{j}")).collect();
        sp.exact = true;
        sp
    }

    fn covered(prob: &Problem, s: &Setup, w: &[f64], r: f64, sites: &[usize]) -> f64 {
        Within { prob, r, w }.covered_weight(s.fixed.iter().chain(sites))
    }

    /// Writes the aggregated MCLP rows of the bench instance (`yizhan-bench mclp
    /// --export DIR`, radius 800 m) for the offline certificate of
    /// `crates/plan/tools/mclp_certificate.py`: `YZ_EXPORT=DIR YZ_OUT=FILE cargo test
    /// --release -p yizhan-plan --lib dump_bench_rows -- --ignored`. One line per row:
    /// weight, then the covering sites.
    #[test]
    #[ignore]
    fn dump_bench_rows() {
        let dir = std::path::PathBuf::from(std::env::var("YZ_EXPORT").expect("YZ_EXPORT"));
        let read = |name: &str, k: usize| -> Vec<Vec<f64>> {
            let b = std::fs::read(dir.join(name)).unwrap();
            b.chunks_exact(8 * k)
                .map(|r| {
                    r.chunks_exact(8)
                        .map(|x| f64::from_le_bytes(x.try_into().unwrap()))
                        .collect()
                })
                .collect()
        };
        let d = read("mclp_demand.f64", 3);
        let st = read("mclp_sites.f64", 2);
        let lonlat = |r: &Vec<f64>| yizhan_core::LonLat {
            lon: r[0],
            lat: r[1],
        };
        let w: Vec<f64> = d.iter().map(|r| r[2]).collect();
        let prob = Problem::from_points(
            common::demand_points("D", &w),
            &d.iter().map(lonlat).collect::<Vec<_>>(),
            common::site_infos("s", st.iter().map(|_| None)),
            &st.iter().map(lonlat).collect::<Vec<_>>(),
            Some(800.0),
        )
        .unwrap();
        let sp = params(10, 800.0, &[]);
        let s = Setup::new(&prob, &sp).unwrap();
        let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
        let rows = Mclp {
            prob: &prob,
            s: &s,
            w: &w,
            r: 800.0,
            p: 10,
        }
        .rows(true);
        let mut out = format!("{} {}\n", prob.n_sites(), rows.len());
        for (c, wi) in &rows {
            out.push_str(&format!("{wi}"));
            for j in c {
                out.push_str(&format!(" {}", s.free[*j as usize]));
            }
            out.push('\n');
        }
        std::fs::write(std::env::var("YZ_OUT").unwrap(), out).unwrap();
    }

    /// The reduced (aggregated) model and the one-row-per-point model have the same
    /// optimum; the reduced one is smaller on clustered demand.
    #[test]
    fn aggregated_and_plain_mclp_models_agree() {
        let mut shrunk = 0;
        for seed in 0..10u64 {
            let prob = instance(seed, 150 + 10 * seed as usize, 25);
            let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
            let fixed: &[usize] = if seed % 3 == 0 { &[2] } else { &[] };
            for (p, r) in [(2, 900.0), (4, 700.0)] {
                let sp = params(p, r, fixed);
                let s = Setup::new(&prob, &sp).unwrap();
                let mclp = Mclp {
                    prob: &prob,
                    s: &s,
                    w: &w,
                    r,
                    p,
                };
                let agg = mclp.rows(true);
                let plain = mclp.rows(false);
                let tot = |v: &[(Vec<u32>, f64)]| v.iter().map(|x| x.1).sum::<f64>();
                assert!((tot(&agg) - tot(&plain)).abs() < 1e-9);
                if agg.len() < plain.len() {
                    shrunk += 1;
                }
                let h = mclp.heuristic();
                let run = |aggregate| {
                    let (sites, optimal, _, _) =
                        mclp.exact(&h.sites, &sp, aggregate).unwrap().unwrap();
                    assert!(optimal, "seed {seed} p {p} aggregate {aggregate}");
                    assert_eq!(sites.len(), p);
                    covered(&prob, &s, &w, r, &sites)
                };
                let (a, b) = (run(true), run(false));
                assert!((a - b).abs() < 1e-9, "seed {seed} p {p}: {a} vs {b}");
                // A poor warm start: the reduction keeps every site an optimum may need.
                let poor: Vec<usize> = s.free[..p].to_vec();
                let (sites, optimal, _, _) = mclp.exact(&poor, &sp, true).unwrap().unwrap();
                assert!(optimal);
                let c = covered(&prob, &s, &w, r, &sites);
                assert!(
                    (c - b).abs() < 1e-9,
                    "seed {seed} p {p} poor start: {c} vs {b}"
                );
            }
        }
        assert!(
            shrunk >= 10,
            "aggregation shrank only {shrunk} of 20 models"
        );
    }

    /// The Lagrangian bound is never below the optimum (found by enumeration).
    #[test]
    fn lagrangian_bound_is_an_upper_bound() {
        for seed in 0..10u64 {
            let prob = instance(100 + seed, 60, 10);
            let w: Vec<f64> = prob.demand().iter().map(|d| d.weight).collect();
            let fixed: &[usize] = if seed % 2 == 0 { &[0] } else { &[] };
            for p in 1..=3usize {
                let r = 800.0;
                let sp = params(p, r, fixed);
                let s = Setup::new(&prob, &sp).unwrap();
                let mut best = 0.0f64;
                let free = &s.free;
                // The best value of the solutions that open each free site.
                let mut best_with = vec![0.0f64; free.len()];
                let mut idx: Vec<usize> = (0..p).collect();
                loop {
                    let sites: Vec<usize> = idx.iter().map(|&k| free[k]).collect();
                    let v = covered(&prob, &s, &w, r, &sites);
                    best = best.max(v);
                    for &k in &idx {
                        best_with[k] = best_with[k].max(v);
                    }
                    // next p-combination of 0..free.len()
                    let mut k = p;
                    while k > 0 && idx[k - 1] == free.len() - p + k - 1 {
                        k -= 1;
                    }
                    if k == 0 {
                        break;
                    }
                    idx[k - 1] += 1;
                    let first = idx[k - 1];
                    for (t, x) in idx[k..].iter_mut().enumerate() {
                        *x = first + 1 + t;
                    }
                }
                let c0 = covered(&prob, &s, &w, r, &[]);
                let rows = Mclp {
                    prob: &prob,
                    s: &s,
                    w: &w,
                    r,
                    p,
                }
                .rows(true);
                for iters in [1, 5, 50, 500] {
                    let lag = Lagrangian::solve(&rows, &s.free, p, best - c0, 0.0, iters);
                    let ctx = format!("seed {seed} p {p} iters {iters}");
                    assert!(
                        c0 + lag.bound >= best - 1e-6,
                        "{ctx}: {} < {best}",
                        lag.bound
                    );
                    // The bound of the solutions opening a site (used to leave sites out).
                    let cp = lag.pth(p);
                    for (k, &b) in best_with.iter().enumerate() {
                        let ub = c0 + lag.bound_with(k, cp);
                        assert!(ub >= b - 1e-6, "{ctx} site {k}: {ub} < {b}");
                    }
                }
            }
        }
    }
}
