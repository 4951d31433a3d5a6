//! End-to-end tests of the real `yizhan` binary: answers checked against an
//! independent brute-force scan of the stations file on the WGS 84 ellipsoid, and
//! bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;
use yizhan_tests::{
    feature_id, features_of, run_yizhan as run, strings_of, yizhan_json, yizhan_ok as ok_stdout,
};

/// The geodesic distance on the WGS 84 ellipsoid in metres, straight from `geo`
/// (Karney's method), not through the core: what every `distance_m` reports.
fn geodesic(a: (f64, f64), b: (f64, f64)) -> f64 {
    use geo::Distance;
    geo::Geodesic.distance(geo::Point::new(a.0, a.1), geo::Point::new(b.0, b.1))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (id, lon, lat) of every station in a stations file, read with plain serde_json.
fn stations_of(path: &Path) -> Vec<(String, f64, f64)> {
    let position = |f: &Value| {
        let c = &f["geometry"]["coordinates"];
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    features_of(path)
        .iter()
        .map(|f| (feature_id(f), position(f).0, position(f).1))
        .collect()
}

/// A small deterministic generator (xorshift), so the oracle needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

fn check_nearest_against_oracle(data: &Path, queries: usize, seed: u64) {
    let stations = stations_of(&data.join("stations.geojson"));
    assert!(!stations.is_empty());
    let (mut w, mut s, mut e, mut n) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for (_, lon, lat) in &stations {
        w = w.min(*lon);
        e = e.max(*lon);
        s = s.min(*lat);
        n = n.max(*lat);
    }
    let mut rng = Rng(seed);
    for q in 0..queries {
        let lon = rng.range(w - 0.02, e + 0.02);
        let lat = rng.range(s - 0.02, n + 0.02);
        let k = 1 + (q % 9);
        let text = ok_stdout(&[
            "--data",
            data.to_str().unwrap(),
            "--format",
            "geojson",
            "nearest",
            "--lat",
            &lat.to_string(),
            "--lon",
            &lon.to_string(),
            "-k",
            &k.to_string(),
        ]);
        let got: Value = serde_json::from_str(&text).unwrap();
        let got: Vec<(String, f64)> = got["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["properties"]["id"].as_str().unwrap().to_string(),
                    f["properties"]["distance_m"].as_f64().unwrap(),
                )
            })
            .collect();
        let mut want: Vec<(String, f64)> = stations
            .iter()
            .map(|(id, slon, slat)| (id.clone(), geodesic((lon, lat), (*slon, *slat))))
            .collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        want.truncate(k);
        assert_eq!(
            got.iter().map(|g| &g.0).collect::<Vec<_>>(),
            want.iter().map(|w| &w.0).collect::<Vec<_>>(),
            "query {q} at {lon},{lat} k={k}"
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g.1 - w.1).abs() < 0.01, "{} {} vs {}", g.0, g.1, w.1);
        }
    }
}

#[test]
fn nearest_on_the_sample_town_matches_brute_force() {
    check_nearest_against_oracle(&repo().join("data/anhai"), 40, 0x5eed);
}

#[test]
fn nearest_on_a_generated_city_matches_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "gen",
        "--scale",
        "city",
        "--seed",
        "7",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = stations_of(&dir.path().join("stations.geojson")).len();
    assert!((1500..=2500).contains(&n), "city has {n} stations");
    check_nearest_against_oracle(dir.path(), 25, 0xc17e);
}

#[test]
fn nearest_table_json_and_csv() {
    let table = ok_stdout(&[
        "--format", "table", "nearest", "--lat", "24.7196", "--lon", "118.4716", "-k", "3",
    ]);
    assert!(table.lines().next().unwrap().starts_with("id"));
    assert_eq!(table.lines().count(), 4, "{table}");
    let json: Value = serde_json::from_str(&ok_stdout(&[
        "--format", "json", "nearest", "--lat", "24.7196", "--lon", "118.4716", "-k", "2",
    ]))
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert!(json[0]["distance_m"].as_f64().unwrap() <= json[1]["distance_m"].as_f64().unwrap());
    let csv = ok_stdout(&[
        "--format", "csv", "nearest", "--lat", "24.7196", "--lon", "118.4716", "-k", "2",
    ]);
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn filters_are_applied() {
    let json: Value = serde_json::from_str(&ok_stdout(&[
        "--format",
        "json",
        "nearest",
        "--lat",
        "24.7196",
        "--lon",
        "118.4716",
        "-k",
        "100",
        "--amenity",
        "microwave",
        "--kind",
        "rest_station",
    ]))
    .unwrap();
    let hits = json.as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        assert!(h["amenities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "microwave"));
        assert_eq!(h["kind"], "rest_station");
    }
}

#[test]
fn within_radius_and_bbox_match_brute_force() {
    let stations = stations_of(&repo().join("data/anhai/stations.geojson"));
    let (lon, lat, r) = (118.4716, 24.7196, 2500.0);
    // The ids of the stations at (lon, lat) that `keep` keeps, in id order.
    let wanted = |keep: &dyn Fn(f64, f64) -> bool| {
        let kept = stations.iter().filter(|(_, a, b)| keep(*a, *b));
        let mut ids: Vec<String> = kept.map(|s| s.0.clone()).collect();
        ids.sort();
        ids
    };
    let json = yizhan_json(&[
        "--format",
        "json",
        "within",
        "--lat",
        "24.7196",
        "--lon",
        "118.4716",
        "--radius-m",
        "2500",
    ]);
    // Nearest first.
    let rows = json.as_array().expect("an array of stations");
    let d: Vec<f64> = rows
        .iter()
        .map(|s| s["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]),
        "not nearest first: {d:?}"
    );
    let mut got = strings_of(&json, "id");
    got.sort();
    assert_eq!(got, wanted(&|a, b| geodesic((lon, lat), (a, b)) <= r));

    // A box answers in id order.
    let json = yizhan_json(&[
        "--format",
        "json",
        "within",
        "--bbox",
        "118.45,24.70,118.49,24.74",
    ]);
    let in_box = |a: f64, b: f64| (118.45..=118.49).contains(&a) && (24.70..=24.74).contains(&b);
    assert_eq!(strings_of(&json, "id"), wanted(&in_box));
}

#[test]
fn gcj02_input_is_converted_before_the_query() {
    // The same place given in GCJ-02 (as copied from Amap) and in WGS 84.
    let wgs = ok_stdout(&[
        "--format",
        "json",
        "nearest",
        "--lat",
        "24.719559",
        "--lon",
        "118.471598",
        "-k",
        "3",
    ]);
    let gcj = ok_stdout(&[
        "--format",
        "json",
        "--crs",
        "gcj02",
        "nearest",
        "--lat",
        "24.716803",
        "--lon",
        "118.476342",
        "-k",
        "3",
    ]);
    let ids = |t: &str| strings_of(&serde_json::from_str(t).unwrap(), "id");
    assert_eq!(ids(&wgs), ids(&gcj));
}

#[test]
fn validate_accepts_the_sample_and_export_round_trips() {
    let out = run(&[
        "validate",
        "data/anhai/stations.geojson",
        "data/anhai/hotspots.geojson",
        "data/anhai/cells.geojson",
        "data/anhai/boundary.geojson",
        "data/anhai/candidates.geojson",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stations.geojson");
    ok_stdout(&[
        "export",
        "--layer",
        "stations",
        "--out",
        file.to_str().unwrap(),
    ]);
    let a = stations_of(&file);
    let b = stations_of(&repo().join("data/anhai/stations.geojson"));
    assert_eq!(a, b);
    let out = run(&["validate", file.to_str().unwrap()]);
    assert!(out.status.success());
}

/// Runs yizhan expecting failure: non-zero exit, one line on stderr containing `needle`,
/// no panic.
fn expect_error(args: &[&str], needle: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "yizhan {args:?} should fail");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(needle),
        "yizhan {args:?}: expected {needle:?} in {err:?}"
    );
}

#[test]
fn bad_input_gives_one_clear_line_and_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("stations.geojson");
    std::fs::write(&broken, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    let d = dir.path().to_str().unwrap();

    // Each command line split at its spaces; DIR is the folder of the broken file.
    for (line, needle) in [
        ("nearest --lat 123 --lon 118.47", "latitude 123"),
        ("nearest --lat 24.7 --lon -200", "longitude -200"),
        (
            "nearest --lat 24.7 --lon 118.4 --amenity sauna",
            "unknown amenity \"sauna\"",
        ),
        ("nearest --lat 24.7 --lon 118.4 -k 1000", "-k 1000"),
        ("nearest --lat 24.7 --lon 118.4 --open-at noon", "--open-at"),
        (
            "--data /nonexistent/dir nearest --lat 24.7 --lon 118.4",
            "/nonexistent/dir",
        ),
        (
            "--data DIR nearest --lat 24.7 --lon 118.4",
            "not valid GeoJSON",
        ),
        ("within --bbox 1,2,3", "four comma-separated"),
        ("within --lat 24.7 --lon 118.4 --radius-m -5", "--radius-m"),
        ("nearest --lat abc --lon 118.4", "abc"),
        (
            "nearest --lat 24.7 --lon 118.4 --min-free 1 --occupancy-max-age soon",
            "--occupancy-max-age",
        ),
        (
            "within --bbox 118.4,24.6,118.5,24.8 --occupancy-max-age 2x",
            "--occupancy-max-age",
        ),
        (
            "site --model lscp --radius-m 800 --exact --solver gurobi",
            "unknown solver \"gurobi\"",
        ),
    ] {
        let args: Vec<&str> = line
            .split(' ')
            .map(|a| if a == "DIR" { d } else { a })
            .collect();
        expect_error(&args, needle);
    }
    for args in [
        &["nearest", "--lat", "123", "--lon", "118.47"][..],
        &["--data", d, "nearest", "--lat", "24.7", "--lon", "118.4"][..],
    ] {
        let err = String::from_utf8(run(args).stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn validate_reports_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("stations.geojson");
    std::fs::write(
        &f,
        r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[118.47,123]},"properties":{"name":"x","capacity":3}},
 {"type":"Feature","id":"B","geometry":{"type":"Point","coordinates":[118.47,24]},"properties":{"name":"y","capacity":"ten","amenities":["sauna"]}},
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[118.47,24]},"properties":{"name":"z","capacity":1}}
]}"#,
    )
    .unwrap();
    let out = run(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "feature 0 (id \"A\"): geometry: latitude 123",
        "feature 1 (id \"B\"): capacity",
        "unknown amenity \"sauna\"",
        "feature 2 (id \"A\"): id: duplicate id",
        "4 problem(s)",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
    let out = run(&[
        "validate",
        dir.path().join("nope.geojson").to_str().unwrap(),
        "--layer",
        "stations",
    ]);
    assert!(!out.status.success());
}
