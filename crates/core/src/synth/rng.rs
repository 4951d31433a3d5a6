//! The seeded random source (ChaCha8, one stream per layer) and sampling helpers.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seeded random source: ChaCha8, read through our own conversions.
pub(super) struct Rng(ChaCha8Rng);

impl Rng {
    /// Stream `stream` of the generator for `seed` (each layer has its own stream,
    /// so changing one layer's code leaves the others' numbers alone).
    pub(super) fn new(seed: u64, stream: u64) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Self(r)
    }
    /// Uniform in [0, 1), 53 bits.
    pub(super) fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in 0..n (n > 0), by the multiply-shift method.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    pub(super) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }
    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub(super) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Cumulative weights for sampling an index in proportion to its weight.
pub(super) struct Cdf(Vec<f64>);

impl Cdf {
    pub(super) fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        Self(
            weights
                .into_iter()
                .map(|w| {
                    acc += w.max(0.0);
                    acc
                })
                .collect(),
        )
    }
    pub(super) fn total(&self) -> f64 {
        self.0.last().copied().unwrap_or(0.0)
    }
    pub(super) fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit() * self.total();
        self.0.partition_point(|&c| c <= u).min(self.0.len() - 1)
    }
}

/// A rational bell kernel 1 / (1 + (d/σ)²)²: heavy-tailed like a city's density, no exp().
pub(super) fn bell(d: f64, sigma: f64) -> f64 {
    let q = d / sigma;
    let b = 1.0 + q * q;
    1.0 / (b * b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_helpers_stay_in_range_and_repeat() {
        let mut a = Rng::new(5, 1);
        let mut b = Rng::new(5, 1);
        for _ in 0..1000 {
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u, b.unit());
            assert!(a.below(7) < 7);
            b.below(7);
            let r = a.range(3, 5);
            assert!((3..=5).contains(&r));
            b.range(3, 5);
        }
        let cdf = Cdf::new([0.0, 1.0, 0.0, 3.0]);
        let mut seen = [0; 4];
        for _ in 0..400 {
            seen[cdf.sample(&mut a)] += 1;
        }
        assert_eq!((seen[0], seen[2]), (0, 0));
        assert!(seen[3] > 2 * seen[1]);
    }
}
