//! The planning cost matrix (one bounded Dijkstra per site over the reversed graph)
//! against a plain forward Dijkstra from each demand point over the whole graph,
//! on seeded random street grids, for both profiles and both metrics.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

mod common;

use common::random_town;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::geodesy::LonLat;
use yizhan_net::matrix::Metric;
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

/// An edge's cost one way in `metric` (ms or metres), None when not allowed.
fn weight(net: &Network, edge: u32, forward: bool, metric: Metric) -> Option<f64> {
    let e = net.edges()[edge as usize];
    let ms = if forward { e.forward_ms } else { e.backward_ms };
    (ms > 0).then_some(match metric {
        Metric::Time => ms as f64,
        Metric::Metres => e.length_m,
    })
}

/// Plain unbounded Dijkstra from a snapped point over every vertex.
fn plain_dijkstra(net: &Network, from: &Snap, metric: Metric) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; net.nodes().len()];
    let mut heap = BinaryHeap::new();
    let e = net.edges()[from.edge as usize];
    if let Some(w) = weight(net, from.edge, true, metric) {
        let w = (1.0 - from.t) * w;
        dist[e.b as usize] = dist[e.b as usize].min(w);
        heap.push(Item(w, e.b));
    }
    if let Some(w) = weight(net, from.edge, false, metric) {
        let w = from.t * w;
        dist[e.a as usize] = dist[e.a as usize].min(w);
        heap.push(Item(w, e.a));
    }
    while let Some(Item(d, v)) = heap.pop() {
        if d > dist[v as usize] {
            continue;
        }
        for &(u, _, edge) in net.out_edges(v) {
            let fwd = net.edges()[edge as usize].a == v;
            let Some(w) = weight(net, edge, fwd, metric) else {
                continue;
            };
            if d + w < dist[u as usize] {
                dist[u as usize] = d + w;
                heap.push(Item(d + w, u));
            }
        }
    }
    dist
}

/// The oracle's cost (seconds or metres) from snapped `q` to the point `p`.
fn oracle(net: &Network, q: &Snap, dist: &[f64], p: LonLat, metric: Metric) -> Option<f64> {
    let s = net.snap_within(p, SNAP_LIMIT_M).ok()?;
    let e = net.edges()[s.edge as usize];
    let mut best = f64::INFINITY;
    if let Some(w) = weight(net, s.edge, true, metric) {
        best = best.min(dist[e.a as usize] + s.t * w);
    }
    if let Some(w) = weight(net, s.edge, false, metric) {
        best = best.min(dist[e.b as usize] + (1.0 - s.t) * w);
    }
    if s.edge == q.edge {
        if let (true, Some(w)) = (s.t >= q.t, weight(net, s.edge, true, metric)) {
            best = best.min((s.t - q.t) * w);
        }
        if let (true, Some(w)) = (s.t <= q.t, weight(net, s.edge, false, metric)) {
            best = best.min((q.t - s.t) * w);
        }
    }
    let snap_m = q.distance_m + s.distance_m;
    let cost = match metric {
        Metric::Time => best / 1000.0 + snap_m / (net.profile().connector_kmh / 3.6),
        Metric::Metres => best + snap_m,
    };
    cost.is_finite().then_some(cost)
}

fn random_points(rng: &mut ChaCha8Rng, n: usize) -> Vec<LonLat> {
    (0..n)
        .map(|_| {
            LonLat::new(
                118.399 + rng.random_range(0.0..0.018),
                24.699 + rng.random_range(0.0..0.018),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn the_cost_matrix_equals_a_plain_dijkstra_from_each_demand_point() {
    let mut pairs = 0;
    let mut outside = 0;
    for seed in 0..5u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let nets = Networks::build(&random_town(&mut rng, 9)).unwrap();
        let demand = random_points(&mut rng, 40);
        // some sites on the demand points' own edges: the along-one-edge case
        let mut sites = random_points(&mut rng, 25);
        sites.extend(
            demand
                .iter()
                .take(5)
                .map(|p| LonLat::new(p.lon + 0.0001, p.lat).unwrap()),
        );
        for mode in Mode::ALL {
            let net = nets.get(mode);
            for (metric, cutoff) in [(Metric::Time, 300.0), (Metric::Metres, 900.0)] {
                let m = net.cost_matrix(&demand, &sites, metric, cutoff, SNAP_LIMIT_M);
                assert_eq!(m.rows.len(), demand.len());
                for (i, &d) in demand.iter().enumerate() {
                    let Ok(q) = net.snap_within(d, SNAP_LIMIT_M) else {
                        assert!(m.rows[i].is_empty() && m.off_network_origins.contains(&i));
                        continue;
                    };
                    let dist = plain_dijkstra(net, &q, metric);
                    let mut want: Vec<(u32, f64)> = sites
                        .iter()
                        .enumerate()
                        .filter_map(|(j, &s)| Some((j as u32, oracle(net, &q, &dist, s, metric)?)))
                        .collect();
                    outside += want.iter().filter(|w| w.1 > cutoff).count();
                    want.retain(|w| w.1 <= cutoff - 1e-6);
                    let got = &m.rows[i];
                    assert!(got
                        .windows(2)
                        .all(|w| w[0].1.get(metric) <= w[1].1.get(metric)));
                    for (j, c) in &want {
                        let g = got.iter().find(|g| g.0 == *j).unwrap_or_else(|| {
                            panic!("seed {seed} {mode} {metric:?}: site {j} at {c} missing")
                        });
                        assert!(
                            (g.1.get(metric) - c).abs() < 1e-6,
                            "seed {seed} {mode} {metric:?} {i}->{j}: {} vs {c}",
                            g.1.get(metric)
                        );
                        // the carried measure is that of a real path: never shorter than the line
                        assert!(g.1.metres >= d.distance_m(sites[*j as usize]) - 0.01);
                        pairs += 1;
                    }
                    assert!(got.iter().all(|g| g.1.get(metric) <= cutoff));
                    assert_eq!(
                        got.len(),
                        want.len()
                            + got
                                .iter()
                                .filter(|g| (g.1.get(metric) - cutoff).abs() < 1e-6)
                                .count()
                    );
                }
            }
        }
    }
    // the check is not empty, and the cutoff cut something
    assert!(
        pairs > 1000 && outside > 1000,
        "{pairs} pairs, {outside} beyond the cutoff"
    );
}

#[test]
fn a_matrix_entry_equals_the_route() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let nets = Networks::build(&random_town(&mut rng, 8)).unwrap();
    let demand = random_points(&mut rng, 20);
    let sites = random_points(&mut rng, 10);
    for mode in Mode::ALL {
        let net = nets.get(mode);
        let m = net.cost_matrix(&demand, &sites, Metric::Time, 1e9, SNAP_LIMIT_M);
        let mut n = 0;
        for (i, row) in m.rows.iter().enumerate() {
            for (j, c) in row {
                let (a, b) = (demand[i], sites[*j as usize]);
                let r = net
                    .route(a, &net.snap(a).unwrap(), b, &net.snap(b).unwrap())
                    .unwrap();
                // the CH rounds partial edges to whole ms
                assert!(
                    (r.time_s - c.time_s).abs() < 0.005,
                    "{mode} {i}->{j}: {r:?} vs {c:?}"
                );
                n += 1;
            }
        }
        assert!(n > 100, "{n}");
    }
}
