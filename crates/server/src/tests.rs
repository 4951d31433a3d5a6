//! In-process tests of every route and every error, through `oneshot` (no socket).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use yizhan_core::geodesy::LonLat;
use yizhan_core::hours::OpeningHours;
use yizhan_core::model::*;
use yizhan_core::Dataset;

use super::*;

pub(crate) fn station(id: &str, lon: f64, lat: f64, amen: &str, cap: u32, hours: &str) -> Station {
    Station {
        id: id.into(),
        name: format!("Station {id}"),
        name_zh: None,
        kind: if id.ends_with('C') {
            StationKind::ChildcareClass
        } else {
            StationKind::RestStation
        },
        location: LonLat::new(lon, lat).unwrap(),
        amenities: AmenitySet::parse_list(amen).unwrap(),
        capacity: cap,
        occupancy: None,
        opening_hours: hours.parse::<OpeningHours>().unwrap(),
        grid_unit: Some("350582100001".into()),
        operator: None,
        address: None,
    }
}

fn square(id: &str, lon: f64, lat: f64, d: f64, demand: f64) -> GridCell {
    let ring = vec![
        (lon, lat),
        (lon + d, lat),
        (lon + d, lat + d),
        (lon, lat + d),
        (lon, lat),
    ];
    GridCell {
        id: id.into(),
        polygon: geo_types::Polygon::new(ring.into(), vec![]),
        grid_unit: Some("350582100001".into()),
        unit_name: Some("Anhai".into()),
        demand,
        centroid: LonLat::new(lon + d / 2.0, lat + d / 2.0).unwrap(),
    }
}

/// A small town: 6 stations, 4 hotspots, 4 cells, 2 candidates.
pub fn small_dataset() -> Dataset {
    let stations = vec![
        station("S1", 118.470, 24.720, "microwave,charging", 10, "24/7"),
        station(
            "S2",
            118.475,
            24.722,
            "drinking_water",
            5,
            "Mo-Su 08:00-18:00",
        ),
        station("S3", 118.480, 24.730, "microwave,toilet", 8, "off"),
        station("S4", 118.460, 24.710, "charging,wifi", 12, "24/7"),
        station("S5C", 118.490, 24.740, "books", 30, "Mo-Fr 08:00-17:00"),
        station("S6", 118.500, 24.700, "", 3, "24/7"),
    ];
    let hotspots = (0..4)
        .map(|i| Hotspot {
            id: format!("H{i}"),
            location: LonLat::new(118.46 + 0.01 * f64::from(i), 24.71 + 0.01 * f64::from(i))
                .unwrap(),
            workers: 10 * (i + 1),
            worker_type: WorkerType::Delivery,
            grid_unit: None,
            profile: None,
        })
        .collect();
    let cells = (0..4)
        .map(|i| {
            square(
                &format!("C{i}"),
                118.46 + 0.01 * f64::from(i),
                24.71,
                0.01,
                f64::from(i) * 5.0,
            )
        })
        .collect();
    let candidates = vec![
        Candidate {
            id: "K1".into(),
            name: Some("Market".into()),
            location: LonLat::new(118.485, 24.735).unwrap(),
            capacity: Some(10),
        },
        Candidate {
            id: "K2".into(),
            name: None,
            location: LonLat::new(118.465, 24.715).unwrap(),
            capacity: None,
        },
    ];
    Dataset::new(stations, hotspots, cells, candidates, None)
}

fn app() -> axum::Router {
    router(AppState::new(
        small_dataset(),
        ServerConfig {
            dataset_name: "test".into(),
            basemap_url: Some("https://tiles.invalid/style.json".into()),
            ..ServerConfig::default()
        },
    ))
}

pub(crate) struct Answer {
    /// `METHOD uri` of the request, for failure messages.
    pub(crate) request: String,
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", self.request, self.body))
    }
    /// The same answer, with (the start of) the request's `body` in its failure messages.
    pub(crate) fn with_body_shown(mut self, body: &str) -> Self {
        let start: String = body.chars().take(120).collect();
        self.request = format!("{} {start}", self.request);
        self
    }
    /// The body as JSON, after checking that the status is 200.
    pub(crate) fn ok_json(&self) -> Value {
        assert_eq!(self.status, 200, "{}: {}", self.request, self.body);
        self.json()
    }
    /// Checks that the answer is a problem+json of `status` whose detail mentions
    /// `mention`; returns the problem.
    pub(crate) fn problem(&self, status: u16, mention: &str) -> Value {
        let (req, body) = (&self.request, &self.body);
        assert_eq!(self.status.as_u16(), status, "{req}: {body}");
        assert_eq!(
            self.content_type, "application/problem+json",
            "{req}: {body}"
        );
        let p = self.json();
        assert!(p["title"].is_string(), "{req}: {body}");
        let d = p["detail"].as_str().unwrap();
        assert!(
            d.contains(mention),
            "{req}: detail {d:?} should mention {mention:?}"
        );
        p
    }
    /// As [`Answer::problem`]; with `Some(name)`, also that the first of the
    /// problem's `invalid-params` is `name`.
    pub(crate) fn problem_at(&self, status: u16, mention: &str, param: Option<&str>) -> Value {
        let p = self.problem(status, mention);
        if let Some(name) = param {
            let got = &p["invalid-params"][0]["name"];
            assert_eq!(got, name, "{}: {}", self.request, self.body);
        }
        p
    }
}

pub(crate) async fn send(app: &axum::Router, req: Request<Body>) -> Answer {
    let request = format!("{} {}", req.method(), req.uri());
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        request,
        status,
        content_type,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub(crate) async fn get(app: &axum::Router, uri: &str) -> Answer {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// `GET uri`, which must answer 200, as JSON.
async fn get_json(app: &axum::Router, uri: &str) -> Value {
    get(app, uri).await.ok_json()
}

/// Each `(uri, status, mention)`: `GET uri` is a problem of `status` mentioning `mention`.
async fn get_problems(app: &axum::Router, cases: &[(&str, u16, &str)]) {
    for &(uri, status, mention) in cases {
        get(app, uri).await.problem(status, mention);
    }
}

/// Each `(uri, ids)`: `GET uri` answers the features `ids`, in that order.
async fn get_ids(app: &axum::Router, cases: &[(&str, &[&str])]) {
    for &(uri, want) in cases {
        assert_eq!(ids(&get_json(app, uri).await), want, "{uri}");
    }
}

async fn post(app: &axum::Router, uri: &str, body: &str) -> Answer {
    let req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    let a = send(app, req.body(Body::from(body.to_string())).unwrap()).await;
    a.with_body_shown(body)
}

/// `POST uri` with the JSON `body`, which must answer 200, as JSON.
async fn post_json(app: &axum::Router, uri: &str, body: &str) -> Value {
    post(app, uri, body).await.ok_json()
}

pub(crate) fn ids(fc: &Value) -> Vec<&str> {
    strings(&fc["features"], "id")
}

/// The string `key` of every object in the array `v`.
pub(crate) fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    let all = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    all.iter().map(|o| o[key].as_str().unwrap()).collect()
}

#[tokio::test]
async fn nearest_stations_nearest_first_with_fields() {
    let app = app();
    let a = get(&app, "/api/v1/stations/nearest?lat=24.72&lon=118.47&k=2").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.content_type, "application/geo+json");
    let fc = a.json();
    assert_eq!(ids(&fc), ["S1", "S2"]);
    let p = &fc["features"][0]["properties"];
    assert_eq!(p["id"], "S1");
    assert!(p["distance_m"].as_f64().unwrap() < 1.0);
    assert_eq!(p["open_now"], true);
    assert_eq!(p["capacity"], 10);
    // Nothing reported: free seats unknown.
    assert_eq!(p["free_seats"], Value::Null);
    assert_eq!(p["occupancy"], Value::Null);
    assert_eq!(p["amenities"], serde_json::json!(["microwave", "charging"]));
    let d: Vec<f64> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn nearest_stations_carry_navigation_links_in_each_apps_datum() {
    use yizhan_core::crs::{bd09_to_wgs84, gcj02_to_wgs84};
    let app = app();
    let fc = get_json(&app, "/api/v1/stations/nearest?lat=24.72&lon=118.47&k=2").await;
    for f in fc["features"].as_array().unwrap() {
        let c = &f["geometry"]["coordinates"];
        let at = LonLat::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap()).unwrap();
        let nav = &f["properties"]["navigate"];
        let query = |key: &str, url: &str| -> String {
            let q = url.split_once('?').unwrap().1;
            q.split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{key} in {url}"))
                .to_string()
        };
        let nums = |s: &str| -> Vec<f64> { s.split(',').filter_map(|x| x.parse().ok()).collect() };
        let amap = nav["amap"].as_str().unwrap();
        let v = nums(&query("to", amap));
        let back = gcj02_to_wgs84(LonLat::new(v[0], v[1]).unwrap());
        assert!(back.distance_m(at) < 0.5, "amap {amap}");
        let tencent = nav["tencent"].as_str().unwrap();
        let v = nums(&query("tocoord", tencent));
        let back = gcj02_to_wgs84(LonLat::new(v[1], v[0]).unwrap());
        assert!(back.distance_m(at) < 0.5, "tencent {tencent}");
        let baidu = nav["baidu"].as_str().unwrap();
        let v = nums(&query("location", baidu));
        let back = bd09_to_wgs84(LonLat::new(v[1], v[0]).unwrap());
        assert!(back.distance_m(at) < 0.5, "baidu {baidu}");
        assert!(nav["geo"]
            .as_str()
            .unwrap()
            .starts_with(&format!("geo:{:.6},{:.6}?", at.lat, at.lon)));
    }
    // In GCJ-02 output the links are the same (they carry their own datum).
    let g = get_json(&app, "/api/v1/stations/S1?crs=gcj02").await;
    assert_eq!(g["id"], "S1");
    assert_eq!(
        g["properties"]["navigate"],
        fc["features"][0]["properties"]["navigate"]
    );
}

#[tokio::test]
async fn nearest_filters() {
    let app = app();
    let near = "/api/v1/stations/nearest?lat=24.72&lon=118.47";
    get_ids(
        &app,
        &[
            (&format!("{near}&amenity=charging&k=10"), &["S1", "S4"]),
            (&format!("{near}&kind=childcare_class"), &["S5C"]),
            // At 20:00, S2 (08-18) and S3 (off) and S5C are closed.
            (
                &format!("{near}&k=10&open_at=2026-07-01T20:00"),
                &["S1", "S4", "S6"],
            ),
            (&format!("{near}&k=10&max_m=700"), &["S1", "S2"]),
        ],
    )
    .await;
    // A closed station says when it opens next.
    let s2 = station("S2", 118.475, 24.722, "", 5, "Mo-Su 08:00-18:00");
    let t = crate::extract::parse_local_time("2026-07-01T07:00").unwrap();
    let fresh = routes::stations::Freshness {
        now: chrono::Utc::now(),
        max_age: state::DEFAULT_OCCUPANCY_MAX_AGE,
    };
    let f = routes::stations::station_out(&s2, yizhan_core::crs::Crs::Wgs84, None, t, &fresh);
    let p = f.properties.unwrap();
    assert_eq!(p["open_now"], false);
    assert_eq!(p["next_open"], "2026-07-01T08:00");
}

#[tokio::test]
async fn nearest_in_gcj02() {
    let app = app();
    let g = yizhan_core::crs::Crs::Gcj02.from_wgs84(LonLat::new(118.47, 24.72).unwrap());
    let uri = format!(
        "/api/v1/stations/nearest?lat={}&lon={}&k=1&crs=gcj02",
        g.lat, g.lon
    );
    let fc = get(&app, &uri).await.json();
    assert_eq!(ids(&fc), ["S1"]);
    let f = &fc["features"][0];
    assert!(f["properties"]["distance_m"].as_f64().unwrap() < 1.0);
    let c = f["geometry"]["coordinates"].as_array().unwrap();
    assert!((c[0].as_f64().unwrap() - g.lon).abs() < 1e-6);
    assert!((c[1].as_f64().unwrap() - g.lat).abs() < 1e-6);
}

#[tokio::test]
async fn nearest_errors_name_the_parameter() {
    let app = app();
    for (q, param) in [
        ("lat=91&lon=118", "lat"),
        ("lat=-90.5&lon=118", "lat"),
        ("lat=24&lon=181", "lon"),
        ("lat=abc&lon=118", "lat"),
        ("lon=118", "lat"),
        ("lat=24", "lon"),
        ("lat=24&lon=118&k=101", "k"),
        ("lat=24&lon=118&k=0", "k"),
        ("lat=24&lon=118&k=-1", "k"),
        ("lat=24&lon=118&k=2.5", "k"),
        ("lat=24&lon=118&amenity=jacuzzi", "amenity"),
        ("lat=24&lon=118&kind=hotel", "kind"),
        ("lat=24&lon=118&open_at=noon", "open_at"),
        ("lat=24&lon=118&max_m=-5", "max_m"),
        ("lat=24&lon=118&crs=bd09", "crs"),
        ("lat=NaN&lon=118", "lat"),
        ("lat=inf&lon=118", "lat"),
    ] {
        let a = get(&app, &format!("/api/v1/stations/nearest?{q}")).await;
        a.problem_at(400, param, Some(param));
    }
}

#[tokio::test]
async fn stations_in_bbox_and_by_id() {
    let app = app();
    get_ids(
        &app,
        &[
            (
                "/api/v1/stations?bbox=118.465,24.715,118.478,24.725",
                &["S1", "S2"],
            ),
            ("/api/v1/stations?amenity=charging", &["S1", "S4"]),
        ],
    )
    .await;
    let fc = get_json(&app, "/api/v1/stations").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 6);
    for bad in ["1,2,3", "a,b,c,d", "0,10,1,5", "0,-91,1,5", "1,2,3,4,5"] {
        get(&app, &format!("/api/v1/stations?bbox={bad}"))
            .await
            .problem(400, "bbox");
    }
    get(&app, "/api/v1/stations/NOPE")
        .await
        .problem(404, "NOPE");
    let a = get(&app, "/api/v1/stations/S3").await;
    assert_eq!(a.content_type, "application/geo+json");
    let f = a.ok_json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], "S3");
    assert_eq!(f["properties"]["open_now"], false);
}

#[tokio::test]
async fn service_routes() {
    let app = app();
    let h = get(&app, "/healthz").await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["stations"], 6);
    // A server without a replicated store is ready, and says it is no replica.
    assert_eq!(h.json()["ready"], true);
    assert_eq!(h.json()["replica"], false);
    assert!(h.json()["snapshot_age_s"].is_null());
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ready");
    let c = get(&app, "/api/v1/config").await.json();
    assert_eq!(c["basemap"], "https://tiles.invalid/style.json");
    assert_eq!(c["dataset"], "test");
    let _ = get(&app, "/api/v1/stations/nearest?lat=24&lon=118").await;
    let _ = get(&app, "/api/v1/stations/nearest?lat=99&lon=118").await;
    let _ = get(&app, "/api/v1/stations/S1").await;
    let m = get(&app, "/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.content_type.starts_with("text/plain"));
    for line in [
        r#"yizhan_http_requests_total{method="GET",route="/api/v1/stations/nearest",status="2xx"} 1"#,
        r#"yizhan_http_requests_total{method="GET",route="/api/v1/stations/nearest",status="4xx"} 1"#,
        r#"route="/api/v1/stations/{id}""#,
        r#"yizhan_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1"#,
        "yizhan_ready 1",
        "yizhan_replication_snapshot_age_seconds 0",
    ] {
        assert!(m.body.contains(line), "{line} missing from:\n{}", m.body);
    }
}

#[tokio::test]
async fn openapi_document_covers_the_api() {
    let app = app();
    let a = get(&app, "/api/v1/openapi.json").await;
    assert_eq!(a.status, 200);
    let doc = a.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // The router serves the document built from its own routes (openapi.rs checks
    // that document against `routes::all()`), the same at both addresses.
    let st = AppState::new(
        small_dataset(),
        ServerConfig {
            dataset_name: "test".into(),
            ..ServerConfig::default()
        },
    );
    let built: Value = serde_json::from_slice(&crate::openapi::document_json(&st)).unwrap();
    assert_eq!(doc, built);
    // OpenAPI 3.0, as the media type and the oas30 conformance class say.
    assert_eq!(doc["openapi"], crate::openapi::OPENAPI_VERSION);
    assert!(!a.body.contains(r#""null""#), "a 3.1 null type is left");
    let items = &doc["paths"]["/ogc/collections/{cid}/items"]["get"]["parameters"];
    let limit = items
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit");
    assert_eq!(limit.unwrap()["schema"]["maximum"], routes::ogc::MAX_LIMIT);
    let st_items = &doc["paths"]["/ogc/collections/stations/items"]["get"]["parameters"];
    let names = strings(st_items, "name");
    for n in [
        "limit",
        "bbox",
        "datetime",
        "has_microwave",
        "capacity",
        "kind",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert!(!names.contains(&"cid"));
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/stations/nearest",
        "/api/v1/plan/select",
        "/ogc/collections/{cid}/items",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the served document"
        );
    }
    let o = get(&app, "/ogc/api").await;
    assert_eq!(o.status, 200);
    assert_eq!(
        o.content_type,
        "application/vnd.oai.openapi+json;version=3.0"
    );
    // The OGC API alone, relative to /ogc: the same operations.
    let ogc = o.json();
    assert_eq!(ogc["servers"][0]["url"], "/ogc");
    assert_eq!(ogc["openapi"], crate::openapi::OPENAPI_VERSION);
    let ogc_paths = ogc["paths"].as_object().unwrap();
    let under_ogc: Vec<&String> = paths.keys().filter(|k| k.starts_with("/ogc")).collect();
    assert_eq!(ogc_paths.len(), under_ogc.len());
    for p in under_ogc {
        let rel = match p.strip_prefix("/ogc").unwrap() {
            "" => "/",
            r => r,
        };
        assert_eq!(ogc_paths[rel], paths[p.as_str()], "{p}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = app();
    for (a, status, mention) in [
        (get(&app, "/api/v1/nothing").await, 404, "/api/v1/nothing"),
        (
            post(&app, "/api/v1/stations/nearest", "{}").await,
            405,
            "POST",
        ),
    ] {
        a.problem(status, mention);
    }
}

#[tokio::test]
async fn cors_defaults_to_get_from_anywhere() {
    /// `GET /healthz` from a page at `origin`: the allowed origin answered, if any.
    async fn allowed_origin(app: &axum::Router, origin: &str) -> Option<String> {
        let req = Request::get("/healthz").header(header::ORIGIN, origin);
        let a = send(app, req.body(Body::empty()).unwrap()).await;
        let allowed = a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        allowed.map(|v| v.to_str().unwrap().to_string())
    }
    let app = app();
    let any = allowed_origin(&app, "https://map.example").await;
    assert_eq!(any.as_deref(), Some("*"));
    let pre = send(
        &app,
        Request::options("/api/v1/plan/select")
            .header(header::ORIGIN, "https://map.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let allowed = pre
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_METHODS)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(!allowed.contains("POST"), "{allowed}");
    assert!(allowed.contains("GET"), "{allowed}");

    // Configured: only one origin, POST allowed.
    let app = router(AppState::new(
        small_dataset(),
        ServerConfig {
            cors: CorsConfig {
                origins: vec!["https://planner.example".into()],
                methods: parse_methods("GET,POST").unwrap(),
            },
            ..ServerConfig::default()
        },
    ));
    let planner = allowed_origin(&app, "https://planner.example").await;
    assert_eq!(planner.as_deref(), Some("https://planner.example"));
    assert_eq!(allowed_origin(&app, "https://evil.example").await, None);
}

#[tokio::test]
async fn ogc_landing_conformance_collections() {
    let app = app();
    let l = get_json(&app, "/ogc").await;
    let rels = strings(&l["links"], "rel");
    for r in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&r), "{r} missing");
    }
    assert_eq!(get(&app, "/ogc/?f=json").await.status, 200);
    let c = get_json(&app, "/ogc/conformance").await;
    let conf: Vec<String> = serde_json::from_value(c["conformsTo"].clone()).expect("URIs");
    for class in ["/conf/core", "/conf/geojson", "/conf/oas30"] {
        assert!(conf.iter().any(|c| c.ends_with(class)), "{class}");
    }
    let cs = get_json(&app, "/ogc/collections").await;
    let names = strings(&cs["collections"], "id");
    for n in ["stations", "hotspots", "cells", "gaps", "boundary"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let st = &cs["collections"][0];
    assert_eq!(st["itemType"], "feature");
    assert_eq!(st["extent"]["spatial"]["crs"], routes::ogc::CRS84);
    let bbox = st["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    assert_eq!(bbox[0].as_f64().unwrap(), 118.46);
    assert_eq!(bbox[3].as_f64().unwrap(), 24.74);
    get(&app, "/ogc?f=xml").await.problem(400, "f");
    get(&app, "/ogc/collections/stations/queryables?f=html")
        .await
        .problem(400, "f");
    get(&app, "/ogc/collections/railways")
        .await
        .problem(404, "railways");
    let one = get_json(&app, "/ogc/collections/hotspots").await;
    assert_eq!(one["id"], "hotspots");
    let q = get_json(&app, "/ogc/collections/stations/queryables").await;
    assert_eq!(q["properties"]["capacity"]["type"], "integer");
    assert_eq!(q["properties"]["has_microwave"]["type"], "boolean");
    assert!(q["properties"].get("amenities").is_some());
    let rels = strings(&cs["collections"][0]["links"], "rel");
    for r in ["queryables", "schema"] {
        let rel = format!("http://www.opengis.net/def/rel/ogc/1.0/{r}");
        assert!(rels.contains(&rel.as_str()), "{rel} missing from {rels:?}");
    }
    let sc = get_json(&app, "/ogc/collections/stations/schema").await;
    assert_eq!(sc["properties"]["geometry"]["format"], "geometry-point");
    assert_eq!(sc["properties"]["id"]["x-ogc-role"], "id");
    assert_eq!(sc["properties"]["has_wifi"]["type"], "boolean");
    let sc = get_json(&app, "/ogc/collections/cells/schema").await;
    assert_eq!(sc["properties"]["geometry"]["format"], "geometry-polygon");
}

#[tokio::test]
async fn ogc_items_paging_and_filters() {
    let app = app();
    let items = "/ogc/collections/stations/items";
    let a = get(&app, &format!("{items}?limit=4")).await;
    assert_eq!(a.content_type, "application/geo+json");
    let fc = a.ok_json();
    assert_eq!(fc["numberMatched"], 6);
    assert_eq!(fc["numberReturned"], 4);
    let rels = strings(&fc["links"], "rel");
    assert!(
        rels.contains(&"self") && rels.contains(&"collection"),
        "{rels:?}"
    );
    assert!(!rels.contains(&"prev"), "{rels:?}");
    let links = fc["links"].as_array().unwrap();
    let next = links.iter().find(|l| l["rel"] == "next").unwrap();
    let href = next["href"].as_str().unwrap();
    assert!(href.starts_with("http://localhost/ogc/collections/stations/items?"));
    let path = href.trim_start_matches("http://localhost");
    let fc2 = get_json(&app, path).await;
    assert_eq!(fc2["numberReturned"], 2);
    let rels = strings(&fc2["links"], "rel");
    assert!(
        !rels.contains(&"next") && rels.contains(&"prev"),
        "{rels:?}"
    );
    let mut all = ids(&fc);
    all.extend(ids(&fc2));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6);

    // Default limit 10, max 10,000 (larger limits are served as the maximum);
    // bbox and property equality filters.
    for (query, key, want) in [
        ("", "numberReturned", 6),
        ("?limit=50000", "numberReturned", 6),
        ("?offset=5", "numberReturned", 1),
        ("?datetime=2026-07-01T12:00:00Z", "numberReturned", 6),
        ("?datetime=2026-07-01/..", "numberReturned", 6),
        ("?bbox=118.465,24.715,118.478,24.725", "numberMatched", 2),
        ("?has_charging=true", "numberMatched", 2),
        ("?has_charging=false", "numberMatched", 4),
    ] {
        let fc = get_json(&app, &format!("{items}{query}")).await;
        assert_eq!(fc[key], want, "{query}");
    }
    get_ids(
        &app,
        &[
            (&format!("{items}?capacity=12"), &["S4"]),
            (&format!("{items}?kind=childcare_class"), &["S5C"]),
            (
                "/ogc/collections/cells/items?bbox=118.475,24.712,118.476,24.713",
                &["C1"],
            ),
        ],
    )
    .await;

    // Errors.
    for (query, status, mention) in [
        ("?limit=0", 400, "limit"),
        ("?limit=ten", 400, "limit"),
        ("?offset=-1", 400, "offset"),
        ("?bbox=1,2", 400, "bbox"),
        ("?colour=red", 400, "colour"),
        ("?datetime=garbage", 400, "datetime"),
        ("?datetime=../..", 400, "datetime"),
        ("?datetime=2026-13-01", 400, "datetime"),
        ("/S99", 404, "S99"),
    ] {
        let a = get(&app, &format!("{items}{query}")).await;
        a.problem(status, mention);
    }
    get(&app, "/ogc/collections/nope/items")
        .await
        .problem(404, "nope");

    // One item.
    let a = get(&app, &format!("{items}/S2")).await;
    assert_eq!(a.content_type, "application/geo+json");
    let f = a.ok_json();
    assert_eq!(f["id"], "S2");
    assert!(f["links"].is_array());
}

#[tokio::test]
async fn export_layers() {
    let app = app();
    for layer in ["stations", "hotspots", "cells", "candidates", "boundary"] {
        let a = get(&app, &format!("/api/v1/export/{layer}.geojson")).await;
        let fc = a.ok_json();
        assert_eq!(a.content_type, "application/geo+json", "{layer}");
        let cd = a.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert_eq!(cd, format!("attachment; filename=\"test-{layer}.geojson\""));
        assert_eq!(fc["type"], "FeatureCollection");
        assert!(fc.get("crs").is_none());
    }
    let fc = get_json(&app, "/api/v1/export/stations.geojson").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 6);
    let a = get(&app, "/api/v1/export/stations.geojson?crs=gcj02").await;
    let cd = a.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(cd.contains("gcj02"), "{cd}");
    get(&app, "/api/v1/export/railways.geojson")
        .await
        .problem(404, "railways");
    get(&app, "/api/v1/export/stations.geojson?crs=xyz")
        .await
        .problem(400, "crs");
}

/// The roads collection: a LineString layer filtered by the lines' extents (checked
/// against a scan of the roads on seeded random data), its OpenStreetMap tags as the
/// schema, and its export.
#[tokio::test]
async fn roads_collection_items_by_bbox_schema_and_export() {
    use rand::{Rng, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(0x5EED_0014);
    let roads: Vec<Road> = (0..300)
        .map(|i| {
            let (x, y) = (
                118.40 + r.random::<f64>() * 0.1,
                24.65 + r.random::<f64>() * 0.1,
            );
            let n = r.random_range(2..6);
            let mut pts = vec![(x, y)];
            for _ in 1..n {
                let (px, py) = *pts.last().unwrap();
                pts.push((
                    px + (r.random::<f64>() - 0.5) * 0.01,
                    py + (r.random::<f64>() - 0.5) * 0.01,
                ));
            }
            Road {
                id: format!("w{i}"),
                // Rounded to 7 decimals, as the GeoJSON writer rounds them.
                line: geo_types::LineString::from(
                    pts.into_iter()
                        .map(|(x, y)| ((x * 1e7).round() / 1e7, (y * 1e7).round() / 1e7))
                        .collect::<Vec<_>>(),
                ),
                tags: RoadTags {
                    highway: ["residential", "footway", "primary"][i % 3].into(),
                    name_zh: (i % 2 == 0).then(|| format!("路{i}")),
                    oneway: (i % 5 == 0).then(|| "yes".to_string()),
                    ..RoadTags::default()
                },
            }
        })
        .collect();
    let data = small_dataset().with_roads(roads.clone());
    let roads_app = router(AppState::new(data, ServerConfig::default()));
    let app = &roads_app;
    let mut found = 0;
    for _ in 0..20 {
        let (w, s) = (
            118.39 + r.random::<f64>() * 0.1,
            24.64 + r.random::<f64>() * 0.1,
        );
        let (e, n) = (w + r.random::<f64>() * 0.03, s + r.random::<f64>() * 0.03);
        let want: Vec<String> = roads
            .iter()
            .filter(|rd| {
                let xs = rd.line.0.iter().map(|c| c.x);
                let ys = rd.line.0.iter().map(|c| c.y);
                let (x0, x1) = (
                    xs.clone().fold(f64::MAX, f64::min),
                    xs.fold(f64::MIN, f64::max),
                );
                let (y0, y1) = (
                    ys.clone().fold(f64::MAX, f64::min),
                    ys.fold(f64::MIN, f64::max),
                );
                x0 <= e && x1 >= w && y0 <= n && y1 >= s
            })
            .map(|rd| rd.id.clone())
            .collect();
        let fc = get_json(
            app,
            &format!("/ogc/collections/roads/items?limit=10000&bbox={w},{s},{e},{n}"),
        )
        .await;
        let got: Vec<String> = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "bbox {w},{s},{e},{n}");
        assert_eq!(fc["numberMatched"], want.len());
        found += got.len();
    }
    assert!(found > 20, "the boxes found too few roads to test: {found}");
    let one = get_json(app, "/ogc/collections/roads/items/w0").await;
    assert_eq!(one["geometry"]["type"], "LineString");
    assert_eq!(one["properties"]["name:zh"], "路0");
    assert_eq!(one["properties"]["oneway"], "yes");
    let q = get_json(app, "/ogc/collections/roads/queryables").await;
    // `highway` is on every road; the other tags are optional (null where absent).
    assert_eq!(q["properties"]["highway"]["type"], "string");
    for p in ["name:zh", "oneway"] {
        assert_eq!(
            q["properties"][p]["type"],
            serde_json::json!(["string", "null"]),
            "{p}"
        );
    }
    let fc = get_json(
        app,
        "/ogc/collections/roads/items?highway=footway&limit=10000",
    )
    .await;
    assert_eq!(fc["numberMatched"], 100);
    let a = get(app, "/api/v1/export/roads.geojson").await;
    let back = yizhan_core::io::read_roads_str(&a.body, yizhan_core::crs::Crs::Wgs84).unwrap();
    assert_eq!(back, roads);
    // Without roads or water, the collections are there and empty.
    let fc = get_json(&self::app(), "/ogc/collections/water/items").await;
    assert_eq!(fc["numberMatched"], 0);
}

#[tokio::test]
async fn panics_become_problems() {
    let r = error::panic_response(Box::new("boom"));
    assert_eq!(r.status(), 500);
}

#[tokio::test]
async fn coverage_and_gaps() {
    let app = app();
    let r = get_json(&app, "/api/v1/coverage?cutoff_m=800").await;
    assert_eq!(r["cutoff_m"], 800.0);
    assert_eq!(r["total_demand"], 100.0);
    assert_eq!(r["stations"].as_array().unwrap().len(), 6);
    assert!(r["covered_share"].as_f64().unwrap() <= 1.0);

    let a = get(&app, "/api/v1/gaps?cutoff_m=300").await;
    let fc = a.ok_json();
    assert_eq!(a.content_type, "application/geo+json");
    assert_eq!(fc["features"].as_array().unwrap().len(), 4);
    let p = &fc["features"][0]["properties"];
    for k in [
        "uncovered_demand",
        "nearest_station_m",
        "score",
        "rank",
        "cutoff_m",
    ] {
        assert!(p.get(k).is_some(), "{k} missing from {p}");
    }
    get_problems(
        &app,
        &[
            ("/api/v1/coverage?cutoff_m=-3", 400, "cutoff_m"),
            ("/api/v1/coverage?cutoff_m=far", 400, "cutoff_m"),
            ("/api/v1/coverage?peak_share=2", 400, "peak_share"),
            ("/api/v1/gaps?cutoff_m=1e9", 400, "cutoff_m"),
        ],
    )
    .await;
    // Gaps are a collection and an export too.
    let fc = get_json(&app, "/ogc/collections/gaps/items").await;
    assert_eq!(fc["numberMatched"], 4);
    let fc = get_json(&app, "/api/v1/export/gaps.geojson?cutoff_m=300").await;
    assert_eq!(fc["features"][0]["properties"]["cutoff_m"], 300.0);
}

#[tokio::test]
async fn plan_compare_select_assign() {
    let app = app();
    let compare = "/api/v1/plan/compare";
    let r = post_json(&app, compare, r#"{"cutoff_m": 500}"#).await;
    let rows = r["candidates"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["rank"], 1);
    assert!(rows[0]["lon"].is_number());
    let two = r#"{"candidates":[{"id":"X","lon":118.6,"lat":24.8},{"id":"Y","lon":118.47,"lat":24.72}],"top":1}"#;
    let r = post_json(&app, compare, two).await;
    assert_eq!(r["candidates"].as_array().unwrap().len(), 1);

    let select = "/api/v1/plan/select";
    let exact = r#"{"model":"mclp","p":1,"cutoff_m":500,"exact":true}"#;
    let s = post_json(&app, select, exact).await;
    assert_eq!(s["new_sites"].as_array().unwrap().len(), 1);
    assert!(s["objective"].is_number());
    assert_eq!(s["optimal"], true);
    assert!(s["chosen"][0]["lon"].is_number());
    post_json(&app, select, r#"{"model":"pmedian","p":2}"#).await;

    let r = post_json(&app, "/api/v1/plan/assign", r#"{"cutoff_m": 2000}"#).await;
    assert!(r["flows"].is_array());
    assert!(r["sites"].is_array());
}

#[tokio::test]
async fn plan_body_errors() {
    let app = app();
    let (select, compare) = ("/api/v1/plan/select", "/api/v1/plan/compare");
    // Wrong JSON types name the field.
    for (uri, body, mention) in [
        (select, r#"{"model":"mclp","p":"two","cutoff_m":500}"#, "p"),
        (select, r#"{"model":"best","p":1}"#, "model"),
        (select, r#"{"model":"mclp","p":1}"#, "cutoff_m"),
        (select, r#"{"model":"mclp","p":9,"cutoff_m":500}"#, "p"),
        (
            select,
            r#"{"model":"mclp","p":1,"cutoff_m":500,"colour":1}"#,
            "colour",
        ),
        (select, "{not json", "body"),
        (
            compare,
            r#"{"candidates":[{"id":"X","lon":200,"lat":24}]}"#,
            "candidates[0]",
        ),
        (
            compare,
            r#"{"candidates":[{"id":"X","lon":"east","lat":24}]}"#,
            "candidates[0].lon",
        ),
        ("/api/v1/plan/assign", r#"{"cutoff_m":"far"}"#, "cutoff_m"),
    ] {
        post(&app, uri, body).await.problem(400, mention);
    }
    // Not JSON at all.
    let a = send(
        &app,
        Request::post("/api/v1/plan/assign")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("hello"))
            .unwrap(),
    )
    .await;
    a.problem(415, "text/plain");
    // Too large.
    let big = format!(
        r#"{{"candidates":[{}]}}"#,
        "{\"id\":\"x\",\"lon\":1,\"lat\":1},".repeat(40_000)
    );
    post(&app, compare, &big).await.problem(413, "bytes");
}

mod fuzz {
    use super::*;
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    use proptest::prelude::*;

    const PATHS: [&str; 14] = [
        "/api/v1/stations/nearest",
        "/api/v1/stations",
        "/api/v1/stations/S1",
        "/api/v1/coverage",
        "/api/v1/gaps",
        "/api/v1/export/stations.geojson",
        "/api/v1/export/gaps.geojson",
        "/ogc",
        "/ogc/collections",
        "/ogc/collections/stations",
        "/ogc/collections/stations/items",
        "/ogc/collections/cells/items",
        "/ogc/collections/gaps/items/C1",
        "/metrics",
    ];
    const KEYS: [&str; 16] = [
        "lat",
        "lon",
        "k",
        "amenity",
        "kind",
        "open_at",
        "max_m",
        "crs",
        "bbox",
        "limit",
        "offset",
        "f",
        "cutoff_m",
        "peak_share",
        "min_free",
        "capacity",
    ];
    /// Fields of the planning bodies.
    const BODY_KEYS: [&str; 11] = [
        "model",
        "p",
        "cutoff_m",
        "exact",
        "candidates",
        "id",
        "lon",
        "lat",
        "cells",
        "peak_share",
        "time_limit_s",
    ];
    const POSTS: [&str; 3] = [
        "/api/v1/plan/compare",
        "/api/v1/plan/select",
        "/api/v1/plan/assign",
    ];

    /// Percent-encode all but ASCII letters, digits and `-.,_:`.
    fn encode(s: &str) -> String {
        const KEEP: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b',')
            .remove(b'_')
            .remove(b':');
        utf8_percent_encode(s, KEEP).to_string()
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            any::<f64>().prop_map(|f| f.to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            "[-0-9.,eE]{0,30}",
            Just("1e309".to_string()),
            Just("118.4,24.6,118.5,24.8".to_string()),
            Just("gcj02".to_string()),
        ]
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            (0u64..20).prop_map(serde_json::Value::from),
            prop_oneof![
                Just("mclp"),
                Just("lscp"),
                Just("pmedian"),
                Just("pcenter"),
                Just("x")
            ]
            .prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    // A known field 11 times in 12, as many as there are.
                    prop_oneof![
                        11 => prop::sample::select(&BODY_KEYS[..]).prop_map(String::from),
                        1 => any::<String>(),
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_queries_never_5xx(
            path in prop::sample::select(&PATHS[..]),
            params in prop::collection::vec(
                (prop_oneof![prop::sample::select(&KEYS[..]).prop_map(String::from), any::<String>()], value()),
                0..6,
            ),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let q: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
            let uri = format!("{path}?{}", q.join("&"));
            let a = rt.block_on(get(&APP.with(|a| a.clone()), &uri));
            prop_assert!(a.status.as_u16() < 500, "{uri} -> {} {}", a.status, a.body);
            if a.status.is_client_error() {
                prop_assert_eq!(&a.content_type, "application/problem+json");
            }
        }

        #[test]
        fn random_bodies_never_5xx(
            path in prop::sample::select(&POSTS[..]),
            body in prop_oneof![json_value().prop_map(|v| v.to_string()), any::<String>()],
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let a = rt.block_on(post(&APP.with(|a| a.clone()), path, &body));
            prop_assert!(a.status.as_u16() < 500, "{path} {body} -> {} {}", a.status, a.body);
        }
    }

    thread_local! {
        static APP: axum::Router = app();
    }
}

/// A request to `uri` whose body never arrives: its handler waits inside the
/// limits until the request is dropped or times out.
fn never_ending_post(uri: &str) -> Request<Body> {
    let body = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(body))
        .unwrap()
}

fn app_with_limits(limits: limits::Limits) -> axum::Router {
    router(AppState::new(
        small_dataset(),
        ServerConfig {
            limits,
            ..ServerConfig::default()
        },
    ))
}

#[tokio::test]
async fn a_full_planning_cap_answers_503_at_once() {
    use futures_util::FutureExt as _;
    let app = app_with_limits(limits::Limits {
        max_planning: 1,
        ..limits::Limits::default()
    });
    // The first planning request takes the only slot and waits for its body.
    let mut held = Box::pin(
        app.clone()
            .oneshot(never_ending_post("/api/v1/plan/compare")),
    );
    assert!((&mut held).now_or_never().is_none());
    // Every planning route shares the cap; the answer comes at once, not queued.
    for uri in ["/api/v1/plan/select", "/api/v1/plan/compare"] {
        let a = post(&app, uri, r#"{"model":"pmedian","p":1}"#).await;
        let p = a.problem(503, "planning");
        assert_eq!(p["status"], 503);
        assert_eq!(
            a.headers[header::RETRY_AFTER],
            limits::PLANNING_RETRY_AFTER_S.to_string()
        );
    }
    let a = get(&app, "/api/v1/gaps").await;
    a.problem(503, "planning");
    // Lookups are not capped.
    assert_eq!(get(&app, "/api/v1/stations/S1").await.status, 200);
    // The slot is freed when the held request goes.
    drop(held);
    post_json(&app, "/api/v1/plan/compare", r#"{"cutoff_m": 500}"#).await;
    // The refusals are counted like any answer.
    let m = get(&app, "/metrics").await;
    assert!(
        m.body.contains(
            "yizhan_http_requests_total{method=\"POST\",route=\"/api/v1/plan/select\",status=\"5xx\"} 1"
        ),
        "{}",
        m.body
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_request_times_out_with_504() {
    let limit = std::time::Duration::from_secs(3);
    let app = app_with_limits(limits::Limits {
        request_timeout: limit,
        ..limits::Limits::default()
    });
    // The clock is paused: it jumps to the deadline once nothing else can run.
    let a = send(&app, never_ending_post("/api/v1/plan/compare")).await;
    let p = a.problem(504, "3 s");
    assert_eq!(p["title"], "Request timed out");
    // A timed-out planning request gives its slot back.
    post_json(&app, "/api/v1/plan/compare", r#"{"cutoff_m": 500}"#).await;
}

/// OGC API Features Part 2: each collection lists its CRSs; `crs` and `bbox-crs`
/// take only those, the answer says its CRS in `Content-Crs` and, in GCJ-02, in
/// the body; any other CRS is a 400.
#[tokio::test]
async fn ogc_crs_by_reference() {
    use yizhan_core::crs::{CRS84_URI, GCJ02_URI};
    let app = app();
    let c = get_json(&app, "/ogc/collections/stations").await;
    assert_eq!(c["crs"], serde_json::json!([CRS84_URI, GCJ02_URI]));
    assert_eq!(c["storageCrs"], CRS84_URI);
    let conf = get(&app, "/ogc/conformance").await.body;
    assert!(conf.contains("ogcapi-features-2/1.0/conf/crs"), "{conf}");
    let items = "/ogc/collections/stations/items";
    let plain = get(&app, items).await;
    assert_eq!(
        plain.headers["content-crs"],
        format!("<{CRS84_URI}>").as_str()
    );
    let wgs = plain.ok_json();
    assert!(wgs.get("yizhan:crs").is_none());
    assert!(wgs["features"][0]["properties"]
        .get("coordinate_system")
        .is_none());
    let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
    let a = get(&app, &format!("{items}?crs={}", enc(GCJ02_URI))).await;
    assert_eq!(a.headers["content-crs"], format!("<{GCJ02_URI}>").as_str());
    let gcj = a.ok_json();
    assert_eq!(gcj["yizhan:crs"]["uri"], GCJ02_URI);
    let (fw, fg) = (&wgs["features"][0], &gcj["features"][0]);
    assert_eq!(fg["properties"]["coordinate_system"], "GCJ-02");
    let shift = fg["geometry"]["coordinates"][0].as_f64().unwrap()
        - fw["geometry"]["coordinates"][0].as_f64().unwrap();
    assert!(shift.abs() > 1e-4, "GCJ-02 moves points in China: {shift}");
    let one = get(&app, &format!("{items}/S2?crs={}", enc(GCJ02_URI))).await;
    assert_eq!(
        one.headers["content-crs"],
        format!("<{GCJ02_URI}>").as_str()
    );
    for bad in ["gcj02", "EPSG%3A3857", "crs84"] {
        get(&app, &format!("{items}?crs={bad}"))
            .await
            .problem(400, "not offered");
        get(&app, &format!("{items}?bbox=118,24,119,25&bbox-crs={bad}"))
            .await
            .problem(400, "not offered");
    }
    // An export in GCJ-02 says so in the file and in its name.
    let e = get(&app, "/api/v1/export/stations.geojson?crs=gcj02").await;
    let disposition = e.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.contains("-gcj02.geojson"), "{disposition}");
    let f = e.ok_json();
    assert_eq!(f["yizhan:crs"]["name"], "GCJ-02");
    for feat in f["features"].as_array().unwrap() {
        assert_eq!(feat["properties"]["coordinate_system"], "GCJ-02");
    }
}

/// A street grid (every 0.002°) over the small dataset's stations.
fn grid_roads() -> Vec<yizhan_core::model::Road> {
    let mut roads = Vec::new();
    for i in 0..=25 {
        let x = 118.455 + i as f64 * 0.002;
        let y = 24.695 + i as f64 * 0.002;
        let tags = yizhan_core::model::RoadTags {
            highway: "residential".into(),
            ..Default::default()
        };
        let ns: Vec<(f64, f64)> = (0..=25).map(|j| (x, 24.695 + j as f64 * 0.002)).collect();
        let ew: Vec<(f64, f64)> = (0..=25).map(|j| (118.455 + j as f64 * 0.002, y)).collect();
        roads.push(yizhan_core::model::Road {
            id: format!("ns{i}"),
            line: ns.into(),
            tags: tags.clone(),
        });
        roads.push(yizhan_core::model::Road {
            id: format!("ew{i}"),
            line: ew.into(),
            tags,
        });
    }
    roads
}

#[tokio::test]
async fn nearest_by_walk_ranks_by_travel_time_with_routes() {
    let plain = app();
    get(
        &plain,
        "/api/v1/stations/nearest?lat=24.72&lon=118.47&by=walk",
    )
    .await
    .problem(409, "yizhan roads import");
    let info = get_json(&plain, "/api/v1/network").await;
    assert_eq!(info["loaded"], false);
    assert!(info.get("nodes").is_none());

    let roads = grid_roads();
    let st = AppState::new(
        small_dataset().with_roads(roads.clone()),
        ServerConfig::default(),
    );
    st.set_networks(Some(yizhan_net::Networks::build(&roads).unwrap()));
    let app = router(st);
    let info = get_json(&app, "/api/v1/network").await;
    assert_eq!(info["loaded"], true);
    assert!(info["nodes"].as_u64().unwrap() > 600, "{info}");
    let fc = get_json(
        &app,
        "/api/v1/stations/nearest?lat=24.7215&lon=118.4712&k=3&by=walk",
    )
    .await;
    let feats = fc["features"].as_array().unwrap();
    assert_eq!(feats.len(), 3);
    let times: Vec<f64> = feats
        .iter()
        .map(|f| f["properties"]["travel_time_s"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    for f in feats {
        let p = &f["properties"];
        assert_eq!(p["by"], "walk");
        let net_m = p["network_m"].as_f64().unwrap();
        assert!(net_m >= p["distance_m"].as_f64().unwrap() - 0.1, "{p}");
        // on a grid, the walk is about the Manhattan distance at 4.5 km/h
        assert!(
            (p["travel_time_s"].as_f64().unwrap() - net_m / 1.25).abs() < 1.0,
            "{p}"
        );
        assert_eq!(p["route"]["type"], "LineString");
        assert!(p["route"]["coordinates"].as_array().unwrap().len() >= 2);
    }
    get(&app, "/api/v1/stations/nearest?lat=24.72&lon=118.47&by=car")
        .await
        .problem(400, "by");
    get(
        &app,
        "/api/v1/stations/nearest?lat=25.5&lon=118.47&by=ebike",
    )
    .await
    .problem(422, "nearest street");
    let straight = get_json(
        &app,
        "/api/v1/stations/nearest?lat=24.7215&lon=118.4712&k=3",
    )
    .await;
    assert!(straight["features"][0]["properties"].get("by").is_none());
}

/// The HTML encoding of the OGC API: asked by `f=html` or a browser's `Accept`,
/// the same features as the JSON page, links between the pages, escaped text.
#[tokio::test]
async fn ogc_html_pages() {
    let app = app();
    let html = |a: &Answer| {
        assert_eq!(a.status, 200, "{}: {}", a.request, a.body);
        assert!(a.content_type.starts_with("text/html"), "{}", a.request);
        assert_eq!(a.headers.get(header::VARY).unwrap(), "accept");
        a.body.clone()
    };
    let landing = html(&get(&app, "/ogc?f=html").await);
    assert!(landing.contains("/ogc/collections?f=html"), "{landing}");
    let browser = Request::get("/ogc")
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .body(Body::empty())
        .unwrap();
    html(&send(&app, browser).await);
    let gdal = Request::get("/ogc")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let j = send(&app, gdal).await.ok_json();
    let alt = j["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["type"] == "text/html")
        .expect("an HTML alternate");
    assert_eq!(alt["rel"], "alternate");
    let conf = get_json(&app, "/ogc/conformance").await;
    assert!(conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().ends_with("/conf/html")));
    let cs = html(&get(&app, "/ogc/collections?f=html").await);
    for n in ["stations", "hotspots", "cells", "gaps", "boundary"] {
        assert!(
            cs.contains(&format!("/ogc/collections/{n}/items?f=html")),
            "{n}"
        );
    }
    html(&get(&app, "/ogc/collections/cells?f=html").await);
    html(&get(&app, "/ogc/conformance?f=html").await);

    // A page of items holds exactly the JSON page's features, in order.
    for (c, q) in [
        ("stations", "limit=7&offset=3"),
        ("hotspots", "limit=20&worker_type=delivery"),
        ("cells", "limit=5"),
        ("candidates", ""),
    ] {
        let j = get_json(&app, &format!("/ogc/collections/{c}/items?{q}")).await;
        let ids: Vec<String> = j["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!ids.is_empty(), "{c}");
        let h = html(&get(&app, &format!("/ogc/collections/{c}/items?{q}&f=html")).await);
        let rows: Vec<&str> = h
            .split("<tr><td><a href=\"")
            .skip(1)
            .map(|r| r.split('>').nth(1).unwrap().split('<').next().unwrap())
            .collect();
        assert_eq!(rows, ids, "{c} {q}");
        assert!(
            h.matches("<a href=\"").count() >= 2 * ids.len(),
            "{c}: map and table links"
        );
        assert!(h.contains("<svg class=\"map\""), "{c}: a map");
        let next = j["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "next");
        assert_eq!(h.contains("rel=\"next\""), next, "{c}: next link");
        if next {
            assert!(h.contains("offset=") && h.contains("&amp;f=html"), "{c}");
        }
    }
    // One item: its properties, escaped.
    let s = get_json(&app, "/ogc/collections/stations/items?limit=1").await;
    let f = &s["features"][0];
    let id = f["id"].as_str().unwrap();
    let h = html(
        &get(
            &app,
            &format!("/ogc/collections/stations/items/{id}?f=html"),
        )
        .await,
    );
    let name = f["properties"]["name"].as_str().unwrap();
    assert!(h.contains(&routes::ogc_html_escape(name)), "{name}");
    assert!(h.contains("<th>capacity</th>"));
    get(&app, "/ogc/collections/stations/items/nope?f=html")
        .await
        .problem(404, "nope");
}

#[tokio::test]
async fn planning_by_network_says_which_distance_it_used() {
    let plain = app();
    for uri in [
        "/api/v1/coverage?by=walk",
        "/api/v1/gaps?by=ebike&minutes=3",
    ] {
        get(&plain, uri).await.problem(409, "street network");
    }
    post(&plain, "/api/v1/plan/compare", r#"{"by":"walk"}"#)
        .await
        .problem(409, "street network");
    post(
        &plain,
        "/api/v1/plan/select",
        r#"{"model":"mclp","p":1,"cutoff_m":500,"by":"ebike"}"#,
    )
    .await
    .problem(409, "street network");
    let straight = get_json(&plain, "/api/v1/coverage").await;
    assert_eq!(
        straight["distance"],
        serde_json::json!({"by": "straight", "network": false})
    );

    let roads = grid_roads();
    let data = small_dataset().with_roads(roads.clone());
    let nets = yizhan_net::Networks::build(&roads).unwrap();
    let st = AppState::new(data.clone(), ServerConfig::default());
    st.set_networks(Some(yizhan_net::Networks::build(&roads).unwrap()));
    let app = router(st);
    get(&app, "/api/v1/coverage?by=bus")
        .await
        .problem(400, "by");
    let got = get_json(&app, "/api/v1/coverage?by=walk&minutes=4").await;
    assert_eq!(
        got["distance"],
        serde_json::json!({"by": "walk", "network": true})
    );
    // the same as the workflow on the same graph
    let cut = yizhan_plan::coverage::Cutoff::Minutes {
        minutes: 4.0,
        mode: Default::default(),
        speed_kmh: None,
    };
    let costs = yizhan_plan::NetworkCosts::of(&nets, yizhan_plan::By::Walk, &cut)
        .unwrap()
        .unwrap();
    let params = yizhan_plan::coverage::CoverageParams {
        cutoff: cut,
        decay: None,
        peak_share: yizhan_plan::workflow::DEFAULT_PEAK_SHARE,
        hours: None,
    };
    let want = yizhan_plan::workflow::coverage_on(&data, &params, Default::default(), Some(&costs))
        .unwrap();
    assert_eq!(
        got["covered_demand"],
        serde_json::json!(want.covered_demand)
    );
    let line = get_json(&app, "/api/v1/coverage?minutes=4").await;
    assert_eq!(line["distance"]["network"], false);
    let gaps = get_json(&app, "/api/v1/gaps?by=ebike&cutoff_m=400").await;
    assert_eq!(gaps["type"], "FeatureCollection");
    assert_eq!(
        gaps["distance"],
        serde_json::json!({"by": "ebike", "network": true})
    );
    let cmp = post_json(
        &app,
        "/api/v1/plan/compare",
        r#"{"by":"ebike","minutes":2}"#,
    )
    .await;
    assert_eq!(cmp["distance"]["by"], "ebike");
    let sel = post_json(
        &app,
        "/api/v1/plan/select",
        r#"{"model":"mclp","p":1,"minutes":5,"by":"walk"}"#,
    )
    .await;
    assert_eq!(sel["distance"]["by"], "walk");
    assert_eq!(sel["cost_unit"], "seconds");
    post(
        &app,
        "/api/v1/plan/select",
        r#"{"model":"mclp","p":1,"minutes":5}"#,
    )
    .await
    .problem(400, "minutes");
}

/// Planning by hour: `hour`/`hours` on coverage and gaps, in compare and select
/// bodies; the demand is each hotspot's workers present by its profile.
#[tokio::test]
async fn planning_by_hour_weighs_hotspots_by_their_profiles() {
    use yizhan_core::profile::{DemandProfile, HourWindow};
    let base = small_dataset();
    let mut hs = base.hotspots.items().to_vec();
    for (i, h) in hs.iter_mut().enumerate() {
        let mut w = [1.0; 24];
        w[12] = 4.0 + i as f64;
        w[3] = 0.0;
        h.profile = Some(DemandProfile::from_weights(w, w, w).unwrap());
    }
    let data = Dataset::new(
        base.stations.items().to_vec(),
        hs.clone(),
        base.cells.items().to_vec(),
        base.candidates.items().to_vec(),
        None,
    );
    let app = router(AppState::new(data, ServerConfig::default()));
    let want = |w: Option<HourWindow>| -> f64 { hs.iter().map(|h| h.demand(w)).sum() };
    let daily = get_json(&app, "/api/v1/coverage").await;
    assert_eq!(daily["total_demand"].as_f64().unwrap(), want(None));
    let noon = get_json(&app, "/api/v1/coverage?hour=12").await;
    assert_eq!(noon["hours"], serde_json::json!([12, 13]));
    let got = noon["total_demand"].as_f64().unwrap();
    assert!((got - want(HourWindow::hour(12))).abs() < 1e-9, "{got}");
    let night = get_json(&app, "/api/v1/coverage?hours=3-4").await;
    assert_eq!(night["total_demand"].as_f64().unwrap(), 0.0);
    let gaps = get_json(&app, "/api/v1/gaps?hours=3-4").await;
    for f in gaps["features"].as_array().unwrap() {
        assert_eq!(f["properties"]["demand"].as_f64(), Some(0.0), "{f}");
    }
    let cmp = post_json(&app, "/api/v1/plan/compare", r#"{"hours":"3-4"}"#).await;
    for row in cmp["candidates"].as_array().unwrap() {
        assert_eq!(row["newly_covered_demand"].as_f64(), Some(0.0), "{row}");
    }
    let sel = post_json(
        &app,
        "/api/v1/plan/select",
        r#"{"model":"mclp","p":1,"cutoff_m":800,"hours":"11-14"}"#,
    )
    .await;
    let total = sel["total_demand"].as_f64().unwrap();
    assert!(
        (total - want(HourWindow::new(11, 14))).abs() < 1e-9,
        "{sel}"
    );
    // Bad hours: problem+json naming the parameter, nothing planned.
    get(&app, "/api/v1/coverage?hours=14-11")
        .await
        .problem_at(400, "14-11", Some("hours"));
    get(&app, "/api/v1/coverage?hour=24")
        .await
        .problem_at(400, "24", Some("hour"));
    get(&app, "/api/v1/coverage?hour=3&hours=3-4")
        .await
        .problem(400, "both");
    post(&app, "/api/v1/plan/compare", r#"{"hours":"late"}"#)
        .await
        .problem(400, "late");
    post(
        &app,
        "/api/v1/plan/select",
        r#"{"model":"mclp","p":1,"cutoff_m":800,"hour":-1}"#,
    )
    .await
    .problem(400, "hour");
}

/// Service areas: one polygon a station on the loaded network, holding the station;
/// 409 without a network; bad minutes and straight lines refused.
#[tokio::test]
async fn service_areas_are_polygons_around_the_stations() {
    get(&app(), "/api/v1/service-areas?by=walk")
        .await
        .problem(409, "street network");
    let roads = grid_roads();
    let data = small_dataset().with_roads(roads.clone());
    let st = AppState::new(data.clone(), ServerConfig::default());
    st.set_networks(Some(yizhan_net::Networks::build(&roads).unwrap()));
    let app = router(st);
    let short = get_json(&app, "/api/v1/service-areas?minutes=2&by=walk").await;
    let long = get_json(&app, "/api/v1/service-areas?minutes=8&by=walk").await;
    let fs = long["features"].as_array().unwrap();
    assert!(!fs.is_empty(), "{long}");
    for f in fs {
        assert_eq!(f["geometry"]["type"], "Polygon");
        let id = f["properties"]["station_id"].as_str().unwrap();
        let s = data.stations.items().iter().find(|s| s.id == id).unwrap();
        let ring: Vec<(f64, f64)> = f["geometry"]["coordinates"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            .collect();
        let poly = geo::Polygon::new(geo::LineString::from(ring), vec![]);
        assert!(
            geo::Intersects::intersects(&poly, &geo::Point::new(s.location.lon, s.location.lat)),
            "{id}'s area holds it"
        );
        let small = short["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["properties"]["station_id"] == id)
            .map_or(0.0, |g| g["properties"]["area_m2"].as_f64().unwrap());
        assert!(
            f["properties"]["area_m2"].as_f64().unwrap() > small,
            "{id} grows"
        );
    }
    get(&app, "/api/v1/service-areas?minutes=0")
        .await
        .problem_at(400, "minutes", Some("minutes"));
    get(&app, "/api/v1/service-areas?minutes=600")
        .await
        .problem_at(400, "minutes", Some("minutes"));
    get(&app, "/api/v1/service-areas?by=straight")
        .await
        .problem_at(400, "streets", Some("by"));
}
