//! Deterministic maths: sines from a fixed series (not the platform's libm), a local
//! metric frame, areas, and the rounding the files use.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use crate::geodesy::{LonLat, EARTH_RADIUS_M};

pub(super) const PI: f64 = std::f64::consts::PI;
pub(super) const DEG: f64 = PI / 180.0;
/// Metres per degree of latitude on the haversine sphere.
pub(super) const M_PER_DEG: f64 = EARTH_RADIUS_M * DEG;

/// Sine and cosine by Taylor series after range reduction: plain IEEE arithmetic,
/// so results are identical on every platform (libm's last bit may differ).
pub(super) fn sin_cos(x: f64) -> (f64, f64) {
    let k = (x / (2.0 * PI)).round();
    let r = x - k * 2.0 * PI;
    let r2 = r * r;
    let (mut s, mut c) = (0.0, 0.0);
    let (mut ts, mut tc) = (r, 1.0);
    for n in 0..30 {
        s += ts;
        c += tc;
        let n = n as f64;
        ts *= -r2 / ((2.0 * n + 2.0) * (2.0 * n + 3.0));
        tc *= -r2 / ((2.0 * n + 1.0) * (2.0 * n + 2.0));
    }
    (s, c)
}

pub(super) fn cos_deg(d: f64) -> f64 {
    sin_cos(d * DEG).1
}

/// Metres per degree of longitude at latitude `lat`.
pub(super) fn m_per_deg_lon(lat: f64) -> f64 {
    M_PER_DEG * cos_deg(lat)
}

/// A local equirectangular frame around an origin: x east, y north, metres.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    lon0: f64,
    lat0: f64,
    kx: f64,
}

impl Frame {
    pub(super) fn new(origin: LonLat) -> Self {
        Self {
            lon0: origin.lon,
            lat0: origin.lat,
            kx: m_per_deg_lon(origin.lat),
        }
    }
    pub(super) fn xy(&self, p: LonLat) -> (f64, f64) {
        (
            (p.lon - self.lon0) * self.kx,
            (p.lat - self.lat0) * M_PER_DEG,
        )
    }
    pub(super) fn ll(&self, x: f64, y: f64) -> LonLat {
        LonLat {
            lon: self.lon0 + x / self.kx,
            lat: self.lat0 + y / M_PER_DEG,
        }
    }
    pub(super) fn dist(&self, a: LonLat, b: LonLat) -> f64 {
        let (ax, ay) = self.xy(a);
        let (bx, by) = self.xy(b);
        ((ax - bx) * (ax - bx) + (ay - by) * (ay - by)).sqrt()
    }
}

/// Planar area (m²) of a lon/lat multipolygon in a local frame.
pub(super) fn area_m2(frame: &Frame, mp: &MultiPolygon<f64>) -> f64 {
    let ring = |ls: &LineString<f64>| {
        let pts: Vec<(f64, f64)> =
            ls.0.iter()
                .map(|c| frame.xy(LonLat { lon: c.x, lat: c.y }))
                .collect();
        let mut a = 0.0;
        for w in pts.windows(2) {
            a += w[0].0 * w[1].1 - w[1].0 * w[0].1;
        }
        (a / 2.0).abs()
    };
    mp.0.iter()
        .map(|p| ring(p.exterior()) - p.interiors().iter().map(ring).sum::<f64>())
        .sum()
}

pub(super) fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

pub(super) fn round_pos(p: LonLat) -> LonLat {
    LonLat {
        lon: round7(p.lon),
        lat: round7(p.lat),
    }
}

pub(super) fn bounds(mp: &MultiPolygon<f64>) -> (f64, f64, f64, f64) {
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &mp.0 {
        for c in &p.exterior().0 {
            b = (b.0.min(c.x), b.1.min(c.y), b.2.max(c.x), b.3.max(c.y));
        }
    }
    b
}

pub(super) fn rounded_polygon(p: &Polygon<f64>) -> Polygon<f64> {
    let ring = p
        .exterior()
        .0
        .iter()
        .map(|c| Coord {
            x: round7(c.x),
            y: round7(c.y),
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_sine_and_cosine_match_libm() {
        for i in -400..=400 {
            let x = f64::from(i) * 0.0371;
            let (s, c) = sin_cos(x);
            assert!((s - x.sin()).abs() < 1e-14, "{x}");
            assert!((c - x.cos()).abs() < 1e-14, "{x}");
        }
    }
}
