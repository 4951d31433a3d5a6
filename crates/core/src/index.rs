//! Spatial indexes over located items, answering in true great-circle metres.
//!
//! Distance queries (k nearest, within a radius) run on a flat, bulk-built k-d tree
//! over unit vectors on the sphere (see [`LonLat::to_unit_vector`]): the chord
//! between two unit vectors grows strictly with the great-circle distance, so the
//! tree's nearest-neighbour order *is* the great-circle order, across ±180° and at
//! the poles, which a planar lon/lat index gets wrong. Vectors are stored as f32 in
//! tree order for cache locality (see BENCHMARKS.md: about twice the throughput of
//! an `rstar` R-tree over the same vectors); candidates within the f32 error of the
//! k-th are re-ranked by the haversine distance itself, ties broken by id, so every
//! query answers exactly what a brute-force haversine scan answers (the oracle tests
//! at the bottom of this file check that).
//!
//! Rectangle and polygon queries, planar in lon/lat by definition (GeoJSON, OGC
//! `bbox`), run on an `rstar` R-tree over lon/lat degrees, built on first use.

use std::sync::OnceLock;

use chrono::NaiveDateTime;
use geo::{BoundingRect, Contains};
use geo_types::{Point, Polygon};
use rstar::{RTree, RTreeObject, AABB};

use crate::geodesy::{chord_for_distance, CoordError, LonLat};
use crate::model::{AmenitySet, Candidate, GridCell, Hotspot, Station, StationKind};
use crate::scratch::Scratch;

/// Anything with an id and a position can be indexed.
pub trait Located {
    /// Stable id (ties in distance are broken by it).
    fn id(&self) -> &str;
    /// Position (WGS 84).
    fn location(&self) -> LonLat;
}

impl Located for Station {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.location
    }
}
impl Located for Hotspot {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.location
    }
}
impl Located for GridCell {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.centroid
    }
}
impl Located for Candidate {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.location
    }
}

/// One answer of a query: the item and its great-circle distance from the query point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<'a, T> {
    /// The item.
    pub item: &'a T,
    /// Index of the item in [`GeoIndex::items`].
    pub index: usize,
    /// Haversine distance in metres (0 for bbox / polygon queries without a point).
    pub distance_m: f64,
}

/// A bounding box in WGS 84 degrees: west, south, east, north.
/// `west > east` means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// Western longitude.
    pub west: f64,
    /// Southern latitude.
    pub south: f64,
    /// Eastern longitude.
    pub east: f64,
    /// Northern latitude.
    pub north: f64,
}

/// Why a bounding box was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BBoxError {
    /// Not four comma-separated numbers.
    #[error("bbox {0:?} must be four comma-separated numbers: west,south,east,north")]
    Format(String),
    /// A corner is not a valid coordinate.
    #[error("bbox corner invalid: {0}")]
    Coord(#[from] CoordError),
    /// South above north.
    #[error("bbox south {south} is above north {north}")]
    Inverted {
        /// Southern latitude given.
        south: f64,
        /// Northern latitude given.
        north: f64,
    },
}

impl BBox {
    /// A validated box.
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<Self, BBoxError> {
        LonLat::new(west, south)?;
        LonLat::new(east, north)?;
        if south > north {
            return Err(BBoxError::Inverted { south, north });
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    /// Whether `p` is inside (edges included).
    pub fn contains(&self, p: LonLat) -> bool {
        let lat_ok = p.lat >= self.south && p.lat <= self.north;
        let lon_ok = if self.west <= self.east {
            p.lon >= self.west && p.lon <= self.east
        } else {
            p.lon >= self.west || p.lon <= self.east
        };
        lat_ok && lon_ok
    }
}

impl std::str::FromStr for BBox {
    type Err = BBoxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| BBoxError::Format(s.to_string()))?;
        match v[..] {
            [w, s_, e, n] => BBox::new(w, s_, e, n),
            _ => Err(BBoxError::Format(s.to_string())),
        }
    }
}

/// Slack, in metres, when turning chord bounds into distance bounds; results are
/// always decided on the haversine distance itself.
const SLACK_M: f64 = 1e-3;

/// [`SLACK_M`] as a chord on the unit sphere. A chord grows by at most 1/R per metre
/// of great-circle distance, so widening a chord by this much widens the distance by
/// at least `SLACK_M`. Rounding errors of the f64 unit vectors and of the haversine
/// formula are both below 1e-14 in chord terms, far inside it.
const SLACK_CHORD: f64 = SLACK_M / crate::geodesy::EARTH_RADIUS_M;

/// Bound on the chord error of a unit vector stored as f32 (each component is off by
/// at most half an f32 ulp, 2⁻²⁵ for |x| ≤ 1, so the vector by at most √3 · 2⁻²⁵ ≈
/// 5.2e-8; doubled for margin). The tree filters on f32 vectors (half the memory
/// traffic of f64: queries are bound by cache misses) and widens every bound by this.
const F32_CHORD_ERR: f64 = 1e-7;

/// Most points in a leaf of the k-d tree.
const LEAF: usize = 32;

/// Candidates kept on the stack before a query falls back to the heap.
const STACK_CANDIDATES: usize = 32;

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
fn dist2(a: &[f32; 3], b: &[f64; 3]) -> f64 {
    let d = [
        f64::from(a[0]) - b[0],
        f64::from(a[1]) - b[1],
        f64::from(a[2]) - b[2],
    ];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Squared Euclidean distance between two f64 points.
#[inline(always)]
fn dist2_f64(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Query points per parallel work unit of [`GeoIndex::nearest_each`] (consecutive
/// along the Hilbert curve).
const EACH_CHUNK: usize = 512;

/// Candidates scanned together per step of [`GeoIndex::nearest_each`]'s per-point scan.
const LANES: usize = 8;

/// Most query points sharing one candidate list in [`GeoIndex::nearest_each`].
const EACH_BLOCK: usize = 32;

/// A block wider than this many times the distance to its centre's nearest item (or
/// the cutoff) is halved: its shared candidate list would be long.
const SPLIT: f64 = 8.0;

/// The candidate items of a block of [`GeoIndex::nearest_each`]: unit vectors as
/// separate f64 columns (the per-point scan vectorises), tree positions, and the
/// current point's squared chords. Reused across blocks.
#[derive(Default)]
struct Candidates {
    x: Vec<f32>,
    y: Vec<f32>,
    z: Vec<f32>,
    pos: Vec<u32>,
    d2: Vec<f32>,
    /// The block's points whose tie window holds one candidate: (point, candidate).
    single: Vec<(u32, u32)>,
    /// The item nearest to the previous block's centre (tree position) and that
    /// chord: an upper bound of the next block's, one tree walk fewer.
    hint: Option<(u32, f64)>,
}

impl Candidates {
    fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.pos.clear();
    }
}

/// The bounding box of a batch of points, for Hilbert-curve keys that spend their bits on
/// the area the points cover.
struct CurveFrame {
    lon0: f64,
    lat0: f64,
    sx: f64,
    sy: f64,
}

impl CurveFrame {
    /// Bits per axis of [`CurveFrame::key`].
    const BITS: u32 = 16;

    fn of(points: &[LonLat]) -> Self {
        use rayon::prelude::*;
        let empty = || {
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            )
        };
        let (w, s, e, n) = points
            .par_iter()
            .fold(empty, |(w, s, e, n), p| {
                (w.min(p.lon), s.min(p.lat), e.max(p.lon), n.max(p.lat))
            })
            .reduce(empty, |a, b| {
                (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3))
            });
        let cells = f64::from((1u32 << Self::BITS) - 1);
        let scale = |lo: f64, hi: f64| if hi > lo { cells / (hi - lo) } else { 0.0 };
        Self {
            lon0: w,
            lat0: s,
            sx: scale(w, e),
            sy: scale(s, n),
        }
    }

    /// Position of `p` along a Hilbert curve (Hilbert 1891) of a 2¹⁶ × 2¹⁶ grid over the
    /// frame (cells of ≈ 20 m over a country of 1,500 km; points of one cell keep their
    /// given order): runs of consecutive points are tight clusters.
    fn key(&self, p: LonLat) -> u32 {
        let x = ((p.lon - self.lon0) * self.sx) as u16;
        let y = ((p.lat - self.lat0) * self.sy) as u16;
        fast_hilbert::xy2h(x, y, Self::BITS as u8)
    }
}

/// Bits of the bucket number of [`Slots::sorted`]: 2¹⁶ buckets, a 256 × 256 grid
/// over the points' bounding box.
const BUCKET_BITS: u32 = 16;

/// The index bits of a slot's first word.
const INDEX_MASK: u64 = 0xffff_ffff;

/// Runs [`Slots::refine`] sorts by comparison rather than by counting.
const SMALL_RUN: usize = 48;

/// The query points of [`GeoIndex::nearest_each`] in curve order, three words each:
/// `[key | index, lon bits, lat bits]` until answered, `[index | item << 32, metres
/// bits, _]` after (plain words: a zeroed [`Scratch`] array, on huge pages when large).
struct Slots {
    slots: Scratch<[u64; 3]>,
    /// A buffer of two words per point for [`Slots::unsort`].
    spare: Scratch<[u64; 2]>,
}

impl Slots {
    /// The points sorted by their [`CurveFrame`] keys, all on all cores: a counting sort
    /// into 2¹⁶ buckets by the key's top two bytes, then each bucket ordered by the next
    /// two bytes with counting sorts of its own (in cache; short runs by comparison).
    /// Every pass is stable and the index breaks ties, so the order is that of a sort of
    /// `key << 32 | index`.
    fn sorted(points: &[LonLat]) -> Self {
        use rayon::prelude::*;
        let n = points.len();
        let frame = CurveFrame::of(points);
        // The index in the low half, the key above it: one u64 sort key. In the first
        // half of a buffer that later holds the grouped answers of `unsort`.
        let mut spare = Scratch::<[u64; 2]>::zeroed(n);
        let keys = &mut bytemuck::cast_slice_mut::<[u64; 2], u64>(&mut spare)[..n];
        keys.par_iter_mut()
            .zip(points.par_iter())
            .enumerate()
            .for_each(|(i, (k, p))| *k = u64::from(frame.key(*p)) << 32 | i as u64);
        let bucket = |k: u64| (k >> (64 - BUCKET_BITS)) as usize;
        let nb = 1usize << BUCKET_BITS;
        let counts = keys
            .par_chunks(1 << 16)
            .fold(
                || vec![0u32; nb],
                |mut h, ks| {
                    for &k in ks {
                        h[bucket(k)] += 1;
                    }
                    h
                },
            )
            .reduce(
                || vec![0u32; nb],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        let mut start = Vec::with_capacity(nb + 1);
        let mut acc = 0usize;
        for &c in &counts {
            start.push(acc);
            acc += c as usize;
        }
        start.push(acc);
        // Parts of about equal size, cut at bucket boundaries: each thread scans all
        // keys and places those of its buckets in its own part of the buffer.
        let threads = rayon::current_num_threads().max(1);
        let mut cuts = vec![0usize];
        for t in 1..threads {
            let b = start.partition_point(|&s| s < t * n / threads).min(nb);
            cuts.push(b.max(*cuts.last().unwrap_or(&0)));
        }
        cuts.push(nb);
        let mut slots = Scratch::<[u64; 3]>::zeroed(n);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = &mut slots[..];
        for w in cuts.windows(2) {
            let (part, tail) = rest.split_at_mut(start[w[1]] - start[w[0]]);
            parts.push((w[0], w[1], part));
            rest = tail;
        }
        parts.into_par_iter().for_each(|(b0, b1, part)| {
            let base = start[b0];
            let mut next: Vec<usize> = start[b0..b1].iter().map(|s| s - base).collect();
            for &k in keys.iter() {
                let b = bucket(k);
                if (b0..b1).contains(&b) {
                    let p = points[(k & INDEX_MASK) as usize];
                    part[next[b - b0]] = [k, p.lon.to_bits(), p.lat.to_bits()];
                    next[b - b0] += 1;
                }
            }
        });
        let mut buckets = Vec::new();
        let mut rest = &mut slots[..];
        for &c in &counts {
            let (b, tail) = rest.split_at_mut(c as usize);
            if b.len() > 1 {
                buckets.push(b);
            }
            rest = tail;
        }
        buckets
            .into_par_iter()
            .for_each_init(Vec::new, |scratch, b| {
                Self::refine(b, 64 - BUCKET_BITS - 8, scratch)
            });
        Self { slots, spare }
    }

    /// Orders a run of slots with equal key bits above `shift + 8` by the key byte at
    /// `shift` (a stable counting sort through `scratch`), then each run of equal bytes
    /// by the next byte, down to the key's last; runs of at most [`SMALL_RUN`] slots are
    /// sorted by comparison of the whole first word instead.
    fn refine(run: &mut [[u64; 3]], shift: u32, scratch: &mut Vec<[u64; 3]>) {
        if run.len() <= SMALL_RUN {
            run.sort_unstable_by_key(|s| s[0]);
            return;
        }
        let digit = |s: &[u64; 3]| ((s[0] >> shift) & 0xff) as usize;
        let mut next = [0usize; 256];
        for s in run.iter() {
            next[digit(s)] += 1;
        }
        let mut ends = [0usize; 256];
        let mut acc = 0;
        for (c, e) in next.iter_mut().zip(ends.iter_mut()) {
            let len = *c;
            *c = acc;
            acc += len;
            *e = acc;
        }
        scratch.clear();
        scratch.resize(run.len(), [0; 3]);
        for s in run.iter() {
            let d = digit(s);
            scratch[next[d]] = *s;
            next[d] += 1;
        }
        run.copy_from_slice(scratch);
        if shift > 32 {
            let mut from = 0;
            for &end in &ends {
                if end - from > 1 {
                    Self::refine(&mut run[from..end], shift - 8, scratch);
                }
                from = end;
            }
        }
    }

    /// The answers back in the order given, each through `f`. In cache-friendly passes
    /// rather than one random write per answer: the answers are first grouped by ranges
    /// of 2¹⁴ or more consecutive indices (a few hundred sequential streams), each group
    /// is then put in index order in cache, and the whole is mapped through `f` in
    /// order (the result written once, sequentially).
    fn unsort<R: Send>(self, f: impl Fn(Option<(usize, f64)>) -> R + Sync) -> Vec<R> {
        use rayon::prelude::*;
        let Self {
            slots,
            spare: mut grouped,
        } = self;
        let n = slots.len();
        let span_bits = (usize::BITS - n.saturating_sub(1).leading_zeros())
            .saturating_sub(8)
            .max(14);
        let groups = n.div_ceil(1 << span_bits).max(1);
        // The index in an answered slot's (or grouped pair's) first word.
        let index = |w: u64| (w & INDEX_MASK) as usize;
        let part = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
        let hists: Vec<Vec<usize>> = slots
            .par_chunks(part)
            .map(|ch| {
                let mut h = vec![0usize; groups];
                for s in ch {
                    h[index(s[0]) >> span_bits] += 1;
                }
                h
            })
            .collect();
        // Group-major, part-minor regions: each part writes its own.
        let mut regions: Vec<Vec<&mut [[u64; 2]]>> =
            hists.iter().map(|_| Vec::with_capacity(groups)).collect();
        let mut rest = &mut grouped[..];
        for g in 0..groups {
            for (t, h) in hists.iter().enumerate() {
                let (r, tail) = rest.split_at_mut(h[g]);
                regions[t].push(r);
                rest = tail;
            }
        }
        slots
            .par_chunks(part)
            .zip(regions.into_par_iter())
            .for_each(|(ch, mut regs)| {
                let mut next = vec![0usize; groups];
                for s in ch {
                    let g = index(s[0]) >> span_bits;
                    regs[g][next[g]] = [s[0], s[1]];
                    next[g] += 1;
                }
            });
        // Each group now holds the answers of exactly its 2^span_bits indices: put them
        // in index order (in cache), then map the whole in order into the result.
        let low = (1usize << span_bits) - 1;
        grouped
            .par_chunks_mut(1 << span_bits)
            .for_each_init(Vec::new, |tmp, group| {
                tmp.clear();
                tmp.resize(group.len(), [0u64; 2]);
                for s in group.iter() {
                    tmp[index(s[0]) & low] = *s;
                }
                group.copy_from_slice(tmp);
            });
        let mut out = Vec::new();
        grouped
            .par_iter()
            .map(|s| {
                let item = (s[0] >> 32) as u32;
                f((item != u32::MAX).then(|| (item as usize, f64::from_bits(s[1]))))
            })
            .collect_into_vec(&mut out);
        out
    }

    /// The point of a slot (before it is answered).
    fn at(s: &[u64; 3]) -> LonLat {
        LonLat {
            lon: f64::from_bits(s[1]),
            lat: f64::from_bits(s[2]),
        }
    }
}

/// A query point with what the haversine formula needs of it, computed once.
struct Query {
    at: LonLat,
    xyz: [f64; 3],
    lat_rad: f64,
    cos_lat: f64,
}

impl Query {
    fn new(at: LonLat) -> Self {
        let lat_rad = at.lat.to_radians();
        Self {
            at,
            xyz: at.to_unit_vector(),
            lat_rad,
            cos_lat: lat_rad.cos(),
        }
    }

    /// As [`Query::new`], with the unit vector from `near`'s sines and cosines by the
    /// angle-addition formulas (a few ulps from `sin_cos`, far inside every slack of
    /// the chord bounds; the haversine inputs are exactly those of `new`). `near` moves
    /// to `at` when it is more than ~1° away (its own sines and cosines, exactly).
    fn near(at: LonLat, near: &mut Angles) -> Self {
        let lat_rad = at.lat.to_radians();
        let cos_lat = lat_rad.cos();
        let lon_rad = at.lon.to_radians();
        let (dlat, dlon) = (lat_rad - near.lat, lon_rad - near.lon);
        let (dlat, dlon) = if dlat.abs() > Angles::REACH || dlon.abs() > Angles::REACH {
            *near = Angles::of(at);
            (0.0, 0.0)
        } else {
            (dlat, dlon)
        };
        let (sa, ca) = small_sin_cos(dlat);
        let (so, co) = small_sin_cos(dlon);
        let slat = near.slat * ca + near.clat * sa;
        let slon = near.slon * co + near.clon * so;
        let clon = near.clon * co - near.slon * so;
        Self {
            at,
            xyz: [cos_lat * clon, cos_lat * slon, slat],
            lat_rad,
            cos_lat,
        }
    }

    /// [`haversine_m`](crate::geodesy::haversine_m) from the query to a point, with the point's cos(latitude)
    /// precomputed: the very same operations in the same order, so bit-identical.
    #[inline(always)]
    fn haversine_m(&self, p: &PointGeo) -> f64 {
        let p2 = p.lat.to_radians();
        let dp = p2 - self.lat_rad;
        let dl = (p.lon - self.at.lon).to_radians();
        let s1 = (dp / 2.0).sin();
        let s2 = (dl / 2.0).sin();
        let h = s1 * s1 + self.cos_lat * p.cos_lat * s2 * s2;
        2.0 * crate::geodesy::EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

/// Sines and cosines of a point's latitude and longitude, for [`Query::near`].
struct Angles {
    lat: f64,
    lon: f64,
    slat: f64,
    clat: f64,
    slon: f64,
    clon: f64,
}

impl Angles {
    /// Largest angle (radians, ≈ 0.9°) [`small_sin_cos`] is used for.
    const REACH: f64 = 1.0 / 64.0;

    fn of(at: LonLat) -> Self {
        let (lat, lon) = (at.lat.to_radians(), at.lon.to_radians());
        let (slat, clat) = lat.sin_cos();
        let (slon, clon) = lon.sin_cos();
        Self {
            lat,
            lon,
            slat,
            clat,
            slon,
            clon,
        }
    }
}

/// Sine and cosine of |x| ≤ [`Angles::REACH`] by their Taylor series, to within an
/// ulp (the first omitted terms are below 1e-20).
#[inline(always)]
fn small_sin_cos(x: f64) -> (f64, f64) {
    let x2 = x * x;
    let s = x * (1.0 - x2 * (1.0 / 6.0) * (1.0 - x2 * (1.0 / 20.0) * (1.0 - x2 * (1.0 / 42.0))));
    let c = 1.0
        - x2 * 0.5
            * (1.0 - x2 * (1.0 / 12.0) * (1.0 - x2 * (1.0 / 30.0) * (1.0 - x2 * (1.0 / 56.0))));
    (s, c)
}

/// Where a point is, in the form the haversine formula uses (tree order).
#[derive(Debug, Clone, Copy)]
struct PointGeo {
    lon: f64,
    lat: f64,
    cos_lat: f64,
}

/// The best candidates so far, by (f32-stored) squared chord, in a caller-provided
/// buffer. Holds the k nearest by that chord plus anything within
/// `SLACK_CHORD + 2 F32_CHORD_ERR` of the k-th: every item whose true chord is within
/// [`SLACK_CHORD`] of the true k-th is among them, so the final (haversine, id)
/// ranking can never miss an item.
struct Best<'b> {
    buf: &'b mut [(f64, u32)],
    len: usize,
    k: usize,
    prune2: f64,
    overflow: bool,
}

impl Best<'_> {
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

/// A k-d tree over items that have a position, answering in great-circle metres.
///
/// Points are kept as unit vectors in flat arrays, in tree order, with leaves of at
/// most [`LEAF`] points, so that a query touches a few contiguous cache lines.
#[derive(Debug, Clone)]
pub struct GeoIndex<T> {
    items: Vec<T>,
    /// The k-d tree, built by [`GeoIndex::new`] or, for [`GeoIndex::new_lazy`], on the
    /// first distance query.
    kd: OnceLock<Kd>,
    /// An `rstar` R-tree over lon/lat degrees for rectangle and polygon queries, which
    /// are planar in lon/lat by definition (GeoJSON, OGC `bbox`); built on first use,
    /// so layers never asked for a rectangle (5,000,000 hotspots) do not pay for it.
    rtree: OnceLock<RTree<LonLatEntry>>,
}

/// The k-d tree of a [`GeoIndex`]: flat arrays in tree order.
#[derive(Debug, Clone)]
struct Kd {
    nodes: Vec<Node>,
    /// Unit vectors rounded to f32, in tree order.
    xyz: Vec<[f32; 3]>,
    /// Positions, in tree order.
    geo: Vec<PointGeo>,
    /// Index in `items` of each point, in tree order.
    perm: Vec<u32>,
}

impl Kd {
    /// Bulk-load the tree over `items` (O(n log n), on two cores when large).
    fn build<T: Located>(items: &[T]) -> Self {
        let mut pts: Vec<([f32; 3], u32)> = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.location().to_unit_vector().map(|x| x as f32), i as u32))
            .collect();
        let mut nodes = Vec::with_capacity(2 * items.len() / (LEAF / 2).max(1) + 1);
        if !pts.is_empty() {
            build_node(&mut pts, 0, &mut nodes);
        }
        nodes.shrink_to_fit();
        let perm: Vec<u32> = pts.iter().map(|p| p.1).collect();
        let xyz = pts.into_iter().map(|p| p.0).collect();
        let geo = perm
            .iter()
            .map(|&i| {
                let p = items[i as usize].location();
                PointGeo {
                    lon: p.lon,
                    lat: p.lat,
                    cos_lat: p.lat.to_radians().cos(),
                }
            })
            .collect();
        Self {
            nodes,
            xyz,
            geo,
            perm,
        }
    }

    fn bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.xyz.capacity() * std::mem::size_of::<[f32; 3]>()
            + self.geo.capacity() * std::mem::size_of::<PointGeo>()
            + self.perm.capacity() * std::mem::size_of::<u32>()
    }
}

/// An entry of the lon/lat R-tree: a position in degrees and the item's index.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LonLatEntry {
    p: [f64; 2],
    idx: u32,
}

impl RTreeObject for LonLatEntry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.p)
    }
}

/// Subtrees with more points than this are built on two cores (`rayon::join`).
const PAR_BUILD: usize = 65_536;

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

impl<T: Located> GeoIndex<T> {
    /// Bulk-load an index over `items` (O(n log n)).
    pub fn new(items: Vec<T>) -> Self {
        let index = Self::new_lazy(items);
        index.kd();
        index
    }

    /// An index over `items` whose k-d tree is built on the first distance query
    /// (nearest, radius): for big layers that may only ever be listed or summed
    /// (5,000,000 hotspots: about 45 bytes per item and a second of build time saved
    /// until then).
    pub fn new_lazy(items: Vec<T>) -> Self {
        assert!(items.len() < u32::MAX as usize, "at most 2³² − 2 items");
        Self {
            items,
            kd: OnceLock::new(),
            rtree: OnceLock::new(),
        }
    }

    /// The k-d tree, built on first use.
    fn kd(&self) -> &Kd {
        self.kd.get_or_init(|| Kd::build(&self.items))
    }

    /// The indexed items, in the order given.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Consume the index and give back its items.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// Bytes held by the index beyond the items themselves (the k-d tree, if built).
    pub fn index_bytes(&self) -> usize {
        self.kd.get().map_or(0, Kd::bytes)
    }

    fn hit(&self, idx: usize, distance_m: f64) -> Hit<'_, T> {
        Hit {
            item: &self.items[idx],
            index: idx,
            distance_m,
        }
    }

    /// Depth-first k-nearest search by chord, nearer child first.
    fn knn_rec(
        &self,
        kd: &Kd,
        node: u32,
        q: &[f64; 3],
        best: &mut Best<'_>,
        keep: &impl Fn(&T) -> bool,
    ) {
        let n = &kd.nodes[node as usize];
        if n.right == 0 {
            // Nearest first within the leaf, so that `keep` (which may read the item,
            // a cache miss, and evaluate opening hours) runs on as few points as the
            // tightening bound allows.
            let (s, e) = (n.start as usize, n.end as usize);
            let mut near = [(0.0f64, 0u32); LEAF];
            let mut m = 0;
            for (pos, p) in kd.xyz[s..e].iter().enumerate() {
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
                if keep(&self.items[kd.perm[pos as usize] as usize]) {
                    best.push(d2, pos);
                    if best.overflow {
                        return;
                    }
                }
            }
            return;
        }
        let (a, b) = (node + 1, n.right);
        let da = kd.nodes[a as usize].dist2(q);
        let db = kd.nodes[b as usize].dist2(q);
        let (first, df, second, ds) = if da <= db {
            (a, da, b, db)
        } else {
            (b, db, a, da)
        };
        if df <= best.prune2 {
            self.knn_rec(kd, first, q, best, keep);
            if best.overflow {
                return;
            }
        }
        if ds <= best.prune2 {
            self.knn_rec(kd, second, q, best, keep);
        }
    }

    /// Visit every point (tree position) with f32 squared chord ≤ `r2`.
    fn radius_rec(
        kd: &Kd,
        node: u32,
        q: &[f64; 3],
        r2: f64,
        f: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        let n = &kd.nodes[node as usize];
        if n.dist2(q) > r2 {
            return true;
        }
        if n.right == 0 {
            let (s, e) = (n.start as usize, n.end as usize);
            for (pos, p) in kd.xyz[s..e].iter().enumerate() {
                if dist2(p, q) <= r2 && !f(s + pos) {
                    return false;
                }
            }
            return true;
        }
        Self::radius_rec(kd, node + 1, q, r2, f) && Self::radius_rec(kd, n.right, q, r2, f)
    }

    /// The `k` nearest items accepted by `keep`, no farther than `max_m` metres,
    /// nearest first (ties by id).
    pub fn nearest(
        &self,
        at: LonLat,
        k: usize,
        max_m: Option<f64>,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        if k == 0 || self.items.is_empty() {
            return Vec::new();
        }
        let kd = self.kd();
        let q = Query::new(at);
        let max_m = max_m.filter(|m| !m.is_nan()).unwrap_or(f64::INFINITY);
        let c = chord_for_distance(max_m) + SLACK_CHORD + F32_CHORD_ERR;
        let prune2 = c * c;
        let mut stack = [(0.0, 0u32); STACK_CANDIDATES];
        let mut heap = Vec::new();
        let mut cap = (k + 8).max(STACK_CANDIDATES);
        let (buf, len) = loop {
            let buf: &mut [(f64, u32)] = if cap <= STACK_CANDIDATES {
                &mut stack
            } else {
                heap.resize(cap, (0.0, 0));
                &mut heap
            };
            let mut best = Best {
                buf,
                len: 0,
                k,
                prune2,
                overflow: false,
            };
            self.knn_rec(kd, 0, &q.xyz, &mut best, &keep);
            if !best.overflow {
                let len = best.len;
                break (best.buf, len);
            }
            cap = (cap * 4).min(self.items.len() + 1);
        };
        let mut out: Vec<Hit<'_, T>> = Vec::with_capacity(len.min(k + 2));
        for &(_, pos) in &buf[..len] {
            let d = q.haversine_m(&kd.geo[pos as usize]);
            if d <= max_m {
                out.push(self.hit(kd.perm[pos as usize] as usize, d));
            }
        }
        out.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.item.id().cmp(b.item.id()))
        });
        out.truncate(k);
        out
    }

    /// The nearest item accepted by `keep` within `max_m` of each point, as (index in
    /// [`GeoIndex::items`], metres): what `nearest(p, 1, max_m, keep)` answers for each
    /// `p`, computed on all cores.
    ///
    /// A batch join rather than one search per point: the points are sorted along a
    /// Hilbert curve and cut into small blocks of neighbours; each block asks the tree
    /// once for the items that can be the nearest of any of its points (by the
    /// triangle inequality on chords: within `2 r + d` of the block's centre, `r` the
    /// block's radius and `d` the centre's nearest item, or within `r + max` when a
    /// cutoff is given), then scans that short list per point. The haversine ranking
    /// and its slack are those of [`GeoIndex::nearest`], so the answers are identical
    /// (tested). Answers come back in the order given.
    pub fn nearest_each(
        &self,
        points: &[LonLat],
        max_m: Option<f64>,
        keep: impl Fn(&T) -> bool + Sync,
    ) -> Vec<Option<(usize, f64)>>
    where
        T: Sync,
    {
        self.nearest_each_map(points, max_m, keep, |a| a)
    }

    /// [`GeoIndex::nearest_each`], each answer passed through `f` on its way into the
    /// result (one vector of the caller's records instead of two).
    pub fn nearest_each_map<R: Clone + Send + Sync>(
        &self,
        points: &[LonLat],
        max_m: Option<f64>,
        keep: impl Fn(&T) -> bool + Sync,
        f: impl Fn(Option<(usize, f64)>) -> R + Sync,
    ) -> Vec<R>
    where
        T: Sync,
    {
        use rayon::prelude::*;
        let n = points.len();
        if self.items.is_empty() || n == 0 {
            return vec![f(None); n];
        }
        let max_m = max_m.filter(|m| !m.is_nan()).unwrap_or(f64::INFINITY);
        if n > u32::MAX as usize || self.items.len() >= u32::MAX as usize {
            // Beyond the batch join's 32-bit indices: one search per point.
            return points
                .par_iter()
                .map(|p| {
                    let hit = self.nearest(*p, 1, Some(max_m), &keep);
                    f(hit.first().map(|h| (h.index, h.distance_m)))
                })
                .collect();
        }
        let mut slots = Slots::sorted(points);
        slots.slots.par_chunks_mut(EACH_CHUNK).for_each_init(
            || {
                (
                    Candidates::default(),
                    Vec::with_capacity(EACH_CHUNK),
                    Vec::with_capacity(EACH_CHUNK),
                )
            },
            |(scratch, qs, out), chunk| {
                qs.clear();
                out.clear();
                // Each chunk starts afresh: the same work whichever thread runs it.
                scratch.hint = None;
                let mut near = Angles::of(Slots::at(&chunk[0]));
                qs.extend(chunk.iter().map(|s| Query::near(Slots::at(s), &mut near)));
                for block in qs.chunks(EACH_BLOCK) {
                    self.nearest_block(block, max_m, &keep, scratch, out);
                }
                // The answer takes the point's place: (index | item << 32, metres).
                for (s, a) in chunk.iter_mut().zip(out.iter()) {
                    let (item, d) = a.map_or((u32::MAX, 0.0), |(i, d)| (i as u32, d));
                    *s = [(s[0] & INDEX_MASK) | u64::from(item) << 32, d.to_bits(), 0];
                }
            },
        );
        slots.unsort(f)
    }

    /// [`GeoIndex::nearest_each`] for one block of neighbouring query points: appends
    /// one answer per point to `out`.
    fn nearest_block(
        &self,
        qs: &[Query],
        max_m: f64,
        keep: &impl Fn(&T) -> bool,
        cand: &mut Candidates,
        out: &mut Vec<Option<(usize, f64)>>,
    ) {
        let kd = self.kd();
        // The block's centre (in R³, not on the sphere: chords are Euclidean) and radius.
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for q in qs {
            for d in 0..3 {
                lo[d] = lo[d].min(q.xyz[d]);
                hi[d] = hi[d].max(q.xyz[d]);
            }
        }
        let c = [
            (lo[0] + hi[0]) / 2.0,
            (lo[1] + hi[1]) / 2.0,
            (lo[2] + hi[2]) / 2.0,
        ];
        let rb = qs
            .iter()
            .map(|q| dist2_f64(&q.xyz, &c).sqrt())
            .fold(0.0, f64::max);
        // Every error term of the chord comparisons, generously (see `Best`).
        let err = 2.0 * SLACK_CHORD + 8.0 * F32_CHORD_ERR;
        let cmax = chord_for_distance(max_m);
        // The nearest accepted item to the centre bounds every point's answer:
        // nearest(p) ≤ |p − c| + |c − s_c| ≤ rb + d_c; any accepted item s at d ≥ d_c
        // from the centre bounds it as well, if less tightly. The previous block's
        // nearest item, when that block was close by, spares a tree walk.
        let hinted = cand.hint.and_then(|(pos, prev)| {
            let d = dist2(&kd.xyz[pos as usize], &c).sqrt();
            (d <= cmax && d <= 2.0 * (prev + rb) && rb <= SPLIT * d).then_some(d)
        });
        let dc = match hinted {
            Some(d) => d,
            None => {
                let lim = rb + cmax + err;
                let mut buf = [(0.0, 0u32); STACK_CANDIDATES];
                let mut best = Best {
                    buf: &mut buf,
                    len: 0,
                    k: 1,
                    prune2: lim * lim,
                    overflow: false,
                };
                self.knn_rec(kd, 0, &c, &mut best, keep);
                if best.len == 0 {
                    // No accepted item within rb + max of the centre: none within max of
                    // any point.
                    out.extend(qs.iter().map(|_| None));
                    return;
                }
                let dc = best.buf[0].0.sqrt();
                if qs.len() > 1 && rb > SPLIT * dc.min(cmax) + 1e-5 {
                    // A block spread wider than its answers are far (a jump of the
                    // curve, or a dense area): its candidate list would be long,
                    // so halve it.
                    let (a, b) = qs.split_at(qs.len() / 2);
                    self.nearest_block(a, max_m, keep, cand, out);
                    self.nearest_block(b, max_m, keep, cand, out);
                    return;
                }
                dc
            }
        };
        // Any item that can be some point's answer (or in its tie window) lies within R
        // of the centre.
        let r = rb + (rb + dc).min(cmax) + err;
        cand.clear();
        Self::radius_rec(kd, 0, &c, r * r, &mut |pos| {
            if keep(&self.items[kd.perm[pos] as usize]) {
                // Offsets from the centre, small numbers: f32 keeps them to ~1e-12.
                let p = kd.xyz[pos];
                cand.x.push((f64::from(p[0]) - c[0]) as f32);
                cand.y.push((f64::from(p[1]) - c[1]) as f32);
                cand.z.push((f64::from(p[2]) - c[2]) as f32);
                cand.pos.push(pos as u32);
            }
            true
        });
        let n = cand.pos.len();
        // The next block's hint: the candidate nearest to this centre (the list holds
        // it: it is within d_c ≤ R).
        cand.hint = cand
            .x
            .iter()
            .zip(&cand.y)
            .zip(&cand.z)
            .map(|((&x, &y), &z)| x * x + y * y + z * z)
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(j, d2)| (cand.pos[j], f64::from(d2).sqrt()));
        // Padded to whole lanes with far-away candidates (their squared chord is
        // infinite), so that the scan below runs in whole vectors.
        let padded = n.div_ceil(LANES) * LANES;
        cand.x.resize(padded, f32::INFINITY);
        cand.y.resize(padded, f32::INFINITY);
        cand.z.resize(padded, f32::INFINITY);
        cand.d2.resize(padded, 0.0);
        let base = out.len();
        cand.single.clear();
        for (i, q) in qs.iter().enumerate() {
            if n == 0 {
                out.push(None);
                continue;
            }
            let (qx, qy, qz) = (
                (q.xyz[0] - c[0]) as f32,
                (q.xyz[1] - c[1]) as f32,
                (q.xyz[2] - c[2]) as f32,
            );
            // Squared chords and their minimum in one pass, lane by lane (`if v < m`
            // compiles to a vector minimum, `f32::min` would not).
            let mut lane = [f32::INFINITY; LANES];
            for (((d2, x), y), z) in cand
                .d2
                .chunks_exact_mut(LANES)
                .zip(cand.x.chunks_exact(LANES))
                .zip(cand.y.chunks_exact(LANES))
                .zip(cand.z.chunks_exact(LANES))
            {
                let (Ok(x), Ok(y), Ok(z)) = (
                    <&[f32; LANES]>::try_from(x),
                    <&[f32; LANES]>::try_from(y),
                    <&[f32; LANES]>::try_from(z),
                ) else {
                    continue;
                };
                let mut v = [0f32; LANES];
                for l in 0..LANES {
                    let (dx, dy, dz) = (x[l] - qx, y[l] - qy, z[l] - qz);
                    v[l] = dx * dx + dy * dy + dz * dz;
                }
                d2.copy_from_slice(&v);
                for l in 0..LANES {
                    lane[l] = if v[l] < lane[l] { v[l] } else { lane[l] };
                }
            }
            let m = lane
                .iter()
                .fold(f32::INFINITY, |a, &b| if b < a { b } else { a })
                .to_bits();
            if f64::from(f32::from_bits(m)).sqrt() > cmax + SLACK_CHORD + 4.0 * F32_CHORD_ERR {
                // Even the nearest candidate is beyond the cutoff (its chord, less every
                // rounding error, is longer than the cutoff's): no haversine needed.
                out.push(None);
                continue;
            }
            // The tie window of `Best` (plus the f32 rounding of the offsets), then
            // the haversine distance decides (ties by id).
            let w = f64::from(f32::from_bits(m)).sqrt() * (1.0 + 1e-6)
                + SLACK_CHORD
                + 3.0 * F32_CHORD_ERR;
            let w2 = (w * w) as f32 * (1.0 + 1e-6);
            let mut answer: Option<(usize, f64)> = None;
            // Nearly always the window holds the minimum alone: count the window and sum
            // its positions in one vectorised pass (the sum is the position when the
            // count is one), then only that one is measured.
            let (mut count, mut sum) = ([0u32; LANES], [0u32; LANES]);
            for (k, d2) in cand.d2.chunks_exact(LANES).enumerate() {
                let Ok(d2) = <&[f32; LANES]>::try_from(d2) else {
                    continue;
                };
                for l in 0..LANES {
                    let hit = u32::from(d2[l] <= w2);
                    count[l] += hit;
                    sum[l] += hit * (k * LANES + l) as u32;
                }
            }
            let in_window: u32 = count.iter().sum();
            if in_window == 1 {
                // Measured below, with the block's other such points: independent
                // haversines, which the processor overlaps.
                cand.single.push((i as u32, sum.iter().sum()));
                out.push(None);
                continue;
            }
            for (j, &d2) in cand.d2.iter().enumerate() {
                if d2 > w2 {
                    continue;
                }
                let pos = cand.pos[j] as usize;
                let d = q.haversine_m(&kd.geo[pos]);
                if d > max_m {
                    continue;
                }
                let idx = kd.perm[pos] as usize;
                let better = match answer {
                    None => true,
                    Some((bi, bd)) => d
                        .total_cmp(&bd)
                        .then_with(|| self.items[idx].id().cmp(self.items[bi].id()))
                        .is_lt(),
                };
                if better {
                    answer = Some((idx, d));
                }
            }
            out.push(answer);
        }
        for &(i, j) in &cand.single {
            let pos = cand.pos[j as usize] as usize;
            let d = qs[i as usize].haversine_m(&kd.geo[pos]);
            if d <= max_m {
                out[base + i as usize] = Some((kd.perm[pos] as usize, d));
            }
        }
    }

    /// The single nearest item accepted by `keep`, if any.
    pub fn nearest_one(&self, at: LonLat, keep: impl Fn(&T) -> bool) -> Option<Hit<'_, T>> {
        self.nearest(at, 1, None, keep).into_iter().next()
    }

    /// Every item accepted by `keep` within `radius_m` metres (inclusive), nearest first.
    pub fn within_radius(
        &self,
        at: LonLat,
        radius_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let mut out = self.within_radius_unsorted(at, radius_m, keep);
        out.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.item.id().cmp(b.item.id()))
        });
        out
    }

    /// As [`GeoIndex::within_radius`], in no particular order (cheaper).
    pub fn within_radius_unsorted(
        &self,
        at: LonLat,
        radius_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let kd = self.kd();
        let mut out = Vec::new();
        if radius_m.is_nan() || radius_m < 0.0 || self.items.is_empty() {
            return out;
        }
        let q = Query::new(at);
        let c = chord_for_distance(radius_m) + SLACK_CHORD + F32_CHORD_ERR;
        Self::radius_rec(kd, 0, &q.xyz, c * c, &mut |pos| {
            let d = q.haversine_m(&kd.geo[pos]);
            if d <= radius_m {
                let idx = kd.perm[pos] as usize;
                if keep(&self.items[idx]) {
                    out.push(self.hit(idx, d));
                }
            }
            true
        });
        out
    }

    /// Whether any item accepted by `keep` lies within `radius_m` metres.
    pub fn any_within(&self, at: LonLat, radius_m: f64, keep: impl Fn(&T) -> bool) -> bool {
        let kd = self.kd();
        if radius_m.is_nan() || radius_m < 0.0 || self.items.is_empty() {
            return false;
        }
        let q = Query::new(at);
        let c = chord_for_distance(radius_m) + SLACK_CHORD + F32_CHORD_ERR;
        let mut found = false;
        Self::radius_rec(kd, 0, &q.xyz, c * c, &mut |pos| {
            found =
                q.haversine_m(&kd.geo[pos]) <= radius_m && keep(&self.items[kd.perm[pos] as usize]);
            !found
        });
        found
    }

    /// The lon/lat R-tree, bulk-loaded on first use.
    fn rtree(&self) -> &RTree<LonLatEntry> {
        self.rtree.get_or_init(|| {
            RTree::bulk_load(
                self.items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| {
                        let p = it.location();
                        LonLatEntry {
                            p: [p.lon, p.lat],
                            idx: i as u32,
                        }
                    })
                    .collect(),
            )
        })
    }

    /// Every item accepted by `keep` inside `bbox` (edges included), ordered by id.
    /// Answered by the `rstar` R-tree over lon/lat (a box crossing the antimeridian is
    /// split in two).
    pub fn within_bbox(&self, bbox: &BBox, keep: impl Fn(&T) -> bool) -> Vec<Hit<'_, T>> {
        let spans = if bbox.west <= bbox.east {
            vec![(bbox.west, bbox.east)]
        } else {
            vec![(bbox.west, 180.0), (-180.0, bbox.east)]
        };
        let tree = self.rtree();
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<Hit<'_, T>> = Vec::new();
        for (w, e) in spans {
            let env = AABB::from_corners([w, bbox.south], [e, bbox.north]);
            for entry in tree.locate_in_envelope(&env) {
                let idx = entry.idx as usize;
                let item = &self.items[idx];
                if bbox.contains(item.location()) && keep(item) && seen.insert(idx) {
                    out.push(self.hit(idx, 0.0));
                }
            }
        }
        out.sort_by(|a, b| a.item.id().cmp(b.item.id()));
        out
    }

    /// Every item accepted by `keep` inside `polygon` (planar lon/lat test, as GeoJSON
    /// viewers draw it; points on the boundary excluded), ordered by id.
    pub fn within_polygon(
        &self,
        polygon: &Polygon<f64>,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let Some(rect) = polygon.bounding_rect() else {
            return Vec::new();
        };
        let Ok(bbox) = BBox::new(rect.min().x, rect.min().y, rect.max().x, rect.max().y) else {
            return Vec::new();
        };
        let mut out = self.within_bbox(&bbox, |it| {
            let p = it.location();
            polygon.contains(&Point::new(p.lon, p.lat)) && keep(it)
        });
        out.sort_by(|a, b| a.item.id().cmp(b.item.id()));
        out
    }
}

/// Filters for station queries. The default accepts every station.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationFilter {
    /// Only this kind.
    pub kind: Option<StationKind>,
    /// Only stations offering all of these.
    pub amenities: AmenitySet,
    /// Only stations open at this local time.
    pub open_at: Option<NaiveDateTime>,
    /// Only stations with at least this many free seats (capacity less reported occupancy).
    pub min_free: Option<u32>,
}

impl StationFilter {
    /// Whether `s` passes every filter.
    pub fn accepts(&self, s: &Station) -> bool {
        self.kind.is_none_or(|k| s.kind == k)
            && s.amenities.is_superset(self.amenities)
            && self.open_at.is_none_or(|t| s.opening_hours.is_open_at(t))
            && self.min_free.is_none_or(|m| s.free_seats() >= m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::haversine_m;
    use crate::hours::OpeningHours;
    use crate::model::{Amenity, StationKind};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn station(id: String, lon: f64, lat: f64, rng: &mut ChaCha8Rng) -> Station {
        let amenities = Amenity::ALL
            .into_iter()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        let hours = [
            "24/7",
            "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
            "18:00-06:00",
            "off",
        ][rng.random_range(0..4)];
        Station {
            id,
            name: "s".into(),
            name_zh: None,
            kind: if rng.random_bool(0.8) {
                StationKind::RestStation
            } else {
                StationKind::ChildcareClass
            },
            location: LonLat::new(lon, lat).unwrap(),
            amenities,
            capacity: rng.random_range(0..40),
            occupancy: None,
            opening_hours: hours.parse::<OpeningHours>().unwrap(),
            grid_unit: None,
            operator: None,
            address: None,
        }
    }

    /// Random stations: a mix of worldwide points, a cluster at the antimeridian,
    /// one near the north pole, and a dense town with exact duplicates (ties).
    fn random_stations(seed: u64, n: usize) -> Vec<Station> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (lon, lat) = match i % 5 {
                0 => (
                    rng.random_range(-180.0..=180.0),
                    rng.random_range(-90.0..=90.0),
                ),
                1 => {
                    let lon: f64 = rng.random_range(178.0..182.0);
                    (
                        if lon > 180.0 { lon - 360.0 } else { lon },
                        rng.random_range(-5.0..5.0),
                    )
                }
                2 => (
                    rng.random_range(-180.0..180.0),
                    rng.random_range(84.0..=90.0),
                ),
                3 => (
                    118.47 + rng.random_range(-0.05..0.05),
                    24.72 + rng.random_range(-0.05..0.05),
                ),
                _ => {
                    // Duplicate an earlier position to force exact ties.
                    let j = rng.random_range(0..out.len().max(1));
                    out.get(j)
                        .map(|s: &Station| (s.location.lon, s.location.lat))
                        .unwrap_or((118.47, 24.72))
                }
            };
            out.push(station(format!("S{i:05}"), lon, lat, &mut rng));
        }
        out
    }

    fn random_query(rng: &mut ChaCha8Rng) -> LonLat {
        let (lon, lat) = match rng.random_range(0..4) {
            0 => (
                rng.random_range(-180.0..=180.0),
                rng.random_range(-90.0..=90.0),
            ),
            1 => (
                if rng.random_bool(0.5) {
                    179.99
                } else {
                    -179.99
                },
                rng.random_range(-3.0..3.0),
            ),
            2 => (
                rng.random_range(-180.0..180.0),
                rng.random_range(86.0..=90.0),
            ),
            _ => (
                118.47 + rng.random_range(-0.06..0.06),
                24.72 + rng.random_range(-0.06..0.06),
            ),
        };
        LonLat::new(lon, lat).unwrap()
    }

    fn random_filter(rng: &mut ChaCha8Rng) -> StationFilter {
        let mut f = StationFilter::default();
        if rng.random_bool(0.3) {
            f.kind = Some(StationKind::RestStation);
        }
        if rng.random_bool(0.3) {
            f.amenities.insert(Amenity::ALL[rng.random_range(0..9)]);
        }
        if rng.random_bool(0.3) {
            f.open_at = Some(
                chrono::NaiveDate::from_ymd_opt(2026, 12, rng.random_range(1..=7))
                    .unwrap()
                    .and_hms_opt(rng.random_range(0..24), 0, 0)
                    .unwrap(),
            );
        }
        if rng.random_bool(0.2) {
            f.min_free = Some(rng.random_range(0..30));
        }
        f
    }

    /// The brute-force oracle: every station, haversine, sorted by (distance, id).
    fn oracle<'a>(stations: &'a [Station], at: LonLat, f: &StationFilter) -> Vec<(f64, &'a str)> {
        let mut v: Vec<(f64, &str)> = stations
            .iter()
            .filter(|s| f.accepts(s))
            .map(|s| (haversine_m(at, s.location), s.id.as_str()))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        v
    }

    fn ids<T: Located>(hits: &[Hit<'_, T>]) -> Vec<String> {
        hits.iter().map(|h| h.item.id().to_string()).collect()
    }

    #[test]
    fn nearest_matches_brute_force() {
        for seed in 0..6 {
            let stations = random_stations(seed, 1500);
            // Odd seeds: the tree is built by the first query.
            let index = if seed % 2 == 0 {
                GeoIndex::new(stations.clone())
            } else {
                let lazy = GeoIndex::new_lazy(stations.clone());
                assert_eq!(lazy.index_bytes(), 0);
                lazy
            };
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
            for _ in 0..200 {
                let at = random_query(&mut rng);
                let f = random_filter(&mut rng);
                let k = rng.random_range(1..12);
                let max_m = rng
                    .random_bool(0.3)
                    .then(|| rng.random_range(100.0..3_000_000.0));
                let got = index.nearest(at, k, max_m, |s| f.accepts(s));
                let want: Vec<_> = oracle(&stations, at, &f)
                    .into_iter()
                    .filter(|(d, _)| max_m.is_none_or(|m| *d <= m))
                    .take(k)
                    .collect();
                assert_eq!(
                    ids(&got),
                    want.iter().map(|w| w.1.to_string()).collect::<Vec<_>>(),
                    "seed {seed} at {at:?} k {k} filter {f:?}"
                );
                for (g, w) in got.iter().zip(&want) {
                    assert!((g.distance_m - w.0).abs() < 0.01);
                }
            }
        }
    }

    #[test]
    fn radius_matches_brute_force() {
        let stations = random_stations(7, 2000);
        let index = GeoIndex::new(stations.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for _ in 0..300 {
            let at = random_query(&mut rng);
            let f = random_filter(&mut rng);
            let r = 10f64.powf(rng.random_range(1.0..7.3));
            let got = index.within_radius(at, r, |s| f.accepts(s));
            let want: Vec<String> = oracle(&stations, at, &f)
                .into_iter()
                .filter(|(d, _)| *d <= r)
                .map(|(_, id)| id.to_string())
                .collect();
            assert_eq!(ids(&got), want, "at {at:?} r {r}");
            assert_eq!(index.any_within(at, r, |s| f.accepts(s)), !want.is_empty());
        }
    }

    #[test]
    fn bbox_and_polygon_match_brute_force() {
        let stations = random_stations(9, 2000);
        let index = GeoIndex::new(stations.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        for _ in 0..300 {
            let a = random_query(&mut rng);
            let w = a.lon;
            let e = if rng.random_bool(0.2) {
                // Crossing the antimeridian.
                -180.0 + rng.random_range(0.0..5.0)
            } else {
                (w + rng.random_range(0.0..60.0)).min(180.0)
            };
            let s = a.lat - rng.random_range(0.0..20.0);
            let bbox = BBox::new(w, s.max(-90.0), e, a.lat).unwrap();
            let f = random_filter(&mut rng);
            let got = index.within_bbox(&bbox, |st| f.accepts(st));
            let mut want: Vec<String> = stations
                .iter()
                .filter(|st| bbox.contains(st.location) && f.accepts(st))
                .map(|st| st.id.clone())
                .collect();
            want.sort();
            assert_eq!(ids(&got), want, "{bbox:?}");
        }
        // Polygon: a triangle around Anhai.
        let tri = Polygon::new(
            vec![
                (118.43, 24.68),
                (118.52, 24.69),
                (118.47, 24.76),
                (118.43, 24.68),
            ]
            .into(),
            vec![],
        );
        let got = index.within_polygon(&tri, |_| true);
        let mut want: Vec<String> = stations
            .iter()
            .filter(|s| tri.contains(&Point::new(s.location.lon, s.location.lat)))
            .map(|s| s.id.clone())
            .collect();
        want.sort();
        assert!(!want.is_empty());
        assert_eq!(ids(&got), want);
    }

    #[test]
    fn bbox_parsing_errors() {
        assert!("1,2,3".parse::<BBox>().is_err());
        assert!("a,b,c,d".parse::<BBox>().is_err());
        assert!(matches!(
            "0,10,1,5".parse::<BBox>(),
            Err(BBoxError::Inverted { .. })
        ));
        assert!(matches!(
            "0,-91,1,5".parse::<BBox>(),
            Err(BBoxError::Coord(_))
        ));
        assert!("118.4,24.6,118.5,24.8".parse::<BBox>().is_ok());
    }

    #[test]
    fn precomputed_haversine_is_bit_identical() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..20_000 {
            let a = random_query(&mut rng);
            let b = random_query(&mut rng);
            let g = PointGeo {
                lon: b.lon,
                lat: b.lat,
                cos_lat: b.lat.to_radians().cos(),
            };
            assert_eq!(
                Query::new(a).haversine_m(&g).to_bits(),
                haversine_m(a, b).to_bits()
            );
        }
    }

    #[test]
    fn many_ties_and_large_k_match_brute_force() {
        // 300 stations on 3 spots: every query is a wall of exact ties, which
        // overflows the on-stack candidate buffer and takes the heap path.
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let spots = [(118.47, 24.72), (118.4701, 24.72), (-179.9999, 0.0)];
        let stations: Vec<Station> = (0..300)
            .map(|i| {
                let (lon, lat) = spots[i % 3];
                station(format!("T{:03}", (i * 7919) % 1000), lon, lat, &mut rng)
            })
            .collect();
        let index = GeoIndex::new(stations.clone());
        for _ in 0..100 {
            let at = random_query(&mut rng);
            let f = random_filter(&mut rng);
            for k in [1, 5, 31, 40, 150, 400] {
                let got = index.nearest(at, k, None, |s| f.accepts(s));
                let want: Vec<String> = oracle(&stations, at, &f)
                    .into_iter()
                    .take(k)
                    .map(|w| w.1.to_string())
                    .collect();
                assert_eq!(ids(&got), want, "at {at:?} k {k}");
            }
        }
    }

    #[test]
    fn nearest_each_matches_nearest_and_brute_force() {
        // Worldwide, antimeridian, polar and duplicate-heavy stations (random_stations),
        // plus a dense town where blocks of query points share candidate lists.
        let mut stations = random_stations(13, 1500);
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for i in 0..1500 {
            let (lon, lat) = (
                118.47 + rng.random_range(-0.02..0.02),
                24.72 + rng.random_range(-0.02..0.02),
            );
            stations.push(station(format!("D{i:05}"), lon, lat, &mut rng));
        }
        let index = GeoIndex::new(stations.clone());
        let mut pts: Vec<LonLat> = (0..3000).map(|_| random_query(&mut rng)).collect();
        // Dense queries, some exactly on stations (exact ties at distance 0).
        for _ in 0..6000 {
            pts.push(
                LonLat::new(
                    118.47 + rng.random_range(-0.025..0.025),
                    24.72 + rng.random_range(-0.025..0.025),
                )
                .unwrap(),
            );
        }
        for s in stations.iter().step_by(7) {
            pts.push(s.location);
        }
        let keep = |s: &Station| s.capacity > 10;
        let kept: Vec<Station> = stations.iter().filter(|s| keep(s)).cloned().collect();
        for max_m in [None, Some(20_000.0), Some(500.0), Some(60.0), Some(0.0)] {
            let each = index.nearest_each(&pts, max_m, keep);
            assert_eq!(each.len(), pts.len());
            for (p, got) in pts.iter().zip(&each) {
                let want = index
                    .nearest(*p, 1, max_m, keep)
                    .first()
                    .map(|h| (h.index, h.distance_m));
                assert_eq!(*got, want, "at {p:?} max {max_m:?}");
            }
            // And straight against the oracle, on a sample.
            for (p, got) in pts.iter().zip(&each).step_by(13) {
                let want = oracle(&kept, *p, &StationFilter::default())
                    .into_iter()
                    .find(|(d, _)| max_m.is_none_or(|m| *d <= m));
                assert_eq!(
                    got.map(|(i, _)| stations[i].id.clone()),
                    want.map(|w| w.1.to_string()),
                    "at {p:?} max {max_m:?}"
                );
            }
        }
        assert!(GeoIndex::<Station>::new(vec![])
            .nearest_each(&pts, None, |_| true)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn nearest_each_of_a_large_batch_matches_nearest() {
        // Enough points for several index groups when the answers are put back in
        // order (2¹⁴ each) and for one part of the bucket sort per thread; clustered
        // like towns (one bucket holds thousands), with exact duplicates.
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        let stations: Vec<Station> = (0..4000)
            .map(|i| {
                let (lon, lat) = (
                    113.0 + rng.random_range(-0.3..0.3),
                    23.0 + rng.random_range(-0.3..0.3),
                );
                station(format!("T{i:05}"), lon, lat, &mut rng)
            })
            .collect();
        let index = GeoIndex::new(stations);
        let mut pts: Vec<LonLat> = Vec::new();
        while pts.len() < 3 * (1 << 14) + 777 {
            let (clon, clat) = (
                113.0 + rng.random_range(-0.35..0.35),
                23.0 + rng.random_range(-0.35..0.35),
            );
            for _ in 0..rng.random_range(1..400) {
                let p = LonLat::new(
                    clon + rng.random_range(-0.004..0.004),
                    clat + rng.random_range(-0.004..0.004),
                )
                .unwrap();
                pts.push(p);
                if rng.random_bool(0.05) {
                    pts.push(p);
                }
            }
        }
        for max_m in [Some(500.0), None] {
            let each = index.nearest_each(&pts, max_m, |_| true);
            assert_eq!(each.len(), pts.len());
            let mapped = index.nearest_each_map(&pts, max_m, |_| true, |a| a.map(|(i, _)| i));
            for ((p, got), m) in pts.iter().zip(&each).zip(&mapped) {
                let want = index
                    .nearest(*p, 1, max_m, |_| true)
                    .first()
                    .map(|h| (h.index, h.distance_m));
                assert_eq!(*got, want, "at {p:?} max {max_m:?}");
                assert_eq!(*m, want.map(|w| w.0));
            }
        }
        assert!(index.nearest_each(&[], None, |_| true).is_empty());
    }

    #[test]
    fn slots_are_sorted_by_key_then_index() {
        // Clustered so that buckets hold thousands (several levels of refinement),
        // with duplicates (equal keys: the index decides) and a few far points.
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let mut pts: Vec<LonLat> = Vec::new();
        while pts.len() < 200_000 {
            let (clon, clat) = (rng.random_range(100.0..125.0), rng.random_range(20.0..45.0));
            let spread = [0.0001, 0.01, 0.2][rng.random_range(0..3)];
            for _ in 0..rng.random_range(1..20_000) {
                let p = LonLat::new(
                    clon + rng.random_range(-spread..spread),
                    clat + rng.random_range(-spread..spread),
                )
                .unwrap();
                pts.push(p);
                if rng.random_bool(0.1) {
                    pts.push(p);
                }
            }
        }
        let frame = CurveFrame::of(&pts);
        let mut want: Vec<u64> = pts
            .iter()
            .enumerate()
            .map(|(i, p)| u64::from(frame.key(*p)) << 32 | i as u64)
            .collect();
        want.sort_unstable();
        let slots = Slots::sorted(&pts).slots;
        let got: Vec<u64> = slots.iter().map(|s| s[0]).collect();
        assert!(got == want, "not in key-then-index order");
        for s in slots.iter() {
            assert_eq!(Slots::at(s), pts[(s[0] & INDEX_MASK) as usize]);
        }
    }

    #[test]
    fn large_index_built_in_parallel_matches_brute_force() {
        // More than 2 × PAR_BUILD points: the tree is built on two threads.
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        let pts: Vec<Candidate> = (0..(2 * PAR_BUILD + 5_000))
            .map(|i| Candidate {
                id: format!("C{i:06}"),
                name: None,
                location: random_query(&mut rng),
                capacity: None,
            })
            .collect();
        let index = GeoIndex::new(pts.clone());
        for _ in 0..40 {
            let at = random_query(&mut rng);
            let mut want: Vec<(f64, &str)> = pts
                .iter()
                .map(|c| (haversine_m(at, c.location), c.id.as_str()))
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
            let got = index.nearest(at, 7, None, |_| true);
            assert_eq!(
                ids(&got),
                want[..7]
                    .iter()
                    .map(|w| w.1.to_string())
                    .collect::<Vec<_>>()
            );
            let r = want[50].0;
            assert_eq!(index.within_radius(at, r, |_| true).len(), 51);
        }
    }

    #[test]
    fn empty_index_and_zero_k() {
        let index: GeoIndex<Station> = GeoIndex::new(vec![]);
        let at = LonLat::new(0.0, 0.0).unwrap();
        assert!(index.nearest(at, 5, None, |_| true).is_empty());
        let index = GeoIndex::new(random_stations(1, 10));
        assert!(index.nearest(at, 0, None, |_| true).is_empty());
        assert!(index.within_radius(at, -1.0, |_| true).is_empty());
    }
}
