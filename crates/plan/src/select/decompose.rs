//! Spatial decomposition of a covering instance: two sites interact only if some row
//! lists both, and the connected components of that graph (found by union-find) are
//! independent problems, joined again by the knapsack over their values.

use super::cover::CoverRows;

/// One component: its rows over its own sites (numbered 0..), the original site of
/// each, and the multipliers of its rows.
pub(super) struct Part {
    /// The rows that list a site of the component, over its sites.
    pub cover: CoverRows,
    /// The original site of each local site.
    pub site: Vec<usize>,
    /// `lam` of each of its rows.
    pub lam: Vec<f64>,
}

/// The components of the sites of `cover` with `keep` set (rows listing none of them
/// are left out), in order of their first site; `lam` gives each row's multiplier.
pub(super) fn components(cover: &CoverRows, keep: &[bool], lam: &[f64]) -> Vec<Part> {
    let m = keep.len();
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
    let mut sites: Vec<Vec<usize>> = Vec::new();
    let mut local = vec![u32::MAX; m];
    for j in (0..m).filter(|&j| keep[j]) {
        let r = find(&mut parent, j);
        if comp_of[r] == usize::MAX {
            comp_of[r] = sites.len();
            sites.push(Vec::new());
        }
        let c = comp_of[r];
        local[j] = sites[c].len() as u32;
        sites[c].push(j);
    }
    let mut crows: Vec<Vec<(Vec<u32>, f64)>> = vec![Vec::new(); sites.len()];
    let mut clam: Vec<Vec<f64>> = vec![Vec::new(); sites.len()];
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
    sites
        .into_iter()
        .zip(crows)
        .zip(clam)
        .map(|((site, rows), lam)| Part {
            cover: CoverRows::new(site.len(), rows),
            site,
            lam,
        })
        .collect()
}
