//! The points of a batch along a Hilbert curve (Hilbert 1891): keys over the points'
//! bounding box, a parallel counting sort by key, and the answers put back in the
//! order given. Runs of consecutive points are then tight clusters, which the batch
//! join answers block by block.

use super::scratch::Scratch;
use crate::geodesy::LonLat;

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
pub(super) const INDEX_MASK: u64 = 0xffff_ffff;

/// Runs [`Slots::refine`] sorts by comparison rather than by counting.
const SMALL_RUN: usize = 48;

/// The query points of [`GeoIndex::nearest_each`](super::GeoIndex::nearest_each) in curve order, three words each:
/// `[key | index, lon bits, lat bits]` until answered, `[index | item << 32, metres
/// bits, _]` after (plain words: a zeroed [`Scratch`] array, on huge pages when large).
pub(super) struct Slots {
    /// The slots, in curve order.
    pub(super) slots: Scratch<[u64; 3]>,
    /// A buffer of two words per point for [`Slots::unsort`].
    spare: Scratch<[u64; 2]>,
}

impl Slots {
    /// The points sorted by their [`CurveFrame`] keys, all on all cores: a counting sort
    /// into 2¹⁶ buckets by the key's top two bytes, then each bucket ordered by the next
    /// two bytes with counting sorts of its own (in cache; short runs by comparison).
    /// Every pass is stable and the index breaks ties, so the order is that of a sort of
    /// `key << 32 | index`.
    pub(super) fn sorted(points: &[LonLat]) -> Self {
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
    pub(super) fn unsort<R: Send>(self, f: impl Fn(Option<(usize, f64)>) -> R + Sync) -> Vec<R> {
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
    pub(super) fn at(s: &[u64; 3]) -> LonLat {
        LonLat {
            lon: f64::from_bits(s[1]),
            lat: f64::from_bits(s[2]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

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
}
