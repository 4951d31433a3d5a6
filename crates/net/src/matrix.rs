//! Network cost matrices for planning: from many origins (demand points) to many
//! sites (stations, candidates), every pair within a cutoff.
//!
//! # The rule
//!
//! Origins and sites snap to their nearest edge ([`Network::snap_within`]); one
//! farther than the snap limit reaches nothing and is listed in
//! [`CostMatrix::off_network_origins`] / [`CostMatrix::off_network_sites`]. The cost
//! from origin `o` (snapped on edge `e` at `t`, `s_o` metres from its street) to site
//! `j` (snapped at `t'` on `e'`, `s_j` metres off) is
//!
//! `conn(s_o) + min( partial(o → x) + d(x, y) + partial(y → j) ) + conn(s_j)`
//!
//! over the ends `x` of `e` that `o` may leave by (its direction allowed) and the
//! ends `y` of `e'` that lead into `j`, `d` the shortest network cost between
//! vertices; or, when both lie on one edge whose direction allows it, the part of
//! the edge between them if that is cheaper. `partial` is the share of the edge's
//! cost (`t` or `1 − t` of its time or length). `conn(s)` is the walk between a
//! point and its street: `s` metres, or `s` at the profile's connector speed
//! ([`crate::Profile::connector_kmh`], walking pace) for time. It is the rule of
//! [`Network::route`], so a matrix entry equals the route's time or metres.
//!
//! # How
//!
//! One bounded Dijkstra per **site** over the reversed graph (sites × vertices,
//! not origins × vertices), stopped at the cutoff, the sites shared among all cores
//! (rayon). Each origin then reads the costs of its edge's ends. With
//! [`Metric::Time`] the search minimises milliseconds and carries the metres of the
//! fastest path; with [`Metric::Metres`] it minimises metres (on the edges the
//! profile may use, in the directions it may use them) and carries the time.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use rayon::prelude::*;
use yizhan_core::geodesy::LonLat;

use crate::graph::Network;
use crate::route::Snap;

/// What a matrix minimises (and what its cutoff bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Travel time, seconds.
    Time,
    /// Network length, metres.
    Metres,
}

impl Metric {
    /// `seconds` or `metres`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Time => "seconds",
            Metric::Metres => "metres",
        }
    }
}

/// The cost of one origin–site pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairCost {
    /// Travel time, seconds.
    pub time_s: f64,
    /// Network metres (the walks to and from the streets included).
    pub metres: f64,
}

impl PairCost {
    /// The value of `metric`.
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Time => self.time_s,
            Metric::Metres => self.metres,
        }
    }
}

/// Origins × sites costs within a cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct CostMatrix {
    /// What was minimised and bounded.
    pub metric: Metric,
    /// The cutoff, in the metric's unit.
    pub cutoff: f64,
    /// For each origin, the sites within the cutoff (site index, cost), cheapest
    /// first by the metric (ties by site index).
    pub rows: Vec<Vec<(u32, PairCost)>>,
    /// Origins farther than the snap limit from any street (they reach no site).
    pub off_network_origins: Vec<usize>,
    /// Sites farther than the snap limit from any street (no origin reaches them).
    pub off_network_sites: Vec<usize>,
}

/// A Dijkstra label: primary cost, secondary cost, vertex.
#[derive(PartialEq)]
struct Label(f64, f64, u32);
impl Eq for Label {}
impl PartialOrd for Label {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Label {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(o.2.cmp(&self.2))
    }
}

/// Reused per thread: best labels and the vertices touched.
struct Scratch {
    best: Vec<(f64, f64)>,
    touched: Vec<u32>,
}

/// An origin's way onto the network: (vertex, primary, secondary) for each exit.
struct Exit {
    vertex: u32,
    primary: f64,
    secondary: f64,
}

impl Network {
    /// Primary and secondary costs (ms or metres, per `metric`) of leaving along a
    /// share of edge `e` in its forward (`true`) or backward direction.
    fn part(&self, edge: u32, share: f64, forward: bool, metric: Metric) -> (f64, f64) {
        let e = &self.data.edges[edge as usize];
        let ms = if forward { e.forward_ms } else { e.backward_ms } as f64;
        match metric {
            Metric::Time => (share * ms, share * e.length_m),
            Metric::Metres => (share * e.length_m, share * ms),
        }
    }

    /// (primary, secondary) of the walk between a point and its street.
    fn connector(&self, snap: &Snap, metric: Metric) -> (f64, f64) {
        let ms = snap.distance_m / (self.data.profile.connector_kmh / 3.6) * 1000.0;
        match metric {
            Metric::Time => (ms, snap.distance_m),
            Metric::Metres => (snap.distance_m, ms),
        }
    }

    /// The network costs from every origin to every site within `cutoff` (seconds
    /// for [`Metric::Time`], metres for [`Metric::Metres`]); points farther than
    /// `snap_limit_m` from a street reach nothing. See the [module](self) for the
    /// rule.
    ///
    /// # Examples
    /// ```
    /// use yizhan_core::{geodesy::LonLat, model::{Road, RoadTags}};
    /// use yizhan_net::{matrix::Metric, Network, Profile, SNAP_LIMIT_M};
    /// let road = Road {
    ///     id: "w1".into(),
    ///     line: vec![(118.0, 24.0), (118.01, 24.0)].into(),
    ///     tags: RoadTags { highway: "residential".into(), ..Default::default() },
    /// };
    /// let net = Network::build(&[road], Profile::walk()).unwrap();
    /// let p = |lon| LonLat::new(lon, 24.0).unwrap();
    /// let m = net.cost_matrix(&[p(118.001)], &[p(118.003), p(118.009)], Metric::Metres, 500.0, SNAP_LIMIT_M);
    /// assert_eq!(m.rows[0].len(), 1); // the second site is 800 m away
    /// assert!((m.rows[0][0].1.metres - p(118.001).distance_m(p(118.003))).abs() < 0.01);
    /// ```
    pub fn cost_matrix(
        &self,
        origins: &[LonLat],
        sites: &[LonLat],
        metric: Metric,
        cutoff: f64,
        snap_limit_m: f64,
    ) -> CostMatrix {
        let bound = match metric {
            Metric::Time => cutoff * 1000.0,
            Metric::Metres => cutoff,
        };
        let snap_all = |pts: &[LonLat]| -> Vec<Option<Snap>> {
            pts.par_iter()
                .map(|&p| self.snap_within(p, snap_limit_m).ok())
                .collect()
        };
        let o_snaps = snap_all(origins);
        let s_snaps = snap_all(sites);
        // Each origin's exits, and which origins leave by each vertex / lie on each edge.
        let mut by_vertex: HashMap<u32, Vec<(u32, f64, f64)>> = HashMap::new();
        let mut by_edge: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut o_conn = vec![(0.0, 0.0); origins.len()];
        for (i, s) in o_snaps.iter().enumerate() {
            let Some(s) = s else { continue };
            o_conn[i] = self.connector(s, metric);
            by_edge.entry(s.edge).or_default().push(i as u32);
            for x in self.exits_by(s, metric) {
                by_vertex
                    .entry(x.vertex)
                    .or_default()
                    .push((i as u32, x.primary, x.secondary));
            }
        }
        // The reversed graph: for each vertex, (from, primary, secondary).
        let mut inc: Vec<Vec<(u32, f64, f64)>> = vec![Vec::new(); self.data.nodes.len()];
        for e in &self.data.edges {
            for (u, v, ms) in [(e.a, e.b, e.forward_ms), (e.b, e.a, e.backward_ms)] {
                if ms == 0 {
                    continue;
                }
                let (p, q) = match metric {
                    Metric::Time => (ms as f64, e.length_m),
                    Metric::Metres => (e.length_m, ms as f64),
                };
                inc[v as usize].push((u, p, q));
            }
        }
        let n = self.data.nodes.len();
        let to_cost = |p: f64, q: f64| match metric {
            Metric::Time => PairCost {
                time_s: p / 1000.0,
                metres: q,
            },
            Metric::Metres => PairCost {
                time_s: q / 1000.0,
                metres: p,
            },
        };
        let cols: Vec<Vec<(u32, f64, f64)>> = s_snaps
            .par_iter()
            .map_init(
                || Scratch {
                    best: vec![(f64::INFINITY, 0.0); n],
                    touched: Vec::new(),
                },
                |sc, snap| {
                    let Some(sj) = snap else { return Vec::new() };
                    self.site_column(
                        sj, metric, bound, &inc, &by_vertex, &by_edge, &o_snaps, &o_conn, sc,
                    )
                },
            )
            .collect();
        let mut rows: Vec<Vec<(u32, PairCost)>> = vec![Vec::new(); origins.len()];
        for (j, col) in cols.iter().enumerate() {
            for &(i, p, q) in col {
                rows[i as usize].push((j as u32, to_cost(p, q)));
            }
        }
        rows.par_iter_mut().for_each(|r| {
            r.sort_by(|a, b| {
                a.1.get(metric)
                    .total_cmp(&b.1.get(metric))
                    .then(a.0.cmp(&b.0))
            });
        });
        let off = |v: &[Option<Snap>]| {
            v.iter()
                .enumerate()
                .filter(|x| x.1.is_none())
                .map(|x| x.0)
                .collect()
        };
        CostMatrix {
            metric,
            cutoff,
            rows,
            off_network_origins: off(&o_snaps),
            off_network_sites: off(&s_snaps),
        }
    }

    /// The ways out of a snapped point along its edge, in `metric`'s units.
    fn exits_by(&self, s: &Snap, metric: Metric) -> Vec<Exit> {
        let e = &self.data.edges[s.edge as usize];
        let mut v = Vec::with_capacity(2);
        if e.forward_ms > 0 {
            let (p, q) = self.part(s.edge, 1.0 - s.t, true, metric);
            v.push(Exit {
                vertex: e.b,
                primary: p,
                secondary: q,
            });
        }
        if e.backward_ms > 0 {
            let (p, q) = self.part(s.edge, s.t, false, metric);
            v.push(Exit {
                vertex: e.a,
                primary: p,
                secondary: q,
            });
        }
        v
    }

    /// The ways into a snapped point along its edge, in `metric`'s units.
    fn entries_by(&self, s: &Snap, metric: Metric) -> Vec<Exit> {
        let e = &self.data.edges[s.edge as usize];
        let mut v = Vec::with_capacity(2);
        if e.forward_ms > 0 {
            let (p, q) = self.part(s.edge, s.t, true, metric);
            v.push(Exit {
                vertex: e.a,
                primary: p,
                secondary: q,
            });
        }
        if e.backward_ms > 0 {
            let (p, q) = self.part(s.edge, 1.0 - s.t, false, metric);
            v.push(Exit {
                vertex: e.b,
                primary: p,
                secondary: q,
            });
        }
        v
    }

    /// One site's column: (origin, primary, secondary) of every origin within `bound`
    /// (ms or metres), by a Dijkstra from the site over the reversed graph.
    #[allow(clippy::too_many_arguments)]
    fn site_column(
        &self,
        sj: &Snap,
        metric: Metric,
        bound: f64,
        inc: &[Vec<(u32, f64, f64)>],
        by_vertex: &HashMap<u32, Vec<(u32, f64, f64)>>,
        by_edge: &HashMap<u32, Vec<u32>>,
        o_snaps: &[Option<Snap>],
        o_conn: &[(f64, f64)],
        sc: &mut Scratch,
    ) -> Vec<(u32, f64, f64)> {
        let (cp, cq) = self.connector(sj, metric);
        let mut heap = BinaryHeap::new();
        for y in self.entries_by(sj, metric) {
            let (p, q) = (cp + y.primary, cq + y.secondary);
            let b = &mut sc.best[y.vertex as usize];
            if p < b.0 {
                if b.0 == f64::INFINITY {
                    sc.touched.push(y.vertex);
                }
                *b = (p, q);
                heap.push(Label(p, q, y.vertex));
            }
        }
        // origin → best (primary, secondary)
        let mut found: HashMap<u32, (f64, f64)> = HashMap::new();
        let mut offer = |i: u32, p: f64, q: f64| {
            let (op, oq) = o_conn[i as usize];
            let (p, q) = (p + op, q + oq);
            if p <= bound {
                let slot = found.entry(i).or_insert((f64::INFINITY, 0.0));
                if p < slot.0 {
                    *slot = (p, q);
                }
            }
        };
        // Along the site's own edge.
        if let Some(list) = by_edge.get(&sj.edge) {
            let e = &self.data.edges[sj.edge as usize];
            for &i in list {
                let Some(so) = &o_snaps[i as usize] else {
                    continue;
                };
                let dt = sj.t - so.t;
                let along = if dt >= 0.0 && e.forward_ms > 0 {
                    Some(self.part(sj.edge, dt, true, metric))
                } else if dt <= 0.0 && e.backward_ms > 0 {
                    Some(self.part(sj.edge, -dt, false, metric))
                } else {
                    None
                };
                if let Some((p, q)) = along {
                    offer(i, cp + p, cq + q);
                }
            }
        }
        while let Some(Label(p, q, v)) = heap.pop() {
            if p > sc.best[v as usize].0 || p > bound {
                if p > bound {
                    break;
                }
                continue;
            }
            if let Some(list) = by_vertex.get(&v) {
                for &(i, xp, xq) in list {
                    offer(i, p + xp, q + xq);
                }
            }
            for &(u, wp, wq) in &inc[v as usize] {
                let (np, nq) = (p + wp, q + wq);
                let b = &mut sc.best[u as usize];
                if np < b.0 && np <= bound {
                    if b.0 == f64::INFINITY {
                        sc.touched.push(u);
                    }
                    *b = (np, nq);
                    heap.push(Label(np, nq, u));
                }
            }
        }
        for &v in &sc.touched {
            sc.best[v as usize] = (f64::INFINITY, 0.0);
        }
        sc.touched.clear();
        found.into_iter().map(|(i, (p, q))| (i, p, q)).collect()
    }
}
