//! In-process tests of the write routes, roles, live occupancy and the event stream,
//! on an in-memory store.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use yizhan_core::model::Occupancy;
use yizhan_store::{HistoryEntry, Role, Store};

use crate::auth::Access;
use crate::tests::{get, ids, send, small_dataset, Answer};
use crate::*;

struct Fixture {
    app: axum::Router,
    state: AppState,
    planner: String,
    admin: String,
    op_s1: String,
    op_s2: String,
}

fn fixture_with(config: ServerConfig, edit: impl FnOnce(&mut yizhan_core::Dataset)) -> Fixture {
    let mut data = small_dataset();
    edit(&mut data);
    let mut store = Store::open_in_memory().unwrap();
    store.import(&data, &mut |_, _| {}).unwrap();
    let mut tok = |r: &str| {
        store
            .create_token(&r.parse::<Role>().unwrap(), None)
            .unwrap()
            .1
    };
    let (planner, admin, op_s1, op_s2) = (
        tok("planner"),
        tok("admin"),
        tok("operator:S1"),
        tok("operator:S2"),
    );
    let state = AppState::with_store(store, config).unwrap();
    Fixture {
        app: router(state.clone()),
        state,
        planner,
        admin,
        op_s1,
        op_s2,
    }
}

fn fixture() -> Fixture {
    fixture_with(ServerConfig::default(), |_| {})
}

/// Give station number `i` of the small town a report of `occupied` seats made
/// `hours` ago, for each `(i, occupied, hours)`.
fn reported_hours_ago(d: &mut yizhan_core::Dataset, reports: &[(usize, u32, i64)]) {
    let mut st = d.stations.items().to_vec();
    for &(i, occupied, hours) in reports {
        st[i].occupancy = Some(Occupancy {
            occupied,
            reported_at: chrono::Utc::now() - chrono::Duration::hours(hours),
        });
    }
    d.set_stations(st);
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            let text = v.to_string();
            let a = send(app, b.body(Body::from(text.clone())).unwrap()).await;
            a.with_body_shown(&text)
        }
        None => send(app, b.body(Body::empty()).unwrap()).await,
    }
}

/// Requests to the fixture's app with a bearer token (`as_` the token's holder).
impl Fixture {
    async fn get(&self, uri: &str) -> Answer {
        get(&self.app, uri).await
    }
    async fn get_as(&self, token: &str, uri: &str) -> Answer {
        call(&self.app, Method::GET, uri, Some(token), None).await
    }
    async fn post(&self, token: &str, uri: &str, body: Value) -> Answer {
        call(&self.app, Method::POST, uri, Some(token), Some(body)).await
    }
    async fn put(&self, token: &str, uri: &str, body: Value) -> Answer {
        call(&self.app, Method::PUT, uri, Some(token), Some(body)).await
    }
    async fn delete(&self, token: &str, uri: &str) -> Answer {
        call(&self.app, Method::DELETE, uri, Some(token), None).await
    }
    /// The properties of one station, as `GET /api/v1/stations/{id}` shows them.
    async fn props(&self, id: &str) -> Value {
        let uri = format!("/api/v1/stations/{id}");
        self.get(&uri).await.json()["properties"].clone()
    }
    /// The history entries `uri` answers, read as the store's own type.
    async fn history(&self, uri: &str) -> Vec<HistoryEntry> {
        let h = self.get_as(&self.planner, uri).await;
        assert_eq!(h.status, 200, "{}", h.body);
        serde_json::from_value(h.json()["entries"].clone()).expect("history entries")
    }
    async fn history_len(&self) -> usize {
        self.history("/api/v1/history?limit=1000").await.len()
    }
}

const STATIONS: &str = "/api/v1/stations";
const S1_OCCUPANCY: &str = "/api/v1/stations/S1/occupancy";

fn new_station(id: &str, lon: f64, lat: f64) -> Value {
    json!({
        "type": "Feature",
        "id": id,
        "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "properties": { "name": format!("New {id}"), "capacity": 7, "amenities": ["toilet"] },
    })
}

#[tokio::test]
async fn planner_creates_updates_and_retires_stations_visible_at_once() {
    let f = fixture();
    let planner = f.planner.as_str();
    let near = "/api/v1/stations/nearest?lat=24.75&lon=118.52&k=1";
    assert_ne!(ids(&f.get(near).await.json()), ["N1"]);
    let a = f
        .post(planner, STATIONS, new_station("N1", 118.52, 24.75))
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.headers[header::LOCATION], "/api/v1/stations/N1");
    assert_eq!(a.json()["properties"]["capacity"], 7);
    // The R-tree sees it on the next read.
    assert_eq!(ids(&f.get(near).await.json()), ["N1"]);
    assert_eq!(f.get("/api/v1/stations/N1").await.status, 200);
    let ogc = f.get("/ogc/collections/stations/items/N1").await;
    assert_eq!(ogc.status, 200);
    // Duplicate id: 409; an invalid feature: 400 naming the field. Nothing changed.
    let before = f.history_len().await;
    let mut nameless = new_station("N2", 118.52, 24.75);
    nameless["properties"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let mut off_earth = new_station("N3", 200.0, 24.0);
    off_earth["properties"] = json!({"name": "x", "capacity": 1});
    let collection = json!({"type": "FeatureCollection", "features": []});
    for (body, status, mention, param) in [
        (new_station("N1", 118.0, 24.0), 409, "N1", None),
        (nameless, 400, "name", Some("name")),
        (off_earth, 400, "geometry", None),
        (collection, 400, "type", None),
    ] {
        let a = f.post(planner, STATIONS, body).await;
        a.problem_at(status, mention, param);
        assert_eq!(f.history_len().await, before, "{mention}");
    }
    assert_eq!(f.get("/api/v1/stations/N2").await.status, 404);

    // Move it far away: the nearest query no longer finds it there.
    let n1 = "/api/v1/stations/N1";
    let a = f.put(planner, n1, new_station("N1", 118.40, 24.60)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_ne!(ids(&f.get(near).await.json()), ["N1"]);
    // The body's id must match the path's.
    let a = f.put(planner, n1, new_station("S1", 118.40, 24.60)).await;
    a.problem(400, "id");
    let nope = new_station("NOPE", 118.40, 24.60);
    let a = f.put(planner, "/api/v1/stations/NOPE", nope).await;
    a.problem(404, "NOPE");

    // Retire S1: gone from reads and from the planning results.
    let cov = f.get("/api/v1/coverage").await.json();
    assert!(cov.to_string().contains("\"S1\""));
    let a = f.delete(planner, "/api/v1/stations/S1").await;
    assert_eq!(a.status, 204, "{}", a.body);
    f.get("/api/v1/stations/S1").await.problem(404, "S1");
    let cov = f.get("/api/v1/coverage").await.json();
    assert!(!cov.to_string().contains("\"S1\""), "{cov}");
    let a = f.delete(planner, "/api/v1/stations/S1").await;
    a.problem(404, "S1");
    // Every accepted write is in the history, with its actor.
    let h = f.history("/api/v1/history").await;
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["import", "create", "update", "retire"]);
    assert!(h[1].actor.contains("planner"), "{:?}", h[1]);
    // The store holds the same stations as the served dataset.
    let stored = f.state.with_store_blocking(|s| Ok(s.stations()?));
    let stored: Vec<String> = stored.unwrap().into_iter().map(|s| s.id).collect();
    let snapshot = f.state.snapshot();
    let served: Vec<&str> = snapshot
        .data
        .stations
        .items()
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(stored.len(), served.len());
    assert!(stored.iter().all(|id| served.contains(&id.as_str())));
}

#[tokio::test]
async fn operators_report_occupancy_of_their_station_only() {
    let f = fixture();
    let a = f.put(&f.op_s1, S1_OCCUPANCY, json!({"occupied": 4})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let p = f.props("S1").await;
    assert_eq!(p["free_seats"], 6);
    assert_eq!(p["occupancy"]["occupied"], 4);
    assert_eq!(p["occupancy"]["stale"], false);
    let reported_at = p["occupancy"]["reported_at"].as_str().unwrap();
    assert!(reported_at.ends_with('Z'), "{reported_at}");
    // The nearest query shows it too, and min_free uses it.
    let near = "/api/v1/stations/nearest?lat=24.72&lon=118.47&k=1";
    let fc = f.get(near).await.json();
    assert_eq!(fc["features"][0]["properties"]["free_seats"], 6);
    let fc = f.get(&format!("{near}&min_free=7")).await.json();
    assert_ne!(ids(&fc), ["S1"]);
    // Another station's operator: 403. Too many: 422 naming the field. Bad bodies: 400.
    // None of them changes the report.
    for (token, body, status, mention, param) in [
        (&f.op_s2, json!({"occupied": 1}), 403, "operator:S2", None),
        (
            &f.op_s1,
            json!({"occupied": 11}),
            422,
            "occupied",
            Some("occupied"),
        ),
        (&f.op_s1, json!({"occupied": -1}), 400, "occupied", None),
        (
            &f.op_s1,
            json!({"occupied": 2, "extra": 1}),
            400,
            "extra",
            None,
        ),
    ] {
        let a = f.put(token, S1_OCCUPANCY, body).await;
        a.problem_at(status, mention, param);
    }
    assert_eq!(f.props("S1").await["free_seats"], 6);
    // A planner may report too; an unknown station is 404.
    let s2 = "/api/v1/stations/S2/occupancy";
    let a = f.put(&f.planner, s2, json!({"occupied": 5})).await;
    assert_eq!(a.json()["properties"]["free_seats"], 0);
    let zz = "/api/v1/stations/ZZ/occupancy";
    let a = f.put(&f.admin, zz, json!({"occupied": 0})).await;
    a.problem(404, "ZZ");
    // A planner's update keeps the report (capacity still above it).
    let mut s1 = f.get("/api/v1/stations/S1").await.json();
    s1["properties"]["name"] = json!("Renamed");
    let a = f.put(&f.planner, "/api/v1/stations/S1", s1).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["properties"]["free_seats"], 6);
}

#[tokio::test]
async fn old_reports_show_as_unknown() {
    let f = fixture_with(ServerConfig::default(), |d| {
        reported_hours_ago(d, &[(0, 3, 3), (1, 1, 1)]);
    });
    let p = f.props("S1").await;
    assert_eq!(p["free_seats"], Value::Null, "{p}");
    assert_eq!(p["occupancy"]["stale"], true);
    assert_eq!(p["occupancy"]["occupied"], 3);
    assert!(p["occupancy"]["age_s"].as_i64().unwrap() >= 3 * 3600);
    let p = f.props("S2").await;
    assert_eq!(p["free_seats"], 4);
    assert_eq!(p["occupancy"]["stale"], false);
    // A shorter configured age makes the second one unknown too.
    let config = ServerConfig {
        occupancy_max_age: std::time::Duration::from_secs(1800),
        ..ServerConfig::default()
    };
    let f = fixture_with(config, |d| reported_hours_ago(d, &[(1, 1, 1)]));
    let p = f.props("S2").await;
    assert_eq!(p["free_seats"], Value::Null);
    assert_eq!(p["occupancy"]["stale"], true);
}

#[tokio::test]
async fn tokens_missing_bad_or_revoked_are_401() {
    let f = fixture();
    let body = new_station("N1", 118.5, 24.7);
    // No token, or one the store never made: 401 with a Bearer challenge.
    for (token, challenge) in [(None, "Bearer"), (Some("yz_0000"), "invalid_token")] {
        let a = call(&f.app, Method::POST, STATIONS, token, Some(body.clone())).await;
        a.problem(401, "token");
        let www = a.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            www.starts_with("Bearer") && www.contains(challenge),
            "{www}"
        );
    }
    let basic = Request::post(STATIONS)
        .header(header::AUTHORIZATION, "Basic dXNlcjpwdw==")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(&f.app, basic).await.problem(401, "Bearer");
    // Revoked: refused from the next request on.
    let id = f
        .state
        .with_store_blocking(|s| {
            let t = s.tokens()?;
            Ok(t.iter().find(|t| t.role == Role::Planner).unwrap().id)
        })
        .unwrap();
    f.state
        .with_store_blocking(|s| Ok(s.revoke_token(id)?))
        .unwrap();
    let a = f.post(&f.planner, STATIONS, body).await;
    a.problem(401, "revoked");
    // Without a store (AppState::new) nothing can write.
    let ro = router(AppState::new(small_dataset(), ServerConfig::default()));
    let report = Some(json!({"occupied": 1}));
    let a = call(&ro, Method::PUT, S1_OCCUPANCY, Some(&f.admin), report).await;
    a.problem(401, "token");
}

#[tokio::test]
async fn scenarios_are_saved_listed_and_deleted() {
    let f = fixture();
    let scenarios = "/api/v1/scenarios";
    let body = json!({
        "name": "market corner",
        "candidates": [{"id": "K9", "lon": 118.485, "lat": 24.735, "capacity": 10}],
        "cutoff_m": 800,
    });
    let a = f.post(&f.planner, scenarios, body.clone()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let sc = a.json();
    let id = sc["id"].as_i64().unwrap();
    assert_eq!(sc["candidates"]["features"][0]["id"], "K9");
    assert_eq!(sc["comparison"]["candidates"][0]["id"], "K9");
    assert_eq!(sc["comparison"]["cutoff_m"], 800.0);
    let list = f.get_as(&f.planner, scenarios).await.json();
    assert_eq!(list["scenarios"][0]["id"], id);
    let uri = format!("/api/v1/scenarios/{id}");
    let one = f.get_as(&f.admin, &uri).await;
    assert_eq!(one.json()["name"], "market corner");
    f.delete(&f.op_s1, &uri).await.problem(403, "operator:S1");
    let d = f.delete(&f.planner, &uri).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    f.get_as(&f.planner, &uri).await.problem(404, "scenario");
    let a = f.get_as(&f.planner, "/api/v1/scenarios/abc").await;
    a.problem(400, "path");
    // Invalid bodies change nothing.
    let candidates = &body["candidates"];
    for (bad, field) in [
        (json!({"name": "", "candidates": candidates}), "name"),
        (json!({"name": "x", "candidates": []}), "candidates"),
        (
            json!({"name": "x", "candidates": [{"id": "a", "lon": 500, "lat": 0}]}),
            "candidates[0]",
        ),
        (
            json!({"name": "x", "candidates": candidates, "peak_share": 2}),
            "peak_share",
        ),
    ] {
        f.post(&f.planner, scenarios, bad).await.problem(400, field);
    }
    let list = f.get_as(&f.planner, scenarios).await.json();
    assert_eq!(list["scenarios"], json!([]));
}

/// Path parameters for the route-enumeration test.
fn concrete(path: &str, scenario: i64) -> String {
    let id = if path.starts_with("/api/v1/scenarios") {
        scenario.to_string()
    } else {
        "S2".to_string()
    };
    path.replace("{id}", &id)
        .replace("{cid}", "stations")
        .replace("{fid}", "S1")
        .replace("{file}", "stations.geojson")
}

#[tokio::test]
async fn every_write_route_refuses_anonymous_and_wrong_roles() {
    let all = routes::all();
    let writes: Vec<_> = all.iter().filter(|r| r.access != Access::Public).collect();
    // The write routes of the issue are all guarded (the list cannot drift silently).
    for (m, p) in [
        (Method::POST, "/api/v1/stations"),
        (Method::PUT, "/api/v1/stations/{id}"),
        (Method::DELETE, "/api/v1/stations/{id}"),
        (Method::PUT, "/api/v1/stations/{id}/occupancy"),
        (Method::GET, "/api/v1/scenarios"),
        (Method::POST, "/api/v1/scenarios"),
        (Method::DELETE, "/api/v1/scenarios/{id}"),
        (Method::GET, "/api/v1/history"),
    ] {
        assert!(
            writes.iter().any(|r| r.method == m && r.path == p),
            "{m} {p} is not a guarded route"
        );
    }
    // Every non-GET route changes state and so must be guarded, except the
    // planning analyses, which only compute.
    for r in &all {
        if r.method != Method::GET && !r.path.starts_with("/api/v1/plan/") {
            assert_ne!(r.access, Access::Public, "{r:?} is public");
        }
    }
    let doc = crate::openapi::document();
    let doc = serde_json::to_value(&doc).unwrap();
    for r in &all {
        let f = fixture();
        let sc = f
            .state
            .with_store_blocking(|s| Ok(s.save_scenario("t", "t", &json!({}), None)?.id))
            .unwrap();
        let uri = concrete(r.path, sc);
        let body = Some(json!({}));
        let label = format!("{} {}", r.method, uri);
        if r.path == "/api/v1/stream" {
            // An endless stream: check only the status.
            assert_eq!(open_stream(&f.app, &uri).await.status(), 200, "{label}");
            continue;
        }
        let as_ = |token| call(&f.app, r.method.clone(), &uri, token, body.clone());
        let anon = as_(None).await;
        assert_ne!(anon.status, 405, "{label}: {}", anon.body);
        let title = serde_json::from_str::<Value>(&anon.body)
            .ok()
            .and_then(|v| v.get("title").and_then(Value::as_str).map(str::to_string));
        assert_ne!(title.as_deref(), Some("No such route"), "{label}");
        if r.access == Access::Public {
            assert!(
                anon.status != 401 && anon.status != 403,
                "{label} refused an anonymous reader: {}",
                anon.body
            );
            continue;
        }
        anon.problem(401, "token");
        assert!(
            anon.headers.contains_key(header::WWW_AUTHENTICATE),
            "{label}"
        );
        let (wrong, right) = match r.access {
            Access::Planner => (&f.op_s2, &f.planner),
            Access::StationOperator => (&f.op_s1, &f.op_s2),
            Access::Admin => (&f.planner, &f.admin),
            Access::Public => unreachable!(),
        };
        let (wrong, right) = (wrong.as_str(), right.as_str());
        as_(Some(wrong)).await.problem(403, "may not");
        as_(Some("yz_bad")).await.problem(401, "token");
        let ok = as_(Some(right)).await;
        assert!(
            ok.status != 401 && ok.status != 403,
            "{label} refused its role: {}",
            ok.body
        );
        // Documented, with its security requirement.
        let op = &doc["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{label} missing from OpenAPI");
        assert!(
            op["security"].is_array(),
            "{label} has no security in OpenAPI"
        );
    }
}

/// `GET uri` of the event stream: the response, its endless body unread.
async fn open_stream(app: &axum::Router, uri: &str) -> axum::response::Response {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    tower::ServiceExt::oneshot(app.clone(), req).await.unwrap()
}

/// Read SSE frames until one contains `want`.
async fn next_event(body: &mut Body, want: &str) -> String {
    let mut text = String::new();
    loop {
        let frame = body
            .frame()
            .await
            .expect("stream ended")
            .expect("stream error");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        if let Some(i) = text.find(want) {
            let rest = &text[i..];
            let end = rest.find("\n\n").unwrap_or(rest.len());
            return rest[..end].to_string();
        }
    }
}

#[tokio::test]
async fn stream_pushes_occupancy_and_station_events_and_ends_on_shutdown() {
    let f = fixture();
    let res = open_stream(&f.app, "/api/v1/stream").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = res.into_body();
    next_event(&mut body, "event: hello").await;
    let a = f.put(&f.op_s1, S1_OCCUPANCY, json!({"occupied": 2})).await;
    assert_eq!(a.status, 200);
    let e = next_event(&mut body, "event: occupancy").await;
    let data: Value = serde_json::from_str(e.split("data: ").nth(1).unwrap().trim()).unwrap();
    assert_eq!(data["id"], "S1");
    assert_eq!(data["free_seats"], 8);
    f.post(&f.planner, STATIONS, new_station("N7", 118.5, 24.7))
        .await;
    let e = next_event(&mut body, "event: station").await;
    assert!(e.contains("\"created\"") && e.contains("N7"), "{e}");
    f.delete(&f.planner, "/api/v1/stations/N7").await;
    let e = next_event(&mut body, "event: station").await;
    assert!(e.contains("\"retired\""), "{e}");
    // Shutdown ends the stream (so graceful shutdown is not held up).
    f.state.begin_shutdown();
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("{e}"),
        }
    }
}
