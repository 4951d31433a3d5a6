//! The queries of one point or one region: k nearest, within a radius, inside a box
//! or a polygon. Distance queries walk the k-d tree by chord and let the haversine
//! distance decide (ties by id), so each answers what a brute-force haversine scan
//! answers (the oracle tests below); box and polygon queries use the lon/lat R-tree.

use geo::{BoundingRect, Contains};
use geo_types::{Point, Polygon};

use super::bbox::BBox;
use super::geo_index::GeoIndex;
use super::kdtree::{Best, F32_CHORD_ERR, SLACK_CHORD, STACK_CANDIDATES};
use super::located::{Hit, Located};
use super::trig::Query;
use crate::geodesy::{chord_for_distance, ellipsoidal_m, LonLat, ELLIPSOID_MIN_RATIO};

impl<T: Located> GeoIndex<T> {
    /// The `k` nearest items accepted by `keep`, no farther than `max_m` metres,
    /// nearest first (ties by id).
    pub fn nearest(
        &self,
        at: LonLat,
        k: usize,
        max_m: Option<f64>,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let kd = self.kd();
        let items = self.items();
        let q = Query::new(at);
        let max_m = max_m.filter(|m| !m.is_nan()).unwrap_or(f64::INFINITY);
        let c = chord_for_distance(max_m) + SLACK_CHORD + F32_CHORD_ERR;
        let prune2 = c * c;
        let mut stack = [(0.0, 0u32); STACK_CANDIDATES];
        let mut heap = Vec::new();
        let mut cap = (k + 8).max(STACK_CANDIDATES);
        let (buf, len) = loop {
            let buf: &mut [(f64, u32)] = if cap <= STACK_CANDIDATES {
                &mut stack
            } else {
                heap.resize(cap, (0.0, 0));
                &mut heap
            };
            let mut best = Best::new(buf, k, prune2);
            kd.knn(&q.xyz, &mut best, &|i| keep(&items[i]));
            if !best.overflow {
                let len = best.len;
                break (best.buf, len);
            }
            cap = (cap * 4).min(self.len() + 1);
        };
        let mut out: Vec<Hit<'_, T>> = Vec::with_capacity(len.min(k + 2));
        for &(_, pos) in &buf[..len] {
            let d = q.haversine_m(&kd.geo[pos as usize]);
            if d <= max_m {
                out.push(self.hit(kd.perm[pos as usize] as usize, d));
            }
        }
        Hit::nearest_first(&mut out);
        out.truncate(k);
        out
    }

    /// The `k` nearest items accepted by `keep` on the WGS 84 ellipsoid, no farther
    /// than `max_m` metres on it, nearest first (equal distances by id), each
    /// `distance_m` the geodesic distance ([`ellipsoidal_m`]): the courier answers.
    ///
    /// Exact on the ellipsoid, found through the spherical index: the `k` nearest on
    /// the sphere within `max_m` ÷ [`ELLIPSOID_MIN_RATIO`] give an ellipsoidal bound
    /// `D` (the farthest of them); every item within `D` on the ellipsoid is within
    /// `D` ÷ [`ELLIPSOID_MIN_RATIO`] on the sphere, so those are the candidates,
    /// ranked by their geodesic distance. Near a tie the order is the ellipsoid's,
    /// which may differ from the sphere's when two items are within 0.56 % of each
    /// other's distance.
    pub fn nearest_on_ellipsoid(
        &self,
        at: LonLat,
        k: usize,
        max_m: Option<f64>,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let max_m = max_m.filter(|m| !m.is_nan());
        let sphere_max = max_m.map(|m| m / ELLIPSOID_MIN_RATIO);
        let first = self.nearest(at, k, sphere_max, &keep);
        let candidates = if first.len() < k {
            // Every accepted item within the wider sphere is already here.
            first
        } else {
            let d = first
                .iter()
                .map(|h| ellipsoidal_m(at, h.item.location()))
                .fold(0.0, f64::max);
            let r = d / ELLIPSOID_MIN_RATIO;
            self.within_radius(at, sphere_max.map_or(r, |m| m.min(r)), &keep)
        };
        let mut out: Vec<Hit<'_, T>> = candidates
            .into_iter()
            .map(|h| Hit {
                distance_m: ellipsoidal_m(at, h.item.location()),
                ..h
            })
            .filter(|h| max_m.is_none_or(|m| h.distance_m <= m))
            .collect();
        Hit::nearest_first(&mut out);
        out.truncate(k);
        out
    }

    /// Every item accepted by `keep` within `radius_m` metres on the WGS 84 ellipsoid
    /// (inclusive), each `distance_m` the geodesic distance, in no particular order:
    /// the items within `radius_m` ÷ [`ELLIPSOID_MIN_RATIO`] on the sphere, kept by
    /// their geodesic distance.
    pub fn within_radius_on_ellipsoid(
        &self,
        at: LonLat,
        radius_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        self.within_radius(at, radius_m / ELLIPSOID_MIN_RATIO, keep)
            .into_iter()
            .map(|h| Hit {
                distance_m: ellipsoidal_m(at, h.item.location()),
                ..h
            })
            .filter(|h| h.distance_m <= radius_m)
            .collect()
    }

    /// The single nearest item accepted by `keep`, if any.
    pub fn nearest_one(&self, at: LonLat, keep: impl Fn(&T) -> bool) -> Option<Hit<'_, T>> {
        self.nearest(at, 1, None, keep).into_iter().next()
    }

    /// Every item accepted by `keep` within `radius_m` metres (inclusive), in no
    /// particular order (as rstar's `locate_within_distance`); sort them with
    /// [`Hit::nearest_first`] when the order matters.
    pub fn within_radius(
        &self,
        at: LonLat,
        radius_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let mut out = Vec::new();
        self.each_within(at, radius_m, |idx, d| {
            if keep(&self.items()[idx]) {
                out.push(self.hit(idx, d));
            }
            true
        });
        out
    }

    /// Whether any item accepted by `keep` lies within `radius_m` metres.
    pub fn any_within(&self, at: LonLat, radius_m: f64, keep: impl Fn(&T) -> bool) -> bool {
        let mut found = false;
        self.each_within(at, radius_m, |idx, _| {
            found = keep(&self.items()[idx]);
            !found
        });
        found
    }

    /// Passes every item within `radius_m` metres of `at` (haversine, inclusive), as
    /// (index, metres), to `f` until it answers false.
    fn each_within(&self, at: LonLat, radius_m: f64, mut f: impl FnMut(usize, f64) -> bool) {
        let kd = self.kd();
        if radius_m.is_nan() || radius_m < 0.0 || self.is_empty() {
            return;
        }
        let q = Query::new(at);
        let c = chord_for_distance(radius_m) + SLACK_CHORD + F32_CHORD_ERR;
        kd.radius(&q.xyz, c * c, &mut |pos| {
            let d = q.haversine_m(&kd.geo[pos]);
            d > radius_m || f(kd.perm[pos] as usize, d)
        });
    }

    /// Every item accepted by `keep` inside `bbox` (edges included), ordered by id.
    /// Answered by the `rstar` R-tree over lon/lat (a box crossing the antimeridian is
    /// split in two).
    pub fn within_bbox(&self, bbox: &BBox, keep: impl Fn(&T) -> bool) -> Vec<Hit<'_, T>> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<Hit<'_, T>> = Vec::new();
        for idx in self.rtree().in_bbox(bbox) {
            let item = &self.items()[idx];
            if bbox.contains(item.location()) && keep(item) && seen.insert(idx) {
                out.push(self.hit(idx, 0.0));
            }
        }
        out.sort_by(|a, b| a.item.id().cmp(b.item.id()));
        out
    }

    /// Every item accepted by `keep` inside `polygon` (planar lon/lat test, as GeoJSON
    /// viewers draw it; points on the boundary excluded), ordered by id.
    pub fn within_polygon(
        &self,
        polygon: &Polygon<f64>,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let Some(rect) = polygon.bounding_rect() else {
            return Vec::new();
        };
        let Ok(bbox) = BBox::new(rect.min().x, rect.min().y, rect.max().x, rect.max().y) else {
            return Vec::new();
        };
        self.within_bbox(&bbox, |it| {
            let p = it.location();
            polygon.contains(&Point::new(p.lon, p.lat)) && keep(it)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::haversine_m;
    use crate::index::kdtree::PAR_BUILD;
    use crate::index::test_utilities::*;
    use crate::model::{Candidate, Station};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// 2,000 random stations, their index, and a random source for the queries.
    fn indexed(seed: u64, query_seed: u64) -> (Vec<Station>, GeoIndex<Station>, ChaCha8Rng) {
        let stations = random_stations(seed, 2000);
        let index = GeoIndex::new(stations.clone());
        (stations, index, ChaCha8Rng::seed_from_u64(query_seed))
    }

    #[test]
    fn nearest_matches_brute_force() {
        for seed in 0..6 {
            let stations = random_stations(seed, 1500);
            // Odd seeds: the tree is built by the first query.
            let index = if seed % 2 == 0 {
                GeoIndex::new(stations.clone())
            } else {
                let lazy = GeoIndex::new_lazy(stations.clone());
                assert_eq!(lazy.index_bytes(), 0);
                lazy
            };
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
            for _ in 0..200 {
                let at = random_query(&mut rng);
                let f = random_filter(&mut rng);
                let k = rng.random_range(1..12);
                let max_m = rng
                    .random_bool(0.3)
                    .then(|| rng.random_range(100.0..3_000_000.0));
                let got = index.nearest(at, k, max_m, |s| f.accepts(s));
                let want: Vec<_> = oracle(&stations, at, &f)
                    .into_iter()
                    .filter(|(d, _)| max_m.is_none_or(|m| *d <= m))
                    .take(k)
                    .collect();
                assert_eq!(
                    ids(&got),
                    want.iter().map(|w| w.1.to_string()).collect::<Vec<_>>(),
                    "seed {seed} at {at:?} k {k} filter {f:?}"
                );
                for (g, w) in got.iter().zip(&want) {
                    assert!((g.distance_m - w.0).abs() < 0.01);
                }
            }
        }
    }

    #[test]
    fn radius_matches_brute_force() {
        let (stations, index, mut rng) = indexed(7, 8);
        for _ in 0..300 {
            let at = random_query(&mut rng);
            let f = random_filter(&mut rng);
            let r = 10f64.powf(rng.random_range(1.0..7.3));
            let mut got = index.within_radius(at, r, |s| f.accepts(s));
            Hit::nearest_first(&mut got);
            let want: Vec<String> = oracle(&stations, at, &f)
                .into_iter()
                .filter(|(d, _)| *d <= r)
                .map(|(_, id)| id.to_string())
                .collect();
            assert_eq!(ids(&got), want, "at {at:?} r {r}");
            assert_eq!(index.any_within(at, r, |s| f.accepts(s)), !want.is_empty());
        }
    }

    /// A brute-force scan on the ellipsoid: (geodesic metres, id), nearest first.
    fn ellipsoid_oracle<'a>(
        stations: &'a [Station],
        at: LonLat,
        f: &crate::filter::StationFilter,
    ) -> Vec<(f64, &'a str)> {
        let mut v: Vec<(f64, &str)> = stations
            .iter()
            .filter(|s| f.accepts(s))
            .map(|s| (crate::geodesy::ellipsoidal_m(at, s.location), s.id.as_str()))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        v
    }

    /// Nearest and radius on the ellipsoid answer what a geodesic scan answers, in
    /// its order, also where the sphere's order differs (dense clusters make near
    /// ties, which the test counts).
    #[test]
    fn ellipsoid_queries_match_a_geodesic_scan() {
        let mut stations = random_stations(21, 1200);
        // A dense cluster: many pairs whose spherical and ellipsoidal orders differ.
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        for (i, s) in stations.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
            s.location = LonLat::new(
                118.47 + rng.random_range(-0.01..0.01),
                24.72 + rng.random_range(-0.01..0.01),
            )
            .unwrap();
            s.id = format!("D{i:05}");
        }
        let index = GeoIndex::new(stations.clone());
        let mut reordered = 0;
        for round in 0..300 {
            let at = if round % 2 == 0 {
                LonLat::new(
                    118.47 + rng.random_range(-0.012..0.012),
                    24.72 + rng.random_range(-0.012..0.012),
                )
                .unwrap()
            } else {
                random_query(&mut rng)
            };
            let f = random_filter(&mut rng);
            let k = rng.random_range(1..15);
            let max_m = rng
                .random_bool(0.3)
                .then(|| rng.random_range(50.0..2_000_000.0));
            let got = index.nearest_on_ellipsoid(at, k, max_m, |s| f.accepts(s));
            let want: Vec<(f64, &str)> = ellipsoid_oracle(&stations, at, &f)
                .into_iter()
                .filter(|(d, _)| max_m.is_none_or(|m| *d <= m))
                .take(k)
                .collect();
            let want_ids: Vec<String> = want.iter().map(|w| w.1.to_string()).collect();
            assert_eq!(ids(&got), want_ids, "round {round} at {at:?} k {k}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.distance_m, w.0);
            }
            let sphere = index.nearest(at, k, max_m, |s| f.accepts(s));
            reordered += usize::from(ids(&sphere) != want_ids);
            let r = 10f64.powf(rng.random_range(1.0..6.5));
            let mut within = index.within_radius_on_ellipsoid(at, r, |s| f.accepts(s));
            Hit::nearest_first(&mut within);
            let want: Vec<String> = ellipsoid_oracle(&stations, at, &f)
                .into_iter()
                .filter(|(d, _)| *d <= r)
                .map(|(_, id)| id.to_string())
                .collect();
            assert_eq!(ids(&within), want, "round {round} at {at:?} r {r}");
        }
        assert!(
            reordered > 5,
            "too few answers where the orders differ: {reordered}"
        );
    }

    #[test]
    fn bbox_and_polygon_match_brute_force() {
        let (stations, index, mut rng) = indexed(9, 10);
        for _ in 0..300 {
            let a = random_query(&mut rng);
            let w = a.lon;
            let e = if rng.random_bool(0.2) {
                // Crossing the antimeridian.
                -180.0 + rng.random_range(0.0..5.0)
            } else {
                (w + rng.random_range(0.0..60.0)).min(180.0)
            };
            let s = a.lat - rng.random_range(0.0..20.0);
            let bbox = BBox::new(w, s.max(-90.0), e, a.lat).unwrap();
            let f = random_filter(&mut rng);
            let got = index.within_bbox(&bbox, |st| f.accepts(st));
            let mut want: Vec<String> = stations
                .iter()
                .filter(|st| bbox.contains(st.location) && f.accepts(st))
                .map(|st| st.id.clone())
                .collect();
            want.sort();
            assert_eq!(ids(&got), want, "{bbox:?}");
        }
        // Polygon: a triangle around Anhai.
        let tri = Polygon::new(
            vec![
                (118.43, 24.68),
                (118.52, 24.69),
                (118.47, 24.76),
                (118.43, 24.68),
            ]
            .into(),
            vec![],
        );
        let got = index.within_polygon(&tri, |_| true);
        let mut want: Vec<String> = stations
            .iter()
            .filter(|s| tri.contains(&Point::new(s.location.lon, s.location.lat)))
            .map(|s| s.id.clone())
            .collect();
        want.sort();
        assert!(!want.is_empty());
        assert_eq!(ids(&got), want);
    }

    #[test]
    fn many_ties_and_large_k_match_brute_force() {
        // 300 stations on 3 spots: every query is a wall of exact ties, which
        // overflows the on-stack candidate buffer and takes the heap path.
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let spots = [(118.47, 24.72), (118.4701, 24.72), (-179.9999, 0.0)];
        let stations: Vec<Station> = (0..300)
            .map(|i| {
                let (lon, lat) = spots[i % 3];
                station(format!("T{:03}", (i * 7919) % 1000), lon, lat, &mut rng)
            })
            .collect();
        let index = GeoIndex::new(stations.clone());
        for _ in 0..100 {
            let at = random_query(&mut rng);
            let f = random_filter(&mut rng);
            for k in [1, 5, 31, 40, 150, 400] {
                let got = index.nearest(at, k, None, |s| f.accepts(s));
                let want: Vec<String> = oracle(&stations, at, &f)
                    .into_iter()
                    .take(k)
                    .map(|w| w.1.to_string())
                    .collect();
                assert_eq!(ids(&got), want, "at {at:?} k {k}");
            }
        }
    }
    #[test]
    fn large_index_built_in_parallel_matches_brute_force() {
        // More than 2 × PAR_BUILD points: the tree is built on two threads.
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        let pts: Vec<Candidate> = (0..(2 * PAR_BUILD + 5_000))
            .map(|i| Candidate {
                id: format!("C{i:06}"),
                name: None,
                location: random_query(&mut rng),
                capacity: None,
            })
            .collect();
        let index = GeoIndex::new(pts.clone());
        for _ in 0..40 {
            let at = random_query(&mut rng);
            let mut want: Vec<(f64, &str)> = pts
                .iter()
                .map(|c| (haversine_m(at, c.location), c.id.as_str()))
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
            let got = index.nearest(at, 7, None, |_| true);
            assert_eq!(
                ids(&got),
                want[..7]
                    .iter()
                    .map(|w| w.1.to_string())
                    .collect::<Vec<_>>()
            );
            let r = want[50].0;
            assert_eq!(index.within_radius(at, r, |_| true).len(), 51);
        }
    }

    #[test]
    fn empty_index_and_zero_k() {
        let index: GeoIndex<Station> = GeoIndex::new(vec![]);
        let at = LonLat::new(0.0, 0.0).unwrap();
        assert!(index.nearest(at, 5, None, |_| true).is_empty());
        let index = GeoIndex::new(random_stations(1, 10));
        assert!(index.nearest(at, 0, None, |_| true).is_empty());
        assert!(index.within_radius(at, -1.0, |_| true).is_empty());
    }
}
