//! The covering view of a site-selection problem: weighted demand rows, and for each
//! candidate site the rows it covers, both ways. MCLP, LSCP and the p-center covering
//! test search it; the MCLP branch and bound works on explicit (reduced) rows.

use crate::problem::Problem;

/// A covering instance: weighted rows (demand) × sites, each site covering some rows.
pub(super) trait Cover: Sync {
    /// Number of sites.
    fn n_sites(&self) -> usize;
    /// The weight of every row.
    fn weights(&self) -> &[f64];
    /// The rows site `j` covers.
    fn col(&self, j: usize) -> &[u32];
    /// The sites that cover row `g`.
    fn row(&self, g: usize) -> &[u32];
    /// The smallest piece of work worth a thread of its own (`usize::MAX`: one thread).
    fn min_len(&self) -> usize;

    /// Weight of the rows site `j` covers that `cnt` counts as uncovered.
    fn gain(&self, j: usize, cnt: &[u32]) -> f64 {
        let w = self.weights();
        self.col(j)
            .iter()
            .filter(|&&g| cnt[g as usize] == 0)
            .map(|&g| w[g as usize])
            .sum()
    }

    /// Per row: whether one of `sites` covers it.
    fn covered<'s>(&self, sites: impl IntoIterator<Item = &'s usize>) -> Vec<bool> {
        let mut c = vec![false; self.weights().len()];
        for &j in sites {
            for &g in self.col(j) {
                c[g as usize] = true;
            }
        }
        c
    }

    /// The weight of the rows that `sites` cover (negative weights count as 0).
    fn covered_weight<'s>(&self, sites: impl IntoIterator<Item = &'s usize>) -> f64 {
        let w = self.weights();
        let c = self.covered(sites);
        (0..c.len()).filter(|&i| c[i]).map(|i| w[i].max(0.0)).sum()
    }
}

/// A problem's demand points as rows, a site covering those within `r` of it.
pub(super) struct Within<'a> {
    /// The problem.
    pub prob: &'a Problem,
    /// The radius (cost units).
    pub r: f64,
    /// Demand weights (the problem's, or others: ones for set covering).
    pub w: &'a [f64],
}

impl Cover for Within<'_> {
    fn n_sites(&self) -> usize {
        self.prob.n_sites()
    }
    fn weights(&self) -> &[f64] {
        self.w
    }
    fn col(&self, j: usize) -> &[u32] {
        self.prob.col_within(j, self.r).0
    }
    fn row(&self, g: usize) -> &[u32] {
        self.prob.row_within(g, self.r).0
    }
    fn min_len(&self) -> usize {
        1
    }
}

/// Explicit rows (weight, sites that cover it) × sites, both ways.
#[derive(Debug, Clone, Default)]
pub(super) struct CoverRows {
    /// Row weights.
    pub w: Vec<f64>,
    /// The sites of each row.
    pub rows: Vec<Vec<u32>>,
    /// The rows of each site.
    pub cols: Vec<Vec<u32>>,
}

impl CoverRows {
    /// Rows over sites `0..m`.
    pub fn new(m: usize, rows: Vec<(Vec<u32>, f64)>) -> Self {
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

    /// The weight covered by `sites` (a site may appear more than once).
    pub fn value(&self, sites: &[usize]) -> f64 {
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
}

impl Cover for CoverRows {
    fn n_sites(&self) -> usize {
        self.cols.len()
    }
    fn weights(&self) -> &[f64] {
        &self.w
    }
    fn col(&self, j: usize) -> &[u32] {
        &self.cols[j]
    }
    fn row(&self, g: usize) -> &[u32] {
        &self.rows[g]
    }
    fn min_len(&self) -> usize {
        // The branch and bound solves many small components: one thread each.
        usize::MAX
    }
}

/// Rows over the sites of `free` renumbered as positions in `free` (`m` sites in all),
/// and the position of every site (`u32::MAX` for sites not free).
pub(super) fn local_rows(
    rows: &[(Vec<u32>, f64)],
    free: &[usize],
    m: usize,
) -> (Vec<(Vec<u32>, f64)>, Vec<u32>) {
    let mut pos = vec![u32::MAX; m];
    for (k, &j) in free.iter().enumerate() {
        pos[j] = k as u32;
    }
    let rows = rows
        .iter()
        .map(|(c, wi)| (c.iter().map(|&j| pos[j as usize]).collect(), *wi))
        .collect();
    (rows, pos)
}
