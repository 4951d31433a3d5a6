//! The k-d tree of a [`GeoIndex`](super::GeoIndex): unit vectors on the sphere,
//! stored as f32 in tree order, bulk-loaded by median splits on the widest axis, and
//! its two walks (k nearest by chord, every point within a chord), with the error
//! bounds that let the haversine distance decide every answer exactly.

use super::trig::PointGeo;
use crate::geodesy::LonLat;

/// Slack, in metres, when turning chord bounds into distance bounds; results are
/// always decided on the haversine distance itself.
const SLACK_M: f64 = 1e-3;

/// [`SLACK_M`] as a chord on the unit sphere. A chord grows by at most 1/R per metre
/// of great-circle distance, so widening a chord by this much widens the distance by
/// at least `SLACK_M`. Rounding errors of the f64 unit vectors and of the haversine
/// formula are both below 1e-14 in chord terms, far inside it.
pub(super) const SLACK_CHORD: f64 = SLACK_M / crate::geodesy::EARTH_RADIUS_M;

/// Bound on the chord error of a unit vector stored as f32 (each component is off by
/// at most half an f32 ulp, 2⁻²⁵ for |x| ≤ 1, so the vector by at most √3 · 2⁻²⁵ ≈
/// 5.2e-8; doubled for margin). The tree filters on f32 vectors (half the memory
/// traffic of f64: queries are bound by cache misses) and widens every bound by this.
pub(super) const F32_CHORD_ERR: f64 = 1e-7;

/// Most points in a leaf of the k-d tree.
const LEAF: usize = 32;

/// Candidates kept on the stack before a query falls back to the heap.
pub(super) const STACK_CANDIDATES: usize = 32;

/// A node of the k-d tree, in depth-first order: an internal node's left child
/// follows it, its right child is at `right`. The box is rounded outwards to f32
/// (half the bytes of f64); it bounds the f32 points below exactly.
#[derive(Debug, Clone, Copy)]
struct Node {
    lo: [f32; 3],
    hi: [f32; 3],
    /// First point (in tree order) below this node.
    start: u32,
    /// One past the last point below this node.
    end: u32,
    /// Right child, or 0 for a leaf.
    right: u32,
}

impl Node {
    /// Squared distance from `q` to the box (a lower bound of any point's `dist2`:
    /// IEEE subtraction and squaring are monotone). Branch-free.
    #[inline(always)]
    fn dist2(&self, q: &[f64; 3]) -> f64 {
        let mut s = 0.0;
        for ((&lo, &hi), &x) in self.lo.iter().zip(&self.hi).zip(q) {
            let v = (f64::from(lo) - x).max(x - f64::from(hi)).max(0.0);
            s += v * v;
        }
        s
    }
}

/// Squared chord between a stored (f32) point and a query, computed in f64.
#[inline(always)]
pub(super) fn dist2(a: &[f32; 3], b: &[f64; 3]) -> f64 {
    let d = [
        f64::from(a[0]) - b[0],
        f64::from(a[1]) - b[1],
        f64::from(a[2]) - b[2],
    ];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// The best candidates so far, by (f32-stored) squared chord, in a caller-provided
/// buffer. Holds the k nearest by that chord plus anything within
/// `SLACK_CHORD + 2 F32_CHORD_ERR` of the k-th: every item whose true chord is within
/// [`SLACK_CHORD`] of the true k-th is among them, so the final (haversine, id)
/// ranking can never miss an item.
pub(super) struct Best<'b> {
    /// Squared chords and tree positions, nearest first; `len` of them are set.
    pub(super) buf: &'b mut [(f64, u32)],
    pub(super) len: usize,
    k: usize,
    /// Points farther than this (squared chord) cannot be among the answers.
    prune2: f64,
    /// Set when `buf` was too small: the walk stopped and must be run again with more.
    pub(super) overflow: bool,
}

impl<'b> Best<'b> {
    /// An empty set of the `k` best in `buf`, nothing beyond the squared chord `prune2`.
    pub(super) fn new(buf: &'b mut [(f64, u32)], k: usize, prune2: f64) -> Self {
        Self {
            buf,
            len: 0,
            k,
            prune2,
            overflow: false,
        }
    }

    #[inline(always)]
    fn push(&mut self, d2: f64, pos: u32) {
        if self.len == self.buf.len() {
            self.overflow = true;
            return;
        }
        let mut i = self.len;
        while i > 0 && self.buf[i - 1].0 > d2 {
            self.buf[i] = self.buf[i - 1];
            i -= 1;
        }
        self.buf[i] = (d2, pos);
        self.len += 1;
        if self.len >= self.k {
            let c = self.buf[self.k - 1].0.sqrt() + SLACK_CHORD + 2.0 * F32_CHORD_ERR;
            let p2 = c * c;
            if p2 < self.prune2 {
                self.prune2 = p2;
                while self.len > self.k && self.buf[self.len - 1].0 > p2 {
                    self.len -= 1;
                }
            }
        }
    }
}

/// The k-d tree of a [`GeoIndex`](super::GeoIndex): flat arrays in tree order.
#[derive(Debug, Clone)]
pub(super) struct Kd {
    nodes: Vec<Node>,
    /// Unit vectors rounded to f32, in tree order.
    pub(super) xyz: Vec<[f32; 3]>,
    /// Positions, in tree order.
    pub(super) geo: Vec<PointGeo>,
    /// Index in `items` of each point, in tree order.
    pub(super) perm: Vec<u32>,
}

impl Kd {
    /// Bulk-load the tree over the `n` points `at(0), …, at(n − 1)` (O(n log n), on
    /// two cores when large).
    pub(super) fn build(n: usize, at: impl Fn(usize) -> LonLat) -> Self {
        let mut pts: Vec<([f32; 3], u32)> = (0..n)
            .map(|i| (at(i).to_unit_vector().map(|x| x as f32), i as u32))
            .collect();
        let mut nodes = Vec::with_capacity(2 * n / (LEAF / 2).max(1) + 1);
        if !pts.is_empty() {
            build_node(&mut pts, 0, &mut nodes);
        }
        nodes.shrink_to_fit();
        let perm: Vec<u32> = pts.iter().map(|p| p.1).collect();
        let xyz = pts.into_iter().map(|p| p.0).collect();
        let geo = perm.iter().map(|&i| PointGeo::of(at(i as usize))).collect();
        Self {
            nodes,
            xyz,
            geo,
            perm,
        }
    }

    /// Bytes held by the tree.
    pub(super) fn bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.xyz.capacity() * std::mem::size_of::<[f32; 3]>()
            + self.geo.capacity() * std::mem::size_of::<PointGeo>()
            + self.perm.capacity() * std::mem::size_of::<u32>()
    }

    /// The points nearest to `q` by chord whose items (by index) `keep` accepts, into
    /// `best`.
    pub(super) fn knn(&self, q: &[f64; 3], best: &mut Best<'_>, keep: &impl Fn(usize) -> bool) {
        if !self.nodes.is_empty() {
            self.knn_rec(0, q, best, keep);
        }
    }

    /// Depth-first k-nearest search by chord, nearer child first.
    fn knn_rec(&self, node: u32, q: &[f64; 3], best: &mut Best<'_>, keep: &impl Fn(usize) -> bool) {
        let n = &self.nodes[node as usize];
        if n.right == 0 {
            // Nearest first within the leaf, so that `keep` (which may read the item,
            // a cache miss, and evaluate opening hours) runs on as few points as the
            // tightening bound allows.
            let (s, e) = (n.start as usize, n.end as usize);
            let mut near = [(0.0f64, 0u32); LEAF];
            let mut m = 0;
            for (pos, p) in self.xyz[s..e].iter().enumerate() {
                let d2 = dist2(p, q);
                if d2 <= best.prune2 {
                    let mut i = m;
                    while i > 0 && near[i - 1].0 > d2 {
                        near[i] = near[i - 1];
                        i -= 1;
                    }
                    near[i] = (d2, (s + pos) as u32);
                    m += 1;
                }
            }
            for &(d2, pos) in &near[..m] {
                if d2 > best.prune2 {
                    break;
                }
                if keep(self.perm[pos as usize] as usize) {
                    best.push(d2, pos);
                    if best.overflow {
                        return;
                    }
                }
            }
            return;
        }
        let (a, b) = (node + 1, n.right);
        let da = self.nodes[a as usize].dist2(q);
        let db = self.nodes[b as usize].dist2(q);
        let (first, df, second, ds) = if da <= db {
            (a, da, b, db)
        } else {
            (b, db, a, da)
        };
        if df <= best.prune2 {
            self.knn_rec(first, q, best, keep);
            if best.overflow {
                return;
            }
        }
        if ds <= best.prune2 {
            self.knn_rec(second, q, best, keep);
        }
    }

    /// Visit every point (tree position) with f32 squared chord ≤ `r2` from `q`, until
    /// `f` answers false; whether it never did.
    pub(super) fn radius(&self, q: &[f64; 3], r2: f64, f: &mut impl FnMut(usize) -> bool) -> bool {
        self.nodes.is_empty() || self.radius_rec(0, q, r2, f)
    }

    fn radius_rec(
        &self,
        node: u32,
        q: &[f64; 3],
        r2: f64,
        f: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        let n = &self.nodes[node as usize];
        if n.dist2(q) > r2 {
            return true;
        }
        if n.right == 0 {
            let (s, e) = (n.start as usize, n.end as usize);
            for (pos, p) in self.xyz[s..e].iter().enumerate() {
                if dist2(p, q) <= r2 && !f(s + pos) {
                    return false;
                }
            }
            return true;
        }
        self.radius_rec(node + 1, q, r2, f) && self.radius_rec(n.right, q, r2, f)
    }
}

/// Subtrees with more points than this are built on two cores (`rayon::join`).
pub(super) const PAR_BUILD: usize = 65_536;

/// Build the subtree over `pts` (tree positions `offset..offset + pts.len()`),
/// appending its nodes to `nodes` in depth-first order; returns its node index.
fn build_node(pts: &mut [([f32; 3], u32)], offset: usize, nodes: &mut Vec<Node>) -> u32 {
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for (p, _) in pts.iter() {
        for d in 0..3 {
            lo[d] = lo[d].min(p[d]);
            hi[d] = hi[d].max(p[d]);
        }
    }
    let id = nodes.len() as u32;
    nodes.push(Node {
        lo,
        hi,
        start: offset as u32,
        end: (offset + pts.len()) as u32,
        right: 0,
    });
    if pts.len() > LEAF {
        let dim = (0..3)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap_or(0);
        let mid = pts.len() / 2;
        pts.select_nth_unstable_by(mid, |a, b| a.0[dim].total_cmp(&b.0[dim]));
        let (left, right) = pts.split_at_mut(mid);
        if left.len() >= PAR_BUILD {
            // Both halves at once, each into its own list, then the right one is
            // appended with its node indices shifted.
            let (_, mut rnodes) = rayon::join(
                || build_node(left, offset, nodes),
                || {
                    let mut v = Vec::with_capacity(2 * right.len() / (LEAF / 2) + 1);
                    build_node(right, offset + mid, &mut v);
                    v
                },
            );
            let shift = nodes.len() as u32;
            for n in &mut rnodes {
                if n.right != 0 {
                    n.right += shift;
                }
            }
            nodes[id as usize].right = shift;
            nodes.append(&mut rnodes);
        } else {
            build_node(left, offset, nodes);
            let r = build_node(right, offset + mid, nodes);
            nodes[id as usize].right = r;
        }
    }
    id
}
