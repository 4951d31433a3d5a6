//! GeoPackage geometry blobs (OGC 12-128r18 §2.1.3): a small header followed by
//! ISO WKB, for the three geometry types yizhan stores (Point, Polygon,
//! MultiPolygon), little-endian, SRS 4326.

use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};

/// SRS id of WGS 84 longitude/latitude in `gpkg_spatial_ref_sys`.
pub const SRS_WGS84: i32 = 4326;

const WKB_POINT: u32 = 1;
const WKB_POLYGON: u32 = 3;
const WKB_MULTIPOLYGON: u32 = 6;

/// A geometry blob that is not one yizhan wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid GeoPackage geometry: {0}")]
pub struct BlobError(pub String);

fn header(out: &mut Vec<u8>, envelope: Option<[f64; 4]>) {
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
                 // flags: little-endian (bit 0); envelope kind 1 = [minx, maxx, miny, maxy] (bits 1-3).
    let flags = 1u8 | if envelope.is_some() { 1 << 1 } else { 0 };
    out.push(flags);
    out.extend_from_slice(&SRS_WGS84.to_le_bytes());
    if let Some(e) = envelope {
        for v in e {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_coord(out: &mut Vec<u8>, c: Coord<f64>) {
    out.extend_from_slice(&c.x.to_le_bytes());
    out.extend_from_slice(&c.y.to_le_bytes());
}

fn put_polygon_body(out: &mut Vec<u8>, p: &Polygon<f64>) {
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
    put_u32(out, rings.len() as u32);
    for r in rings {
        put_u32(out, r.0.len() as u32);
        for c in &r.0 {
            put_coord(out, *c);
        }
    }
}

/// The envelope of `coords` in the header's order (min x, max x, min y, max y);
/// `None` when there are none.
pub(crate) fn envelope_of(coords: impl IntoIterator<Item = Coord<f64>>) -> Option<[f64; 4]> {
    let mut e = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut any = false;
    for c in coords {
        any = true;
        e[0] = e[0].min(c.x);
        e[1] = e[1].max(c.x);
        e[2] = e[2].min(c.y);
        e[3] = e[3].max(c.y);
    }
    any.then_some(e)
}

/// Encode a point.
pub fn point_blob(p: Point<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(29);
    header(&mut out, None);
    out.push(1);
    put_u32(&mut out, WKB_POINT);
    put_coord(&mut out, p.0);
    out
}

/// Encode a polygon, with its envelope in the header.
pub fn polygon_blob(p: &Polygon<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, envelope_of(p.exterior().0.iter().copied()));
    out.push(1);
    put_u32(&mut out, WKB_POLYGON);
    put_polygon_body(&mut out, p);
    out
}

/// Encode a multipolygon, with its envelope in the header.
pub fn multipolygon_blob(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    header(
        &mut out,
        envelope_of(mp.0.iter().flat_map(|p| p.exterior().0.iter().copied())),
    );
    out.push(1);
    put_u32(&mut out, WKB_MULTIPOLYGON);
    put_u32(&mut out, mp.0.len() as u32);
    for p in &mp.0 {
        out.push(1);
        put_u32(&mut out, WKB_POLYGON);
        put_polygon_body(&mut out, p);
    }
    out
}

/// A cursor over WKB bytes of either byte order.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    le: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], BlobError> {
        let end = self.pos + N;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| BlobError("truncated".into()))?;
        self.pos = end;
        Ok(s.try_into().expect("length checked"))
    }
    fn u8(&mut self) -> Result<u8, BlobError> {
        Ok(self.take::<1>()?[0])
    }
    /// The next `N` bytes as a number of the blob's byte order.
    fn number<const N: usize, T>(
        &mut self,
        from_le: fn([u8; N]) -> T,
        from_be: fn([u8; N]) -> T,
    ) -> Result<T, BlobError> {
        let b = self.take::<N>()?;
        Ok(if self.le { from_le(b) } else { from_be(b) })
    }
    fn u32(&mut self) -> Result<u32, BlobError> {
        self.number(u32::from_le_bytes, u32::from_be_bytes)
    }
    fn f64(&mut self) -> Result<f64, BlobError> {
        self.number(f64::from_le_bytes, f64::from_be_bytes)
    }
    fn count(&mut self) -> Result<usize, BlobError> {
        let n = self.u32()? as usize;
        // Every element takes at least 4 bytes: refuse counts the blob cannot hold.
        if n > self.buf.len() {
            return Err(BlobError(format!("count {n} exceeds the blob")));
        }
        Ok(n)
    }
    fn geometry_start(&mut self) -> Result<u32, BlobError> {
        self.le = match self.u8()? {
            0 => false,
            1 => true,
            b => return Err(BlobError(format!("bad WKB byte order {b}"))),
        };
        self.u32()
    }
    fn coord(&mut self) -> Result<Coord<f64>, BlobError> {
        Ok(Coord {
            x: self.f64()?,
            y: self.f64()?,
        })
    }
    fn polygon_body(&mut self) -> Result<Polygon<f64>, BlobError> {
        let n = self.count()?;
        let mut rings = Vec::with_capacity(n);
        for _ in 0..n {
            let m = self.count()?;
            let ring = (0..m)
                .map(|_| self.coord())
                .collect::<Result<Vec<_>, _>>()?;
            rings.push(LineString::new(ring));
        }
        let mut it = rings.into_iter();
        let ext = it
            .next()
            .ok_or_else(|| BlobError("polygon without rings".into()))?;
        Ok(Polygon::new(ext, it.collect()))
    }
}

/// A decoded geometry.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    /// A point.
    Point(Point<f64>),
    /// A polygon.
    Polygon(Polygon<f64>),
    /// A multipolygon.
    MultiPolygon(MultiPolygon<f64>),
}

impl Geom {
    /// The vertices its envelope is made of: the point, or every exterior ring's.
    pub(crate) fn exterior_coords(&self) -> Vec<Coord<f64>> {
        match self {
            Geom::Point(p) => vec![p.0],
            Geom::Polygon(p) => p.exterior().0.clone(),
            Geom::MultiPolygon(m) => m.0.iter().flat_map(|p| p.exterior().0.clone()).collect(),
        }
    }
}

/// The ISO WKB inside a GeoPackage geometry blob (after its header).
pub(crate) fn wkb_of(blob: &[u8]) -> Result<&[u8], BlobError> {
    if blob.len() < 8 || &blob[0..2] != b"GP" {
        return Err(BlobError("missing GP magic".into()));
    }
    let flags = blob[3];
    let env_len = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(BlobError(format!("bad envelope indicator {e}"))),
    };
    blob.get(8 + env_len..)
        .ok_or_else(|| BlobError("truncated".into()))
}

/// The envelope `[min_x, max_x, min_y, max_y]` of a geometry blob, `None` when it is
/// empty: from the header when the blob carries one (the flags' empty bit, then the
/// envelope's first four numbers), else from its decoded vertices (a point, which
/// GeoPackage writers store without an envelope). The SQL functions that the R-tree
/// triggers call ([`crate::rtree`]) are this.
pub(crate) fn blob_envelope(blob: &[u8]) -> Result<Option<[f64; 4]>, BlobError> {
    if blob.len() < 8 || &blob[0..2] != b"GP" {
        return Err(BlobError("missing GP magic".into()));
    }
    let flags = blob[3];
    if flags & 0b1_0000 != 0 {
        return Ok(None);
    }
    if (flags >> 1) & 0b111 != 0 {
        let mut r = Reader {
            buf: &blob[8..],
            pos: 0,
            le: flags & 1 == 1,
        };
        let e = [r.f64()?, r.f64()?, r.f64()?, r.f64()?];
        return Ok(e.iter().all(|v| v.is_finite()).then_some(e));
    }
    Ok(envelope_of(
        decode(blob)?
            .exterior_coords()
            .into_iter()
            .filter(|c| c.x.is_finite() && c.y.is_finite()),
    ))
}

/// Decode a GeoPackage geometry blob.
pub fn decode(blob: &[u8]) -> Result<Geom, BlobError> {
    decode_wkb(wkb_of(blob)?)
}

/// Decode ISO WKB (of either byte order) of a point, polygon or multipolygon.
pub(crate) fn decode_wkb(wkb: &[u8]) -> Result<Geom, BlobError> {
    let mut r = Reader {
        buf: wkb,
        pos: 0,
        le: true,
    };
    match r.geometry_start()? {
        WKB_POINT => Ok(Geom::Point(Point(r.coord()?))),
        WKB_POLYGON => Ok(Geom::Polygon(r.polygon_body()?)),
        WKB_MULTIPOLYGON => {
            let n = r.count()?;
            let mut polys = Vec::with_capacity(n);
            for _ in 0..n {
                if r.geometry_start()? != WKB_POLYGON {
                    return Err(BlobError("multipolygon member is not a polygon".into()));
                }
                polys.push(r.polygon_body()?);
            }
            Ok(Geom::MultiPolygon(MultiPolygon::new(polys)))
        }
        t => Err(BlobError(format!("unsupported WKB type {t}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let p = Point::new(118.47, 24.72);
        assert_eq!(decode(&point_blob(p)).unwrap(), Geom::Point(p));
        let poly = Polygon::new(
            vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)].into(),
            vec![vec![(0.2, 0.1), (0.3, 0.1), (0.3, 0.2), (0.2, 0.1)].into()],
        );
        assert_eq!(
            decode(&polygon_blob(&poly)).unwrap(),
            Geom::Polygon(poly.clone())
        );
        let mp = MultiPolygon::new(vec![poly.clone(), poly]);
        assert_eq!(
            decode(&multipolygon_blob(&mp)).unwrap(),
            Geom::MultiPolygon(mp)
        );
    }

    #[test]
    fn point_blob_layout() {
        let b = point_blob(Point::new(1.0, 2.0));
        assert_eq!(&b[0..4], &[b'G', b'P', 0, 1]);
        assert_eq!(i32::from_le_bytes(b[4..8].try_into().unwrap()), 4326);
        assert_eq!(b.len(), 8 + 21);
    }

    #[test]
    fn refuses_garbage() {
        assert!(decode(b"").is_err());
        assert!(decode(b"XX\0\x01\0\0\0\0").is_err());
        let mut b = point_blob(Point::new(1.0, 2.0));
        b.truncate(20);
        assert!(decode(&b).is_err());
        let mut b = polygon_blob(&Polygon::new(
            vec![(0.0, 0.0), (1.0, 0.0), (0.0, 0.0)].into(),
            vec![],
        ));
        // Corrupt the ring count into something huge.
        let at = 8 + 32 + 5;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&b).is_err());
    }
}
