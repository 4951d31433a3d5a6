//! Occupancy freshness in station queries, against a brute-force oracle: seeded
//! random stations, reports of random ages written through the dataset's live
//! table, random filters and maximum ages. A query's `min_free` must read each
//! station's current report and count one older than the maximum age as unknown
//! (its capacity free), as the server's courier routes do.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::hours::OpeningHours;
use yizhan_core::index::BBox;
use yizhan_core::model::{Amenity, AmenitySet, Occupancy, Station, StationKind};
use yizhan_core::occupancy::{Freshness, DEFAULT_OCCUPANCY_MAX_AGE};
use yizhan_core::{Dataset, StationFilter};

/// The tests' "now".
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_126_400, 0).unwrap()
}

/// A report of `occupied` seats made `age_min` minutes before [`now`] (negative:
/// from the future, as a skewed clock sends).
fn report(occupied: u32, age_min: i64) -> Occupancy {
    Occupancy {
        occupied,
        reported_at: now() - TimeDelta::minutes(age_min),
    }
}

fn random_report(rng: &mut ChaCha8Rng, capacity: u32) -> Option<Occupancy> {
    rng.random_bool(0.7).then(|| {
        report(
            rng.random_range(0..=capacity + 3),
            rng.random_range(-30..6 * 60),
        )
    })
}

fn random_station(i: usize, rng: &mut ChaCha8Rng) -> Station {
    let capacity = rng.random_range(0..30);
    let hours = ["24/7", "Mo-Fr 08:00-18:00", "off"][rng.random_range(0..3)];
    Station {
        id: format!("S{i:04}"),
        name: format!("station {i}"),
        name_zh: None,
        kind: if rng.random_bool(0.8) {
            StationKind::RestStation
        } else {
            StationKind::ChildcareClass
        },
        location: LonLat::new(
            118.45 + rng.random_range(0.0..0.1),
            24.70 + rng.random_range(0.0..0.1),
        )
        .unwrap(),
        amenities: Amenity::ALL
            .into_iter()
            .filter(|_| rng.random_bool(0.3))
            .collect(),
        capacity,
        occupancy: random_report(rng, capacity),
        opening_hours: hours.parse::<OpeningHours>().unwrap(),
        grid_unit: None,
        operator: None,
        address: None,
    }
}

fn random_filter(rng: &mut ChaCha8Rng) -> StationFilter {
    let mut f = StationFilter {
        min_free: Some(rng.random_range(0..25)),
        ..Default::default()
    };
    if rng.random_bool(0.2) {
        f.kind = Some(StationKind::RestStation);
    }
    if rng.random_bool(0.2) {
        f.amenities =
            AmenitySet::from_iter([Amenity::ALL[rng.random_range(0..Amenity::ALL.len())]]);
    }
    if rng.random_bool(0.2) {
        f.open_at = Some(now().naive_utc());
    }
    f
}

/// The rule, written out: a report counts when at most `max_age` old (or from the
/// future); then free = capacity − occupied (not below 0), else free = capacity.
fn oracle_free(capacity: u32, o: Option<Occupancy>, max_age: Duration) -> u32 {
    match o {
        Some(o) if now() - o.reported_at <= TimeDelta::from_std(max_age).unwrap() => {
            capacity.saturating_sub(o.occupied)
        }
        _ => capacity,
    }
}

/// Whether the oracle keeps `s` (its current report `o`).
fn oracle_keeps(f: &StationFilter, s: &Station, o: Option<Occupancy>, max_age: Duration) -> bool {
    f.kind.is_none_or(|k| k == s.kind)
        && f.amenities.iter().all(|a| s.amenities.contains(a))
        && f.open_at.is_none_or(|t| s.opening_hours.is_open_at(t))
        && f.min_free
            .is_none_or(|m| oracle_free(s.capacity, o, max_age) >= m)
}

/// A dataset of random stations with random reports written through
/// [`Dataset::set_occupancy`] (and an upsert or two), and the oracle's own record
/// of every station's current report.
fn random_town(
    rng: &mut ChaCha8Rng,
) -> (Dataset, Vec<Station>, HashMap<String, Option<Occupancy>>) {
    let n = rng.random_range(1..700);
    let mut stations: Vec<Station> = (0..n).map(|i| random_station(i, rng)).collect();
    let mut data = Dataset::new(stations.clone(), vec![], vec![], vec![], None);
    let mut current: HashMap<String, Option<Occupancy>> = stations
        .iter()
        .map(|s| (s.id.clone(), s.occupancy))
        .collect();
    for _ in 0..rng.random_range(0..3 * n) {
        let i = rng.random_range(0..n);
        let o = random_report(rng, stations[i].capacity);
        assert!(data.set_occupancy(&stations[i].id, o));
        current.insert(stations[i].id.clone(), o);
        if rng.random_bool(0.002) {
            // A rebuild of the layer folds the reports in; later ones go to a new table.
            let mut moved = random_station(i, rng);
            moved.occupancy = current[&moved.id];
            data.upsert_station(moved.clone());
            stations[i] = moved;
        }
    }
    (data, stations, current)
}

#[test]
fn min_free_reads_the_current_report_and_ignores_stale_ones_like_a_brute_force_scan() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x0CC0_2026_1300);
    let mut stale_mattered = 0;
    for round in 0..60 {
        let (data, stations, current) = random_town(&mut rng);
        for _ in 0..20 {
            let max_age = [
                DEFAULT_OCCUPANCY_MAX_AGE,
                Duration::from_secs(30 * 60),
                Duration::ZERO,
                Duration::from_secs(24 * 3600),
            ][rng.random_range(0..4)];
            let fresh = Freshness {
                now: now(),
                max_age,
            };
            let filter = random_filter(&mut rng);
            let keep = |s: &Station| oracle_keeps(&filter, s, current[&s.id], max_age);
            let at = LonLat::new(
                118.45 + rng.random_range(0.0..0.1),
                24.70 + rng.random_range(0.0..0.1),
            )
            .unwrap();

            // k nearest: the oracle's scan, by (distance, id).
            let k = rng.random_range(1..12);
            let got: Vec<&str> = data
                .stations
                .nearest(at, k, None, filter.live(&data, fresh))
                .iter()
                .map(|h| h.item.id.as_str())
                .collect();
            let mut want: Vec<(f64, &str)> = stations
                .iter()
                .filter(|s| keep(s))
                .map(|s| (haversine_m(at, s.location), s.id.as_str()))
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
            let want: Vec<&str> = want.iter().take(k).map(|w| w.1).collect();
            assert_eq!(
                got, want,
                "round {round}: nearest {k} with {filter:?}, {max_age:?}"
            );

            // A box: the same set.
            let (w, s) = (at.lon - 0.02, at.lat - 0.02);
            let bbox = BBox::new(w, s, w + 0.04, s + 0.04).unwrap();
            let mut got: Vec<&str> = data
                .stations
                .within_bbox(&bbox, filter.live(&data, fresh))
                .iter()
                .map(|h| h.item.id.as_str())
                .collect();
            got.sort_unstable();
            let mut want: Vec<&str> = stations
                .iter()
                .filter(|s| bbox.contains(s.location) && keep(s))
                .map(|s| s.id.as_str())
                .collect();
            want.sort_unstable();
            assert_eq!(
                got, want,
                "round {round}: bbox with {filter:?}, {max_age:?}"
            );

            // Station by station: `live` is `accepts_fresh` on the current station, and
            // the count of those where ignoring the age would answer otherwise.
            let live = filter.live(&data, fresh);
            for s in data.stations.items() {
                let now_s = data.current(s);
                assert_eq!(live(s), filter.accepts_fresh(&now_s, &fresh), "{}", s.id);
                assert_eq!(live(s), keep(s), "{}", s.id);
                if filter.accepts(&now_s) != live(s) {
                    stale_mattered += 1;
                }
            }
        }
    }
    // The data make the rule matter: stale reports changed many answers.
    assert!(
        stale_mattered > 100,
        "only {stale_mattered} stale-report cases"
    );
}

#[test]
fn a_stale_full_report_counts_as_unknown_and_a_current_one_as_full() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut s = random_station(0, &mut rng);
    s.capacity = 10;
    s.occupancy = None;
    let mut data = Dataset::new(vec![s], vec![], vec![], vec![], None);
    let want_3 = StationFilter {
        min_free: Some(3),
        ..Default::default()
    };
    let fresh = Freshness {
        now: now(),
        max_age: DEFAULT_OCCUPANCY_MAX_AGE,
    };
    let passes = |d: &Dataset| want_3.live(d, fresh)(&d.stations.items()[0]);
    assert!(passes(&data), "never reported: the capacity counts");
    data.set_occupancy("S0000", Some(report(10, 60)));
    assert!(!passes(&data), "full an hour ago: no room");
    data.set_occupancy("S0000", Some(report(10, 120)));
    assert!(
        !passes(&data),
        "exactly at the maximum age the report still counts"
    );
    data.set_occupancy("S0000", Some(report(10, 121)));
    assert!(
        passes(&data),
        "older than the maximum age: unknown, the capacity counts"
    );
    // The layer's own item still carries no report: only the live table has it.
    assert!(data.stations.items()[0].occupancy.is_none());
    assert_eq!(
        data.current_occupancy(&data.stations.items()[0]),
        Some(report(10, 121))
    );
    // Without an age limit the old report would keep it out.
    assert!(!want_3.accepts(&data.current(&data.stations.items()[0])));
}
