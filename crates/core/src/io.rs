//! GeoJSON in and out.
//!
//! Reading turns a FeatureCollection into domain types and reports *every* problem,
//! each naming the feature index, the property and what was wrong. Writing produces
//! RFC 7946: lon, lat order, counter-clockwise exterior rings, no `crs` member,
//! and the feature `id` both as the Feature id and as an `id` property (QGIS and
//! OGC clients read the first, spreadsheets the second).

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use geo::orient::{Direction, Orient};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geojson::{Feature, FeatureCollection, Geometry, GeometryValue, JsonObject, JsonValue};

use crate::crs::Crs;
use crate::geodesy::LonLat;
use crate::hours::OpeningHours;
use crate::model::{
    AmenitySet, Boundary, Candidate, GridCell, Hotspot, Occupancy, Station, StationKind, WorkerType,
};

/// One problem with one feature of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureError {
    /// Position of the feature in the collection (0-based).
    pub index: usize,
    /// The feature's id, when it has a readable one.
    pub id: Option<String>,
    /// The property (or `geometry`, `id`) at fault.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "feature {}", self.index)?;
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        write!(f, ": {}: {}", self.field, self.message)
    }
}

/// Why a GeoJSON document could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Not JSON, or not GeoJSON.
    #[error("not valid GeoJSON: {0}")]
    Syntax(String),
    /// Valid GeoJSON, but not a FeatureCollection.
    #[error("expected a FeatureCollection, found a {0}")]
    NotACollection(&'static str),
    /// One or more features are invalid; every problem is listed.
    #[error("{} invalid feature(s); first: {}", .0.len(), .0[0])]
    Features(Vec<FeatureError>),
}

impl ReadError {
    /// Every problem as one line each.
    pub fn lines(&self) -> Vec<String> {
        match self {
            ReadError::Features(v) => v.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

/// The layers of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Layer {
    /// Service stations.
    Stations,
    /// Outdoor-worker hotspots (demand points).
    Hotspots,
    /// Grid cells.
    Cells,
    /// The town's outline.
    Boundary,
    /// Candidate sites.
    Candidates,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 5] = [
        Layer::Stations,
        Layer::Hotspots,
        Layer::Cells,
        Layer::Boundary,
        Layer::Candidates,
    ];

    /// The layer's name, also its file stem in a dataset folder.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Stations => "stations",
            Layer::Hotspots => "hotspots",
            Layer::Cells => "cells",
            Layer::Boundary => "boundary",
            Layer::Candidates => "candidates",
        }
    }

    /// Guess the layer of a file from its name (`…/stations.geojson` → stations).
    pub fn from_path(path: &std::path::Path) -> Option<Layer> {
        let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
        Layer::ALL.into_iter().find(|l| stem.contains(l.as_str()))
    }
}

impl FromStr for Layer {
    type Err = crate::model::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| crate::model::UnknownName {
                what: "layer",
                value: s.to_string(),
                expected: Layer::ALL.map(|l| l.as_str()).join(", "),
            })
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Reads the properties of one feature, collecting problems instead of stopping.
struct Props<'a> {
    index: usize,
    id: Option<String>,
    props: Option<&'a JsonObject>,
    errors: &'a mut Vec<FeatureError>,
}

impl Props<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FeatureError {
            index: self.index,
            id: self.id.clone(),
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn get(&self, key: &str) -> Option<&JsonValue> {
        self.props?.get(key).filter(|v| !v.is_null())
    }

    fn opt_str(&mut self, key: &str) -> Option<String> {
        match self.get(key)? {
            JsonValue::String(s) => Some(s.clone()),
            JsonValue::Number(n) => Some(n.to_string()),
            other => {
                let t = type_name(other);
                self.err(key, format!("expected a string, found {t}"));
                None
            }
        }
    }

    fn req_str(&mut self, key: &str) -> Option<String> {
        let v = self.opt_str(key);
        if v.is_none() && self.get(key).is_none() {
            self.err(key, "missing");
        }
        v.filter(|s| !s.trim().is_empty()).or_else(|| {
            if self
                .get(key)
                .is_some_and(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
            {
                self.err(key, "must not be empty");
            }
            None
        })
    }

    fn opt_u32(&mut self, key: &str) -> Option<u32> {
        let v = self.get(key)?;
        match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                let found = match v {
                    JsonValue::Number(n) => format!("{n}"),
                    other => type_name(other).to_string(),
                };
                self.err(key, format!("expected a whole number ≥ 0, found {found}"));
                None
            }
        }
    }

    fn opt_f64(&mut self, key: &str) -> Option<f64> {
        let v = self.get(key)?;
        match v.as_f64().filter(|x| x.is_finite() && *x >= 0.0) {
            Some(x) => Some(x),
            None => {
                let t = type_name(v);
                self.err(key, format!("expected a number ≥ 0, found {t} {v}"));
                None
            }
        }
    }

    fn opt_parse<T: FromStr>(&mut self, key: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let s = self.opt_str(key)?;
        match s.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(key, e.to_string());
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

fn read_point(p: &mut Props<'_>, f: &Feature, crs: Crs) -> Option<LonLat> {
    let Some(g) = &f.geometry else {
        p.err("geometry", "missing (expected a Point)");
        return None;
    };
    match &g.value {
        GeometryValue::Point { coordinates } if coordinates.len() >= 2 => {
            match LonLat::new(coordinates[0], coordinates[1]) {
                Ok(ll) => Some(crs.to_wgs84(ll)),
                Err(e) => {
                    p.err("geometry", e.to_string());
                    None
                }
            }
        }
        other => {
            p.err(
                "geometry",
                format!("expected a Point, found {}", other.type_name()),
            );
            None
        }
    }
}

fn ring(coords: &[geojson::Position], crs: Crs) -> Result<LineString<f64>, String> {
    if coords.len() < 4 {
        return Err(format!(
            "a ring needs at least 4 positions, found {}",
            coords.len()
        ));
    }
    let pts = coords
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
        .collect::<Result<Vec<_>, _>>()?;
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

fn read_multipolygon(p: &mut Props<'_>, f: &Feature, crs: Crs) -> Option<MultiPolygon<f64>> {
    let Some(g) = &f.geometry else {
        p.err("geometry", "missing (expected a Polygon or MultiPolygon)");
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
    r.map_err(|e| p.err("geometry", e)).ok()
}

/// Read each feature with `one`, collecting every error, and refuse duplicate ids.
fn read_all<T>(
    fc: &FeatureCollection,
    mut one: impl FnMut(&mut Props<'_>, &Feature, String) -> Option<T>,
    id_of: impl Fn(&T) -> &str,
) -> Result<Vec<T>, ReadError> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(fc.features.len());
    let mut seen = HashSet::new();
    for (index, f) in fc.features.iter().enumerate() {
        let id = feature_id(f);
        let mut p = Props {
            index,
            id: id.clone(),
            props: f.properties.as_ref(),
            errors: &mut errors,
        };
        let Some(id) = id else {
            p.err("id", "missing (set the Feature id or an \"id\" property)");
            continue;
        };
        if !seen.insert(id.clone()) {
            p.err("id", format!("duplicate id {id:?}"));
            continue;
        }
        let before = p.errors.len();
        if let Some(v) = one(&mut p, f, id) {
            if p.errors.len() == before {
                out.push(v);
            }
        }
    }
    debug_assert!(out.iter().all(|v| !id_of(v).is_empty()));
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ReadError::Features(errors))
    }
}

/// Read stations from a FeatureCollection. Coordinates in `crs` are converted to WGS 84.
///
/// Properties: `name` (required), `name_zh`, `kind` (default `rest_station`),
/// `amenities` (array of names or a comma-separated string), `capacity` (required),
/// `opening_hours` (default `24/7`), `grid_unit`, `operator`, `address`, and
/// optionally `occupied` with `occupancy_reported_at` (RFC 3339).
pub fn read_stations(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Station>, ReadError> {
    read_all(
        fc,
        |p, f, id| {
            let location = read_point(p, f, crs);
            let name = p.req_str("name");
            let name_zh = p.opt_str("name_zh");
            let kind = p
                .opt_parse::<StationKind>("kind")
                .unwrap_or(StationKind::RestStation);
            let amenities = match p.get("amenities").cloned() {
                None => AmenitySet::empty(),
                Some(JsonValue::String(s)) => AmenitySet::parse_list(&s)
                    .map_err(|e| p.err("amenities", e.to_string()))
                    .unwrap_or_default(),
                Some(JsonValue::Array(items)) => {
                    let mut set = AmenitySet::empty();
                    for it in items {
                        match it.as_str().map(str::parse) {
                            Some(Ok(a)) => set.insert(a),
                            Some(Err(e)) => p.err("amenities", e.to_string()),
                            None => p.err(
                                "amenities",
                                format!("expected names, found {}", type_name(&it)),
                            ),
                        }
                    }
                    set
                }
                Some(other) => {
                    p.err(
                        "amenities",
                        format!("expected an array of names, found {}", type_name(&other)),
                    );
                    AmenitySet::empty()
                }
            };
            let capacity = p.opt_u32("capacity");
            if capacity.is_none() && p.get("capacity").is_none() {
                p.err("capacity", "missing");
            }
            let opening_hours = match p.opt_str("opening_hours") {
                None => OpeningHours::always(),
                Some(s) => match s.parse() {
                    Ok(h) => h,
                    Err(e) => {
                        p.err("opening_hours", format!("{e}"));
                        OpeningHours::always()
                    }
                },
            };
            let occupied = p.opt_u32("occupied");
            let reported = p.opt_str("occupancy_reported_at");
            let occupancy = match (occupied, reported) {
                (Some(occupied), Some(r)) => match chrono::DateTime::parse_from_rfc3339(&r) {
                    Ok(t) => Some(Occupancy {
                        occupied,
                        reported_at: t.with_timezone(&chrono::Utc),
                    }),
                    Err(e) => {
                        p.err(
                            "occupancy_reported_at",
                            format!("not an RFC 3339 time: {e}"),
                        );
                        None
                    }
                },
                (Some(_), None) => {
                    p.err("occupancy_reported_at", "missing (required with occupied)");
                    None
                }
                _ => None,
            };
            Some(Station {
                id,
                name: name?,
                name_zh,
                kind,
                location: location?,
                amenities,
                capacity: capacity?,
                occupancy,
                opening_hours,
                grid_unit: p.opt_str("grid_unit"),
                operator: p.opt_str("operator"),
                address: p.opt_str("address"),
            })
        },
        |s| &s.id,
    )
}

/// Read hotspots. Properties: `workers` (required, whole number), `worker_type`
/// (default `other`), `grid_unit`.
pub fn read_hotspots(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Hotspot>, ReadError> {
    read_all(
        fc,
        |p, f, id| {
            let location = read_point(p, f, crs);
            let workers = p.opt_u32("workers");
            if workers.is_none() && p.get("workers").is_none() {
                p.err("workers", "missing");
            }
            let worker_type = p
                .opt_parse::<WorkerType>("worker_type")
                .unwrap_or(WorkerType::Other);
            Some(Hotspot {
                id,
                location: location?,
                workers: workers?,
                worker_type,
                grid_unit: p.opt_str("grid_unit"),
            })
        },
        |h| &h.id,
    )
}

/// Read grid cells. Geometry: a Polygon (a one-part MultiPolygon is accepted).
/// Properties: `grid_unit`, `unit_name`, `demand` (default 0).
pub fn read_cells(fc: &FeatureCollection, crs: Crs) -> Result<Vec<GridCell>, ReadError> {
    read_all(
        fc,
        |p, f, id| {
            let mp = read_multipolygon(p, f, crs)?;
            if mp.0.len() != 1 {
                p.err(
                    "geometry",
                    format!("a cell must be one polygon, found {}", mp.0.len()),
                );
                return None;
            }
            let polygon = mp.0.into_iter().next()?;
            let centroid = polygon_centroid(&polygon);
            let demand = p.opt_f64("demand").unwrap_or(0.0);
            Some(GridCell {
                id,
                grid_unit: p.opt_str("grid_unit"),
                unit_name: p.opt_str("unit_name"),
                demand,
                centroid: centroid?,
                polygon,
            })
        },
        |c| &c.id,
    )
}

/// Centroid of a polygon as a position (None for a degenerate polygon).
pub fn polygon_centroid(p: &Polygon<f64>) -> Option<LonLat> {
    use geo::Centroid;
    let c = p.centroid()?;
    LonLat::new(c.x(), c.y()).ok()
}

/// Read candidate sites. Properties: `name`, `capacity`.
pub fn read_candidates(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Candidate>, ReadError> {
    read_all(
        fc,
        |p, f, id| {
            let location = read_point(p, f, crs);
            Some(Candidate {
                id,
                name: p.opt_str("name"),
                capacity: p.opt_u32("capacity"),
                location: location?,
            })
        },
        |c| &c.id,
    )
}

/// Read a boundary: every Polygon / MultiPolygon feature is merged into one MultiPolygon;
/// the first feature's properties are kept (its `name` names the boundary).
pub fn read_boundary(fc: &FeatureCollection, crs: Crs) -> Result<Boundary, ReadError> {
    let mut errors = Vec::new();
    let mut polys = Vec::new();
    for (index, f) in fc.features.iter().enumerate() {
        let mut p = Props {
            index,
            id: feature_id(f),
            props: f.properties.as_ref(),
            errors: &mut errors,
        };
        if let Some(mp) = read_multipolygon(&mut p, f, crs) {
            polys.extend(mp.0);
        }
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

// ---------------------------------------------------------------- writing

fn point_geometry(p: LonLat, crs: Crs) -> Geometry {
    let p = crs.from_wgs84(p);
    Geometry::new(GeometryValue::new_point([round7(p.lon), round7(p.lat)]))
}

/// Round a degree value to 7 decimals (≈ 1 cm), as RFC 7946 §11.2 recommends.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

fn map_coords_crs(mp: &MultiPolygon<f64>, crs: Crs) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(|c| {
        let ll = crs.from_wgs84(LonLat { lon: c.x, lat: c.y });
        Coord {
            x: round7(ll.lon),
            y: round7(ll.lat),
        }
    })
}

/// Geometry for polygons: exterior rings counter-clockwise, holes clockwise (RFC 7946 §3.1.6).
pub fn multipolygon_geometry(mp: &MultiPolygon<f64>, crs: Crs) -> Geometry {
    let oriented = map_coords_crs(mp, crs).orient(Direction::Default);
    if oriented.0.len() == 1 {
        Geometry::new(GeometryValue::from(&oriented.0[0]))
    } else {
        Geometry::new(GeometryValue::from(&oriented))
    }
}

fn feature(id: &str, geometry: Geometry, mut props: JsonObject) -> Feature {
    props.insert("id".into(), JsonValue::String(id.to_string()));
    Feature {
        bbox: None,
        geometry: Some(geometry),
        id: Some(geojson::feature::Id::String(id.to_string())),
        properties: Some(props),
        foreign_members: None,
    }
}

fn obj(pairs: impl IntoIterator<Item = (&'static str, JsonValue)>) -> JsonObject {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Properties of a station as written in GeoJSON (without `id`).
pub fn station_properties(s: &Station) -> JsonObject {
    use serde_json::json;
    obj([
        ("name", json!(s.name)),
        ("name_zh", json!(s.name_zh)),
        ("kind", json!(s.kind.as_str())),
        ("amenities", json!(s.amenities)),
        ("capacity", json!(s.capacity)),
        ("opening_hours", json!(s.opening_hours.as_str())),
        ("grid_unit", json!(s.grid_unit)),
        ("operator", json!(s.operator)),
        ("address", json!(s.address)),
        ("occupied", json!(s.occupancy.map(|o| o.occupied))),
        (
            "occupancy_reported_at",
            json!(s.occupancy.map(|o| o.reported_at.to_rfc3339())),
        ),
    ])
}

/// A station as a GeoJSON Feature; `extra` properties are added (e.g. `distance_m`).
pub fn station_feature(s: &Station, crs: Crs, extra: JsonObject) -> Feature {
    let mut props = station_properties(s);
    props.extend(extra);
    feature(&s.id, point_geometry(s.location, crs), props)
}

/// A hotspot as a GeoJSON Feature.
pub fn hotspot_feature(h: &Hotspot, crs: Crs) -> Feature {
    use serde_json::json;
    feature(
        &h.id,
        point_geometry(h.location, crs),
        obj([
            ("workers", json!(h.workers)),
            ("worker_type", json!(h.worker_type.as_str())),
            ("grid_unit", json!(h.grid_unit)),
        ]),
    )
}

/// A grid cell as a GeoJSON Feature; `extra` properties are added (e.g. gap fields).
pub fn cell_feature(c: &GridCell, crs: Crs, extra: JsonObject) -> Feature {
    use serde_json::json;
    let mut props = obj([
        ("grid_unit", json!(c.grid_unit)),
        ("unit_name", json!(c.unit_name)),
        ("demand", json!(c.demand)),
    ]);
    props.extend(extra);
    feature(
        &c.id,
        multipolygon_geometry(&MultiPolygon::new(vec![c.polygon.clone()]), crs),
        props,
    )
}

/// A candidate site as a GeoJSON Feature.
pub fn candidate_feature(c: &Candidate, crs: Crs) -> Feature {
    use serde_json::json;
    feature(
        &c.id,
        point_geometry(c.location, crs),
        obj([("name", json!(c.name)), ("capacity", json!(c.capacity))]),
    )
}

/// The boundary as a GeoJSON Feature.
pub fn boundary_feature(b: &Boundary, crs: Crs) -> Feature {
    let mut props = b.properties.clone();
    props.insert("name".into(), JsonValue::String(b.name.clone()));
    let id = props
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or("boundary")
        .to_string();
    feature(&id, multipolygon_geometry(&b.geometry, crs), props)
}

/// Serialise a collection as compact RFC 7946 text.
pub fn to_string(features: Vec<Feature>) -> String {
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
    .to_string()
}

/// Serialise a collection one feature per line (readable, diff-friendly, and what the
/// sample dataset files use so that regenerated files compare byte for byte).
pub fn to_string_lines(features: &[Feature]) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        out.push_str(&f.to_string());
        out.push_str(if i + 1 < features.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATIONS: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[118.47,24.72]},
  "properties":{"name":"Alpha","amenities":["microwave","charging"],"capacity":12,"opening_hours":"Mo-Fr 08:00-18:00"}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[118.48,24.73]},
  "properties":{"id":"B","name":"Beta","amenities":"books, wifi","capacity":4,"kind":"childcare_class"}}
]}"#;

    #[test]
    fn reads_stations() {
        let fc = parse_collection(STATIONS).unwrap();
        let s = read_stations(&fc, Crs::Wgs84).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].id, "A");
        assert_eq!(s[0].capacity, 12);
        assert_eq!(s[1].kind, StationKind::ChildcareClass);
        assert!(s[1].opening_hours.is_always_open());
        assert_eq!(s[1].amenities.iter().count(), 2);
    }

    #[test]
    fn round_trips_stations() {
        let fc = parse_collection(STATIONS).unwrap();
        let s = read_stations(&fc, Crs::Wgs84).unwrap();
        let text = to_string(
            s.iter()
                .map(|x| station_feature(x, Crs::Wgs84, JsonObject::new()))
                .collect(),
        );
        assert!(!text.contains("\"crs\""));
        let again = read_stations(&parse_collection(&text).unwrap(), Crs::Wgs84).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn reports_every_problem_with_index_and_property() {
        let bad = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[118.47,123]},"properties":{"name":"x","capacity":3}},
 {"type":"Feature","id":"B","geometry":{"type":"Point","coordinates":[118.47,24]},"properties":{"name":"y","capacity":"ten","amenities":["sauna"]}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"z","capacity":1}},
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"dup","capacity":1}},
 {"type":"Feature","id":"E","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"capacity":-1}}
]}"#;
        let err = read_stations(&parse_collection(bad).unwrap(), Crs::Wgs84).unwrap_err();
        let lines = err.lines();
        let all = lines.join("\n");
        assert!(
            all.contains("feature 0 (id \"A\"): geometry: latitude 123"),
            "{all}"
        );
        assert!(
            all.contains("feature 1 (id \"B\"): capacity: expected a whole number"),
            "{all}"
        );
        assert!(
            all.contains("feature 1 (id \"B\"): amenities: unknown amenity \"sauna\""),
            "{all}"
        );
        assert!(all.contains("feature 2: id: missing"), "{all}");
        assert!(
            all.contains("feature 3 (id \"A\"): id: duplicate id"),
            "{all}"
        );
        assert!(
            all.contains("feature 4 (id \"E\"): geometry: expected a Point, found LineString"),
            "{all}"
        );
        assert!(all.contains("feature 4 (id \"E\"): name: missing"), "{all}");
        assert!(
            all.contains("feature 4 (id \"E\"): capacity: expected a whole number ≥ 0, found -1"),
            "{all}"
        );
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert!(matches!(
            parse_collection("{nope"),
            Err(ReadError::Syntax(_))
        ));
        assert!(matches!(
            parse_collection(r#"{"type":"Point","coordinates":[1,2]}"#),
            Err(ReadError::NotACollection("Geometry"))
        ));
        assert!(matches!(parse_collection("[]"), Err(ReadError::Syntax(_))));
    }

    #[test]
    fn polygons_are_written_counter_clockwise() {
        // A clockwise square in, counter-clockwise out.
        let cw = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"c1",
          "geometry":{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]},"properties":{"demand":3}}]}"#;
        let cells = read_cells(&parse_collection(cw).unwrap(), Crs::Wgs84).unwrap();
        assert!((cells[0].centroid.lon - 0.5).abs() < 1e-9);
        let f = cell_feature(&cells[0], Crs::Wgs84, JsonObject::new());
        let GeometryValue::Polygon { coordinates } = &f.geometry.unwrap().value else {
            panic!("not a polygon")
        };
        let ring = &coordinates[0];
        let area2: f64 = ring
            .windows(2)
            .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
            .sum();
        assert!(area2 > 0.0, "exterior ring must be counter-clockwise");
    }

    #[test]
    fn gcj02_input_is_converted() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"h","geometry":{"type":"Point","coordinates":[118.476342,24.716803]},"properties":{"workers":5}}]}"#;
        let h = read_hotspots(&parse_collection(text).unwrap(), Crs::Gcj02).unwrap();
        let d =
            crate::geodesy::haversine_m(h[0].location, LonLat::new(118.471598, 24.719559).unwrap());
        assert!(d < 1.0, "{d}");
    }
}
