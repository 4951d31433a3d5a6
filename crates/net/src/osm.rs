//! OpenStreetMap PBF extracts → the roads layer.
//!
//! Every way with a `highway` tag becomes a [`Road`] with id `w<osm id>`, its line
//! in way order and the tags routing and the map use ([`RoadTags`]). A way whose
//! nodes are not all in the extract is split at the missing ones (the later pieces
//! are `w<id>-2`, `w<id>-3` …); pieces of fewer than two nodes are left out.

use std::collections::HashMap;
use std::path::Path;

use osmpbf::{Element, ElementReader};
use yizhan_core::geodesy::LonLat;
use yizhan_core::model::{Road, RoadTags};

use crate::error::NetError;

/// Reads the ways with a `highway` tag of an `.osm.pbf` file.
pub fn read_pbf_roads(path: &Path) -> Result<Vec<Road>, NetError> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(NetError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    let pbf = |e: osmpbf::Error| NetError::Pbf {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let reader = ElementReader::from_path(path).map_err(pbf)?;
    let mut coords: HashMap<i64, (f64, f64)> = HashMap::new();
    let mut ways: Vec<(i64, Vec<i64>, RoadTags)> = Vec::new();
    let mut blocks = 0usize;
    reader
        .for_each(|el| {
            blocks += 1;
            match el {
                Element::Node(n) => {
                    coords.insert(n.id(), (n.lon(), n.lat()));
                }
                Element::DenseNode(n) => {
                    coords.insert(n.id(), (n.lon(), n.lat()));
                }
                Element::Way(w) => {
                    let mut tags = RoadTags::default();
                    let mut highway = None;
                    for (k, v) in w.tags() {
                        let v = Some(v.to_string());
                        match k {
                            "highway" => highway = v,
                            "access" => tags.access = v,
                            "area" => tags.area = v,
                            "bicycle" => tags.bicycle = v,
                            "bridge" => tags.bridge = v,
                            "foot" => tags.foot = v,
                            "junction" => tags.junction = v,
                            "name" => tags.name = v,
                            "name:zh" => tags.name_zh = v,
                            "oneway" => tags.oneway = v,
                            "oneway:bicycle" => tags.oneway_bicycle = v,
                            _ => {}
                        }
                    }
                    if let Some(h) = highway {
                        tags.highway = h;
                        ways.push((w.id(), w.refs().collect(), tags));
                    }
                }
                Element::Relation(_) => {}
            }
        })
        .map_err(pbf)?;
    if blocks == 0 {
        return Err(NetError::Pbf {
            path: path.to_path_buf(),
            reason: "no OpenStreetMap data in it".into(),
        });
    }
    let mut roads = Vec::with_capacity(ways.len());
    for (id, refs, tags) in ways {
        let mut pieces: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for r in refs {
            match coords.get(&r).filter(|c| LonLat::new(c.0, c.1).is_ok()) {
                Some(&c) => pieces.last_mut().expect("one piece").push(c),
                None => pieces.push(Vec::new()),
            }
        }
        let mut n = 0;
        for piece in pieces.into_iter().filter(|p| p.len() >= 2) {
            n += 1;
            roads.push(Road {
                id: if n == 1 {
                    format!("w{id}")
                } else {
                    format!("w{id}-{n}")
                },
                line: piece.into(),
                tags: tags.clone(),
            });
        }
    }
    Ok(roads)
}
