//! GeoJSON in and out.
//!
//! Reading turns a FeatureCollection into domain types and reports *every* problem,
//! each naming the feature index, the property and what was wrong. Writing produces
//! RFC 7946: lon, lat order, counter-clockwise exterior rings, no `crs` member,
//! and the feature `id` both as the Feature id and as an `id` property (QGIS and
//! OGC clients read the first, spreadsheets the second).

use std::fmt;
use std::str::FromStr;

use geo::orient::{Direction, Orient};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geojson::{Feature, FeatureCollection, Geometry, GeometryValue, JsonObject, JsonValue};

use rayon::prelude::*;

use crate::crs::Crs;
use crate::fastjson::{self, Outcome, Rejected};
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

/// Read one feature with `one`: the item, or the feature's id and problems.
fn read_feature<T>(
    index: usize,
    f: &Feature,
    one: &impl Fn(&mut Props<'_>, &Feature, String) -> Option<T>,
) -> Outcome<T> {
    let id = feature_id(f);
    let mut errors = Vec::new();
    let mut p = Props {
        index,
        id: id.clone(),
        props: f.properties.as_ref(),
        errors: &mut errors,
    };
    let Some(id) = id else {
        p.err("id", "missing (set the Feature id or an \"id\" property)");
        return Outcome::Rejected(Box::new(Rejected { id: None, errors }));
    };
    let v = one(&mut p, f, id);
    let id = p.id.take();
    match v {
        Some(v) if errors.is_empty() => Outcome::Item(v),
        _ => Outcome::Rejected(Box::new(Rejected { id, errors })),
    }
}

/// Collect the items of every feature, in order, and refuse duplicate ids: a feature
/// whose id an earlier feature has is reported as a duplicate (and nothing else).
pub(crate) fn finish<T: Send + Sync>(
    outcomes: Vec<Outcome<T>>,
    id_of: impl Fn(&T) -> &str + Sync,
) -> Result<Vec<T>, ReadError> {
    fn id<'o, T>(o: &'o Outcome<T>, id_of: &impl Fn(&T) -> &str) -> Option<&'o str> {
        match o {
            Outcome::Item(v) => Some(id_of(v)),
            Outcome::Rejected(r) => r.id.as_deref(),
            Outcome::Pending => None,
        }
    }
    let t = std::time::Instant::now();
    let dups = fastjson::duplicate_ids(outcomes.len(), |i| id(&outcomes[i], &id_of));
    crate::fastjson::trace("dups", t);
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
        crate::fastjson::trace("collect", t);
        debug_assert!(v.iter().all(|v| !id_of(v).is_empty()));
        return Ok(v);
    }
    let mut errors = Vec::new();
    let mut dups = dups.into_iter().peekable();
    for (index, o) in outcomes.iter().enumerate() {
        if dups.next_if_eq(&index).is_some() {
            let id = id(o, &id_of).unwrap_or_default();
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
fn read_all<T: Send + Sync>(
    fc: &FeatureCollection,
    one: impl Fn(&mut Props<'_>, &Feature, String) -> Option<T> + Sync,
    id_of: impl Fn(&T) -> &str + Sync,
) -> Result<Vec<T>, ReadError> {
    let mut outcomes = Vec::new();
    fc.features
        .par_iter()
        .enumerate()
        .with_min_len(256)
        .map(|(index, f)| read_feature(index, f, &one))
        .collect_into_vec(&mut outcomes);
    finish(outcomes, id_of)
}

/// Read a layer from the text of a file: one feature per line through the fast path
/// (see [`crate::fastjson`]), anything else through [`parse_collection`] and `generic`.
fn read_text<L: fastjson::Layer>(
    layer: &L,
    text: &str,
    generic: impl FnOnce(&FeatureCollection) -> Result<Vec<L::Item>, ReadError>,
) -> Result<Vec<L::Item>, ReadError>
where
    L::Item: fastjson::HasId,
{
    match fastjson::read_lines(layer, text) {
        Some(outcomes) => finish(outcomes, fastjson::HasId::id),
        None => generic(&parse_collection(text)?),
    }
}

/// The point layers the fast path reads, with the coordinates' CRS.
pub(crate) struct StationLayer(pub Crs);
/// See [`StationLayer`].
pub(crate) struct HotspotLayer(pub Crs);
/// See [`StationLayer`].
pub(crate) struct CandidateLayer(pub Crs);

impl fastjson::Layer for StationLayer {
    type Props<'a> = fastjson::StationProps<'a>;
    type Item = Station;
    fn fast<'a>(&self, f: fastjson::Feat<'a, Self::Props<'a>>) -> Option<Station> {
        station_fast(f, self.0)
    }
    fn slow(&self, index: usize, f: &Feature) -> Outcome<Station> {
        read_feature(index, f, &station_one(self.0))
    }
}

impl fastjson::Layer for HotspotLayer {
    type Props<'a> = fastjson::HotspotProps<'a>;
    type Item = Hotspot;
    fn fast<'a>(&self, f: fastjson::Feat<'a, Self::Props<'a>>) -> Option<Hotspot> {
        hotspot_fast(f, self.0)
    }
    fn slow(&self, index: usize, f: &Feature) -> Outcome<Hotspot> {
        read_feature(index, f, &hotspot_one(self.0))
    }
}

impl fastjson::Layer for CandidateLayer {
    type Props<'a> = fastjson::CandidateProps<'a>;
    type Item = Candidate;
    fn fast<'a>(&self, f: fastjson::Feat<'a, Self::Props<'a>>) -> Option<Candidate> {
        candidate_fast(f, self.0)
    }
    fn slow(&self, index: usize, f: &Feature) -> Outcome<Candidate> {
        read_feature(index, f, &candidate_one(self.0))
    }
}

/// Read stations from a FeatureCollection. Coordinates in `crs` are converted to WGS 84.
///
/// Properties: `name` (required), `name_zh`, `kind` (default `rest_station`),
/// `amenities` (array of names or a comma-separated string), `capacity` (required),
/// `opening_hours` (default `24/7`), `grid_unit`, `operator`, `address`, and
/// optionally `occupied` with `occupancy_reported_at` (RFC 3339).
pub fn read_stations(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Station>, ReadError> {
    read_all(fc, station_one(crs), |s| &s.id)
}

/// How the generic reader reads one station feature.
fn station_one(crs: Crs) -> impl Fn(&mut Props<'_>, &Feature, String) -> Option<Station> + Sync {
    move |p, f, id| {
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
    }
}

/// Read hotspots. Properties: `workers` (required, whole number), `worker_type`
/// (default `other`), `grid_unit`.
pub fn read_hotspots(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Hotspot>, ReadError> {
    read_all(fc, hotspot_one(crs), |h| &h.id)
}

/// How the generic reader reads one hotspot feature.
fn hotspot_one(crs: Crs) -> impl Fn(&mut Props<'_>, &Feature, String) -> Option<Hotspot> + Sync {
    move |p, f, id| {
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
    }
}

/// Read grid cells. Geometry: a Polygon (a one-part MultiPolygon is accepted).
/// Properties: `grid_unit`, `unit_name`, `demand` (default 0).
pub fn read_cells(fc: &FeatureCollection, crs: Crs) -> Result<Vec<GridCell>, ReadError> {
    read_all(fc, cell_one(crs), |c| &c.id)
}

/// How the generic reader reads one cell feature.
fn cell_one(crs: Crs) -> impl Fn(&mut Props<'_>, &Feature, String) -> Option<GridCell> + Sync {
    move |p, f, id| {
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
    }
}

/// Read stations from the text of a GeoJSON file: the same result (and the same
/// errors) as [`parse_collection`] then [`read_stations`], several times faster and
/// without a `serde_json::Value` tree for files written one feature per line, as
/// [`to_string_lines`] writes them.
pub fn read_stations_str(text: &str, crs: Crs) -> Result<Vec<Station>, ReadError> {
    read_text(&StationLayer(crs), text, |fc| read_stations(fc, crs))
}

/// Read hotspots from the text of a GeoJSON file, as [`read_stations_str`].
pub fn read_hotspots_str(text: &str, crs: Crs) -> Result<Vec<Hotspot>, ReadError> {
    read_text(&HotspotLayer(crs), text, |fc| read_hotspots(fc, crs))
}

/// Read candidate sites from the text of a GeoJSON file, as [`read_stations_str`].
pub fn read_candidates_str(text: &str, crs: Crs) -> Result<Vec<Candidate>, ReadError> {
    read_text(&CandidateLayer(crs), text, |fc| read_candidates(fc, crs))
}

/// Read grid cells from the text of a GeoJSON file ([`parse_collection`] then [`read_cells`]).
pub fn read_cells_str(text: &str, crs: Crs) -> Result<Vec<GridCell>, ReadError> {
    read_cells(&parse_collection(text)?, crs)
}

/// Read a boundary from the text of a GeoJSON file ([`parse_collection`] then [`read_boundary`]).
pub fn read_boundary_str(text: &str, crs: Crs) -> Result<Boundary, ReadError> {
    read_boundary(&parse_collection(text)?, crs)
}

// The fast readers below give a value only when `*_one` would read the same feature
// without any problem; for anything else they give `None` and `*_one` reads it.

fn station_fast(f: fastjson::Feat<'_, fastjson::StationProps<'_>>, crs: Crs) -> Option<Station> {
    let (id, location, p) = f.point_feature(crs)?;
    let name = p.name.filter(|s| !s.trim().is_empty())?.into_string();
    let kind = match p.kind {
        None => StationKind::RestStation,
        Some(k) => k.parse().ok()?,
    };
    let opening_hours = match p.opening_hours {
        None => OpeningHours::always(),
        Some(h) => h.parse().ok()?,
    };
    let occupancy = match (p.occupied, p.occupancy_reported_at) {
        (Some(occupied), Some(r)) => Some(Occupancy {
            occupied,
            reported_at: chrono::DateTime::parse_from_rfc3339(&r)
                .ok()?
                .with_timezone(&chrono::Utc),
        }),
        (Some(_), None) => return None,
        (None, _) => None,
    };
    Some(Station {
        id,
        name,
        name_zh: p.name_zh.map(fastjson::Str::into_string),
        kind,
        location,
        amenities: p.amenities.map_or(AmenitySet::empty(), |a| a.0),
        capacity: p.capacity?,
        occupancy,
        opening_hours,
        grid_unit: p.grid_unit.map(fastjson::Str::into_string),
        operator: p.operator.map(fastjson::Str::into_string),
        address: p.address.map(fastjson::Str::into_string),
    })
}

fn hotspot_fast(f: fastjson::Feat<'_, fastjson::HotspotProps<'_>>, crs: Crs) -> Option<Hotspot> {
    let (id, location, p) = f.point_feature(crs)?;
    Some(Hotspot {
        id,
        location,
        workers: p.workers?,
        worker_type: match p.worker_type {
            None => WorkerType::Other,
            // The names as written first (what `parse` would find too).
            Some(w) => match WorkerType::ALL.into_iter().find(|t| t.as_str() == &*w) {
                Some(t) => t,
                None => w.parse().ok()?,
            },
        },
        grid_unit: p.grid_unit.map(fastjson::Str::into_string),
    })
}

fn candidate_fast(
    f: fastjson::Feat<'_, fastjson::CandidateProps<'_>>,
    crs: Crs,
) -> Option<Candidate> {
    let (id, location, p) = f.point_feature(crs)?;
    Some(Candidate {
        id,
        name: p.name.map(fastjson::Str::into_string),
        capacity: p.capacity,
        location,
    })
}

/// Centroid of a polygon as a position (None for a degenerate polygon).
pub fn polygon_centroid(p: &Polygon<f64>) -> Option<LonLat> {
    use geo::Centroid;
    let c = p.centroid()?;
    LonLat::new(c.x(), c.y()).ok()
}

/// Read candidate sites. Properties: `name`, `capacity`.
pub fn read_candidates(fc: &FeatureCollection, crs: Crs) -> Result<Vec<Candidate>, ReadError> {
    read_all(fc, candidate_one(crs), |c| &c.id)
}

/// How the generic reader reads one candidate feature.
fn candidate_one(
    crs: Crs,
) -> impl Fn(&mut Props<'_>, &Feature, String) -> Option<Candidate> + Sync {
    move |p, f, id| {
        let location = read_point(p, f, crs);
        Some(Candidate {
            id,
            name: p.opt_str("name"),
            capacity: p.opt_u32("capacity"),
            location: location?,
        })
    }
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

    // ------------------------------------------------ fast path = generic path

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A JSON value as raw text, chosen at random among valid and invalid ones.
    fn pick<'a>(rng: &mut ChaCha8Rng, options: &[&'a str]) -> &'a str {
        options[rng.random_range(0..options.len())]
    }

    fn json_str(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    /// A random string: ASCII, Chinese, emoji, quotes, backslashes, control characters.
    fn any_text(rng: &mut ChaCha8Rng) -> String {
        let parts = [
            "Rest",
            " ",
            "驿站",
            "安海镇",
            "😀",
            "\"",
            "\\",
            "\n",
            "\t",
            "é",
            "\u{1f}",
            "a,b",
            "",
        ];
        (0..rng.random_range(0..5))
            .map(|_| parts[rng.random_range(0..parts.len())])
            .collect()
    }

    /// A string value, sometimes with `\u` escapes written out, sometimes not a string.
    fn any_str_value(rng: &mut ChaCha8Rng) -> String {
        match rng.random_range(0..10) {
            0 => r#""\u00e9t\u00e9 \ud83d\ude00""#.to_string(),
            1 => pick(rng, &["null", "12", "1.5", "true", "[]", "{}"]).to_string(),
            2 => json_str(pick(rng, &["", "  "])),
            _ => json_str(&any_text(rng)),
        }
    }

    fn any_number(rng: &mut ChaCha8Rng) -> String {
        match rng.random_range(0..8) {
            0 => pick(
                rng,
                &[
                    "0",
                    "-0",
                    "-0.0",
                    "1e2",
                    "2.5E-1",
                    "4294967295",
                    "4294967296",
                    "-3",
                    "7.0",
                    "12345678901234567890",
                    "0.1000000000000000055511151231257827",
                    "null",
                    "\"5\"",
                ],
            )
            .to_string(),
            _ => rng.random_range(0..60).to_string(),
        }
    }

    /// Coordinates: mostly valid points (as the writer rounds them), sometimes not.
    fn any_geometry(rng: &mut ChaCha8Rng) -> Option<String> {
        let lon = rng.random_range(-180.0..180.0f64);
        let lat = rng.random_range(-90.0..90.0f64);
        let r7 = |x: f64| (x * 1e7).round() / 1e7;
        Some(match rng.random_range(0..24) {
            0 => return None,
            1 => "null".into(),
            2 => format!(
                r#"{{"type":"Point","coordinates":[{lon},{}]}}"#,
                lat + 100.0
            ),
            3 => r#"{"type":"LineString","coordinates":[[1,2],[3,4]]}"#.into(),
            4 => format!(r#"{{"type":"Point","coordinates":[{lon},{lat},12.5]}}"#),
            5 => format!(r#"{{"type":"Point","bbox":[1,2,3,4],"coordinates":[{lon},{lat}]}}"#),
            6 => format!(r#"{{"coordinates":[{lon:e},{lat:e}],"type":"Point"}}"#),
            7 => format!(
                r#"{{ "type" : "Point" , "coordinates" : [ {} , {} ] }}"#,
                lon as i32, lat as i32
            ),
            8 => r#"{"type":"Point","coordinates":[118.4716,24.7196],"foo":{"a":[1,"x"]}}"#.into(),
            9 => r#"{"type":"Point","coordinates":[-0.0,-0]}"#.into(),
            10 => format!(r#"{{"type":"Point","coordinates":[{lon},{lat}]}}"#),
            _ => format!(
                r#"{{"type":"Point","coordinates":[{},{}]}}"#,
                r7(lon),
                r7(lat)
            ),
        })
    }

    /// One random feature line of a point layer with properties `props` (key, value).
    fn feature_line(rng: &mut ChaCha8Rng, n: usize, props: Vec<(&str, String)>) -> String {
        let mut members = vec![r#""type":"Feature""#.to_string()];
        if n % 97 == 96 {
            // Not a GeoJSON Feature, so the document is not GeoJSON.
            let bad = [
                r#""type":"Feat""#,
                r#""type":"Feature","bbox":"x""#,
                r#""type":"Feature","geometry":{"type":"Point","coordinates":[1,2],"bbox":[1,"a"]}"#,
                r#""type":"Feature","geometry":{"type":"Pt","coordinates":[1,2]}"#,
                r#""type":"Feature","id":[1]"#,
                r#""type":"Feature","properties":"str""#,
                r#""type":"Feature","foreign":"\udc00""#,
                r#""type":"Feature","foreign":[1e999]"#,
            ];
            let bad = bad[rng.random_range(0..bad.len())];
            let geometry = match (bad.contains("geometry"), rng.random_bool(0.5)) {
                (true, _) => "",
                (false, true) => r#","geometry":null"#,
                (false, false) => r#","geometry":{"type":"Point","coordinates":[1,2]}"#,
            };
            return format!(r#"{{{bad}{geometry},"id":"x{n}","properties":{{"workers":1}}}}"#);
        }
        if let Some(g) = any_geometry(rng) {
            members.push(format!(r#""geometry":{g}"#));
        }
        let id = match rng.random_range(0..40) {
            0 => Some("12".to_string()),
            1 => Some(json_str("")),
            2 => Some(json_str(" ")),
            3 => Some("null".into()),
            4 => None,
            5 => Some(r#""\u0041-dup""#.into()),
            6 => Some(json_str(&format!("F-{}", rng.random_range(0..n.max(1))))), // duplicates
            7 => Some(json_str(&format!("F-{}é\"", rng.random_range(0..5)))),
            _ => Some(json_str(&format!("F-{n}"))),
        };
        let mut props = props;
        if id.is_none() || rng.random_range(0..10) == 0 {
            props.push((
                "id",
                pick(rng, &[r#""P-1""#, "7", "null", r#""""#, "[1]"]).to_string(),
            ));
            if rng.random_bool(0.5) {
                props.push(("id", json_str(&format!("P-{n}"))));
            }
        }
        if rng.random_range(0..8) == 0 {
            props.push(("synthetic", "true".into()));
            props.push(("extra", r#"{"a":[1,2,{"b":null}],"c":"\u00e9"}"#.into()));
        }
        if rng.random_range(0..40) == 0 {
            // A key given twice: the last one counts.
            if let Some((k, _)) = props.first().cloned() {
                props.push((k, any_str_value(rng)));
            }
        }
        let shuffle = rng.random_range(0..4) == 0;
        if shuffle {
            props.reverse();
        }
        let props_text = props
            .iter()
            .map(|(k, v)| format!("{}:{v}", json_str(k)))
            .collect::<Vec<_>>()
            .join(",");
        match rng.random_range(0..25) {
            0 => {}
            1 => members.push(r#""properties":null"#.into()),
            _ => members.push(format!(r#""properties":{{{props_text}}}"#)),
        }
        if let Some(id) = id {
            members.insert(rng.random_range(0..=members.len()), format!(r#""id":{id}"#));
        }
        if rng.random_range(0..30) == 0 {
            members.push(r#""title":"a foreign member""#.into());
        }
        if shuffle {
            members.reverse();
        }
        format!("{{{}}}", members.join(","))
    }

    fn station_line(rng: &mut ChaCha8Rng, n: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        let maybe = |rng: &mut ChaCha8Rng| rng.random_range(0..6) != 0;
        if maybe(rng) || rng.random_bool(0.5) {
            p.push(("name", any_str_value(rng)));
        }
        if rng.random_bool(0.3) {
            p.push(("name_zh", any_str_value(rng)));
        }
        if rng.random_bool(0.5) {
            let k = pick(
                rng,
                &[
                    r#""rest_station""#,
                    r#""childcare_class""#,
                    r#"" Rest_Station ""#,
                    r#""spa""#,
                    "null",
                    "3",
                ],
            );
            p.push(("kind", k.to_string()));
        }
        if rng.random_bool(0.7) {
            let a = pick(
                rng,
                &[
                    r#"["microwave","charging"]"#,
                    r#""books, wifi""#,
                    r#"[]"#,
                    r#""""#,
                    "null",
                    r#"["sauna"]"#,
                    r#"["wifi",3]"#,
                    "5",
                    r#"" Toilet ,seating""#,
                    r#"["\u0077ifi"]"#,
                ],
            );
            p.push(("amenities", a.to_string()));
        }
        if maybe(rng) || rng.random_bool(0.5) {
            p.push(("capacity", any_number(rng)));
        }
        if rng.random_bool(0.5) {
            let h = pick(
                rng,
                &[
                    r#""Mo-Fr 08:00-18:00""#,
                    r#""24/7""#,
                    r#""07:00-21:00""#,
                    r#""whenever""#,
                    "null",
                ],
            );
            p.push(("opening_hours", h.to_string()));
        }
        if rng.random_range(0..5) == 0 {
            p.push(("occupied", any_number(rng)));
        }
        if rng.random_range(0..5) == 0 {
            let t = pick(
                rng,
                &[
                    r#""2026-07-01T12:30:00+08:00""#,
                    r#""2026-07-01T04:30:00Z""#,
                    r#""yesterday""#,
                    "null",
                ],
            );
            p.push(("occupancy_reported_at", t.to_string()));
        }
        for k in ["grid_unit", "operator", "address"] {
            if rng.random_bool(0.3) {
                p.push((k, any_str_value(rng)));
            }
        }
        feature_line(rng, n, p)
    }

    fn hotspot_line(rng: &mut ChaCha8Rng, n: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        if rng.random_range(0..8) != 0 {
            p.push(("workers", any_number(rng)));
        }
        if rng.random_bool(0.8) {
            let w = pick(
                rng,
                &[
                    r#""delivery""#,
                    r#""courier""#,
                    r#""Ride_Hailing""#,
                    r#""other""#,
                    r#""robot""#,
                    "null",
                    "1",
                ],
            );
            p.push(("worker_type", w.to_string()));
        }
        if rng.random_bool(0.4) {
            p.push(("grid_unit", any_str_value(rng)));
        }
        feature_line(rng, n, p)
    }

    fn candidate_line(rng: &mut ChaCha8Rng, n: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        if rng.random_bool(0.6) {
            p.push(("name", any_str_value(rng)));
        }
        if rng.random_bool(0.6) {
            p.push(("capacity", any_number(rng)));
        }
        feature_line(rng, n, p)
    }

    fn lines_file(lines: &[String]) -> String {
        let mut t = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
        t.push_str(&lines.join(",\n"));
        t.push_str("\n]}\n");
        t
    }

    /// Whether the fast path reads `text` itself (rather than the whole generic path).
    fn fast_path_reads(text: &str) -> bool {
        fastjson::read_lines(&HotspotLayer(Crs::Wgs84), text).is_some()
    }

    /// Read `text` both ways with every reader and compare everything, errors included.
    fn same_both_ways(text: &str) {
        for crs in [Crs::Wgs84, Crs::Gcj02] {
            let fc = parse_collection(text);
            let generic_s = fc.clone().and_then(|fc| read_stations(&fc, crs));
            assert_eq!(read_stations_str(text, crs), generic_s, "stations");
            let generic_h = fc.clone().and_then(|fc| read_hotspots(&fc, crs));
            assert_eq!(read_hotspots_str(text, crs), generic_h, "hotspots");
            let generic_c = fc.and_then(|fc| read_candidates(&fc, crs));
            assert_eq!(read_candidates_str(text, crs), generic_c, "candidates");
            // Through a file, read in small blocks (a block boundary in every few lines).
            let path = std::env::temp_dir().join(format!(
                "yizhan-fastjson-{}-{:?}.geojson",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&path, text).unwrap();
            for block in [2 << 10, 8 << 10, 1 << 20] {
                let file = fastjson::read_file_blocks(&HotspotLayer(crs), &path, block)
                    .unwrap()
                    .map(|o| finish(o, fastjson::HasId::id));
                if block > 2 << 10 {
                    // Blocks larger than a few lines: the file is read on the fast path
                    // whenever the text is.
                    let text_fast = fastjson::read_lines(&HotspotLayer(crs), text).is_some();
                    assert_eq!(file.is_some(), text_fast, "file, block {block}");
                }
                if let Some(from_file) = file {
                    assert_eq!(
                        from_file,
                        read_hotspots_str(text, crs),
                        "file, block {block}"
                    );
                }
            }
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn fast_path_reads_exactly_as_the_generic_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for round in 0..60 {
            let n = rng.random_range(0..120);
            let mut lines: Vec<String> = (0..n)
                .map(|i| match round % 3 {
                    0 => station_line(&mut rng, i),
                    1 => hotspot_line(&mut rng, i),
                    _ => candidate_line(&mut rng, i),
                })
                .collect();
            let text = lines_file(&lines);
            assert_eq!(
                fast_path_reads(&text),
                parse_collection(&text).is_ok(),
                "{text}"
            );
            assert_eq!(fast_path_reads(&text), n < 97, "{text}");
            same_both_ways(&text);
            // Mixed with the other layers' lines (other properties, so other problems).
            lines.extend((0..20).map(|i| station_line(&mut rng, n + i)));
            lines.extend((0..20).map(|i| hotspot_line(&mut rng, n + 20 + i)));
            same_both_ways(&lines_file(&lines));
        }
    }

    #[test]
    fn fast_path_accepts_what_yizhan_writes() {
        // Valid features, written by `to_string_lines`, all read on the fast path.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut stations = Vec::new();
        let mut hotspots = Vec::new();
        for i in 0..500 {
            let at = LonLat::new(
                rng.random_range(-180.0..180.0),
                rng.random_range(-90.0..90.0),
            )
            .unwrap();
            let name = format!("{} {i}", any_text(&mut rng));
            stations.push(Station {
                id: format!("S-{i}"),
                name: if name.trim().is_empty() {
                    "x".into()
                } else {
                    name
                },
                name_zh: rng.random_bool(0.5).then(|| "安海驿站".to_string()),
                kind: StationKind::ALL[i % 2],
                location: at,
                amenities: AmenitySet::parse_list(["microwave,wifi", "", "books"][i % 3]).unwrap(),
                capacity: rng.random_range(0..100),
                occupancy: (i % 4 == 0).then(|| Occupancy {
                    occupied: 3,
                    reported_at: chrono::DateTime::parse_from_rfc3339("2026-07-01T12:30:00+08:00")
                        .unwrap()
                        .with_timezone(&chrono::Utc),
                }),
                opening_hours: ["24/7", "Mo-Fr 08:00-18:00"][i % 2].parse().unwrap(),
                grid_unit: (i % 3 == 0).then(|| format!("35058210{i:04}")),
                operator: None,
                address: (i % 5 == 0).then(|| "泉州 \"A\" road\\1".to_string()),
            });
            hotspots.push(Hotspot {
                id: format!("H-{i}"),
                location: at,
                workers: rng.random_range(0..1000),
                worker_type: WorkerType::ALL[i % 5],
                grid_unit: (i % 2 == 0).then(|| "g".to_string()),
            });
        }
        let st = to_string_lines(
            &stations
                .iter()
                .map(|s| station_feature(s, Crs::Wgs84, JsonObject::new()))
                .collect::<Vec<_>>(),
        );
        let hs = to_string_lines(
            &hotspots
                .iter()
                .map(|h| hotspot_feature(h, Crs::Wgs84))
                .collect::<Vec<_>>(),
        );
        let s = read_stations_str(&st, Crs::Wgs84).unwrap();
        assert_eq!(
            s,
            read_stations(&parse_collection(&st).unwrap(), Crs::Wgs84).unwrap()
        );
        let h = read_hotspots_str(&hs, Crs::Wgs84).unwrap();
        assert_eq!(
            h,
            read_hotspots(&parse_collection(&hs).unwrap(), Crs::Wgs84).unwrap()
        );
        assert_eq!(h.len(), 500);
        // The strict scanner itself takes the lines yizhan writes (no serde fallback).
        for line in hs.lines().skip(1).filter(|l| l.starts_with('{')) {
            let line = line.trim_end_matches(',');
            let f = fastjson::Feat::<fastjson::HotspotProps<'_>>::scan(line);
            assert!(
                f.is_some_and(|f| hotspot_fast(f, Crs::Wgs84).is_some()),
                "{line}"
            );
        }
        for line in st
            .lines()
            .skip(1)
            .filter(|l| l.starts_with('{') && !l.contains('\\'))
        {
            let line = line.trim_end_matches(',');
            let f = fastjson::Feat::<fastjson::StationProps<'_>>::scan(line);
            assert!(
                f.is_some_and(|f| station_fast(f, Crs::Wgs84).is_some()),
                "{line}"
            );
        }
    }

    #[test]
    fn files_the_fast_path_leaves_to_the_generic_path() {
        let ok = r#"{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"workers":1}}"#;
        let ok2 = ok.replace(r#""a""#, r#""b""#);
        let head = "{\"type\":\"FeatureCollection\",\"features\":[";
        let deep = format!(
            r#"{{"type":"Feature","id":"d","geometry":{{"type":"Point","coordinates":[1,2]}},"properties":{{"workers":1,"x":{}1{}}}}}"#,
            "[".repeat(125),
            "]".repeat(125)
        );
        let cases = [
            format!("{head}\n{ok},\n{ok2}\n]}}\n"), // the fast layout
            format!("{head}\r\n{ok},\r\n{ok2}\r\n]}}\r\n"), // CRLF
            format!("{head}\n{ok},\n{ok2}]}}"),     // footer on the last line
            format!("{head}\n{ok},\n{ok2},\n]}}\n"), // trailing comma
            format!("{head}\n{ok}\n{ok2}\n]}}\n"),  // missing comma
            format!("{head}\n{ok},\n\n{ok2}\n]}}\n"), // blank line
            format!("{head}{ok},{ok2}]}}"),         // one line
            format!("{head}\n{ok},\n{{\"type\":\"Feature\",\n\"id\":\"c\"}}\n]}}\n"), // pretty-printed
            format!(
                "{head}\n{ok},\n{{\"type\":\"Feature\",\"id\":\"c\",\"geometry\":null,}}\n]}}\n"
            ), // bad JSON
            format!(
                "{head}\n{ok},\n{}\n]}}\n",
                ok2.replace("\"workers\":1", "\"workers\":1,\"w\":\"\\ud800\"")
            ),
            format!(
                "{head}\n{ok},\n{}\n]}}\n",
                ok2.replace("\"workers\":1", "\"workers\":1,\"w\":1e999")
            ),
            format!(
                "{head}\n{ok},\n{}\n]}}\n",
                ok2.replace("\"type\":\"Feature\"", "\"type\":\"Polygon\"")
            ),
            format!(
                "{head}\n{ok},\n{}\n]}}\n",
                ok2.replace("\"type\":\"Point\"", "\"type\":\"Pt\"")
            ),
            format!("{head}\n{ok},\n{deep}\n]}}\n"), // nested too deep for the document
            format!(
                "{head}\n{ok},\n{}\n]}}\n",
                deep.replace(&"[".repeat(125), &"[".repeat(100))
                    .replace(&"]".repeat(125), &"]".repeat(100))
            ),
            format!("{head}\n{ok},\n{ok2}\n],\"bbox\":[1,2,3,4]}}\n"), // a collection member
            format!("{head}\n{ok},\n{ok2}\n]}}\n{{}}"),                // trailing data
            format!("{head}\n]}}\n"),                                  // empty
        ];
        for text in &cases {
            same_both_ways(text);
        }
        assert!(fast_path_reads(&cases[0]));
        assert!(!fast_path_reads(&cases[2]) || read_hotspots_str(&cases[2], Crs::Wgs84).is_ok());
        for bad in [3, 4, 5, 6, 7, 8, 9, 10, 13] {
            assert!(!fast_path_reads(&cases[bad]), "case {bad}");
        }
    }
}
