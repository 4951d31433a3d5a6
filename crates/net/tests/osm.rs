//! The PBF reader on the real extracts in `../shared/data/osm_real_test_towns/`
//! (© OpenStreetMap contributors, ODbL 1.0), and its errors.

use std::path::PathBuf;

use yizhan_net::{read_pbf_roads, NetError, Networks};

fn extract(name: &str) -> Option<PathBuf> {
    // shared/ lies beside the repository (beside the main worktree for other worktrees)
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let found = ["../shared", "../../shared"]
        .iter()
        .map(|s| root.join(s).join("data/osm_real_test_towns").join(name))
        .find(|p| p.exists());
    if found.is_some() {
        return found;
    }
    let p = root.join("../shared/data/osm_real_test_towns").join(name);
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "CI=true and {} is missing", p.display());
    eprintln!("\n!!!!!!!! SKIPPED: {} is missing !!!!!!!!\n", p.display());
    None
}

#[test]
fn helsinki_reads_and_routes() {
    let Some(path) = extract("helsinki_centre.osm.pbf") else {
        return;
    };
    let roads = read_pbf_roads(&path).unwrap();
    // NOTES.md counts 2,650 highway ways; ways with fewer than two nodes inside the
    // extract are left out (2,584 roads remain)
    assert!((2500..2700).contains(&roads.len()), "{}", roads.len());
    assert!(roads
        .iter()
        .all(|r| r.id.starts_with('w') && r.line.0.len() >= 2));
    let nets = Networks::build(&roads).unwrap();
    let w = nets.walk.report();
    assert!(w.nodes > 5000 && w.dropped_nodes < w.nodes / 5, "{w:?}");
    assert!(nets.ebike.report().nodes > 1000);
}

#[test]
fn bad_files_are_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = read_pbf_roads(&dir.path().join("none.osm.pbf")).unwrap_err();
    assert!(matches!(missing, NetError::Io { .. }), "{missing}");
    let text = dir.path().join("text.osm.pbf");
    std::fs::write(&text, "this is not a PBF file at all, just some text").unwrap();
    let e = read_pbf_roads(&text).unwrap_err();
    assert!(matches!(e, NetError::Pbf { .. }), "{e}");
    if let Some(path) = extract("finland_smalltown.osm.pbf") {
        let bytes = std::fs::read(path).unwrap();
        let cut = dir.path().join("cut.osm.pbf");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = read_pbf_roads(&cut).unwrap_err();
        assert!(matches!(e, NetError::Pbf { .. }), "{e}");
    }
}
