//! Network nearest against a plain Dijkstra from the query point to every item,
//! on seeded random street grids (one-way streets, footways, steps, motorways).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

mod common;

use common::random_town;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::index::{GeoIndex, Place};
use yizhan_net::{Mode, Network, Networks, Snap, SNAP_LIMIT_M};

#[derive(PartialEq)]
struct Item(f64, u32);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0)
    }
}

/// Plain Dijkstra (binary heap) from the snapped query point over every vertex;
/// milliseconds, fractions of the split edges exact.
fn plain_dijkstra(net: &Network, from: &Snap) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; net.nodes().len()];
    let mut heap = BinaryHeap::new();
    let e = net.edges()[from.edge as usize];
    if e.forward_ms > 0 {
        let w = (1.0 - from.t) * e.forward_ms as f64;
        dist[e.b as usize] = dist[e.b as usize].min(w);
        heap.push(Item(w, e.b));
    }
    if e.backward_ms > 0 {
        let w = from.t * e.backward_ms as f64;
        dist[e.a as usize] = dist[e.a as usize].min(w);
        heap.push(Item(w, e.a));
    }
    while let Some(Item(d, v)) = heap.pop() {
        if d > dist[v as usize] {
            continue;
        }
        for &(w, ms, _) in net.out_edges(v) {
            let nd = d + ms as f64;
            if nd < dist[w as usize] {
                dist[w as usize] = nd;
                heap.push(Item(nd, w));
            }
        }
    }
    dist
}

/// Seconds from the query point to `p` by the oracle.
fn oracle_time(net: &Network, q: &Snap, dist: &[f64], p: LonLat) -> Option<f64> {
    let s = net.snap(p)?;
    if s.distance_m > SNAP_LIMIT_M {
        return None;
    }
    let e = net.edges()[s.edge as usize];
    let mut best = f64::INFINITY;
    if e.forward_ms > 0 {
        best = best.min(dist[e.a as usize] + s.t * e.forward_ms as f64);
    }
    if e.backward_ms > 0 {
        best = best.min(dist[e.b as usize] + (1.0 - s.t) * e.backward_ms as f64);
    }
    if s.edge == q.edge {
        if s.t >= q.t && e.forward_ms > 0 {
            best = best.min((s.t - q.t) * e.forward_ms as f64);
        }
        if s.t <= q.t && e.backward_ms > 0 {
            best = best.min((q.t - s.t) * e.backward_ms as f64);
        }
    }
    let walk = (q.distance_m + s.distance_m) / (net.profile().connector_kmh / 3.6);
    best.is_finite().then_some(best / 1000.0 + walk)
}

#[test]
fn network_nearest_equals_a_plain_dijkstra_to_every_item() {
    let mut checked = 0;
    for seed in 0..6u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let roads = random_town(&mut rng, 9);
        let nets = Networks::build(&roads).unwrap();
        let places: Vec<Place> = (0..60)
            .map(|i| Place {
                id: format!("S{i:02}"),
                at: LonLat::new(
                    118.399 + rng.random_range(0.0..0.018),
                    24.699 + rng.random_range(0.0..0.018),
                )
                .unwrap(),
            })
            .collect();
        let index = GeoIndex::new(places);
        let keep = |p: &Place| !p.id.ends_with('3');
        for mode in Mode::ALL {
            let net = nets.get(mode);
            for _ in 0..15 {
                let q = LonLat::new(
                    118.4 + rng.random_range(0.0..0.016),
                    24.7 + rng.random_range(0.0..0.016),
                )
                .unwrap();
                let k = rng.random_range(1..8);
                let Ok(got) = net.nearest(&index, q, k, SNAP_LIMIT_M, keep) else {
                    assert!(net.snap(q).unwrap().distance_m > SNAP_LIMIT_M);
                    continue;
                };
                let qs = net.snap(q).unwrap();
                let dist = plain_dijkstra(net, &qs);
                let mut want: Vec<(f64, &str)> = index
                    .items()
                    .iter()
                    .filter(|p| keep(p))
                    .filter_map(|p| Some((oracle_time(net, &qs, &dist, p.at)?, p.id.as_str())))
                    .collect();
                want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
                want.truncate(k);
                assert_eq!(got.len(), want.len(), "seed {seed} {mode} k {k}");
                for (g, w) in got.iter().zip(&want) {
                    let item = &index.items()[g.index];
                    assert!(keep(item), "the filter is honoured");
                    assert!(
                        (g.route.time_s - w.0).abs() < 0.005,
                        "seed {seed} {mode}: {} {} vs {} {}",
                        item.id,
                        g.route.time_s,
                        w.1,
                        w.0
                    );
                    let own = oracle_time(net, &qs, &dist, item.at).unwrap();
                    assert!((g.route.time_s - own).abs() < 0.005);
                    let line_m: f64 = g
                        .route
                        .line
                        .windows(2)
                        .map(|w| haversine_m(w[0], w[1]))
                        .sum();
                    assert!(
                        (line_m - g.route.metres).abs() < 0.01 * g.route.metres.max(1.0),
                        "{line_m} {}",
                        g.route.metres
                    );
                    assert!(g.route.metres + 1e-6 >= g.straight_m);
                    assert_eq!(g.route.line.first(), Some(&q));
                    assert_eq!(g.route.line.last(), Some(&item.at));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} answers checked");
}
