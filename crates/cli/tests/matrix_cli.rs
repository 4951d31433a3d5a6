//! `yizhan matrix`: the street-network cost matrix as spopt-shaped CSV, read back by
//! `yizhan site --matrix` to the same answer as `site --network`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yizhan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yizhan"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run yizhan")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn matrix_round_trips_through_site() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("costs.csv");
    let out = yizhan(&["matrix", "--mode", "ebike", "--out", csv.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("distance,time_s,name,DestinationName,demand")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Every hotspot × every candidate, network metres at least the straight line.
    let hs = yizhan_core::dataset::Dataset::load_dir(&root().join("data/anhai")).unwrap();
    assert_eq!(rows.len(), hs.hotspots.len() * hs.candidates.len());
    for r in rows.iter().step_by(97) {
        let h = hs.hotspots.items().iter().find(|h| h.id == r[3]).unwrap();
        let c = hs.candidates.items().iter().find(|c| c.id == r[2]).unwrap();
        let straight = yizhan_core::geodesy::haversine_m(h.location, c.location);
        let metres: f64 = r[0].parse().unwrap();
        assert!(metres >= straight - 1.0, "{r:?}: {metres} < {straight}");
        assert_eq!(r[4].parse::<u32>().unwrap(), h.workers);
    }
    for model in ["pmedian", "pcenter"] {
        let from_csv = json(&yizhan(&[
            "site",
            "--model",
            model,
            "-p",
            "2",
            "--matrix",
            csv.to_str().unwrap(),
            "--demand-col",
            "DestinationName",
            "--site-col",
            "name",
            "--cost-col",
            "distance",
            "--weight-col",
            "demand",
            "--format",
            "json",
        ]));
        let direct = json(&yizhan(&[
            "site",
            "--model",
            model,
            "-p",
            "2",
            "--network",
            "--mode",
            "ebike",
            "--radius-m",
            "1000000",
            "--format",
            "json",
        ]));
        let sites = |v: &serde_json::Value| {
            let mut s: Vec<String> = v["new_sites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            s.sort();
            s
        };
        assert_eq!(sites(&from_csv), sites(&direct), "{model}");
        let (a, b) = (
            from_csv["objective"].as_f64().unwrap(),
            direct["objective"].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-6 * b + 1.0, "{model}: {a} vs {b}");
    }
    // A cutoff keeps only the pairs within it.
    let near = yizhan(&["matrix", "--mode", "walk", "--minutes", "5"]);
    let near = String::from_utf8(near.stdout).unwrap();
    assert!(near.lines().count() > 1);
    for l in near.lines().skip(1) {
        let t: f64 = l.split(',').nth(1).unwrap().parse().unwrap();
        assert!(t <= 300.0 + 1e-6, "{l}");
    }
    // Bad input: one line, non-zero.
    let bad = yizhan(&["matrix", "--minutes", "-3"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--minutes"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("data/anhai/stations.geojson"),
        empty.path().join("stations.geojson"),
    )
    .unwrap();
    std::fs::copy(
        root().join("data/anhai/hotspots.geojson"),
        empty.path().join("hotspots.geojson"),
    )
    .unwrap();
    let bad = yizhan(&[
        "--data",
        empty.path().to_str().unwrap(),
        "matrix",
        "--keep-existing",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("road graph"));
}
