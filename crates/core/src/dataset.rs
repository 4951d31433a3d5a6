//! A dataset: the layers of one town, indexed and ready for queries.
//!
//! Every layer is shared (`Arc`): cloning a dataset costs a few reference counts, and
//! a new version made by a write shares every layer the write did not change. The
//! stations carry an id map, and occupancy reports are a live table over the
//! stations layer, so that a report copies one small chunk instead of the layer.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crs::Crs;
use crate::index::GeoIndex;
use crate::io::{self, Layer, ReadError};
use crate::model::{Boundary, Candidate, GridCell, Hotspot, Occupancy, Road, Station};

/// Why a dataset folder or file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was read but its content is invalid.
    #[error("{path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ReadError,
    },
    /// A required layer file is missing from the folder.
    #[error("{path}: missing (a dataset folder needs stations.geojson and hotspots.geojson)")]
    Missing {
        /// The expected file.
        path: PathBuf,
    },
}

/// All layers of a town, with spatial indexes over stations, hotspots, cells and
/// candidates. Each layer is shared: a clone is cheap, and [`Dataset::set_occupancy`],
/// [`Dataset::upsert_station`] and [`Dataset::remove_station`] replace only what
/// they change.
///
/// The occupancy of the items of `stations` is the one the layer was built with;
/// reports made since live in a table beside it. Read stations through
/// [`Dataset::station`], [`Dataset::station_at`], [`Dataset::current`] or
/// [`Dataset::current_stations`] to see them with their current report.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Service stations.
    pub stations: Arc<GeoIndex<Station>>,
    /// Outdoor-worker hotspots.
    pub hotspots: Arc<GeoIndex<Hotspot>>,
    /// Grid cells (indexed by centroid).
    pub cells: Arc<GeoIndex<GridCell>>,
    /// Candidate sites for new stations.
    pub candidates: Arc<GeoIndex<Candidate>>,
    /// The town's outline, if known.
    pub boundary: Option<Arc<Boundary>>,
    /// The road network's ways (empty when the dataset has no `roads.geojson`).
    pub roads: Arc<[Road]>,
    /// Rivers and lakes for the map, if known (`water.geojson`).
    pub water: Option<Arc<Boundary>>,
    /// The stations' id map and live occupancy table.
    keys: StationKeys,
}

/// Stations per chunk of the occupancy table: a report copies one chunk
/// (256 reports, 6 KiB) and the list of chunk pointers.
const OCCUPANCY_CHUNK: usize = 256;

/// [`OCCUPANCY_CHUNK`] stations' reports, shared between versions until one changes.
type OccupancyChunk = Arc<[Option<Occupancy>]>;

/// The id map and the live occupancy table of one stations layer.
#[derive(Debug, Clone)]
struct StationKeys {
    /// The layer these were made for. They are consulted only while
    /// [`Dataset::stations`] is this very layer (a caller may assign the field).
    layer: Arc<GeoIndex<Station>>,
    /// Position in the layer of each id (the first station with it).
    ids: Arc<HashMap<String, usize>>,
    /// Every station's current report, by position, in chunks of
    /// [`OCCUPANCY_CHUNK`]; `None` until the first report since the layer was built.
    occupancy: Option<Arc<[OccupancyChunk]>>,
}

impl StationKeys {
    fn new(layer: &Arc<GeoIndex<Station>>) -> Self {
        let mut ids = HashMap::with_capacity(layer.len());
        for (i, s) in layer.items().iter().enumerate() {
            ids.entry(s.id.clone()).or_insert(i);
        }
        Self {
            layer: Arc::clone(layer),
            ids: Arc::new(ids),
            occupancy: None,
        }
    }

    /// Record `o` for the station at position `i`: copies one chunk.
    fn set(&mut self, i: usize, o: Option<Occupancy>) {
        let table = self.occupancy.get_or_insert_with(|| {
            self.layer
                .items()
                .chunks(OCCUPANCY_CHUNK)
                .map(|c| c.iter().map(|s| s.occupancy).collect())
                .collect()
        });
        let (c, k) = (i / OCCUPANCY_CHUNK, i % OCCUPANCY_CHUNK);
        let mut chunk = table[c].to_vec();
        chunk[k] = o;
        let mut chunks = table.to_vec();
        chunks[c] = chunk.into();
        *table = chunks.into();
    }
}

/// Read a whole file as text, naming the file on error.
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = read_bytes(path).map_err(io)?;
    // The same error as `std::fs::read_to_string`.
    String::from_utf8(bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// Read a whole file; a large one in parallel pieces (the copy from the page cache is
/// a good part of reading a big layer).
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use rayon::prelude::*;
        use std::os::unix::fs::FileExt;
        const PIECE: usize = 16 << 20;
        let file = std::fs::File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if len > 2 * PIECE && len < usize::MAX {
            let mut buf = vec![0u8; len];
            let read = buf
                .par_chunks_mut(PIECE)
                .enumerate()
                .try_for_each(|(k, piece)| file.read_exact_at(piece, (k * PIECE) as u64));
            // A file that changed size meanwhile is read again, the ordinary way.
            if read.is_ok() && file.read_at(&mut [0u8], len as u64)? == 0 {
                return Ok(buf);
            }
        }
    }
    std::fs::read(path)
}

fn parse_file<T>(
    path: &Path,
    crs: Crs,
    read: impl Fn(&str, Crs) -> Result<T, ReadError>,
) -> Result<T, LoadError> {
    let text = read_text(path)?;
    read(&text, crs).map_err(|source| LoadError::Invalid {
        path: path.to_path_buf(),
        source,
    })
}

/// Read a point layer file: streamed through the fast path when it is written one
/// feature per line (see `io::lines`), else read as text by `generic`.
fn read_point_file<L>(
    path: &Path,
    layer: L,
    generic: impl FnOnce(&str) -> Result<Vec<L::Item>, ReadError>,
) -> Result<Vec<L::Item>, LoadError>
where
    L: io::lines::PointLayer,
    L::Item: io::HasId,
{
    let invalid = |source| LoadError::Invalid {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(Some(outcomes)) = io::lines::read_file_lines(&layer, path) {
        return io::finish(outcomes).map_err(invalid);
    }
    // Not that layout (or unreadable: the generic path names the problem).
    let text = read_text(path)?;
    generic(&text).map_err(invalid)
}

/// Read one layer file.
pub fn read_stations_file(path: &Path, crs: Crs) -> Result<Vec<Station>, LoadError> {
    read_point_file(path, io::StationLayer(crs), |text| {
        io::read_stations(&io::parse_collection(text)?, crs)
    })
}
/// Read one layer file.
pub fn read_hotspots_file(path: &Path, crs: Crs) -> Result<Vec<Hotspot>, LoadError> {
    read_point_file(path, io::HotspotLayer(crs), |text| {
        io::read_hotspots(&io::parse_collection(text)?, crs)
    })
}
/// Read one layer file.
pub fn read_cells_file(path: &Path, crs: Crs) -> Result<Vec<GridCell>, LoadError> {
    parse_file(path, crs, io::read_cells_str)
}
/// Read one layer file.
pub fn read_candidates_file(path: &Path, crs: Crs) -> Result<Vec<Candidate>, LoadError> {
    read_point_file(path, io::CandidateLayer(crs), |text| {
        io::read_candidates(&io::parse_collection(text)?, crs)
    })
}
/// Read one layer file.
pub fn read_boundary_file(path: &Path, crs: Crs) -> Result<Boundary, LoadError> {
    parse_file(path, crs, io::read_boundary_str)
}

/// The file name of the roads layer in a dataset folder.
pub const ROADS_FILE: &str = "roads.geojson";

/// Read a roads layer file.
pub fn read_roads_file(path: &Path, crs: Crs) -> Result<Vec<Road>, LoadError> {
    parse_file(path, crs, io::read_roads_str)
}

/// Check one file as the given layer, returning every problem found (empty when valid).
pub fn validate_file(path: &Path, layer: Layer) -> Vec<String> {
    let r = match layer {
        Layer::Stations => read_stations_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Hotspots => read_hotspots_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Cells => read_cells_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Candidates => read_candidates_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Boundary => read_boundary_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Roads => read_roads_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Water => read_boundary_file(path, Crs::Wgs84).map(|_| ()),
    };
    match r {
        Ok(()) => Vec::new(),
        Err(LoadError::Invalid { path, source }) => source
            .lines()
            .into_iter()
            .map(|l| format!("{}: {l}", path.display()))
            .collect(),
        Err(e) => vec![e.to_string()],
    }
}

impl Dataset {
    /// Build a dataset from its layers.
    pub fn new(
        stations: Vec<Station>,
        hotspots: Vec<Hotspot>,
        cells: Vec<GridCell>,
        candidates: Vec<Candidate>,
        boundary: Option<Boundary>,
    ) -> Self {
        Self::from_indexes(
            GeoIndex::new(stations),
            GeoIndex::new(hotspots),
            GeoIndex::new(cells),
            GeoIndex::new(candidates),
            boundary,
        )
    }

    /// Build a dataset from indexed layers.
    pub fn from_indexes(
        stations: GeoIndex<Station>,
        hotspots: GeoIndex<Hotspot>,
        cells: GeoIndex<GridCell>,
        candidates: GeoIndex<Candidate>,
        boundary: Option<Boundary>,
    ) -> Self {
        let stations = Arc::new(stations);
        Self {
            keys: StationKeys::new(&stations),
            stations,
            hotspots: Arc::new(hotspots),
            cells: Arc::new(cells),
            candidates: Arc::new(candidates),
            boundary: boundary.map(Arc::new),
            roads: Arc::from(Vec::new()),
            water: None,
        }
    }

    /// The same dataset with these roads.
    pub fn with_roads(mut self, roads: Vec<Road>) -> Self {
        self.roads = roads.into();
        self
    }

    /// The same dataset with this water layer.
    pub fn with_water(mut self, water: Option<Boundary>) -> Self {
        self.water = water.map(Arc::new);
        self
    }

    /// Load a dataset folder: `stations.geojson` and `hotspots.geojson` (required),
    /// `cells.geojson`, `candidates.geojson`, `boundary.geojson`, `roads.geojson`,
    /// `water.geojson` (optional). All WGS 84.
    ///
    /// Files written one feature per line (as yizhan writes them) are read on a fast
    /// path with exactly the generic reader's results and errors. The hotspots' k-d
    /// tree is built on their first distance query ([`GeoIndex::new_lazy`]).
    pub fn load_dir(dir: &Path) -> Result<Self, LoadError> {
        let file = |l: Layer| dir.join(format!("{}.geojson", l.as_str()));
        let required = |l: Layer| {
            let p = file(l);
            if p.exists() {
                Ok(p)
            } else {
                Err(LoadError::Missing { path: p })
            }
        };
        let optional = |l: Layer| Some(file(l)).filter(|p| p.exists());
        // The hotspots (the big layer) are read alongside the other layers;
        // errors are reported in the same order as if read one after the other.
        let (rest, hotspots) = rayon::join(
            || {
                let stations = required(Layer::Stations)
                    .and_then(|p| read_stations_file(&p, Crs::Wgs84))
                    .map(GeoIndex::new);
                let cells = optional(Layer::Cells)
                    .map(|p| read_cells_file(&p, Crs::Wgs84))
                    .transpose()
                    .map(|c| GeoIndex::new(c.unwrap_or_default()));
                let candidates = optional(Layer::Candidates)
                    .map(|p| read_candidates_file(&p, Crs::Wgs84))
                    .transpose()
                    .map(|c| GeoIndex::new(c.unwrap_or_default()));
                let boundary = optional(Layer::Boundary)
                    .map(|p| read_boundary_file(&p, Crs::Wgs84))
                    .transpose();
                let roads = Some(dir.join(ROADS_FILE))
                    .filter(|p| p.exists())
                    .map(|p| read_roads_file(&p, Crs::Wgs84))
                    .transpose();
                let water = optional(Layer::Water)
                    .map(|p| read_boundary_file(&p, Crs::Wgs84))
                    .transpose();
                (stations, cells, candidates, boundary, (roads, water))
            },
            || {
                required(Layer::Hotspots).map(|p| {
                    // Nothing asks the hotspots for distances at load (coverage asks
                    // the stations, per hotspot): their k-d tree waits for a query.
                    read_hotspots_file(&p, Crs::Wgs84).map(GeoIndex::new_lazy)
                })
            },
        );
        let (stations, cells, candidates, boundary, (roads, water)) = rest;
        let stations = stations?;
        let hotspots = hotspots??;
        Ok(
            Self::from_indexes(stations, hotspots, cells?, candidates?, boundary?)
                .with_roads(roads?.unwrap_or_default())
                .with_water(water?),
        )
    }

    /// The id map and occupancy table, when they belong to the current stations layer.
    fn keys(&self) -> Option<&StationKeys> {
        Some(&self.keys).filter(|k| Arc::ptr_eq(&k.layer, &self.stations))
    }

    /// The position in [`Dataset::stations`] of the station with this id.
    pub fn station_position(&self, id: &str) -> Option<usize> {
        match self.keys() {
            Some(k) => k.ids.get(id).copied(),
            None => self.stations.items().iter().position(|s| s.id == id),
        }
    }

    /// The current occupancy report of the station at position `i` (`None` when
    /// never reported or out of range).
    pub fn occupancy_at(&self, i: usize) -> Option<Occupancy> {
        match self.keys().and_then(|k| k.occupancy.as_ref()) {
            Some(t) => t
                .get(i / OCCUPANCY_CHUNK)
                .and_then(|c| c.get(i % OCCUPANCY_CHUNK).copied().flatten()),
            None => self.stations.items().get(i).and_then(|s| s.occupancy),
        }
    }

    /// `s`, the station at position `i`, with its current report.
    fn patched<'a>(&'a self, s: &'a Station, i: usize) -> Cow<'a, Station> {
        let o = self.occupancy_at(i);
        if o == s.occupancy {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(Station {
                occupancy: o,
                ..s.clone()
            })
        }
    }

    /// The station at position `i` of [`Dataset::stations`], with its current report.
    pub fn station_at(&self, i: usize) -> Option<Cow<'_, Station>> {
        let s = self.stations.items().get(i)?;
        Some(self.patched(s, i))
    }

    /// Find a station by id (with its current report).
    pub fn station(&self, id: &str) -> Option<Cow<'_, Station>> {
        self.station_at(self.station_position(id)?)
    }

    /// `s` as it stands now: with its current report when it is an item of
    /// [`Dataset::stations`] (as the index hands them to query filters), else `s`.
    pub fn current<'a>(&'a self, s: &'a Station) -> Cow<'a, Station> {
        match self.item_position(s) {
            Some(i) => self.patched(s, i),
            None => Cow::Borrowed(s),
        }
    }

    /// The current report of `s` ([`Dataset::current`]'s, without copying the station).
    pub fn current_occupancy(&self, s: &Station) -> Option<Occupancy> {
        match self.item_position(s) {
            Some(i) => self.occupancy_at(i),
            None => s.occupancy,
        }
    }

    /// The position of `s` when it is an item of [`Dataset::stations`] and reports
    /// have been made since the layer was built (else its own report is current).
    fn item_position(&self, s: &Station) -> Option<usize> {
        self.keys()?.occupancy.as_ref()?;
        self.station_position(&s.id).filter(|&i| {
            self.stations
                .items()
                .get(i)
                .is_some_and(|x| std::ptr::eq(x, s))
        })
    }

    /// Every station with its current report, in layer order.
    pub fn current_stations(&self) -> impl Iterator<Item = Cow<'_, Station>> {
        self.stations
            .items()
            .iter()
            .enumerate()
            .map(|(i, s)| self.patched(s, i))
    }

    /// Record an occupancy report (or its absence) for the station with this id.
    /// Copies one chunk of the occupancy table; every layer and index stays shared.
    /// Returns whether the station exists.
    pub fn set_occupancy(&mut self, id: &str, occupancy: Option<Occupancy>) -> bool {
        if self.keys().is_none() {
            self.keys = StationKeys::new(&self.stations);
        }
        match self.keys.ids.get(id).copied() {
            Some(i) => {
                self.keys.set(i, occupancy);
                true
            }
            None => false,
        }
    }

    /// Insert a station, or replace the one with its id. Rebuilds the stations
    /// layer (current reports folded in) and its id map; the other layers stay shared.
    pub fn upsert_station(&mut self, station: Station) {
        let mut all: Vec<Station> = self.current_stations().map(Cow::into_owned).collect();
        match self.station_position(&station.id) {
            Some(i) => all[i] = station,
            None => all.push(station),
        }
        self.set_stations(all);
    }

    /// Remove the station with this id (every one with it). Rebuilds the stations
    /// layer as [`Dataset::upsert_station`] does. Returns whether one was removed.
    pub fn remove_station(&mut self, id: &str) -> bool {
        if self.station_position(id).is_none() {
            return false;
        }
        let all: Vec<Station> = self
            .current_stations()
            .filter(|s| s.id != id)
            .map(Cow::into_owned)
            .collect();
        self.set_stations(all);
        true
    }

    /// Replace the stations layer (and its id map and occupancy table).
    pub fn set_stations(&mut self, stations: Vec<Station>) {
        self.stations = Arc::new(GeoIndex::new(stations));
        self.keys = StationKeys::new(&self.stations);
    }

    /// The features of one layer in the flat GIS form ([`io::gis`]), in `crs`: what
    /// OGC API Features and the exports carry.
    pub fn gis_features(&self, layer: Layer, crs: Crs) -> Vec<geojson::Feature> {
        let mut f = self.layer_features(layer, crs);
        io::gis::to_gis(&mut f);
        f
    }

    /// The features of one layer, as GeoJSON, in `crs`.
    pub fn layer_features(&self, layer: Layer, crs: Crs) -> Vec<geojson::Feature> {
        let none = geojson::JsonObject::new;
        match layer {
            Layer::Stations => self
                .current_stations()
                .map(|s| io::station_feature(&s, crs, none()))
                .collect(),
            Layer::Hotspots => self
                .hotspots
                .items()
                .iter()
                .map(|h| io::hotspot_feature(h, crs))
                .collect(),
            Layer::Cells => self
                .cells
                .items()
                .iter()
                .map(|c| io::cell_feature(c, crs, none()))
                .collect(),
            Layer::Candidates => self
                .candidates
                .items()
                .iter()
                .map(|c| io::candidate_feature(c, crs))
                .collect(),
            Layer::Boundary => self
                .boundary
                .iter()
                .map(|b| io::boundary_feature(b, crs))
                .collect(),
            Layer::Roads => self
                .roads
                .iter()
                .map(|r| io::road_feature(r, crs))
                .collect(),
            Layer::Water => self
                .water
                .iter()
                .map(|b| io::boundary_feature(b, crs))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::LonLat;
    use crate::hours::OpeningHours;
    use crate::model::{AmenitySet, StationKind};

    fn station(i: usize) -> Station {
        Station {
            id: format!("S{i}"),
            name: format!("station {i}"),
            name_zh: None,
            kind: StationKind::RestStation,
            location: LonLat::new(118.0 + i as f64 * 1e-3, 24.0).unwrap(),
            amenities: AmenitySet::empty(),
            capacity: 10,
            occupancy: None,
            opening_hours: OpeningHours::always(),
            grid_unit: None,
            operator: None,
            address: None,
        }
    }

    fn report(occupied: u32) -> Option<Occupancy> {
        Some(Occupancy {
            occupied,
            reported_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        })
    }

    fn dataset(n: usize) -> Dataset {
        Dataset::new((0..n).map(station).collect(), vec![], vec![], vec![], None)
    }

    #[test]
    fn occupancy_reports_share_the_layers_and_leave_older_versions_alone() {
        // More than one chunk, so that the report lands in a later one.
        let old = dataset(3 * OCCUPANCY_CHUNK + 5);
        let mut new = old.clone();
        assert!(new.set_occupancy("S600", report(4)));
        assert!(!new.set_occupancy("nope", report(1)));
        // The layers (and their indexes) are the same allocations.
        assert!(Arc::ptr_eq(&old.stations, &new.stations));
        assert!(Arc::ptr_eq(&old.hotspots, &new.hotspots));
        // The new version sees the report everywhere, the old one nowhere.
        assert_eq!(new.station("S600").unwrap().occupancy, report(4));
        assert_eq!(new.occupancy_at(600), report(4));
        assert_eq!(old.station("S600").unwrap().occupancy, None);
        let item = &new.stations.items()[600];
        assert_eq!(new.current(item).occupancy, report(4));
        assert_eq!(old.current(item).occupancy, None);
        let listed: Vec<_> = new
            .current_stations()
            .filter(|s| s.occupancy.is_some())
            .collect();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "S600");
        // A second report replaces the first; the others stay unreported.
        assert!(new.set_occupancy("S600", report(7)));
        assert!(new.set_occupancy("S0", report(1)));
        assert_eq!(new.occupancy_at(600), report(7));
        assert_eq!(new.occupancy_at(0), report(1));
        assert_eq!(new.occupancy_at(601), None);
        assert_eq!(new.occupancy_at(1_000_000), None);
    }

    #[test]
    fn upserts_and_removals_rebuild_the_stations_only_and_keep_reports() {
        let old = dataset(10);
        let mut d = old.clone();
        d.set_occupancy("S3", report(2));
        let mut moved = station(3);
        moved.location = LonLat::new(119.0, 25.0).unwrap();
        moved.occupancy = report(5);
        d.upsert_station(moved);
        d.upsert_station(station(42));
        assert!(!Arc::ptr_eq(&old.stations, &d.stations));
        assert!(Arc::ptr_eq(&old.cells, &d.cells));
        assert_eq!(d.stations.len(), 11);
        assert_eq!(d.station("S3").unwrap().occupancy, report(5));
        assert_eq!(d.station_position("S42"), Some(10));
        let near = d
            .stations
            .nearest_one(LonLat::new(119.0, 25.0).unwrap(), |_| true)
            .unwrap();
        assert_eq!(near.item.id, "S3");
        // A report made before a rebuild is folded into the new layer.
        d.set_occupancy("S4", report(6));
        assert!(d.remove_station("S0"));
        assert!(!d.remove_station("S0"));
        assert_eq!(
            d.stations.items()[d.station_position("S4").unwrap()].occupancy,
            report(6)
        );
        assert!(d.station("S0").is_none());
        assert_eq!(old.stations.len(), 10);
    }

    #[test]
    fn an_assigned_stations_layer_is_read_without_the_old_id_map() {
        let mut d = dataset(5);
        d.set_occupancy("S1", report(3));
        d.stations = Arc::new(GeoIndex::new(vec![station(7), station(1)]));
        assert_eq!(d.station_position("S1"), Some(1));
        assert_eq!(d.station("S1").unwrap().occupancy, None);
        assert!(d.set_occupancy("S7", report(1)));
        assert_eq!(d.station("S7").unwrap().occupancy, report(1));
    }
}
