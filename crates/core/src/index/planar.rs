//! The `rstar` adapter for rectangle and polygon queries, which are planar in lon/lat
//! by definition (GeoJSON, OGC `bbox`): an R-tree over positions in degrees.

use rstar::{RTree, RTreeObject, AABB};

use super::bbox::BBox;
use crate::geodesy::LonLat;

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

/// An R-tree over the items' positions in lon/lat degrees.
#[derive(Debug, Clone)]
pub(super) struct LonLatTree(RTree<LonLatEntry>);

impl LonLatTree {
    /// Bulk-load the tree over the `n` points `at(0), …, at(n − 1)`.
    pub(super) fn build(n: usize, at: impl Fn(usize) -> LonLat) -> Self {
        Self(RTree::bulk_load(
            (0..n)
                .map(|i| {
                    let p = at(i);
                    LonLatEntry {
                        p: [p.lon, p.lat],
                        idx: i as u32,
                    }
                })
                .collect(),
        ))
    }

    /// Indices of the points in the rectangle(s) of `bbox` (edges included; a box
    /// crossing the antimeridian is split in two), in no particular order.
    pub(super) fn in_bbox(&self, bbox: &BBox) -> impl Iterator<Item = usize> + '_ {
        let spans = if bbox.west <= bbox.east {
            vec![(bbox.west, bbox.east)]
        } else {
            vec![(bbox.west, 180.0), (-180.0, bbox.east)]
        };
        let (south, north) = (bbox.south, bbox.north);
        spans.into_iter().flat_map(move |(w, e)| {
            let env = AABB::from_corners([w, south], [e, north]);
            self.0
                .locate_in_envelope(&env)
                .map(|entry| entry.idx as usize)
        })
    }
}
