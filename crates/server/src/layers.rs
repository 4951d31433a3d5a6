//! The feature collections the server publishes: the dataset's layers plus the
//! computed `gaps` layer. Shared by the OGC API and the GeoJSON export.

use std::str::FromStr;

use geojson::Feature;
use yizhan_core::crs::Crs;
use yizhan_core::index::{BBox, GeoIndex, Located};
use yizhan_core::io::Layer;
use yizhan_core::Dataset;

use crate::error::ApiError;

/// A published collection of features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// Service stations.
    Stations,
    /// Outdoor-worker hotspots.
    Hotspots,
    /// Grid cells with demand.
    Cells,
    /// Grid cells with coverage gap fields (computed at the default cutoff).
    Gaps,
    /// The town's outline.
    Boundary,
    /// Candidate sites for new stations.
    Candidates,
    /// The road network (LineStrings with OpenStreetMap tags).
    Roads,
    /// Rivers and lakes (map context).
    Water,
}

impl Collection {
    /// Every collection, in listing order.
    pub const ALL: [Collection; 8] = [
        Collection::Stations,
        Collection::Hotspots,
        Collection::Cells,
        Collection::Gaps,
        Collection::Boundary,
        Collection::Candidates,
        Collection::Roads,
        Collection::Water,
    ];

    /// The collection id (URL segment and file stem).
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Stations => "stations",
            Collection::Hotspots => "hotspots",
            Collection::Cells => "cells",
            Collection::Gaps => "gaps",
            Collection::Boundary => "boundary",
            Collection::Candidates => "candidates",
            Collection::Roads => "roads",
            Collection::Water => "water",
        }
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            Collection::Stations => "Service stations",
            Collection::Hotspots => "Outdoor-worker hotspots",
            Collection::Cells => "Management grid cells",
            Collection::Gaps => "Coverage gaps",
            Collection::Boundary => "Town boundary",
            Collection::Candidates => "Candidate sites",
            Collection::Roads => "Roads",
            Collection::Water => "Water",
        }
    }

    /// A description.
    pub fn description(self) -> &'static str {
        match self {
            Collection::Stations => {
                "Rest stations for outdoor workers (工会驿站) and childcare classes, with amenities, capacity and opening hours."
            }
            Collection::Hotspots => {
                "Places where outdoor workers gather, weighted by the number of workers."
            }
            Collection::Cells => "Cells of the town's management grid (网格) with worker demand.",
            Collection::Gaps => {
                "Grid cells with their uncovered demand: workers farther than the default cutoff from any station."
            }
            Collection::Boundary => "The town's outline or approximate extent.",
            Collection::Candidates => "Candidate sites for new stations.",
            Collection::Roads => {
                "Streets, paths and bridges of the road network, with their OpenStreetMap tags (highway, name, name:zh, oneway, bridge, …)."
            }
            Collection::Water => "Rivers and lakes (map context).",
        }
    }

    /// The core layer behind the collection (none for computed ones).
    pub fn layer(self) -> Option<Layer> {
        match self {
            Collection::Stations => Some(Layer::Stations),
            Collection::Hotspots => Some(Layer::Hotspots),
            Collection::Cells => Some(Layer::Cells),
            Collection::Boundary => Some(Layer::Boundary),
            Collection::Candidates => Some(Layer::Candidates),
            Collection::Roads => Some(Layer::Roads),
            Collection::Water => Some(Layer::Water),
            Collection::Gaps => None,
        }
    }

    /// Whether the features show the stations' occupancy reports.
    pub fn shows_occupancy(self) -> bool {
        self == Collection::Stations
    }

    /// Whether the features change when a station is created, replaced or retired.
    pub fn reads_stations(self) -> bool {
        matches!(self, Collection::Stations | Collection::Gaps)
    }

    /// Every id, comma-separated (for error messages).
    pub fn names() -> String {
        Collection::ALL.map(Collection::as_str).join(", ")
    }
}

impl FromStr for Collection {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Collection::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ApiError::NotFound {
                what: "collection",
                id: s.to_string(),
                expected: Some(Collection::names()),
            })
    }
}

/// Build the features of a collection in `crs`, in the flat GIS form
/// (`yizhan_core::io::gis`: one boolean per amenity, every field on every
/// feature), as OGC API Features and the exports serve them (no caching).
pub fn build(
    data: &Dataset,
    c: Collection,
    crs: Crs,
    cutoff_m: f64,
) -> Result<Vec<Feature>, ApiError> {
    match c.layer() {
        Some(l) => Ok(data.gis_features(l, crs)),
        None => {
            let mut f = yizhan_plan::workflow::gap_layer(data, cutoff_m, crs)?;
            yizhan_core::io::gis::to_gis(&mut f);
            Ok(f)
        }
    }
}

/// The positions, among a collection's features, of those inside `bbox`, in
/// layer order, found with the layer's spatial index. `None` for collections that
/// are not indexed points (cells, gaps, boundary, water: polygons; roads: lines),
/// which are filtered
/// by their extents ([`intersects`]).
pub fn indexed_in_bbox(data: &Dataset, c: Collection, bbox: &BBox) -> Option<Vec<usize>> {
    fn positions<T: Located>(layer: &GeoIndex<T>, bbox: &BBox) -> Vec<usize> {
        let mut v: Vec<usize> = layer
            .within_bbox(bbox, |_| true)
            .into_iter()
            .map(|h| h.index)
            .collect();
        v.sort_unstable();
        v
    }
    match c {
        Collection::Stations => Some(positions(&data.stations, bbox)),
        Collection::Hotspots => Some(positions(&data.hotspots, bbox)),
        Collection::Candidates => Some(positions(&data.candidates, bbox)),
        Collection::Cells
        | Collection::Gaps
        | Collection::Boundary
        | Collection::Roads
        | Collection::Water => None,
    }
}

/// The bounding box [W, S, E, N] of features (WGS 84), or the whole world when empty.
pub fn extent(features: &[Feature]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for f in features {
        if let Some(g) = &f.geometry {
            visit_positions(&g.value, &mut |x, y| {
                b[0] = b[0].min(x);
                b[1] = b[1].min(y);
                b[2] = b[2].max(x);
                b[3] = b[3].max(y);
            });
        }
    }
    if b[0].is_finite() {
        b
    } else {
        [-180.0, -90.0, 180.0, 90.0]
    }
}

/// Writes a function that calls `f` on every position of a geometry, by shared
/// (`each_position`) or by mutable (`each_position_mut`) reference: the one walk
/// over GeoJSON's geometry types, which a function cannot be generic over.
macro_rules! position_walk {
    ($(#[$doc:meta])* $name:ident, $iter:ident $(, $mut:tt)?) => {
        $(#[$doc])*
        pub fn $name(
            g: &$($mut)? geojson::GeometryValue,
            f: &mut impl FnMut(&$($mut)? geojson::Position),
        ) {
            use geojson::GeometryValue as G;
            match g {
                G::Point { coordinates } => f(coordinates),
                G::MultiPoint { coordinates } | G::LineString { coordinates } => {
                    coordinates.$iter().for_each(f)
                }
                G::MultiLineString { coordinates } | G::Polygon { coordinates } => {
                    coordinates.$iter().flatten().for_each(f)
                }
                G::MultiPolygon { coordinates } => {
                    coordinates.$iter().flatten().flatten().for_each(f)
                }
                G::GeometryCollection { geometries } => {
                    for g in geometries {
                        $name(&$($mut)? g.value, f);
                    }
                }
            }
        }
    };
}

position_walk!(
    /// Call `f` on every position of a geometry.
    each_position,
    iter
);
position_walk!(
    /// Call `f` on every position of a geometry, which it may change.
    each_position_mut,
    iter_mut,
    mut
);

/// Call `f(lon, lat)` for every position of a geometry (positions with fewer
/// than two coordinates are skipped).
pub fn visit_positions(g: &geojson::GeometryValue, f: &mut impl FnMut(f64, f64)) {
    each_position(g, &mut |p| {
        if p.len() >= 2 {
            f(p[0], p[1]);
        }
    });
}

/// Whether a feature's geometry has a position inside `bbox` or its extent
/// intersects it (the OGC `bbox` filter).
pub fn intersects(f: &Feature, bbox: &BBox) -> bool {
    if f.geometry.is_none() {
        return false;
    }
    let e = extent(std::slice::from_ref(f));
    let lat_ok = e[1] <= bbox.north && e[3] >= bbox.south;
    let lon_ok = if bbox.west <= bbox.east {
        e[0] <= bbox.east && e[2] >= bbox.west
    } else {
        e[0] <= bbox.east || e[2] >= bbox.west
    };
    lat_ok && lon_ok
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use yizhan_core::geodesy::LonLat;
    use yizhan_core::model::{Candidate, Hotspot, WorkerType};

    use super::*;

    fn at(r: &mut ChaCha8Rng) -> LonLat {
        // A town, with some points on the antimeridian's two sides.
        if r.random_bool(0.1) {
            LonLat::new(
                179.9 + r.random::<f64>() * 0.2 - 0.1,
                r.random::<f64>() * 10.0,
            )
        } else {
            LonLat::new(
                118.4 + r.random::<f64>() * 0.2,
                24.6 + r.random::<f64>() * 0.2,
            )
        }
        .expect("in range")
    }

    fn bbox(r: &mut ChaCha8Rng) -> BBox {
        let (w, s) = (
            118.35 + r.random::<f64>() * 0.3,
            24.55 + r.random::<f64>() * 0.3,
        );
        let (dw, ds) = (r.random::<f64>() * 0.15, r.random::<f64>() * 0.15);
        match r.random_range(0..5_u64) {
            0 => BBox::new(179.8, -1.0, -179.9, 11.0),
            1 => BBox::new(-180.0, -90.0, 180.0, 90.0),
            _ => BBox::new(w, s, (w + dw).min(180.0), (s + ds).min(90.0)),
        }
        .expect("valid box")
    }

    /// The index answers what a scan of the features answers, in the same order.
    #[test]
    fn indexed_bbox_matches_a_scan() {
        let mut r = ChaCha8Rng::seed_from_u64(0xB0B5_2026);
        let hotspots: Vec<Hotspot> = (0..3_000)
            .map(|i| Hotspot {
                id: format!("H{i:05}"),
                location: at(&mut r),
                workers: 1,
                worker_type: WorkerType::Courier,
                grid_unit: None,
                profile: None,
            })
            .collect();
        // Candidates at every sixth hotspot: points that two layers share.
        let mut candidates = Vec::new();
        for (i, h) in hotspots.iter().enumerate().step_by(6) {
            candidates.push(Candidate {
                id: format!("C{i}"),
                name: Some(h.id.clone()),
                location: h.location,
                capacity: Some(4),
            });
        }
        let mut stations = crate::tests::small_dataset().stations.items().to_vec();
        for s in &mut stations {
            s.location = at(&mut r);
        }
        let data = Dataset::new(stations, hotspots, vec![], candidates, None);
        let mut found = 0;
        for round in 0..200 {
            let b = bbox(&mut r);
            for c in [
                Collection::Stations,
                Collection::Hotspots,
                Collection::Candidates,
            ] {
                let feats = build(&data, c, Crs::Wgs84, 500.0).unwrap();
                let scan: Vec<usize> = (0..feats.len())
                    .filter(|&i| intersects(&feats[i], &b))
                    .collect();
                let indexed = indexed_in_bbox(&data, c, &b).expect("a point layer");
                assert_eq!(indexed, scan, "round {round}, {c:?}, {b:?}");
                found += indexed.len();
            }
        }
        assert!(found > 1_000, "the boxes found too little to test: {found}");
        let b = bbox(&mut r);
        for c in [Collection::Cells, Collection::Gaps, Collection::Boundary] {
            assert!(indexed_in_bbox(&data, c, &b).is_none(), "{c:?}");
        }
    }
}
