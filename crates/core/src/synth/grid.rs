//! The lon/lat grid of square cells the generators lay over an area.

use geo::Contains;
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};

use super::maths::{m_per_deg_lon, M_PER_DEG};
use super::rng::Rng;
use crate::geodesy::LonLat;

/// A lon/lat grid of square cells `cell_m` on a side: rows are bands of constant
/// latitude height; each row's cells are `cell_m` wide at the row's centre latitude.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    origin: LonLat,
    cell_m: f64,
    dlat: f64,
}

impl Grid {
    pub(super) fn new(origin: LonLat, cell_m: f64) -> Self {
        Self {
            origin,
            cell_m,
            dlat: cell_m / M_PER_DEG,
        }
    }
    pub(super) fn row_lat(&self, row: i64) -> f64 {
        self.origin.lat + row as f64 * self.dlat
    }
    pub(super) fn dlon(&self, row: i64) -> f64 {
        self.cell_m / m_per_deg_lon(self.row_lat(row))
    }
    pub(super) fn centre(&self, row: i64, col: i64) -> LonLat {
        LonLat {
            lon: self.origin.lon + col as f64 * self.dlon(row),
            lat: self.row_lat(row),
        }
    }
    pub(super) fn row_of(&self, lat: f64) -> i64 {
        ((lat - self.origin.lat) / self.dlat).round() as i64
    }
    pub(super) fn col_of(&self, row: i64, lon: f64) -> i64 {
        ((lon - self.origin.lon) / self.dlon(row)).round() as i64
    }
    pub(super) fn key_of(&self, p: LonLat) -> (i64, i64) {
        let row = self.row_of(p.lat);
        (row, self.col_of(row, p.lon))
    }
    /// The cell as a counter-clockwise polygon.
    pub(super) fn polygon(&self, row: i64, col: i64) -> Polygon<f64> {
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
    pub(super) fn random_in(&self, row: i64, col: i64, rng: &mut Rng) -> LonLat {
        let c = self.centre(row, col);
        LonLat {
            lon: c.lon + (rng.unit() - 0.5) * self.dlon(row),
            lat: c.lat + (rng.unit() - 0.5) * self.dlat,
        }
    }
}

pub(super) fn contains(mp: &MultiPolygon<f64>, p: LonLat) -> bool {
    mp.contains(&Point::new(p.lon, p.lat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::Coord;

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
