//! A dataset: the layers of one town, indexed and ready for queries.

use std::path::{Path, PathBuf};

use crate::crs::Crs;
use crate::index::GeoIndex;
use crate::io::{self, Layer, ReadError};
use crate::model::{Boundary, Candidate, GridCell, Hotspot, Station};

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

/// All layers of a town, with R-tree indexes over stations, hotspots, cells and candidates.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Service stations.
    pub stations: GeoIndex<Station>,
    /// Outdoor-worker hotspots.
    pub hotspots: GeoIndex<Hotspot>,
    /// Grid cells (indexed by centroid).
    pub cells: GeoIndex<GridCell>,
    /// Candidate sites for new stations.
    pub candidates: GeoIndex<Candidate>,
    /// The town's outline, if known.
    pub boundary: Option<Boundary>,
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

/// Check one file as the given layer, returning every problem found (empty when valid).
pub fn validate_file(path: &Path, layer: Layer) -> Vec<String> {
    let r = match layer {
        Layer::Stations => read_stations_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Hotspots => read_hotspots_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Cells => read_cells_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Candidates => read_candidates_file(path, Crs::Wgs84).map(|_| ()),
        Layer::Boundary => read_boundary_file(path, Crs::Wgs84).map(|_| ()),
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
        Self {
            stations: GeoIndex::new(stations),
            hotspots: GeoIndex::new(hotspots),
            cells: GeoIndex::new(cells),
            candidates: GeoIndex::new(candidates),
            boundary,
        }
    }

    /// Load a dataset folder: `stations.geojson` and `hotspots.geojson` (required),
    /// `cells.geojson`, `candidates.geojson`, `boundary.geojson` (optional). All WGS 84.
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
                (stations, cells, candidates, boundary)
            },
            || {
                required(Layer::Hotspots).map(|p| {
                    // Nothing asks the hotspots for distances at load (coverage asks
                    // the stations, per hotspot): their k-d tree waits for a query.
                    read_hotspots_file(&p, Crs::Wgs84).map(GeoIndex::new_lazy)
                })
            },
        );
        let (stations, cells, candidates, boundary) = rest;
        let stations = stations?;
        let hotspots = hotspots??;
        Ok(Self {
            stations,
            hotspots,
            cells: cells?,
            candidates: candidates?,
            boundary: boundary?,
        })
    }

    /// Find a station by id.
    pub fn station(&self, id: &str) -> Option<&Station> {
        self.stations.items().iter().find(|s| s.id == id)
    }

    /// The features of one layer, as GeoJSON, in `crs`.
    pub fn layer_features(&self, layer: Layer, crs: Crs) -> Vec<geojson::Feature> {
        let none = geojson::JsonObject::new;
        match layer {
            Layer::Stations => self
                .stations
                .items()
                .iter()
                .map(|s| io::station_feature(s, crs, none()))
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
        }
    }
}
