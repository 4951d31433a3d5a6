//! Exact maximal covering (MCLP) without a MILP solver: spatial decomposition, a
//! Lagrangian bound and branch and bound.
//!
//! The model is Church & ReVelle's (1974, "The maximal covering location problem",
//! *Papers of the Regional Science Association* 32) on the reduced rows of
//! `Mclp::rows`: max Σᵢ wᵢ zᵢ subject to zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ, Σⱼ yⱼ ≤ p,
//! y, z binary (with non-negative weights an optimum with fewer than `p` sites can be
//! padded with any others, so "≤ p" and "= p" have the same optimum).
//!
//! The method, in three layers:
//!
//! 1. **Reduction.** The Lagrangian bound of Galvão & ReVelle (1996, "A Lagrangean
//!    heuristic for the maximal covering location problem", *European Journal of
//!    Operational Research* 88) at the root: a site whose every solution is bounded below
//!    the best known value is left out (reduced-cost fixing).
//! 2. **Spatial decomposition.** Two sites interact only if some demand row lists both.
//!    The connected components of that graph are independent: with fᶜ(k) the best
//!    coverage of component c with k sites, the optimum is the knapsack
//!    max Σ_c fᶜ(k_c) subject to Σ_c k_c ≤ p, solved by dynamic programming over the
//!    components (Bellman 1957). Every fᶜ(k) is known as an interval [lo, hi] (a found
//!    solution and a proven bound); the dynamic program over the `hi` values is the
//!    global bound, the one over the `lo` values the best answer. Intervals are narrowed
//!    only where the `hi` program needs it, each time by a branch and bound asked only
//!    whether fᶜ(k) exceeds the value that would let the bound beat the best answer.
//! 3. **Branch and bound** (Land & Doig 1960, "An automatic method of solving discrete
//!    programming problems", *Econometrica* 28) on the site variables, depth first,
//!    "open j" before "close j" on the site of the relaxed solution with the largest
//!    Lagrangian weight. Each node's bound is the Lagrangian bound with multipliers
//!    warm-started from its parent and improved by a few subgradient steps (Held, Wolfe &
//!    Crowder 1974, "Validation of subgradient optimization", *Mathematical Programming*
//!    6); sites whose forced opening (closing) drops the bound below the target are
//!    closed (opened) at that node, as in Galvão & ReVelle's reduction tests.
//!
//! With integral weights every solution value is an integer, so a bound below the best
//! value plus one proves it; otherwise a relative tolerance of 1e-9 applies.

use std::time::Instant;

use super::branch::{Search, Tol, ROOT_STEPS};
use super::cover::{Cover, CoverRows};
use super::decompose::{components, Part};
use super::knapsack::{knapsack, knapsack_without};
use super::search::{greedy, swap, Counts};

/// The best sets found by the MCLP search ([`greedy`] then [`swap`], the heuristic's
/// own) for k = 0..=kmax sites: the greedy order's first k sites, improved by swaps.
fn best_sets(cover: &CoverRows, kmax: usize) -> Vec<(f64, Vec<usize>)> {
    let all: Vec<usize> = (0..cover.n_sites()).collect();
    let mut st = Counts::new(cover, &[]);
    let (order, _) = greedy(cover, &all, &mut st, kmax, false);
    let mut out = vec![(0.0, Vec::new())];
    for k in 1..=order.len() {
        let (sites, _) = swap(cover, &[], &all, order[..k].to_vec());
        out.push((cover.value(&sites), sites));
    }
    out
}

/// The answer of [`solve`].
#[derive(Debug, Clone)]
pub(super) struct Answer {
    /// Chosen sites (indices into the `free` slice given), at most `p`.
    pub sites: Vec<usize>,
    /// Their covered weight (over the rows given).
    pub value: f64,
    /// A proven upper bound of the optimum (>= value).
    pub bound: f64,
    /// Whether `value` is proven optimal.
    pub optimal: bool,
    /// Components of the interaction graph after the reduction.
    pub components: usize,
    /// Candidate sites left after the reduction.
    pub kept: usize,
    /// Branch-and-bound nodes.
    pub nodes: u64,
}

/// One component: its instance, the original site of each local site, the root's
/// multipliers of its rows (the searches' warm start), and what is known of fᶜ(k) for
/// k = 0..=kmax.
struct Comp {
    cover: CoverRows,
    site: Vec<usize>,
    lam: Vec<f64>,
    lo: Vec<(f64, Vec<usize>)>,
    hi: Vec<f64>,
    /// Whether (c, k) was settled by a completed search.
    done: Vec<bool>,
}

impl Comp {
    /// The component `part` with at most `p` sites: `lo` from the MCLP search, `hi`
    /// from the root multipliers, valid for every λ: Σ (w − λ)⁺ + the k largest c.
    fn new(part: Part, p: usize) -> Self {
        let Part { cover, site, lam } = part;
        let kmax = p.min(site.len());
        let lo = best_sets(&cover, kmax);
        let mut cj: Vec<f64> = cover
            .cols
            .iter()
            .map(|col| col.iter().map(|&g| lam[g as usize]).sum())
            .collect();
        cj.sort_by(|a, b| b.total_cmp(a));
        let base: f64 = cover
            .w
            .iter()
            .zip(&lam)
            .map(|(w, l)| (w - l).max(0.0))
            .sum();
        let all: f64 = cover.w.iter().sum();
        let mut hi: Vec<f64> = (0..=kmax)
            .map(|k| (base + cj[..k].iter().sum::<f64>()).min(all))
            .collect();
        hi[0] = 0.0;
        let mut done = vec![false; kmax + 1];
        done[0] = true;
        Self {
            cover,
            site,
            lam,
            lo,
            hi,
            done,
        }
    }
}

/// Solves the MCLP on `rows` (sites as indices into 0..m, the free candidates) with at
/// most `p` sites, exactly unless `deadline` comes first. `warm` is a known solution.
pub(super) fn solve(
    m: usize,
    rows: Vec<(Vec<u32>, f64)>,
    p: usize,
    warm: &[usize],
    integral: bool,
    deadline: Instant,
) -> Answer {
    let total: f64 = rows.iter().map(|r| r.1).sum();
    let tol = Tol {
        integral,
        eps: 1e-9 * total.max(1.0),
    };
    let cover = CoverRows::new(m, rows);
    let mut best = (cover.value(warm), warm.to_vec());
    let p = p.min(m);
    let mut nodes = 0;
    // 1. Root bound and reduction.
    let mut root = Search::new(&cover, tol, p, best.0, deadline);
    let free: Vec<usize> = (0..m).collect();
    let mut lam: Vec<f64> = cover.w.iter().map(|x| 0.5 * x).collect();
    let lb = root.lagrangian(&mut lam, &free, ROOT_STEPS);
    if !tol.beats(lb.bound, best.0) || p == 0 {
        return Answer {
            sites: best.1,
            value: best.0,
            bound: best.0.max(lb.bound.min(best.0)),
            optimal: true,
            components: 0,
            kept: 0,
            nodes: 1,
        };
    }
    let cp = lb.pth(p);
    let keep: Vec<bool> = (0..m)
        .map(|j| tol.beats(lb.bound_with(j, cp), best.0))
        .collect();
    // 2. Components of the kept sites, each with what is known of its fᶜ(k).
    let mut comps: Vec<Comp> = components(&cover, &keep, &lam)
        .into_iter()
        .map(|part| Comp::new(part, p))
        .collect();
    // 3. Narrow the intervals where the bound needs it.
    let kept = keep.iter().filter(|&&k| k).count();
    let n_comps = comps.len();
    loop {
        for comp in &mut comps {
            settle(comp, tol);
        }
        let los: Vec<Vec<f64>> = comps
            .iter()
            .map(|c| c.lo.iter().map(|x| x.0).collect())
            .collect();
        let lo_refs: Vec<&[f64]> = los.iter().map(Vec::as_slice).collect();
        let (lo_best, lo_ks) = knapsack(&lo_refs, p);
        if lo_best[p] > best.0 {
            let mut sites = Vec::new();
            for (c, &k) in lo_ks.iter().enumerate() {
                sites.extend(comps[c].lo[k].1.iter().map(|&j| comps[c].site[j]));
            }
            best = (cover.value(&sites), sites);
        }
        let his: Vec<&[f64]> = comps.iter().map(|c| c.hi.as_slice()).collect();
        let (hi_best, hi_ks) = knapsack(&his, p);
        let bound = hi_best[p].max(best.0);
        if !tol.beats(bound, best.0) || Instant::now() >= deadline {
            let optimal = !tol.beats(bound, best.0);
            return Answer {
                sites: best.1,
                value: best.0,
                bound: if optimal { best.0 } else { bound },
                optimal,
                components: n_comps,
                kept,
                nodes,
            };
        }
        // The component of the bound's allocation with the widest open interval.
        let Some((c, k)) = hi_ks
            .iter()
            .enumerate()
            .filter(|&(c, &k)| !comps[c].done[k])
            .max_by(|a, b| {
                let ga = comps[a.0].hi[*a.1] - comps[a.0].lo[*a.1].0;
                let gb = comps[b.0].hi[*b.1] - comps[b.0].lo[*b.1].0;
                ga.total_cmp(&gb)
            })
            .map(|(c, &k)| (c, k))
        else {
            // Every interval of the allocation is settled: its value is attained.
            return Answer {
                sites: best.1,
                value: best.0,
                bound,
                optimal: false,
                components: n_comps,
                kept,
                nodes,
            };
        };
        let rest = knapsack_without(&his, c, p);
        let target = best.0 - rest[p - k];
        let comp = &mut comps[c];
        let floor = target.max(comp.lo[k].0);
        let mut search = Search::new(&comp.cover, tol, k, floor, deadline);
        search.node(&comp.lam, ROOT_STEPS);
        nodes += search.nodes;
        let timed_out = search.open > f64::NEG_INFINITY;
        if let Some((v, sites)) = search.best.take() {
            if v > comp.lo[k].0 {
                comp.lo[k] = (v, sites);
            }
        }
        let proven = tol.ceiling(search.floor).max(comp.lo[k].0);
        let new_hi = if timed_out {
            proven.max(search.open)
        } else {
            proven
        };
        comp.hi[k] = comp.hi[k].min(new_hi);
        if !timed_out {
            comp.done[k] = true;
        }
    }
}

/// Keeps a component's intervals consistent: lo ≤ hi, both non-decreasing in k, and
/// (c, k) settled when its interval is closed.
fn settle(comp: &mut Comp, tol: Tol) {
    let kmax = comp.hi.len() - 1;
    for k in 1..=kmax {
        if comp.lo[k].0 < comp.lo[k - 1].0 {
            comp.lo[k] = comp.lo[k - 1].clone();
        }
    }
    for k in (0..kmax).rev() {
        comp.hi[k] = comp.hi[k].min(comp.hi[k + 1]);
    }
    for k in 0..=kmax {
        if tol.integral {
            // Every value is an integer.
            comp.hi[k] = (comp.hi[k] + 1e-6).floor();
        }
        comp.hi[k] = comp.hi[k].max(comp.lo[k].0);
        if !tol.beats(comp.hi[k], comp.lo[k].0) {
            comp.done[k] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::time::Duration;

    /// Rows over `m` sites in `groups` blocks: each row lists 1–4 sites of one block.
    fn rows(seed: u64, m: usize, groups: usize, n: usize, integral: bool) -> Vec<(Vec<u32>, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let b = rng.random_range(0..groups);
                let block: Vec<u32> = (0..m as u32)
                    .filter(|j| *j as usize % groups == b)
                    .collect();
                let mut r: Vec<u32> = (0..rng.random_range(1..5))
                    .map(|_| block[rng.random_range(0..block.len())])
                    .collect();
                r.sort_unstable();
                r.dedup();
                let w = if integral {
                    rng.random_range(1..20) as f64
                } else {
                    rng.random_range(0.1..5.0)
                };
                (r, w)
            })
            .collect()
    }

    fn brute(cover: &CoverRows, k: usize) -> f64 {
        fn rec(cover: &CoverRows, k: usize, from: usize, cur: &mut Vec<usize>, best: &mut f64) {
            if cur.len() == k || from == cover.n_sites() {
                *best = best.max(cover.value(cur));
                return;
            }
            for j in from..cover.n_sites() {
                cur.push(j);
                rec(cover, k, j + 1, cur, best);
                cur.pop();
            }
        }
        let mut best = 0.0;
        rec(cover, k, 0, &mut Vec::new(), &mut best);
        best
    }

    /// From a poor start (no sites), every part of the method has work to do: the
    /// search must find the optimum and prove it, with at most p distinct sites.
    #[test]
    fn solve_from_scratch_agrees_with_enumeration() {
        let mut searched = 0;
        for seed in 0..40u64 {
            let m = 9 + seed as usize % 5;
            let groups = 1 + seed as usize % 3;
            let integral = seed % 2 == 0;
            let rs = rows(seed, m, groups, 60, integral);
            let cover = CoverRows::new(m, rs.clone());
            for p in [1, 2, 3, 5, m - 2] {
                let want = brute(&cover, p);
                let deadline = Instant::now() + Duration::from_secs(60);
                let a = solve(m, rs.clone(), p, &[], integral, deadline);
                let ctx = format!("seed {seed} m {m} groups {groups} p {p}");
                assert!(a.optimal, "{ctx}");
                assert!(a.sites.len() <= p, "{ctx}: {} sites", a.sites.len());
                let mut s = a.sites.clone();
                s.sort_unstable();
                s.dedup();
                assert_eq!(s.len(), a.sites.len(), "{ctx}");
                assert!((cover.value(&a.sites) - a.value).abs() < 1e-9, "{ctx}");
                assert!(
                    (a.value - want).abs() < 1e-6,
                    "{ctx}: {} vs {want}",
                    a.value
                );
                assert!(a.bound >= want - 1e-6, "{ctx}");
                searched += usize::from(a.nodes > 0);
            }
        }
        assert!(searched >= 20, "only {searched} cases needed a search");
    }
}
