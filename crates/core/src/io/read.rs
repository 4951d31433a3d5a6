//! The generic reader: a parsed FeatureCollection into domain types, every problem
//! named (feature index, property, what was wrong); and the entry points that try
//! the line reader ([`super::lines`]) first.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geojson::{Feature, FeatureCollection, GeometryValue, JsonObject, JsonValue};
use rayon::prelude::*;
use serde::Deserialize;

use super::dups::duplicate_ids;
use super::error::{FeatureError, Outcome, ReadError, Rejected};
use super::lines::feature::Feat;
use super::lines::{self, PointLayer};
use super::props::{CandidateProps, HotspotProps, Problems, StationProps};
use crate::crs::Crs;
use crate::geodesy::LonLat;
use crate::model::{Boundary, Candidate, GridCell, Hotspot, Road, RoadTags, Station};

/// Parse text into a FeatureCollection.
pub fn parse_collection(text: &str) -> Result<FeatureCollection, ReadError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| ReadError::Syntax(e.to_string()))?;
    match gj {
        geojson::GeoJson::FeatureCollection(fc) => Ok(fc),
        geojson::GeoJson::Feature(_) => Err(ReadError::NotACollection("Feature")),
        geojson::GeoJson::Geometry(_) => Err(ReadError::NotACollection("Geometry")),
    }
}

/// The properties of a feature as the layer's props struct (see [`super::props`]).
fn props_of<'a, P: Deserialize<'a> + Default>(f: &'a Feature, p: &mut Problems) -> P {
    let Some(map) = &f.properties else {
        return P::default();
    };
    let d = serde::de::value::MapDeserializer::new(map.iter().map(|(k, v)| (k.as_str(), v)));
    P::deserialize(d).unwrap_or_else(|e: serde_json::Error| {
        p.push("properties", e.to_string());
        P::default()
    })
}

/// The properties of a polygon layer, read value by value.
struct PolygonProps<'a>(Option<&'a JsonObject>);

impl PolygonProps<'_> {
    fn get(&self, key: &str) -> Option<&JsonValue> {
        self.0?.get(key).filter(|v| !v.is_null())
    }

    fn opt_str(&self, p: &mut Problems, key: &'static str) -> Option<String> {
        match self.get(key)? {
            JsonValue::String(s) => Some(s.clone()),
            JsonValue::Number(n) => Some(n.to_string()),
            other => {
                let t = type_name(other);
                p.push(key, format!("expected a string, found {t}"));
                None
            }
        }
    }

    fn opt_f64(&self, p: &mut Problems, key: &'static str) -> Option<f64> {
        let v = self.get(key)?;
        match v.as_f64().filter(|x| x.is_finite() && *x >= 0.0) {
            Some(x) => Some(x),
            None => {
                let t = type_name(v);
                p.push(key, format!("expected a number ≥ 0, found {t} {v}"));
                None
            }
        }
    }
}

fn type_name(v: &JsonValue) -> &'static str {
    match v {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "an array",
        JsonValue::Object(_) => "an object",
    }
}

/// The feature's id: the Feature id, else the `id` property; never blank.
fn feature_id(f: &Feature) -> Option<String> {
    match &f.id {
        Some(geojson::feature::Id::String(s)) => Some(s.clone()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
        None => f
            .properties
            .as_ref()
            .and_then(|p| p.get("id"))
            .and_then(|v| match v {
                JsonValue::String(s) => Some(s.clone()),
                JsonValue::Number(n) => Some(n.to_string()),
                _ => None,
            }),
    }
    .filter(|s| !s.trim().is_empty())
}

fn read_point(p: &mut Problems, f: &Feature, crs: Crs) -> Option<LonLat> {
    let Some(g) = &f.geometry else {
        p.push("geometry", "missing (expected a Point)");
        return None;
    };
    match &g.value {
        GeometryValue::Point { coordinates } if coordinates.len() >= 2 => {
            match LonLat::new(coordinates[0], coordinates[1]) {
                Ok(ll) => Some(crs.to_wgs84(ll)),
                Err(e) => {
                    p.push("geometry", e.to_string());
                    None
                }
            }
        }
        other => {
            p.push(
                "geometry",
                format!("expected a Point, found {}", other.type_name()),
            );
            None
        }
    }
}

/// Positions in `crs` as WGS 84 coordinates, or what is wrong with the first bad one.
fn positions(coords: &[geojson::Position], crs: Crs) -> Result<Vec<Coord<f64>>, String> {
    coords
        .iter()
        .map(|c| {
            if c.len() < 2 {
                return Err("a position needs two numbers".to_string());
            }
            LonLat::new(c[0], c[1])
                .map(|ll| crs.to_wgs84(ll))
                .map(|ll| Coord {
                    x: ll.lon,
                    y: ll.lat,
                })
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn ring(coords: &[geojson::Position], crs: Crs) -> Result<LineString<f64>, String> {
    if coords.len() < 4 {
        return Err(format!(
            "a ring needs at least 4 positions, found {}",
            coords.len()
        ));
    }
    let pts = positions(coords, crs)?;
    if pts.first() != pts.last() {
        return Err("ring is not closed (first and last positions differ)".into());
    }
    Ok(LineString::new(pts))
}

fn polygon(rings: &[Vec<geojson::Position>], crs: Crs) -> Result<Polygon<f64>, String> {
    let mut it = rings.iter();
    let ext = ring(it.next().ok_or("polygon has no rings")?, crs)?;
    let holes = it.map(|r| ring(r, crs)).collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(ext, holes))
}

fn read_multipolygon(p: &mut Problems, f: &Feature, crs: Crs) -> Option<MultiPolygon<f64>> {
    let Some(g) = &f.geometry else {
        p.push("geometry", "missing (expected a Polygon or MultiPolygon)");
        return None;
    };
    let r = match &g.value {
        GeometryValue::Polygon { coordinates } => {
            polygon(coordinates, crs).map(|p| MultiPolygon::new(vec![p]))
        }
        GeometryValue::MultiPolygon { coordinates } => coordinates
            .iter()
            .map(|c| polygon(c, crs))
            .collect::<Result<Vec<_>, _>>()
            .map(MultiPolygon::new),
        other => Err(format!(
            "expected a Polygon or MultiPolygon, found {}",
            other.type_name()
        )),
    };
    r.map_err(|e| p.push("geometry", e)).ok()
}

fn feature_errors(index: usize, id: &Option<String>, p: Problems) -> Vec<FeatureError> {
    p.0.into_iter()
        .map(|(field, message)| FeatureError {
            index,
            id: id.clone(),
            field: field.to_string(),
            message,
        })
        .collect()
}

/// Read one feature with `one`: the item, or the feature's id and problems.
fn read_feature<T>(
    index: usize,
    f: &Feature,
    one: &impl Fn(&mut Problems, &Feature, String) -> Option<T>,
) -> Outcome<T> {
    let id = feature_id(f);
    let mut p = Problems::default();
    let Some(item_id) = id.clone() else {
        p.push("id", "missing (set the Feature id or an \"id\" property)");
        let errors = feature_errors(index, &None, p);
        return Outcome::Rejected(Box::new(Rejected { id: None, errors }));
    };
    match one(&mut p, f, item_id) {
        Some(v) if p.is_empty() => Outcome::Item(v),
        _ => {
            let errors = feature_errors(index, &id, p);
            Outcome::Rejected(Box::new(Rejected { id, errors }))
        }
    }
}

/// Items with an id (checked for duplicates).
pub(crate) trait HasId {
    fn id(&self) -> &str;
}

macro_rules! has_id {
    ($($t:ty),*) => {$(
        impl HasId for $t {
            fn id(&self) -> &str {
                &self.id
            }
        }
    )*};
}
has_id!(Station, Hotspot, Candidate, GridCell, Road);

/// Collect the items of every feature, in order, and refuse duplicate ids: a feature
/// whose id an earlier feature has is reported as a duplicate (and nothing else).
pub(crate) fn finish<T: HasId + Send + Sync>(
    outcomes: Vec<Outcome<T>>,
) -> Result<Vec<T>, ReadError> {
    fn id<T: HasId>(o: &Outcome<T>) -> Option<&str> {
        match o {
            Outcome::Item(v) => Some(v.id()),
            Outcome::Rejected(r) => r.id.as_deref(),
            Outcome::Pending => None,
        }
    }
    let dups = duplicate_ids(outcomes.len(), |i| id(&outcomes[i]));
    let problems = !dups.is_empty()
        || outcomes
            .par_iter()
            .any(|o| matches!(o, Outcome::Rejected(r) if !r.errors.is_empty()));
    if !problems {
        // In place: the items reuse the outcomes' allocation (trimmed to size).
        let mut v: Vec<T> = outcomes
            .into_iter()
            .filter_map(|o| match o {
                Outcome::Item(v) => Some(v),
                _ => None,
            })
            .collect();
        v.shrink_to_fit();
        debug_assert!(v.iter().all(|v| !v.id().is_empty()));
        return Ok(v);
    }
    let mut errors = Vec::new();
    let mut dups = dups.into_iter().peekable();
    for (index, o) in outcomes.iter().enumerate() {
        if dups.next_if_eq(&index).is_some() {
            let id = id(o).unwrap_or_default();
            errors.push(FeatureError {
                index,
                id: Some(id.to_string()),
                field: "id".into(),
                message: format!("duplicate id {id:?}"),
            });
        } else if let Outcome::Rejected(r) = o {
            errors.extend(r.errors.iter().cloned());
        }
    }
    Err(ReadError::Features(errors))
}

/// Read each feature with `one`, collecting every error, and refuse duplicate ids.
fn read_all<T: HasId + Send + Sync>(
    fc: &FeatureCollection,
    one: impl Fn(&mut Problems, &Feature, String) -> Option<T> + Sync,
) -> Result<Vec<T>, ReadError> {
    let mut outcomes = Vec::new();
    fc.features
        .par_iter()
        .enumerate()
        .with_min_len(256)
        .map(|(index, f)| read_feature(index, f, &one))
        .collect_into_vec(&mut outcomes);
    finish(outcomes)
}

/// Read a point layer from the text of a file: one feature per line through the line
/// reader, anything else through [`parse_collection`] and the generic reader.
fn read_text<L: ReadPoints>(layer: &L, text: &str) -> Result<Vec<L::Item>, ReadError>
where
    L::Item: HasId,
{
    match lines::read_lines(layer, text) {
        Some(outcomes) => finish(outcomes),
        None => read_all(&parse_collection(text)?, |p, f, id| layer.one(p, f, id)),
    }
}

/// A point layer in a CRS, as both readers read it.
pub(crate) trait ReadPoints: PointLayer {
    /// The generic reader of one feature with a readable id.
    fn one(&self, p: &mut Problems, f: &Feature, id: String) -> Option<Self::Item>;
}

macro_rules! point_layer {
    ($(#[$m:meta])* $layer:ident, $props:ident, $item:ty, $convert:ident) => {
        $(#[$m])*
        pub(crate) struct $layer(pub Crs);

        impl PointLayer for $layer {
            type Props<'a> = $props<'a>;
            type Item = $item;
            fn fast<'a>(&self, f: Feat<'a, $props<'a>>) -> Option<$item> {
                let (id, location, props) = f.point_feature(self.0)?;
                let mut p = Problems::default();
                let item = props.$convert(id, Some(location), &mut p);
                item.filter(|_| p.is_empty())
            }
            fn slow(&self, index: usize, f: &Feature) -> Outcome<$item> {
                read_feature(index, f, &|p: &mut Problems, f: &Feature, id| self.one(p, f, id))
            }
        }

        impl ReadPoints for $layer {
            fn one(&self, p: &mut Problems, f: &Feature, id: String) -> Option<$item> {
                let location = read_point(p, f, self.0);
                props_of::<$props<'_>>(f, p).$convert(id, location, p)
            }
        }
    };
}

point_layer!(
    /// Stations in a CRS.
    StationLayer, StationProps, Station, station
);
point_layer!(
    /// Hotspots in a CRS.
    HotspotLayer, HotspotProps, Hotspot, hotspot
);
point_layer!(
    /// Candidate sites in a CRS.
    CandidateLayer, CandidateProps, Candidate, candidate
);

/// Read stations from a FeatureCollection (properties: see [`StationProps`]).
/// Coordinates in `crs` are converted to WGS 84.
pub fn read_stations(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Station>, ReadError> {
    let layer = StationLayer(crs);
    read_all(fc, |p, f, id| layer.one(p, f, id))
}

/// Read hotspots (properties: see [`HotspotProps`]).
pub fn read_hotspots(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Hotspot>, ReadError> {
    let layer = HotspotLayer(crs);
    read_all(fc, |p, f, id| layer.one(p, f, id))
}

/// Read candidate sites (properties: see [`CandidateProps`]).
pub fn read_candidates(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Candidate>, ReadError> {
    let layer = CandidateLayer(crs);
    read_all(fc, |p, f, id| layer.one(p, f, id))
}

/// Read grid cells. Geometry: a Polygon (a one-part MultiPolygon is accepted).
/// Properties: `grid_unit`, `unit_name`, `demand` (default 0).
pub fn read_cells(fc: &FeatureCollection, crs: Crs) -> Result<Vec<GridCell>, ReadError> {
    read_all(fc, |p, f, id| {
        let mp = read_multipolygon(p, f, crs)?;
        if mp.0.len() != 1 {
            p.push(
                "geometry",
                format!("a cell must be one polygon, found {}", mp.0.len()),
            );
            return None;
        }
        let polygon = mp.0.into_iter().next()?;
        let centroid = polygon_centroid(&polygon);
        let props = PolygonProps(f.properties.as_ref());
        let demand = props.opt_f64(p, "demand").unwrap_or(0.0);
        Some(GridCell {
            id,
            grid_unit: props.opt_str(p, "grid_unit"),
            unit_name: props.opt_str(p, "unit_name"),
            demand,
            centroid: centroid?,
            polygon,
        })
    })
}

fn read_line(p: &mut Problems, f: &Feature, crs: Crs) -> Option<LineString<f64>> {
    let Some(g) = &f.geometry else {
        p.push("geometry", "missing (expected a LineString)");
        return None;
    };
    let coords = match &g.value {
        GeometryValue::LineString { coordinates } => coordinates,
        GeometryValue::MultiLineString { coordinates } if coordinates.len() == 1 => &coordinates[0],
        other => {
            p.push(
                "geometry",
                format!("expected a LineString, found {}", other.type_name()),
            );
            return None;
        }
    };
    if coords.len() < 2 {
        p.push(
            "geometry",
            format!("a line needs at least 2 positions, found {}", coords.len()),
        );
        return None;
    }
    let pts = positions(coords, crs);
    pts.map(LineString::new)
        .map_err(|e| p.push("geometry", e))
        .ok()
}

/// Read roads. Geometry: a LineString (a one-part MultiLineString is accepted).
/// Properties: the OpenStreetMap tags of [`RoadTags`] (`highway` required).
pub fn read_roads(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Road>, ReadError> {
    read_all(fc, |p, f, id| {
        let line = read_line(p, f, crs);
        let props = JsonValue::Object(f.properties.clone().unwrap_or_default());
        let tags = match serde_json::from_value::<RoadTags>(props) {
            Ok(t) if t.highway.trim().is_empty() => {
                p.push("highway", "must not be blank");
                None
            }
            Ok(t) => Some(t),
            Err(e) => {
                p.push("properties", e.to_string());
                None
            }
        };
        Some(Road {
            id,
            line: line?,
            tags: tags?,
        })
    })
}

/// Read roads from the text of a GeoJSON file ([`parse_collection`] then [`read_roads`]).
pub fn read_roads_str(text: &str, crs: Crs) -> Result<Vec<Road>, ReadError> {
    read_roads(&parse_collection(text)?, crs)
}

/// Read stations from the text of a GeoJSON file: the same result (and the same
/// errors) as [`parse_collection`] then [`read_stations`], several times faster and
/// without a `serde_json::Value` tree for files written one feature per line, as
/// [`super::to_string_lines`] writes them.
pub fn read_stations_str(text: &str, crs: Crs) -> Result<Vec<Station>, ReadError> {
    read_text(&StationLayer(crs), text)
}

/// Read hotspots from the text of a GeoJSON file, as [`read_stations_str`].
pub fn read_hotspots_str(text: &str, crs: Crs) -> Result<Vec<Hotspot>, ReadError> {
    read_text(&HotspotLayer(crs), text)
}

/// Read candidate sites from the text of a GeoJSON file, as [`read_stations_str`].
pub fn read_candidates_str(text: &str, crs: Crs) -> Result<Vec<Candidate>, ReadError> {
    read_text(&CandidateLayer(crs), text)
}

/// Read grid cells from the text of a GeoJSON file ([`parse_collection`] then [`read_cells`]).
pub fn read_cells_str(text: &str, crs: Crs) -> Result<Vec<GridCell>, ReadError> {
    read_cells(&parse_collection(text)?, crs)
}

/// Read a boundary from the text of a GeoJSON file ([`parse_collection`] then [`read_boundary`]).
pub fn read_boundary_str(text: &str, crs: Crs) -> Result<Boundary, ReadError> {
    read_boundary(&parse_collection(text)?, crs)
}

/// Centroid of a polygon as a position (None for a degenerate polygon).
pub fn polygon_centroid(p: &Polygon<f64>) -> Option<LonLat> {
    use geo::Centroid;
    let c = p.centroid()?;
    LonLat::new(c.x(), c.y()).ok()
}

/// Read a boundary: every Polygon / MultiPolygon feature is merged into one MultiPolygon;
/// the first feature's properties are kept (its `name` names the boundary).
pub fn read_boundary(fc: &FeatureCollection, crs: Crs) -> Result<Boundary, ReadError> {
    let mut errors = Vec::new();
    let mut polys = Vec::new();
    for (index, f) in fc.features.iter().enumerate() {
        let mut p = Problems::default();
        if let Some(mp) = read_multipolygon(&mut p, f, crs) {
            polys.extend(mp.0);
        }
        errors.extend(feature_errors(index, &feature_id(f), p));
    }
    if fc.features.is_empty() {
        errors.push(FeatureError {
            index: 0,
            id: None,
            field: "features".into(),
            message: "a boundary needs at least one polygon".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ReadError::Features(errors));
    }
    let properties = fc.features[0].properties.clone().unwrap_or_default();
    let name = properties
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("boundary")
        .to_string();
    Ok(Boundary {
        name,
        geometry: MultiPolygon::new(polys),
        properties,
    })
}
