//! Bounding boxes in WGS 84 degrees: validation, containment across the
//! antimeridian, and parsing of `west,south,east,north`.

use crate::geodesy::{CoordError, LonLat};

/// A bounding box in WGS 84 degrees: west, south, east, north.
/// `west > east` means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// Western longitude.
    pub west: f64,
    /// Southern latitude.
    pub south: f64,
    /// Eastern longitude.
    pub east: f64,
    /// Northern latitude.
    pub north: f64,
}

/// Why a bounding box was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BBoxError {
    /// Not four comma-separated numbers.
    #[error("bbox {0:?} must be four comma-separated numbers: west,south,east,north")]
    Format(String),
    /// A corner is not a valid coordinate.
    #[error("bbox corner invalid: {0}")]
    Coord(#[from] CoordError),
    /// South above north.
    #[error("bbox south {south} is above north {north}")]
    Inverted {
        /// Southern latitude given.
        south: f64,
        /// Northern latitude given.
        north: f64,
    },
}

impl BBox {
    /// A validated box.
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<Self, BBoxError> {
        LonLat::new(west, south)?;
        LonLat::new(east, north)?;
        if south > north {
            return Err(BBoxError::Inverted { south, north });
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    /// Whether `p` is inside (edges included).
    pub fn contains(&self, p: LonLat) -> bool {
        let lat_ok = p.lat >= self.south && p.lat <= self.north;
        let lon_ok = if self.west <= self.east {
            p.lon >= self.west && p.lon <= self.east
        } else {
            p.lon >= self.west || p.lon <= self.east
        };
        lat_ok && lon_ok
    }
}

impl std::str::FromStr for BBox {
    type Err = BBoxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| BBoxError::Format(s.to_string()))?;
        match v[..] {
            [w, s_, e, n] => BBox::new(w, s_, e, n),
            _ => Err(BBoxError::Format(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_parsing_errors() {
        assert!("1,2,3".parse::<BBox>().is_err());
        assert!("a,b,c,d".parse::<BBox>().is_err());
        assert!(matches!(
            "0,10,1,5".parse::<BBox>(),
            Err(BBoxError::Inverted { .. })
        ));
        assert!(matches!(
            "0,-91,1,5".parse::<BBox>(),
            Err(BBoxError::Coord(_))
        ));
        assert!("118.4,24.6,118.5,24.8".parse::<BBox>().is_ok());
    }
}
