//! # yizhan-net
//!
//! Street networks for yizhan (驿站): how couriers on foot and on e-bikes reach a
//! station along the streets, not across blocks, rivers and rail.
//!
//! - [`profile`]: the walk and e-bike travel profiles (which OpenStreetMap tags
//!   allow a way, in which direction, at what speed: named, overridable constants);
//! - [`graph`]: the routing graph of one profile built from the roads layer
//!   (`yizhan_core::model::Road`), its largest strongly connected part, and its
//!   `fast_paths` contraction hierarchy;
//! - [`route`]: snapping to the nearest edge, routes, the k nearest items by travel
//!   time (exact), everything within a travel time (bounded Dijkstra);
//! - [`matrix`]: demand × sites cost matrices within a cutoff for planning (one
//!   bounded Dijkstra per site, on all cores);
//! - [`file`]: both profiles' graphs and their versioned binary file `roads.graph`;
//! - [`osm`]: OpenStreetMap PBF extracts to the roads layer (`osmpbf`).
//!
//! Every position is WGS 84 lon/lat, every length geodesic metres
//! (`yizhan_core::geodesy`), every time seconds.
//!
//! ```
//! use yizhan_core::{geodesy::LonLat, model::{Road, RoadTags}};
//! use yizhan_net::{Networks, Mode};
//! let street = |id: &str, pts: Vec<(f64, f64)>| Road {
//!     id: id.into(), line: pts.into(),
//!     tags: RoadTags { highway: "residential".into(), ..Default::default() },
//! };
//! let roads = vec![
//!     street("w1", vec![(118.47, 24.72), (118.48, 24.72)]),
//!     street("w2", vec![(118.48, 24.72), (118.48, 24.73)]),
//! ];
//! let nets = Networks::build(&roads).unwrap();
//! let walk = nets.get(Mode::Walk);
//! let (a, b) = (LonLat::new(118.471, 24.7201).unwrap(), LonLat::new(118.4801, 24.729).unwrap());
//! let route = walk.route(a, &walk.snap(a).unwrap(), b, &walk.snap(b).unwrap()).unwrap();
//! assert!(route.metres > a.distance_m(b));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod file;
pub mod graph;
pub mod matrix;
pub mod osm;
pub mod profile;
pub mod route;

pub use error::NetError;
pub use file::{Networks, GRAPH_FILE};
pub use graph::{BuildReport, Edge, Network};
pub use matrix::{CostMatrix, Metric, PairCost};
pub use osm::read_pbf_roads;
pub use profile::{Mode, Profile};
pub use route::{NetHit, Route, Snap, SNAP_LIMIT_M};
