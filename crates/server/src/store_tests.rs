//! In-process tests of the write routes, roles, live occupancy and the event stream,
//! on an in-memory store.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use yizhan_core::model::Occupancy;
use yizhan_store::{Role, Store};

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
    let body = match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(app, b.body(body).unwrap()).await
}

fn new_station(id: &str, lon: f64, lat: f64) -> Value {
    json!({
        "type": "Feature",
        "id": id,
        "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "properties": { "name": format!("New {id}"), "capacity": 7, "amenities": ["toilet"] },
    })
}

async fn history_len(f: &Fixture) -> usize {
    let h = call(
        &f.app,
        Method::GET,
        "/api/v1/history?limit=1000",
        Some(&f.planner),
        None,
    )
    .await;
    assert_eq!(h.status, 200, "{}", h.body);
    h.json()["entries"].as_array().unwrap().len()
}

#[tokio::test]
async fn planner_creates_updates_and_retires_stations_visible_at_once() {
    let f = fixture();
    let near = "/api/v1/stations/nearest?lat=24.75&lon=118.52&k=1";
    assert_ne!(ids(&get(&f.app, near).await.json()), ["N1"]);
    let a = call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        Some(new_station("N1", 118.52, 24.75)),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.headers[header::LOCATION], "/api/v1/stations/N1");
    assert_eq!(a.json()["properties"]["capacity"], 7);
    // The R-tree sees it on the next read.
    assert_eq!(ids(&get(&f.app, near).await.json()), ["N1"]);
    assert_eq!(get(&f.app, "/api/v1/stations/N1").await.status, 200);
    assert_eq!(
        get(&f.app, "/ogc/collections/stations/items/N1")
            .await
            .status,
        200
    );
    // Duplicate id: 409, nothing changed.
    let before = history_len(&f).await;
    call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        Some(new_station("N1", 118.0, 24.0)),
    )
    .await
    .problem(409, "N1");
    assert_eq!(history_len(&f).await, before);
    // Invalid feature: 400 naming the field, nothing changed.
    let mut bad = new_station("N2", 118.52, 24.75);
    bad["properties"].as_object_mut().unwrap().remove("name");
    let p = call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        Some(bad),
    )
    .await
    .problem(400, "name");
    assert_eq!(p["invalid-params"][0]["name"], "name");
    let bad = json!({"type": "Feature", "id": "N3", "geometry": {"type": "Point", "coordinates": [200.0, 24.0]}, "properties": {"name": "x", "capacity": 1}});
    call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        Some(bad),
    )
    .await
    .problem(400, "geometry");
    call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        Some(json!({"type": "FeatureCollection", "features": []})),
    )
    .await
    .problem(400, "type");
    assert_eq!(get(&f.app, "/api/v1/stations/N2").await.status, 404);
    assert_eq!(history_len(&f).await, before);

    // Move it far away: the nearest query no longer finds it there.
    let a = call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/N1",
        Some(&f.planner),
        Some(new_station("N1", 118.40, 24.60)),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_ne!(ids(&get(&f.app, near).await.json()), ["N1"]);
    // The body's id must match the path's.
    call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/N1",
        Some(&f.planner),
        Some(new_station("S1", 118.40, 24.60)),
    )
    .await
    .problem(400, "id");
    call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/NOPE",
        Some(&f.planner),
        Some(new_station("NOPE", 118.40, 24.60)),
    )
    .await
    .problem(404, "NOPE");

    // Retire S1: gone from reads and from the planning results.
    let cov = get(&f.app, "/api/v1/coverage").await.json();
    assert!(cov.to_string().contains("\"S1\""));
    let a = call(
        &f.app,
        Method::DELETE,
        "/api/v1/stations/S1",
        Some(&f.planner),
        None,
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.body);
    get(&f.app, "/api/v1/stations/S1").await.problem(404, "S1");
    let cov = get(&f.app, "/api/v1/coverage").await.json();
    assert!(!cov.to_string().contains("\"S1\""), "{cov}");
    call(
        &f.app,
        Method::DELETE,
        "/api/v1/stations/S1",
        Some(&f.planner),
        None,
    )
    .await
    .problem(404, "S1");
    // Every accepted write is in the history, with its actor.
    let h = call(
        &f.app,
        Method::GET,
        "/api/v1/history",
        Some(&f.planner),
        None,
    )
    .await
    .json();
    let actions: Vec<&str> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["import", "create", "update", "retire"]);
    assert!(h["entries"][1]["actor"]
        .as_str()
        .unwrap()
        .contains("planner"));
    // The store holds the same stations as the served dataset.
    let stored: Vec<String> = f
        .state
        .with_store_blocking(|s| Ok(s.stations()?))
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let served: Vec<String> = f
        .state
        .snapshot()
        .data
        .stations
        .items()
        .iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(stored.len(), served.len());
    assert!(stored.iter().all(|id| served.contains(id)));
}

#[tokio::test]
async fn operators_report_occupancy_of_their_station_only() {
    let f = fixture();
    let a = call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.op_s1),
        Some(json!({"occupied": 4})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let p = get(&f.app, "/api/v1/stations/S1").await.json()["properties"].clone();
    assert_eq!(p["free_seats"], 6);
    assert_eq!(p["occupancy"]["occupied"], 4);
    assert_eq!(p["occupancy"]["stale"], false);
    assert!(p["occupancy"]["reported_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    // The nearest query shows it too, and min_free uses it.
    let fc = get(&f.app, "/api/v1/stations/nearest?lat=24.72&lon=118.47&k=1")
        .await
        .json();
    assert_eq!(fc["features"][0]["properties"]["free_seats"], 6);
    let fc = get(
        &f.app,
        "/api/v1/stations/nearest?lat=24.72&lon=118.47&k=1&min_free=7",
    )
    .await
    .json();
    assert_ne!(ids(&fc), ["S1"]);
    // Another station's operator: 403. Too many: 422 naming the field, unchanged.
    call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.op_s2),
        Some(json!({"occupied": 1})),
    )
    .await
    .problem(403, "operator:S2");
    let p = call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.op_s1),
        Some(json!({"occupied": 11})),
    )
    .await
    .problem(422, "occupied");
    assert_eq!(p["invalid-params"][0]["name"], "occupied");
    call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.op_s1),
        Some(json!({"occupied": -1})),
    )
    .await
    .problem(400, "occupied");
    call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.op_s1),
        Some(json!({"occupied": 2, "extra": 1})),
    )
    .await
    .problem(400, "extra");
    let p = get(&f.app, "/api/v1/stations/S1").await.json()["properties"].clone();
    assert_eq!(p["free_seats"], 6);
    // A planner may report too; an unknown station is 404.
    let a = call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S2/occupancy",
        Some(&f.planner),
        Some(json!({"occupied": 5})),
    )
    .await;
    assert_eq!(a.json()["properties"]["free_seats"], 0);
    call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/ZZ/occupancy",
        Some(&f.admin),
        Some(json!({"occupied": 0})),
    )
    .await
    .problem(404, "ZZ");
    // A planner's update keeps the report (capacity still above it).
    let mut s1 = get(&f.app, "/api/v1/stations/S1").await.json();
    s1["properties"]["name"] = json!("Renamed");
    let a = call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1",
        Some(&f.planner),
        Some(s1),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["properties"]["free_seats"], 6);
}

#[tokio::test]
async fn old_reports_show_as_unknown() {
    let f = fixture_with(ServerConfig::default(), |d| {
        let mut st = d.stations.items().to_vec();
        let hours_ago = |h| chrono::Utc::now() - chrono::Duration::hours(h);
        st[0].occupancy = Some(Occupancy {
            occupied: 3,
            reported_at: hours_ago(3),
        });
        st[1].occupancy = Some(Occupancy {
            occupied: 1,
            reported_at: hours_ago(1),
        });
        d.set_stations(st);
    });
    let p = get(&f.app, "/api/v1/stations/S1").await.json()["properties"].clone();
    assert_eq!(p["free_seats"], Value::Null, "{p}");
    assert_eq!(p["occupancy"]["stale"], true);
    assert_eq!(p["occupancy"]["occupied"], 3);
    assert!(p["occupancy"]["age_s"].as_i64().unwrap() >= 3 * 3600);
    let p = get(&f.app, "/api/v1/stations/S2").await.json()["properties"].clone();
    assert_eq!(p["free_seats"], 4);
    assert_eq!(p["occupancy"]["stale"], false);
    // A shorter configured age makes the second one unknown too.
    let f = fixture_with(
        ServerConfig {
            occupancy_max_age: std::time::Duration::from_secs(1800),
            ..ServerConfig::default()
        },
        |d| {
            let mut st = d.stations.items().to_vec();
            st[1].occupancy = Some(Occupancy {
                occupied: 1,
                reported_at: chrono::Utc::now() - chrono::Duration::hours(1),
            });
            d.set_stations(st);
        },
    );
    let p = get(&f.app, "/api/v1/stations/S2").await.json()["properties"].clone();
    assert_eq!(p["free_seats"], Value::Null);
    assert_eq!(p["occupancy"]["stale"], true);
}

#[tokio::test]
async fn tokens_missing_bad_or_revoked_are_401() {
    let f = fixture();
    let body = Some(new_station("N1", 118.5, 24.7));
    let a = call(&f.app, Method::POST, "/api/v1/stations", None, body.clone()).await;
    a.problem(401, "token");
    assert!(a.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let a = call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some("yz_0000"),
        body.clone(),
    )
    .await;
    a.problem(401, "token");
    assert!(a.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    let raw = send(
        &f.app,
        Request::post("/api/v1/stations")
            .header(header::AUTHORIZATION, "Basic dXNlcjpwdw==")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone().unwrap().to_string()))
            .unwrap(),
    )
    .await;
    raw.problem(401, "Bearer");
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
    call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        body,
    )
    .await
    .problem(401, "revoked");
    // Without a store (AppState::new) nothing can write.
    let ro = router(AppState::new(small_dataset(), ServerConfig::default()));
    call(
        &ro,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.admin),
        Some(json!({"occupied": 1})),
    )
    .await
    .problem(401, "token");
}

#[tokio::test]
async fn scenarios_are_saved_listed_and_deleted() {
    let f = fixture();
    let body = json!({
        "name": "market corner",
        "candidates": [{"id": "K9", "lon": 118.485, "lat": 24.735, "capacity": 10}],
        "cutoff_m": 800,
    });
    let a = call(
        &f.app,
        Method::POST,
        "/api/v1/scenarios",
        Some(&f.planner),
        Some(body.clone()),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let sc = a.json();
    let id = sc["id"].as_i64().unwrap();
    assert_eq!(sc["candidates"]["features"][0]["id"], "K9");
    assert_eq!(sc["comparison"]["candidates"][0]["id"], "K9");
    assert_eq!(sc["comparison"]["cutoff_m"], 800.0);
    let list = call(
        &f.app,
        Method::GET,
        "/api/v1/scenarios",
        Some(&f.planner),
        None,
    )
    .await
    .json();
    assert_eq!(list["scenarios"][0]["id"], id);
    let uri = format!("/api/v1/scenarios/{id}");
    let one = call(&f.app, Method::GET, &uri, Some(&f.admin), None).await;
    assert_eq!(one.json()["name"], "market corner");
    call(&f.app, Method::DELETE, &uri, Some(&f.op_s1), None)
        .await
        .problem(403, "operator:S1");
    let d = call(&f.app, Method::DELETE, &uri, Some(&f.planner), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    call(&f.app, Method::GET, &uri, Some(&f.planner), None)
        .await
        .problem(404, "scenario");
    call(
        &f.app,
        Method::GET,
        "/api/v1/scenarios/abc",
        Some(&f.planner),
        None,
    )
    .await
    .problem(400, "path");
    // Invalid bodies change nothing.
    for (bad, field) in [
        (
            json!({"name": "", "candidates": body["candidates"]}),
            "name",
        ),
        (json!({"name": "x", "candidates": []}), "candidates"),
        (
            json!({"name": "x", "candidates": [{"id": "a", "lon": 500, "lat": 0}]}),
            "candidates[0]",
        ),
        (
            json!({"name": "x", "candidates": body["candidates"], "peak_share": 2}),
            "peak_share",
        ),
    ] {
        call(
            &f.app,
            Method::POST,
            "/api/v1/scenarios",
            Some(&f.planner),
            Some(bad),
        )
        .await
        .problem(400, field);
    }
    let list = call(
        &f.app,
        Method::GET,
        "/api/v1/scenarios",
        Some(&f.planner),
        None,
    )
    .await
    .json();
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
            let res = tower::ServiceExt::oneshot(
                f.app.clone(),
                Request::get(&uri).body(Body::empty()).unwrap(),
            )
            .await
            .unwrap();
            assert_eq!(res.status(), 200, "{label}");
            continue;
        }
        let anon = call(&f.app, r.method.clone(), &uri, None, body.clone()).await;
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
        call(&f.app, r.method.clone(), &uri, Some(wrong), body.clone())
            .await
            .problem(403, "may not");
        call(&f.app, r.method.clone(), &uri, Some("yz_bad"), body.clone())
            .await
            .problem(401, "token");
        let ok = call(&f.app, r.method.clone(), &uri, Some(right), body.clone()).await;
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
    let res = tower::ServiceExt::oneshot(
        f.app.clone(),
        Request::get("/api/v1/stream").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = res.into_body();
    next_event(&mut body, "event: hello").await;
    let a = call(
        &f.app,
        Method::PUT,
        "/api/v1/stations/S1/occupancy",
        Some(&f.op_s1),
        Some(json!({"occupied": 2})),
    )
    .await;
    assert_eq!(a.status, 200);
    let e = next_event(&mut body, "event: occupancy").await;
    let data: Value = serde_json::from_str(e.split("data: ").nth(1).unwrap().trim()).unwrap();
    assert_eq!(data["id"], "S1");
    assert_eq!(data["free_seats"], 8);
    call(
        &f.app,
        Method::POST,
        "/api/v1/stations",
        Some(&f.planner),
        Some(new_station("N7", 118.5, 24.7)),
    )
    .await;
    let e = next_event(&mut body, "event: station").await;
    assert!(e.contains("\"created\"") && e.contains("N7"), "{e}");
    call(
        &f.app,
        Method::DELETE,
        "/api/v1/stations/N7",
        Some(&f.planner),
        None,
    )
    .await;
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
