//! Which stations a query wants: kind, amenities, opening hours, free seats.
//!
//! Domain logic, not index logic: the index takes any `keep` predicate, and a
//! [`StationFilter`] is the one for stations (also at [`crate::index::StationFilter`]).

use chrono::NaiveDateTime;

use crate::model::{AmenitySet, Station, StationKind};

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
