//! The vector tile layers: one table ([`spec`]) saying, for every published
//! collection, how its tiles are made (geometry, zooms, aggregation, whether it
//! changes with writes), and the building of a tile from a snapshot. The HTTP
//! side (paths, TileJSON, ETag) is `routes::tiles`.

use std::sync::Arc;

use geojson::Feature;
use serde_json::Value;
use yizhan_core::crs::Crs;
use yizhan_core::tiles::{
    PointPyramid, ShapeIndex, TileEncoder, TileId, BUFFER, MAX_POINTS_PER_TILE, MAX_ZOOM,
};

use crate::error::ApiError;
use crate::layers::{self, Collection};
use crate::state::{AppState, Snapshot};

/// The zoom from which hotspots are served one by one (below it, aggregated).
pub const HOTSPOT_DETAIL_ZOOM: u8 = 14;

/// What a layer's features are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Points, found through the layer's spatial index and aggregated where a
    /// tile would hold too many.
    Point,
    /// Polygons or lines, found through a [`ShapeIndex`] of their extents.
    Area,
}

/// How a layer's points are aggregated into a tile's grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregation {
    /// Tiles below this zoom are always aggregated.
    pub below_zoom: u8,
    /// The field with the number of points in a grid cell.
    pub count_field: &'static str,
    /// The field with their summed weight, and what the weight is.
    pub weight_field: &'static str,
}

/// How one collection is served as tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileSpec {
    /// The collection (its id is the layer's name in the tile).
    pub collection: Collection,
    /// Points or areas.
    pub shape: Shape,
    /// Aggregation of point layers (tiles with more than
    /// [`MAX_POINTS_PER_TILE`] points around them are aggregated at any zoom).
    pub aggregation: Option<Aggregation>,
    /// Whether the tiles change with writes (station edits, occupancy reports):
    /// served with `Cache-Control: no-cache` (revalidate with the ETag); other
    /// layers may be cached for [`STATIC_MAX_AGE_S`].
    pub live: bool,
}

/// How long a client may keep a tile of a layer that does not change with writes.
pub const STATIC_MAX_AGE_S: u64 = 3600;

/// The one table of tile layers.
pub fn spec(c: Collection) -> TileSpec {
    let point = |aggregation| TileSpec {
        collection: c,
        shape: Shape::Point,
        aggregation: Some(aggregation),
        live: c.reads_stations() || c.shows_occupancy(),
    };
    let area = TileSpec {
        collection: c,
        shape: Shape::Area,
        aggregation: None,
        live: c.reads_stations() || c.shows_occupancy(),
    };
    match c {
        Collection::Stations => point(Aggregation {
            below_zoom: 0,
            count_field: "stations",
            weight_field: "capacity",
        }),
        Collection::Hotspots => point(Aggregation {
            below_zoom: HOTSPOT_DETAIL_ZOOM,
            count_field: "hotspots",
            weight_field: "workers",
        }),
        Collection::Candidates => point(Aggregation {
            below_zoom: 0,
            count_field: "candidates",
            weight_field: "capacity",
        }),
        // Lines (roads) take the same path as areas: clipped, simplified, by extent.
        Collection::Cells
        | Collection::Gaps
        | Collection::Boundary
        | Collection::Roads
        | Collection::Water => area,
    }
}

impl TileSpec {
    /// Whether the tile at `t` is aggregated, given its points and its
    /// neighbours' (`around`).
    pub fn aggregates(&self, t: TileId, around: usize) -> bool {
        self.aggregation
            .is_some_and(|a| t.z < a.below_zoom || around > MAX_POINTS_PER_TILE)
    }

    /// The rule, in words (for the TileJSON description).
    pub fn rule(&self) -> String {
        let grid = yizhan_core::tiles::AGGREGATE_GRID;
        match self.aggregation {
            Some(a) => {
                let when = if a.below_zoom > 0 {
                    format!(
                        "At zoom below {}, or where a tile and its neighbours hold more than {MAX_POINTS_PER_TILE} points,",
                        a.below_zoom
                    )
                } else {
                    format!("Where a tile and its neighbours hold more than {MAX_POINTS_PER_TILE} points,")
                };
                format!(
                    "{when} the points are aggregated into a {grid}x{grid} grid per tile: one point per non-empty grid cell, at the mean position of its points, with `{}` (how many) and `{}` (their sum) as its only fields.",
                    a.count_field, a.weight_field
                )
            }
            None => format!(
                "Clipped to the tile with a {BUFFER}-unit buffer (of 4096) and simplified to one tile unit; features smaller than a tile unit are left out."
            ),
        }
    }
}

/// What a snapshot keeps to find a layer's features for a tile.
#[derive(Debug)]
pub enum TileSource {
    /// A point layer along the quadtree, weighted.
    Points(PointPyramid),
    /// An area layer's extents.
    Areas(ShapeIndex),
}

/// Build the tile source of a collection.
pub fn source(data: &yizhan_core::Dataset, spec: &TileSpec, features: &[Feature]) -> TileSource {
    match spec.shape {
        Shape::Area => TileSource::Areas(ShapeIndex::new(features)),
        Shape::Point => {
            let pts: Vec<(f64, f64, u64)> = match spec.collection {
                Collection::Stations => data
                    .stations
                    .items()
                    .iter()
                    .map(|s| (s.location.lon, s.location.lat, u64::from(s.capacity)))
                    .collect(),
                Collection::Hotspots => data
                    .hotspots
                    .items()
                    .iter()
                    .map(|h| (h.location.lon, h.location.lat, u64::from(h.workers)))
                    .collect(),
                Collection::Candidates => data
                    .candidates
                    .items()
                    .iter()
                    .map(|c| {
                        let cap = c.capacity.map_or(0, u64::from);
                        (c.location.lon, c.location.lat, cap)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            TileSource::Points(PointPyramid::new(pts))
        }
    }
}

/// Add the layer of collection `c` to the tile `enc` from `snap`. Returns the
/// features written.
pub fn add_layer(
    st: &AppState,
    snap: &Snapshot,
    c: Collection,
    enc: &mut TileEncoder,
) -> Result<usize, ApiError> {
    let t = enc.id();
    let spec = spec(c);
    let features = snap.features(c, Crs::Wgs84, st.config().default_cutoff_m)?;
    let source = snap.tile_source(c, || source(&snap.data, &spec, &features));
    let name = c.as_str();
    let n = match &*source {
        TileSource::Points(p) => {
            let around = p.count_around(t);
            if spec.aggregates(t, around) {
                let a = spec.aggregation.expect("aggregated layers have a rule");
                enc.add_aggregates(name, &p.aggregate(t), a.count_field, a.weight_field)
            } else {
                let at = layers::indexed_in_bbox(&snap.data, c, &padded(t.bbox(BUFFER)))
                    .unwrap_or_default();
                if c.shows_occupancy() {
                    let fresh = st.freshness();
                    let with_seats: Vec<(u64, Feature)> = at
                        .into_iter()
                        .filter_map(|i| {
                            let mut f = features.get(i)?.clone();
                            let seats = snap.data.station_at(i).and_then(|s| fresh.free_seats(&s));
                            if let Some(p) = f.properties.as_mut() {
                                p.insert(
                                    "free_seats".into(),
                                    seats.map_or(Value::Null, Value::from),
                                );
                            }
                            Some((i as u64, f))
                        })
                        .collect();
                    enc.add_layer(name, with_seats.iter().map(|(i, f)| (*i, f)))
                } else {
                    enc.add_layer(
                        name,
                        at.into_iter()
                            .filter_map(|i| features.get(i).map(|f| (i as u64, f))),
                    )
                }
            }
        }
        TileSource::Areas(idx) => enc.add_layer(
            name,
            idx.query(t)
                .into_iter()
                .filter_map(|i| features.get(i).map(|f| (i as u64, f))),
        ),
    };
    n.map_err(|e| ApiError::internal("tile encoding", e))
}

/// A box a little larger (so a point on its edge, projected back, is not lost
/// to rounding); the encoder keeps exactly the points in the buffered tile.
fn padded(b: yizhan_core::index::BBox) -> yizhan_core::index::BBox {
    let e = 1e-9;
    yizhan_core::index::BBox {
        west: (b.west - e).max(-180.0),
        south: (b.south - e).max(-90.0),
        east: (b.east + e).min(180.0),
        north: (b.north + e).min(90.0),
    }
}

/// The TileJSON `fields` of a collection: each property name with its type
/// (`String`, `Number` or `Boolean`, as martin lists them), plus the aggregate
/// fields of an aggregated layer.
pub fn fields(c: Collection, features: &[Feature]) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for f in features {
        for (k, v) in f.properties.iter().flatten() {
            let ty = match v {
                Value::Null => continue,
                Value::Bool(_) => "Boolean",
                Value::Number(_) => "Number",
                _ => "String",
            };
            out.entry(k.clone()).or_insert_with(|| Value::from(ty));
        }
        if f.id.is_some() {
            out.entry("id").or_insert_with(|| Value::from("String"));
        }
    }
    if c.shows_occupancy() {
        out.insert("free_seats".into(), Value::from("Number"));
    }
    if let Some(a) = spec(c).aggregation {
        out.insert(a.count_field.into(), Value::from("Number"));
        out.entry(a.weight_field)
            .or_insert_with(|| Value::from("Number"));
    }
    out
}

/// The zooms served.
pub const ZOOMS: std::ops::RangeInclusive<u8> = 0..=MAX_ZOOM;

/// Shared so that a tile source can be kept by a snapshot.
pub type SharedSource = Arc<TileSource>;
