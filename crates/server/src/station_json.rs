//! Stations as GeoJSON, written straight into a byte buffer.
//!
//! The courier routes (`/api/v1/stations/nearest` above all) answer with a
//! FeatureCollection of a few stations. Building it as `geojson::Feature`s with
//! `serde_json::Value` properties costs a `BTreeMap`, a dozen `String`s and as
//! many `Value`s per station, then a second pass to serialise them. This writer
//! produces the same text in one pass: the members in the order the `Value` path
//! emits them (`type`, `geometry`, `id`, `properties`; properties sorted by key,
//! absent optional fields left out, `free_seats` and `occupancy` written as
//! `null`), strings and numbers formatted by `serde_json` itself, so escaping and
//! float formatting are the same by construction.
//!
//! `routes::stations::station_out` (the derived `StationProps` view) stays the
//! reference: the tests there compare both on random stations, and the
//! `station_writer` bench measures both (BENCHMARKS.md, issue 13).

use chrono::NaiveDateTime;
use serde::Serialize;
use yizhan_core::crs::Crs;
use yizhan_core::model::Station;
use yizhan_core::occupancy::Freshness;

/// Bytes reserved per feature (a typical station feature is 350–450 bytes).
const FEATURE_BYTES: usize = 512;

const COLLECTION_START: &[u8] = b"{\"type\":\"FeatureCollection\",\"features\":[";
const COLLECTION_END: &[u8] = b"]}";

/// A FeatureCollection of stations being written.
#[derive(Debug)]
pub struct StationCollection {
    buf: Vec<u8>,
    empty: bool,
}

impl StationCollection {
    /// An empty collection with room for about `n` features.
    pub fn with_capacity(n: usize) -> Self {
        let mut buf =
            Vec::with_capacity(COLLECTION_START.len() + COLLECTION_END.len() + n * FEATURE_BYTES);
        buf.extend_from_slice(COLLECTION_START);
        Self { buf, empty: true }
    }

    /// Append a station, as `routes::stations::station_out` would make it.
    pub fn push(
        &mut self,
        s: &Station,
        crs: Crs,
        distance_m: Option<f64>,
        at: NaiveDateTime,
        fresh: &Freshness,
    ) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        write_station(&mut self.buf, s, crs, distance_m, at, fresh);
    }

    /// Append stations with their distances, as [`StationCollection::push`] does,
    /// a few at a time: what the writer reads of a batch (the station records,
    /// which lie anywhere among the dataset's, and their strings) is first
    /// touched with independent loads, so the cache misses overlap instead of
    /// coming one after the other inside the writer.
    pub fn extend(
        &mut self,
        stations: &[(&Station, Option<f64>)],
        crs: Crs,
        at: NaiveDateTime,
        fresh: &Freshness,
    ) {
        for batch in stations.chunks(WARM_BATCH) {
            warm(batch, at);
            for &(s, d) in batch {
                self.push(s, crs, d, at, fresh);
            }
        }
    }

    /// The finished collection.
    pub fn finish(mut self) -> String {
        self.buf.extend_from_slice(COLLECTION_END);
        into_string(self.buf)
    }
}

/// A FeatureCollection of stations with their distances (see
/// [`StationCollection::extend`]).
pub fn collection(
    stations: &[(&Station, Option<f64>)],
    crs: Crs,
    at: NaiveDateTime,
    fresh: &Freshness,
) -> String {
    let mut out = StationCollection::with_capacity(stations.len());
    out.extend(stations, crs, at, fresh);
    out.finish()
}

/// One station as a GeoJSON Feature (the text of `station_out(..).to_string()`).
pub fn feature_string(
    s: &Station,
    crs: Crs,
    distance_m: Option<f64>,
    at: NaiveDateTime,
    fresh: &Freshness,
) -> String {
    let mut buf = Vec::with_capacity(FEATURE_BYTES);
    write_station(&mut buf, s, crs, distance_m, at, fresh);
    into_string(buf)
}

/// Stations warmed up together (more than `nearest`'s usual k, few enough to
/// stay in L1).
const WARM_BATCH: usize = 16;

/// Load, for every station of `batch`, what writing it reads: first the record
/// (its pointers and lengths), then the bytes those point to and the day's
/// opening spans. The loads of one pass do not depend on each other.
fn warm(batch: &[(&Station, Option<f64>)], at: NaiveDateTime) {
    let mut x = 0u64;
    for (s, _) in batch {
        x ^= s.location.lon.to_bits()
            ^ s.id.len() as u64
            ^ s.name.len() as u64
            ^ s.opening_hours.as_str().len() as u64;
    }
    let first = |v: &str| u64::from(v.as_bytes().first().copied().unwrap_or(0));
    for (s, _) in batch {
        x ^= first(&s.id)
            ^ first(&s.name)
            ^ first(s.opening_hours.as_str())
            ^ u64::from(s.opening_hours.is_open_at(at));
    }
    std::hint::black_box(x);
}

fn into_string(buf: Vec<u8>) -> String {
    // Every byte came from ASCII literals or serde_json, which writes UTF-8.
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Write a value with serde_json's compact formatter (the one the `Value` path
/// uses). Writing these types into a `Vec` cannot fail.
fn put<T: Serialize + ?Sized>(buf: &mut Vec<u8>, v: &T) {
    let _ = serde_json::to_writer(&mut *buf, v);
}

/// A JSON string: bytes copied when nothing needs escaping (serde_json leaves
/// such bytes as they are), else serde_json's escaper.
fn put_str(buf: &mut Vec<u8>, v: &str) {
    if v.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.reserve(v.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(v.as_bytes());
        buf.push(b'"');
    } else {
        put(buf, v);
    }
}

/// `,"key":` (keys are ASCII literals without characters to escape).
fn key(buf: &mut Vec<u8>, k: &str) {
    buf.extend_from_slice(b",\"");
    buf.extend_from_slice(k.as_bytes());
    buf.extend_from_slice(b"\":");
}

fn opt_str(buf: &mut Vec<u8>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        key(buf, k);
        put_str(buf, v);
    }
}

/// Round a degree value to 7 decimals, as the dataset writer does.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// The feature of one station. Property keys in byte order, as the
/// `BTreeMap`-backed `serde_json::Map` of the reference path sorts them.
fn write_station(
    buf: &mut Vec<u8>,
    s: &Station,
    crs: Crs,
    distance_m: Option<f64>,
    at: NaiveDateTime,
    fresh: &Freshness,
) {
    let p = crs.from_wgs84(s.location);
    buf.extend_from_slice(
        b"{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[",
    );
    put(buf, &round7(p.lon));
    buf.push(b',');
    put(buf, &round7(p.lat));
    buf.extend_from_slice(b"]},\"id\":");
    put_str(buf, &s.id);
    buf.extend_from_slice(b",\"properties\":{");
    if let Some(a) = &s.address {
        buf.extend_from_slice(b"\"address\":");
        put_str(buf, a);
        buf.push(b',');
    }
    buf.extend_from_slice(b"\"amenities\":[");
    for (i, a) in s.amenities.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        put_str(buf, a.as_str());
    }
    buf.push(b']');
    key(buf, "capacity");
    put(buf, &s.capacity);
    if let Some(d) = distance_m {
        key(buf, "distance_m");
        put(buf, &yizhan_core::geodesy::reported_m(d));
    }
    key(buf, "free_seats");
    match fresh.free_seats(s) {
        Some(n) => put(buf, &n),
        None => buf.extend_from_slice(b"null"),
    }
    opt_str(buf, "grid_unit", s.grid_unit.as_deref());
    key(buf, "id");
    put_str(buf, &s.id);
    key(buf, "kind");
    put_str(buf, s.kind.as_str());
    key(buf, "name");
    put_str(buf, &s.name);
    opt_str(buf, "name_zh", s.name_zh.as_deref());
    key(buf, "navigate");
    put(buf, &crate::routes::stations::navigate_links(s));
    let open = s.opening_hours.is_open_at(at);
    if !open {
        if let Some(t) = s.opening_hours.next_open(at) {
            key(buf, "next_open");
            buf.push(b'"');
            // Digits, dashes, `T` and colons: nothing to escape.
            let _ = std::io::Write::write_fmt(buf, format_args!("{}", t.format("%Y-%m-%dT%H:%M")));
            buf.push(b'"');
        }
    }
    key(buf, "occupancy");
    match s.occupancy {
        None => buf.extend_from_slice(b"null"),
        Some(o) => {
            buf.extend_from_slice(b"{\"age_s\":");
            put(buf, &fresh.age_s(o.reported_at));
            buf.extend_from_slice(b",\"occupied\":");
            put(buf, &o.occupied);
            buf.extend_from_slice(b",\"reported_at\":");
            put(
                buf,
                &o.reported_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
            buf.extend_from_slice(b",\"stale\":");
            put(buf, &fresh.is_stale(o.reported_at));
            buf.push(b'}');
        }
    }
    if let Some(o) = s.occupancy {
        key(buf, "occupancy_reported_at");
        put(buf, &o.reported_at.to_rfc3339());
        key(buf, "occupied");
        put(buf, &o.occupied);
    }
    key(buf, "open_now");
    put(buf, &open);
    key(buf, "opening_hours");
    put_str(buf, s.opening_hours.as_str());
    opt_str(buf, "operator", s.operator.as_deref());
    buf.extend_from_slice(b"}}");
}
