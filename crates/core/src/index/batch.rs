//! The batch join: the nearest accepted item of each of millions of points
//! ([`GeoIndex::nearest_each`]), blocks of neighbouring points sharing one candidate
//! list taken from the k-d tree.

use super::curve::{Slots, INDEX_MASK};
use super::geo_index::GeoIndex;
use super::kdtree::{dist2, Best, F32_CHORD_ERR, SLACK_CHORD, STACK_CANDIDATES};
use super::located::Located;
use super::trig::{Angles, Query};
use crate::geodesy::{chord_for_distance, LonLat};

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

impl<T: Located> GeoIndex<T> {
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
        if self.is_empty() || n == 0 {
            return vec![f(None); n];
        }
        let max_m = max_m.filter(|m| !m.is_nan()).unwrap_or(f64::INFINITY);
        if n > u32::MAX as usize || self.len() >= u32::MAX as usize {
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
                let mut best = Best::new(&mut buf, 1, lim * lim);
                kd.knn(&c, &mut best, &|i| keep(&self.items()[i]));
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
        kd.radius(&c, r * r, &mut |pos| {
            if keep(&self.items()[kd.perm[pos] as usize]) {
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
                        .then_with(|| self.items()[idx].id().cmp(self.items()[bi].id()))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::StationFilter;
    use crate::index::test_utilities::*;
    use crate::model::Station;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

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
}
