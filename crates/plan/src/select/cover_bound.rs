//! The Lagrangian lower bound of the unit-cost set-covering problem and the
//! Lagrangian heuristic that comes with it (Beasley 1990, "A Lagrangian heuristic for
//! set-covering problems", *Naval Research Logistics* 37; subgradient optimisation as
//! in Held, Wolfe & Crowder 1974).
//!
//! The rows' constraints Σ_{j ∈ Nᵢ} yⱼ ≥ 1 are relaxed with multipliers uᵢ ≥ 0:
//!
//! L(u) = Σᵢ uᵢ + Σⱼ min(0, cⱼ), cⱼ = 1 − Σ_{i : j ∈ Nᵢ} uᵢ,
//!
//! a lower bound of the smallest cover for every u (and, every cover having an integral
//! size, so is ⌈L(u)⌉). At each step the relaxed solution (the columns with cⱼ < 0) is
//! made a cover (each row left uncovered takes its column of least cⱼ), its redundant
//! columns dropped (largest cⱼ first), and the smallest cover found is the incumbent.
//! The bound proves the incumbent optimal once ⌈L⌉ reaches its size; short of that, a
//! column j with L + cⱼ > (incumbent − 1) is in no smaller cover (reduced-cost fixing).

use super::lagrangian::Steps;

/// The settings of the LSCP's subgradient search.
pub(super) const COVER_STEPS: Steps = Steps {
    mu: 2.0,
    stall: 60,
    iters: 3000,
};

/// What the bound found for one instance.
#[derive(Debug, Clone)]
pub(super) struct CoverBound {
    /// The best Lagrangian value (a lower bound of the smallest cover's size).
    pub lower: f64,
    /// The smallest cover found (column positions).
    pub best: Vec<usize>,
    /// Reduced costs cⱼ at the best multipliers.
    pub c: Vec<f64>,
}

impl CoverBound {
    /// The integral lower bound ⌈L⌉.
    pub fn lower_int(&self) -> usize {
        (self.lower - 1e-6).ceil().max(0.0) as usize
    }

    /// Whether the incumbent is proven smallest.
    pub fn proven(&self) -> bool {
        self.best.len() <= self.lower_int()
    }

    /// Per column: whether some cover smaller than the incumbent may contain it.
    pub fn may_improve(&self) -> Vec<bool> {
        let limit = self.best.len() as f64 - 1.0;
        self.c
            .iter()
            .map(|&cj| cj <= 0.0 || self.lower + cj <= limit + 1e-9)
            .collect()
    }
}

/// The rows of each column.
fn columns(rows: &[Vec<u32>], n: usize) -> Vec<Vec<u32>> {
    let mut cols = vec![Vec::new(); n];
    for (i, r) in rows.iter().enumerate() {
        for &j in r {
            cols[j as usize].push(i as u32);
        }
    }
    cols
}

/// Makes `chosen` a cover (each uncovered row takes its column of least `c`), then
/// drops redundant columns, those of largest `c` first.
fn complete(rows: &[Vec<u32>], cols: &[Vec<u32>], c: &[f64], chosen: &mut Vec<usize>) {
    let mut cnt = vec![0u32; rows.len()];
    let mut open = vec![false; cols.len()];
    for &j in chosen.iter() {
        if !std::mem::replace(&mut open[j], true) {
            for &i in &cols[j] {
                cnt[i as usize] += 1;
            }
        }
    }
    chosen.clear();
    chosen.extend((0..cols.len()).filter(|&j| open[j]));
    for (i, r) in rows.iter().enumerate() {
        if cnt[i] > 0 {
            continue;
        }
        let &j = r
            .iter()
            .min_by(|&&a, &&b| c[a as usize].total_cmp(&c[b as usize]))
            .expect("every row lists a column");
        let j = j as usize;
        open[j] = true;
        chosen.push(j);
        for &k in &cols[j] {
            cnt[k as usize] += 1;
        }
    }
    chosen.sort_by(|&a, &b| c[b].total_cmp(&c[a]));
    chosen.retain(|&j| {
        if cols[j].iter().all(|&i| cnt[i as usize] > 1) {
            for &i in &cols[j] {
                cnt[i as usize] -= 1;
            }
            false
        } else {
            true
        }
    });
    chosen.sort_unstable();
}

/// [`complete`] for callers without the column lists.
pub(super) fn complete_cover(rows: &[Vec<u32>], n: usize, c: &[f64], chosen: &mut Vec<usize>) {
    complete(rows, &columns(rows, n), c, chosen);
}

/// Chvátal's greedy (the column covering most uncovered rows), made irredundant.
pub(super) fn greedy_cover(rows: &[Vec<u32>], n: usize) -> Vec<usize> {
    let cols = columns(rows, n);
    let mut covered = vec![false; rows.len()];
    let mut gain: Vec<usize> = cols.iter().map(Vec::len).collect();
    let mut chosen = Vec::new();
    let mut left = rows.len();
    while left > 0 {
        let j = (0..n)
            .max_by_key(|&j| (gain[j], usize::MAX - j))
            .expect("n > 0");
        chosen.push(j);
        for &i in &cols[j] {
            let i = i as usize;
            if !std::mem::replace(&mut covered[i], true) {
                left -= 1;
                for &k in &rows[i] {
                    gain[k as usize] -= 1;
                }
            }
        }
    }
    // Redundant columns out, the last chosen (the least useful) first.
    let c: Vec<f64> = {
        let mut rank = vec![0.0; n];
        for (k, &j) in chosen.iter().enumerate() {
            rank[j] = k as f64;
        }
        rank
    };
    complete(rows, &cols, &c, &mut chosen);
    chosen
}

/// The Lagrangian bound and heuristic on `rows` (each over columns `0..n`, none empty),
/// starting from the cover `start` (or the greedy one).
pub(super) fn cover_bound(
    rows: &[Vec<u32>],
    n: usize,
    start: Option<Vec<usize>>,
    steps: Steps,
) -> CoverBound {
    let cols = columns(rows, n);
    let mut best = start.unwrap_or_else(|| greedy_cover(rows, n));
    // Beasley's start: uᵢ = min over the row's columns of 1 / |column|.
    let mut u: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|&j| 1.0 / cols[j as usize].len() as f64)
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut c = vec![0.0; n];
    let mut g = vec![0.0; rows.len()];
    let mut out = CoverBound {
        lower: 0.0,
        best: Vec::new(),
        c: vec![1.0; n],
    };
    let mut mu = steps.mu;
    let mut since = 0usize;
    let mut trial = Vec::new();
    for it in 0..steps.iters {
        for (j, cj) in c.iter_mut().enumerate() {
            *cj = 1.0 - cols[j].iter().map(|&i| u[i as usize]).sum::<f64>();
        }
        let l: f64 = u.iter().sum::<f64>() + c.iter().filter(|&&x| x < 0.0).sum::<f64>();
        if l > out.lower + 1e-9 {
            out.lower = l;
            out.c.clone_from(&c);
            since = 0;
        } else {
            since += 1;
            if since >= steps.stall {
                mu /= 2.0;
                since = 0;
            }
        }
        if it % 2 == 0 {
            trial.clear();
            trial.extend((0..n).filter(|&j| c[j] < 0.0));
            complete(rows, &cols, &c, &mut trial);
            if trial.len() < best.len() {
                best.clone_from(&trial);
            }
        }
        let ub = best.len() as f64;
        if (out.lower - 1e-6).ceil() >= ub || mu < 1e-4 {
            break;
        }
        let mut norm = 0.0;
        for (i, r) in rows.iter().enumerate() {
            let open = r.iter().filter(|&&j| c[j as usize] < 0.0).count() as f64;
            let mut gi = 1.0 - open;
            if u[i] <= 0.0 && gi < 0.0 {
                gi = 0.0;
            }
            g[i] = gi;
            norm += gi * gi;
        }
        if norm == 0.0 {
            // The relaxed solution covers every row exactly once: it is optimal.
            break;
        }
        let t = mu * (1.05 * ub - l) / norm;
        for (ui, gi) in u.iter_mut().zip(&g) {
            *ui = (*ui + t * gi).max(0.0);
        }
    }
    out.best = best;
    out
}

#[cfg(test)]
mod tests {
    use super::super::reduce::covers;
    use super::*;

    fn brute(rows: &[Vec<u32>], n: usize) -> usize {
        (0u32..1 << n)
            .filter(|&mask| {
                let s: Vec<usize> = (0..n).filter(|&j| mask >> j & 1 == 1).collect();
                covers(rows, &s)
            })
            .map(|m| m.count_ones() as usize)
            .min()
            .unwrap()
    }

    #[test]
    fn bound_is_below_and_cover_is_valid() {
        let mut x = 88172645463325252u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut proven = 0;
        for case in 0..200 {
            let n = 4 + case % 10;
            let rows: Vec<Vec<u32>> = (0..3 + case % 15)
                .map(|_| {
                    let mut r: Vec<u32> = (0..1 + next() % 4)
                        .map(|_| (next() % n as u64) as u32)
                        .collect();
                    r.sort_unstable();
                    r.dedup();
                    r
                })
                .collect();
            let opt = brute(&rows, n);
            let b = cover_bound(&rows, n, None, COVER_STEPS);
            assert!(covers(&rows, &b.best), "case {case}");
            assert!(
                b.lower <= opt as f64 + 1e-6,
                "case {case}: {} > {opt}",
                b.lower
            );
            assert!(b.best.len() >= opt);
            if b.proven() {
                assert_eq!(b.best.len(), opt, "case {case}");
                proven += 1;
            }
            // Reduced-cost fixing keeps every column of some smaller cover.
            if b.best.len() > opt {
                let keep = b.may_improve();
                let kept: Vec<Vec<u32>> = rows
                    .iter()
                    .map(|r| r.iter().copied().filter(|&j| keep[j as usize]).collect())
                    .collect();
                assert!(kept.iter().all(|r| !r.is_empty()), "case {case}");
                let cols: Vec<u32> = (0..n as u32).filter(|&j| keep[j as usize]).collect();
                let local: Vec<Vec<u32>> = kept
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|j| cols.binary_search(j).unwrap() as u32)
                            .collect()
                    })
                    .collect();
                assert_eq!(brute(&local, cols.len()), opt, "case {case}");
            }
        }
        assert!(proven > 150, "the bound proves most small cases: {proven}");
    }

    #[test]
    fn odd_cycle_needs_the_rounding() {
        // C5: rows are edges, columns vertices; the LP bound is 2.5, the optimum 3.
        let rows: Vec<Vec<u32>> = (0..5u32).map(|i| vec![i, (i + 1) % 5]).collect();
        let b = cover_bound(&rows, 5, None, COVER_STEPS);
        assert_eq!(b.best.len(), 3);
        assert!(b.lower > 2.0 && b.lower <= 2.5 + 1e-6, "{}", b.lower);
        assert!(b.proven());
    }
}
