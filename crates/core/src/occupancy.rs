//! When an occupancy report counts as current.
//!
//! A station's [`Occupancy`] is a report (seats taken, and when). A report older
//! than a maximum age says nothing any more: the station's free seats are then
//! unknown. A `min_free` filter counts an unknown station as having its capacity
//! free (it might have room), and an answer shows its free seats as unknown.
//! [`Freshness`] is that rule, used by the station filter's `live` and
//! `accepts_fresh` (in `filter`, which depends on this module, not the other way)
//! and by every writer of a station's `free_seats`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{Occupancy, Station};

/// Default age after which an occupancy report is unknown (2 hours).
pub const DEFAULT_OCCUPANCY_MAX_AGE: Duration = Duration::from_secs(2 * 3600);

/// When occupancy reports count as current: those at most `max_age` old at `now`
/// (a report from the future counts as current).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Now (UTC).
    pub now: DateTime<Utc>,
    /// Reports older than this are unknown.
    pub max_age: Duration,
}

impl Freshness {
    /// Now (the system clock), with reports older than `max_age` unknown.
    pub fn now(max_age: Duration) -> Self {
        Self {
            now: Utc::now(),
            max_age,
        }
    }

    /// Whole seconds since a report made at `t` (0 for one from the future: clock skew).
    pub fn age_s(&self, t: DateTime<Utc>) -> i64 {
        self.now.signed_duration_since(t).num_seconds().max(0)
    }

    /// Whether a report made at `t` is too old to count.
    pub fn is_stale(&self, t: DateTime<Utc>) -> bool {
        let age = self.now.signed_duration_since(t);
        age.to_std().is_ok_and(|a| a > self.max_age)
    }

    /// `o` if it is current, `None` when absent or stale.
    pub fn current(&self, o: Option<Occupancy>) -> Option<Occupancy> {
        o.filter(|o| !self.is_stale(o.reported_at))
    }

    /// Free seats of a station of `capacity` whose report is `o`: `None` when
    /// nothing current was reported.
    pub fn free_of(&self, capacity: u32, o: Option<Occupancy>) -> Option<u32> {
        self.current(o).map(|o| capacity.saturating_sub(o.occupied))
    }

    /// Free seats from `s`'s own report, `None` when nothing current was reported.
    pub fn free_seats(&self, s: &Station) -> Option<u32> {
        self.free_of(s.capacity, s.occupancy)
    }

    /// The free seats `min_free` compares with: the current report's, else the
    /// capacity (an unknown station might have room).
    pub fn free_or_capacity(&self, s: &Station) -> u32 {
        self.free_or_capacity_of(s.capacity, s.occupancy)
    }

    /// [`Freshness::free_or_capacity`] of a station of `capacity` whose report is `o`.
    pub fn free_or_capacity_of(&self, capacity: u32, o: Option<Occupancy>) -> u32 {
        self.free_of(capacity, o).unwrap_or(capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_report_is_current_up_to_its_maximum_age_and_from_the_future() {
        let now = DateTime::from_timestamp(1_796_126_400, 0).unwrap();
        let f = Freshness {
            now,
            max_age: DEFAULT_OCCUPANCY_MAX_AGE,
        };
        let at = |s: i64| now - TimeDelta::seconds(s);
        assert!(!f.is_stale(at(0)));
        assert!(!f.is_stale(at(7200)));
        assert!(f.is_stale(at(7201)));
        assert!(!f.is_stale(at(-3600)));
        let report = |s: i64| {
            Some(Occupancy {
                occupied: 7,
                reported_at: at(s),
            })
        };
        assert_eq!(f.free_of(10, report(60)), Some(3));
        assert_eq!(f.free_of(5, report(60)), Some(0));
        assert_eq!(f.free_of(10, report(3 * 3600)), None);
        assert_eq!(f.free_of(10, None), None);
        assert_eq!(f.current(report(3 * 3600)), None);
    }
}
