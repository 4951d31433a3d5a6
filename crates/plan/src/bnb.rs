//! Exact maximal covering (MCLP) without a MILP solver: spatial decomposition, a
//! Lagrangian bound and branch and bound.
//!
//! The model is Church & ReVelle's (1974, "The maximal covering location problem",
//! *Papers of the Regional Science Association* 32) on the reduced rows of
//! `select::mclp_rows`: max Σᵢ wᵢ zᵢ subject to zᵢ ≤ Σ_{j ∈ Nᵢ} yⱼ, Σⱼ yⱼ ≤ p,
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

/// A covering instance: demand rows (weight, sites that cover it) × sites, both ways.
#[derive(Debug, Clone, Default)]
struct Cover {
    w: Vec<f64>,
    rows: Vec<Vec<u32>>,
    cols: Vec<Vec<u32>>,
}

impl Cover {
    fn new(m: usize, rows: Vec<(Vec<u32>, f64)>) -> Self {
        let mut cols = vec![Vec::new(); m];
        let mut w = Vec::with_capacity(rows.len());
        let mut rs = Vec::with_capacity(rows.len());
        for (g, (r, wi)) in rows.into_iter().enumerate() {
            for &j in &r {
                cols[j as usize].push(g as u32);
            }
            w.push(wi);
            rs.push(r);
        }
        Self { w, rows: rs, cols }
    }

    fn n_sites(&self) -> usize {
        self.cols.len()
    }

    /// The weight covered by `sites`.
    fn value(&self, sites: &[usize]) -> f64 {
        let mut hit = vec![false; self.w.len()];
        let mut v = 0.0;
        for &j in sites {
            for &g in &self.cols[j] {
                if !std::mem::replace(&mut hit[g as usize], true) {
                    v += self.w[g as usize];
                }
            }
        }
        v
    }

    /// Lazy greedy then first-improvement swaps, for k = 1..=kmax: the best sets found.
    fn heuristic(&self, kmax: usize) -> Vec<(f64, Vec<usize>)> {
        let m = self.n_sites();
        let mut out = vec![(0.0, Vec::new())];
        let mut cnt = vec![0u32; self.w.len()];
        let mut chosen: Vec<usize> = Vec::new();
        let mut open = vec![false; m];
        let gain = |j: usize, cnt: &[u32]| -> f64 {
            self.cols[j]
                .iter()
                .filter(|&&g| cnt[g as usize] == 0)
                .map(|&g| self.w[g as usize])
                .sum()
        };
        for _ in 0..kmax.min(m) {
            let best = (0..m)
                .filter(|&j| !open[j])
                .map(|j| (gain(j, &cnt), j))
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            let Some((_, j)) = best else { break };
            chosen.push(j);
            open[j] = true;
            for &g in &self.cols[j] {
                cnt[g as usize] += 1;
            }
            let improved = self.swap(chosen.clone());
            out.push((self.value(&improved), improved));
        }
        out
    }

    /// Best-improvement swaps (Teitz & Bart 1968) from `chosen` until none improves.
    fn swap(&self, mut chosen: Vec<usize>) -> Vec<usize> {
        let m = self.n_sites();
        let mut cnt = vec![0u32; self.w.len()];
        let mut open = vec![false; m];
        for &j in &chosen {
            open[j] = true;
            for &g in &self.cols[j] {
                cnt[g as usize] += 1;
            }
        }
        let eps = 1e-9 * self.w.iter().sum::<f64>().max(1.0);
        let mut extra = vec![0.0f64; m];
        for _ in 0..50 * chosen.len().max(1) {
            let gain0: Vec<f64> = (0..m)
                .map(|j| {
                    self.cols[j]
                        .iter()
                        .filter(|&&g| cnt[g as usize] == 0)
                        .map(|&g| self.w[g as usize])
                        .sum()
                })
                .collect();
            let mut best = (eps, usize::MAX, usize::MAX);
            for (pos, &out) in chosen.iter().enumerate() {
                extra.iter_mut().for_each(|x| *x = 0.0);
                let mut loss = 0.0;
                for &g in &self.cols[out] {
                    if cnt[g as usize] == 1 {
                        loss += self.w[g as usize];
                        for &j in &self.rows[g as usize] {
                            extra[j as usize] += self.w[g as usize];
                        }
                    }
                }
                for j in (0..m).filter(|&j| !open[j]) {
                    let d = gain0[j] + extra[j] - loss;
                    if d > best.0 {
                        best = (d, pos, j);
                    }
                }
            }
            if best.1 == usize::MAX {
                break;
            }
            let (pos, inn) = (best.1, best.2);
            for &g in &self.cols[chosen[pos]] {
                cnt[g as usize] -= 1;
            }
            open[chosen[pos]] = false;
            chosen[pos] = inn;
            open[inn] = true;
            for &g in &self.cols[inn] {
                cnt[g as usize] += 1;
            }
        }
        chosen
    }
}

/// When a bound is good enough to beat a value.
#[derive(Debug, Clone, Copy)]
struct Tol {
    integral: bool,
    eps: f64,
}

impl Tol {
    /// Whether a solution bounded by `bound` may be better than `value`.
    fn beats(self, bound: f64, value: f64) -> bool {
        if self.integral {
            bound >= value + 1.0 - 1e-6
        } else {
            bound > value + self.eps
        }
    }
    /// The largest value that a solution proven not to beat `value` can have (up to the
    /// tolerance `eps` with fractional weights).
    fn ceiling(self, value: f64) -> f64 {
        if self.integral {
            (value + 1.0 - 1e-6).floor()
        } else {
            value
        }
    }
}

/// Subgradient settings: the first step factor, the number of non-improving steps after
/// which it halves, and the iteration limit.
#[derive(Debug, Clone, Copy)]
struct Steps {
    mu: f64,
    stall: usize,
    iters: usize,
}

const ROOT_STEPS: Steps = Steps {
    mu: 2.0,
    stall: 50,
    iters: 3000,
};
const NODE_STEPS: Steps = Steps {
    mu: 0.25,
    stall: 3,
    iters: 20,
};

/// The Lagrangian bound at the best multipliers found.
struct LagBound {
    bound: f64,
    /// Σ of λ over the active rows of each site (0 for sites not free).
    c: Vec<f64>,
    /// The free sites of the relaxed solution (the `k` largest c).
    top: Vec<usize>,
}

/// Branch and bound of one component for a fixed number of sites; the node state is
/// changed in place and restored on the way back.
struct Search<'a> {
    cov: &'a Cover,
    tol: Tol,
    k: usize,
    /// Solutions must beat this value (the best found, or the target).
    floor: f64,
    best: Option<(f64, Vec<usize>)>,
    deadline: Instant,
    /// The largest bound of a node left unexplored at the deadline.
    open: f64,
    nodes: u64,
    /// 0 free, 1 open, 2 closed.
    st: Vec<u8>,
    /// How many open sites cover each row.
    cov_in: Vec<u32>,
    /// How many free sites cover each row.
    nfree: Vec<u32>,
    nin: usize,
    vin: f64,
    scratch: Vec<u32>,
}

impl<'a> Search<'a> {
    fn new(cov: &'a Cover, tol: Tol, k: usize, floor: f64, deadline: Instant) -> Self {
        Self {
            cov,
            tol,
            k,
            floor,
            best: None,
            deadline,
            open: f64::NEG_INFINITY,
            nodes: 0,
            st: vec![0; cov.n_sites()],
            cov_in: vec![0; cov.w.len()],
            nfree: cov.rows.iter().map(|r| r.len() as u32).collect(),
            nin: 0,
            vin: 0.0,
            scratch: vec![0; cov.w.len()],
        }
    }

    fn active(&self, g: usize) -> bool {
        self.cov_in[g] == 0 && self.nfree[g] > 0
    }

    fn open_site(&mut self, j: usize) {
        self.st[j] = 1;
        self.nin += 1;
        for &g in &self.cov.cols[j] {
            let g = g as usize;
            if self.cov_in[g] == 0 {
                self.vin += self.cov.w[g];
            }
            self.cov_in[g] += 1;
            self.nfree[g] -= 1;
        }
    }

    fn unopen_site(&mut self, j: usize) {
        self.st[j] = 0;
        self.nin -= 1;
        for &g in &self.cov.cols[j] {
            let g = g as usize;
            self.cov_in[g] -= 1;
            if self.cov_in[g] == 0 {
                self.vin -= self.cov.w[g];
            }
            self.nfree[g] += 1;
        }
    }

    fn close_site(&mut self, j: usize) {
        self.st[j] = 2;
        for &g in &self.cov.cols[j] {
            self.nfree[g as usize] -= 1;
        }
    }

    fn unclose_site(&mut self, j: usize) {
        self.st[j] = 0;
        for &g in &self.cov.cols[j] {
            self.nfree[g as usize] += 1;
        }
    }

    /// The weight the open sites and `extra` cover.
    fn value_with(&mut self, extra: &[usize]) -> f64 {
        let mut v = self.vin;
        for &j in extra {
            for &g in &self.cov.cols[j] {
                let g = g as usize;
                if self.cov_in[g] == 0 && self.scratch[g] == 0 {
                    v += self.cov.w[g];
                }
                self.scratch[g] += 1;
            }
        }
        for &j in extra {
            for &g in &self.cov.cols[j] {
                self.scratch[g as usize] = 0;
            }
        }
        v
    }

    fn offer(&mut self, v: f64, extra: &[usize]) {
        if self.tol.beats(v, self.floor) || (self.best.is_none() && v >= self.floor) {
            let mut sites: Vec<usize> = (0..self.st.len()).filter(|&j| self.st[j] == 1).collect();
            sites.extend_from_slice(extra);
            self.floor = self.floor.max(v);
            self.best = Some((v, sites));
        }
    }

    /// The Lagrangian bound of the current node: the coverage constraints of the active
    /// rows are relaxed with multipliers λ ∈ [0, w], giving
    /// L(λ) = (covered by the open sites) + Σ_{active i} max(0, wᵢ − λᵢ) + (the k − |open|
    /// largest cⱼ = Σ_{active i ∋ j} λᵢ over free sites), improved by subgradient steps
    /// with Polyak's step length towards the value to beat. `lam` is left at the best
    /// multipliers (zero on rows that are not active).
    fn lagrangian(&mut self, lam: &mut [f64], free: &[usize], steps: Steps) -> LagBound {
        let cov = self.cov;
        let w = &cov.w;
        let kk = (self.k - self.nin).min(free.len());
        let act: Vec<usize> = (0..w.len()).filter(|&g| self.active(g)).collect();
        for (g, l) in lam.iter_mut().enumerate() {
            if !self.active(g) {
                *l = 0.0;
            }
        }
        let mut c = vec![0.0f64; cov.n_sites()];
        for &j in free {
            c[j] = cov.cols[j].iter().map(|&g| lam[g as usize]).sum();
        }
        let mut best = LagBound {
            bound: f64::INFINITY,
            c: Vec::new(),
            top: Vec::new(),
        };
        let mut best_lam = lam.to_vec();
        let (mut mu, mut stall) = (steps.mu, 0);
        let mut order: Vec<usize> = free.to_vec();
        let mut sub: Vec<(u32, f64)> = Vec::new();
        for _ in 0..steps.iters.max(1) {
            if kk > 0 && kk < order.len() {
                order.select_nth_unstable_by(kk - 1, |&a, &b| c[b].total_cmp(&c[a]));
            }
            let top = &order[..kk];
            let l = self.vin
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
            if !self.tol.beats(best.bound, self.floor) || mu < 1e-4 {
                break;
            }
            // Subgradient: (open sites of the relaxed solution covering i) − zᵢ.
            for &j in top {
                for &g in &cov.cols[j] {
                    self.scratch[g as usize] += 1;
                }
            }
            sub.clear();
            let mut norm = 0.0;
            for &g in &act {
                let s = f64::from(self.scratch[g]) - if w[g] > lam[g] { 1.0 } else { 0.0 };
                if s != 0.0 {
                    norm += s * s;
                    sub.push((g as u32, s));
                }
            }
            for &j in top {
                for &g in &cov.cols[j] {
                    self.scratch[g as usize] = 0;
                }
            }
            if norm == 0.0 {
                break; // the relaxed solution is feasible and complementary: optimal
            }
            let step = mu * (l - self.floor).max(1e-6 * l.abs().max(1.0)) / norm;
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
        for (j, cj) in best.c.iter_mut().enumerate() {
            if self.st[j] != 0 {
                *cj = 0.0;
            }
        }
        best
    }

    /// Explores the node and everything below it, updating `best` and `open`. The
    /// "close j" branch is taken in place (a loop, not a recursion), so the recursion is
    /// at most `k` deep.
    fn node(&mut self, parent_lam: &[f64], mut steps: Steps) {
        self.nodes += 1;
        let mut lam = parent_lam.to_vec();
        let mut opened: Vec<usize> = Vec::new();
        let mut closed: Vec<usize> = Vec::new();
        loop {
            let left = self.k - self.nin;
            let free: Vec<usize> = (0..self.st.len()).filter(|&j| self.st[j] == 0).collect();
            if free.len() <= left {
                // Leaf: every remaining free site can be opened.
                let v = self.value_with(&free);
                self.offer(v, &free);
                break;
            }
            if left == 0 {
                let v = self.vin;
                self.offer(v, &[]);
                break;
            }
            let lb = self.lagrangian(&mut lam, &free, steps);
            steps = NODE_STEPS;
            if !self.tol.beats(lb.bound, self.floor) {
                break;
            }
            if Instant::now() >= self.deadline {
                self.open = self.open.max(lb.bound);
                break;
            }
            let v = self.value_with(&lb.top);
            self.offer(v, &lb.top);
            // Reduced-cost tests: cp = the left-th largest c, cq = the next one.
            let mut cs: Vec<f64> = free.iter().map(|&j| lb.c[j]).collect();
            cs.select_nth_unstable_by(left, |a, b| b.total_cmp(a));
            let cq = cs[left];
            let cp = cs[..left].iter().copied().fold(f64::INFINITY, f64::min);
            let mut in_top = vec![false; self.st.len()];
            for &j in &lb.top {
                in_top[j] = true;
            }
            let mut force: Vec<usize> = Vec::new();
            let mut changed = false;
            for &j in &free {
                if in_top[j] {
                    if !self
                        .tol
                        .beats(lb.bound - (lb.c[j] - cq).max(0.0), self.floor)
                    {
                        force.push(j);
                    }
                } else if !self
                    .tol
                    .beats(lb.bound - (cp - lb.c[j]).max(0.0), self.floor)
                {
                    self.close_site(j);
                    closed.push(j);
                    changed = true;
                }
            }
            if force.len() > left {
                break;
            }
            for j in force {
                self.open_site(j);
                opened.push(j);
                changed = true;
            }
            if changed {
                continue;
            }
            let Some(j) = lb
                .top
                .iter()
                .copied()
                .max_by(|&a, &b| lb.c[a].total_cmp(&lb.c[b]).then(b.cmp(&a)))
            else {
                break;
            };
            self.open_site(j);
            self.node(&lam, NODE_STEPS);
            self.unopen_site(j);
            self.close_site(j);
            closed.push(j);
            self.nodes += 1;
        }
        for j in opened.into_iter().rev() {
            self.unopen_site(j);
        }
        for j in closed.into_iter().rev() {
            self.unclose_site(j);
        }
    }
}

/// The answer of [`solve`].
#[derive(Debug, Clone)]
pub(crate) struct Answer {
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

/// One component: its instance, the original site of each local site, and what is known
/// of fᶜ(k) for k = 0..=kmax.
struct Comp {
    cover: Cover,
    site: Vec<usize>,
    lo: Vec<(f64, Vec<usize>)>,
    hi: Vec<f64>,
    /// Whether (c, k) was settled by a completed search.
    done: Vec<bool>,
    /// Multipliers of its rows from the root (the searches' warm start).
    lam: Vec<f64>,
}

/// Best Σ value over components with Σ k ≤ cap, per cap, and each component's k.
fn knapsack(vals: &[&[f64]], p: usize) -> (Vec<f64>, Vec<usize>) {
    let mut best = vec![0.0f64; p + 1];
    let mut pick: Vec<Vec<usize>> = Vec::with_capacity(vals.len());
    for v in vals {
        let mut next = best.clone();
        let mut ch = vec![0usize; p + 1];
        for q in 0..=p {
            for (k, &f) in v.iter().enumerate().take(q + 1).skip(1) {
                let cand = best[q - k] + f;
                if cand > next[q] {
                    next[q] = cand;
                    ch[q] = k;
                }
            }
        }
        best = next;
        pick.push(ch);
    }
    // Recover the k of each component for the full capacity.
    let mut ks = vec![0usize; vals.len()];
    let mut q = p;
    for c in (0..vals.len()).rev() {
        ks[c] = pick[c][q];
        q -= ks[c];
    }
    (best, ks)
}

/// Σ over the components but `skip` of the best values with at most q sites, q = 0..=p.
fn knapsack_without(vals: &[&[f64]], skip: usize, p: usize) -> Vec<f64> {
    let others: Vec<&[f64]> = vals
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != skip)
        .map(|(_, v)| *v)
        .collect();
    knapsack(&others, p).0
}

/// Solves the MCLP on `rows` (sites as indices into 0..m, the free candidates) with at
/// most `p` sites, exactly unless `deadline` comes first. `warm` is a known solution.
pub(crate) fn solve(
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
    let cover = Cover::new(m, rows);
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
    let mut cs: Vec<f64> = lb.c.clone();
    cs.select_nth_unstable_by(p - 1, |a, b| b.total_cmp(a));
    let cp = cs[p - 1];
    let keep: Vec<bool> = (0..m)
        .map(|j| tol.beats(lb.bound - (cp - lb.c[j]).max(0.0), best.0))
        .collect();
    // 2. Components of the kept sites (union-find over shared rows).
    let mut parent: Vec<usize> = (0..m).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for r in &cover.rows {
        let mut first = None;
        for &j in r.iter().filter(|&&j| keep[j as usize]) {
            let j = j as usize;
            match first {
                None => first = Some(j),
                Some(f) => {
                    let (a, b) = (find(&mut parent, f), find(&mut parent, j));
                    parent[a] = b;
                }
            }
        }
    }
    let mut comp_of = vec![usize::MAX; m];
    let mut comps: Vec<Comp> = Vec::new();
    let mut local = vec![u32::MAX; m];
    for j in (0..m).filter(|&j| keep[j]) {
        let r = find(&mut parent, j);
        if comp_of[r] == usize::MAX {
            comp_of[r] = comps.len();
            comps.push(Comp {
                cover: Cover::default(),
                site: Vec::new(),
                lo: Vec::new(),
                hi: Vec::new(),
                done: Vec::new(),
                lam: Vec::new(),
            });
        }
        let c = comp_of[r];
        local[j] = comps[c].site.len() as u32;
        comps[c].site.push(j);
    }
    let mut crows: Vec<Vec<(Vec<u32>, f64)>> = vec![Vec::new(); comps.len()];
    let mut clam: Vec<Vec<f64>> = vec![Vec::new(); comps.len()];
    for (g, r) in cover.rows.iter().enumerate() {
        let loc: Vec<u32> = r
            .iter()
            .filter(|&&j| keep[j as usize])
            .map(|&j| local[j as usize])
            .collect();
        if let Some(&j) = r.iter().find(|&&j| keep[j as usize]) {
            let c = comp_of[find(&mut parent, j as usize)];
            crows[c].push((loc, cover.w[g]));
            clam[c].push(lam[g]);
        }
    }
    for (c, rows) in crows.into_iter().enumerate() {
        let comp = &mut comps[c];
        let n = comp.site.len();
        comp.cover = Cover::new(n, rows);
        let kmax = p.min(n);
        comp.lo = comp.cover.heuristic(kmax);
        // hi from the root multipliers, valid for every λ: Σ (w − λ)⁺ + the k largest c.
        let mut cj: Vec<f64> = comp
            .cover
            .cols
            .iter()
            .map(|col| col.iter().map(|&g| clam[c][g as usize]).sum())
            .collect();
        cj.sort_by(|a, b| b.total_cmp(a));
        let base: f64 = comp
            .cover
            .w
            .iter()
            .zip(&clam[c])
            .map(|(w, l)| (w - l).max(0.0))
            .sum();
        let all: f64 = comp.cover.w.iter().sum();
        comp.hi = (0..=kmax)
            .map(|k| (base + cj[..k].iter().sum::<f64>()).min(all))
            .collect();
        comp.hi[0] = 0.0;
        comp.done = vec![false; kmax + 1];
        comp.done[0] = true;
    }
    for (comp, l) in comps.iter_mut().zip(clam) {
        comp.lam = l;
    }
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

    fn brute(cover: &Cover, k: usize) -> f64 {
        fn rec(cover: &Cover, k: usize, from: usize, cur: &mut Vec<usize>, best: &mut f64) {
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
            let cover = Cover::new(m, rs.clone());
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

    /// The knapsack over components picks the best split of p.
    #[test]
    fn knapsack_splits_p_between_components() {
        let a = [0.0, 5.0, 6.0, 6.5];
        let b = [0.0, 4.0, 7.5];
        let (best, ks) = knapsack(&[&a, &b], 3);
        assert_eq!(best, vec![0.0, 5.0, 9.0, 12.5]);
        assert_eq!(ks, vec![1, 2]);
        assert_eq!(knapsack_without(&[&a, &b], 0, 2), vec![0.0, 4.0, 7.5]);
    }
}
