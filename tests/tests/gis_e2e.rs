//! City GIS with GDAL, to the letter: every OGC collection converts with `ogr2ogr`
//! to GeoPackage, FlatGeobuf, ESRI Shapefile, CSV and GeoJSON without an `ERROR`,
//! and every property survives (read back and compared with what the server
//! serves); the CLI's CSV loads as geometries.
//! Without GDAL the tests say SKIPPED loudly; with `CI=true` they fail.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use yizhan_tests::{require_tool, run_yizhan, sample_data, Server};

const COLLECTIONS: [&str; 6] = [
    "stations",
    "hotspots",
    "cells",
    "gaps",
    "boundary",
    "candidates",
];

/// (driver, file extension, layer creation options).
const DRIVERS: [(&str, &str, &[&str]); 5] = [
    ("GPKG", "gpkg", &[]),
    ("FlatGeobuf", "fgb", &[]),
    // What GIS users pass for non-Latin text: without it GDAL writes ISO-8859-1.
    ("ESRI Shapefile", "shp", &["-lco", "ENCODING=UTF-8"]),
    ("CSV", "csv", &["-lco", "GEOMETRY=AS_WKT"]),
    ("GeoJSON", "geojson", &[]),
];

/// Run a GDAL command; assert exit 0 and no `ERROR` line; the standard output.
fn gdal(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed:\n{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "{cmd:?} printed errors:\n{stderr}");
    stdout
}

/// The features of a file's layer read back by GDAL, as GeoJSON features.
fn read_back(path: &Path) -> Vec<Value> {
    let text = gdal(
        Command::new("ogr2ogr")
            .args(["-f", "GeoJSON", "/vsistdout/"])
            .arg(path),
    );
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v["features"].as_array().expect("features").clone()
}

/// The name a driver gives a field: Shapefile (dBase) keeps 10 bytes.
fn field_name(driver: &str, name: &str) -> String {
    if driver == "ESRI Shapefile" {
        name.chars().take(10).collect()
    } else {
        name.to_string()
    }
}

/// Whether a value read back is the value served, allowing for the types a driver
/// has (CSV: text; Shapefile: no null booleans, numbers with a fixed precision).
/// A date-time in RFC 3339 or as GDAL spells it (`2026/12/04 21:19:53.090+00`).
fn date_time(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let mut t = s.replacen('/', "-", 2).replacen(' ', "T", 1);
    if t.len() > 3 && matches!(t.as_bytes()[t.len() - 3], b'+' | b'-') {
        t.push_str(":00");
    }
    chrono::DateTime::parse_from_rfc3339(&t).ok()
}

fn same(served: &Value, back: &Value) -> bool {
    match (served, back) {
        (Value::Null, Value::Null) => true,
        (Value::Null, Value::String(s)) => s.is_empty(),
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= 1e-6 * a.abs().max(1.0)
        }
        (Value::Number(a), Value::String(s)) => s
            .parse::<f64>()
            .is_ok_and(|b| same(served, &Value::from(b)) || a.to_string() == *s),
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(a), Value::Number(n)) => n.as_i64() == Some(i64::from(*a)),
        (Value::Bool(a), Value::String(s)) => {
            let s = s.to_ascii_lowercase();
            (s == "true" || s == "1" || s == "t") == *a
                && ["true", "false", "1", "0", "t", "f"].contains(&s.as_str())
        }
        // Date-times: GIS formats keep the instant, in their own spelling
        // (`…:58Z` may come back as `…:58.000Z`).
        // A JSON text field (the profile) that GDAL read as its JSON subtype comes
        // back as the JSON itself.
        (Value::String(a), b @ (Value::Object(_) | Value::Array(_))) => {
            serde_json::from_str::<Value>(a).is_ok_and(|v| v == *b)
        }
        (Value::String(a), Value::String(b)) => {
            a == b
                || matches!(
                    (date_time(a), date_time(b)),
                    (Some(x), Some(y)) if (x - y).num_milliseconds().abs() < 1
                )
        }
        _ => false,
    }
}

#[test]
fn ogr2ogr_converts_every_collection_to_every_format_keeping_every_property() {
    if !require_tool("ogr2ogr", "--version", "apt-get install gdal-bin") {
        return;
    }
    let s = Server::start(&sample_data(), &[]);
    let src = format!("OAPIF:{}/ogc", s.base);
    let dir = tempfile::tempdir().unwrap();
    for c in COLLECTIONS {
        let a = s.get(&format!("/ogc/collections/{c}/items?limit=10000"));
        assert_eq!(a.status, 200, "{c}: {}", a.body);
        let served = a.json()["features"].as_array().unwrap().clone();
        assert!(!served.is_empty(), "{c} is empty");
        let by_id: BTreeMap<String, &Value> = served
            .iter()
            .map(|f| (f["id"].as_str().unwrap().to_string(), f))
            .collect();
        let names: Vec<&String> = served[0]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        for f in &served {
            let p = f["properties"].as_object().unwrap();
            assert!(
                p.values().all(|v| !v.is_array() && !v.is_object()),
                "{c}: a list or object property: {f}"
            );
            let keys: Vec<&String> = p.keys().collect();
            assert_eq!(keys, names, "{c}: every feature has every field");
        }
        if c == "stations" {
            for f in ["has_microwave", "has_wifi", "amenities", "name_zh"] {
                assert!(names.iter().any(|n| *n == f), "stations lack {f}");
            }
        }
        for (driver, ext, lco) in DRIVERS {
            let out = dir.path().join(format!("{c}.{ext}"));
            gdal(
                Command::new("ogr2ogr")
                    .args(["-f", driver])
                    .args(lco)
                    .arg(&out)
                    .arg(&src)
                    .arg(c),
            );
            let back = read_back(&out);
            assert_eq!(back.len(), served.len(), "{c} as {driver}: feature count");
            let mut checked = 0;
            for f in &back {
                let p = f["properties"].as_object().unwrap();
                let id = p["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{c} as {driver}: {f}"));
                let want = by_id
                    .get(id)
                    .unwrap_or_else(|| panic!("{c} as {driver}: unknown id {id}"));
                for n in &names {
                    let v = &want["properties"][n.as_str()];
                    // A null field may come back absent (FlatGeobuf leaves it out).
                    let got = match p.get(&field_name(driver, n)) {
                        Some(g) => g,
                        None if v.is_null() => &Value::Null,
                        None => panic!("{c} as {driver}: no {n} in {f}"),
                    };
                    // dBASE has dates but no times: a Shapefile keeps a date-time's
                    // day only (a limit of the format, which ogr2ogr also warns of).
                    let day_only = driver == "ESRI Shapefile"
                        && matches!((v, got), (Value::String(a), Value::String(b))
                            if b.len() == 10
                                && a.starts_with(b.as_str())
                                && chrono::DateTime::parse_from_rfc3339(a).is_ok());
                    // dBASE text fields hold 254 characters: a longer text (the
                    // demand profile) is cut there.
                    let cut = driver == "ESRI Shapefile"
                        && matches!((v, got), (Value::String(a), Value::String(b))
                            if a.len() > 254 && b.len() >= 250 && a.starts_with(b.as_str()));
                    assert!(
                        day_only || cut || same(v, got),
                        "{c} as {driver}, {id}.{n}: {v} became {got}"
                    );
                }
                if driver != "CSV" {
                    assert!(
                        f["geometry"]["type"].is_string(),
                        "{c} as {driver}: no geometry"
                    );
                }
                checked += 1;
            }
            assert_eq!(checked, served.len());
        }
    }
}

/// `yizhan --format csv` of the commands with places: points as `lon`, `lat`
/// columns, cells as `wkt`; `ogr2ogr` loads them as geometries.
#[test]
fn cli_csv_loads_in_ogr2ogr_as_geometries() {
    if !require_tool("ogr2ogr", "--version", "apt-get install gdal-bin") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "nearest",
            &[
                "nearest", "--lat", "24.7196", "--lon", "118.4716", "-k", "4",
            ],
            "Point",
        ),
        (
            "within",
            &[
                "within",
                "--lat",
                "24.7196",
                "--lon",
                "118.4716",
                "--radius-m",
                "2500",
            ],
            "Point",
        ),
        (
            "within_bbox",
            &["within", "--bbox", "118.44,24.69,118.50,24.75"],
            "Point",
        ),
        ("coverage", &["coverage", "--cutoff-m", "500"], "Point"),
        ("gaps", &["gaps", "--top", "5"], "Polygon"),
    ];
    for (name, args, geometry) in cases {
        let mut all = vec!["--format", "csv"];
        all.extend_from_slice(args);
        let out = run_yizhan(&all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let rows = text.lines().count() - 1;
        assert!(rows > 0, "{name}: no rows:\n{text}");
        let header = text.lines().next().unwrap();
        let file = dir.path().join(format!("{name}.csv"));
        std::fs::write(&file, &text).unwrap();
        let oo: &[&str] = if geometry == "Point" {
            assert!(header.starts_with("lon,lat,id,"), "{name}: {header}");
            &[
                "-oo",
                "X_POSSIBLE_NAMES=lon",
                "-oo",
                "Y_POSSIBLE_NAMES=lat",
                "-oo",
                "KEEP_GEOM_COLUMNS=NO",
            ]
        } else {
            assert!(header.starts_with("wkt,id,"), "{name}: {header}");
            &[
                "-oo",
                "GEOM_POSSIBLE_NAMES=wkt",
                "-oo",
                "KEEP_GEOM_COLUMNS=NO",
            ]
        };
        if name != "gaps" {
            assert!(header.contains(",has_microwave,"), "{name}: {header}");
        }
        let gj = gdal(
            Command::new("ogr2ogr")
                .args(["-f", "GeoJSON", "/vsistdout/"])
                .args(oo)
                .arg(&file),
        );
        let v: Value = serde_json::from_str(&gj).unwrap();
        let feats = v["features"].as_array().unwrap();
        assert_eq!(feats.len(), rows, "{name}");
        let csv_rows: Vec<Vec<String>> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        for (f, row) in feats.iter().zip(&csv_rows) {
            assert_eq!(f["geometry"]["type"], geometry, "{name}: {f}");
            let c = &f["geometry"]["coordinates"];
            let first = if geometry == "Point" { c } else { &c[0][0] };
            let (x, y) = (first[0].as_f64().unwrap(), first[1].as_f64().unwrap());
            assert!(
                (118.3..118.6).contains(&x) && (24.6..24.8).contains(&y),
                "{f}"
            );
            if geometry == "Point" {
                let lon: f64 = row[0].parse().unwrap();
                let lat: f64 = row[1].parse().unwrap();
                assert!((x - lon).abs() < 1e-9 && (y - lat).abs() < 1e-9, "{name}");
            }
        }
    }
}

/// `yizhan export --crs gcj02` into a folder: the suggested name says the datum,
/// and so does the file (a `yizhan:crs` member, a property on every feature); a
/// WGS 84 export has neither.
#[test]
fn gcj02_exports_say_their_datum() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for (crs, name) in [
        ("gcj02", "stations-gcj02.geojson"),
        ("wgs84", "stations.geojson"),
    ] {
        let out = run_yizhan(&["--crs", crs, "export", "--layer", "stations", "--out", d]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let feats = v["features"].as_array().unwrap();
        assert!(!feats.is_empty());
        if crs == "gcj02" {
            assert_eq!(v["yizhan:crs"]["name"], "GCJ-02");
            assert!(feats
                .iter()
                .all(|f| f["properties"]["coordinate_system"] == "GCJ-02"));
        } else {
            assert!(v.get("yizhan:crs").is_none());
            assert!(feats
                .iter()
                .all(|f| f["properties"].get("coordinate_system").is_none()));
        }
    }
    // A file name without the datum gets a note.
    let file = dir.path().join("mine.geojson");
    let out = run_yizhan(&[
        "--crs",
        "gcj02",
        "export",
        "--layer",
        "stations",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stations-gcj02.geojson"), "{err}");
}
