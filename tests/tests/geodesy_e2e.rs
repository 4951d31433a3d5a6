//! Every `distance_m` is on the WGS 84 ellipsoid: the API's and the CLI's nearest
//! answers for seeded random points, near the sample town and anywhere on Earth,
//! agree with pyproj's `Geod(ellps='WGS84')` to a millimetre.
//! Without Python and pyproj the test says SKIPPED loudly; with `CI=true` it fails.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use yizhan_tests::{python_with, repo_root, sample_data, yizhan_json, Server};

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn range(&mut self, a: f64, b: f64) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        a + (b - a) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// (lon, lat) of a GeoJSON point feature.
fn position(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[test]
fn distances_agree_with_pyproj_to_a_millimetre() {
    let Some(py) = python_with("pyproj") else {
        return;
    };
    let s = Server::start(&sample_data(), &[]);
    let mut rng = Rng(0x6E0D_2026);
    let mut pairs = Vec::new();
    for q in 0..60 {
        let (lon, lat) = if q % 2 == 0 {
            (rng.range(118.40, 118.55), rng.range(24.65, 24.80))
        } else {
            (rng.range(-180.0, 180.0), rng.range(-89.0, 89.0))
        };
        let a = s.get(&format!("/api/v1/stations/nearest?lat={lat}&lon={lon}&k=5"));
        assert_eq!(a.status, 200, "{}", a.body);
        for f in a.json()["features"].as_array().unwrap() {
            let (x, y) = position(f);
            let d = f["properties"]["distance_m"].as_f64().unwrap();
            pairs.push(json!([lon, lat, x, y, d]));
        }
        if q % 6 == 0 {
            let cli = yizhan_json(&[
                "--format",
                "geojson",
                "nearest",
                "--lat",
                &lat.to_string(),
                "--lon",
                &lon.to_string(),
                "-k",
                "3",
            ]);
            for f in cli["features"].as_array().unwrap() {
                let (x, y) = position(f);
                let d = f["properties"]["distance_m"].as_f64().unwrap();
                pairs.push(json!([lon, lat, x, y, d]));
            }
        }
    }
    assert!(pairs.len() > 300, "{} pairs", pairs.len());
    let mut child = Command::new(py)
        .arg(repo_root().join("tests/python/geodesic_check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let input = serde_json::to_vec(&pairs).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "geodesic_check.py failed");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["n"].as_u64().unwrap() as usize, pairs.len());
    // Answers are rounded to 1 mm: half a millimetre of rounding, and the
    // coordinates as written (7 decimals, ≈ 1 cm) are the ones compared.
    let err = v["max_abs_err_m"].as_f64().unwrap();
    assert!(err <= 1e-3, "off pyproj by {err} m: {}", v["worst"]);
}
