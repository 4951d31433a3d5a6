//! End to end on PostGIS: the sample imported into a private PostgreSQL cluster
//! (`yizhan_store::testing::Cluster`), served from it, an operator's occupancy
//! report acknowledged and read back (over HTTP and in the database itself),
//! `yizhan export` and `ogrinfo PG:…` reading the same tables, and a server whose
//! database went away answering writes 503 with Retry-After while it keeps
//! serving reads. Skipped loudly without PostgreSQL/PostGIS; failed under CI=true.

use std::process::Command;

use yizhan_store::testing::Cluster;
use yizhan_tests::{
    feature_id, features_of, ogrinfo_count, require_tool, run_yizhan, sample_data, stdout_of,
    yizhan_ok as ok, Server,
};

fn token(url: &str, role: &str) -> String {
    let t = ok(&["token", "create", "--role", role, "--store", url]);
    let t = t.trim().to_string();
    assert!(t.starts_with("yz_"), "{t}");
    t
}

#[test]
fn serve_from_postgis_writes_are_committed_and_gdal_reads_them() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let db = cluster.create_database("e2e");
    let url = cluster.url(&db);
    let data = sample_data();
    let sample = features_of(&data.join("stations.geojson"));
    let first = feature_id(&sample[0]);
    let second = feature_id(&sample[1]);

    // Serving an empty database is refused with the command that fills it.
    let out = run_yizhan(&["serve", "--store", &url]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no stations") && err.contains("yizhan import"),
        "{err}"
    );

    let imported = ok(&["--data", data.to_str().unwrap(), "import", "--store", &url]);
    drop(imported);
    let operator = token(&url, &format!("operator:{first}"));
    let s = Server::start(&data, &["--store", &url]);
    assert!(s.banner.contains(&db), "{}", s.banner);
    let fc = s.get("/api/v1/stations").json();
    assert_eq!(fc["features"].as_array().unwrap().len(), sample.len());

    // The operator's report: refused for another station, acknowledged for its own.
    let other = s.send(
        "PUT",
        &format!("/api/v1/stations/{second}/occupancy"),
        Some(&operator),
        Some(r#"{"occupied":1}"#),
    );
    assert_eq!(other.status, 403, "{}", other.body);
    let occ = format!("/api/v1/stations/{first}/occupancy");
    let a = s.send("PUT", &occ, Some(&operator), Some(r#"{"occupied":2}"#));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["properties"]["occupancy"]["occupied"], 2);
    // Read back over HTTP, and from the database, where it was committed.
    let got = s.get(&format!("/api/v1/stations/{first}")).json();
    assert_eq!(got["properties"]["occupancy"]["occupied"], 2, "{got}");
    let mut pg = cluster.admin(&db);
    let row = pg
        .query_one(
            "SELECT occupied, occupancy_reported_at IS NOT NULL FROM stations WHERE id = $1",
            &[&first],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), Some(2));
    assert!(row.get::<_, bool>(1));
    let actions: Vec<String> = pg
        .query("SELECT action FROM history ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actions, ["import", "occupancy"]);

    // `yizhan export --store URL` reads the same table.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("stations.geojson");
    ok(&[
        "export",
        "--layer",
        "stations",
        "--store",
        &url,
        "--out",
        file.to_str().unwrap(),
    ]);
    let exported = features_of(&file);
    assert_eq!(exported.len(), sample.len());
    let mine = exported.iter().find(|f| feature_id(f) == first).unwrap();
    assert_eq!(mine["properties"]["occupied"], 2, "{mine}");

    // GDAL opens the PostGIS tables as layers.
    if require_tool("ogrinfo", "--version", "apt-get install gdal-bin") {
        let pg_conn = cluster.gdal(&db);
        let layers = stdout_of(Command::new("ogrinfo").args(["-ro", &pg_conn]));
        for l in ["stations", "hotspots", "cells", "candidates", "boundary"] {
            assert!(layers.contains(l), "{l} missing:\n{layers}");
        }
        let (n, text) = ogrinfo_count(&["-ro", "-so", &pg_conn, "stations"]);
        assert_eq!(n, sample.len(), "{text}");
        assert!(text.contains("Point"), "{text}");
        assert!(text.contains("4326") || text.contains("WGS 84"), "{text}");
    }

    // The database goes away: writes are refused with a retry hint, reads go on.
    cluster.stop();
    let a = s.send("PUT", &occ, Some(&operator), Some(r#"{"occupied":3}"#));
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json");
    let near = s.get("/api/v1/stations/nearest?lat=24.72&lon=118.48&k=1");
    assert_eq!(near.status, 200, "{}", near.body);
}

#[test]
fn a_bad_postgres_url_is_one_clear_error() {
    // Nothing listens on port 1: the CLI says which store it could not open.
    let out = run_yizhan(&["token", "list", "--store", "postgres://yz@127.0.0.1:1/none"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open store postgres://yz@127.0.0.1:1/none"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
