//! The writer: domain types as RFC 7946 GeoJSON (lon, lat order, counter-clockwise
//! exterior rings, no `crs` member, coordinates rounded to 7 decimals), the feature
//! `id` both as the Feature id and as an `id` property (QGIS and OGC clients read the
//! first, spreadsheets the second); and collections one feature per line.

use std::io::Write;

use geo::orient::{Direction, Orient};
use geo_types::{Coord, MultiPolygon, Polygon};
use geojson::{Feature, FeatureCollection, Geometry, GeometryValue, JsonObject, JsonValue};
use serde::Serialize;

use super::props::{CandidateProps, HotspotProps, StationProps};
use crate::crs::Crs;
use crate::geodesy::LonLat;
use crate::model::{Boundary, Candidate, GridCell, Hotspot, Road, Station};

/// Round a degree value to 7 decimals (≈ 1 cm), as RFC 7946 §11.2 recommends.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// A position in `crs`, rounded as written.
fn position(p: LonLat, crs: Crs) -> [f64; 2] {
    let p = crs.from_wgs84(p);
    [round7(p.lon), round7(p.lat)]
}

fn point_geometry(p: LonLat, crs: Crs) -> Geometry {
    Geometry::new(GeometryValue::new_point(position(p, crs)))
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

/// A MultiPolygon geometry, even of one part (the boundary: the type the GeoPackage
/// store declares, so a GIS layer has one geometry type); exterior rings
/// counter-clockwise, holes clockwise (RFC 7946 §3.1.6).
pub fn multipolygon_geometry(mp: &MultiPolygon<f64>, crs: Crs) -> Geometry {
    Geometry::new(GeometryValue::from(
        &map_coords_crs(mp, crs).orient(Direction::Default),
    ))
}

/// A Polygon geometry (a grid cell), oriented as [`multipolygon_geometry`].
pub fn polygon_geometry(p: &Polygon<f64>, crs: Crs) -> Geometry {
    let mp = map_coords_crs(&MultiPolygon::new(vec![p.clone()]), crs).orient(Direction::Default);
    match mp.0.first() {
        Some(p) => Geometry::new(GeometryValue::from(p)),
        None => Geometry::new(GeometryValue::from(&mp)),
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

/// A properties struct as a JSON object.
fn object<P: Serialize>(props: &P) -> JsonObject {
    match serde_json::to_value(props) {
        Ok(JsonValue::Object(m)) => m,
        _ => JsonObject::new(),
    }
}

/// Properties of a station as written in GeoJSON (its [`StationProps`], `id` included).
pub fn station_properties(s: &Station) -> JsonObject {
    object(&StationProps::of(s))
}

/// A station as a GeoJSON Feature; `extra` properties are added (e.g. `distance_m`).
pub fn station_feature(s: &Station, crs: Crs, extra: JsonObject) -> Feature {
    let mut props = station_properties(s);
    props.extend(extra);
    feature(&s.id, point_geometry(s.location, crs), props)
}

/// A hotspot as a GeoJSON Feature.
pub fn hotspot_feature(h: &Hotspot, crs: Crs) -> Feature {
    feature(
        &h.id,
        point_geometry(h.location, crs),
        object(&HotspotProps::of(h)),
    )
}

/// A grid cell as a GeoJSON Feature; `extra` properties are added (e.g. gap fields).
pub fn cell_feature(c: &GridCell, crs: Crs, extra: JsonObject) -> Feature {
    let mut props = JsonObject::new();
    if let Some(g) = &c.grid_unit {
        props.insert("grid_unit".into(), g.as_str().into());
    }
    if let Some(n) = &c.unit_name {
        props.insert("unit_name".into(), n.as_str().into());
    }
    if let Some(d) = serde_json::Number::from_f64(c.demand) {
        props.insert("demand".into(), d.into());
    }
    props.extend(extra);
    feature(&c.id, polygon_geometry(&c.polygon, crs), props)
}

/// A candidate site as a GeoJSON Feature.
pub fn candidate_feature(c: &Candidate, crs: Crs) -> Feature {
    feature(
        &c.id,
        point_geometry(c.location, crs),
        object(&CandidateProps::of(c)),
    )
}

/// A road as a GeoJSON Feature (a LineString; properties: its [`crate::model::RoadTags`]).
pub fn road_feature(r: &Road, crs: Crs) -> Feature {
    let coordinates = r
        .line
        .coords()
        .map(|c| geojson::Position::from(position(LonLat { lon: c.x, lat: c.y }, crs)))
        .collect();
    feature(
        &r.id,
        Geometry::new(GeometryValue::LineString { coordinates }),
        object(&r.tags),
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

/// A point Feature serialised straight from a properties struct, without a
/// `serde_json::Value` (the JSON API's answers): the same text as the `Feature` of
/// [`station_feature`] when `properties` is a props struct.
#[derive(Debug, Clone, Serialize)]
pub struct PointFeature<'a, P> {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: PointGeometry,
    id: &'a str,
    properties: P,
}

#[derive(Debug, Clone, Copy, Serialize)]
struct PointGeometry {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

impl<'a, P: Serialize> PointFeature<'a, P> {
    /// The feature `id` at `at` (WGS 84), written in `crs`.
    pub fn new(id: &'a str, at: LonLat, crs: Crs, properties: P) -> Self {
        Self {
            kind: "Feature",
            geometry: PointGeometry {
                kind: "Point",
                coordinates: position(at, crs),
            },
            id,
            properties,
        }
    }
}

/// A FeatureCollection of features serialised as they come.
#[derive(Debug, Clone, Serialize)]
pub struct Collection<F> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<F>,
}

impl<F: Serialize> Collection<F> {
    /// The collection of `features`.
    pub fn new(features: Vec<F>) -> Self {
        Self {
            kind: "FeatureCollection",
            features,
        }
    }

    /// As compact JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
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

/// Writes a FeatureCollection one feature per line (readable, diff-friendly, what the
/// sample dataset files use so that regenerated files compare byte for byte, and
/// what the line reader reads fastest), streaming to `W`.
#[derive(Debug)]
pub struct FeatureLines<W: Write> {
    w: W,
    n: u64,
}

impl<W: Write> FeatureLines<W> {
    /// Start a collection.
    pub fn new(mut w: W) -> std::io::Result<Self> {
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
        Ok(Self { w, n: 0 })
    }

    /// Append a feature (a [`Feature`], a [`PointFeature`] …).
    pub fn push<F: Serialize + ?Sized>(&mut self, f: &F) -> std::io::Result<()> {
        if self.n > 0 {
            self.w.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut self.w, f)?;
        self.n += 1;
        Ok(())
    }

    /// Features written so far.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether no feature was written yet.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Close the collection and flush; the writer back.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.n > 0 {
            self.w.write_all(b"\n")?;
        }
        self.w.write_all(b"]}\n")?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// The property that says the coordinates' CRS in a file not in WGS 84.
pub const CRS_PROPERTY: &str = "coordinate_system";

/// The collection member that says the coordinates' CRS in a file not in WGS 84.
pub const CRS_MEMBER: &str = "yizhan:crs";

/// Mark features whose coordinates are in `crs`: unless it is WGS 84 (what every
/// GeoJSON reader assumes, RFC 7946), each gets the property [`CRS_PROPERTY`]
/// (`GCJ-02`), so the datum survives any conversion of the file.
pub fn mark_crs(features: &mut [Feature], crs: Crs) {
    if crs == Crs::Wgs84 {
        return;
    }
    for f in features {
        f.properties
            .get_or_insert_with(JsonObject::new)
            .insert(CRS_PROPERTY.into(), crs.label().into());
    }
}

/// Serialise a collection whose coordinates are in `crs` one feature per line:
/// as [`to_string_lines`] for WGS 84; otherwise the features marked
/// ([`mark_crs`]) and the collection with a [`CRS_MEMBER`] member
/// (`{"name": "GCJ-02", "uri": …}`), so the file itself says its datum.
pub fn to_string_lines_in(features: &[Feature], crs: Crs) -> String {
    if crs == Crs::Wgs84 {
        return to_string_lines(features);
    }
    let mut marked = features.to_vec();
    mark_crs(&mut marked, crs);
    let member = serde_json::json!({ "name": crs.label(), "uri": crs.uri() });
    let text = to_string_lines(&marked);
    let head = "{\"type\":\"FeatureCollection\",";
    match text.strip_prefix(head) {
        Some(rest) => format!("{head}\"{CRS_MEMBER}\":{member},{rest}"),
        None => text,
    }
}

/// Serialise a collection one feature per line (see [`FeatureLines`]).
pub fn to_string_lines(features: &[Feature]) -> String {
    let mut out = Vec::with_capacity(64 + features.len() * 256);
    let written = (|| {
        let mut w = FeatureLines::new(&mut out)?;
        for f in features {
            w.push(f)?;
        }
        w.finish().map(drop)
    })();
    debug_assert!(written.is_ok(), "writing to a Vec cannot fail");
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_gcj02_say_so() {
        let c = Candidate {
            id: "c".into(),
            name: None,
            location: LonLat::new(118.47, 24.72).unwrap(),
            capacity: None,
        };
        let f = [candidate_feature(&c, Crs::Gcj02)];
        let text = to_string_lines_in(&f, Crs::Gcj02);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[CRS_MEMBER]["name"], "GCJ-02");
        assert_eq!(v[CRS_MEMBER]["uri"], crate::crs::GCJ02_URI);
        assert_eq!(v["features"][0]["properties"][CRS_PROPERTY], "GCJ-02");
        let wgs = [candidate_feature(&c, Crs::Wgs84)];
        assert_eq!(to_string_lines_in(&wgs, Crs::Wgs84), to_string_lines(&wgs));
        assert!(!to_string_lines(&wgs).contains(CRS_PROPERTY));
    }

    #[test]
    fn feature_lines_layout() {
        let c = |i: usize| Candidate {
            id: format!("c{i}"),
            name: None,
            location: LonLat::new(1.5, 2.25).unwrap(),
            capacity: Some(3),
        };
        let line = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1.5,2.25]},"id":"c0","properties":{"capacity":3,"id":"c0"}}"#;
        let head = "{\"type\":\"FeatureCollection\",\"features\":[\n";
        assert_eq!(to_string_lines(&[]), format!("{head}]}}\n"));
        let one = [candidate_feature(&c(0), Crs::Wgs84)];
        assert_eq!(to_string_lines(&one), format!("{head}{line}\n]}}\n"));
        // Streamed point features are the same bytes as `Feature`s.
        let mut w = FeatureLines::new(Vec::new()).unwrap();
        for i in 0..2 {
            let cand = c(i);
            w.push(&PointFeature::new(
                &cand.id,
                cand.location,
                Crs::Wgs84,
                CandidateProps::of(&cand),
            ))
            .unwrap();
        }
        let streamed = String::from_utf8(w.finish().unwrap()).unwrap();
        let features: Vec<Feature> = (0..2)
            .map(|i| candidate_feature(&c(i), Crs::Wgs84))
            .collect();
        assert_eq!(streamed, to_string_lines(&features));
    }
}
