//! Snapping points to streets, shortest routes between snapped points, the k
//! nearest items by travel time, and everything within a travel time.
//!
//! A point snaps to the nearest **edge** (an R-tree of segments in a local plane:
//! x = lon · cos φ̄, y = lat, φ̄ the graph's mean latitude), at the foot of the
//! perpendicular, which splits the edge; the snap distance is the haversine metres
//! from the point to that foot. A point farther than the limit (by default
//! [`SNAP_LIMIT_M`]) is not routed. A route's time is the walk from the point to its
//! foot at the profile's connector speed, the network part, and the walk from the
//! far foot to the target; its metres and its line include both walks.

use std::collections::HashMap;

use rstar::PointDistance;
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::index::{GeoIndex, Located};

use crate::error::NetError;
use crate::graph::{lonlat, Network};

/// The farthest a point may lie from a street to be routed, metres.
pub const SNAP_LIMIT_M: f64 = 500.0;

/// A point's position on the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The edge it lies on.
    pub edge: u32,
    /// Where on the edge: 0 at its `a`, 1 at its `b`.
    pub t: f64,
    /// The snapped position.
    pub at: LonLat,
    /// Haversine metres from the point to `at`.
    pub distance_m: f64,
}

/// A route between two points.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Travel time, seconds.
    pub time_s: f64,
    /// Length of `line`, metres (the walks to and from the streets included).
    pub metres: f64,
    /// From the start point along the streets to the end point.
    pub line: Vec<LonLat>,
}

/// One answer of [`Network::nearest`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetHit {
    /// Position of the item in the index's items.
    pub index: usize,
    /// Straight-line (haversine) metres from the query point.
    pub straight_m: f64,
    /// How far the item lies from its street, metres.
    pub snap_m: f64,
    /// The route from the query point to it.
    pub route: Route,
}

/// A way out of (or into) a snapped point: vertex, milliseconds, metres.
type Leg = (u32, f64, f64);

impl Network {
    /// The nearest position on any edge, whatever the distance.
    pub fn snap(&self, p: LonLat) -> Option<Snap> {
        let q = [p.lon * self.plane, p.lat];
        let seg = self.segments.nearest_neighbor(&q)?;
        let line = seg.geom();
        let (a, b) = (line.from, line.to);
        let d = [b[0] - a[0], b[1] - a[1]];
        let len2 = d[0] * d[0] + d[1] * d[1];
        let t = if len2 > 0.0 {
            (((q[0] - a[0]) * d[0] + (q[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let e = &self.data.edges[seg.data as usize];
        let (na, nb) = (self.data.nodes[e.a as usize], self.data.nodes[e.b as usize]);
        let at = lonlat([na[0] + t * (nb[0] - na[0]), na[1] + t * (nb[1] - na[1])]);
        debug_assert!(line.distance_2(&q).is_finite());
        Some(Snap {
            edge: seg.data,
            t,
            at,
            distance_m: haversine_m(p, at),
        })
    }

    /// [`Network::snap`], refused when farther than `limit_m` ([`NetError::OffNetwork`]).
    pub fn snap_within(&self, p: LonLat, limit_m: f64) -> Result<Snap, NetError> {
        let s = self.snap(p).ok_or(NetError::OffNetwork {
            distance_m: f64::INFINITY,
            limit_m,
            mode: self.data.profile.mode,
        })?;
        if s.distance_m > limit_m {
            return Err(NetError::OffNetwork {
                distance_m: s.distance_m,
                limit_m,
                mode: self.data.profile.mode,
            });
        }
        Ok(s)
    }

    /// Seconds to walk `m` metres between a point and its street.
    fn connector_s(&self, m: f64) -> f64 {
        m / (self.data.profile.connector_kmh / 3.6)
    }

    /// The ways out of a snapped point along its edge.
    pub(crate) fn exits(&self, s: &Snap) -> Vec<Leg> {
        let e = &self.data.edges[s.edge as usize];
        let mut v = Vec::with_capacity(2);
        if e.forward_ms > 0 {
            v.push((
                e.b,
                (1.0 - s.t) * e.forward_ms as f64,
                (1.0 - s.t) * e.length_m,
            ));
        }
        if e.backward_ms > 0 {
            v.push((e.a, s.t * e.backward_ms as f64, s.t * e.length_m));
        }
        v
    }

    /// The ways into a snapped point along its edge.
    pub(crate) fn entries(&self, s: &Snap) -> Vec<Leg> {
        let e = &self.data.edges[s.edge as usize];
        let mut v = Vec::with_capacity(2);
        if e.forward_ms > 0 {
            v.push((e.a, s.t * e.forward_ms as f64, s.t * e.length_m));
        }
        if e.backward_ms > 0 {
            v.push((
                e.b,
                (1.0 - s.t) * e.backward_ms as f64,
                (1.0 - s.t) * e.length_m,
            ));
        }
        v
    }

    /// Milliseconds and metres from `from` to `to` along their common edge, when
    /// both lie on the same edge and its direction allows it.
    fn along_same_edge(&self, from: &Snap, to: &Snap) -> Option<(f64, f64)> {
        if from.edge != to.edge {
            return None;
        }
        let e = &self.data.edges[from.edge as usize];
        let dt = to.t - from.t;
        if dt >= 0.0 && e.forward_ms > 0 {
            Some((dt * e.forward_ms as f64, dt * e.length_m))
        } else if dt <= 0.0 && e.backward_ms > 0 {
            Some((-dt * e.backward_ms as f64, -dt * e.length_m))
        } else {
            None
        }
    }

    /// The fastest route from point `from_pt` (snapped at `from`) to point `to_pt`
    /// (snapped at `to`), on the contraction hierarchy. `None` only if no path
    /// exists (not within one kept graph, which is strongly connected).
    pub fn route(&self, from_pt: LonLat, from: &Snap, to_pt: LonLat, to: &Snap) -> Option<Route> {
        let exits = self.exits(from);
        let entries = self.entries(to);
        let sources: Vec<_> = exits
            .iter()
            .map(|&(v, w, _)| (v as usize, w.round() as usize))
            .collect();
        let targets: Vec<_> = entries
            .iter()
            .map(|&(v, w, _)| (v as usize, w.round() as usize))
            .collect();
        let via = if sources.is_empty() || targets.is_empty() {
            None
        } else {
            self.with_calculator(|c| {
                c.calc_path_multiple_sources_and_targets(&self.data.ch, sources, targets)
            })
        };
        let direct = self.along_same_edge(from, to);
        let via_ms = via.as_ref().map(|p| p.get_weight() as f64);
        let walk_m = from.distance_m + to.distance_m;
        let walk_s = self.connector_s(from.distance_m) + self.connector_s(to.distance_m);
        let mut line = vec![from_pt, from.at];
        let (net_ms, net_m) = match (direct, via_ms) {
            (Some((dms, dm)), v) if v.is_none_or(|v| dms <= v) => (dms, dm),
            (_, Some(v)) => {
                let path = via?;
                let nodes = path.get_nodes();
                let (first, last) = (*nodes.first()? as u32, *nodes.last()? as u32);
                let out_m = exits.iter().find(|l| l.0 == first)?.2;
                let in_m = entries.iter().find(|l| l.0 == last)?.2;
                let mut m = out_m + in_m;
                for w in nodes.windows(2) {
                    let e = self.pair.get(&(w[0] as u32, w[1] as u32))?;
                    m += self.data.edges[*e as usize].length_m;
                }
                line.extend(nodes.iter().map(|&n| self.node(n as u32)));
                (v, m)
            }
            _ => return None,
        };
        line.push(to.at);
        line.push(to_pt);
        line.dedup();
        Some(Route {
            time_s: net_ms / 1000.0 + walk_s,
            metres: net_m + walk_m,
            line,
        })
    }

    /// The `k` items of `items` accepted by `keep` that are fastest to reach from
    /// `at`, fastest first (ties by id), each with its route. Items farther than
    /// `limit_m` from a street are not routed (left out); the query point too
    /// ([`NetError::OffNetwork`]).
    ///
    /// Exact: items are taken in straight-line order and routed on the contraction
    /// hierarchy until the next item's straight-line metres divided by the
    /// profile's top speed (a lower bound of its travel time, since a route is never
    /// shorter than the straight line) exceed the k-th best time.
    pub fn nearest<T: Located>(
        &self,
        items: &GeoIndex<T>,
        at: LonLat,
        k: usize,
        limit_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<NetHit>, NetError> {
        let from = self.snap_within(at, limit_m)?;
        if k == 0 || items.is_empty() {
            return Ok(Vec::new());
        }
        let vmax = self.data.profile.max_speed_mps();
        let mut cache: HashMap<usize, Option<NetHit>> = HashMap::new();
        let mut m = (k * 4).max(16);
        loop {
            let hits = items.nearest(at, m, None, &keep);
            let exhausted = hits.len() < m;
            let mut best: Vec<NetHit> = Vec::with_capacity(k + 1);
            let mut bounded = false;
            for h in &hits {
                // Each edge's time is rounded to the millisecond: allow for it.
                let lower_s = h.distance_m / vmax * 0.999 - 0.5;
                if best.len() == k && lower_s > best[k - 1].route.time_s {
                    bounded = true;
                    break;
                }
                let hit = cache.entry(h.index).or_insert_with(|| {
                    let p = h.item.location();
                    let to = self.snap_within(p, limit_m).ok()?;
                    let route = self.route(at, &from, p, &to)?;
                    Some(NetHit {
                        index: h.index,
                        straight_m: h.distance_m,
                        snap_m: to.distance_m,
                        route,
                    })
                });
                if let Some(hit) = hit {
                    let id = |x: &NetHit| items.items()[x.index].id().to_string();
                    let pos = best.partition_point(|b| {
                        (b.route.time_s, id(b)) <= (hit.route.time_s, id(hit))
                    });
                    if pos < k {
                        best.insert(pos, hit.clone());
                        best.truncate(k);
                    }
                }
            }
            if bounded || exhausted {
                return Ok(best);
            }
            m = m.saturating_mul(4).min(items.len());
        }
    }

    /// Every vertex reachable from `from` within `max_s` seconds, with its seconds
    /// (the walk from the point to its street included), by a bounded Dijkstra
    /// (`pathfinding`'s `dijkstra_reach`, stopped at the bound). Order: by time.
    pub fn within_time(&self, from: &Snap, max_s: f64) -> Vec<(u32, f64)> {
        const START: u32 = u32::MAX;
        let start_ms = self.connector_s(from.distance_m) * 1000.0;
        let exits: Vec<(u32, u64)> = self
            .exits(from)
            .iter()
            .map(|&(v, w, _)| (v, w.round() as u64))
            .collect();
        let max_ms = max_s * 1000.0;
        let mut out = Vec::new();
        for item in pathfinding::directed::dijkstra::dijkstra_reach(&START, |&n| {
            if n == START {
                exits.clone()
            } else {
                self.out[n as usize]
                    .iter()
                    .map(|&(v, t, _)| (v, t as u64))
                    .collect()
            }
        }) {
            let t = start_ms + item.total_cost as f64;
            if t > max_ms {
                break;
            }
            if item.node != START {
                out.push((item.node, t / 1000.0));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::road;
    use crate::profile::Profile;

    fn p(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).unwrap()
    }

    /// Two parallel streets 1 km apart joined by a bridge at one end: across is
    /// short in a straight line and long by road.
    fn river() -> Vec<yizhan_core::model::Road> {
        vec![
            road(
                "south",
                &[(24.0, 60.0), (24.01, 60.0), (24.02, 60.0)],
                "residential",
                None,
            ),
            road(
                "north",
                &[(24.0, 60.009), (24.01, 60.009), (24.02, 60.009)],
                "residential",
                None,
            ),
            road("bridge", &[(24.02, 60.0), (24.02, 60.009)], "primary", None),
        ]
    }

    #[test]
    fn snapping_splits_the_nearest_edge() {
        let net = Network::build(&river(), Profile::walk()).unwrap();
        let s = net.snap(p(24.005, 60.0002)).unwrap();
        assert!((s.t - 0.5).abs() < 1e-6, "{s:?}");
        assert!((s.at.lat - 60.0).abs() < 1e-12);
        assert!((s.distance_m - 22.2).abs() < 0.3, "{s:?}");
        let far = net.snap_within(p(24.005, 60.02), SNAP_LIMIT_M).unwrap_err();
        assert!(matches!(far, NetError::OffNetwork { .. }), "{far}");
        assert!(far.to_string().contains("limit is 500 m"), "{far}");
    }

    #[test]
    fn a_route_goes_round_by_the_bridge() {
        let net = Network::build(&river(), Profile::walk()).unwrap();
        let (a, b) = (p(24.0, 60.0), p(24.0, 60.009));
        let (sa, sb) = (net.snap(a).unwrap(), net.snap(b).unwrap());
        let r = net.route(a, &sa, b, &sb).unwrap();
        let via = [
            (24.0, 60.0),
            (24.01, 60.0),
            (24.02, 60.0),
            (24.02, 60.009),
            (24.01, 60.009),
            (24.0, 60.009),
        ];
        let by_road: f64 = via
            .windows(2)
            .map(|w| haversine_m(p(w[0].0, w[0].1), p(w[1].0, w[1].1)))
            .sum();
        assert!(
            (r.metres - by_road).abs() < 0.5,
            "{} vs {by_road}",
            r.metres
        );
        assert!((r.time_s - by_road / 1.25).abs() < 0.1, "{}", r.time_s);
        let line_m: f64 = r.line.windows(2).map(|w| haversine_m(w[0], w[1])).sum();
        assert!((line_m - r.metres).abs() < 0.5);
        assert_eq!(r.line.first(), Some(&a));
        assert_eq!(r.line.last(), Some(&b));
        // along one edge
        let (c, d) = (p(24.001, 60.0), p(24.004, 60.0));
        let r = net
            .route(c, &net.snap(c).unwrap(), d, &net.snap(d).unwrap())
            .unwrap();
        assert!((r.metres - haversine_m(c, d)).abs() < 0.01, "{r:?}");
        assert_eq!(r.line.len(), 2);
    }

    #[test]
    fn one_way_streets_bind_the_ebike_both_ways_along_an_edge() {
        // a one-way loop: west → east on the south street, back on the north one
        let roads = vec![
            road(
                "s",
                &[(24.0, 60.0), (24.01, 60.0)],
                "residential",
                Some("yes"),
            ),
            road(
                "e",
                &[(24.01, 60.0), (24.01, 60.001)],
                "residential",
                Some("yes"),
            ),
            road(
                "n",
                &[(24.01, 60.001), (24.0, 60.001)],
                "residential",
                Some("yes"),
            ),
            road(
                "w",
                &[(24.0, 60.001), (24.0, 60.0)],
                "residential",
                Some("yes"),
            ),
        ];
        let net = Network::build(&roads, Profile::ebike()).unwrap();
        let (a, b) = (p(24.002, 60.0), p(24.008, 60.0));
        let (sa, sb) = (net.snap(a).unwrap(), net.snap(b).unwrap());
        let ahead = net.route(a, &sa, b, &sb).unwrap();
        let back = net.route(b, &sb, a, &sa).unwrap();
        assert!((ahead.metres - haversine_m(a, b)).abs() < 0.01);
        // round the loop: to the east end, up, along the north street, down, east
        let round = haversine_m(b, p(24.01, 60.0))
            + 2.0 * haversine_m(p(24.0, 60.0), p(24.0, 60.001))
            + haversine_m(p(24.01, 60.001), p(24.0, 60.001))
            + haversine_m(p(24.0, 60.0), a);
        assert!(
            (back.metres - round).abs() < 0.01,
            "{} vs {round}",
            back.metres
        );
        let walk = Network::build(&roads, Profile::walk()).unwrap();
        let wb = walk
            .route(b, &walk.snap(b).unwrap(), a, &walk.snap(a).unwrap())
            .unwrap();
        assert!((wb.metres - haversine_m(a, b)).abs() < 0.01);
    }

    #[test]
    fn within_time_is_bounded_and_ordered() {
        let net = Network::build(&river(), Profile::walk()).unwrap();
        let s = net.snap(p(24.0, 60.0)).unwrap();
        let r = net.within_time(&s, 600.0);
        assert!(!r.is_empty() && r.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(r.iter().all(|x| x.1 <= 600.0));
        // 600 s at 1.25 m/s = 750 m: the vertex at 24.01 (555 m) is in, 24.02 is not
        let lons: Vec<f64> = r.iter().map(|x| net.node(x.0).lon).collect();
        assert!(lons.contains(&24.01) && !lons.contains(&24.02), "{lons:?}");
    }
}
