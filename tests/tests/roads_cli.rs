//! `yizhan roads import` on the real Helsinki extract in
//! `../shared/data/osm_real_test_towns/` (© OpenStreetMap contributors, ODbL 1.0):
//! the files it writes, and its refusals (missing, not PBF, truncated, an extract
//! of another town), each one clear line that leaves the folder as it was.

use std::path::{Path, PathBuf};

use yizhan_tests::{in_ci, repo_root, run_yizhan};

fn helsinki() -> Option<PathBuf> {
    let p = repo_root().join("../shared/data/osm_real_test_towns/helsinki_centre.osm.pbf");
    if p.exists() {
        return Some(p);
    }
    assert!(!in_ci(), "CI=true and {} is missing", p.display());
    eprintln!("\n!!!!!!!! SKIPPED: {} is missing !!!!!!!!\n", p.display());
    None
}

/// A dataset of a few stations and hotspots in central Helsinki.
fn helsinki_dataset(dir: &Path) {
    let pts = [(24.9410, 60.1699), (24.9384, 60.1719), (24.9458, 60.1675)];
    let feats = |props: &dyn Fn(usize) -> String| {
        let f: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(i, (x, y))| {
                format!(
                    r#"{{"type":"Feature","id":"P{i}","geometry":{{"type":"Point","coordinates":[{x},{y}]}},"properties":{{{}}}}}"#,
                    props(i)
                )
            })
            .collect();
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            f.join(",")
        )
    };
    std::fs::write(
        dir.join("stations.geojson"),
        feats(&|i| format!(r#""name":"Station {i}","capacity":4"#)),
    )
    .unwrap();
    std::fs::write(
        dir.join("hotspots.geojson"),
        feats(&|_| r#""workers":5"#.to_string()),
    )
    .unwrap();
}

fn files_of(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn import_writes_roads_and_graph_that_load() {
    let Some(pbf) = helsinki() else { return };
    let dir = tempfile::tempdir().unwrap();
    helsinki_dataset(dir.path());
    let d = dir.path().to_str().unwrap();
    let out = run_yizhan(&[
        "--data",
        d,
        "roads",
        "import",
        "--pbf",
        pbf.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("walk:") && err.contains("ebike:"), "{err}");
    assert_eq!(
        files_of(dir.path()),
        [
            "hotspots.geojson",
            "roads.geojson",
            "roads.graph",
            "stations.geojson"
        ]
    );
    // The roads layer loads with the dataset, and the graph file is the one the
    // server reads (newer than the roads: not rebuilt).
    let ds = yizhan_core::Dataset::load_dir(dir.path()).unwrap();
    assert!(ds.roads.len() > 1000, "{} roads", ds.roads.len());
    assert!(ds.roads.iter().all(|r| r.id.starts_with('w')));
    let modified = |f: &str| {
        std::fs::metadata(dir.path().join(f))
            .unwrap()
            .modified()
            .unwrap()
    };
    assert!(modified("roads.graph") >= modified("roads.geojson"));
}

#[test]
fn bad_extracts_are_refused_and_leave_the_folder_as_it_was() {
    let Some(pbf) = helsinki() else { return };
    let dir = tempfile::tempdir().unwrap();
    helsinki_dataset(dir.path());
    let d = dir.path().to_str().unwrap();
    let not_pbf = dir.path().join("notes.osm.pbf");
    std::fs::write(&not_pbf, "this is not a protocol buffer").unwrap();
    let bytes = std::fs::read(&pbf).unwrap();
    let truncated = dir.path().join("cut.osm.pbf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let before = files_of(dir.path());
    let sample = repo_root().join("data/anhai");
    let copy = tempfile::tempdir().unwrap();
    for f in ["stations.geojson", "hotspots.geojson"] {
        std::fs::copy(sample.join(f), copy.path().join(f)).unwrap();
    }
    for (data, file, needle) in [
        (d, "/nonexistent/town.osm.pbf", "/nonexistent/town.osm.pbf"),
        (d, not_pbf.to_str().unwrap(), "notes.osm.pbf"),
        (d, truncated.to_str().unwrap(), "cut.osm.pbf"),
        // Anhai's stations are not on Helsinki's streets.
        (
            copy.path().to_str().unwrap(),
            pbf.to_str().unwrap(),
            "stations lie more than 500 m from every street",
        ),
    ] {
        let out = run_yizhan(&["--data", data, "roads", "import", "--pbf", file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}: should fail");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "{file}: {needle:?} not in {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(files_of(dir.path()), before);
    assert_eq!(
        files_of(copy.path()),
        ["hotspots.geojson", "stations.geojson"]
    );
}
