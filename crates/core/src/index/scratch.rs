//! Large zeroed scratch arrays on huge pages.
//!
//! The batch join ([`GeoIndex::nearest_each`](crate::GeoIndex::nearest_each)) writes a
//! few hundred megabytes of scratch per call over millions of points. In fresh heap
//! memory every 4 kB page costs a fault on its first write — measured at ≈ 0.8 ms per MB
//! on the reference machine, most of a sequential pass — and scattered writes miss the
//! TLB. Arrays of [`HUGE_MIN`] bytes or more are therefore anonymous memory maps
//! (`memmap2`) with transparent huge pages requested (`madvise(MADV_HUGEPAGE)`, Linux),
//! which fault 2 MB at a time (≈ 0.2 ms per MB measured); smaller arrays, or a system
//! that refuses the map, get a plain `Vec`. Either way the contents start zeroed.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use bytemuck::Pod;

/// Arrays at least this large (bytes) are mapped rather than allocated.
const HUGE_MIN: usize = 8 << 20;

/// A zeroed array of `n` plain-data values (see the module documentation).
pub(crate) enum Scratch<T> {
    Map(memmap2::MmapMut, PhantomData<T>),
    Heap(Vec<T>),
}

impl<T: Pod> Scratch<T> {
    /// `n` zeroed values.
    pub(crate) fn zeroed(n: usize) -> Self {
        let bytes = n.saturating_mul(size_of::<T>());
        if bytes >= HUGE_MIN {
            if let Ok(map) = memmap2::MmapMut::map_anon(bytes) {
                // A hint: where huge pages are unavailable the map works with small ones.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return Self::Map(map, PhantomData);
            }
        }
        Self::Heap(vec![T::zeroed(); n])
    }
}

impl<T: Pod> Deref for Scratch<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            // A map is page-aligned and exactly `n` values long: the cast cannot fail.
            Self::Map(map, _) => bytemuck::cast_slice(&map[..]),
            Self::Heap(v) => v,
        }
    }
}

impl<T: Pod> DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Self::Map(map, _) => bytemuck::cast_slice_mut(&mut map[..]),
            Self::Heap(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_arrays_are_zeroed_and_writable() {
        for n in [0, 1, 1000, (HUGE_MIN / 24) + 7] {
            let mut s = Scratch::<[u64; 3]>::zeroed(n);
            assert_eq!(s.len(), n);
            assert!(s.iter().all(|v| *v == [0; 3]));
            assert_eq!(matches!(s, Scratch::Map(..)), n * 24 >= HUGE_MIN, "n = {n}");
            for (i, v) in s.iter_mut().enumerate() {
                *v = [i as u64, 1, 2];
            }
            assert!(s.iter().enumerate().all(|(i, v)| v[0] == i as u64));
        }
    }
}
