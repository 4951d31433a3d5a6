//! Service areas on the sample town's streets against a plain Dijkstra over the
//! graph's edges: every street vertex surely within the time is inside the
//! station's polygon, and few vertices far beyond it are.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use geo::Intersects;
use yizhan_core::Dataset;
use yizhan_net::{Mode, Network, Networks};
use yizhan_plan::service_area::service_area;

/// Seconds from either end of edge `e` (a lower bound of the time from a point on
/// it) to every vertex, by a plain Dijkstra over the edge list.
fn lower_bounds(net: &Network, e: u32) -> Vec<f64> {
    let n = net.nodes().len();
    let mut adj: Vec<Vec<(usize, u64)>> = vec![Vec::new(); n];
    for ed in net.edges() {
        if ed.forward_ms > 0 {
            adj[ed.a as usize].push((ed.b as usize, u64::from(ed.forward_ms)));
        }
        if ed.backward_ms > 0 {
            adj[ed.b as usize].push((ed.a as usize, u64::from(ed.backward_ms)));
        }
    }
    let mut best = vec![u64::MAX; n];
    let mut heap = BinaryHeap::new();
    let edge = &net.edges()[e as usize];
    for v in [edge.a as usize, edge.b as usize] {
        best[v] = 0;
        heap.push(Reverse((0u64, v)));
    }
    while let Some(Reverse((d, v))) = heap.pop() {
        if d > best[v] {
            continue;
        }
        for &(w, c) in &adj[v] {
            if d + c < best[w] {
                best[w] = d + c;
                heap.push(Reverse((d + c, w)));
            }
        }
    }
    best.iter()
        .map(|&b| {
            if b == u64::MAX {
                f64::INFINITY
            } else {
                b as f64 / 1000.0
            }
        })
        .collect()
}

#[test]
fn service_areas_hold_what_is_reachable_and_little_else() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/anhai");
    let ds = Dataset::load_dir(&dir).unwrap();
    let (nets, _) = Networks::for_dataset_dir(&dir)
        .unwrap()
        .expect("the sample has roads");
    let mut checked = 0;
    for mode in [Mode::Walk, Mode::Ebike] {
        let net = nets.get(mode);
        for s in ds.stations.items().iter().step_by(3) {
            let mut last_area = 0.0;
            for minutes in [3.0, 6.0] {
                let max_s = minutes * 60.0;
                let Some(a) = service_area(net, s.location, max_s) else {
                    continue;
                };
                let snap = net.snap(s.location).unwrap();
                let e = &net.edges()[snap.edge as usize];
                // Reaching the street and either end of its edge takes at most this.
                let slack = f64::from(e.forward_ms.max(e.backward_ms)) / 1000.0 + snap.distance_m;
                let lb = lower_bounds(net, snap.edge);
                let (mut sure, mut far, mut far_inside) = (0, 0, 0);
                for (v, &t) in lb.iter().enumerate() {
                    let p = net.node(v as u32);
                    let inside = a.polygon.intersects(&geo::Point::new(p.lon, p.lat));
                    if t + slack <= max_s {
                        sure += 1;
                        assert!(
                            inside,
                            "{} {mode:?} {minutes} min: vertex {v} at {t:.0} s outside",
                            s.id
                        );
                    } else if t > 2.0 * max_s + slack {
                        far += 1;
                        far_inside += usize::from(inside);
                    }
                }
                checked += sure;
                assert!(
                    far_inside * 10 <= far,
                    "{} {mode:?} {minutes} min: {far_inside} of {far} far vertices inside",
                    s.id
                );
                let area = geo::Area::unsigned_area(&a.polygon);
                assert!(area > last_area, "{}: the area grows with the time", s.id);
                last_area = area;
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} vertices were surely reachable"
    );
}
