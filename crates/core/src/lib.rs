//! # yizhan-core
//!
//! The spatial core of yizhan (驿站, "way station"): service stations for outdoor
//! workers, the workers' hotspots, and the town's management grid, in R-tree indexes
//! that answer in true great-circle metres; GeoJSON in and out; GCJ-02 ⇄ WGS 84.
//!
//! Everything inside is WGS 84 longitude/latitude ([`geodesy::LonLat`]). The index
//! ranks by the haversine distance on the mean Earth radius 6,371,008.8 m; the
//! courier queries (`nearest_on_ellipsoid`, `within_radius_on_ellipsoid`) answer
//! exactly on the WGS 84 ellipsoid (see [`geodesy`]).
//!
//! ```
//! use yizhan_core::{geodesy::LonLat, index::{GeoIndex, StationFilter}, model::*, hours::OpeningHours};
//! let s = Station {
//!     id: "S1".into(), name: "Union station".into(), name_zh: None,
//!     kind: StationKind::RestStation, location: LonLat::new(118.4716, 24.7196).unwrap(),
//!     amenities: AmenitySet::parse_list("microwave,charging").unwrap(), capacity: 10,
//!     occupancy: None, opening_hours: OpeningHours::always(), grid_unit: None,
//!     operator: None, address: None,
//! };
//! let index = GeoIndex::new(vec![s]);
//! let filter = StationFilter::default();
//! let hits = index.nearest(LonLat::new(118.47, 24.72).unwrap(), 5, None, |s| filter.accepts(s));
//! assert_eq!(hits[0].item.id, "S1");
//! assert!(hits[0].distance_m < 200.0);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod crs;
pub mod dataset;
pub mod filter;
pub mod geodesy;
pub mod hours;
pub mod index;
pub mod io;
pub mod model;
pub mod navigate;
pub mod occupancy;
pub mod profile;
pub mod synth;
pub mod tiles;
pub mod time;

pub use dataset::{Dataset, LoadError};
pub use geodesy::{haversine_m, LonLat, EARTH_RADIUS_M};
pub use index::{BBox, GeoIndex, Hit, Located, StationFilter};
pub use model::{
    Amenity, AmenitySet, Candidate, GridCell, Hotspot, Station, StationKind, WorkerType,
};
