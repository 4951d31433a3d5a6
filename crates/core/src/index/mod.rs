//! Spatial indexes over located items, answering in true great-circle metres.
//!
//! Distance queries (k nearest, within a radius) run on a flat, bulk-built k-d tree
//! over unit vectors on the sphere (see [`LonLat::to_unit_vector`](crate::LonLat::to_unit_vector)):
//! the chord between two unit vectors grows strictly with the great-circle distance,
//! so the tree's nearest-neighbour order *is* the great-circle order, across ±180° and
//! at the poles, which a planar lon/lat index gets wrong. Vectors are stored as f32 in
//! tree order for cache locality (see BENCHMARKS.md: about twice the throughput of
//! an `rstar` R-tree over the same vectors); candidates within the f32 error of the
//! k-th are re-ranked by the haversine distance itself, ties broken by id, so every
//! query answers exactly what a brute-force haversine scan answers (the oracle tests
//! in `query.rs` check that).
//!
//! Rectangle and polygon queries, planar in lon/lat by definition (GeoJSON, OGC
//! `bbox`), run on an `rstar` R-tree over lon/lat degrees, built on first use.
//!
//! The parts, one concept a file (this file only names them):
//!
//! | file | what |
//! |---|---|
//! | `located.rs` | [`Located`] (what can be indexed), [`Place`] (the plainest such item) and [`Hit`] (one answer) |
//! | `bbox.rs` | [`BBox`], its validation and parsing |
//! | `geo_index.rs` | [`GeoIndex`]: the items and their two trees, built on demand |
//! | `kdtree.rs` | the k-d tree over unit vectors: bulk load, k-nearest and radius walks, the chord error bounds |
//! | `trig.rs` | a query point's haversine terms, computed once; sines and cosines by angle addition |
//! | `query.rs` | the queries of one point or one region: nearest, radius, bbox, polygon |
//! | `batch.rs` | [`GeoIndex::nearest_each`]: the nearest item of millions of points at once |
//! | `curve.rs` | the batch's points sorted along a Hilbert curve, and the answers put back |
//! | `scratch.rs` | the batch's large zeroed buffers, on huge pages |
//! | `planar.rs` | the `rstar` adapter over lon/lat degrees |
//!
//! [`StationFilter`] is domain logic and lives in [`crate::filter`]; it is re-exported
//! here, where callers have always found it.

mod batch;
mod bbox;
mod curve;
mod geo_index;
mod kdtree;
mod located;
mod planar;
mod query;
mod scratch;
#[cfg(test)]
mod test_utilities;
mod trig;

pub use crate::filter::StationFilter;
pub use bbox::{BBox, BBoxError};
pub use geo_index::GeoIndex;
pub use located::{Hit, Located, Place};
