//! Which stations a query wants: kind, amenities, opening hours, free seats.
//!
//! Domain logic, not index logic: the index takes any `keep` predicate, and a
//! [`StationFilter`] is the one for stations (re-exported as `index::StationFilter`,
//! where callers have always found it).
//!
//! Free seats depend on an occupancy report and its age: [`StationFilter::live`]
//! reads a dataset's current reports and counts a stale one as unknown
//! ([`Freshness`]), as every query of live data should;
//! [`StationFilter::accepts_fresh`] applies the same rule to a station's own report;
//! [`StationFilter::accepts`] takes a station's report as it is, whatever its age.

use chrono::NaiveDateTime;

use crate::dataset::Dataset;
use crate::model::{AmenitySet, Station, StationKind};
use crate::occupancy::Freshness;

/// Filters for station queries. The default accepts every station.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationFilter {
    /// Only this kind.
    pub kind: Option<StationKind>,
    /// Only stations offering all of these.
    pub amenities: AmenitySet,
    /// Only stations open at this local time.
    pub open_at: Option<NaiveDateTime>,
    /// Only stations with at least this many free seats (capacity less reported
    /// occupancy; see [`StationFilter::live`] for the age of the report).
    pub min_free: Option<u32>,
}

impl StationFilter {
    /// Whether `s` passes every filter, its report counted whatever its age.
    pub fn accepts(&self, s: &Station) -> bool {
        self.accepts_place(s) && self.min_free.is_none_or(|m| s.free_seats() >= m)
    }

    /// Whether `s` passes every filter, `min_free` judged by `fresh`: a stale
    /// report is unknown and the capacity counts ([`Freshness::free_or_capacity`]).
    pub fn accepts_fresh(&self, s: &Station, fresh: &Freshness) -> bool {
        self.accepts_place(s) && self.min_free.is_none_or(|m| fresh.free_or_capacity(s) >= m)
    }

    /// The filter for queries over `data`'s stations layer: `min_free` reads each
    /// station's current report ([`Dataset::current_occupancy`]), judged by `fresh`
    /// as [`StationFilter::accepts_fresh`] does.
    pub fn live<'a>(
        &'a self,
        data: &'a Dataset,
        fresh: Freshness,
    ) -> impl Fn(&Station) -> bool + 'a {
        move |s| {
            self.accepts_place(s)
                && self.min_free.is_none_or(|m| {
                    fresh.free_or_capacity_of(s.capacity, data.current_occupancy(s)) >= m
                })
        }
    }

    /// The filters that do not depend on occupancy: kind, amenities, hours.
    fn accepts_place(&self, s: &Station) -> bool {
        self.kind.is_none_or(|k| s.kind == k)
            && s.amenities.is_superset(self.amenities)
            && self.open_at.is_none_or(|t| s.opening_hours.is_open_at(t))
    }
}
