//! Service areas: the streets reachable from a station within N minutes, as a
//! polygon (ArcGIS Network Analyst's service areas, pgRouting's
//! `pgr_drivingDistance` plus a hull).
//!
//! From the station's snap to its street, a bounded Dijkstra (`Network::within_time`)
//! reaches the street vertices within the time; every street leaving a reached
//! vertex is followed as far as the remaining time allows (the edge's own speed),
//! and the polygon is the concave hull (geo's `ConcaveHull`, concaveman,
//! [`CONCAVITY`]) of the station, the reached vertices and those partial ends. A
//! station farther than [`SNAP_LIMIT_M`] from any street has no service area.

use geo::{ConcaveHull, GeodesicArea, MultiPoint, Point, Polygon};
use geojson::{Feature, JsonObject};
use rayon::prelude::*;
use serde_json::json;
use yizhan_core::crs::Crs;
use yizhan_core::{LonLat, Station};

use yizhan_net::{Network, SNAP_LIMIT_M};

/// concaveman's concavity: lower follows the streets more closely; 2 is its default.
pub const CONCAVITY: f64 = 2.0;

/// Longest service area asked for (minutes).
pub const MAX_MINUTES: f64 = 60.0;

/// One station's service area.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceArea {
    /// The hull (WGS 84).
    pub polygon: Polygon<f64>,
    /// Street vertices reached.
    pub vertices: usize,
    /// Metres from the station to its street.
    pub snap_m: f64,
}

/// The service area of a point within `max_s` seconds on `net`, or `None` when the
/// point is off the network or reaches fewer than three points.
pub fn service_area(net: &Network, at: LonLat, max_s: f64) -> Option<ServiceArea> {
    let snap = net.snap_within(at, SNAP_LIMIT_M).ok()?;
    let reached = net.within_time(&snap, max_s);
    let mut pts: Vec<Point<f64>> = vec![Point::new(at.lon, at.lat)];
    for &(v, s) in &reached {
        let a = net.node(v);
        pts.push(Point::new(a.lon, a.lat));
        for &(w, ms, _) in net.out_edges(v) {
            let edge_s = f64::from(ms) / 1000.0;
            if ms > 0 && s + edge_s > max_s {
                let f = ((max_s - s) / edge_s).clamp(0.0, 1.0);
                let b = net.node(w);
                pts.push(Point::new(
                    a.lon + (b.lon - a.lon) * f,
                    a.lat + (b.lat - a.lat) * f,
                ));
            }
        }
    }
    if pts.len() < 3 {
        return None;
    }
    let polygon =
        MultiPoint::new(pts).concave_hull_with_options(geo::concave_hull::ConcaveHullOptions {
            concavity: CONCAVITY,
            length_threshold: 0.0,
        });
    Some(ServiceArea {
        polygon,
        vertices: reached.len(),
        snap_m: snap.distance_m,
    })
}

/// The service areas of `stations` within `minutes` on `net` as GeoJSON features
/// (on all cores): properties `station_id`, `name`, `mode`, `minutes`,
/// `area_m2` (geodesic), `vertices`, `snap_m`. Stations off the network are left
/// out.
pub fn service_area_features(
    net: &Network,
    stations: &[&Station],
    minutes: f64,
    crs: Crs,
) -> Vec<Feature> {
    let max_s = minutes * 60.0;
    stations
        .par_iter()
        .filter_map(|s| {
            let a = service_area(net, s.location, max_s)?;
            let mut props = JsonObject::new();
            props.insert("station_id".into(), json!(s.id));
            props.insert(
                "name".into(),
                json!(s.name_zh.clone().unwrap_or_else(|| s.name.clone())),
            );
            props.insert("mode".into(), json!(net.profile().mode.as_str()));
            props.insert("minutes".into(), json!(minutes));
            props.insert(
                "area_m2".into(),
                json!((a.polygon.geodesic_area_unsigned()).round()),
            );
            props.insert("vertices".into(), json!(a.vertices));
            props.insert("snap_m".into(), json!((a.snap_m * 10.0).round() / 10.0));
            Some(Feature {
                bbox: None,
                geometry: Some(yizhan_core::io::polygon_geometry(&a.polygon, crs)),
                id: Some(geojson::feature::Id::String(format!(
                    "{}-{minutes}min",
                    s.id
                ))),
                properties: Some(props),
                foreign_members: None,
            })
        })
        .collect()
}
