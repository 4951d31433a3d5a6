//! Mapbox Vector Tiles (MVT 2.1) of the layers, in the Web Mercator tile grid
//! (`z/x/y`, XYZ order: row 0 at the north).
//!
//! - [`TileId`]: a checked tile address, its extent and the projection of
//!   WGS 84 positions into tile units ([`EXTENT`] per side).
//! - [`TileEncoder`]: features (the layers' GeoJSON schemas) clipped to the tile
//!   with a [`BUFFER`], polygons and lines simplified to [`SIMPLIFY_TOLERANCE`]
//!   tile units (so by zoom: the tolerance in metres halves with each zoom).
//! - [`PointPyramid`]: a point layer sorted along a quadtree so that a tile's
//!   points, or the grid of [`AGGREGATE_GRID`]² sums that stands for them at low
//!   zoom, are found in bounded work whatever the layer's size.
//! - [`ShapeIndex`]: an R-tree of polygon and line extents by the zoom from which
//!   a feature is at least one tile unit large, so a low-zoom tile never visits
//!   features too small to draw.

mod encode;
mod pyramid;
mod shapes;

pub use encode::{tag_text, TileEncoder};
pub use pyramid::{Aggregate, PointPyramid};
pub use shapes::ShapeIndex;

use crate::index::BBox;

/// The largest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Tile units per tile side.
pub const EXTENT: u32 = 4096;
/// Tile units drawn beyond each edge, so lines and symbols meet across tiles.
pub const BUFFER: u32 = 64;
/// Douglas-Peucker tolerance for lines and polygons, in tile units.
pub const SIMPLIFY_TOLERANCE: f64 = 1.0;
/// Grid cells per tile side when points are aggregated.
pub const AGGREGATE_GRID: u32 = 64;
/// The most points a tile carries one by one; a tile with more carries the
/// aggregate grid instead.
pub const MAX_POINTS_PER_TILE: usize = 20_000;
/// The latitude limit of Web Mercator, in degrees.
pub const MAX_MERCATOR_LAT: f64 = 85.051_128_779_806_59;

/// Why a tile address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The zoom is above [`MAX_ZOOM`].
    #[error("zoom {z} is outside 0..={MAX_ZOOM}")]
    Zoom {
        /// The zoom asked for.
        z: u32,
    },
    /// A column or row outside the zoom's range.
    #[error("{axis} {value} is outside 0..={max} at zoom {z}")]
    OutOfRange {
        /// `x` or `y`.
        axis: &'static str,
        /// The value asked for.
        value: u32,
        /// The largest at this zoom.
        max: u32,
        /// The zoom.
        z: u8,
    },
    /// The encoder refused a geometry or a layer (a bug).
    #[error("tile encoding: {0}")]
    Encode(String),
}

/// A tile address: zoom, column, row (XYZ: row 0 at the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom, 0..=[`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0..2^z, from the west.
    pub x: u32,
    /// Row, 0..2^z, from the north.
    pub y: u32,
}

impl TileId {
    /// A checked tile address.
    pub fn new(z: u32, x: u32, y: u32) -> Result<Self, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::Zoom { z });
        }
        let z = z as u8;
        let max = (1u32 << z) - 1;
        for (axis, value) in [("x", x), ("y", y)] {
            if value > max {
                return Err(TileError::OutOfRange {
                    axis,
                    value,
                    max,
                    z,
                });
            }
        }
        Ok(Self { z, x, y })
    }

    /// Tiles per side at this zoom.
    pub fn side(self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// A position (WGS 84) in this tile's units: (0, 0) is the north-west corner,
    /// ([`EXTENT`], [`EXTENT`]) the south-east one.
    pub fn project(self, lon: f64, lat: f64) -> (f64, f64) {
        let (mx, my) = mercator(lon, lat);
        let n = self.side();
        let e = f64::from(EXTENT);
        (
            (mx * n - f64::from(self.x)) * e,
            (my * n - f64::from(self.y)) * e,
        )
    }

    /// The tile's extent in WGS 84, widened by `buffer` tile units on each side
    /// (clamped to the world).
    pub fn bbox(self, buffer: u32) -> BBox {
        let n = self.side();
        let b = f64::from(buffer) / f64::from(EXTENT);
        let west = (f64::from(self.x) - b) / n;
        let east = (f64::from(self.x) + 1.0 + b) / n;
        let north = (f64::from(self.y) - b) / n;
        let south = (f64::from(self.y) + 1.0 + b) / n;
        BBox {
            west: (west * 360.0 - 180.0).max(-180.0),
            east: (east * 360.0 - 180.0).min(180.0),
            north: unmercator_lat(north.max(0.0)),
            south: unmercator_lat(south.min(1.0)),
        }
    }

    /// Whether a position in tile units lies in the tile widened by `buffer`.
    pub fn holds(px: f64, py: f64, buffer: u32) -> bool {
        let (lo, hi) = (-f64::from(buffer), f64::from(EXTENT + buffer));
        (lo..=hi).contains(&px) && (lo..=hi).contains(&py)
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Web Mercator world coordinates in [0, 1]²: x from the antimeridian east, y
/// from the north (latitudes beyond [`MAX_MERCATOR_LAT`] are clamped).
pub fn mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_MERCATOR_LAT, MAX_MERCATOR_LAT).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = 0.5 - (lat.tan() + 1.0 / lat.cos()).ln() / (2.0 * std::f64::consts::PI);
    (x, y.clamp(0.0, 1.0))
}

/// The latitude of a Web Mercator world y.
fn unmercator_lat(y: f64) -> f64 {
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    n.sinh().atan().to_degrees()
}

#[cfg(test)]
mod tests;
