//! A point Feature as the line reader reads it: `type`, a Point `geometry`, `id` and
//! the layer's properties (a [`crate::io::props`] struct), nothing else.

use std::borrow::Cow;

use serde::Deserialize;

use super::scan::Scan;
use crate::crs::Crs;
use crate::geodesy::LonLat;
use crate::io::props::IdProp;

/// A JSON string, borrowed from the text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A Point geometry with exactly two numbers and no other member.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Point<'a> {
    pub kind: Option<Str<'a>>,
    pub coordinates: Option<[f64; 2]>,
}

/// A Feature: `type`, `geometry`, `id` and `properties` only (any other member
/// declines the line, and the generic path reads it).
#[derive(Debug, Default)]
pub(crate) struct Feat<'a, P> {
    pub kind: Option<Str<'a>>,
    pub geometry: Option<Point<'a>>,
    pub id: Option<Str<'a>>,
    pub properties: Option<P>,
}

/// Mark bit `bit` of `seen`; `None` when it was already set (a key given twice,
/// which the generic path reads: there the last one wins).
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & (1 << bit) != 0 {
        return None;
    }
    *seen |= 1 << bit;
    Some(())
}

/// Set `slot` to `v` when key `bit` was not seen yet (see [`once`]).
fn set_once<T>(seen: &mut u32, bit: u32, slot: &mut T, v: T) -> Option<()> {
    once(seen, bit)?;
    *slot = v;
    Some(())
}

/// The rest of a coordinate pair after its `[`: `x,y]`.
fn pair(sc: &mut Scan<'_>) -> Option<[f64; 2]> {
    let x = sc.number()?.f64()?;
    sc.eat(b',')?;
    let y = sc.number()?.f64()?;
    sc.eat(b']')?;
    Some([x, y])
}

/// A string or null.
fn opt_str<'a>(sc: &mut Scan<'a>) -> Option<Option<Str<'a>>> {
    if sc.null()? {
        return Some(None);
    }
    Some(Some(Str(Cow::Borrowed(sc.string()?))))
}

impl<'a> Point<'a> {
    fn scan(sc: &mut Scan<'a>) -> Option<Option<Self>> {
        if sc.null()? {
            return Some(None);
        }
        let mut p = Point::default();
        let mut seen = 0;
        sc.object(|sc, key| match key {
            "type" => set_once(&mut seen, 0, &mut p.kind, opt_str(sc)?),
            "coordinates" => {
                let c = if sc.null()? {
                    None
                } else {
                    sc.eat(b'[')?;
                    Some(pair(sc)?)
                };
                set_once(&mut seen, 1, &mut p.coordinates, c)
            }
            _ => None,
        })?;
        Some(Some(p))
    }
}

/// How yizhan's writer starts a point feature (serde_json writes keys in order).
const POINT_PREFIX: &str =
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[";

impl<'a, P: Deserialize<'a> + Default + IdProp> Feat<'a, P> {
    /// A feature line read by the strict scanner, or `None` when it declines.
    #[cfg(test)]
    pub fn scan(line: &'a str) -> Option<Self> {
        let mut sc = Scan::at(line, 0);
        let f = Self::scan_object(&mut sc)?;
        sc.end()?;
        Some(f)
    }

    /// The feature line that starts at byte `at` of `piece`, up to and including its
    /// newline (or the end of `piece`), with the separating comma unless `last`: the
    /// feature and where the next line starts, or `None` when the scanner declines.
    pub fn scan_line(piece: &'a str, at: usize, last: bool) -> Option<(Self, usize)> {
        let mut sc = Scan::at(piece, at);
        let f = Self::scan_object(&mut sc)?;
        if !last {
            sc.eat(b',')?;
        }
        match sc.peek() {
            None => Some((f, piece.len())),
            Some(b'\n') => Some((f, sc.pos() + 1)),
            Some(_) => None,
        }
    }

    /// A feature object (the scanner never reads past a newline).
    fn scan_object(sc: &mut Scan<'a>) -> Option<Self> {
        let mut f = Feat {
            kind: None,
            geometry: None,
            id: None,
            properties: None,
        };
        let mut seen = 0;
        sc.peek()?;
        if sc.rest().starts_with(POINT_PREFIX) {
            // The same as the members `"type":"Feature"` and a Point `"geometry"`.
            sc.skip_bytes(POINT_PREFIX.len());
            let xy = pair(sc)?;
            sc.eat(b'}')?;
            f.kind = Some(Str(Cow::Borrowed("Feature")));
            f.geometry = Some(Point {
                kind: Some(Str(Cow::Borrowed("Point"))),
                coordinates: Some(xy),
            });
            seen = 0b11;
            if !sc.next(b'}')? {
                return Some(f);
            }
        } else {
            sc.eat(b'{')?;
            if sc.peek()? == b'}' {
                sc.skip_bytes(1);
                return Some(f);
            }
        }
        loop {
            let key = sc.string()?;
            sc.eat(b':')?;
            match key {
                "type" => set_once(&mut seen, 0, &mut f.kind, opt_str(sc)?),
                "geometry" => set_once(&mut seen, 1, &mut f.geometry, Point::scan(sc)?),
                "id" => set_once(&mut seen, 2, &mut f.id, opt_str(sc)?),
                "properties" => {
                    let p = Option::<P>::deserialize(&mut *sc).ok()?;
                    set_once(&mut seen, 3, &mut f.properties, p)
                }
                _ => None,
            }?;
            if !sc.next(b'}')? {
                return Some(f);
            }
        }
    }

    /// The id, the point and the properties of a valid point feature: `None` for
    /// anything the generic reader would complain about.
    pub fn point_feature(self, crs: Crs) -> Option<(String, LonLat, P)> {
        if self.kind.as_deref() != Some("Feature") {
            return None;
        }
        let props = self.properties.unwrap_or_default();
        // As `read::feature_id`: the Feature id, else the `id` property; never blank.
        let id = match self.id {
            Some(id) => id.0.into_owned(),
            None => match props.id_prop()? {
                crate::io::props::Checked::Valid(id) => id.to_string(),
                crate::io::props::Checked::Invalid(_) => return None,
            },
        };
        if id.trim().is_empty() {
            return None;
        }
        let g = self.geometry?;
        if g.kind.as_deref() != Some("Point") {
            return None;
        }
        let [lon, lat] = g.coordinates?;
        let at = LonLat::new(lon, lat).ok()?;
        Some((id, crs.to_wgs84(at), props))
    }
}
