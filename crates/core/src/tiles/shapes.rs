//! An R-tree of feature extents (Web Mercator), one per zoom from which the
//! features are at least one tile unit large.

use geojson::Feature;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::{mercator, TileId, BUFFER, EXTENT, MAX_ZOOM};

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Feature extents by the zoom from which they are drawn.
#[derive(Debug, Default)]
pub struct ShapeIndex {
    levels: Vec<RTree<Entry>>,
}

impl ShapeIndex {
    /// Index the extents of `features` (positions in the slice).
    pub fn new(features: &[Feature]) -> Self {
        let mut by_level: Vec<Vec<Entry>> = (0..=MAX_ZOOM).map(|_| Vec::new()).collect();
        for (i, f) in features.iter().enumerate() {
            let Some(g) = &f.geometry else { continue };
            let mut b = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            visit(&g.value, &mut |lon, lat| {
                let (x, y) = mercator(lon, lat);
                b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            });
            if !b[0].is_finite() {
                continue;
            }
            let size = (b[2] - b[0]).max(b[3] - b[1]);
            // The first zoom at which the feature spans a tile unit.
            let level = if size > 0.0 {
                (-(size * f64::from(EXTENT)).log2())
                    .ceil()
                    .clamp(0.0, f64::from(MAX_ZOOM)) as usize
            } else {
                usize::from(MAX_ZOOM)
            };
            by_level[level].push(GeomWithData::new(
                Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]),
                i,
            ));
        }
        Self {
            levels: by_level.into_iter().map(RTree::bulk_load).collect(),
        }
    }

    /// Positions (sorted) of the features large enough to draw at the tile's
    /// zoom whose extent meets the tile with its [`BUFFER`].
    pub fn query(&self, t: TileId) -> Vec<usize> {
        let n = t.side();
        let b = f64::from(BUFFER) / f64::from(EXTENT);
        let env = AABB::from_corners(
            [(f64::from(t.x) - b) / n, (f64::from(t.y) - b) / n],
            [
                (f64::from(t.x) + 1.0 + b) / n,
                (f64::from(t.y) + 1.0 + b) / n,
            ],
        );
        let mut v: Vec<usize> = self
            .levels
            .iter()
            .take(usize::from(t.z) + 1)
            .flat_map(|r| r.locate_in_envelope_intersecting(&env).map(|e| e.data))
            .collect();
        v.sort_unstable();
        v
    }
}

fn visit(g: &geojson::GeometryValue, f: &mut impl FnMut(f64, f64)) {
    use geojson::GeometryValue as G;
    let mut each = |p: &geojson::Position| {
        if p.len() >= 2 {
            f(p[0], p[1]);
        }
    };
    match g {
        G::Point { coordinates } => each(coordinates),
        G::MultiPoint { coordinates } | G::LineString { coordinates } => {
            coordinates.iter().for_each(each)
        }
        G::MultiLineString { coordinates } | G::Polygon { coordinates } => {
            coordinates.iter().flatten().for_each(each)
        }
        G::MultiPolygon { coordinates } => coordinates.iter().flatten().flatten().for_each(each),
        G::GeometryCollection { geometries } => {
            for g in geometries {
                visit(&g.value, f);
            }
        }
    }
}
