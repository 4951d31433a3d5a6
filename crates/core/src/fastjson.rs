//! The fast path of the GeoJSON reader: files written one feature per line.
//!
//! yizhan's own writer ([`crate::io::to_string_lines`]) and the generator put each
//! Feature of a FeatureCollection on its own line. Such a file is read here without
//! building `serde_json::Value` trees: every line is parsed, in parallel, straight
//! into small typed structs that borrow their strings from the text (`Feat`, `Point`
//! and a per-layer properties struct), and converted to the domain type.
//!
//! The fast path is only a shortcut: it must give exactly what the generic path
//! (`parse_collection` + `read_*`) gives. So it accepts a line only when the typed
//! parse succeeds *and* the feature converts without any problem; anything else on a
//! line (another geometry type, foreign members, a number where a string is expected,
//! an invalid value, a missing id …) sends that one line through the generic code,
//! `geojson::Feature` and the per-feature reader, which names every problem. A file
//! whose layout is not one feature per line, or a line that is not a valid GeoJSON
//! Feature on its own, sends the whole file to the generic path (which then reports
//! the syntax error exactly as before).
//!
//! Values the reader ignores (unknown properties) are still parsed and checked as
//! JSON (strings with their escapes, numbers in range, nesting), as a `Value` parse
//! would, so that a file the generic path refuses is never accepted here.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::{Amenity, AmenitySet};

/// What reading one feature gave.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// The item.
    Item(T),
    /// No item: the feature's id (for the duplicate check) and its problems (none
    /// when the generic reader dropped it silently).
    Rejected(Box<Rejected>),
    /// Not read (yet).
    Pending,
}

/// Why a feature gave no item.
#[derive(Debug, Default)]
pub(crate) struct Rejected {
    pub id: Option<String>,
    pub errors: Vec<crate::io::FeatureError>,
}

/// The start of a FeatureCollection as [`crate::io::to_string_lines`] writes it.
const HEADER: &str = "{\"type\":\"FeatureCollection\",\"features\":[";

/// JSON whitespace (not Unicode whitespace, which JSON does not allow).
fn json_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The features of a one-feature-per-line collection, from the first feature's `{`
/// to the last one's `}`; `None` when the text does not start and end that way.
fn feature_body(text: &str) -> Option<&str> {
    let body = text.strip_prefix(HEADER)?;
    Some(
        body.trim_end_matches(json_ws)
            .strip_suffix("]}")?
            .trim_matches(json_ws),
    )
}

/// Cut `s` into pieces of about `size` bytes, each ending with a newline (but the last).
fn split_at_newlines(s: &[u8], size: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = s;
    while rest.len() > size {
        match rest[size..].iter().position(|&b| b == b'\n') {
            Some(k) => {
                let (a, b) = rest.split_at(size + k + 1);
                pieces.push(a);
                rest = b;
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// Number of lines of a piece from [`split_at_newlines`].
fn line_count(piece: &[u8]) -> usize {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut words = piece.chunks_exact(8);
    let mut n = 0;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ NL;
        // High bit of each byte set iff the byte is not 0 (no carries between bytes).
        let nonzero = ((x & LO7) + LO7) | x;
        n += (!nonzero & !LO7).count_ones() as usize;
    }
    n += words.remainder().iter().filter(|&&b| b == b'\n').count();
    n + usize::from(piece.last().is_some_and(|&b| b != b'\n'))
}

/// Nesting deeper than this in an ignored value sends the line to the generic path.
const MAX_SKIP_DEPTH: u32 = 64;
/// A line with more brackets than this may nest deeper than `serde_json`'s limit of
/// 128 allows inside the whole document: the whole file goes to the generic path.
const MAX_LINE_BRACKETS: usize = 120;

/// A point layer as the fast path reads it.
pub(crate) trait Layer: Sync {
    /// The properties it reads.
    type Props<'a>: Props<'a>;
    /// What a feature becomes.
    type Item: Send + Sync;
    /// The item of a typed feature, or `None` when the generic reader would complain
    /// (or read something else).
    fn fast<'a>(&self, f: Feat<'a, Self::Props<'a>>) -> Option<Self::Item>;
    /// The generic reader of one feature.
    fn slow(&self, index: usize, f: &geojson::Feature) -> Outcome<Self::Item>;
}

/// Items with an id (checked for duplicates).
pub(crate) trait HasId {
    fn id(&self) -> &str;
}

impl HasId for crate::model::Station {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for crate::model::Hotspot {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for crate::model::Candidate {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Read every feature line of `text` (see [`read_region`]). `None` when the file is
/// not one feature per line or a line is not a GeoJSON Feature on its own: the
/// caller then reads the whole file the generic way.
pub(crate) fn read_lines<L: Layer>(layer: &L, text: &str) -> Option<Vec<Outcome<L::Item>>> {
    let mut out = Vec::new();
    read_region(layer, feature_body(text)?.as_bytes(), &mut out, true).then_some(out)
}

/// As [`read_lines`], for a file, read in blocks while the previous block is parsed
/// (so neither the whole text nor its page faults are ever paid for at once).
/// `Ok(None)` as for [`read_lines`], and for text that is not UTF-8.
pub(crate) fn read_file_lines<L: Layer>(
    layer: &L,
    path: &std::path::Path,
) -> std::io::Result<Option<Vec<Outcome<L::Item>>>> {
    read_file_blocks(layer, path, 32 << 20)
}

/// [`read_file_lines`] with blocks of `size` bytes.
pub(crate) fn read_file_blocks<L: Layer>(
    layer: &L,
    path: &std::path::Path,
    size: usize,
) -> std::io::Result<Option<Vec<Outcome<L::Item>>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut fill = |buf: &mut Vec<u8>| -> std::io::Result<bool> {
        Ok((&mut file).take(size as u64).read_to_end(buf)? < size)
    };
    let mut cur = Vec::with_capacity(size + size / 2);
    let mut next = Vec::with_capacity(size + size / 2);
    let mut eof = fill(&mut cur)?;
    let Some(rest) = cur.strip_prefix(HEADER.as_bytes()) else {
        return Ok(None);
    };
    let mut start = HEADER.len() + rest.iter().take_while(|&&b| is_ws(b)).count();
    let mut out = Vec::new();
    loop {
        // Parse the complete lines but the last one (which might be the last feature,
        // without a comma, if only the footer follows); carry the rest over.
        let block = &cur[start..];
        let (region, carry) = if eof {
            let Some(region) = trim_ws_end(block).strip_suffix(b"]}").map(trim_ws_end) else {
                return Ok(None);
            };
            (region, block.len())
        } else {
            let mut newlines = block
                .iter()
                .rposition(|&b| b == b'\n')
                .into_iter()
                .flat_map(|p| block[..p].iter().rposition(|&b| b == b'\n'));
            match newlines.next() {
                Some(p) => (&block[..=p], p + 1),
                None if block.len() < size / 2 => (&block[..0], 0),
                None => return Ok(None), // lines too long for this reader
            }
        };
        next.clear();
        next.extend_from_slice(&block[carry..]);
        let (ok, more) = std::thread::scope(|s| {
            let reader = (!eof).then(|| s.spawn(|| fill(&mut next)));
            let ok = read_region(layer, region, &mut out, eof);
            (ok, reader.map(|r| r.join().expect("reader thread")))
        });
        if !ok {
            return Ok(None);
        }
        match more {
            None => return Ok(Some(out)),
            Some(more) => eof = more?,
        }
        std::mem::swap(&mut cur, &mut next);
        start = 0;
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim_ws_end(b: &[u8]) -> &[u8] {
    &b[..b.len() - b.iter().rev().take_while(|&&c| is_ws(c)).count()]
}

/// Read the feature lines of `region` (whole lines, from a feature's `{`) into `out`,
/// in parallel: each line with the strict scanner ([`Scan`]), else with serde into the
/// same typed structs, then [`Layer::fast`]; the lines these decline go through
/// [`Layer::slow`]. Every line ends with a comma, but the last one of the `last`
/// region. `false` when the region is not such lines of UTF-8 GeoJSON Features.
fn read_region<L: Layer>(
    layer: &L,
    region: &[u8],
    out: &mut Vec<Outcome<L::Item>>,
    last: bool,
) -> bool {
    let t = std::time::Instant::now();
    let pieces = split_at_newlines(region, 1 << 20);
    let counts: Vec<usize> = pieces.par_iter().map(|p| line_count(p)).collect();
    let base = out.len();
    let n = base + counts.iter().sum::<usize>();
    out.par_extend((base..n).into_par_iter().map(|_| Outcome::Pending));
    let mut slots = Vec::with_capacity(pieces.len());
    let mut rest = &mut out[base..];
    let mut index = base;
    for (piece, &c) in pieces.iter().zip(&counts) {
        let (a, b) = rest.split_at_mut(c);
        slots.push((*piece, a, index));
        rest = b;
        index += c;
    }
    trace("placeholders", t);
    let abort = AtomicBool::new(false);
    // Whether line `index` is the last feature (without a comma).
    let is_last = |index: usize| last && index + 1 == n;
    slots.into_par_iter().for_each(|(piece, slots, base)| {
        let Ok(piece) = std::str::from_utf8(piece) else {
            abort.store(true, Ordering::Relaxed);
            return;
        };
        let mut at = 0;
        for (k, slot) in slots.iter_mut().enumerate() {
            if abort.load(Ordering::Relaxed) {
                return;
            }
            let index = base + k;
            if let Some((f, next)) = Feat::scan_line(piece, at, is_last(index)) {
                if let Some(v) = layer.fast(f) {
                    *slot = Outcome::Item(v);
                    at = next;
                    continue;
                }
            }
            let end = piece[at..].find('\n').map_or(piece.len(), |e| at + e);
            match read_line(layer, index, &piece[at..end], is_last(index)) {
                Some(o) => *slot = o,
                None => abort.store(true, Ordering::Relaxed),
            }
            at = (end + 1).min(piece.len());
        }
    });
    trace("parse", t);
    !abort.load(Ordering::Relaxed)
}

/// A line the scanner (or [`Layer::fast`]) declined: serde, then the generic path.
/// `None` when the line is not a GeoJSON Feature with its comma.
fn read_line<L: Layer>(
    layer: &L,
    index: usize,
    line: &str,
    last: bool,
) -> Option<Outcome<L::Item>> {
    let line = line.trim_matches(json_ws);
    let line = if !last {
        line.strip_suffix(',')?.trim_end_matches(json_ws)
    } else if line.ends_with(',') {
        return None;
    } else {
        line
    };
    if !line.starts_with('{') {
        return None;
    }
    let typed = serde_json::from_str(line).ok();
    if let Some(v) = typed.and_then(|f| layer.fast(f)) {
        return Some(Outcome::Item(v));
    }
    if line.bytes().filter(|b| matches!(b, b'[' | b'{')).count() > MAX_LINE_BRACKETS {
        return None;
    }
    let f = serde_json::from_str::<geojson::Feature>(line).ok()?;
    Some(layer.slow(index, &f))
}

// ------------------------------------------------------------------ the strict scanner

/// A strict reader of plain JSON, faster than `serde_json` on the lines yizhan writes:
/// strings without escapes, numbers without exponents. It declines (`None`) anything
/// else, and `serde_json` reads the line instead; what it accepts is valid JSON and
/// reads as `serde_json` reads it (the numbers too: see [`Scan::number`]).
pub(crate) struct Scan<'a> {
    s: &'a str,
    i: usize,
}

/// 10^k for k ≤ 22, exact in f64 (and the same constants `serde_json` divides by).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A number as [`Scan::number`] read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num {
    negative: bool,
    /// All digits, without the point.
    significand: u64,
    /// Digits after the point (`None` without a point).
    fraction: Option<u32>,
}

impl Num {
    /// The value as `serde_json` gives it to an f64: `significand / 10^fraction`, one
    /// correctly rounded division of two exact values (significand < 2^53, fraction ≤ 22),
    /// which is also what its `float_roundtrip` mode would give.
    fn f64(self) -> Option<f64> {
        let k = self.fraction.unwrap_or(0) as usize;
        if self.significand > 1 << 53 || k >= POW10.len() {
            return None;
        }
        let f = self.significand as f64 / POW10[k];
        Some(if self.negative { -f } else { f })
    }

    /// The value as a u32 (a whole number without sign or point), as `serde_json` reads it.
    fn u32(self) -> Option<u32> {
        if self.negative || self.fraction.is_some() {
            return None;
        }
        u32::try_from(self.significand).ok()
    }
}

impl<'a> Scan<'a> {
    #[cfg(test)]
    fn new(s: &'a str) -> Self {
        Scan { s, i: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    /// The next byte after whitespace, not counting newlines as whitespace: the
    /// scanner reads one line, and declines a value split over lines.
    fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        if let Some(&c) = b.get(self.i) {
            if c > b' ' {
                return Some(c);
            }
        }
        while let Some(&c) = b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\r') {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// `null` (consumed) or not (nothing consumed).
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.word(b"null")?;
            Some(true)
        } else {
            Some(false)
        }
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        if self.bytes()[self.i..].starts_with(w) {
            self.i += w.len();
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.bytes()[start..];
        let n = find_special(rest)?;
        if rest[n] != b'"' {
            return None;
        }
        self.i = start + n + 1;
        self.s.get(start..start + n)
    }

    /// A number without exponent and of at most 19 digits (so the significand fits a
    /// u64 as it does in `serde_json`, which then reads it the same way).
    fn number(&mut self) -> Option<Num> {
        self.peek()?;
        let b = self.bytes();
        let negative = b.get(self.i) == Some(&b'-');
        if negative {
            self.i += 1;
        }
        let mut significand = 0u64;
        let mut digits = 0;
        let mut digit = |this: &mut Self| -> Option<bool> {
            match b.get(this.i) {
                Some(&c) if c.is_ascii_digit() => {
                    if digits == 19 {
                        return None;
                    }
                    digits += 1;
                    significand = significand * 10 + u64::from(c - b'0');
                    this.i += 1;
                    Some(true)
                }
                _ => Some(false),
            }
        };
        match b.get(self.i) {
            Some(b'0') => {
                digit(self)?;
                if b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return None; // a leading zero
                }
            }
            Some(c) if c.is_ascii_digit() => while digit(self)? {},
            _ => return None,
        }
        let mut fraction = None;
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let mut k = 0;
            while digit(self)? {
                k += 1;
            }
            if k == 0 {
                return None;
            }
            fraction = Some(k);
        }
        if matches!(b.get(self.i), Some(b'e' | b'E')) {
            return None;
        }
        Some(Num {
            negative,
            significand,
            fraction,
        })
    }

    /// After a member or element: `,` (true) or the closing bracket (false).
    fn next(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// The members of an object: `member` reads the value of each key.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            if !self.next(b'}')? {
                return Some(());
            }
        }
    }

    /// The elements of an array: `element` reads each.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            if !self.next(b']')? {
                return Some(());
            }
        }
    }

    /// Any value, dropped.
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth >= MAX_SKIP_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|sc, _| sc.skip(depth + 1)),
            b'[' => self.array(|sc| sc.skip(depth + 1)),
            b'n' => self.word(b"null"),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            _ => self.number().map(drop),
        }
    }

    /// The end of the text (after whitespace).
    #[cfg(test)]
    fn end(&mut self) -> Option<()> {
        match self.peek() {
            None => Some(()),
            Some(_) => None,
        }
    }
}

/// Position of the first `"`, `\\` or control character (eight bytes at a time).
fn find_special(b: &[u8]) -> Option<usize> {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit of each byte set iff the byte is 0 (exact: no carries between bytes).
    let zero = |x: u64| !(((x & LO7) + LO7) | x) & !LO7;
    let mut words = b.chunks_exact(8);
    let mut k = 0;
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let m = zero(w ^ 0x2222_2222_2222_2222)
            | zero(w ^ 0x5c5c_5c5c_5c5c_5c5c)
            | zero(w & 0xe0e0_e0e0_e0e0_e0e0);
        if m != 0 {
            return Some(k + (m.trailing_zeros() / 8) as usize);
        }
        k += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| k + p)
}

/// A value the scanner reads: `Some(None)` for null, `None` to decline.
pub(crate) trait ScanValue<'a>: Sized {
    fn scan(sc: &mut Scan<'a>) -> Option<Option<Self>>;
}

impl<'a> ScanValue<'a> for Str<'a> {
    fn scan(sc: &mut Scan<'a>) -> Option<Option<Self>> {
        if sc.null()? {
            return Some(None);
        }
        Some(Some(Str(Cow::Borrowed(sc.string()?))))
    }
}

impl<'a> ScanValue<'a> for u32 {
    fn scan(sc: &mut Scan<'a>) -> Option<Option<Self>> {
        if sc.null()? {
            return Some(None);
        }
        Some(Some(sc.number()?.u32()?))
    }
}

impl<'a> ScanValue<'a> for Amenities {
    fn scan(sc: &mut Scan<'a>) -> Option<Option<Self>> {
        match sc.peek()? {
            b'n' => sc.null().map(|_| None),
            b'"' => AmenitySet::parse_list(sc.string()?)
                .ok()
                .map(|a| Some(Amenities(a))),
            b'[' => {
                let mut set = AmenitySet::empty();
                sc.array(|sc| {
                    set.insert(sc.string()?.parse().ok()?);
                    Some(())
                })?;
                Some(Some(Amenities(set)))
            }
            _ => None,
        }
    }
}

/// Mark bit `bit` of `seen`; `None` when it was already set (a key given twice).
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & (1 << bit) != 0 {
        return None;
    }
    *seen |= 1 << bit;
    Some(())
}

impl<'a> Point<'a> {
    fn scan(sc: &mut Scan<'a>) -> Option<Option<Self>> {
        if sc.null()? {
            return Some(None);
        }
        let mut p = Point::default();
        let mut seen = 0;
        sc.object(|sc, key| {
            match key {
                "type" => {
                    once(&mut seen, 0)?;
                    p.kind = Str::scan(sc)?;
                }
                "coordinates" => {
                    once(&mut seen, 1)?;
                    if sc.null()? {
                        p.coordinates = None;
                    } else {
                        sc.eat(b'[')?;
                        let x = sc.number()?.f64()?;
                        sc.eat(b',')?;
                        let y = sc.number()?.f64()?;
                        sc.eat(b']')?;
                        p.coordinates = Some([x, y]);
                    }
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Some(p))
    }
}

/// How yizhan's writer starts a point feature (serde_json writes keys in order).
const POINT_PREFIX: &str =
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[";

impl<'a, P: Props<'a>> Feat<'a, P> {
    /// A feature line read by the strict scanner, or `None` when it declines.
    #[cfg(test)]
    pub fn scan(line: &'a str) -> Option<Self> {
        let mut sc = Scan::new(line);
        let f = Self::scan_object(&mut sc)?;
        sc.end()?;
        Some(f)
    }

    /// The feature line that starts at byte `at` of `piece`, up to and including its
    /// newline (or the end of `piece`), with the separating comma unless `last`: the
    /// feature and where the next line starts, or `None` when the scanner declines.
    fn scan_line(piece: &'a str, at: usize, last: bool) -> Option<(Self, usize)> {
        let mut sc = Scan { s: piece, i: at };
        let f = Self::scan_object(&mut sc)?;
        if !last {
            sc.eat(b',')?;
        }
        match sc.peek() {
            None => Some((f, piece.len())),
            Some(b'\n') => Some((f, sc.i + 1)),
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
        if sc.bytes()[sc.i..].starts_with(POINT_PREFIX.as_bytes()) {
            // The same as the members `"type":"Feature"` and a Point `"geometry"`.
            sc.i += POINT_PREFIX.len();
            let x = sc.number()?.f64()?;
            sc.eat(b',')?;
            let y = sc.number()?.f64()?;
            sc.eat(b']')?;
            sc.eat(b'}')?;
            f.kind = Some(Str(Cow::Borrowed("Feature")));
            f.geometry = Some(Point {
                kind: Some(Str(Cow::Borrowed("Point"))),
                coordinates: Some([x, y]),
            });
            seen = 0b11;
            if !sc.next(b'}')? {
                return Some(f);
            }
        } else {
            sc.eat(b'{')?;
            if sc.peek()? == b'}' {
                sc.i += 1;
                return Some(f);
            }
        }
        loop {
            let key = sc.string()?;
            sc.eat(b':')?;
            match key {
                "type" => {
                    once(&mut seen, 0)?;
                    f.kind = Str::scan(sc)?;
                }
                "geometry" => {
                    once(&mut seen, 1)?;
                    f.geometry = Point::scan(sc)?;
                }
                "id" => {
                    once(&mut seen, 2)?;
                    f.id = Str::scan(sc)?;
                }
                "properties" => {
                    once(&mut seen, 3)?;
                    if !sc.null()? {
                        let mut p = P::default();
                        sc.object(|sc, key| {
                            if !p.scan_field(key, sc)? {
                                sc.skip(2)?;
                            }
                            Some(())
                        })?;
                        f.properties = Some(p);
                    }
                }
                _ => return None,
            }
            if !sc.next(b'}')? {
                return Some(f);
            }
        }
    }
}

// ------------------------------------------------------------------ typed values

/// A JSON string, borrowed from the text unless it has escapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl Str<'_> {
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, checked as `serde_json::Value` would check it, and dropped.
/// Nesting deeper than [`MAX_SKIP_DEPTH`] is refused (the generic path decides).
struct Skip(u32);

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let depth = self.deeper()?;
        while a.next_element_seed(Skip(depth))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let depth = self.deeper()?;
        while a.next_key_seed(Skip(depth))?.is_some() {
            a.next_value_seed(Skip(depth))?;
        }
        Ok(())
    }
}

impl Skip {
    fn deeper<E: de::Error>(&self) -> Result<u32, E> {
        if self.0 >= MAX_SKIP_DEPTH {
            Err(E::custom("nested too deep for the fast path"))
        } else {
            Ok(self.0 + 1)
        }
    }
}

/// Amenities as an array of names or a comma-separated string; any unknown name or
/// other value is an error (the generic path then names it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Amenities(pub AmenitySet);

impl<'de> Deserialize<'de> for Amenities {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Amenities;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("amenity names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amenities, E> {
                AmenitySet::parse_list(v).map(Amenities).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Amenities, A::Error> {
                let mut set = AmenitySet::empty();
                while let Some(s) = a.next_element::<Str<'de>>()? {
                    set.insert(s.parse::<Amenity>().map_err(de::Error::custom)?);
                }
                Ok(Amenities(set))
            }
        }
        d.deserialize_any(V)
    }
}

/// A Point geometry with exactly two numbers and no other member.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Point<'a> {
    pub kind: Option<Str<'a>>,
    pub coordinates: Option<[f64; 2]>,
}

impl<'de> Deserialize<'de> for Point<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Point<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Point")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Point<'de>, A::Error> {
                let mut p = Point::default();
                let mut seen = 0u32;
                while let Some(key) = a.next_key::<Str<'de>>()? {
                    match &*key {
                        "type" => p.kind = put(&mut a, &mut seen, 0)?,
                        "coordinates" => p.coordinates = put(&mut a, &mut seen, 1)?,
                        _ => return Err(de::Error::custom("foreign member")),
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

/// Read the value of a known key (null reads as `None`); a key seen twice is an error,
/// which sends the line to the generic path (where the last one wins).
fn put<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    a: &mut A,
    seen: &mut u32,
    bit: u32,
) -> Result<Option<T>, A::Error> {
    if *seen & (1 << bit) != 0 {
        return Err(de::Error::custom("duplicate key"));
    }
    *seen |= 1 << bit;
    a.next_value::<Option<T>>()
}

/// The properties a layer reads.
pub(crate) trait Props<'de>: Default + Send + Sized {
    /// Read the value of `key` if the layer knows it; `Ok(false)` for other keys.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, a: &mut A) -> Result<bool, A::Error>;
    /// As `field`, for the strict scanner: `None` to decline the line.
    fn scan_field(&mut self, key: &str, sc: &mut Scan<'de>) -> Option<bool>;
    /// The `id` property.
    fn id(&self) -> Option<&Str<'de>>;
}

/// Declares a properties struct with `Option` fields read by [`Props::field`].
macro_rules! props {
    ($(#[$m:meta])* $name:ident { $($field:ident : $ty:ty = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default)]
        pub(crate) struct $name<'a> {
            pub id: Option<Str<'a>>,
            $(pub $field: Option<$ty>,)*
            seen: u32,
        }
        impl<'de> Props<'de> for $name<'de> {
            fn field<A: MapAccess<'de>>(&mut self, key: &str, a: &mut A) -> Result<bool, A::Error> {
                let mut _bit = 1;
                if key == "id" {
                    self.id = put(a, &mut self.seen, 0)?;
                    return Ok(true);
                }
                $(
                    if key == $key {
                        self.$field = put(a, &mut self.seen, _bit)?;
                        return Ok(true);
                    }
                    _bit += 1;
                )*
                Ok(false)
            }
            fn scan_field(&mut self, key: &str, sc: &mut Scan<'de>) -> Option<bool> {
                let mut _bit = 1;
                if key == "id" {
                    once(&mut self.seen, 0)?;
                    self.id = ScanValue::scan(sc)?;
                    return Some(true);
                }
                $(
                    if key == $key {
                        once(&mut self.seen, _bit)?;
                        self.$field = ScanValue::scan(sc)?;
                        return Some(true);
                    }
                    _bit += 1;
                )*
                Some(false)
            }
            fn id(&self) -> Option<&Str<'de>> {
                self.id.as_ref()
            }
        }
    };
}

props!(
    /// The properties of a station.
    StationProps {
        name: Str<'a> = "name",
        name_zh: Str<'a> = "name_zh",
        kind: Str<'a> = "kind",
        amenities: Amenities = "amenities",
        capacity: u32 = "capacity",
        opening_hours: Str<'a> = "opening_hours",
        occupied: u32 = "occupied",
        occupancy_reported_at: Str<'a> = "occupancy_reported_at",
        grid_unit: Str<'a> = "grid_unit",
        operator: Str<'a> = "operator",
        address: Str<'a> = "address",
    }
);

props!(
    /// The properties of a hotspot.
    HotspotProps {
        workers: u32 = "workers",
        worker_type: Str<'a> = "worker_type",
        grid_unit: Str<'a> = "grid_unit",
    }
);

props!(
    /// The properties of a candidate site.
    CandidateProps {
        name: Str<'a> = "name",
        capacity: u32 = "capacity",
    }
);

/// The properties object of a feature: known keys typed, others checked and dropped.
struct PropsOf<P>(P);

impl<'de, P: Props<'de>> Deserialize<'de> for PropsOf<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<P>(std::marker::PhantomData<P>);
        impl<'de, P: Props<'de>> Visitor<'de> for V<P> {
            type Value = PropsOf<P>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a properties object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<PropsOf<P>, A::Error> {
                let mut p = P::default();
                while let Some(key) = a.next_key::<Str<'de>>()? {
                    if !p.field(&key, &mut a)? {
                        a.next_value_seed(Skip(2))?;
                    }
                }
                Ok(PropsOf(p))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A Feature as the fast path reads it: `type`, `geometry`, `id` and `properties`
/// only (any other member is an error here, and the generic path reads the line).
#[derive(Debug, Default)]
pub(crate) struct Feat<'a, P> {
    pub kind: Option<Str<'a>>,
    pub geometry: Option<Point<'a>>,
    pub id: Option<Str<'a>>,
    pub properties: Option<P>,
}

impl<'de, P: Props<'de>> Deserialize<'de> for Feat<'de, P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<P>(std::marker::PhantomData<P>);
        impl<'de, P: Props<'de>> Visitor<'de> for V<P> {
            type Value = Feat<'de, P>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Feature")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Feat<'de, P>, A::Error> {
                let mut f = Feat {
                    kind: None,
                    geometry: None,
                    id: None,
                    properties: None,
                };
                let mut seen = 0u32;
                while let Some(key) = a.next_key::<Str<'de>>()? {
                    match &*key {
                        "type" => f.kind = put(&mut a, &mut seen, 0)?,
                        "geometry" => f.geometry = put(&mut a, &mut seen, 1)?,
                        "id" => f.id = put(&mut a, &mut seen, 2)?,
                        "properties" => {
                            f.properties = put::<A, PropsOf<P>>(&mut a, &mut seen, 3)?.map(|p| p.0)
                        }
                        _ => return Err(de::Error::custom("foreign member")),
                    }
                }
                Ok(f)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'a, P: Props<'a>> Feat<'a, P> {
    /// The id, the point and the properties of a valid point feature: `None` for
    /// anything the generic reader would complain about.
    pub fn point_feature(
        self,
        crs: crate::crs::Crs,
    ) -> Option<(String, crate::geodesy::LonLat, P)> {
        if self.kind.as_deref() != Some("Feature") {
            return None;
        }
        let props = self.properties.unwrap_or_default();
        // As `io::feature_id`: the Feature id, else the `id` property; never blank.
        let id = match self.id {
            Some(id) => id,
            None => props.id()?.clone(),
        };
        if id.trim().is_empty() {
            return None;
        }
        let g = self.geometry?;
        if g.kind.as_deref() != Some("Point") {
            return None;
        }
        let [lon, lat] = g.coordinates?;
        let at = crate::geodesy::LonLat::new(lon, lat).ok()?;
        Some((id.into_string(), crs.to_wgs84(at), props))
    }
}

// ------------------------------------------------------------------ duplicate ids

/// FxHash-style hash of a string (fast, good enough to sort by).
fn hash_str(s: &str) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h ^ (h >> 29)
}

/// Indices (ascending) of the items whose id an earlier item already has.
/// `id(i)` is `None` for items that take no part in the check.
pub(crate) fn duplicate_ids<'a>(
    n: usize,
    id: impl Fn(usize) -> Option<&'a str> + Sync,
) -> Vec<usize> {
    // Files yizhan writes usually have their ids in increasing order: then all differ.
    let increasing = (1..n)
        .into_par_iter()
        .with_min_len(4096)
        .all(|i| matches!((id(i - 1), id(i)), (Some(a), Some(b)) if a < b));
    if increasing {
        return Vec::new();
    }
    const BITS: u32 = 12;
    let bucket = |h: u64| (h >> (64 - BITS)) as usize;
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(n);
    keys.par_extend(
        (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| (id(i).map_or(0, hash_str), i as u32)),
    );
    // Partition by the top bits of the hash (indices stay ascending in each part) …
    let mut counts = vec![0usize; 1 << BITS];
    for k in &keys {
        counts[bucket(k.0)] += 1;
    }
    let mut next = Vec::with_capacity(counts.len());
    let mut sum = 0;
    for &c in &counts {
        next.push(sum);
        sum += c;
    }
    let mut parted = vec![(0u64, 0u32); n];
    for &k in &keys {
        let b = bucket(k.0);
        parted[next[b]] = k;
        next[b] += 1;
    }
    drop(keys);
    let mut parts = Vec::with_capacity(counts.len());
    let mut rest = &mut parted[..];
    for &c in &counts {
        let (a, b) = rest.split_at_mut(c);
        parts.push(a);
        rest = b;
    }
    // … then sort each part (small, in cache) and compare the ids of equal hashes.
    let mut dups: Vec<usize> = parts
        .into_par_iter()
        .flat_map_iter(|part| {
            part.sort_unstable();
            let mut dups = Vec::new();
            let mut run = 0;
            while run < part.len() {
                let h = part[run].0;
                let end = run + part[run..].iter().take_while(|k| k.0 == h).count();
                if end - run > 1 {
                    // Sort by id, then index, so the first of equal ids is kept.
                    let mut group: Vec<(&str, u32)> = part[run..end]
                        .iter()
                        .filter_map(|&(_, i)| id(i as usize).map(|s| (s, i)))
                        .collect();
                    group.sort_unstable();
                    for w in group.windows(2) {
                        if w[0].0 == w[1].0 {
                            dups.push(w[1].1 as usize);
                        }
                    }
                }
                run = end;
            }
            dups
        })
        .collect();
    dups.sort_unstable();
    dups
}

/// With `YZ_LOAD_TRACE` set, print the wall time since `t` and the process's CPU time
/// (a phase timer for profiling the loader).
pub(crate) fn trace(what: &str, t: std::time::Instant) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("YZ_LOAD_TRACE").is_some()) {
        return;
    }
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    eprintln!(
        "yizhan load: {what}: {:.3} s wall since start of phase; process CPU {:.2} s",
        t.elapsed().as_secs_f64(),
        (ticks(11) + ticks(12)) / 100.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates_in_order() {
        let ids = ["a", "b", "a", "c", "b", "a", "x"];
        let d = duplicate_ids(ids.len(), |i| (ids[i] != "x").then_some(ids[i]));
        assert_eq!(d, vec![2, 4, 5]);
        let ids = ["a", "b", "c", "c"];
        assert_eq!(duplicate_ids(ids.len(), |i| Some(ids[i])), vec![3]);
        assert!(duplicate_ids(3, |i| Some(ids[i])).is_empty());
        assert!(duplicate_ids(3, |i| (i != 1).then_some("q")).len() == 1);
        assert!(duplicate_ids(0, |_| None).is_empty());
    }

    #[test]
    fn special_bytes() {
        let slow = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let mut rng = 12345u64;
        for len in 0..40 {
            for _ in 0..200 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        rng = rng
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        [b'a', b'"', b'\\', 0x1f, 0x20, 0xe9, 0x7f, 0x80, 0xa2, 0xdc]
                            [(rng >> 60) as usize % 10]
                    })
                    .collect();
                assert_eq!(find_special(&b), slow(&b), "{b:?}");
            }
        }
        let mut t = String::new();
        for len in 0..200 {
            assert_eq!(
                line_count(t.as_bytes()),
                t.matches('\n').count() + usize::from(!t.is_empty() && !t.ends_with('\n'))
            );
            t.push(if len % 7 == 3 { '\n' } else { 'é' });
        }
    }

    #[test]
    fn pieces_and_lines() {
        let body = "{\"a\":1},\n{\"b\":2},\r\n{\"c\":3}";
        for size in [1, 3, 100] {
            let pieces = split_at_newlines(body.as_bytes(), size);
            assert_eq!(pieces.concat(), body.as_bytes());
            assert_eq!(pieces.iter().map(|p| line_count(p)).sum::<usize>(), 3);
        }
        assert_eq!(
            feature_body("{\"type\":\"FeatureCollection\",\"features\":[\n]}\n"),
            Some("")
        );
        assert_eq!(
            feature_body("{\"type\":\"FeatureCollection\",\"features\":[{}]}"),
            Some("{}")
        );
        assert_eq!(
            feature_body("{\"features\":[],\"type\":\"FeatureCollection\"}"),
            None
        );
    }

    #[test]
    fn scanned_numbers_are_serde_json_numbers() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut tokens: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "118.4716",
            "24.7196",
            "-180",
            "180.0000000",
            "9007199254740993",
            "9007199254740992.5",
            "0.1",
            "0.30000000000000004",
            "1234567890123456789",
            "12345678901234567890",
            "1.0000000000000000000001",
            "01",
            "1.",
            ".5",
            "-",
            "1e5",
            "1E-3",
            "+1",
            "-01",
            "4294967295",
            "4294967296",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let int: u64 = rng.random_range(0..1_000_000_000_000u64) >> rng.random_range(0..40);
            let frac_digits = rng.random_range(0..18);
            let frac: u64 = rng.random_range(0..10u64.pow(frac_digits.min(18)));
            let sign = if rng.random_bool(0.3) { "-" } else { "" };
            tokens.push(if frac_digits == 0 {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac:0w$}", w = frac_digits as usize)
            });
        }
        for t in &tokens {
            let serde_f64 = serde_json::from_str::<f64>(t).ok();
            let serde_u32 = serde_json::from_str::<u32>(t).ok();
            let num = Scan::new(t).number().filter(|_| true);
            let whole = |n: Option<Num>| {
                n.filter(|_| {
                    let mut sc = Scan::new(t);
                    sc.number().is_some() && sc.end().is_some()
                })
            };
            if let Some(x) = whole(num).and_then(Num::f64) {
                assert_eq!(Some(x.to_bits()), serde_f64.map(f64::to_bits), "{t}");
            }
            if let Some(x) = whole(num).and_then(Num::u32) {
                assert_eq!(Some(x), serde_u32, "{t}");
            }
        }
        // The common cases are not declined.
        for t in ["118.4716", "-33.9", "0", "7"] {
            assert!(Scan::new(t).number().and_then(Num::f64).is_some(), "{t}");
        }
    }

    #[test]
    fn skip_checks_like_value() {
        let t = |s: &str| {
            serde_json::from_str::<PropsOf<HotspotProps<'_>>>(s).is_ok()
                == serde_json::from_str::<serde_json::Value>(s).is_ok()
        };
        assert!(t(r#"{"x":"\ud800"}"#));
        assert!(t(r#"{"x":1e400}"#));
        assert!(t(r#"{"x":[1,{"y":"\u00e9\ud83d\ude00"}]}"#));
        assert!(t(r#"{"x":"a	b"}"#));
        assert!(t(r#"{"\ud800":1}"#));
    }

    #[test]
    fn outcomes_are_as_small_as_items() {
        // So that `io::finish` turns the outcomes into the items in place.
        use crate::model::{Candidate, Hotspot, Station};
        use std::mem::size_of;
        assert_eq!(size_of::<Outcome<Hotspot>>(), size_of::<Hotspot>());
        assert_eq!(size_of::<Outcome<Station>>(), size_of::<Station>());
        assert_eq!(size_of::<Outcome<Candidate>>(), size_of::<Candidate>());
    }
}
