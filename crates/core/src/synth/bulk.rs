//! City and country datasets, streamed to disk (hotspots are never all in memory).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geojson::JsonObject;
use serde_json::json;

use super::grid::{contains, Grid};
use super::inputs::TownInputs;
use super::maths::{bounds, round_pos, rounded_polygon, Frame};
use super::output::synthetic_tag;
use super::rng::{bell, Cdf, Rng};
use super::SynthError;
use crate::crs::Crs;
use crate::geodesy::LonLat;
use crate::hours::OpeningHours;
use crate::io::{self, Layer};
use crate::model::{
    AmenitySet, Boundary, Candidate, GridCell, Hotspot, Station, StationKind, WorkerType,
};

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
    let mut w = io::FeatureLines::new(hw).map_err(io_err(hpath.clone()))?;
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
            profile: None,
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
    let mut w = io::FeatureLines::new(sw).map_err(io_err(spath.clone()))?;
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
    let mut w = io::FeatureLines::new(cw).map_err(io_err(cpath.clone()))?;
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
    let mut w = io::FeatureLines::new(gw).map_err(io_err(gpath.clone()))?;
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
