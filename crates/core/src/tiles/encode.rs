//! Features to one MVT tile: projection into tile units, clipping to the tile
//! with its buffer, simplification, ring orientation, properties as tags.

use geo::{BooleanOps, BoundingRect, Simplify};
use geo_types::{Coord, LineString, MultiLineString, MultiPolygon, Polygon, Rect};
use geojson::{Feature, GeometryValue, JsonValue};
use mvt::{GeomEncoder, GeomType, Tile};

use super::{Aggregate, TileError, TileId, BUFFER, EXTENT, SIMPLIFY_TOLERANCE};

/// Builds one tile, a layer at a time.
pub struct TileEncoder {
    id: TileId,
    tile: Tile,
    features: usize,
}

impl std::fmt::Debug for TileEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TileEncoder({}, {} features)", self.id, self.features)
    }
}

fn enc(e: mvt::Error) -> TileError {
    TileError::Encode(e.to_string())
}

/// A geometry in tile units, clipped and simplified, ready to encode.
enum TileGeom {
    Points(Vec<(f64, f64)>),
    Lines(Vec<Vec<(i32, i32)>>),
    /// Rings, each polygon's exterior first, oriented as MVT wants.
    Polygons(Vec<Vec<(i32, i32)>>),
}

impl TileEncoder {
    /// An empty tile.
    pub fn new(id: TileId) -> Self {
        Self {
            id,
            tile: Tile::new(EXTENT),
            features: 0,
        }
    }

    /// The tile's address.
    pub fn id(&self) -> TileId {
        self.id
    }

    /// Features written so far.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Whether no feature has been written.
    pub fn is_empty(&self) -> bool {
        self.features == 0
    }

    /// Add the layer `name` with those of `features` that reach the tile (with
    /// its [`BUFFER`]): each given with its MVT feature id (its position in the
    /// layer). Properties become tags: strings, numbers and booleans as they are,
    /// arrays of strings comma-joined (as the layer files accept them), other
    /// arrays and objects as JSON text, nulls left out; the feature's id is the
    /// `id` tag when the properties have none. Returns the features written; a
    /// layer with none is left out of the tile.
    pub fn add_layer<'a>(
        &mut self,
        name: &str,
        features: impl IntoIterator<Item = (u64, &'a Feature)>,
    ) -> Result<usize, TileError> {
        let mut layer = self.tile.create_layer(name);
        let mut n = 0;
        for (fid, f) in features {
            let Some(g) = f.geometry.as_ref().and_then(|g| self.geometry(&g.value)) else {
                continue;
            };
            let Some(data) = encode_geom(g)? else {
                continue;
            };
            let mut feat = layer.into_feature(data);
            feat.set_id(fid);
            let props = f.properties.as_ref();
            if !props.is_some_and(|p| p.contains_key("id")) {
                match &f.id {
                    Some(geojson::feature::Id::String(s)) => feat.add_tag_string("id", s),
                    Some(geojson::feature::Id::Number(v)) => add_number(&mut feat, "id", v),
                    None => {}
                }
            }
            for (k, v) in props.into_iter().flatten() {
                add_tag(&mut feat, k, v);
            }
            layer = feat.into_layer();
            n += 1;
        }
        if n > 0 {
            self.tile.add_layer(layer).map_err(enc)?;
            self.features += n;
        }
        Ok(n)
    }

    /// Add the layer `name` of aggregate points, each with its point count as
    /// `count_field` and its summed weight as `weight_field`.
    pub fn add_aggregates(
        &mut self,
        name: &str,
        cells: &[Aggregate],
        count_field: &str,
        weight_field: &str,
    ) -> Result<usize, TileError> {
        let mut layer = self.tile.create_layer(name);
        let mut n = 0;
        for (i, a) in cells.iter().enumerate() {
            let (px, py) = self.id.project(a.lon, a.lat);
            if !TileId::holds(px, py, BUFFER) {
                continue;
            }
            let data = encode_geom(TileGeom::Points(vec![(px, py)]))?
                .ok_or_else(|| TileError::Encode("empty aggregate".into()))?;
            let mut feat = layer.into_feature(data);
            feat.set_id(i as u64);
            feat.add_tag_uint(count_field, a.count);
            feat.add_tag_uint(weight_field, a.weight);
            layer = feat.into_layer();
            n += 1;
        }
        if n > 0 {
            self.tile.add_layer(layer).map_err(enc)?;
            self.features += n;
        }
        Ok(n)
    }

    /// The encoded tile.
    pub fn into_bytes(self) -> Result<Vec<u8>, TileError> {
        self.tile.to_bytes().map_err(enc)
    }

    fn coord(&self, p: &geojson::Position) -> Option<Coord<f64>> {
        if p.len() < 2 {
            return None;
        }
        let (x, y) = self.id.project(p[0], p[1]);
        Some(Coord { x, y })
    }

    fn line(&self, ps: &[geojson::Position]) -> LineString<f64> {
        LineString(ps.iter().filter_map(|p| self.coord(p)).collect())
    }

    fn polygon(&self, rings: &[Vec<geojson::Position>]) -> Option<Polygon<f64>> {
        let (outer, inner) = rings.split_first()?;
        Some(Polygon::new(
            self.line(outer),
            inner.iter().map(|r| self.line(r)).collect(),
        ))
    }

    /// A GeoJSON geometry in tile units, clipped and simplified; `None` when
    /// nothing of it is left in the tile.
    fn geometry(&self, g: &GeometryValue) -> Option<TileGeom> {
        let b = f64::from(BUFFER);
        let clip = Rect::new(
            Coord { x: -b, y: -b },
            Coord {
                x: f64::from(EXTENT) + b,
                y: f64::from(EXTENT) + b,
            },
        );
        let inside = |r: Option<Rect<f64>>| {
            r.is_some_and(|r| {
                r.min().x >= clip.min().x
                    && r.min().y >= clip.min().y
                    && r.max().x <= clip.max().x
                    && r.max().y <= clip.max().y
            })
        };
        let disjoint = |r: Option<Rect<f64>>| {
            r.is_none_or(|r| {
                r.max().x < clip.min().x
                    || r.max().y < clip.min().y
                    || r.min().x > clip.max().x
                    || r.min().y > clip.max().y
            })
        };
        match g {
            GeometryValue::Point { coordinates } => self.points(std::slice::from_ref(coordinates)),
            GeometryValue::MultiPoint { coordinates } => self.points(coordinates),
            GeometryValue::LineString { coordinates } => self.lines(
                MultiLineString(vec![self.line(coordinates)]),
                clip,
                inside,
                disjoint,
            ),
            GeometryValue::MultiLineString { coordinates } => self.lines(
                MultiLineString(coordinates.iter().map(|l| self.line(l)).collect()),
                clip,
                inside,
                disjoint,
            ),
            GeometryValue::Polygon { coordinates } => self.polygons(
                MultiPolygon(self.polygon(coordinates).into_iter().collect()),
                clip,
                inside,
                disjoint,
            ),
            GeometryValue::MultiPolygon { coordinates } => self.polygons(
                MultiPolygon(coordinates.iter().filter_map(|p| self.polygon(p)).collect()),
                clip,
                inside,
                disjoint,
            ),
            GeometryValue::GeometryCollection { .. } => None,
        }
    }

    fn points(&self, ps: &[geojson::Position]) -> Option<TileGeom> {
        let kept: Vec<(f64, f64)> = ps
            .iter()
            .filter_map(|p| self.coord(p))
            .map(|c| (c.x, c.y))
            .filter(|&(x, y)| TileId::holds(x, y, BUFFER))
            .collect();
        (!kept.is_empty()).then_some(TileGeom::Points(kept))
    }

    fn lines(
        &self,
        mls: MultiLineString<f64>,
        clip: Rect<f64>,
        inside: impl Fn(Option<Rect<f64>>) -> bool,
        disjoint: impl Fn(Option<Rect<f64>>) -> bool,
    ) -> Option<TileGeom> {
        let r = mls.bounding_rect();
        if disjoint(r) {
            return None;
        }
        let mls = if inside(r) {
            mls
        } else {
            clip.to_polygon().clip(&mls, false)
        };
        let lines: Vec<Vec<(i32, i32)>> = mls
            .simplify(SIMPLIFY_TOLERANCE)
            .0
            .iter()
            .map(|l| rounded(l, false))
            .filter(|l| l.len() >= 2)
            .collect();
        (!lines.is_empty()).then_some(TileGeom::Lines(lines))
    }

    fn polygons(
        &self,
        mp: MultiPolygon<f64>,
        clip: Rect<f64>,
        inside: impl Fn(Option<Rect<f64>>) -> bool,
        disjoint: impl Fn(Option<Rect<f64>>) -> bool,
    ) -> Option<TileGeom> {
        let r = mp.bounding_rect();
        if disjoint(r) {
            return None;
        }
        let mp = if inside(r) {
            mp
        } else {
            mp.intersection(&clip.to_polygon())
        };
        let mut rings = Vec::new();
        for p in mp.simplify(SIMPLIFY_TOLERANCE).0 {
            let Some(outer) = oriented(p.exterior(), true) else {
                continue;
            };
            rings.push(outer);
            rings.extend(p.interiors().iter().filter_map(|r| oriented(r, false)));
        }
        (!rings.is_empty()).then_some(TileGeom::Polygons(rings))
    }
}

/// A line's points rounded to whole tile units, repeats dropped; a ring loses
/// its closing point.
fn rounded(l: &LineString<f64>, ring: bool) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(l.0.len());
    for c in &l.0 {
        // Tile units of a clipped geometry are within the buffer: no overflow.
        let p = (c.x.round() as i32, c.y.round() as i32);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    if ring && out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Twice the signed area of a ring (the surveyor's formula), in tile units.
fn area2(r: &[(i32, i32)]) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

/// A ring rounded to tile units and wound as MVT wants: an exterior with a
/// positive area in tile coordinates (clockwise on screen, y down), a hole with
/// a negative one. `None` when nothing of its area is left.
fn oriented(l: &LineString<f64>, exterior: bool) -> Option<Vec<(i32, i32)>> {
    let mut r = rounded(l, true);
    if r.len() < 3 {
        return None;
    }
    let a = area2(&r);
    if a == 0 {
        return None;
    }
    if (a > 0) != exterior {
        r.reverse();
    }
    Some(r)
}

fn encode_geom(g: TileGeom) -> Result<Option<mvt::GeomData>, TileError> {
    let data = match g {
        TileGeom::Points(ps) => {
            let mut e = GeomEncoder::new(GeomType::Point);
            for (x, y) in ps {
                e.add_point(x.round(), y.round()).map_err(enc)?;
            }
            e.encode().map_err(enc)?
        }
        TileGeom::Lines(ls) => {
            let mut e = GeomEncoder::new(GeomType::Linestring);
            for l in ls {
                for (x, y) in l {
                    e.add_point(f64::from(x), f64::from(y)).map_err(enc)?;
                }
                e.complete_geom().map_err(enc)?;
            }
            e.encode().map_err(enc)?
        }
        TileGeom::Polygons(rings) => {
            let mut e = GeomEncoder::new(GeomType::Polygon);
            for r in rings {
                for (x, y) in r {
                    e.add_point(f64::from(x), f64::from(y)).map_err(enc)?;
                }
                e.complete_geom().map_err(enc)?;
            }
            e.encode().map_err(enc)?
        }
    };
    Ok((!data.is_empty()).then_some(data))
}

fn add_number(f: &mut mvt::Feature, k: &str, v: &serde_json::Number) {
    if let Some(i) = v.as_i64() {
        f.add_tag_sint(k, i);
    } else if let Some(u) = v.as_u64() {
        f.add_tag_uint(k, u);
    } else if let Some(d) = v.as_f64() {
        f.add_tag_double(k, d);
    }
}

fn add_tag(f: &mut mvt::Feature, k: &str, v: &JsonValue) {
    match v {
        JsonValue::Null => {}
        JsonValue::Bool(b) => f.add_tag_bool(k, *b),
        JsonValue::Number(n) => add_number(f, k, n),
        JsonValue::String(s) => f.add_tag_string(k, s),
        JsonValue::Array(a) => match a.iter().map(JsonValue::as_str).collect::<Option<Vec<_>>>() {
            Some(strings) => f.add_tag_string(k, &strings.join(",")),
            None => f.add_tag_string(k, &v.to_string()),
        },
        JsonValue::Object(_) => f.add_tag_string(k, &v.to_string()),
    }
}

/// The tag value a property becomes (for tests and documentation): see
/// [`TileEncoder::add_layer`].
pub fn tag_text(v: &JsonValue) -> Option<String> {
    match v {
        JsonValue::Null => None,
        JsonValue::String(s) => Some(s.clone()),
        JsonValue::Array(a) => Some(
            match a.iter().map(JsonValue::as_str).collect::<Option<Vec<_>>>() {
                Some(strings) => strings.join(","),
                None => v.to_string(),
            },
        ),
        other => Some(other.to_string()),
    }
}
