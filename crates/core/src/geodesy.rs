//! Geodesy: validated WGS 84 coordinates and distances in metres.
//!
//! Every distance yizhan *reports* to a courier (`distance_m` of the nearest and
//! radius answers, the radius and `max_m` cutoffs) is the geodesic distance on the
//! WGS 84 ellipsoid, by Karney's method ([`ellipsoidal_m`]: `geo`'s `Geodesic`,
//! which is `geographiclib-rs`), so it agrees with PostGIS geography and pyproj to
//! well under a millimetre.
//!
//! The spatial index ranks candidates by the haversine great-circle distance on a
//! sphere of the IUGG mean Earth radius R₁ = 6,371,008.8 m ([`EARTH_RADIUS_M`]),
//! fast and with a strict order over unit vectors; the ellipsoidal distance is
//! never more than 0.56 % shorter nor 0.45 % longer ([`ELLIPSOID_MIN_RATIO`],
//! [`ELLIPSOID_MAX_RATIO`]), so the index queries a sphere slightly wider than asked
//! and re-ranks on the ellipsoid: the answers are exact on the ellipsoid.
//!
//! The planning analyses (coverage, gaps, candidate comparison, site selection, the
//! cost matrix) measure on the sphere: their cutoffs and figures are haversine
//! metres (within 0.56 % of the ellipsoid, far below the uncertainty of a walking
//! route).

use serde::{Deserialize, Serialize};

/// Mean Earth radius R₁ in metres (IUGG), the same constant `geo` uses for `Haversine`.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A validated WGS 84 (EPSG:4326) position: longitude then latitude, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LonLat {
    /// Longitude in degrees, −180 ..= 180.
    pub lon: f64,
    /// Latitude in degrees, −90 ..= 90.
    pub lat: f64,
}

/// Why a coordinate pair was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoordError {
    /// Latitude outside −90 ..= 90 or not finite.
    #[error("latitude {lat} is out of range (must be between -90 and 90)")]
    Latitude {
        /// The offending value.
        lat: f64,
    },
    /// Longitude outside −180 ..= 180 or not finite.
    #[error("longitude {lon} is out of range (must be between -180 and 180)")]
    Longitude {
        /// The offending value.
        lon: f64,
    },
}

impl LonLat {
    /// A validated position. Fails on non-finite values or values out of range.
    pub fn new(lon: f64, lat: f64) -> Result<Self, CoordError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(CoordError::Latitude { lat });
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(CoordError::Longitude { lon });
        }
        Ok(Self { lon, lat })
    }

    /// Great-circle distance in metres to `other` (haversine, R = [`EARTH_RADIUS_M`]).
    pub fn distance_m(self, other: LonLat) -> f64 {
        haversine_m(self, other)
    }

    /// Unit vector on the sphere (x towards 0°E on the equator, z towards the north pole).
    ///
    /// Euclidean (chord) distance between unit vectors is strictly increasing in
    /// great-circle distance, which is what lets a 3-D R-tree answer nearest-neighbour
    /// queries in true great-circle order, across ±180° and at the poles.
    pub fn to_unit_vector(self) -> [f64; 3] {
        let (slat, clat) = self.lat.to_radians().sin_cos();
        let (slon, clon) = self.lon.to_radians().sin_cos();
        [clat * clon, clat * slon, slat]
    }
}

impl From<LonLat> for geo_types::Point<f64> {
    fn from(p: LonLat) -> Self {
        geo_types::Point::new(p.lon, p.lat)
    }
}

/// The smallest ratio of the WGS 84 geodesic distance to the haversine distance
/// ([`haversine_m`]) of any two points: b²/a ÷ R₁ = 0.99442 (north–south near the
/// equator), with a margin. A test checks it on random pairs.
pub const ELLIPSOID_MIN_RATIO: f64 = 0.994;

/// The largest ratio of the WGS 84 geodesic distance to the haversine distance:
/// a²/b ÷ R₁ = 1.00449 (near the poles), with a margin.
pub const ELLIPSOID_MAX_RATIO: f64 = 1.005;

/// The geodesic distance in metres on the WGS 84 ellipsoid (Karney 2013,
/// *Algorithms for geodesics*, through `geo`'s `Geodesic` = `geographiclib-rs`):
/// the `distance_m` of every courier answer.
///
/// # Examples
/// ```
/// use yizhan_core::geodesy::{ellipsoidal_m, LonLat};
/// let a = LonLat::new(118.4716, 24.7196).unwrap();
/// let b = LonLat::new(118.4816, 24.7196).unwrap();
/// assert!((ellipsoidal_m(a, b) - 1011.4).abs() < 0.5);
/// ```
pub fn ellipsoidal_m(a: LonLat, b: LonLat) -> f64 {
    use geo::Distance;
    geo::Geodesic.distance(geo_types::Point::from(a), geo_types::Point::from(b))
}

/// A distance as answers report it: metres to the millimetre (the agreement of
/// [`ellipsoidal_m`] with pyproj and PostGIS geography).
pub fn reported_m(d_m: f64) -> f64 {
    (d_m * 1000.0).round() / 1000.0
}

/// Haversine great-circle distance in metres between two WGS 84 positions.
///
/// # Examples
/// ```
/// use yizhan_core::geodesy::{haversine_m, LonLat};
/// let a = LonLat::new(118.4716, 24.7196).unwrap();
/// let b = LonLat::new(118.4816, 24.7196).unwrap();
/// let d = haversine_m(a, b);
/// assert!((d - 1010.0).abs() < 5.0);
/// ```
pub fn haversine_m(a: LonLat, b: LonLat) -> f64 {
    let h = haversine_h(a, b);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The haversine term hav(θ) = sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2).
fn haversine_h(a: LonLat, b: LonLat) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let s1 = (dp / 2.0).sin();
    let s2 = (dl / 2.0).sin();
    s1 * s1 + p1.cos() * p2.cos() * s2 * s2
}

/// Chord length on the unit sphere for a great-circle distance of `d_m` metres.
/// Distances beyond half the circumference map to the diameter, 2.
pub fn chord_for_distance(d_m: f64) -> f64 {
    let theta = (d_m / EARTH_RADIUS_M).clamp(0.0, std::f64::consts::PI);
    2.0 * (theta / 2.0).sin()
}

/// Great-circle distance in metres for a chord length on the unit sphere.
pub fn distance_for_chord(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord / 2.0).clamp(0.0, 1.0).asin()
}

/// Move `d_m` metres from `from` on initial bearing `bearing_deg` (clockwise from north),
/// along a great circle. Used by generators and tests.
pub fn destination(from: LonLat, bearing_deg: f64, d_m: f64) -> LonLat {
    let delta = d_m / EARTH_RADIUS_M;
    let th = bearing_deg.to_radians();
    let p1 = from.lat.to_radians();
    let l1 = from.lon.to_radians();
    let p2 = (p1.sin() * delta.cos() + p1.cos() * delta.sin() * th.cos()).asin();
    let l2 = l1 + (th.sin() * delta.sin() * p1.cos()).atan2(delta.cos() - p1.sin() * p2.sin());
    let mut lon = l2.to_degrees();
    lon = ((lon + 540.0) % 360.0) - 180.0;
    LonLat {
        lon,
        lat: p2.to_degrees().clamp(-90.0, 90.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine};

    #[test]
    fn validates_ranges() {
        assert!(LonLat::new(0.0, 90.0).is_ok());
        assert_eq!(
            LonLat::new(0.0, 123.0),
            Err(CoordError::Latitude { lat: 123.0 })
        );
        assert!(matches!(
            LonLat::new(181.0, 0.0),
            Err(CoordError::Longitude { .. })
        ));
        assert!(LonLat::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn agrees_with_geo_haversine() {
        let pairs = [
            ((118.47, 24.72), (118.48, 24.73)),
            ((179.9, 10.0), (-179.9, 10.0)),
            ((0.0, 89.9), (180.0, 89.9)),
            ((-70.0, -33.0), (151.0, -34.0)),
        ];
        for ((a1, a2), (b1, b2)) in pairs {
            let a = LonLat::new(a1, a2).unwrap();
            let b = LonLat::new(b1, b2).unwrap();
            let ours = haversine_m(a, b);
            let theirs = Haversine.distance(geo::Point::from(a), geo::Point::from(b));
            assert!(
                (ours - theirs).abs() < 1e-6 * ours.max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    /// The ratio bounds the index relies on hold, from centimetres to antipodes.
    #[test]
    fn ellipsoid_ratio_bounds_hold() {
        use rand::{Rng, SeedableRng};
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(0xE111_2026);
        let (mut lo, mut hi) = (f64::INFINITY, 0.0_f64);
        for i in 0..20_000 {
            let a =
                LonLat::new(r.random_range(-180.0..180.0), r.random_range(-90.0..90.0)).unwrap();
            let d = 10f64.powf(r.random_range(-2.0..7.3));
            let b = destination(a, r.random_range(0.0..360.0), d);
            let (h, e) = (haversine_m(a, b), ellipsoidal_m(a, b));
            if h > 1e-3 {
                let q = e / h;
                lo = lo.min(q);
                hi = hi.max(q);
                assert!(
                    (ELLIPSOID_MIN_RATIO..=ELLIPSOID_MAX_RATIO).contains(&q),
                    "pair {i}: {a:?} {b:?}: {q}"
                );
            }
        }
        assert!(
            lo < 0.9946 && hi > 1.0040,
            "the sample missed the extremes: {lo} {hi}"
        );
    }

    #[test]
    fn chord_is_monotonic_and_round_trips() {
        let mut prev = -1.0;
        for i in 0..1000 {
            let d = i as f64 * 20_000.0;
            let c = chord_for_distance(d);
            assert!(c > prev);
            prev = c;
            assert!((distance_for_chord(c) - d).abs() < 1e-3);
        }
    }

    #[test]
    fn destination_travels_the_distance() {
        let a = LonLat::new(118.47, 24.72).unwrap();
        for b in [0.0, 45.0, 133.0, 270.0] {
            let p = destination(a, b, 1234.5);
            assert!((haversine_m(a, p) - 1234.5).abs() < 1e-6);
        }
    }
}
