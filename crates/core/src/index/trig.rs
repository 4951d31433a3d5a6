//! Trigonometric shortcuts of the distance queries: a query point's haversine terms
//! computed once, and its unit vector from a nearby point's sines and cosines by the
//! angle-addition formulas (the batch join's points come in runs of neighbours).

use crate::geodesy::{LonLat, EARTH_RADIUS_M};

/// A query point with what the haversine formula needs of it, computed once.
pub(super) struct Query {
    at: LonLat,
    /// The point's unit vector.
    pub(super) xyz: [f64; 3],
    lat_rad: f64,
    cos_lat: f64,
}

impl Query {
    pub(super) fn new(at: LonLat) -> Self {
        let lat_rad = at.lat.to_radians();
        Self {
            at,
            xyz: at.to_unit_vector(),
            lat_rad,
            cos_lat: lat_rad.cos(),
        }
    }

    /// As [`Query::new`], with the unit vector from `near`'s sines and cosines by the
    /// angle-addition formulas (a few ulps from `sin_cos`, far inside every slack of
    /// the chord bounds; the haversine inputs are exactly those of `new`). `near` moves
    /// to `at` when it is more than ~1° away (its own sines and cosines, exactly).
    pub(super) fn near(at: LonLat, near: &mut Angles) -> Self {
        let lat_rad = at.lat.to_radians();
        let cos_lat = lat_rad.cos();
        let lon_rad = at.lon.to_radians();
        let (dlat, dlon) = (lat_rad - near.lat, lon_rad - near.lon);
        let (dlat, dlon) = if dlat.abs() > Angles::REACH || dlon.abs() > Angles::REACH {
            *near = Angles::of(at);
            (0.0, 0.0)
        } else {
            (dlat, dlon)
        };
        let (sa, ca) = small_sin_cos(dlat);
        let (so, co) = small_sin_cos(dlon);
        let slat = near.slat * ca + near.clat * sa;
        let slon = near.slon * co + near.clon * so;
        let clon = near.clon * co - near.slon * so;
        Self {
            at,
            xyz: [cos_lat * clon, cos_lat * slon, slat],
            lat_rad,
            cos_lat,
        }
    }

    /// [`haversine_m`](crate::geodesy::haversine_m) from the query to a point, with the
    /// point's cos(latitude) precomputed: the very same operations in the same order, so
    /// bit-identical.
    #[inline(always)]
    pub(super) fn haversine_m(&self, p: &PointGeo) -> f64 {
        let p2 = p.lat.to_radians();
        let dp = p2 - self.lat_rad;
        let dl = (p.lon - self.at.lon).to_radians();
        let s1 = (dp / 2.0).sin();
        let s2 = (dl / 2.0).sin();
        let h = s1 * s1 + self.cos_lat * p.cos_lat * s2 * s2;
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

/// Sines and cosines of a point's latitude and longitude, for [`Query::near`].
pub(super) struct Angles {
    lat: f64,
    lon: f64,
    slat: f64,
    clat: f64,
    slon: f64,
    clon: f64,
}

impl Angles {
    /// Largest angle (radians, ≈ 0.9°) [`small_sin_cos`] is used for.
    const REACH: f64 = 1.0 / 64.0;

    pub(super) fn of(at: LonLat) -> Self {
        let (lat, lon) = (at.lat.to_radians(), at.lon.to_radians());
        let (slat, clat) = lat.sin_cos();
        let (slon, clon) = lon.sin_cos();
        Self {
            lat,
            lon,
            slat,
            clat,
            slon,
            clon,
        }
    }
}

/// Sine and cosine of |x| ≤ [`Angles::REACH`] by their Taylor series, to within an
/// ulp (the first omitted terms are below 1e-20).
#[inline(always)]
fn small_sin_cos(x: f64) -> (f64, f64) {
    let x2 = x * x;
    let s = x * (1.0 - x2 * (1.0 / 6.0) * (1.0 - x2 * (1.0 / 20.0) * (1.0 - x2 * (1.0 / 42.0))));
    let c = 1.0
        - x2 * 0.5
            * (1.0 - x2 * (1.0 / 12.0) * (1.0 - x2 * (1.0 / 30.0) * (1.0 - x2 * (1.0 / 56.0))));
    (s, c)
}

/// Where a point is, in the form the haversine formula uses (tree order).
#[derive(Debug, Clone, Copy)]
pub(super) struct PointGeo {
    lon: f64,
    lat: f64,
    cos_lat: f64,
}

impl PointGeo {
    /// `p` with its cos(latitude).
    pub(super) fn of(p: LonLat) -> Self {
        Self {
            lon: p.lon,
            lat: p.lat,
            cos_lat: p.lat.to_radians().cos(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::haversine_m;
    use crate::index::test_utilities::random_query;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn precomputed_haversine_is_bit_identical() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..20_000 {
            let a = random_query(&mut rng);
            let b = random_query(&mut rng);
            let g = PointGeo::of(b);
            assert_eq!(
                Query::new(a).haversine_m(&g).to_bits(),
                haversine_m(a, b).to_bits()
            );
        }
    }
}
