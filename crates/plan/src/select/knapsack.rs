//! The knapsack over independent components (Bellman 1957): with fᶜ(k) the best value
//! of component c with k sites, the best Σ_c fᶜ(k_c) subject to Σ_c k_c ≤ p, by dynamic
//! programming over the components.

/// Best Σ value over components with Σ k ≤ cap, per cap, and each component's k.
pub(super) fn knapsack(vals: &[&[f64]], p: usize) -> (Vec<f64>, Vec<usize>) {
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
pub(super) fn knapsack_without(vals: &[&[f64]], skip: usize, p: usize) -> Vec<f64> {
    let others: Vec<&[f64]> = vals
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != skip)
        .map(|(_, v)| *v)
        .collect();
    knapsack(&others, p).0
}

#[cfg(test)]
mod tests {
    use super::*;

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
