//! What can be indexed, and what a query answers.

use crate::geodesy::LonLat;
use crate::model::{Candidate, GridCell, Hotspot, Station};

/// Anything with an id and a position can be indexed.
pub trait Located {
    /// Stable id (ties in distance are broken by it).
    fn id(&self) -> &str;
    /// Position (WGS 84).
    fn location(&self) -> LonLat;
}

/// `Located` for model types with an `id: String` and a `LonLat` field.
macro_rules! located {
    ($($t:ty => $at:ident),* $(,)?) => {$(
        impl Located for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn location(&self) -> LonLat {
                self.$at
            }
        }
    )*};
}

/// The plainest item to index: an id and a position (sites of a geometric problem,
/// test and benchmark points).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Stable id.
    pub id: String,
    /// Position (WGS 84).
    pub at: LonLat,
}

located!(
    Station => location,
    Hotspot => location,
    GridCell => centroid,
    Candidate => location,
    Place => at,
);

/// One answer of a query: the item and its great-circle distance from the query point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<'a, T> {
    /// The item.
    pub item: &'a T,
    /// Index of the item in [`GeoIndex::items`](super::GeoIndex::items).
    pub index: usize,
    /// Haversine distance in metres (0 for bbox / polygon queries without a point).
    pub distance_m: f64,
}

impl<T: Located> Hit<'_, T> {
    /// Sorts hits nearest first, equal distances by id (the order of
    /// [`GeoIndex::nearest`](super::GeoIndex::nearest)).
    pub fn nearest_first(hits: &mut [Self]) {
        hits.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.item.id().cmp(b.item.id()))
        });
    }
}
