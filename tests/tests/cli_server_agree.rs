//! The CLI and the server answer the same planning request the same way: `yizhan
//! coverage`, `yizhan gaps` and `yizhan compare` against `GET /api/v1/coverage`,
//! `GET /api/v1/gaps` and `POST /api/v1/plan/compare` of a real `yizhan serve`, on the
//! sample town, with the default parameters and with an explicit cutoff.

use std::collections::BTreeMap;

use serde_json::Value;
use yizhan_tests::{sample_data, yizhan_ok, Server};

/// Numbers equal to 1e-9 (relative): the two sides run the same code, but a sum over
/// rayon's threads may add in another order.
fn same_number(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Assert that two JSON values are equal (numbers to [`same_number`]), naming the
/// first place where they differ.
fn assert_same(cli: &Value, server: &Value, at: &str) {
    match (cli, server) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(same_number(a, b), "{at}: CLI {a} but server {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: lengths differ");
            for (k, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same(x, y, &format!("{at}[{k}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            assert_eq!(ka, kb, "{at}: fields differ");
            for (k, x) in a {
                assert_same(x, &b[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(cli, server, "{at}"),
    }
}

fn cli_json(args: &[&str]) -> Value {
    let out = yizhan_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("yizhan {args:?}: not JSON ({e})"))
}

fn get_json(s: &Server, path: &str) -> Value {
    let a = s.get(path);
    assert_eq!(a.status, 200, "GET {path}: {}", a.body);
    a.json()
}

/// `cutoff` as CLI flags and as a query string (none: the defaults).
fn cutoff_args(cutoff: Option<&str>) -> (Vec<String>, String) {
    match cutoff {
        Some(m) => (
            vec!["--cutoff-m".to_string(), m.to_string()],
            format!("?cutoff_m={m}"),
        ),
        None => (Vec::new(), String::new()),
    }
}

fn with_flags<'a>(base: &[&'a str], flags: &'a [String]) -> Vec<&'a str> {
    let mut v = base.to_vec();
    v.extend(flags.iter().map(String::as_str));
    v.extend(["--format", "json"]);
    v
}

fn coverage_agrees(s: &Server, cutoff: Option<&str>) -> f64 {
    let (flags, query) = cutoff_args(cutoff);
    let cli = cli_json(&with_flags(&["coverage"], &flags));
    let server = get_json(s, &format!("/api/v1/coverage{query}"));
    assert_same(&cli, &server, "coverage");
    // Not vacuous: there is demand, some of it covered, and per-station load.
    assert!(cli["total_demand"].as_f64().unwrap() > 0.0);
    assert!(cli["covered_share"].as_f64().unwrap() > 0.0);
    let stations = cli["stations"].as_array().unwrap();
    assert!(stations.len() >= 18, "{}", stations.len());
    assert!(stations.iter().any(|l| l["load"].as_f64().unwrap() > 0.0));
    cli["cutoff_m"].as_f64().unwrap()
}

fn gaps_agree(s: &Server, cutoff: Option<&str>) -> f64 {
    let (flags, query) = cutoff_args(cutoff);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gaps.geojson");
    let out_s = out.to_str().unwrap().to_string();
    let mut base = vec!["gaps", "--top", "100000", "--out"];
    base.push(&out_s);
    let cli = cli_json(&with_flags(&base, &flags));
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let server = get_json(s, &format!("/api/v1/gaps{query}"));
    // The same layer, feature for feature.
    assert_same(&layer["features"], &server["features"], "gaps layer");
    // The CLI's ranked cells are the server's cells, with the same scores and ranks.
    let by_id: BTreeMap<&str, &Value> = server["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), &f["properties"]))
        .collect();
    let cells = cli["cells"].as_array().unwrap();
    assert_eq!(cells.len(), by_id.len());
    for c in cells {
        let p = by_id[c["id"].as_str().unwrap()];
        for k in ["score", "rank", "uncovered_demand", "pressure"] {
            assert_same(&c[k], &p[k], &format!("cell {} {k}", c["id"]));
        }
        assert_same(&cli["cutoff_m"], &p["cutoff_m"], "cutoff_m");
    }
    assert!(cells.iter().any(|c| c["score"].as_f64().unwrap() > 0.0));
    cli["cutoff_m"].as_f64().unwrap()
}

fn compare_agrees(s: &Server, cutoff: Option<&str>) {
    let (flags, _) = cutoff_args(cutoff);
    let base = [
        "compare",
        "--candidates",
        "data/anhai/candidates.geojson",
        "--top",
        "100000",
    ];
    let cli = cli_json(&with_flags(&base, &flags));
    let body = match cutoff {
        Some(m) => format!(r#"{{"cutoff_m": {m}}}"#),
        None => "{}".to_string(),
    };
    let a = s.post_json("/api/v1/plan/compare", &body);
    assert_eq!(a.status, 200, "{}", a.body);
    let server = a.json();
    let rows = server["candidates"].as_array().unwrap();
    let cli = cli.as_array().unwrap();
    assert!(!cli.is_empty());
    assert_eq!(cli.len(), rows.len());
    for (c, r) in cli.iter().zip(rows) {
        // The CLI gives a WGS 84 `location`, the API `lon` and `lat`: the rest is equal.
        let mut c = c.clone();
        let loc = c.as_object_mut().unwrap().remove("location").unwrap();
        let mut r = r.clone();
        let o = r.as_object_mut().unwrap();
        let (lon, lat) = (o.remove("lon").unwrap(), o.remove("lat").unwrap());
        assert_same(&c, &r, &format!("candidate {}", c["id"]));
        assert_same(&loc["lon"], &lon, "lon");
        assert_same(&loc["lat"], &lat, "lat");
    }
    assert!(cli
        .iter()
        .any(|c| c["workers_served"].as_f64().unwrap() > 0.0));
}

#[test]
fn cli_and_server_give_the_same_plans() {
    let s = Server::start(&sample_data(), &[]);
    // Defaults: the same default cutoff on both sides.
    let config = get_json(&s, "/api/v1/config");
    let default = config["default_cutoff_m"].as_f64().unwrap();
    assert_eq!(coverage_agrees(&s, None), default);
    assert_eq!(gaps_agree(&s, None), default);
    compare_agrees(&s, None);
    // An explicit cutoff.
    assert_eq!(coverage_agrees(&s, Some("800")), 800.0);
    assert_eq!(gaps_agree(&s, Some("800")), 800.0);
    compare_agrees(&s, Some("800"));
}
