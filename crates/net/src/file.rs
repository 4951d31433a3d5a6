//! Both profiles' networks, and their file `roads.graph` in the dataset folder.
//!
//! Layout (little-endian): the 8-byte magic [`MAGIC`], the `u32` format version
//! [`FORMAT_VERSION`], the `u64` length of the payload, then the payload: a
//! `postcard` encoding of each profile's parameters, vertices, edges, build report
//! and `fast_paths` contraction hierarchy (in its 32-bit form). The file is written
//! to a temporary file in the same folder and renamed, so a reader never sees half
//! of one. A file of another version is refused (rebuild it with
//! `yizhan roads import`, or remove it to build from `roads.geojson`).

use std::io::Write;
use std::path::Path;

use yizhan_core::model::Road;

use crate::error::NetError;
use crate::graph::{Network, NetworkData};
use crate::profile::{Mode, Profile};

/// The graph file's name in a dataset folder.
pub const GRAPH_FILE: &str = "roads.graph";
/// The first bytes of a graph file.
pub const MAGIC: &[u8; 8] = b"YZROADS\x1a";
/// The layout version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The walk and e-bike networks of one roads layer.
#[derive(Debug)]
pub struct Networks {
    /// On foot.
    pub walk: Network,
    /// By e-bike.
    pub ebike: Network,
}

impl Networks {
    /// Builds both networks with the default profiles.
    pub fn build(roads: &[Road]) -> Result<Self, NetError> {
        Self::build_with(roads, Profile::walk(), Profile::ebike())
    }

    /// Builds both networks with these profiles (the walk one first, so an extract
    /// with no walkable street fails on it).
    pub fn build_with(roads: &[Road], walk: Profile, ebike: Profile) -> Result<Self, NetError> {
        Ok(Self {
            walk: Network::build(roads, walk)?,
            ebike: Network::build(roads, ebike)?,
        })
    }

    /// The network of `mode`.
    pub fn get(&self, mode: Mode) -> &Network {
        match mode {
            Mode::Walk => &self.walk,
            Mode::Ebike => &self.ebike,
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = postcard::to_stdvec(&(&self.walk.data, &self.ebike.data))
            .expect("a network always encodes");
        let mut out = Vec::with_capacity(payload.len() + 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Reads a file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, NetError> {
        let bad = |reason: String| NetError::GraphFile {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < 20 || &bytes[..8] != MAGIC {
            return Err(bad("not a yizhan road graph file".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "graph file version {version}, this build reads version {FORMAT_VERSION} (run `yizhan roads import` again)"
            )));
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let payload = &bytes[20..];
        if payload.len() as u64 != len {
            return Err(bad(format!(
                "truncated or damaged: {} payload bytes, the header says {len}",
                payload.len()
            )));
        }
        let (walk, ebike): (NetworkData, NetworkData) =
            postcard::from_bytes(payload).map_err(|e| bad(format!("damaged: {e}")))?;
        let ok = |d: &NetworkData, mode: Mode| {
            d.profile.mode == mode
                && d.ch.get_num_nodes() == d.nodes.len()
                && d.edges
                    .iter()
                    .all(|e| (e.a as usize) < d.nodes.len() && (e.b as usize) < d.nodes.len())
        };
        if !ok(&walk, Mode::Walk) || !ok(&ebike, Mode::Ebike) {
            return Err(bad("damaged: inconsistent graph".into()));
        }
        Ok(Self {
            walk: Network::from_data(walk),
            ebike: Network::from_data(ebike),
        })
    }

    /// Writes the file at `path` (a temporary file beside it, renamed).
    pub fn save(&self, path: &Path) -> Result<(), NetError> {
        let io = |source| NetError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.write_all(&self.to_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// The networks of the dataset folder `dir`: its `roads.graph` when that is
    /// at least as new as its `roads.geojson`, else built from `roads.geojson`;
    /// `None` when it has neither. The string says which it was.
    pub fn for_dataset_dir(dir: &Path) -> Result<Option<(Self, &'static str)>, NetError> {
        let graph = dir.join(GRAPH_FILE);
        let roads = dir.join(yizhan_core::dataset::ROADS_FILE);
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        match (modified(&graph), modified(&roads)) {
            (Some(g), r) if r.is_none_or(|r| g >= r) => {
                Ok(Some((Self::load(&graph)?, "loaded from roads.graph")))
            }
            (_, Some(_)) => {
                let layer =
                    yizhan_core::dataset::read_roads_file(&roads, yizhan_core::crs::Crs::Wgs84)
                        .map_err(|e| NetError::GraphFile {
                            path: roads.clone(),
                            reason: e.to_string(),
                        })?;
                Ok(Some((Self::build(&layer)?, "built from roads.geojson")))
            }
            _ => Ok(None),
        }
    }

    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<Self, NetError> {
        let bytes = std::fs::read(path).map_err(|source| NetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::road;
    use yizhan_core::geodesy::LonLat;

    #[test]
    fn a_saved_graph_loads_the_same_and_damage_is_refused() {
        let roads = vec![
            road(
                "a",
                &[(24.0, 60.0), (24.01, 60.0), (24.01, 60.01)],
                "residential",
                None,
            ),
            road(
                "b",
                &[(24.01, 60.01), (24.0, 60.0)],
                "residential",
                Some("yes"),
            ),
        ];
        let nets = Networks::build(&roads).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(GRAPH_FILE);
        nets.save(&path).unwrap();
        let back = Networks::load(&path).unwrap();
        for mode in Mode::ALL {
            assert_eq!(back.get(mode).edges(), nets.get(mode).edges());
            assert_eq!(back.get(mode).nodes(), nets.get(mode).nodes());
            assert_eq!(back.get(mode).profile(), nets.get(mode).profile());
            let (a, b) = (
                LonLat::new(24.001, 60.0).unwrap(),
                LonLat::new(24.005, 60.009).unwrap(),
            );
            let n = back.get(mode);
            let r = n
                .route(a, &n.snap(a).unwrap(), b, &n.snap(b).unwrap())
                .unwrap();
            let m = nets.get(mode);
            let r0 = m
                .route(a, &m.snap(a).unwrap(), b, &m.snap(b).unwrap())
                .unwrap();
            assert_eq!(r, r0);
        }
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.graph");
        std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
        let e = Networks::load(&cut).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let mut v2 = bytes.clone();
        v2[8] = 99;
        let e = Networks::from_bytes(&v2, &path).unwrap_err().to_string();
        assert!(e.contains("version 99"), "{e}");
        let e = Networks::from_bytes(b"{\"type\":\"FeatureCollection\"}", &path).unwrap_err();
        assert!(e.to_string().contains("not a yizhan road graph"), "{e}");
        let e = Networks::load(&dir.path().join("missing.graph")).unwrap_err();
        assert!(matches!(e, NetError::Io { .. }));
        // nothing but the graph was left in the folder
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
