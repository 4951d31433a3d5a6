//! End-to-end tests of `yizhan serve`: the real binary on a free port, checked with
//! real clients: GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`) and OWSLib.
//! Without those tools the tests say SKIPPED loudly; with `CI=true` they fail.

use std::collections::BTreeMap;
use std::process::Command;

use yizhan_tests::{
    features_of, ogrinfo_count, python_with, python_with_owslib, repo_root, requests_to,
    require_tool, sample_data, stdout_of, Server,
};

const COLLECTIONS: [&str; 8] = [
    "stations",
    "hotspots",
    "cells",
    "gaps",
    "boundary",
    "candidates",
    "roads",
    "water",
];

/// Features of each collection, read from the export route (all in one answer).
fn expected_counts(s: &Server) -> BTreeMap<&'static str, usize> {
    COLLECTIONS
        .iter()
        .map(|c| {
            let a = s.get(&format!("/api/v1/export/{c}.geojson"));
            assert_eq!(a.status, 200, "{c}: {}", a.body);
            (*c, a.json()["features"].as_array().unwrap().len())
        })
        .collect()
}

/// Features in the sample's layer file, read directly.
fn file_count(layer: &str) -> usize {
    features_of(&sample_data().join(format!("{layer}.geojson"))).len()
}

/// When GDAL's `tool` is installed (else a loud skip): the sample town served,
/// its collections' feature counts, and its name as a GDAL OAPIF source.
fn served_for_gdal(tool: &str) -> Option<(Server, BTreeMap<&'static str, usize>, String)> {
    if !require_tool(tool, "--version", "apt-get install gdal-bin") {
        return None;
    }
    let s = Server::start(&sample_data(), &[]);
    let want = expected_counts(&s);
    let src = format!("OAPIF:{}/ogc", s.base);
    Some((s, want, src))
}

#[test]
fn serve_answers_and_shuts_down_gracefully() {
    let s = Server::start(&sample_data(), &[]);
    assert!(s
        .banner
        .starts_with("yizhan serving anhai at http://127.0.0.1:"));
    let h = s.get("/healthz").json();
    assert_eq!(
        h["stations"].as_u64().unwrap() as usize,
        file_count("stations")
    );
    let a = s.get("/api/v1/stations/nearest?lat=24.72&lon=118.47&k=3");
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type, "application/geo+json");
    assert_eq!(a.json()["features"].as_array().unwrap().len(), 3);
    let e = s.get("/api/v1/stations/nearest?lat=100&lon=118.47");
    assert_eq!(e.status, 400);
    assert_eq!(e.content_type, "application/problem+json");
    let m = s.get("/metrics");
    assert!(m.body.contains("yizhan_http_requests_total"));
    // Export counts match the files.
    let counts = expected_counts(&s);
    // Roads and water too: they live in files only, not in the store the server
    // imports the folder into.
    for l in [
        "stations",
        "hotspots",
        "cells",
        "candidates",
        "roads",
        "water",
    ] {
        assert_eq!(counts[l], file_count(l), "{l}");
    }
    let d = s.get("/api/v1/export/stations.geojson");
    assert_eq!(
        d.disposition.as_deref(),
        Some("attachment; filename=\"anhai-stations.geojson\"")
    );
    let sel = s.post_json(
        "/api/v1/plan/select",
        r#"{"model":"mclp","p":2,"cutoff_m":500}"#,
    );
    assert_eq!(sel.status, 200, "{}", sel.body);
    assert_eq!(sel.json()["new_sites"].as_array().unwrap().len(), 2);
    assert!(s.terminate(), "server did not exit cleanly on SIGTERM");
}

#[test]
fn ogrinfo_reports_every_collection_count() {
    let Some((_server, want, src)) = served_for_gdal("ogrinfo") else {
        return;
    };
    // Listing the layers.
    let listing = stdout_of(Command::new("ogrinfo").args(["-ro", "-q", &src]));
    for c in COLLECTIONS {
        assert!(
            listing.contains(c),
            "{c} missing from ogrinfo listing:\n{listing}"
        );
    }
    for c in COLLECTIONS {
        let (count, _) = ogrinfo_count(&["-ro", "-so", &src, c]);
        assert_eq!(count, want[c], "ogrinfo count of {c}");
    }
}

#[test]
fn ogr2ogr_copies_collections_to_geopackage() {
    let Some((_server, want, src)) = served_for_gdal("ogr2ogr") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for c in ["stations", "cells", "gaps"] {
        let gpkg = dir.path().join(format!("{c}.gpkg"));
        stdout_of(
            Command::new("ogr2ogr")
                .args(["-f", "GPKG"])
                .arg(&gpkg)
                .arg(&src)
                .arg(c),
        );
        let (count, _) = ogrinfo_count(&["-ro", "-so", gpkg.to_str().unwrap(), c]);
        assert_eq!(count, want[c], "features of {c} copied to GeoPackage");
    }
}

#[test]
fn owslib_lists_collections_and_pages_through_items() {
    let Some(py) = python_with_owslib() else {
        return;
    };
    let s = Server::start(&sample_data(), &[]);
    let want = expected_counts(&s);
    let out = stdout_of(
        Command::new(py)
            .arg(repo_root().join("tests/python/owslib_check.py"))
            .arg(format!("{}/ogc", s.base)),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(ids, COLLECTIONS);
    for c in COLLECTIONS {
        assert_eq!(
            v["counts"][c].as_u64().unwrap() as usize,
            want[c],
            "features of {c} read page by page"
        );
        assert_eq!(v["matched"][c].as_u64().unwrap() as usize, want[c]);
    }
    // Pages at the declared maximum: every sample layer in one request.
    assert_eq!(v["declared_max"], 10_000);
    for c in COLLECTIONS {
        assert_eq!(
            v["pages_at_max"][c], 1,
            "{c}: requests at the declared page size"
        );
    }
    assert!(v["conformance"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().ends_with("/conf/core")));
}

/// The served API document is what it claims: OpenAPI 3.0 (as its media type and
/// the `oas30` conformance class say), valid by openapi-spec-validator.
#[test]
fn the_api_document_validates_as_the_version_it_claims() {
    let Some(py) = python_with("openapi_spec_validator") else {
        return;
    };
    let s = Server::start(&sample_data(), &[]);
    let landing = s.get("/ogc").json();
    let desc = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "service-desc")
        .expect("a service-desc link")
        .clone();
    let served = s.get("/ogc/api");
    assert_eq!(served.content_type, desc["type"].as_str().unwrap());
    assert_eq!(
        served.content_type,
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let conformance = s.get("/ogc/conformance").body;
    assert!(conformance.contains("/conf/oas30"), "{conformance}");
    for url in ["/ogc/api", "/api/v1/openapi.json"] {
        let out = stdout_of(
            Command::new(&py)
                .arg(repo_root().join("tests/python/openapi_check.py"))
                .arg(format!("{}{url}", s.base)),
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["openapi"].as_str().unwrap().starts_with("3.0."), "{v}");
        assert_eq!(v["errors"], serde_json::json!([]), "{url}");
    }
}

/// GDAL finds the declared property filters in the OGC API's document and filters
/// on the server (not after downloading everything); a large page size is served.
///
/// GDAL 3.6 pages by 10 whatever the document declares (`-oo PAGE_SIZE=` sets it);
/// OWSLib reading at the declared maximum is checked in
/// `owslib_lists_collections_and_pages_through_items`.
#[test]
fn ogr2ogr_filters_on_the_server_with_the_declared_parameters() {
    let Some((s, want, src)) = served_for_gdal("ogr2ogr") else {
        return;
    };
    let route = "/ogc/collections/{cid}/items";
    let delivery = s
        .get("/ogc/collections/hotspots/items?limit=10000&worker_type=delivery")
        .json()["numberMatched"]
        .as_u64()
        .unwrap();
    assert!(delivery > 30 && (delivery as usize) < want["hotspots"] / 2);
    let dir = tempfile::tempdir().unwrap();
    let before = requests_to(&s, route);
    let gpkg = dir.path().join("delivery.gpkg");
    stdout_of(
        Command::new("ogr2ogr")
            .args(["-f", "GPKG", "-where", "worker_type = 'delivery'"])
            .arg(&gpkg)
            .arg(&src)
            .arg("hotspots"),
    );
    let used = requests_to(&s, route) - before;
    let (count, _) = ogrinfo_count(&["-ro", "-so", gpkg.to_str().unwrap(), "hotspots"]);
    assert_eq!(count as u64, delivery);
    // Filtered on the server: the matching pages only (79 pages for every hotspot).
    assert!(
        used <= delivery.div_ceil(10) + 2,
        "{used} item requests for {delivery} features"
    );
    let before = requests_to(&s, route);
    let all = dir.path().join("all.gpkg");
    stdout_of(
        Command::new("ogr2ogr")
            .args(["-f", "GPKG", "-oo", "PAGE_SIZE=10000"])
            .arg(&all)
            .arg(&src)
            .arg("hotspots"),
    );
    let used = requests_to(&s, route) - before;
    let (count, _) = ogrinfo_count(&["-ro", "-so", all.to_str().unwrap(), "hotspots"]);
    assert_eq!(count, want["hotspots"]);
    assert!(used <= 3, "{used} item requests for {count} hotspots");
}
