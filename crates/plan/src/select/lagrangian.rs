//! The Lagrangian bound of the MCLP (Galvão & ReVelle 1996, "A Lagrangean heuristic for
//! the maximal covering location problem", *European Journal of Operational Research*
//! 88; the method of Fisher 1981, "The Lagrangian relaxation method for solving integer
//! programming problems", *Management Science* 27), used by the reduction before the
//! MILP solver and at every node of the branch and bound.
//!
//! The coverage constraints zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ of the rows still to cover are relaxed
//! with multipliers λᵢ ∈ [0, wᵢ]:
//!
//! L(λ) = (weight already covered) + Σᵢ max(0, wᵢ − λᵢ) + (sum of the k largest
//! cⱼ(λ) = Σ_{i : j ∈ Nᵢ} λᵢ over the free sites),
//!
//! an upper bound of the optimum for every λ. λ follows subgradient steps with Polyak's
//! step length towards the value to beat, the step factor halving when the bound stalls
//! (Held, Wolfe & Crowder 1974, "Validation of subgradient optimization", *Mathematical
//! Programming* 6). The best L equals the linear-programming bound (the relaxed problem
//! has the integrality property), which it approaches from above.

use super::cover::{local_rows, CoverRows};

/// Subgradient settings: the first step factor, the number of non-improving steps after
/// which it halves, and the iteration limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Steps {
    /// The first step factor.
    pub mu: f64,
    /// Non-improving steps before the factor halves.
    pub stall: usize,
    /// Most iterations.
    pub iters: usize,
}

/// The relaxed problem: which rows are still to cover and which sites may open.
pub(super) struct Relaxation<'a> {
    /// The instance.
    pub cov: &'a CoverRows,
    /// The rows still to cover (the others count nothing and keep λ = 0).
    pub active: &'a [usize],
    /// The sites that may still open.
    pub free: &'a [usize],
    /// How many of them open.
    pub k: usize,
    /// The weight the open sites already cover.
    pub offset: f64,
}

/// The Lagrangian bound at the best multipliers found.
#[derive(Debug, Clone)]
pub(super) struct Lagrangian {
    /// The best (lowest) bound found.
    pub bound: f64,
    /// cⱼ at the best multipliers, per site (meaningful for the free sites only).
    pub c: Vec<f64>,
    /// The free sites of the relaxed solution there (the `k` largest c).
    pub top: Vec<usize>,
}

impl Relaxation<'_> {
    /// The bound, improved by at most `steps.iters` subgradient steps from `lam` (zero
    /// on the rows that are not active) towards `target`, stopping early once
    /// `enough(bound)`. `lam` is left at the best multipliers; `scratch` (one counter a
    /// row, all zero) is left as it came.
    pub fn bound(
        &self,
        lam: &mut [f64],
        target: f64,
        steps: Steps,
        enough: impl Fn(f64) -> bool,
        scratch: &mut [u32],
    ) -> Lagrangian {
        let cov = self.cov;
        let w = &cov.w;
        let act = self.active;
        let kk = self.k.min(self.free.len());
        let mut c = vec![0.0f64; cov.cols.len()];
        for &j in self.free {
            c[j] = cov.cols[j].iter().map(|&g| lam[g as usize]).sum();
        }
        let mut best = Lagrangian {
            bound: f64::INFINITY,
            c: Vec::new(),
            top: Vec::new(),
        };
        let mut best_lam = lam.to_vec();
        let (mut mu, mut stall) = (steps.mu, 0);
        let mut order: Vec<usize> = self.free.to_vec();
        let mut sub: Vec<(u32, f64)> = Vec::new();
        for _ in 0..steps.iters.max(1) {
            if kk > 0 && kk < order.len() {
                order.select_nth_unstable_by(kk - 1, |&a, &b| c[b].total_cmp(&c[a]));
            }
            let top = &order[..kk];
            let l = self.offset
                + top.iter().map(|&j| c[j]).sum::<f64>()
                + act.iter().map(|&g| (w[g] - lam[g]).max(0.0)).sum::<f64>();
            if l < best.bound - 1e-9 * l.abs().max(1.0) {
                best.bound = l;
                best.c.clone_from(&c);
                best.top = top.to_vec();
                best_lam.copy_from_slice(lam);
                stall = 0;
            } else {
                stall += 1;
                if stall >= steps.stall {
                    mu *= 0.5;
                    stall = 0;
                }
            }
            if enough(best.bound) || mu < 1e-4 {
                break;
            }
            // Subgradient: (open sites of the relaxed solution covering i) − zᵢ, with
            // zᵢ = 1 when wᵢ > λᵢ.
            for &j in top {
                for &g in &cov.cols[j] {
                    scratch[g as usize] += 1;
                }
            }
            sub.clear();
            let mut norm = 0.0;
            for &g in act {
                let s = f64::from(scratch[g]) - if w[g] > lam[g] { 1.0 } else { 0.0 };
                if s != 0.0 {
                    norm += s * s;
                    sub.push((g as u32, s));
                }
            }
            for &j in top {
                for &g in &cov.cols[j] {
                    scratch[g as usize] = 0;
                }
            }
            if norm == 0.0 {
                break; // the relaxed solution is feasible and complementary: optimal
            }
            let step = mu * (l - target).max(1e-6 * l.abs().max(1.0)) / norm;
            for &(g, s) in &sub {
                let g = g as usize;
                let new = (lam[g] - step * s).clamp(0.0, w[g]);
                let d = new - lam[g];
                if d != 0.0 {
                    lam[g] = new;
                    for &j in &cov.rows[g] {
                        c[j as usize] += d;
                    }
                }
            }
        }
        lam.copy_from_slice(&best_lam);
        best
    }
}

impl Lagrangian {
    /// The bound of the MCLP on `rows` (sites of `free`, covering sites in problem
    /// numbering) with `p` sites: at most `iters` subgradient iterations from λ = w / 2,
    /// stopping early once the bound is within `stop` of `target` (the best known value
    /// of a solution). `c` is then per free site, in the order of `free`.
    pub fn solve(
        rows: &[(Vec<u32>, f64)],
        free: &[usize],
        p: usize,
        target: f64,
        stop: f64,
        iters: usize,
    ) -> Self {
        let nf = free.len();
        let p = p.min(nf);
        if rows.is_empty() || p == 0 {
            let total: f64 = rows.iter().map(|r| r.1).sum();
            return Self {
                bound: if p == 0 { 0.0 } else { total },
                c: vec![0.0; nf],
                top: Vec::new(),
            };
        }
        let m = free.iter().copied().max().map_or(0, |x| x + 1);
        let cov = CoverRows::new(nf, local_rows(rows, free, m).0);
        let active: Vec<usize> = (0..cov.w.len()).collect();
        let all: Vec<usize> = (0..nf).collect();
        // Start halfway (λ = w gives the p largest column weights, λ = 0 the total).
        let mut lam: Vec<f64> = cov.w.iter().map(|x| 0.5 * x).collect();
        let mut scratch = vec![0u32; cov.w.len()];
        let relaxed = Relaxation {
            cov: &cov,
            active: &active,
            free: &all,
            k: p,
            offset: 0.0,
        };
        let steps = Steps {
            mu: 2.0,
            stall: 20,
            iters,
        };
        relaxed.bound(
            &mut lam,
            target,
            steps,
            |b| b - target <= stop,
            &mut scratch,
        )
    }

    /// The p-th largest cⱼ at the best multipliers.
    pub fn pth(&self, p: usize) -> f64 {
        let mut v = self.c.clone();
        let p = p.min(v.len());
        if p == 0 {
            return f64::INFINITY;
        }
        v.select_nth_unstable_by(p - 1, |a, b| b.total_cmp(a));
        v[p - 1]
    }

    /// An upper bound of every solution that opens free site `k` (`cp` = [`Self::pth`]):
    /// site k takes the place of the p-th best column in the relaxed problem.
    pub fn bound_with(&self, k: usize, cp: f64) -> f64 {
        self.bound - (cp - self.c[k]).max(0.0)
    }
}
