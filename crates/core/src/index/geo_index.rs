//! [`GeoIndex`]: the items and their two trees, each built when first needed.

use std::sync::OnceLock;

use super::kdtree::Kd;
use super::located::{Hit, Located};
use super::planar::LonLatTree;

/// A k-d tree over items that have a position, answering in great-circle metres.
///
/// Points are kept as unit vectors in flat arrays, in tree order, with leaves of at
/// most 32 points, so that a query touches a few contiguous cache lines.
#[derive(Debug, Clone)]
pub struct GeoIndex<T> {
    items: Vec<T>,
    /// The k-d tree, built by [`GeoIndex::new`] or, for [`GeoIndex::new_lazy`], on the
    /// first distance query.
    kd: OnceLock<Kd>,
    /// An `rstar` R-tree over lon/lat degrees for rectangle and polygon queries, which
    /// are planar in lon/lat by definition (GeoJSON, OGC `bbox`); built on first use,
    /// so layers never asked for a rectangle (5,000,000 hotspots) do not pay for it.
    rtree: OnceLock<LonLatTree>,
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
    pub(super) fn kd(&self) -> &Kd {
        self.kd
            .get_or_init(|| Kd::build(self.items.len(), |i| self.items[i].location()))
    }

    /// The lon/lat R-tree, bulk-loaded on first use.
    pub(super) fn rtree(&self) -> &LonLatTree {
        self.rtree
            .get_or_init(|| LonLatTree::build(self.items.len(), |i| self.items[i].location()))
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

    /// The answer of item `idx` at `distance_m`.
    pub(super) fn hit(&self, idx: usize, distance_m: f64) -> Hit<'_, T> {
        Hit {
            item: &self.items[idx],
            index: idx,
            distance_m,
        }
    }
}
