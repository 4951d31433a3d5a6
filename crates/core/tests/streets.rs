//! The sample town's synthetic street network: every point near a street, one
//! connected network, the river kept away from stations, and crossing it costly.

use std::collections::{BTreeMap, BinaryHeap};

use geo::Contains;
use geo_types::Point;
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::model::Road;
use yizhan_core::synth::{self, SynthDataset, TownInputs};

fn sample() -> SynthDataset {
    let inputs = TownInputs::bundled().expect("bundled inputs");
    synth::town(synth::SAMPLE_SEED, &inputs).expect("town")
}

fn ll(c: &geo_types::Coord<f64>) -> LonLat {
    LonLat { lon: c.x, lat: c.y }
}

/// Metres from p to the segment a–b, in a local equirectangular frame at p.
fn to_segment(p: LonLat, a: LonLat, b: LonLat) -> f64 {
    let kx = 111_195.0 * p.lat.to_radians().cos();
    let ky = 111_195.0;
    let (ax, ay) = ((a.lon - p.lon) * kx, (a.lat - p.lat) * ky);
    let (bx, by) = ((b.lon - p.lon) * kx, (b.lat - p.lat) * ky);
    let (dx, dy) = (bx - ax, by - ay);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (-(ax * dx + ay * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ax + t * dx).hypot(ay + t * dy)
}

fn nearest_street_m(roads: &[Road], p: LonLat) -> f64 {
    roads
        .iter()
        .flat_map(|r| {
            r.line
                .0
                .windows(2)
                .map(|w| to_segment(p, ll(&w[0]), ll(&w[1])))
        })
        .fold(f64::MAX, f64::min)
}

/// The undirected graph of the roads (vertices at shared coordinates), edges in metres.
fn graph(roads: &[Road]) -> (Vec<LonLat>, Vec<Vec<(usize, f64)>>) {
    let mut ids: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    let mut pts = Vec::new();
    let mut adj: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut id = |c: &geo_types::Coord<f64>, pts: &mut Vec<LonLat>, adj: &mut Vec<Vec<_>>| {
        *ids.entry((c.x.to_bits(), c.y.to_bits()))
            .or_insert_with(|| {
                pts.push(ll(c));
                adj.push(Vec::new());
                pts.len() - 1
            })
    };
    for r in roads {
        for w in r.line.0.windows(2) {
            let (a, b) = (id(&w[0], &mut pts, &mut adj), id(&w[1], &mut pts, &mut adj));
            let d = haversine_m(pts[a], pts[b]);
            adj[a].push((b, d));
            adj[b].push((a, d));
        }
    }
    (pts, adj)
}

/// Plain Dijkstra: metres from `s` to every vertex.
fn dijkstra(adj: &[Vec<(usize, f64)>], s: usize) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; adj.len()];
    let mut heap = BinaryHeap::new();
    dist[s] = 0.0;
    heap.push((std::cmp::Reverse(0u64), s));
    while let Some((std::cmp::Reverse(d), v)) = heap.pop() {
        let d = f64::from_bits(d);
        if d > dist[v] {
            continue;
        }
        for &(w, l) in &adj[v] {
            if d + l < dist[w] {
                dist[w] = d + l;
                heap.push((std::cmp::Reverse((d + l).to_bits()), w));
            }
        }
    }
    dist
}

#[test]
fn every_station_hotspot_and_candidate_is_near_a_street() {
    let t = sample();
    assert!(t.roads.len() > 100, "{} roads", t.roads.len());
    let points = t
        .stations
        .iter()
        .map(|s| (s.id.as_str(), s.location))
        .chain(t.hotspots.iter().map(|h| (h.id.as_str(), h.location)))
        .chain(t.candidates.iter().map(|c| (c.id.as_str(), c.location)));
    let mut worst: (f64, &str) = (0.0, "");
    for (id, p) in points {
        let d = nearest_street_m(&t.roads, p);
        if d > worst.0 {
            worst = (d, id);
        }
    }
    assert!(
        worst.0 <= synth::TOWN_STREET_REACH_M,
        "{} is {:.0} m from the nearest street",
        worst.1,
        worst.0
    );
    // Far from every point a street is not: the check can fail.
    let sea = LonLat::new(118.40, 24.60).unwrap();
    assert!(nearest_street_m(&t.roads, sea) > 1_000.0);
}

#[test]
fn the_network_is_one_piece_tagged_like_openstreetmap() {
    let t = sample();
    let (pts, adj) = graph(&t.roads);
    let d = dijkstra(&adj, 0);
    let apart = d.iter().filter(|x| x.is_infinite()).count();
    assert_eq!(
        apart,
        0,
        "{apart} of {} vertices cannot be reached",
        pts.len()
    );
    let count = |f: &dyn Fn(&Road) -> bool| t.roads.iter().filter(|r| f(r)).count();
    for class in [
        "primary",
        "secondary",
        "tertiary",
        "residential",
        "unclassified",
        "footway",
        "path",
    ] {
        assert!(count(&|r| r.tags.highway == class) > 0, "no {class}");
    }
    assert!(count(&|r| r.tags.oneway.as_deref() == Some("yes")) >= 2);
    let bridges = count(&|r| r.tags.bridge.as_deref() == Some("yes"));
    assert_eq!(bridges, 4, "three road bridges and a footbridge");
    assert!(count(&|r| r.tags.name_zh.is_some()) > 20);
    let ids: std::collections::BTreeSet<&str> = t.roads.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), t.roads.len(), "road ids are unique");
}

#[test]
fn the_river_keeps_off_the_stations_and_crossing_it_is_a_detour() {
    let t = sample();
    let water = t.water.as_ref().expect("the town has a river");
    assert!(!water.geometry.0.is_empty());
    for s in &t.stations {
        let p = Point::new(s.location.lon, s.location.lat);
        assert!(!water.geometry.contains(&p), "{} stands in the river", s.id);
    }
    // Vertices of the two bank roads that face each other: 100 m apart in a straight
    // line, and (between bridges) far more by road.
    let (pts, adj) = graph(&t.roads);
    let bank = |zh: &str| -> Vec<usize> {
        let mut v: Vec<usize> = t
            .roads
            .iter()
            .filter(|r| r.tags.name_zh.as_deref() == Some(zh))
            .flat_map(|r| r.line.0.iter())
            .filter_map(|c| pts.iter().position(|p| p.lon == c.x && p.lat == c.y))
            .collect();
        v.dedup();
        v
    };
    let (north, south) = (bank("滨河北路"), bank("滨河南路"));
    assert!(!north.is_empty() && !south.is_empty());
    let mut best_ratio: f64 = 0.0;
    for &n in north.iter().step_by(5) {
        let d = dijkstra(&adj, n);
        for &s in &south {
            let straight = haversine_m(pts[n], pts[s]);
            if straight < 400.0 {
                best_ratio = best_ratio.max(d[s] / straight);
            }
        }
    }
    assert!(
        best_ratio > 5.0,
        "crossing the river is at most {best_ratio:.1}× the straight line"
    );
}
