//! Coordinate reference systems: WGS 84 inside, GCJ-02 at the edges.
//!
//! Chinese web maps (Amap, Tencent) publish GCJ-02 ("Mars coordinates"), an
//! obfuscated datum offset from WGS 84 by a few hundred metres (about 500 m around
//! Anhai). The forward transform is the widely published formula; the inverse is
//! solved by fixed-point iteration to better than 1 cm. Outside mainland China's
//! rough bounding box GCJ-02 equals WGS 84, as in every reference implementation.
//!
//! Baidu maps take BD-09, a second published transform on top of GCJ-02
//! ([`gcj02_to_bd09`], [`bd09_to_gcj02`]): only for the navigation links
//! ([`crate::navigate`]), never as a CRS of the API.

use std::fmt;
use std::str::FromStr;

use crate::geodesy::LonLat;

/// A coordinate system for input and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS 84 (EPSG:4326), what GeoJSON and GPS use. The default.
    #[default]
    Wgs84,
    /// GCJ-02, as used by Amap and Tencent maps.
    Gcj02,
}

/// The URI of WGS 84 longitude, latitude (OGC's CRS84), as OGC API Features lists it.
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// The URI yizhan gives GCJ-02 longitude, latitude, which no authority defines
/// (a URN in yizhan's own namespace, so no client mistakes it for a registered CRS).
pub const GCJ02_URI: &str = "urn:x-yizhan:def:crs:GCJ-02";

impl Crs {
    /// Every CRS offered, WGS 84 first.
    pub const ALL: [Crs; 2] = [Crs::Wgs84, Crs::Gcj02];

    /// The CRS's URI ([`CRS84_URI`], [`GCJ02_URI`]).
    pub fn uri(self) -> &'static str {
        match self {
            Crs::Wgs84 => CRS84_URI,
            Crs::Gcj02 => GCJ02_URI,
        }
    }

    /// The CRS of a URI of [`Crs::uri`], if it is one.
    pub fn from_uri(uri: &str) -> Option<Crs> {
        Crs::ALL.into_iter().find(|c| c.uri() == uri)
    }

    /// The name written into files whose coordinates are in it (`WGS 84`, `GCJ-02`).
    pub fn label(self) -> &'static str {
        match self {
            Crs::Wgs84 => "WGS 84",
            Crs::Gcj02 => "GCJ-02",
        }
    }

    /// Convert a WGS 84 position into this system.
    pub fn from_wgs84(self, p: LonLat) -> LonLat {
        match self {
            Crs::Wgs84 => p,
            Crs::Gcj02 => wgs84_to_gcj02(p),
        }
    }

    /// Convert a position in this system to WGS 84.
    pub fn to_wgs84(self, p: LonLat) -> LonLat {
        match self {
            Crs::Wgs84 => p,
            Crs::Gcj02 => gcj02_to_wgs84(p),
        }
    }
}

/// An unknown CRS name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown crs {0:?} (expected wgs84 or gcj02)")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" | "crs84" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            _ => Err(UnknownCrs(s.to_string())),
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
        })
    }
}

// Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// Whether GCJ-02 applies at this position (mainland China's rough bounding box).
pub fn in_china(p: LonLat) -> bool {
    (72.004..=137.8347).contains(&p.lon) && (0.8293..=55.8271).contains(&p.lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The GCJ-02 offset (Δlon, Δlat) in degrees at a WGS 84 position.
fn offset(p: LonLat) -> (f64, f64) {
    use std::f64::consts::PI;
    let x = p.lon - 105.0;
    let y = p.lat - 35.0;
    let dlat = transform_lat(x, y);
    let dlon = transform_lon(x, y);
    let radlat = p.lat / 180.0 * PI;
    let magic = 1.0 - EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * radlat.cos() * PI);
    (dlon, dlat)
}

/// WGS 84 → GCJ-02 (the published forward formula).
pub fn wgs84_to_gcj02(p: LonLat) -> LonLat {
    if !in_china(p) {
        return p;
    }
    let (dlon, dlat) = offset(p);
    LonLat {
        lon: p.lon + dlon,
        lat: p.lat + dlat,
    }
}

/// GCJ-02 → WGS 84, by fixed-point iteration on the forward formula
/// (converges to < 1e-9° in a handful of steps; error well under 1 cm).
pub fn gcj02_to_wgs84(g: LonLat) -> LonLat {
    if !in_china(g) {
        return g;
    }
    let mut w = g;
    for _ in 0..30 {
        let f = wgs84_to_gcj02(w);
        let (elon, elat) = (f.lon - g.lon, f.lat - g.lat);
        w = LonLat {
            lon: w.lon - elon,
            lat: w.lat - elat,
        };
        if elon.abs() < 1e-10 && elat.abs() < 1e-10 {
            break;
        }
    }
    w
}

/// The constant of Baidu's BD-09 transform, `x_pi = π · 3000 / 180`.
const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// GCJ-02 → BD-09, Baidu's published transform (as in coordtransform and
/// eviltransform): with `x = lon`, `y = lat`,
/// `z = √(x² + y²) + 0.00002·sin(y·x_pi)`, `θ = atan2(y, x) + 0.000003·cos(x·x_pi)`,
/// BD-09 = `(z·cos θ + 0.0065, z·sin θ + 0.006)`. Applied everywhere (Baidu shifts
/// outside China too).
///
/// # Examples
///
/// ```
/// use yizhan_core::{crs::gcj02_to_bd09, LonLat};
/// // Beijing railway station: GCJ-02 (116.42703, 39.90245) is BD-09 (116.43351, 39.90851).
/// let b = gcj02_to_bd09(LonLat::new(116.42703, 39.90245).unwrap());
/// assert!((b.lon - 116.43351).abs() < 2e-5 && (b.lat - 39.90851).abs() < 2e-5);
/// ```
pub fn gcj02_to_bd09(g: LonLat) -> LonLat {
    let (x, y) = (g.lon, g.lat);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * X_PI).cos();
    LonLat {
        lon: z * theta.cos() + 0.0065,
        lat: z * theta.sin() + 0.006,
    }
}

/// BD-09 → GCJ-02, the published approximate inverse of [`gcj02_to_bd09`]
/// (its round trip is within a few centimetres).
pub fn bd09_to_gcj02(b: LonLat) -> LonLat {
    let (x, y) = (b.lon - 0.0065, b.lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    LonLat {
        lon: z * theta.cos(),
        lat: z * theta.sin(),
    }
}

/// WGS 84 → BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(p: LonLat) -> LonLat {
    gcj02_to_bd09(wgs84_to_gcj02(p))
}

/// BD-09 → WGS 84 (through GCJ-02).
pub fn bd09_to_wgs84(b: LonLat) -> LonLat {
    gcj02_to_wgs84(bd09_to_gcj02(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::haversine_m;

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).unwrap()
    }

    #[test]
    fn anhai_reference_point() {
        // Anhai's centroid as published by Amap (GCJ-02) and its WGS 84 equivalent
        // (../shared/data/jinjiang_towns/NOTES.md).
        let gcj = ll(118.476342, 24.716803);
        let wgs = gcj02_to_wgs84(gcj);
        assert!(haversine_m(wgs, ll(118.471598, 24.719559)) < 1.0, "{wgs:?}");
        let shift = haversine_m(gcj, wgs);
        assert!((400.0..650.0).contains(&shift), "shift {shift}");
    }

    #[test]
    fn published_reference_points() {
        // Beijing, Tiananmen: WGS 84 (116.391349, 39.907375) is commonly published as
        // GCJ-02 (116.397590, 39.908775) (eviltransform / coordtransform test points).
        let g = wgs84_to_gcj02(ll(116.391349, 39.907375));
        assert!(haversine_m(g, ll(116.397590, 39.908775)) < 2.0, "{g:?}");
    }

    #[test]
    fn inverse_is_accurate() {
        for (lon, lat) in [
            (118.47, 24.72),
            (121.5, 31.2),
            (87.6, 43.8),
            (126.6, 45.7),
            (110.3, 20.0),
        ] {
            let w = ll(lon, lat);
            let back = gcj02_to_wgs84(wgs84_to_gcj02(w));
            assert!(haversine_m(w, back) < 0.01, "{w:?} -> {back:?}");
        }
    }

    #[test]
    fn identity_outside_china() {
        let p = ll(24.94, 60.17);
        assert_eq!(wgs84_to_gcj02(p), p);
        assert_eq!(gcj02_to_wgs84(p), p);
        assert_eq!("GCJ02".parse::<Crs>().unwrap(), Crs::Gcj02);
        assert!("bd09".parse::<Crs>().is_err());
    }

    #[test]
    fn bd09_published_pairs() {
        // coordtransform (wandergis, and its Rust port coordtransform-rs) test values.
        let b = gcj02_to_bd09(ll(116.404, 39.915));
        assert!((b.lon - 116.410_369_493_710_29).abs() < 1e-9, "{b:?}");
        assert!((b.lat - 39.921_336_993_510_21).abs() < 1e-9, "{b:?}");
        let g = bd09_to_gcj02(ll(116.404, 39.915));
        assert!((g.lon - 116.397_627_291_193_15).abs() < 1e-9, "{g:?}");
        assert!((g.lat - 39.908_656_739_576_31).abs() < 1e-9, "{g:?}");
        // Beijing railway station, GCJ-02 (116.42703, 39.90245) = BD-09 (116.43351, 39.90851)
        // (the R package's documented example), to the 5 decimals published.
        let b = gcj02_to_bd09(ll(116.42703, 39.90245));
        assert!(haversine_m(b, ll(116.43351, 39.90851)) < 2.0, "{b:?}");
    }

    #[test]
    fn bd09_round_trip_and_shift() {
        for (lon, lat) in [
            (118.4716, 24.7196),
            (116.39, 39.9),
            (121.5, 31.2),
            (87.6, 43.8),
        ] {
            let w = ll(lon, lat);
            let b = wgs84_to_bd09(w);
            // BD-09 lies some 1 km from WGS 84 around Anhai and Beijing (GCJ-02's
            // ~500 m plus Baidu's ~700 m).
            let shift = haversine_m(w, b);
            assert!((300.0..2_000.0).contains(&shift), "{w:?}: shift {shift}");
            assert!(haversine_m(w, bd09_to_wgs84(b)) < 0.1, "{w:?}");
            let g = wgs84_to_gcj02(w);
            assert!(
                haversine_m(g, bd09_to_gcj02(gcj02_to_bd09(g))) < 0.1,
                "{g:?}"
            );
        }
    }
}
