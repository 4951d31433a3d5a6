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

/// The file of a dataset folder with sample occupancy reports whose times are
/// relative to when the dataset is served ([`read_sample_reports`]).
pub const SAMPLE_REPORTS_FILE: &str = "occupancy_sample.csv";

/// A sample occupancy file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SampleReportsError {
    /// The file cannot be read or is not the expected CSV.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: String,
        /// What went wrong.
        source: csv::Error,
    },
    /// A row's age is negative or not finite.
    #[error("{path}: row {row}: minutes_ago must be a non-negative number, got {value}")]
    BadAge {
        /// The file.
        path: String,
        /// The 1-based data row.
        row: usize,
        /// The value found.
        value: f64,
    },
}

/// One row of a sample occupancy file.
#[derive(Debug, serde::Deserialize)]
struct SampleRow {
    station_id: String,
    occupied: u32,
    minutes_ago: f64,
}

/// Read sample occupancy reports (CSV `station_id,occupied,minutes_ago`) as
/// reports made `minutes_ago` before `now`, so that a sample dataset has current
/// reports on whatever day it is served. For sample data only: real reports
/// carry their own time (`occupancy_reported_at`, or `PUT .../occupancy`).
pub fn read_sample_reports(
    path: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Occupancy)>, SampleReportsError> {
    let shown = || path.display().to_string();
    let mut r = csv::Reader::from_path(path).map_err(|source| SampleReportsError::Csv {
        path: shown(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, row) in r.deserialize::<SampleRow>().enumerate() {
        let row = row.map_err(|source| SampleReportsError::Csv {
            path: shown(),
            source,
        })?;
        if !(row.minutes_ago.is_finite() && row.minutes_ago >= 0.0) {
            return Err(SampleReportsError::BadAge {
                path: shown(),
                row: i + 1,
                value: row.minutes_ago,
            });
        }
        let age = chrono::TimeDelta::seconds((row.minutes_ago * 60.0).round() as i64);
        out.push((
            row.station_id,
            Occupancy {
                occupied: row.occupied,
                reported_at: now - age,
            },
        ));
    }
    Ok(out)
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

    #[test]
    fn sample_reports_are_relative_to_now() {
        let dir = std::env::temp_dir().join(format!("yizhan-occ-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(SAMPLE_REPORTS_FILE);
        std::fs::write(&p, "station_id,occupied,minutes_ago\nA,3,12\nB,0,0.5\n").unwrap();
        let now = DateTime::from_timestamp(1_796_126_400, 0).unwrap();
        let got = read_sample_reports(&p, now).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "A");
        assert_eq!(got[0].1.occupied, 3);
        assert_eq!(got[0].1.reported_at, now - TimeDelta::minutes(12));
        assert_eq!(got[1].1.reported_at, now - TimeDelta::seconds(30));
        std::fs::write(&p, "station_id,occupied,minutes_ago\nA,3,-1\n").unwrap();
        let e = read_sample_reports(&p, now).unwrap_err().to_string();
        assert!(e.contains("row 1") && e.contains("minutes_ago"), "{e}");
        std::fs::write(&p, "station_id,occupied,minutes_ago\nA,many,1\n").unwrap();
        assert!(read_sample_reports(&p, now).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
