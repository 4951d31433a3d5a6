//! Branch and bound (Land & Doig 1960, "An automatic method of solving discrete
//! programming problems", *Econometrica* 28) of one component of the MCLP for a fixed
//! number of sites, on the site variables, depth first, "open j" before "close j" on the
//! site of the relaxed solution with the largest Lagrangian weight. Each node's bound is
//! the Lagrangian bound ([`super::lagrangian`]) with multipliers warm-started from its
//! parent; sites whose forced opening (closing) drops the bound below the target are
//! closed (opened) at that node, as in Galvão & ReVelle's reduction tests.

use std::time::Instant;

use super::cover::{Cover, CoverRows};
use super::lagrangian::{Lagrangian, Relaxation, Steps};

/// When a bound is good enough to beat a value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tol {
    /// Whether every solution value is an integer.
    pub integral: bool,
    /// The tolerance with fractional values.
    pub eps: f64,
}

impl Tol {
    /// Whether a solution bounded by `bound` may be better than `value`.
    pub fn beats(self, bound: f64, value: f64) -> bool {
        if self.integral {
            bound >= value + 1.0 - 1e-6
        } else {
            bound > value + self.eps
        }
    }
    /// The largest value that a solution proven not to beat `value` can have (up to the
    /// tolerance `eps` with fractional weights).
    pub fn ceiling(self, value: f64) -> f64 {
        if self.integral {
            (value + 1.0 - 1e-6).floor()
        } else {
            value
        }
    }
}

/// The root's subgradient settings.
pub(super) const ROOT_STEPS: Steps = Steps {
    mu: 2.0,
    stall: 50,
    iters: 3000,
};
/// A node's subgradient settings (warm-started from its parent).
const NODE_STEPS: Steps = Steps {
    mu: 0.25,
    stall: 3,
    iters: 20,
};

/// Branch and bound of one component for a fixed number of sites; the node state is
/// changed in place and restored on the way back.
pub(super) struct Search<'a> {
    cov: &'a CoverRows,
    tol: Tol,
    k: usize,
    /// Solutions must beat this value (the best found, or the target).
    pub floor: f64,
    pub best: Option<(f64, Vec<usize>)>,
    deadline: Instant,
    /// The largest bound of a node left unexplored at the deadline.
    pub open: f64,
    pub nodes: u64,
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
    pub fn new(cov: &'a CoverRows, tol: Tol, k: usize, floor: f64, deadline: Instant) -> Self {
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

    /// The Lagrangian bound of the current node ([`Relaxation::bound`]): the active rows
    /// relaxed, the open sites' coverage as the offset, `k − |open|` of the free sites
    /// to open, steps towards the value to beat. `lam` is left at the best multipliers
    /// (zero on rows that are not active); `c` is zero on sites that are not free.
    pub fn lagrangian(&mut self, lam: &mut [f64], free: &[usize], steps: Steps) -> Lagrangian {
        let active: Vec<usize> = (0..self.cov.w.len()).filter(|&g| self.active(g)).collect();
        for (g, l) in lam.iter_mut().enumerate() {
            if !self.active(g) {
                *l = 0.0;
            }
        }
        let relaxed = Relaxation {
            cov: self.cov,
            active: &active,
            free,
            k: self.k - self.nin,
            offset: self.vin,
        };
        let (tol, floor) = (self.tol, self.floor);
        let enough = |b: f64| !tol.beats(b, floor);
        let mut best = relaxed.bound(lam, floor, steps, enough, &mut self.scratch);
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
    pub fn node(&mut self, parent_lam: &[f64], mut steps: Steps) {
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
