//! `yizhan gen --traces`, `yizhan demand` and planning by hour, end to end on the
//! sample town.

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

fn one_line_error(out: &Output, needle: &str) {
    assert!(!out.status.success(), "should fail with {needle:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{needle:?}: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

#[test]
fn traces_to_hotspots_and_bad_pings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pings = d.join("pings.csv");
    let out = yizhan(&[
        "gen",
        "--out",
        d.to_str().unwrap(),
        "--traces",
        pings.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let made = json(&out);
    assert!(made["features"]["traces"].as_u64().unwrap() > 100_000);
    let hs = d.join("demand.geojson");
    let out = yizhan(&[
        "demand",
        "--pings",
        pings.to_str().unwrap(),
        "--out",
        hs.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r = json(&out);
    let n = r["counts"]["hotspots"].as_u64().unwrap();
    assert!(n > 100, "{r}");
    // The output reads as the dataset's hotspots layer, profiles and all, and
    // names no worker.
    let text = std::fs::read_to_string(&hs).unwrap();
    assert!(!text.contains("synthetic-worker"));
    let back = yizhan_core::io::read_hotspots_str(&text, yizhan_core::crs::Crs::Wgs84).unwrap();
    assert_eq!(back.len() as u64, n);
    assert!(back.iter().all(|h| h.profile.is_some() && h.workers >= 5));
    // Without --out the hotspots go to stdout, the summary to stderr.
    let out = yizhan(&["demand", "--pings", pings.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        std::str::from_utf8(&out.stdout).unwrap(),
        text,
        "stdout is the file"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("hotspots: "));

    // Bad input: one line, non-zero, the old file untouched.
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "who,when\n1,2\n").unwrap();
    let out = yizhan(&[
        "demand",
        "--pings",
        bad.to_str().unwrap(),
        "--out",
        hs.to_str().unwrap(),
    ]);
    one_line_error(&out, "\"id\"");
    std::fs::write(
        &bad,
        "id,timestamp,lon,lat\nw1,2026-07-01T12:00:00,118.47,24.72\nw1,noon,118.47,24.72\n",
    )
    .unwrap();
    let out = yizhan(&[
        "demand",
        "--pings",
        bad.to_str().unwrap(),
        "--out",
        hs.to_str().unwrap(),
    ]);
    one_line_error(&out, "none of the 2 rows");
    let out = yizhan(&["demand", "--pings", "/nonexistent/pings.csv"]);
    one_line_error(&out, "cannot open");
    let out = yizhan(&[
        "demand",
        "--pings",
        pings.to_str().unwrap(),
        "--min-workers",
        "0",
    ]);
    one_line_error(&out, "--min-workers");
    assert_eq!(std::fs::read_to_string(&hs).unwrap(), text);
}

/// The sample's hotspots' workers present in `[a, b)` by their profiles, computed
/// here from the file (the oracle of the CLI's answer).
fn present(a: usize, b: usize) -> f64 {
    let text = std::fs::read_to_string(root().join("data/anhai/hotspots.geojson")).unwrap();
    let mut total = 0.0;
    for line in text.lines() {
        let Ok(f) = serde_json::from_str::<serde_json::Value>(line.trim_end_matches(',')) else {
            continue;
        };
        let p = &f["properties"];
        let Some(w) = p["workers"].as_f64() else {
            continue;
        };
        let hourly: Vec<f64> = p["profile"]["hourly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let max = hourly.iter().copied().fold(0.0, f64::max);
        let mean = hourly[a..b].iter().sum::<f64>() / (b - a) as f64;
        total += w * mean / max;
    }
    total
}

#[test]
fn planning_by_hour_on_the_sample() {
    let daily = json(&yizhan(&["coverage", "--format", "json"]));
    let lunch = json(&yizhan(&[
        "coverage", "--hours", "11-14", "--format", "json",
    ]));
    let dawn = json(&yizhan(&["coverage", "--hour", "4", "--format", "json"]));
    assert_eq!(lunch["hours"], serde_json::json!([11, 14]));
    assert!(daily.get("hours").is_none());
    for (r, (a, b)) in [(&lunch, (11, 14)), (&dawn, (4, 5))] {
        let want = present(a, b);
        let got = r["total_demand"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-6 * want, "{a}-{b}: {got} vs {want}");
    }
    assert!(
        lunch["total_demand"].as_f64() > dawn["total_demand"].as_f64(),
        "riders gather at lunch"
    );
    // The best sites for the lunch peak.
    let site = json(&yizhan(&[
        "site",
        "--model",
        "mclp",
        "-p",
        "2",
        "--radius-m",
        "500",
        "--keep-existing",
        "--hours",
        "11-14",
        "--format",
        "json",
    ]));
    let total = site["total_demand"].as_f64().unwrap();
    assert!((total - present(11, 14)).abs() < 1e-6 * total, "{site}");
    assert_eq!(site["new_sites"].as_array().unwrap().len(), 2);
    // Bad hours: one line each.
    one_line_error(&yizhan(&["coverage", "--hours", "14-11"]), "--hours");
    one_line_error(&yizhan(&["coverage", "--hour", "24"]), "--hour");
    one_line_error(&yizhan(&["gaps", "--hours", "lunch"]), "--hours");
}
