//! The MCLP local search on a covering instance: lazy greedy (Minoux 1978, "Accelerated
//! greedy algorithms for maximizing submodular set functions") then best-improvement
//! swaps (Teitz & Bart 1968, "Heuristic methods for estimating the generalized vertex
//! median of a weighted graph", *Operations Research* 16). The MCLP and LSCP
//! heuristics, the p-center covering test and the branch and bound's component
//! heuristic all call these two.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::cover::Cover;

/// A non-negative f64 with a total order, for heaps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Key(pub f64, pub usize);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> Ordering {
        // Larger value first; on ties the smaller index first.
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

/// The tolerance of an improvement on a value of size `total`.
pub(super) fn tol(total: f64) -> f64 {
    1e-9 * total.abs().max(1.0)
}

/// How many open sites cover each row, and which sites are open.
pub(super) struct Counts {
    /// Per row: open sites covering it.
    pub cnt: Vec<u32>,
    /// Per site: open.
    pub open: Vec<bool>,
}

impl Counts {
    /// `sites` open.
    pub fn new<'s, C: Cover>(cov: &C, sites: impl IntoIterator<Item = &'s usize>) -> Self {
        let mut st = Self {
            cnt: vec![0; cov.weights().len()],
            open: vec![false; cov.n_sites()],
        };
        for &j in sites {
            st.add(cov, j);
        }
        st
    }

    /// Opens site `j`.
    pub fn add<C: Cover>(&mut self, cov: &C, j: usize) {
        self.open[j] = true;
        for &g in cov.col(j) {
            self.cnt[g as usize] += 1;
        }
    }

    /// Closes site `j`.
    pub fn remove<C: Cover>(&mut self, cov: &C, j: usize) {
        self.open[j] = false;
        for &g in cov.col(j) {
            self.cnt[g as usize] -= 1;
        }
    }

    /// The weight of the covered rows.
    pub fn covered(&self, w: &[f64]) -> f64 {
        (0..self.cnt.len())
            .filter(|&i| self.cnt[i] > 0)
            .map(|i| w[i])
            .sum()
    }

    /// Whether every row is covered.
    pub fn all_covered(&self) -> bool {
        self.cnt.iter().all(|&c| c > 0)
    }
}

/// Lazy greedy: up to `k` sites of `free` opened in `st`, each the one that covers the
/// most weight not yet covered (ties to the first); with `until_covered`, it stops when
/// no site adds anything. Gives the sites in the order chosen, and each free site's gain
/// at the start.
pub(super) fn greedy<C: Cover>(
    cov: &C,
    free: &[usize],
    st: &mut Counts,
    k: usize,
    until_covered: bool,
) -> (Vec<usize>, Vec<f64>) {
    let gains: Vec<f64> = free
        .par_iter()
        .with_min_len(cov.min_len())
        .map(|&j| cov.gain(j, &st.cnt))
        .collect();
    let mut heap: BinaryHeap<Key> = free.iter().zip(&gains).map(|(&j, &g)| Key(g, j)).collect();
    let mut chosen = Vec::with_capacity(k.min(free.len()));
    while chosen.len() < k {
        let Some(Key(_, j)) = heap.pop() else { break };
        let g = cov.gain(j, &st.cnt);
        let next = heap.peek().map_or(f64::NEG_INFINITY, |k| k.0);
        if g >= next {
            if until_covered && g <= 0.0 {
                break;
            }
            chosen.push(j);
            st.add(cov, j);
        } else {
            heap.push(Key(g, j));
        }
    }
    (chosen, gains)
}

/// Best-improvement swaps of a site of `chosen` for one of `free` (the `fixed` sites
/// open throughout) until none covers more; gives the sites and their counts.
pub(super) fn swap<C: Cover>(
    cov: &C,
    fixed: &[usize],
    free: &[usize],
    mut chosen: Vec<usize>,
) -> (Vec<usize>, Counts) {
    let m = cov.n_sites();
    let w = cov.weights();
    let p = chosen.len();
    let mut st = Counts::new(cov, fixed.iter().chain(&chosen));
    let eps = tol(w.iter().sum());
    let min_len = cov.min_len();
    for _ in 0..(50 * p.max(1)) {
        let gain0: Vec<f64> = free
            .par_iter()
            .with_min_len(min_len)
            .map(|&j| {
                if st.open[j] {
                    f64::NEG_INFINITY
                } else {
                    cov.gain(j, &st.cnt)
                }
            })
            .collect();
        let best = chosen
            .par_iter()
            .with_min_len(min_len)
            .enumerate()
            .map(|(pos, &out)| {
                let mut extra = vec![0.0f64; m];
                let mut loss = 0.0;
                for &i in cov.col(out) {
                    let i = i as usize;
                    if st.cnt[i] == 1 {
                        loss += w[i];
                        for &j in cov.row(i) {
                            extra[j as usize] += w[i];
                        }
                    }
                }
                let mut best = (0.0f64, usize::MAX, usize::MAX);
                for (k, &j) in free.iter().enumerate() {
                    if st.open[j] {
                        continue;
                    }
                    let delta = gain0[k] + extra[j] - loss;
                    if delta > best.0 + eps {
                        best = (delta, pos, j);
                    }
                }
                best
            })
            .reduce(
                || (0.0, usize::MAX, usize::MAX),
                |a, b| {
                    if b.0 > a.0 + eps || (b.0 >= a.0 - eps && b.1 < a.1 && b.0 > eps) {
                        b
                    } else {
                        a
                    }
                },
            );
        if best.1 == usize::MAX || best.0 <= eps {
            break;
        }
        let (pos, inn) = (best.1, best.2);
        st.remove(cov, chosen[pos]);
        chosen[pos] = inn;
        st.add(cov, inn);
    }
    (chosen, st)
}
