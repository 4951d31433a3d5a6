//! The routing graph of one profile, built from the roads layer.
//!
//! Every coordinate of a usable way is a vertex; ways that share a coordinate
//! (exactly, as OpenStreetMap ways share nodes) meet there. Each pair of
//! consecutive coordinates is an [`Edge`] with its geodesic length
//! ([`yizhan_core::geodesy::haversine_m`]) and its travel time in each direction
//! in whole milliseconds (0 = not allowed). Only the largest strongly connected
//! part is kept (every kept vertex reaches every other), and [`BuildReport`] says
//! what was dropped. Shortest paths use a contraction hierarchy prepared by
//! `fast_paths`.

use std::collections::HashMap;
use std::sync::Mutex;

use fast_paths::{FastGraph, InputGraph, PathCalculator};
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;
use serde::{Deserialize, Serialize};
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::model::Road;

use crate::error::NetError;
use crate::profile::Profile;

/// A street segment between two vertices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// First vertex (the way's direction is `a` → `b`).
    pub a: u32,
    /// Second vertex.
    pub b: u32,
    /// Geodesic length, metres.
    pub length_m: f64,
    /// Milliseconds from `a` to `b`; 0 when that direction is not allowed.
    pub forward_ms: u32,
    /// Milliseconds from `b` to `a`; 0 when that direction is not allowed.
    pub backward_ms: u32,
    /// Position of the way in the roads layer it was built from.
    pub road: u32,
}

/// What building the graph kept and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Roads given.
    pub roads: usize,
    /// Roads the profile may use.
    pub usable_roads: usize,
    /// Vertices kept (the largest strongly connected part).
    pub nodes: usize,
    /// Edges kept.
    pub edges: usize,
    /// Vertices dropped with the smaller parts.
    pub dropped_nodes: usize,
    /// Edges dropped with the smaller parts.
    pub dropped_edges: usize,
    /// Number of smaller parts dropped.
    pub dropped_parts: usize,
}

/// What a graph file stores of one profile's network (the rest is derived on load).
#[derive(Serialize, Deserialize)]
pub(crate) struct NetworkData {
    pub(crate) profile: Profile,
    pub(crate) nodes: Vec<[f64; 2]>,
    pub(crate) edges: Vec<Edge>,
    pub(crate) report: BuildReport,
    #[serde(
        serialize_with = "fast_paths::serialize_32",
        deserialize_with = "fast_paths::deserialize_32"
    )]
    pub(crate) ch: FastGraph,
}

pub(crate) type SegmentTree = RTree<GeomWithData<Line<[f64; 2]>, u32>>;

/// The routing graph of one profile, ready for queries (shared between threads).
pub struct Network {
    pub(crate) data: NetworkData,
    /// Segments in the local plane of [`Network::plane`], for snapping.
    pub(crate) segments: SegmentTree,
    /// cos(latitude) of the graph's mean latitude: x = lon · c, y = lat.
    pub(crate) plane: f64,
    /// The fastest edge for each directed vertex pair.
    pub(crate) pair: HashMap<(u32, u32), u32>,
    /// Outgoing (vertex, ms, edge) of each vertex.
    pub(crate) out: Vec<Vec<(u32, u32, u32)>>,
    pub(crate) calculators: Mutex<Vec<PathCalculator>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("profile", &self.data.profile)
            .field("report", &self.data.report)
            .finish_non_exhaustive()
    }
}

fn ms(length_m: f64, speed_mps: f64) -> u32 {
    ((length_m / speed_mps * 1000.0).round() as u32).max(1)
}

impl Network {
    /// Builds the graph of `profile` from `roads`.
    ///
    /// Fails with [`NetError::NoRoutableRoads`] when no two usable roads' vertices
    /// connect, and with [`NetError::BadProfile`] on a speed out of range.
    ///
    /// # Examples
    /// ```
    /// use yizhan_core::model::{Road, RoadTags};
    /// use yizhan_net::{Network, Profile};
    /// let road = Road {
    ///     id: "w1".into(),
    ///     line: vec![(118.0, 24.0), (118.001, 24.0), (118.002, 24.0)].into(),
    ///     tags: RoadTags { highway: "residential".into(), ..Default::default() },
    /// };
    /// let net = Network::build(&[road], Profile::walk()).unwrap();
    /// assert_eq!((net.report().nodes, net.report().edges), (3, 2));
    /// ```
    pub fn build(roads: &[Road], profile: Profile) -> Result<Self, NetError> {
        if !profile.is_valid() {
            return Err(NetError::BadProfile { mode: profile.mode });
        }
        let mut ids: HashMap<(u64, u64), u32> = HashMap::new();
        let mut nodes: Vec<[f64; 2]> = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        let mut usable = 0;
        for (ri, road) in roads.iter().enumerate() {
            let Some(acc) = profile.access(&road.tags) else {
                continue;
            };
            usable += 1;
            let mut prev: Option<u32> = None;
            for c in road.line.coords() {
                if LonLat::new(c.x, c.y).is_err() {
                    prev = None;
                    continue;
                }
                let id = *ids
                    .entry((c.x.to_bits(), c.y.to_bits()))
                    .or_insert_with(|| {
                        nodes.push([c.x, c.y]);
                        (nodes.len() - 1) as u32
                    });
                if let Some(p) = prev.filter(|&p| p != id) {
                    let length_m =
                        haversine_m(lonlat(nodes[p as usize]), lonlat(nodes[id as usize]));
                    let t = ms(length_m, acc.speed_mps);
                    edges.push(Edge {
                        a: p,
                        b: id,
                        length_m,
                        forward_ms: if acc.forward { t } else { 0 },
                        backward_ms: if acc.backward { t } else { 0 },
                        road: ri as u32,
                    });
                }
                prev = Some(id);
            }
        }
        let (keep, parts) = largest_strong_part(nodes.len(), &edges);
        let mut renumber = vec![u32::MAX; nodes.len()];
        let mut kept_nodes = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            if keep[i] {
                renumber[i] = kept_nodes.len() as u32;
                kept_nodes.push(*n);
            }
        }
        let kept_edges: Vec<Edge> = edges
            .iter()
            .filter(|e| keep[e.a as usize] && keep[e.b as usize])
            .map(|e| Edge {
                a: renumber[e.a as usize],
                b: renumber[e.b as usize],
                ..*e
            })
            .collect();
        if kept_nodes.len() < 2 || kept_edges.is_empty() {
            return Err(NetError::NoRoutableRoads {
                mode: profile.mode,
                roads: roads.len(),
            });
        }
        let report = BuildReport {
            roads: roads.len(),
            usable_roads: usable,
            nodes: kept_nodes.len(),
            edges: kept_edges.len(),
            dropped_nodes: nodes.len() - kept_nodes.len(),
            dropped_edges: edges.len() - kept_edges.len(),
            dropped_parts: parts.saturating_sub(1),
        };
        let mut input = InputGraph::new();
        for e in &kept_edges {
            if e.forward_ms > 0 {
                input.add_edge(e.a as usize, e.b as usize, e.forward_ms as usize);
            }
            if e.backward_ms > 0 {
                input.add_edge(e.b as usize, e.a as usize, e.backward_ms as usize);
            }
        }
        input.freeze();
        let ch = fast_paths::prepare(&input);
        Ok(Self::from_data(NetworkData {
            profile,
            nodes: kept_nodes,
            edges: kept_edges,
            report,
            ch,
        }))
    }

    /// The derived parts (segment tree, adjacency) of stored data.
    pub(crate) fn from_data(data: NetworkData) -> Self {
        let mean_lat =
            data.nodes.iter().map(|n| n[1]).sum::<f64>() / data.nodes.len().max(1) as f64;
        let plane = mean_lat.to_radians().cos().max(1e-6);
        let xy = |n: [f64; 2]| [n[0] * plane, n[1]];
        let segments = RTree::bulk_load(
            data.edges
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    GeomWithData::new(
                        Line::new(xy(data.nodes[e.a as usize]), xy(data.nodes[e.b as usize])),
                        i as u32,
                    )
                })
                .collect(),
        );
        let mut pair: HashMap<(u32, u32), u32> = HashMap::with_capacity(data.edges.len() * 2);
        let mut out = vec![Vec::new(); data.nodes.len()];
        for (i, e) in data.edges.iter().enumerate() {
            let i = i as u32;
            for (u, v, t) in [(e.a, e.b, e.forward_ms), (e.b, e.a, e.backward_ms)] {
                if t == 0 {
                    continue;
                }
                out[u as usize].push((v, t, i));
                let slot = pair.entry((u, v)).or_insert(i);
                let cur = &data.edges[*slot as usize];
                let cur_t = if cur.a == u {
                    cur.forward_ms
                } else {
                    cur.backward_ms
                };
                if t < cur_t {
                    *slot = i;
                }
            }
        }
        Self {
            data,
            segments,
            plane,
            pair,
            out,
            calculators: Mutex::new(Vec::new()),
        }
    }

    /// The profile the graph was built for.
    pub fn profile(&self) -> &Profile {
        &self.data.profile
    }

    /// What building kept and dropped.
    pub fn report(&self) -> &BuildReport {
        &self.data.report
    }

    /// The vertices (lon, lat).
    pub fn nodes(&self) -> &[[f64; 2]] {
        &self.data.nodes
    }

    /// The position of vertex `i`.
    pub fn node(&self, i: u32) -> LonLat {
        lonlat(self.data.nodes[i as usize])
    }

    /// The edges.
    pub fn edges(&self) -> &[Edge] {
        &self.data.edges
    }

    /// The outgoing (vertex, milliseconds, edge) of vertex `i`.
    pub fn out_edges(&self, i: u32) -> &[(u32, u32, u32)] {
        &self.out[i as usize]
    }

    /// The graph's extent: (west, south, east, north).
    pub fn extent(&self) -> [f64; 4] {
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for n in &self.data.nodes {
            e = [
                e[0].min(n[0]),
                e[1].min(n[1]),
                e[2].max(n[0]),
                e[3].max(n[1]),
            ];
        }
        e
    }

    pub(crate) fn with_calculator<R>(&self, f: impl FnOnce(&mut PathCalculator) -> R) -> R {
        let taken = self.calculators.lock().ok().and_then(|mut v| v.pop());
        let mut calc = taken.unwrap_or_else(|| fast_paths::create_calculator(&self.data.ch));
        let r = f(&mut calc);
        if let Ok(mut v) = self.calculators.lock() {
            if v.len() < 64 {
                v.push(calc);
            }
        }
        r
    }
}

/// A stored (lon, lat) pair as a position (stored pairs were validated on build).
pub(crate) fn lonlat(n: [f64; 2]) -> LonLat {
    LonLat {
        lon: n[0],
        lat: n[1],
    }
}

/// Marks the vertices of the largest strongly connected part (ties: the one
/// holding the lowest vertex), and counts the parts that have an edge or are
/// isolated vertices. Kosaraju's algorithm, iterative (`pathfinding`'s Tarjan
/// recurses once per vertex, too deep for a city's chains of way vertices).
fn largest_strong_part(n: usize, edges: &[Edge]) -> (Vec<bool>, usize) {
    let mut fwd = vec![Vec::new(); n];
    let mut bwd = vec![Vec::new(); n];
    for e in edges {
        if e.forward_ms > 0 {
            fwd[e.a as usize].push(e.b);
            bwd[e.b as usize].push(e.a);
        }
        if e.backward_ms > 0 {
            fwd[e.b as usize].push(e.a);
            bwd[e.a as usize].push(e.b);
        }
    }
    // Pass 1: vertices in order of finishing time on the forward graph.
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for s in 0..n {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let mut stack = vec![(s as u32, 0usize)];
        while let Some((v, i)) = stack.last_mut() {
            let adj = &fwd[*v as usize];
            if *i < adj.len() {
                let w = adj[*i];
                *i += 1;
                if !seen[w as usize] {
                    seen[w as usize] = true;
                    stack.push((w, 0));
                }
            } else {
                order.push(*v);
                stack.pop();
            }
        }
    }
    // Pass 2: components on the reversed graph, in reverse finishing order.
    let mut comp = vec![u32::MAX; n];
    let mut sizes: Vec<usize> = Vec::new();
    for &s in order.iter().rev() {
        if comp[s as usize] != u32::MAX {
            continue;
        }
        let c = sizes.len() as u32;
        sizes.push(0);
        comp[s as usize] = c;
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            sizes[c as usize] += 1;
            for &w in &bwd[v as usize] {
                if comp[w as usize] == u32::MAX {
                    comp[w as usize] = c;
                    stack.push(w);
                }
            }
        }
    }
    let best = (0..sizes.len()).max_by_key(|&c| (sizes[c], std::cmp::Reverse(c)));
    let keep = match best {
        Some(b) => comp.iter().map(|&c| c as usize == b).collect(),
        None => vec![false; n],
    };
    (keep, sizes.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profile::Profile;
    use yizhan_core::model::RoadTags;

    pub(crate) fn road(id: &str, pts: &[(f64, f64)], highway: &str, oneway: Option<&str>) -> Road {
        Road {
            id: id.into(),
            line: pts.to_vec().into(),
            tags: RoadTags {
                highway: highway.into(),
                oneway: oneway.map(str::to_string),
                ..Default::default()
            },
        }
    }

    #[test]
    fn shared_coordinates_join_ways_and_islands_are_dropped() {
        let roads = vec![
            road(
                "w1",
                &[(24.0, 60.0), (24.001, 60.0), (24.002, 60.0)],
                "residential",
                None,
            ),
            road("w2", &[(24.001, 60.0), (24.001, 60.001)], "footway", None),
            // an island far away
            road("w3", &[(24.1, 60.1), (24.101, 60.1)], "residential", None),
            // not walkable
            road("w4", &[(24.002, 60.0), (24.003, 60.0)], "motorway", None),
        ];
        let net = Network::build(&roads, Profile::walk()).unwrap();
        let r = *net.report();
        assert_eq!((r.nodes, r.edges), (4, 3));
        assert_eq!(
            (r.dropped_nodes, r.dropped_edges, r.dropped_parts),
            (2, 1, 1)
        );
        assert_eq!((r.roads, r.usable_roads), (4, 3));
        let e = net.edges()[0];
        let expect = haversine_m(net.node(e.a), net.node(e.b));
        assert!((e.length_m - expect).abs() < 1e-9 && (50.0..60.0).contains(&e.length_m));
        assert_eq!(
            e.forward_ms,
            (e.length_m / (4.5 / 3.6) * 1000.0).round() as u32
        );
    }

    #[test]
    fn a_one_way_dead_end_is_not_strongly_connected() {
        // A square of two-way streets with a one-way spur out of it: the spur's end
        // cannot be left by e-bike, so it is dropped for the e-bike, kept for walking.
        let roads = vec![
            road(
                "w1",
                &[
                    (24.0, 60.0),
                    (24.001, 60.0),
                    (24.001, 60.001),
                    (24.0, 60.001),
                    (24.0, 60.0),
                ],
                "residential",
                None,
            ),
            road(
                "w2",
                &[(24.001, 60.0), (24.002, 60.0)],
                "residential",
                Some("yes"),
            ),
        ];
        let bike = Network::build(&roads, Profile::ebike()).unwrap();
        assert_eq!((bike.report().nodes, bike.report().dropped_nodes), (4, 1));
        let walk = Network::build(&roads, Profile::walk()).unwrap();
        assert_eq!((walk.report().nodes, walk.report().dropped_nodes), (5, 0));
    }

    #[test]
    fn no_usable_road_is_an_error() {
        let roads = vec![road(
            "w1",
            &[(24.0, 60.0), (24.001, 60.0)],
            "motorway",
            None,
        )];
        let err = Network::build(&roads, Profile::walk()).unwrap_err();
        assert!(
            matches!(err, NetError::NoRoutableRoads { roads: 1, .. }),
            "{err}"
        );
        assert!(Network::build(&[], Profile::ebike()).is_err());
        let bad = Profile {
            street_kmh: f64::NAN,
            ..Profile::walk()
        };
        assert!(matches!(
            Network::build(&roads, bad),
            Err(NetError::BadProfile { .. })
        ));
    }
}
