//! End-to-end tests of the GeoPackage store behind the real server: import, tokens,
//! writes over HTTP, `ogrinfo` on the file the server wrote, and the SIGKILL
//! durability test (every acknowledged write survives a kill at a random moment).
//!
//! The kill test runs 3 short rounds by default; `YIZHAN_KILL_ROUNDS=N` runs more
//! and `YIZHAN_KILL_SEED=S` replays a run (the seed is printed):
//!
//! ```text
//! YIZHAN_KILL_ROUNDS=50 cargo test -p yizhan-tests --test store_e2e -- --nocapture sigkill
//! ```

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use yizhan_store::HistoryEntry;
use yizhan_tests::{
    feature_id, features_of, ogrinfo_count, require_tool, run_yizhan as yizhan, sample_data,
    stdout_of, yizhan_ok as ok, Call, Server,
};

fn import(store: &Path) {
    let data = sample_data();
    ok(&[
        "--data",
        data.to_str().unwrap(),
        "import",
        "--store",
        store.to_str().unwrap(),
    ]);
}

fn token(store: &Path, role: &str) -> String {
    let t = ok(&[
        "token",
        "create",
        "--role",
        role,
        "--store",
        store.to_str().unwrap(),
    ]);
    let t = t.trim().to_string();
    assert!(t.starts_with("yz_"), "{t}");
    t
}

/// Ids and capacities of the sample town's stations.
fn sample_stations() -> Vec<(String, u64)> {
    let features = features_of(&sample_data().join("stations.geojson"));
    let capacity = |f: &Value| f["properties"]["capacity"].as_u64().unwrap();
    features
        .iter()
        .map(|f| (feature_id(f), capacity(f)))
        .collect()
}

fn feature(id: &str, lon: f64, lat: f64) -> String {
    json!({
        "type": "Feature",
        "id": id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": format!("E2E {id}"), "capacity": 6, "amenities": ["toilet", "wifi"]},
    })
    .to_string()
}

fn serve(store: &Path) -> Server {
    Server::start(&sample_data(), &["--store", store.to_str().unwrap()])
}

/// `ogrinfo -ro -al -so STORE stations`: the feature count and the listing.
fn ogr_stations(store: &Path) -> (usize, String) {
    ogrinfo_count(&["-ro", "-al", "-so", store.to_str().unwrap(), "stations"])
}

#[test]
fn serve_refuses_a_missing_or_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.gpkg");
    let out = yizhan(&["serve", "--store", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("yizhan import"), "{err}");
    assert!(!missing.exists(), "serve must not create the store");
    // A store with tokens but no stations yet.
    let empty = dir.path().join("empty.gpkg");
    token(&empty, "admin");
    let out = yizhan(&["serve", "--store", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no stations") && err.contains("yizhan import"),
        "{err}"
    );
    // --admin-token-file only makes sense for the in-memory store.
    let out = yizhan(&[
        "serve",
        "--store",
        empty.to_str().unwrap(),
        "--admin-token-file",
        dir.path().join("t").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    // A store written by a newer yizhan: a clear error, the file untouched.
    let newer = dir.path().join("newer.gpkg");
    import(&newer);
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute(
            "UPDATE yizhan_meta SET value = '999' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let out = yizhan(&["serve", "--store", newer.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer") && err.contains("999"), "{err}");
    let out = yizhan(&["serve", "--occupancy-max-age", "soon"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("occupancy-max-age"));
}

#[test]
fn writes_over_http_land_in_a_store_that_gdal_opens() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("anhai.gpkg");
    import(&store);
    let planner = token(&store, "planner");
    let stations = sample_stations();
    let (first, _) = &stations[0];
    let (second, _) = &stations[1];
    let operator = token(&store, &format!("operator:{first}"));
    let s = serve(&store);
    assert!(s.banner.contains("anhai"), "{}", s.banner);

    // Roles over the wire.
    let occ = format!("/api/v1/stations/{first}/occupancy");
    let a = s.send("PUT", &occ, None, Some(r#"{"occupied":1}"#));
    assert_eq!(a.status, 401, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json");
    let a = s.send(
        "PUT",
        &format!("/api/v1/stations/{second}/occupancy"),
        Some(&operator),
        Some(r#"{"occupied":1}"#),
    );
    assert_eq!(a.status, 403, "{}", a.body);
    let a = s.send("PUT", &occ, Some(&operator), Some(r#"{"occupied":2}"#));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["properties"]["occupancy"]["occupied"], 2);
    let a = s.send(
        "POST",
        "/api/v1/stations",
        Some(&operator),
        Some(&feature("E2E-1", 118.47, 24.72)),
    );
    assert_eq!(a.status, 403, "{}", a.body);

    // A planner adds two stations and retires one.
    for (id, lon) in [("E2E-1", 118.47), ("E2E-2", 118.48)] {
        let a = s.send(
            "POST",
            "/api/v1/stations",
            Some(&planner),
            Some(&feature(id, lon, 24.72)),
        );
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let a = s.send(
        "DELETE",
        &format!("/api/v1/stations/{second}"),
        Some(&planner),
        None,
    );
    assert_eq!(a.status, 204, "{}", a.body);
    let want = stations.len() + 1;
    let fc = s.get("/api/v1/stations").json();
    assert_eq!(fc["features"].as_array().unwrap().len(), want);
    let near = s
        .get("/api/v1/stations/nearest?lat=24.72&lon=118.48&k=1")
        .json();
    assert_eq!(near["features"][0]["id"], "E2E-2");

    let gdal = require_tool("ogrinfo", "--version", "apt-get install gdal-bin");
    if gdal {
        // While the server runs (WAL mode): GDAL reads the committed state.
        let (n, text) = ogr_stations(&store);
        assert_eq!(n, want, "{text}");
        for field in ["name", "capacity", "amenities", "occupied", "opening_hours"] {
            assert!(
                text.contains(&format!("{field}:")),
                "{field} missing:\n{text}"
            );
        }
        let layers = stdout_of(Command::new("ogrinfo").arg("-ro").arg(&store));
        for l in ["stations", "hotspots", "cells", "candidates", "boundary"] {
            assert!(layers.contains(l), "{l} missing:\n{layers}");
        }
        // Every layer has the GeoPackage R-tree (gpkg_rtree_index), and the
        // server's writes kept it current: a bounding-box read through it (GDAL
        // uses the index for -spat) finds what a scan of the API's list finds.
        for l in ["stations", "hotspots", "cells", "candidates", "boundary"] {
            let sql = format!("SELECT HasSpatialIndex('{l}', 'geom')");
            let out = stdout_of(
                Command::new("ogrinfo")
                    .arg("-ro")
                    .arg(&store)
                    .args(["-sql", &sql]),
            );
            assert!(
                out.contains("HasSpatialIndex (Integer) = 1"),
                "{l} has no R-tree:\n{out}"
            );
        }
        let pts: Vec<(f64, f64)> = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let c = &f["geometry"]["coordinates"];
                (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
            })
            .collect();
        let mut partial = false;
        for (x0, y0, x1, y1) in [
            (118.475, 24.71, 118.49, 24.73),
            (118.40, 24.60, 118.60, 24.80),
            (118.55, 24.60, 118.60, 24.65),
        ] {
            let want = pts
                .iter()
                .filter(|(x, y)| (x0..=x1).contains(x) && (y0..=y1).contains(y))
                .count();
            let spat = [x0, y0, x1, y1].map(|v| v.to_string());
            let mut args = vec!["-ro", "-so", "-spat"];
            args.extend(spat.iter().map(String::as_str));
            args.extend([store.to_str().unwrap(), "stations"]);
            let (n, text) = ogrinfo_count(&args);
            assert_eq!(n, want, "stations in {spat:?}:\n{text}");
            partial |= want > 0 && want < pts.len();
        }
        assert!(partial, "one box holds some stations but not all");
    }
    assert!(s.terminate(), "graceful shutdown");
    if gdal {
        let (n, _) = ogr_stations(&store);
        assert_eq!(n, want);
    }
    // Restarted: everything is still there.
    let s = serve(&store);
    assert_eq!(s.get("/api/v1/stations/E2E-1").status, 200);
    assert_eq!(
        s.get(&format!("/api/v1/stations/{second}")).status,
        404,
        "retired stays retired"
    );
    let p = s.get(&format!("/api/v1/stations/{first}")).json()["properties"].clone();
    assert_eq!(p["occupancy"]["occupied"], 2);
    let h = s.send("GET", "/api/v1/history", Some(&planner), None);
    let h: Vec<HistoryEntry> = serde_json::from_value(h.json()["entries"].take()).unwrap();
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["import", "occupancy", "create", "create", "retire"]
    );
}

/// One write as the client and the history both describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    Occupancy { station: String, occupied: u64 },
    Create { station: String },
}

/// Send writes one after another until the server stops answering; record each
/// acknowledged (2xx) one. Returns an error for an answer that is neither 2xx nor
/// a dead connection.
fn client(
    s: &Server,
    token: &str,
    mut rng: ChaCha8Rng,
    make: impl Fn(&mut ChaCha8Rng, usize) -> Write,
    acked: &Mutex<Vec<Write>>,
) -> Result<(), String> {
    for i in 0..1_000_000 {
        let w = make(&mut rng, i);
        let (method, path, body) = match &w {
            Write::Occupancy { station, occupied } => (
                "PUT",
                format!("/api/v1/stations/{station}/occupancy"),
                format!("{{\"occupied\":{occupied}}}"),
            ),
            Write::Create { station } => {
                let lon = 118.44 + rng.random_range(0..600) as f64 / 10_000.0;
                let lat = 24.69 + rng.random_range(0..600) as f64 / 10_000.0;
                let path = "/api/v1/stations".to_string();
                ("POST", path, feature(station, lon, lat))
            }
        };
        let res = s.try_send(Call {
            method,
            path: &path,
            token: Some(token),
            body: Some(&body),
        });
        match res {
            Ok(a) if (200..300).contains(&a.status) => acked.lock().unwrap().push(w),
            Ok(a) => return Err(format!("{w:?} answered {}: {}", a.status, a.body)),
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// The writes of this test recorded in the history after `after`, split by kind.
fn history_writes(store: &yizhan_store::Store, after: i64) -> (Vec<Write>, Vec<Write>) {
    let (mut occ, mut created) = (Vec::new(), Vec::new());
    let mut next = after;
    loop {
        let page = store.history(next, 10_000).unwrap();
        let Some(last) = page.last() else { break };
        next = last.seq;
        for e in page {
            match e.action.as_str() {
                "occupancy" => occ.push(Write::Occupancy {
                    station: e.entity_id.clone(),
                    occupied: e.after.as_ref().unwrap()["occupied"].as_u64().unwrap(),
                }),
                "create" => created.push(Write::Create {
                    station: e.entity_id.clone(),
                }),
                other => panic!("unexpected history action {other}"),
            }
        }
    }
    (occ, created)
}

fn last_seq(store: &yizhan_store::Store) -> i64 {
    let mut last = 0;
    while let Some(e) = store.history(last, 10_000).unwrap().last() {
        last = e.seq;
    }
    last
}

/// Every acknowledged write is in the history in order; at most the one write in
/// flight at the kill may follow.
fn check_prefix(kind: &str, acked: &[Write], stored: &[Write]) {
    assert!(
        stored.len() >= acked.len() && stored[..acked.len()] == *acked,
        "{kind}: acknowledged writes lost: {} acknowledged, {} stored; first difference at {:?}",
        acked.len(),
        stored.len(),
        acked.iter().zip(stored).position(|(a, b)| a != b)
    );
    assert!(
        stored.len() <= acked.len() + 1,
        "{kind}: {} stored but only {} acknowledged by one sequential client",
        stored.len(),
        acked.len()
    );
}

#[test]
fn sigkill_loses_no_acknowledged_write() {
    let rounds: usize = std::env::var("YIZHAN_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("YIZHAN_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("sigkill test: {rounds} rounds, YIZHAN_KILL_SEED={seed}");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("kill.gpkg");
    import(&store_path);
    let planner = token(&store_path, "planner");
    let stations = Arc::new(sample_stations());
    let mut all_created: Vec<String> = Vec::new();
    for round in 0..rounds {
        let base = {
            let st = yizhan_store::Store::open(&store_path).unwrap();
            last_seq(&st)
        };
        let server = Arc::new(serve(&store_path));
        let acked_occ = Arc::new(Mutex::new(Vec::new()));
        let acked_new = Arc::new(Mutex::new(Vec::new()));
        let occ_thread = {
            let (s, t, acked, stations) = (
                Arc::clone(&server),
                planner.clone(),
                Arc::clone(&acked_occ),
                Arc::clone(&stations),
            );
            let r = ChaCha8Rng::seed_from_u64(rng.random());
            std::thread::spawn(move || {
                client(
                    &s,
                    &t,
                    r,
                    |rng, _| {
                        let (id, cap) = &stations[rng.random_range(0..stations.len())];
                        Write::Occupancy {
                            station: id.clone(),
                            occupied: rng.random_range(0..=*cap),
                        }
                    },
                    &acked,
                )
            })
        };
        let new_thread = {
            let (s, t, acked) = (Arc::clone(&server), planner.clone(), Arc::clone(&acked_new));
            let r = ChaCha8Rng::seed_from_u64(rng.random());
            std::thread::spawn(move || {
                client(
                    &s,
                    &t,
                    r,
                    |_, i| Write::Create {
                        station: format!("K{round}-{i}"),
                    },
                    &acked,
                )
            })
        };
        // Kill at a random moment once writes are flowing.
        while acked_occ.lock().unwrap().is_empty() || acked_new.lock().unwrap().is_empty() {
            if occ_thread.is_finished() || new_thread.is_finished() {
                let why = |t: std::thread::JoinHandle<Result<(), String>>| match t.join() {
                    Ok(Err(e)) => e,
                    _ => "connection lost".to_string(),
                };
                let a = why(occ_thread);
                let b = why(new_thread);
                panic!("a client stopped before any write was acknowledged: {a}; {b}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50 + rng.random_range(0..1200)));
        let pid = server.pid();
        let status = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -KILL {pid}");
        occ_thread.join().unwrap().unwrap();
        new_thread.join().unwrap().unwrap();
        drop(server); // reaps the killed process
        let acked_occ = acked_occ.lock().unwrap().clone();
        let acked_new = acked_new.lock().unwrap().clone();
        eprintln!(
            "round {round}: killed after {} occupancy reports and {} new stations acknowledged",
            acked_occ.len(),
            acked_new.len()
        );
        // Reopen the killed server's file directly.
        let st = yizhan_store::Store::open(&store_path).unwrap();
        assert_eq!(st.integrity_check().unwrap(), "ok");
        let (occ, created) = history_writes(&st, base);
        check_prefix("occupancy", &acked_occ, &occ);
        check_prefix("create", &acked_new, &created);
        // The tables agree with the history.
        for w in &created {
            let Write::Create { station } = w else {
                unreachable!()
            };
            st.station(station).unwrap();
            all_created.push(station.clone());
        }
        let mut last = std::collections::HashMap::new();
        for w in &occ {
            if let Write::Occupancy { station, occupied } = w {
                last.insert(station.clone(), *occupied);
            }
        }
        for (id, occupied) in &last {
            let s = st.station(id).unwrap();
            assert_eq!(
                s.occupancy.map(|o| u64::from(o.occupied)),
                Some(*occupied),
                "{id}"
            );
        }
    }
    // A restarted server serves every station created before the kills.
    let s = serve(&store_path);
    let fc = s.get("/api/v1/stations").json();
    let served: std::collections::HashSet<&str> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in &all_created {
        assert!(
            served.contains(id.as_str()),
            "{id} not served after restart"
        );
    }
    assert_eq!(served.len(), stations.len() + all_created.len());
}
