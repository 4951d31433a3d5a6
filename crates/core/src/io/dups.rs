//! Duplicate ids: which features repeat an id an earlier feature has.

use rayon::prelude::*;

/// FxHash-style hash of a string (fast, good enough to sort by).
fn hash_str(s: &str) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h ^ (h >> 29)
}

/// Indices (ascending) of the items whose id an earlier item already has.
/// `id(i)` is `None` for items that take no part in the check.
pub(crate) fn duplicate_ids<'a>(
    n: usize,
    id: impl Fn(usize) -> Option<&'a str> + Sync,
) -> Vec<usize> {
    // Files yizhan writes usually have their ids in increasing order: then all differ.
    let increasing = (1..n)
        .into_par_iter()
        .with_min_len(4096)
        .all(|i| matches!((id(i - 1), id(i)), (Some(a), Some(b)) if a < b));
    if increasing {
        return Vec::new();
    }
    const BITS: u32 = 12;
    let bucket = |h: u64| (h >> (64 - BITS)) as usize;
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(n);
    keys.par_extend(
        (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| (id(i).map_or(0, hash_str), i as u32)),
    );
    // Partition by the top bits of the hash (indices stay ascending in each part) …
    let mut counts = vec![0usize; 1 << BITS];
    for k in &keys {
        counts[bucket(k.0)] += 1;
    }
    let mut next = Vec::with_capacity(counts.len());
    let mut sum = 0;
    for &c in &counts {
        next.push(sum);
        sum += c;
    }
    let mut parted = vec![(0u64, 0u32); n];
    for &k in &keys {
        let b = bucket(k.0);
        parted[next[b]] = k;
        next[b] += 1;
    }
    drop(keys);
    let mut parts = Vec::with_capacity(counts.len());
    let mut rest = &mut parted[..];
    for &c in &counts {
        let (a, b) = rest.split_at_mut(c);
        parts.push(a);
        rest = b;
    }
    // … then sort each part (small, in cache) and compare the ids of equal hashes.
    let mut dups: Vec<usize> = parts
        .into_par_iter()
        .flat_map_iter(|part| {
            part.sort_unstable();
            let mut dups = Vec::new();
            let mut run = 0;
            while run < part.len() {
                let h = part[run].0;
                let end = run + part[run..].iter().take_while(|k| k.0 == h).count();
                if end - run > 1 {
                    // Sort by id, then index, so the first of equal ids is kept.
                    let mut group: Vec<(&str, u32)> = part[run..end]
                        .iter()
                        .filter_map(|&(_, i)| id(i as usize).map(|s| (s, i)))
                        .collect();
                    group.sort_unstable();
                    for w in group.windows(2) {
                        if w[0].0 == w[1].0 {
                            dups.push(w[1].1 as usize);
                        }
                    }
                }
                run = end;
            }
            dups
        })
        .collect();
    dups.sort_unstable();
    dups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates_in_order() {
        let ids = ["a", "b", "a", "c", "b", "a", "x"];
        let d = duplicate_ids(ids.len(), |i| (ids[i] != "x").then_some(ids[i]));
        assert_eq!(d, vec![2, 4, 5]);
        let ids = ["a", "b", "c", "c"];
        assert_eq!(duplicate_ids(ids.len(), |i| Some(ids[i])), vec![3]);
        assert!(duplicate_ids(3, |i| Some(ids[i])).is_empty());
        assert!(duplicate_ids(3, |i| (i != 1).then_some("q")).len() == 1);
        assert!(duplicate_ids(0, |_| None).is_empty());
    }
}
