//! End-to-end tests of the planning commands.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sf_matrix() -> PathBuf {
    root().join("crates/plan/tests/fixtures/spopt-sf/SF_network_distance_candidateStore_16_censusTract_205_new.csv")
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

/// `yizhan site --model MODEL` on the spopt San Francisco matrix, then `extra`.
fn sf_site(model: &str, extra: &[&str]) -> Output {
    let m = sf_matrix();
    let mut v = vec![
        "site",
        "--model",
        model,
        "--matrix",
        m.to_str().unwrap(),
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
    ];
    v.extend_from_slice(extra);
    yizhan(&v)
}

/// `yizhan site --model pmedian -p 1 --matrix MATRIX`, then `extra`.
fn pmedian_on(matrix: &Path, extra: &[&str]) -> Output {
    let mut v = vec!["site", "--model", "pmedian", "-p", "1", "--matrix"];
    v.push(matrix.to_str().unwrap());
    v.extend_from_slice(extra);
    yizhan(&v)
}

#[test]
fn site_on_the_spopt_matrix_reproduces_spopt() {
    for exact in [false, true] {
        let mut extra = vec!["-p", "4", "--radius-m", "5000"];
        if exact {
            extra.push("--exact");
        }
        let v = json(&sf_site("mclp", &extra));
        assert_eq!(v["model"], "mclp");
        assert_eq!(v["uncovered_points"], 21);
        assert_eq!(v["objective"], 875247.0);
        assert_eq!(v["sites"].as_array().unwrap().len(), 4);
        assert!(v.get("covered_demand").is_some() && v.get("gap").is_some());
        if exact {
            assert_eq!(v["optimal"], true);
            assert_eq!(v["gap"], 0.0);
        }
        let v = json(&sf_site("pmedian", &extra));
        let mean = v["mean_distance_m"].as_f64().unwrap();
        assert!((mean - 2982.1268579890657).abs() < 1e-9, "{mean}");
    }
}

#[test]
fn nonsense_ends_with_one_clear_line() {
    for (model, extra, needle) in [
        (
            "mclp",
            &["-p", "40", "--radius-m", "5000"][..],
            "only 16 candidate sites",
        ),
        ("mclp", &["-p", "4", "--radius-m", "-5"], "--radius-m -5"),
        ("lscp", &["--radius-m", "100"], "infeasible"),
    ] {
        one_line_error(&sf_site(model, extra), needle);
    }

    let dir = std::env::temp_dir().join(format!("yizhan-plan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.csv");
    std::fs::write(&missing, "demand,site,cost\na,s1,10\na,s2,20\nb,s1,30\n").unwrap();
    let dup = dir.join("dup.csv");
    std::fs::write(&dup, "demand,site,cost\na,s1,10\na,s1,20\n").unwrap();
    for (matrix, extra, needle) in [
        (&missing, &[][..], "missing 1 of 4 demand-site pairs"),
        (&dup, &[], "given twice"),
        (&missing, &["--cost-col", "metres"], "no column \"metres\""),
    ] {
        one_line_error(&pmedian_on(matrix, extra), needle);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn have_sample() -> bool {
    let ok = root().join("data/anhai/stations.geojson").exists()
        && root().join("data/anhai/cells.geojson").exists();
    if !ok {
        eprintln!("data/anhai not there yet: skipping");
    }
    ok
}

#[test]
fn coverage_gaps_compare_assign_on_the_sample_town() {
    if !have_sample() {
        return;
    }
    let v = json(&yizhan(&["coverage", "--format", "json"]));
    let share = v["covered_share"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&share));
    assert!(v["stations"].as_array().unwrap().len() >= 18);

    let v = json(&yizhan(&[
        "coverage",
        "--minutes",
        "10",
        "--mode",
        "ebike",
        "--decay",
        "linear",
        "--format",
        "json",
    ]));
    assert!((v["cutoff_m"].as_f64().unwrap() - 2500.0).abs() < 1e-9);
    assert!(v["decay_share"].as_f64().is_some());

    let dir = std::env::temp_dir().join(format!("yizhan-plan-gaps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("gaps.geojson");
    let v = json(&yizhan(&[
        "gaps",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert!(v["all_units_covered"].is_boolean());
    assert!(!v["units"].as_array().unwrap().is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = &fc["features"][0];
    assert!(f["properties"]["score"].is_number());
    assert!(f["properties"]["rank"].is_number());
    // GDAL reads it, when GDAL is installed.
    if let Ok(o) = Command::new("ogrinfo")
        .args(["-so", "-al", out.to_str().unwrap()])
        .output()
    {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains("Feature Count"), "{s}");
        assert!(s.contains("score: Real"), "{s}");
    }
    let _ = std::fs::remove_dir_all(&dir);

    let v = json(&yizhan(&[
        "compare", "--cells", "--top", "5", "--format", "json",
    ]));
    assert_eq!(v.as_array().unwrap().len(), 5);
    assert_eq!(v[0]["rank"], 1);

    let v = json(&yizhan(&[
        "assign",
        "--cutoff-m",
        "1500",
        "--format",
        "json",
    ]));
    assert_eq!(v["optimal"], true);
    for s in v["sites"].as_array().unwrap() {
        assert!(s["load"].as_f64().unwrap() <= s["capacity"].as_f64().unwrap());
    }

    let v = json(&yizhan(&[
        "site",
        "--model",
        "mclp",
        "-p",
        "2",
        "--radius-m",
        "800",
        "--keep-existing",
        "--format",
        "json",
    ]));
    assert_eq!(v["new_sites"].as_array().unwrap().len(), 2);
    assert!(v["fixed_sites"].as_array().unwrap().len() >= 18);
}
