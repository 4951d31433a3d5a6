//! A point layer along a quadtree (Morton order of Web Mercator cells), with
//! prefix sums: a tile's point count and its aggregate grid cost a binary search
//! per grid cell, whatever the number of points.

use super::{mercator, unmercator_lat, TileId, AGGREGATE_GRID};

/// Quadtree depth of the point keys (cells of about 0.6 m at the equator).
const DEPTH: u32 = 26;

/// One non-empty cell of a tile's aggregate grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// Longitude of the mean (Web Mercator) position of the cell's points.
    pub lon: f64,
    /// Latitude of that mean position.
    pub lat: f64,
    /// Points in the cell.
    pub count: u64,
    /// Their summed weight (workers, seats).
    pub weight: u64,
}

/// Points with weights, sorted along the quadtree.
#[derive(Debug, Clone, Default)]
pub struct PointPyramid {
    keys: Vec<u64>,
    /// Prefix sums over `keys` order (length `keys.len() + 1`).
    weight: Vec<u64>,
    mx: Vec<f64>,
    my: Vec<f64>,
}

/// Spread the low 32 bits of `v` to the even bits of a u64.
fn spread(v: u64) -> u64 {
    let mut x = v & 0xFFFF_FFFF;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    x = (x | (x << 1)) & 0x5555_5555_5555_5555;
    x
}

fn morton(cx: u64, cy: u64) -> u64 {
    spread(cx) | (spread(cy) << 1)
}

/// The cell of a world coordinate at [`DEPTH`].
fn cell(w: f64) -> u64 {
    let n = (1u64 << DEPTH) as f64;
    ((w * n).floor() as i64).clamp(0, (1i64 << DEPTH) - 1) as u64
}

impl PointPyramid {
    /// Index `(lon, lat, weight)` points.
    pub fn new(points: impl IntoIterator<Item = (f64, f64, u64)>) -> Self {
        let mut v: Vec<(u64, u64, f64, f64)> = points
            .into_iter()
            .map(|(lon, lat, w)| {
                let (mx, my) = mercator(lon, lat);
                (morton(cell(mx), cell(my)), w, mx, my)
            })
            .collect();
        v.sort_unstable_by_key(|p| p.0);
        let mut p = Self {
            keys: Vec::with_capacity(v.len()),
            weight: Vec::with_capacity(v.len() + 1),
            mx: Vec::with_capacity(v.len() + 1),
            my: Vec::with_capacity(v.len() + 1),
        };
        let (mut w, mut x, mut y) = (0u64, 0.0, 0.0);
        p.weight.push(0);
        p.mx.push(0.0);
        p.my.push(0.0);
        for (k, pw, mx, my) in v {
            p.keys.push(k);
            w += pw;
            x += mx;
            y += my;
            p.weight.push(w);
            p.mx.push(x);
            p.my.push(y);
        }
        p
    }

    /// Points indexed.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The positions in `keys` of the quadtree cell `(cx, cy)` at `level`.
    fn range(
        &self,
        level: u32,
        cx: u64,
        cy: u64,
        within: std::ops::Range<usize>,
    ) -> (usize, usize) {
        let shift = 2 * (DEPTH - level);
        let lo = morton(cx, cy) << shift;
        let hi = lo + (1u64 << shift);
        let s = &self.keys[within.clone()];
        let a = s.partition_point(|&k| k < lo);
        let b = a + s[a..].partition_point(|&k| k < hi);
        (within.start + a, within.start + b)
    }

    fn tile_range(&self, t: TileId) -> (usize, usize) {
        self.range(
            u32::from(t.z),
            u64::from(t.x),
            u64::from(t.y),
            0..self.keys.len(),
        )
    }

    /// Points in the tile (its edges west and north included, east and south not).
    pub fn count(&self, t: TileId) -> usize {
        let (a, b) = self.tile_range(t);
        b - a
    }

    /// Points in the tile and its eight neighbours: a bound on the points in the
    /// tile with any buffer up to a tile wide.
    pub fn count_around(&self, t: TileId) -> usize {
        let n = 1i64 << t.z;
        let mut sum = 0;
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (x, y) = (i64::from(t.x) + dx, i64::from(t.y) + dy);
                if (0..n).contains(&x) && (0..n).contains(&y) {
                    sum += self.count(TileId {
                        z: t.z,
                        x: x as u32,
                        y: y as u32,
                    });
                }
            }
        }
        sum
    }

    /// The tile's aggregate grid ([`AGGREGATE_GRID`] cells per side, fewer near
    /// the quadtree's depth): one [`Aggregate`] per non-empty cell, at the mean
    /// position of its points.
    pub fn aggregate(&self, t: TileId) -> Vec<Aggregate> {
        let (a, b) = self.tile_range(t);
        if a == b {
            return Vec::new();
        }
        let grid_bits = AGGREGATE_GRID.trailing_zeros().min(DEPTH - u32::from(t.z));
        let level = u32::from(t.z) + grid_bits;
        let g = 1u64 << grid_bits;
        let (x0, y0) = (u64::from(t.x) << grid_bits, u64::from(t.y) << grid_bits);
        let mut out = Vec::new();
        for cy in 0..g {
            for cx in 0..g {
                let (i, j) = self.range(level, x0 + cx, y0 + cy, a..b);
                if i == j {
                    continue;
                }
                let count = (j - i) as u64;
                let mx = (self.mx[j] - self.mx[i]) / count as f64;
                let my = (self.my[j] - self.my[i]) / count as f64;
                out.push(Aggregate {
                    lon: mx * 360.0 - 180.0,
                    lat: unmercator_lat(my),
                    count,
                    weight: self.weight[j] - self.weight[i],
                });
            }
        }
        out
    }
}
