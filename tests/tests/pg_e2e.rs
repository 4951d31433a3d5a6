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

/// The lines of `GET path` on `base` as Server-Sent Events arrive (raw HTTP/1.1,
/// so nothing buffers them), read by a thread until the server closes.
fn sse_lines(base: &str, path: &str) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader, Write};
    let host = base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&host).expect("connect for SSE");
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(conn).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Wait (at most `limit`) for a line of `rx` for which `want` holds.
fn wait_line(
    rx: &std::sync::mpsc::Receiver<String>,
    limit: std::time::Duration,
    want: impl Fn(&str) -> bool,
) -> Option<String> {
    let t0 = std::time::Instant::now();
    while let Some(left) = limit.checked_sub(t0.elapsed()) {
        match rx.recv_timeout(left) {
            Ok(l) if want(&l) => return Some(l),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Poll `f` until it holds (at most `limit`).
fn eventually(limit: std::time::Duration, f: impl Fn() -> bool) -> bool {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    f()
}

#[test]
fn two_replicas_on_one_database_see_each_others_writes() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let db = cluster.create_database("replicas");
    let url = cluster.url(&db);
    let data = sample_data();
    let sample = features_of(&data.join("stations.geojson"));
    let first = feature_id(&sample[0]);
    ok(&["--data", data.to_str().unwrap(), "import", "--store", &url]);
    let operator = token(&url, &format!("operator:{first}"));
    let planner = token(&url, "planner");
    let a = Server::start(&data, &["--store", &url]);
    let b = Server::start(&data, &["--store", &url]);
    // Generous limits: the claim is "within about a second", but CI shares 2 cores.
    let limit = std::time::Duration::from_secs(20);

    // An SSE client on B, connected (its hello arrived) before the write on A.
    let events = sse_lines(&b.base, "/api/v1/stream");
    assert!(
        wait_line(&events, limit, |l| l.contains("event: hello")).is_some(),
        "no hello from B's stream"
    );
    let occ = format!("/api/v1/stations/{first}/occupancy");
    let w = a.send("PUT", &occ, Some(&operator), Some(r#"{"occupied":3}"#));
    assert_eq!(w.status, 200, "{}", w.body);
    // A read on B sees it, and so does B's SSE client.
    let station = format!("/api/v1/stations/{first}");
    assert!(
        eventually(limit, || {
            b.get(&station).json()["properties"]["occupancy"]["occupied"] == 3
        }),
        "B never served A's report: {}",
        b.get(&station).body
    );
    let needle = format!("\"id\":\"{first}\"");
    let ev = wait_line(&events, limit, |l| {
        l.starts_with("data:") && l.contains(&needle)
    });
    let ev = ev.expect("B's stream never told of A's report");
    assert!(ev.contains("\"occupied\":3"), "{ev}");

    // And the other way: a station created on B is served by A.
    let feature = serde_json::json!({
        "type": "Feature",
        "id": "REPLICA-1",
        "geometry": {"type": "Point", "coordinates": [118.47, 24.72]},
        "properties": {"name": "Made on B", "capacity": 4},
    })
    .to_string();
    let w = b.send("POST", "/api/v1/stations", Some(&planner), Some(&feature));
    assert_eq!(w.status, 201, "{}", w.body);
    assert!(
        eventually(limit, || a.get("/api/v1/stations/REPLICA-1").status == 200),
        "A never served B's new station"
    );
    // Each replica published each write once: B's stream has one event of the
    // new station (B wrote it) and A's history-driven snapshot has it once too.
    let created = wait_line(&events, limit, |l| l.contains("REPLICA-1"));
    assert!(
        created.is_some(),
        "B's stream never told of its own new station"
    );
    let all = a.get("/api/v1/stations").json();
    let ids: Vec<String> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(feature_id)
        .collect();
    assert_eq!(ids.iter().filter(|i| *i == "REPLICA-1").count(), 1);
    assert_eq!(ids.len(), sample.len() + 1);
}

/// The `occupied` value of each station in the database.
fn occupied_in_db(cluster: &Cluster, db: &str, ids: &[String]) -> Vec<Option<i64>> {
    let mut pg = cluster.admin(db);
    ids.iter()
        .map(|id| {
            pg.query_one("SELECT occupied FROM stations WHERE id = $1", &[id])
                .unwrap()
                .get(0)
        })
        .collect()
}

/// One client: reports rising occupancy values for `station` to `server` until
/// `stop`, one at a time; returns the last value acknowledged (200) and how many
/// writes were acknowledged and refused.
fn report_until(
    server: &Server,
    token: &str,
    station: &str,
    stop: &std::sync::atomic::AtomicBool,
) -> (Option<i64>, usize, usize) {
    let path = format!("/api/v1/stations/{station}/occupancy");
    let (mut last, mut acked, mut refused) = (None, 0, 0);
    let mut v = 0i64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        v += 1;
        let body = format!(r#"{{"occupied":{}}}"#, v % 7 + 1);
        let call = yizhan_tests::Call {
            method: "PUT",
            path: &path,
            token: Some(token),
            body: Some(&body),
        };
        match server.try_send(call) {
            Ok(a) if a.status == 200 => {
                last = Some(v % 7 + 1);
                acked += 1;
            }
            Ok(a) => {
                // Refused, never half-done: a problem with a retry hint.
                assert!(
                    a.status == 503 || a.status == 504,
                    "write answered {}: {}",
                    a.status,
                    a.body
                );
                refused += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(_) => {
                // The server is gone (killed): nothing was acknowledged.
                refused += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    (last, acked, refused)
}

/// Two replicas under writes from two clients: one replica is SIGKILLed, then the
/// database itself is restarted under load. Every acknowledged write is in the
/// database afterwards, the surviving replica says it is not ready (503 with
/// Retry-After on `/readyz`, `ready: false` on `/healthz`) while the database is
/// down and keeps answering reads, and recovers by itself once it is back: ready
/// again, accepting writes, serving what the database holds.
#[test]
fn replicas_keep_every_acknowledged_write_through_a_kill_and_a_database_restart() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let db = cluster.create_database("restart");
    let url = cluster.url(&db);
    let data = sample_data();
    let sample = features_of(&data.join("stations.geojson"));
    let ids: Vec<String> = sample.iter().take(2).map(feature_id).collect();
    ok(&["--data", data.to_str().unwrap(), "import", "--store", &url]);
    let tokens: Vec<String> = ids
        .iter()
        .map(|id| token(&url, &format!("operator:{id}")))
        .collect();
    let a = Server::start(&data, &["--store", &url]);
    let b = Server::start(&data, &["--store", &url]);
    let limit = std::time::Duration::from_secs(40);
    assert_eq!(b.get("/readyz").status, 200, "{}", b.get("/readyz").body);
    let h = b.get("/healthz").json();
    assert_eq!(h["ready"], true, "{h}");
    assert_eq!(h["replica"], true, "{h}");
    assert!(h["store_pool"]["max"].as_u64().unwrap() >= 1, "{h}");

    // 1. Clients write to A and to B; A is killed mid-stream.
    let stop = AtomicBool::new(false);
    let (on_a, on_b) = std::thread::scope(|sc| {
        let ta = sc.spawn(|| report_until(&a, &tokens[0], &ids[0], &stop));
        let tb = sc.spawn(|| report_until(&b, &tokens[1], &ids[1], &stop));
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let pid = a.pid();
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1000));
        stop.store(true, Ordering::Relaxed);
        (ta.join().unwrap(), tb.join().unwrap())
    });
    a.kill();
    assert!(
        on_a.1 > 0 && on_b.1 > 0,
        "writes acknowledged: {on_a:?} {on_b:?}"
    );
    // Each client's writes are one at a time, so the database holds the last
    // acknowledged value, or the one write in flight when A died.
    let got = occupied_in_db(&cluster, &db, &ids);
    assert_eq!(got[1], on_b.0, "B's last acknowledged write");
    let acked_a = on_a.0.unwrap();
    assert!(
        got[0] == Some(acked_a) || got[0] == Some(acked_a % 7 + 1),
        "A's last acknowledged write {acked_a} is lost: the database has {:?}",
        got[0]
    );
    let station_b = format!("/api/v1/stations/{}", ids[1]);
    assert_eq!(
        b.get(&station_b).json()["properties"]["occupancy"]["occupied"],
        serde_json::json!(got[1])
    );

    // 2. The database restarts while a client writes to B.
    let stop = AtomicBool::new(false);
    let (during, down_seen) = std::thread::scope(|sc| {
        let t = sc.spawn(|| report_until(&b, &tokens[1], &ids[1], &stop));
        std::thread::sleep(std::time::Duration::from_millis(800));
        cluster.stop();
        // Not ready while the database is gone, reads still answered.
        let down = eventually(limit, || {
            let r = b.get("/readyz");
            r.status == 503
                && r.content_type == "application/problem+json"
                && r.retry_after.is_some()
        });
        let h = b.get("/healthz").json();
        assert_eq!(h["ready"], false, "{h}");
        assert!(h["snapshot_age_s"].as_f64().unwrap() > 0.0, "{h}");
        let near = b.get("/api/v1/stations/nearest?lat=24.72&lon=118.48&k=1");
        assert_eq!(near.status, 200, "reads during the outage: {}", near.body);
        cluster.start_again();
        // Ready again by itself, and writes are acknowledged again.
        assert!(
            eventually(limit, || b.get("/readyz").status == 200),
            "B never became ready again: {}",
            b.get("/healthz").body
        );
        std::thread::sleep(std::time::Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        (t.join().unwrap(), down)
    });
    assert!(down_seen, "B never said it was not ready");
    assert!(
        during.2 > 0,
        "some writes were refused during the outage: {during:?}"
    );
    assert!(during.1 > 0, "some writes were acknowledged: {during:?}");
    let got = occupied_in_db(&cluster, &db, &ids);
    assert_eq!(
        got[1], during.0,
        "the last acknowledged write is in the database"
    );
    assert!(
        eventually(limit, || {
            b.get(&station_b).json()["properties"]["occupancy"]["occupied"]
                == serde_json::json!(got[1])
        }),
        "B serves what the database holds"
    );
    // A new replica started now loads the same state.
    let c = Server::start(&data, &["--store", &url]);
    assert_eq!(
        c.get(&station_b).json()["properties"]["occupancy"]["occupied"],
        serde_json::json!(got[1])
    );
    let m = c.get("/metrics").body;
    assert!(m.contains("yizhan_ready 1"), "{m}");
    assert!(
        m.contains("yizhan_store_pool_connections{state=\"max\"}"),
        "{m}"
    );
}
