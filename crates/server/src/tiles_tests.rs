//! The served vector tiles, decoded with an independent reader (`mvt-reader`)
//! and checked against a brute-force oracle on seeded random data.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use geo_types::Geometry;
use http_body_util::BodyExt;
use mvt_reader::feature::Value as Tag;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tower::ServiceExt;
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::model::{Candidate, GridCell, Hotspot, WorkerType};
use yizhan_core::Dataset;

use super::*;
use crate::layers::Collection;

const E: f64 = 4096.0;
const B: f64 = 64.0;

/// Web Mercator tile units of a position in tile `(z, x, y)`, written here
/// again (not the encoder's) for the oracle.
fn units(z: u8, x: u32, y: u32, lon: f64, lat: f64) -> (f64, f64) {
    let n = 2f64.powi(i32::from(z));
    let mx = (lon + 180.0) / 360.0 * n;
    let lr = lat.to_radians();
    let my = (1.0 - (lr.tan() + 1.0 / lr.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    ((mx - f64::from(x)) * E, (my - f64::from(y)) * E)
}

/// The tile holding a position.
fn tile_of(z: u8, lon: f64, lat: f64) -> (u32, u32) {
    let (px, py) = units(z, 0, 0, lon, lat);
    ((px / E).floor() as u32, (py / E).floor() as u32)
}

fn dataset(seed: u64) -> Dataset {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let at = |r: &mut ChaCha8Rng| {
        LonLat::new(
            118.40 + r.random::<f64>() * 0.2,
            24.60 + r.random::<f64>() * 0.2,
        )
        .unwrap()
    };
    let hotspots = (0..4_000)
        .map(|i| Hotspot {
            id: format!("H{i}"),
            location: at(&mut r),
            workers: r.random_range(0..40),
            worker_type: WorkerType::Delivery,
            grid_unit: None,
            profile: None,
        })
        .collect();
    let mut stations = Vec::new();
    for i in 0..300 {
        let p = at(&mut r);
        let mut s = tests::station(
            &format!("S{i}"),
            p.lon,
            p.lat,
            "microwave,charging",
            5 + i % 7,
            "24/7",
        );
        s.grid_unit = None;
        stations.push(s);
    }
    // A grid of cells (0.01°), some cut by tile edges at any zoom.
    let mut cells = Vec::new();
    for i in 0..20 {
        for j in 0..20 {
            let (lon, lat) = (118.40 + f64::from(i) * 0.01, 24.60 + f64::from(j) * 0.01);
            let d = 0.01;
            let ring = vec![
                (lon, lat),
                (lon + d, lat),
                (lon + d, lat + d),
                (lon, lat + d),
                (lon, lat),
            ];
            cells.push(GridCell {
                id: format!("C{i}_{j}"),
                polygon: geo_types::Polygon::new(ring.into(), vec![]),
                grid_unit: Some(format!("U{i}")),
                unit_name: None,
                demand: f64::from(i * j),
                centroid: LonLat::new(lon + d / 2.0, lat + d / 2.0).unwrap(),
            });
        }
    }
    let candidates = (0..50)
        .map(|i| Candidate {
            id: format!("K{i}"),
            name: Some(format!("site {i}")),
            location: at(&mut r),
            capacity: Some(4),
        })
        .collect();
    Dataset::new(stations, hotspots, cells, candidates, None)
}

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(app: &Router, uri: &str, etag: Option<&str>) -> Got {
    let mut req = Request::get(uri);
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Got {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    }
}

/// The decoded features of each layer of a tile (empty for 204).
fn decode(g: &Got) -> BTreeMap<String, Vec<mvt_reader::feature::Feature<f64>>> {
    let mut out = BTreeMap::new();
    if g.status == StatusCode::NO_CONTENT {
        return out;
    }
    assert_eq!(g.status, 200, "{}", String::from_utf8_lossy(&g.body));
    assert_eq!(
        g.headers[header::CONTENT_TYPE],
        "application/vnd.mapbox-vector-tile"
    );
    let r = mvt_reader::Reader::new(g.body.clone()).expect("a valid tile");
    for (i, name) in r.get_layer_names().unwrap().into_iter().enumerate() {
        out.insert(name, r.get_features_as::<f64>(i).unwrap());
    }
    out
}

fn tag_id(f: &mvt_reader::feature::Feature<f64>) -> String {
    match f.properties.as_ref().and_then(|p| p.get("id")) {
        Some(Tag::String(s)) => s.clone(),
        other => panic!("no id tag: {other:?}"),
    }
}

/// Whether a decoded tag is the tag of a GeoJSON property.
fn same(tag: &Tag, v: &Value) -> bool {
    match (tag, v) {
        (Tag::String(s), v) => yizhan_core::tiles::tag_text(v).as_deref() == Some(s.as_str()),
        (Tag::Bool(b), Value::Bool(c)) => b == c,
        (Tag::Int(i) | Tag::SInt(i), Value::Number(n)) => n.as_f64() == Some(*i as f64),
        (Tag::UInt(i), Value::Number(n)) => n.as_f64() == Some(*i as f64),
        (Tag::Double(d), Value::Number(n)) => n.as_f64() == Some(*d),
        _ => false,
    }
}

/// A random tile at zoom `z` around one of the points.
fn tile_near(r: &mut ChaCha8Rng, z: u8, pts: &[LonLat]) -> (u32, u32) {
    let p = pts[r.random_range(0..pts.len())];
    tile_of(z, p.lon, p.lat)
}

/// Point tiles hold exactly the points in the tile and its buffer, each with
/// the layer schema's properties (and, for stations, the free seats now); at
/// low zoom hotspots are a grid whose sums are the tile's workers and hotspots.
#[tokio::test]
async fn point_tiles_match_a_brute_force_oracle() {
    let data = dataset(0x7113);
    let st = AppState::new(data, ServerConfig::default());
    let app = router(st.clone());
    let snap = st.snapshot();
    let mut r = ChaCha8Rng::seed_from_u64(99);
    let mut checked = 0;
    for c in [
        Collection::Stations,
        Collection::Hotspots,
        Collection::Candidates,
    ] {
        let feats = snap.features(c, Crs::Wgs84, 500.0).unwrap();
        let pts: Vec<LonLat> = feats
            .iter()
            .map(|f| match &f.geometry.as_ref().unwrap().value {
                geojson::GeometryValue::Point { coordinates } => {
                    LonLat::new(coordinates[0], coordinates[1]).unwrap()
                }
                _ => unreachable!(),
            })
            .collect();
        for _ in 0..25 {
            let z = r.random_range(14..=18u8);
            let (x, y) = tile_near(&mut r, z, &pts);
            let got = decode(
                &fetch(
                    &app,
                    &format!("/tiles/{}/{z}/{x}/{y}.mvt", c.as_str()),
                    None,
                )
                .await,
            );
            let layer = got.get(c.as_str()).map(Vec::as_slice).unwrap_or_default();
            let want: BTreeSet<String> = feats
                .iter()
                .zip(&pts)
                .filter(|(_, p)| {
                    let (px, py) = units(z, x, y, p.lon, p.lat);
                    (-B..=E + B).contains(&px) && (-B..=E + B).contains(&py)
                })
                .map(|(f, _)| match &f.id {
                    Some(geojson::feature::Id::String(s)) => s.clone(),
                    _ => unreachable!(),
                })
                .collect();
            let ids: BTreeSet<String> = layer.iter().map(tag_id).collect();
            assert_eq!(ids.len(), layer.len(), "a feature twice");
            assert_eq!(ids, want, "{c:?} {z}/{x}/{y}");
            for f in layer {
                let i = f.id.expect("a feature id") as usize;
                let src = &feats[i];
                let props = src.properties.as_ref().unwrap();
                let tags = f.properties.as_ref().unwrap();
                for (k, v) in props {
                    match tags.get(k) {
                        Some(t) => assert!(same(t, v), "{c:?} {k}: {t:?} vs {v}"),
                        None => assert!(v.is_null(), "{c:?}: {k} missing"),
                    }
                }
                let extra: Vec<&String> = tags.keys().filter(|k| !props.contains_key(*k)).collect();
                let allowed: &[&str] = if c == Collection::Stations {
                    &["free_seats"]
                } else {
                    &[]
                };
                assert!(
                    extra.iter().all(|k| allowed.contains(&k.as_str())),
                    "{extra:?}"
                );
                // Its position is the point's, to a tile unit.
                // (The reader gives every point feature as a MultiPoint.)
                let p = match &f.geometry {
                    Geometry::Point(p) => *p,
                    Geometry::MultiPoint(m) if m.0.len() == 1 => m.0[0],
                    g => panic!("not one point: {g:?}"),
                };
                let (px, py) = units(z, x, y, pts[i].lon, pts[i].lat);
                assert!((p.x() - px).abs() <= 0.5 && (p.y() - py).abs() <= 0.5);
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "too few features checked: {checked}");

    // Hotspots below the detail zoom: the grid's sums are the tile's.
    let hs = snap.data.hotspots.items();
    for z in [8u8, 10, 12, 13] {
        let p = hs[r.random_range(0..hs.len())].location;
        let (x, y) = tile_of(z, p.lon, p.lat);
        let got = decode(&fetch(&app, &format!("/tiles/hotspots/{z}/{x}/{y}.mvt"), None).await);
        let layer = &got["hotspots"];
        let inside: Vec<&Hotspot> = hs
            .iter()
            .filter(|h| tile_of(z, h.location.lon, h.location.lat) == (x, y))
            .collect();
        let sum = |key: &str| -> u64 {
            layer
                .iter()
                .map(|f| match f.properties.as_ref().unwrap().get(key) {
                    Some(Tag::UInt(v)) => *v,
                    other => panic!("{key}: {other:?}"),
                })
                .sum()
        };
        assert_eq!(sum("hotspots"), inside.len() as u64, "z{z}");
        assert_eq!(
            sum("workers"),
            inside.iter().map(|h| u64::from(h.workers)).sum::<u64>(),
            "z{z}"
        );
        assert!(
            layer.len() <= 64 * 64 && layer.len() < inside.len().max(2),
            "z{z}: {} points",
            layer.len()
        );
    }
}

/// Polygons are clipped to the buffered tile, wound as exteriors, and every
/// cell that covers part of the tile is in it.
#[tokio::test]
async fn polygon_tiles_are_clipped_and_complete() {
    let st = AppState::new(dataset(5), ServerConfig::default());
    let app = router(st.clone());
    let snap = st.snapshot();
    let cells = snap.data.cells.items();
    let mut r = ChaCha8Rng::seed_from_u64(5);
    let mut clipped = 0;
    for _ in 0..20 {
        let z = r.random_range(11..=16u8);
        let c = cells[r.random_range(0..cells.len())].centroid;
        let (x, y) = tile_of(z, c.lon, c.lat);
        let got = decode(&fetch(&app, &format!("/tiles/cells/{z}/{x}/{y}.mvt"), None).await);
        let layer = got.get("cells").map(Vec::as_slice).unwrap_or_default();
        let want: BTreeSet<String> = cells
            .iter()
            .filter(|cell| {
                let ps: Vec<(f64, f64)> = cell
                    .polygon
                    .exterior()
                    .0
                    .iter()
                    .map(|p| units(z, x, y, p.x, p.y))
                    .collect();
                let x0 = ps.iter().map(|p| p.0).fold(f64::MAX, f64::min);
                let x1 = ps.iter().map(|p| p.0).fold(f64::MIN, f64::max);
                let y0 = ps.iter().map(|p| p.1).fold(f64::MAX, f64::min);
                let y1 = ps.iter().map(|p| p.1).fold(f64::MIN, f64::max);
                // Overlapping the tile (not only its buffer) by more than a unit.
                x1 > 1.0 && x0 < E - 1.0 && y1 > 1.0 && y0 < E - 1.0
            })
            .map(|c| c.id.clone())
            .collect();
        let ids: BTreeSet<String> = layer.iter().map(tag_id).collect();
        assert!(
            want.is_subset(&ids),
            "z{z} {x}/{y}: missing {:?}",
            want.difference(&ids)
        );
        for f in layer {
            let polys: Vec<geo_types::Polygon<f64>> = match &f.geometry {
                Geometry::Polygon(p) => vec![p.clone()],
                Geometry::MultiPolygon(m) => m.0.clone(),
                g => panic!("not a polygon: {g:?}"),
            };
            for p in polys {
                let mut out = false;
                for q in &p.exterior().0 {
                    assert!(
                        (-B..=E + B).contains(&q.x) && (-B..=E + B).contains(&q.y),
                        "{q:?}"
                    );
                    out |= q.x <= -B + 0.5
                        || q.x >= E + B - 0.5
                        || q.y <= -B + 0.5
                        || q.y >= E + B - 0.5;
                }
                clipped += usize::from(out);
                assert!(p.exterior().0.len() >= 4, "a degenerate ring");
            }
        }
    }
    assert!(clipped > 10, "too few clipped polygons to test: {clipped}");
}

/// ETags follow the data: a tile is answered 304 to its own ETag, and an
/// occupancy report gives the stations tile a new one (with the new free
/// seats); static layers are cacheable, changing ones must revalidate.
#[tokio::test]
async fn etags_follow_the_data() {
    let st = AppState::new(dataset(3), ServerConfig::default());
    let app = router(st.clone());
    let s = st.snapshot().data.stations.items()[0].clone();
    let (x, y) = tile_of(16, s.location.lon, s.location.lat);
    let uri = format!("/tiles/stations/16/{x}/{y}.mvt");
    let first = fetch(&app, &uri, None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.headers[header::CACHE_CONTROL], "no-cache");
    let etag = first.headers[header::ETAG].to_str().unwrap().to_string();
    let again = fetch(&app, &uri, Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(fetch(&app, &uri, Some("\"other\", *")).await.status, 304);
    assert_eq!(fetch(&app, &uri, Some("\"other\"")).await.status, 200);
    st.apply(state::StationChange::Occupancy {
        id: s.id.clone(),
        occupancy: Some(yizhan_core::model::Occupancy {
            occupied: 2,
            reported_at: chrono::Utc::now(),
        }),
    });
    let after = fetch(&app, &uri, Some(&etag)).await;
    assert_eq!(after.status, 200, "the report changed the tile");
    assert_ne!(after.headers[header::ETAG], etag.as_str());
    let layer = &decode(&after)["stations"];
    let f = layer
        .iter()
        .find(|f| tag_id(f) == s.id)
        .expect("the station");
    let tags = f.properties.as_ref().unwrap();
    assert!(
        matches!(tags.get("free_seats"), Some(Tag::SInt(v)) if *v == i64::from(s.capacity) - 2)
    );
    assert!(matches!(tags.get("occupied"), Some(Tag::SInt(2))));
    // A static layer: cacheable, and unchanged by the report.
    let h = fetch(
        &app,
        &format!(
            "/tiles/hotspots/10/{}/{}.mvt",
            tile_of(10, s.location.lon, s.location.lat).0,
            tile_of(10, s.location.lon, s.location.lat).1
        ),
        None,
    )
    .await;
    assert_eq!(h.status, 200);
    assert_eq!(h.headers[header::CACHE_CONTROL], "public, max-age=3600");
}

/// Bad addresses and layers are problems naming what is wrong; a tile with no
/// feature answers 204.
#[tokio::test]
async fn bad_tile_requests_are_problems() {
    let app = router(AppState::new(dataset(1), ServerConfig::default()));
    for (uri, status, param) in [
        ("/tiles/hotspots/23/0/0.mvt", 400, "z"),
        ("/tiles/hotspots/99999999999/0/0.mvt", 400, "z"),
        ("/tiles/hotspots/a/0/0.mvt", 400, "z"),
        ("/tiles/hotspots/-1/0/0.mvt", 400, "z"),
        ("/tiles/hotspots/2/4/0.mvt", 400, "x"),
        ("/tiles/hotspots/2/1.5/0.mvt", 400, "x"),
        ("/tiles/hotspots/2/0/4.mvt", 400, "y"),
        ("/tiles/hotspots/2/0/0.png", 400, "y"),
        ("/tiles/hotspots/2/0/0", 400, "y"),
        ("/tiles/nope/0/0/0.mvt", 404, ""),
        ("/tiles/stations,nope/0/0/0.mvt", 404, ""),
        ("/tiles/nope", 404, ""),
    ] {
        let a = tests::get(&app, uri).await;
        let p = a.problem(status, if status == 404 { "nope" } else { "" });
        if !param.is_empty() {
            assert_eq!(p["invalid-params"][0]["name"], param, "{uri}: {}", a.body);
        }
    }
    // Far from the data: nothing to draw.
    let g = fetch(&app, "/tiles/all/10/0/0.mvt", None).await;
    assert_eq!(g.status, StatusCode::NO_CONTENT);
    assert!(g.body.is_empty());
}

/// TileJSON 3.0 documents, per layer and combined, as martin serves them.
#[tokio::test]
async fn tilejson_documents() {
    let app = router(AppState::new(dataset(2), ServerConfig::default()));
    let d = tests::get(&app, "/tiles/hotspots").await.ok_json();
    assert_eq!(d["tilejson"], "3.0.0");
    assert_eq!(
        d["tiles"][0],
        "http://localhost/tiles/hotspots/{z}/{x}/{y}.mvt"
    );
    assert_eq!(d["minzoom"], 0);
    assert_eq!(d["maxzoom"], 22);
    let b: Vec<f64> = serde_json::from_value(d["bounds"].clone()).unwrap();
    assert!(
        b[0] >= 118.4 && b[2] <= 118.6 && b[1] >= 24.6 && b[3] <= 24.8,
        "{b:?}"
    );
    let l = &d["vector_layers"][0];
    assert_eq!(l["id"], "hotspots");
    for f in ["workers", "worker_type", "id", "hotspots"] {
        assert!(l["fields"][f].is_string(), "field {f} missing: {l}");
    }
    assert!(
        d["description"].as_str().unwrap().contains("aggregated"),
        "{d}"
    );
    let all = tests::get(&app, "/tiles/all").await.ok_json();
    let ids: Vec<&str> = all["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, Collection::ALL.map(Collection::as_str));
    assert_eq!(all["vector_layers"][0]["fields"]["free_seats"], "Number");
}
