//! R-tree indexes over located items, answering in true great-circle metres.
//!
//! `rstar` measures planar, squared distance. Rather than re-ranking a planar
//! lon/lat answer (which is wrong near ±180° and at high latitude), every item is
//! stored as its unit vector on the sphere (see [`LonLat::to_unit_vector`]): the
//! chord between two unit vectors grows strictly with the great-circle distance,
//! so the R-tree's nearest-neighbour order *is* the great-circle order. Final
//! distances are recomputed with the haversine formula and ties broken by id, so
//! every query answers exactly what a brute-force haversine scan answers
//! (the oracle tests at the bottom of this file check that).

use chrono::NaiveDateTime;
use geo::{BoundingRect, Contains};
use geo_types::{Point, Polygon};
use rstar::{RTree, RTreeObject, AABB};

use crate::geodesy::{chord_for_distance, distance_for_chord, haversine_m, CoordError, LonLat};
use crate::model::{AmenitySet, Candidate, GridCell, Hotspot, Station, StationKind};

/// Anything with an id and a position can be indexed.
pub trait Located {
    /// Stable id (ties in distance are broken by it).
    fn id(&self) -> &str;
    /// Position (WGS 84).
    fn location(&self) -> LonLat;
}

impl Located for Station {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.location
    }
}
impl Located for Hotspot {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.location
    }
}
impl Located for GridCell {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.centroid
    }
}
impl Located for Candidate {
    fn id(&self) -> &str {
        &self.id
    }
    fn location(&self) -> LonLat {
        self.location
    }
}

/// A tree entry: the unit vector and the item's position in the item vector.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    xyz: [f64; 3],
    idx: u32,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.xyz)
    }
}

impl rstar::PointDistance for Entry {
    fn distance_2(&self, p: &[f64; 3]) -> f64 {
        let d = [self.xyz[0] - p[0], self.xyz[1] - p[1], self.xyz[2] - p[2]];
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    }
}

/// One answer of a query: the item and its great-circle distance from the query point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<'a, T> {
    /// The item.
    pub item: &'a T,
    /// Index of the item in [`GeoIndex::items`].
    pub index: usize,
    /// Haversine distance in metres (0 for bbox / polygon queries without a point).
    pub distance_m: f64,
}

/// A bounding box in WGS 84 degrees: west, south, east, north.
/// `west > east` means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// Western longitude.
    pub west: f64,
    /// Southern latitude.
    pub south: f64,
    /// Eastern longitude.
    pub east: f64,
    /// Northern latitude.
    pub north: f64,
}

/// Why a bounding box was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BBoxError {
    /// Not four comma-separated numbers.
    #[error("bbox {0:?} must be four comma-separated numbers: west,south,east,north")]
    Format(String),
    /// A corner is not a valid coordinate.
    #[error("bbox corner invalid: {0}")]
    Coord(#[from] CoordError),
    /// South above north.
    #[error("bbox south {south} is above north {north}")]
    Inverted {
        /// Southern latitude given.
        south: f64,
        /// Northern latitude given.
        north: f64,
    },
}

impl BBox {
    /// A validated box.
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<Self, BBoxError> {
        LonLat::new(west, south)?;
        LonLat::new(east, north)?;
        if south > north {
            return Err(BBoxError::Inverted { south, north });
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    /// Whether `p` is inside (edges included).
    pub fn contains(&self, p: LonLat) -> bool {
        let lat_ok = p.lat >= self.south && p.lat <= self.north;
        let lon_ok = if self.west <= self.east {
            p.lon >= self.west && p.lon <= self.east
        } else {
            p.lon >= self.west || p.lon <= self.east
        };
        lat_ok && lon_ok
    }

    /// The box as 3-D envelopes enclosing its patch of the unit sphere (two when it
    /// crosses the antimeridian).
    fn envelopes(&self) -> Vec<AABB<[f64; 3]>> {
        let spans = if self.west <= self.east {
            vec![(self.west, self.east)]
        } else {
            vec![(self.west, 180.0), (-180.0, self.east)]
        };
        spans
            .into_iter()
            .map(|(w, e)| lonlat_patch_envelope(w, e, self.south, self.north))
            .collect()
    }
}

impl std::str::FromStr for BBox {
    type Err = BBoxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| BBoxError::Format(s.to_string()))?;
        match v[..] {
            [w, s_, e, n] => BBox::new(w, s_, e, n),
            _ => Err(BBoxError::Format(s.to_string())),
        }
    }
}

/// Range of a function over an interval, given its values at the ends and at any
/// interior critical points.
fn range_of(f: impl Fn(f64) -> f64, a: f64, b: f64, critical: &[f64]) -> (f64, f64) {
    let mut lo = f(a).min(f(b));
    let mut hi = f(a).max(f(b));
    for &c in critical {
        if c > a && c < b {
            lo = lo.min(f(c));
            hi = hi.max(f(c));
        }
    }
    (lo, hi)
}

fn product_range((a0, a1): (f64, f64), (b0, b1): (f64, f64)) -> (f64, f64) {
    let p = [a0 * b0, a0 * b1, a1 * b0, a1 * b1];
    (
        p.iter().copied().fold(f64::INFINITY, f64::min),
        p.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Conservative 3-D envelope of the lon/lat patch [w, e] × [s, n] (w ≤ e).
fn lonlat_patch_envelope(w: f64, e: f64, s: f64, n: f64) -> AABB<[f64; 3]> {
    const PAD: f64 = 1e-12;
    let crit_lon = [-180.0, -90.0, 0.0, 90.0, 180.0];
    let cos_lon = range_of(|x| x.to_radians().cos(), w, e, &crit_lon);
    let sin_lon = range_of(|x| x.to_radians().sin(), w, e, &crit_lon);
    let cos_lat = range_of(|x| x.to_radians().cos(), s, n, &[0.0]);
    let z = range_of(|x| x.to_radians().sin(), s, n, &[]);
    let x = product_range(cos_lat, cos_lon);
    let y = product_range(cos_lat, sin_lon);
    AABB::from_corners(
        [x.0 - PAD, y.0 - PAD, z.0 - PAD],
        [x.1 + PAD, y.1 + PAD, z.1 + PAD],
    )
}

/// Slack, in metres, when turning chord bounds into distance bounds; results are
/// always decided on the haversine distance itself.
const SLACK_M: f64 = 1e-3;

/// An R-tree over items that have a position, answering in great-circle metres.
#[derive(Debug, Clone)]
pub struct GeoIndex<T> {
    items: Vec<T>,
    tree: RTree<Entry>,
}

impl<T: Located> GeoIndex<T> {
    /// Bulk-load an index over `items` (O(n log n)).
    pub fn new(items: Vec<T>) -> Self {
        let entries = items
            .iter()
            .enumerate()
            .map(|(i, it)| Entry {
                xyz: it.location().to_unit_vector(),
                idx: i as u32,
            })
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
            items,
        }
    }

    /// The indexed items, in the order given.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Consume the index and give back its items.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    fn hit(&self, idx: usize, distance_m: f64) -> Hit<'_, T> {
        Hit {
            item: &self.items[idx],
            index: idx,
            distance_m,
        }
    }

    /// The `k` nearest items accepted by `keep`, no farther than `max_m` metres,
    /// nearest first (ties by id).
    pub fn nearest(
        &self,
        at: LonLat,
        k: usize,
        max_m: Option<f64>,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        if k == 0 {
            return Vec::new();
        }
        let q = at.to_unit_vector();
        let max_m = max_m.unwrap_or(f64::INFINITY);
        let mut found: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        for (e, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&q) {
            let lower = distance_for_chord(d2.sqrt()) - SLACK_M;
            if lower > max_m {
                break;
            }
            if found.len() >= k && lower > found[k - 1].0 {
                break;
            }
            let idx = e.idx as usize;
            let item = &self.items[idx];
            if !keep(item) {
                continue;
            }
            let d = haversine_m(at, item.location());
            if d > max_m {
                continue;
            }
            let pos = found.partition_point(|&(fd, fi)| {
                fd < d || (fd == d && self.items[fi].id() < item.id())
            });
            found.insert(pos, (d, idx));
        }
        found.truncate(k);
        found.into_iter().map(|(d, i)| self.hit(i, d)).collect()
    }

    /// The single nearest item accepted by `keep`, if any.
    pub fn nearest_one(&self, at: LonLat, keep: impl Fn(&T) -> bool) -> Option<Hit<'_, T>> {
        self.nearest(at, 1, None, keep).into_iter().next()
    }

    /// Every item accepted by `keep` within `radius_m` metres (inclusive), nearest first.
    pub fn within_radius(
        &self,
        at: LonLat,
        radius_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        let mut out = self.within_radius_unsorted(at, radius_m, keep);
        out.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.item.id().cmp(b.item.id()))
        });
        out
    }

    /// As [`GeoIndex::within_radius`], in no particular order (cheaper).
    pub fn within_radius_unsorted(
        &self,
        at: LonLat,
        radius_m: f64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<Hit<'_, T>> {
        if radius_m.is_nan() || radius_m < 0.0 {
            return Vec::new();
        }
        let q = at.to_unit_vector();
        let c = chord_for_distance(radius_m + SLACK_M);
        self.tree
            .locate_within_distance(q, c * c)
            .filter_map(|e| {
                let idx = e.idx as usize;
                let item = &self.items[idx];
                let d = haversine_m(at, item.location());
                (d <= radius_m && keep(item)).then(|| self.hit(idx, d))
            })
            .collect()
    }

    /// Whether any item accepted by `keep` lies within `radius_m` metres.
    pub fn any_within(&self, at: LonLat, radius_m: f64, keep: impl Fn(&T) -> bool) -> bool {
        let q = at.to_unit_vector();
        let c = chord_for_distance(radius_m + SLACK_M);
        self.tree.locate_within_distance(q, c * c).any(|e| {
            let item = &self.items[e.idx as usize];
            haversine_m(at, item.location()) <= radius_m && keep(item)
        })
    }

    /// Every item accepted by `keep` inside `bbox` (edges included), ordered by id.
    pub fn within_bbox(&self, bbox: &BBox, keep: impl Fn(&T) -> bool) -> Vec<Hit<'_, T>> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<Hit<'_, T>> = Vec::new();
        for env in bbox.envelopes() {
            for e in self.tree.locate_in_envelope(&env) {
                let idx = e.idx as usize;
                let item = &self.items[idx];
                if bbox.contains(item.location()) && keep(item) && seen.insert(idx) {
                    out.push(self.hit(idx, 0.0));
                }
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
        let mut out = self.within_bbox(&bbox, |it| {
            let p = it.location();
            polygon.contains(&Point::new(p.lon, p.lat)) && keep(it)
        });
        out.sort_by(|a, b| a.item.id().cmp(b.item.id()));
        out
    }
}

/// Filters for station queries. The default accepts every station.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationFilter {
    /// Only this kind.
    pub kind: Option<StationKind>,
    /// Only stations offering all of these.
    pub amenities: AmenitySet,
    /// Only stations open at this local time.
    pub open_at: Option<NaiveDateTime>,
    /// Only stations with at least this many free seats (capacity less reported occupancy).
    pub min_free: Option<u32>,
}

impl StationFilter {
    /// Whether `s` passes every filter.
    pub fn accepts(&self, s: &Station) -> bool {
        self.kind.is_none_or(|k| s.kind == k)
            && s.amenities.is_superset(self.amenities)
            && self.open_at.is_none_or(|t| s.opening_hours.is_open_at(t))
            && self.min_free.is_none_or(|m| s.free_seats() >= m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::OpeningHours;
    use crate::model::{Amenity, StationKind};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn station(id: String, lon: f64, lat: f64, rng: &mut ChaCha8Rng) -> Station {
        let amenities = Amenity::ALL
            .into_iter()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        let hours = [
            "24/7",
            "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
            "18:00-06:00",
            "off",
        ][rng.random_range(0..4)];
        Station {
            id,
            name: "s".into(),
            name_zh: None,
            kind: if rng.random_bool(0.8) {
                StationKind::RestStation
            } else {
                StationKind::ChildcareClass
            },
            location: LonLat::new(lon, lat).unwrap(),
            amenities,
            capacity: rng.random_range(0..40),
            occupancy: None,
            opening_hours: hours.parse::<OpeningHours>().unwrap(),
            grid_unit: None,
            operator: None,
            address: None,
        }
    }

    /// Random stations: a mix of worldwide points, a cluster at the antimeridian,
    /// one near the north pole, and a dense town with exact duplicates (ties).
    fn random_stations(seed: u64, n: usize) -> Vec<Station> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (lon, lat) = match i % 5 {
                0 => (
                    rng.random_range(-180.0..=180.0),
                    rng.random_range(-90.0..=90.0),
                ),
                1 => {
                    let lon: f64 = rng.random_range(178.0..182.0);
                    (
                        if lon > 180.0 { lon - 360.0 } else { lon },
                        rng.random_range(-5.0..5.0),
                    )
                }
                2 => (
                    rng.random_range(-180.0..180.0),
                    rng.random_range(84.0..=90.0),
                ),
                3 => (
                    118.47 + rng.random_range(-0.05..0.05),
                    24.72 + rng.random_range(-0.05..0.05),
                ),
                _ => {
                    // Duplicate an earlier position to force exact ties.
                    let j = rng.random_range(0..out.len().max(1));
                    out.get(j)
                        .map(|s: &Station| (s.location.lon, s.location.lat))
                        .unwrap_or((118.47, 24.72))
                }
            };
            out.push(station(format!("S{i:05}"), lon, lat, &mut rng));
        }
        out
    }

    fn random_query(rng: &mut ChaCha8Rng) -> LonLat {
        let (lon, lat) = match rng.random_range(0..4) {
            0 => (
                rng.random_range(-180.0..=180.0),
                rng.random_range(-90.0..=90.0),
            ),
            1 => (
                if rng.random_bool(0.5) {
                    179.99
                } else {
                    -179.99
                },
                rng.random_range(-3.0..3.0),
            ),
            2 => (
                rng.random_range(-180.0..180.0),
                rng.random_range(86.0..=90.0),
            ),
            _ => (
                118.47 + rng.random_range(-0.06..0.06),
                24.72 + rng.random_range(-0.06..0.06),
            ),
        };
        LonLat::new(lon, lat).unwrap()
    }

    fn random_filter(rng: &mut ChaCha8Rng) -> StationFilter {
        let mut f = StationFilter::default();
        if rng.random_bool(0.3) {
            f.kind = Some(StationKind::RestStation);
        }
        if rng.random_bool(0.3) {
            f.amenities.insert(Amenity::ALL[rng.random_range(0..9)]);
        }
        if rng.random_bool(0.3) {
            f.open_at = Some(
                chrono::NaiveDate::from_ymd_opt(2026, 12, rng.random_range(1..=7))
                    .unwrap()
                    .and_hms_opt(rng.random_range(0..24), 0, 0)
                    .unwrap(),
            );
        }
        if rng.random_bool(0.2) {
            f.min_free = Some(rng.random_range(0..30));
        }
        f
    }

    /// The brute-force oracle: every station, haversine, sorted by (distance, id).
    fn oracle<'a>(stations: &'a [Station], at: LonLat, f: &StationFilter) -> Vec<(f64, &'a str)> {
        let mut v: Vec<(f64, &str)> = stations
            .iter()
            .filter(|s| f.accepts(s))
            .map(|s| (haversine_m(at, s.location), s.id.as_str()))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        v
    }

    fn ids<T: Located>(hits: &[Hit<'_, T>]) -> Vec<String> {
        hits.iter().map(|h| h.item.id().to_string()).collect()
    }

    #[test]
    fn nearest_matches_brute_force() {
        for seed in 0..6 {
            let stations = random_stations(seed, 1500);
            let index = GeoIndex::new(stations.clone());
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
        let stations = random_stations(7, 2000);
        let index = GeoIndex::new(stations.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for _ in 0..300 {
            let at = random_query(&mut rng);
            let f = random_filter(&mut rng);
            let r = 10f64.powf(rng.random_range(1.0..7.3));
            let got = index.within_radius(at, r, |s| f.accepts(s));
            let want: Vec<String> = oracle(&stations, at, &f)
                .into_iter()
                .filter(|(d, _)| *d <= r)
                .map(|(_, id)| id.to_string())
                .collect();
            assert_eq!(ids(&got), want, "at {at:?} r {r}");
            assert_eq!(index.any_within(at, r, |s| f.accepts(s)), !want.is_empty());
        }
    }

    #[test]
    fn bbox_and_polygon_match_brute_force() {
        let stations = random_stations(9, 2000);
        let index = GeoIndex::new(stations.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(10);
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
    fn bbox_parsing_errors() {
        assert!("1,2,3".parse::<BBox>().is_err());
        assert!("a,b,c,d".parse::<BBox>().is_err());
        assert!(matches!(
            "0,10,1,5".parse::<BBox>(),
            Err(BBoxError::Inverted { .. })
        ));
        assert!(matches!(
            "0,-91,1,5".parse::<BBox>(),
            Err(BBoxError::Coord(_))
        ));
        assert!("118.4,24.6,118.5,24.8".parse::<BBox>().is_ok());
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
