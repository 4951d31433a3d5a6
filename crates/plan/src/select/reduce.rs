//! The classic reductions of a set-covering instance (rows to cover × unit-cost
//! columns), applied until none applies (Toregas & ReVelle 1973, "Binary logic
//! solutions to a class of location problems", *Geographical Analysis* 5; Garfinkel &
//! Nemhauser 1972, *Integer Programming*, §8.2):
//!
//! * **essential column**: a row with a single column left: that column is in every
//!   cover; it is opened and every row it covers is done;
//! * **row dominance**: a row whose columns include all the columns of another row is
//!   covered whenever the other is: it is dropped (equal rows keep one);
//! * **column dominance**: a column whose rows are all rows of another column is never
//!   needed (every column costs one): it is dropped (equal columns keep the first).
//!
//! Every cover of the reduced instance, with the essential columns added, covers the
//! original, and a smallest one stays smallest: the reductions are exact.

/// A reduced instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Reduced {
    /// Columns in every cover (input numbering), in the order found.
    pub essential: Vec<usize>,
    /// The columns left (input numbering), ascending.
    pub cols: Vec<usize>,
    /// The rows left, each over positions in `cols`, ascending.
    pub rows: Vec<Vec<u32>>,
}

/// Reduces the instance whose rows list the columns (of `0..m`) that cover them. Every
/// row must list a column (`Err(i)` names the first that lists none).
pub(super) fn reduce(rows: &[Vec<u32>], m: usize) -> Result<Reduced, usize> {
    if let Some(i) = rows.iter().position(|r| r.is_empty()) {
        return Err(i);
    }
    let mut rows: Vec<Vec<u32>> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.sort_unstable();
            r.dedup();
            r
        })
        .collect();
    let mut col_alive = vec![true; m];
    let mut is_essential = vec![false; m];
    let mut essential = Vec::new();
    loop {
        let before = (rows.len(), col_alive.iter().filter(|&&a| a).count());
        // Dead columns out of every row (a dropped column is dominated by a live one,
        // so no row becomes empty).
        for r in &mut rows {
            r.retain(|&j| col_alive[j as usize]);
        }
        // Essential columns.
        for r in &rows {
            if r.len() == 1 && !is_essential[r[0] as usize] {
                is_essential[r[0] as usize] = true;
                essential.push(r[0] as usize);
            }
        }
        rows.retain(|r| !r.iter().any(|&j| is_essential[j as usize]));
        for (j, e) in is_essential.iter().enumerate() {
            if *e {
                col_alive[j] = false;
            }
        }
        // Equal rows: keep one.
        rows.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        rows.dedup();
        drop_dominated_rows(&mut rows, m);
        drop_dominated_cols(&rows, &mut col_alive);
        let after = (rows.len(), col_alive.iter().filter(|&&a| a).count());
        if after == before {
            break;
        }
    }
    for r in &mut rows {
        r.retain(|&j| col_alive[j as usize]);
    }
    // Only columns that still cover a row matter.
    let mut used = vec![false; m];
    for r in &rows {
        for &j in r {
            used[j as usize] = true;
        }
    }
    let cols: Vec<usize> = (0..m).filter(|&j| used[j]).collect();
    let mut pos = vec![u32::MAX; m];
    for (k, &j) in cols.iter().enumerate() {
        pos[j] = k as u32;
    }
    for r in &mut rows {
        for j in r.iter_mut() {
            *j = pos[*j as usize];
        }
    }
    Ok(Reduced {
        essential,
        cols,
        rows,
    })
}

/// Whether sorted `a` is a subset of sorted `b`.
fn subset(a: &[u32], b: &[u32]) -> bool {
    if a.len() > b.len() {
        return false;
    }
    let mut k = 0;
    for &x in a {
        while k < b.len() && b[k] < x {
            k += 1;
        }
        if k == b.len() || b[k] != x {
            return false;
        }
        k += 1;
    }
    true
}

/// The rows of each column.
fn columns(rows: &[Vec<u32>], m: usize) -> Vec<Vec<u32>> {
    let mut cols = vec![Vec::new(); m];
    for (i, r) in rows.iter().enumerate() {
        for &j in r {
            cols[j as usize].push(i as u32);
        }
    }
    cols
}

/// Drops every row that contains another (distinct, deduplicated) row.
fn drop_dominated_rows(rows: &mut Vec<Vec<u32>>, m: usize) {
    let cols = columns(rows, m);
    let mut dead = vec![false; rows.len()];
    for (k, rk) in rows.iter().enumerate() {
        // Rows containing rk all list its rarest column.
        let Some(&j) = rk.iter().min_by_key(|&&j| cols[j as usize].len()) else {
            continue;
        };
        for &i in &cols[j as usize] {
            let i = i as usize;
            if i != k && !dead[i] && rows[i].len() > rk.len() && subset(rk, &rows[i]) {
                dead[i] = true;
            }
        }
    }
    let mut i = 0;
    rows.retain(|_| {
        i += 1;
        !dead[i - 1]
    });
}

/// Drops every live column whose rows are all rows of another live column (of two
/// equal columns, the later).
fn drop_dominated_cols(rows: &[Vec<u32>], alive: &mut [bool]) {
    let cols = columns(rows, alive.len());
    for j in 0..alive.len() {
        if !alive[j] {
            continue;
        }
        let cj = &cols[j];
        // A column that covers nothing left is not needed.
        let Some(&i) = cj.iter().min_by_key(|&&i| rows[i as usize].len()) else {
            alive[j] = false;
            continue;
        };
        let dominated = rows[i as usize].iter().any(|&l| {
            let l = l as usize;
            let cl = &cols[l];
            l != j
                && alive[l]
                && (cl.len() > cj.len() || (cl.len() == cj.len() && l < j))
                && subset(cj, cl)
        });
        if dominated {
            alive[j] = false;
        }
    }
}

/// Whether `sites` (input numbering) cover every row.
#[cfg(test)]
pub(super) fn covers(rows: &[Vec<u32>], sites: &[usize]) -> bool {
    rows.iter()
        .all(|r| r.iter().any(|&j| sites.contains(&(j as usize))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of a smallest cover, by enumeration.
    fn brute(rows: &[Vec<u32>], m: usize) -> usize {
        (0u32..1 << m)
            .filter(|&mask| {
                let s: Vec<usize> = (0..m).filter(|&j| mask >> j & 1 == 1).collect();
                covers(rows, &s)
            })
            .map(|mask| mask.count_ones() as usize)
            .min()
            .unwrap()
    }

    fn random_rows(seed: u64, n: usize, m: usize) -> Vec<Vec<u32>> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|_| {
                let len = 1 + (next() % 4) as usize;
                (0..len).map(|_| (next() % m as u64) as u32).collect()
            })
            .collect()
    }

    #[test]
    fn essential_and_dominated() {
        // Row 0 needs column 2; row 1 ⊂ row 2 so row 2 goes; column 0 ⊂ column 1.
        let rows = vec![vec![2], vec![0, 1], vec![0, 1, 3], vec![1, 3]];
        let r = reduce(&rows, 4).unwrap();
        // Left: rows {0,1} and {1,3}: column 1 covers both, so 0 and 3 are dominated,
        // then column 1 is essential.
        assert!(r.rows.is_empty(), "{r:?}");
        assert_eq!(r.essential, vec![2, 1]);
        let r2 = reduce(&[vec![0, 1], vec![1, 2], vec![0, 2]], 3).unwrap();
        assert!(r2.essential.is_empty());
        assert_eq!(r2.rows.len(), 3, "an odd cycle has nothing to reduce");
        assert_eq!(reduce(&[vec![0], vec![]], 1), Err(1));
    }

    #[test]
    fn reductions_keep_the_optimum() {
        for seed in 0..300u64 {
            let m = 3 + (seed % 9) as usize;
            let n = 2 + (seed % 13) as usize;
            let rows = random_rows(seed, n, m);
            let r = reduce(&rows, m).unwrap();
            let left = if r.rows.is_empty() {
                0
            } else {
                brute(&r.rows, r.cols.len())
            };
            assert_eq!(
                r.essential.len() + left,
                brute(&rows, m),
                "seed {seed}: {rows:?} → {r:?}"
            );
            // A cover of the reduced rows, mapped back, covers the original.
            let all: Vec<usize> = r.essential.iter().copied().chain(r.cols.clone()).collect();
            assert!(covers(&rows, &all), "seed {seed}");
        }
    }
}
