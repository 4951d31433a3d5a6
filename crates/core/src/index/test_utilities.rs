//! Shared fixtures of the index tests: seeded random stations and query points
//! (worldwide, at the antimeridian, near the pole, a dense town with exact ties),
//! random filters, and the brute-force haversine oracle.

use crate::filter::StationFilter;
use crate::geodesy::{haversine_m, LonLat};
use crate::hours::OpeningHours;
use crate::index::located::{Hit, Located};
use crate::model::{Amenity, Station, StationKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(super) fn station(id: String, lon: f64, lat: f64, rng: &mut ChaCha8Rng) -> Station {
    let amenities = Amenity::ALL
        .into_iter()
        .filter(|_| rng.random_bool(0.5))
        .collect();
    let hours = [
        "24/7",
        "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
        "18:00-06:00",
        "off",
    ][rng.random_range(0..4)];
    Station {
        id,
        name: "s".into(),
        name_zh: None,
        kind: if rng.random_bool(0.8) {
            StationKind::RestStation
        } else {
            StationKind::ChildcareClass
        },
        location: LonLat::new(lon, lat).unwrap(),
        amenities,
        capacity: rng.random_range(0..40),
        occupancy: None,
        opening_hours: hours.parse::<OpeningHours>().unwrap(),
        grid_unit: None,
        operator: None,
        address: None,
    }
}

/// Random stations: a mix of worldwide points, a cluster at the antimeridian,
/// one near the north pole, and a dense town with exact duplicates (ties).
pub(super) fn random_stations(seed: u64, n: usize) -> Vec<Station> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (lon, lat) = match i % 5 {
            0 => (
                rng.random_range(-180.0..=180.0),
                rng.random_range(-90.0..=90.0),
            ),
            1 => {
                let lon: f64 = rng.random_range(178.0..182.0);
                (
                    if lon > 180.0 { lon - 360.0 } else { lon },
                    rng.random_range(-5.0..5.0),
                )
            }
            2 => (
                rng.random_range(-180.0..180.0),
                rng.random_range(84.0..=90.0),
            ),
            3 => (
                118.47 + rng.random_range(-0.05..0.05),
                24.72 + rng.random_range(-0.05..0.05),
            ),
            _ => {
                // Duplicate an earlier position to force exact ties.
                let j = rng.random_range(0..out.len().max(1));
                out.get(j)
                    .map(|s: &Station| (s.location.lon, s.location.lat))
                    .unwrap_or((118.47, 24.72))
            }
        };
        out.push(station(format!("S{i:05}"), lon, lat, &mut rng));
    }
    out
}

pub(super) fn random_query(rng: &mut ChaCha8Rng) -> LonLat {
    let (lon, lat) = match rng.random_range(0..4) {
        0 => (
            rng.random_range(-180.0..=180.0),
            rng.random_range(-90.0..=90.0),
        ),
        1 => (
            if rng.random_bool(0.5) {
                179.99
            } else {
                -179.99
            },
            rng.random_range(-3.0..3.0),
        ),
        2 => (
            rng.random_range(-180.0..180.0),
            rng.random_range(86.0..=90.0),
        ),
        _ => (
            118.47 + rng.random_range(-0.06..0.06),
            24.72 + rng.random_range(-0.06..0.06),
        ),
    };
    LonLat::new(lon, lat).unwrap()
}

pub(super) fn random_filter(rng: &mut ChaCha8Rng) -> StationFilter {
    let mut f = StationFilter::default();
    if rng.random_bool(0.3) {
        f.kind = Some(StationKind::RestStation);
    }
    if rng.random_bool(0.3) {
        f.amenities.insert(Amenity::ALL[rng.random_range(0..9)]);
    }
    if rng.random_bool(0.3) {
        f.open_at = Some(
            chrono::NaiveDate::from_ymd_opt(2026, 12, rng.random_range(1..=7))
                .unwrap()
                .and_hms_opt(rng.random_range(0..24), 0, 0)
                .unwrap(),
        );
    }
    if rng.random_bool(0.2) {
        f.min_free = Some(rng.random_range(0..30));
    }
    f
}

/// The brute-force oracle: every station, haversine, sorted by (distance, id).
pub(super) fn oracle<'a>(
    stations: &'a [Station],
    at: LonLat,
    f: &StationFilter,
) -> Vec<(f64, &'a str)> {
    let mut v: Vec<(f64, &str)> = stations
        .iter()
        .filter(|s| f.accepts(s))
        .map(|s| (haversine_m(at, s.location), s.id.as_str()))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    v
}

pub(super) fn ids<T: Located>(hits: &[Hit<'_, T>]) -> Vec<String> {
    hits.iter().map(|h| h.item.id().to_string()).collect()
}
