//! The line reader: GeoJSON files written one feature per line.
//!
//! yizhan's own writer ([`crate::io::to_string_lines`]) and the generator put each
//! Feature of a FeatureCollection on its own line. Such a file is read here without
//! building `serde_json::Value` trees: every line is read, in parallel, by the strict
//! scanner ([`scan`]) straight into a [`feature::Feat`] with the layer's properties
//! struct (borrowing its strings from the text), and converted to the domain type.
//!
//! The line reader is only a shortcut: it must give exactly what the generic path
//! (`parse_collection` + `read_*`) gives. So it accepts a line only when the scanner
//! reads it *and* the feature converts without any problem; anything else on a line
//! (escapes, another geometry type, foreign members, an invalid value, a missing id …)
//! sends that one line through the generic code, `geojson::Feature` and the
//! per-feature reader, which names every problem. A file whose layout is not one
//! feature per line, or a line that is not a valid GeoJSON Feature on its own, sends
//! the whole file to the generic path (which then reports the syntax error exactly
//! as before).

pub(crate) mod feature;
pub(crate) mod scan;

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Deserialize;

use crate::io::error::Outcome;
use crate::io::props::IdProp;
use feature::Feat;

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

/// A line with more brackets than this may nest deeper than `serde_json`'s limit of
/// 128 allows inside the whole document: the whole file goes to the generic path.
const MAX_LINE_BRACKETS: usize = 120;

/// A point layer as the line reader reads it.
pub(crate) trait PointLayer: Sync {
    /// The properties it reads.
    type Props<'a>: Deserialize<'a> + Default + IdProp + Send;
    /// What a feature becomes.
    type Item: Send + Sync;
    /// The item of a scanned feature, or `None` when the generic reader would
    /// complain (or read something else).
    fn fast<'a>(&self, f: Feat<'a, Self::Props<'a>>) -> Option<Self::Item>;
    /// The generic reader of one feature.
    fn slow(&self, index: usize, f: &geojson::Feature) -> Outcome<Self::Item>;
}

/// Read every feature line of `text` (see [`read_region`]). `None` when the file is
/// not one feature per line or a line is not a GeoJSON Feature on its own: the
/// caller then reads the whole file the generic way.
pub(crate) fn read_lines<L: PointLayer>(layer: &L, text: &str) -> Option<Vec<Outcome<L::Item>>> {
    let mut out = Vec::new();
    read_region(layer, feature_body(text)?.as_bytes(), &mut out, true).then_some(out)
}

/// As [`read_lines`], for a file, read in blocks while the previous block is parsed
/// (so neither the whole text nor its page faults are ever paid for at once).
/// `Ok(None)` as for [`read_lines`], and for text that is not UTF-8.
pub(crate) fn read_file_lines<L: PointLayer>(
    layer: &L,
    path: &std::path::Path,
) -> std::io::Result<Option<Vec<Outcome<L::Item>>>> {
    read_file_blocks(layer, path, 32 << 20)
}

/// [`read_file_lines`] with blocks of `size` bytes.
pub(crate) fn read_file_blocks<L: PointLayer>(
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
/// in parallel: each line with the strict scanner, then [`PointLayer::fast`]; the
/// lines these decline go through [`PointLayer::slow`]. Every line ends with a comma, but the last one of the `last`
/// region. `false` when the region is not such lines of UTF-8 GeoJSON Features.
fn read_region<L: PointLayer>(
    layer: &L,
    region: &[u8],
    out: &mut Vec<Outcome<L::Item>>,
    last: bool,
) -> bool {
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
    !abort.load(Ordering::Relaxed)
}

/// A line the scanner (or [`PointLayer::fast`]) declined: the generic path.
/// `None` when the line is not a GeoJSON Feature with its comma.
fn read_line<L: PointLayer>(
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
    if line.bytes().filter(|b| matches!(b, b'[' | b'{')).count() > MAX_LINE_BRACKETS {
        return None;
    }
    let f = serde_json::from_str::<geojson::Feature>(line).ok()?;
    Some(layer.slow(index, &f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counts() {
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
}
