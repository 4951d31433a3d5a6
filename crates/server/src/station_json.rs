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
//! [`crate::routes::stations::station_out`] stays the reference: the tests below
//! compare both on random stations.

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

    /// Append a station, as [`crate::routes::stations::station_out`] would make it.
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
        put(buf, &((d * 10.0).round() / 10.0));
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
            put(
                buf,
                &fresh
                    .now
                    .signed_duration_since(o.reported_at)
                    .num_seconds()
                    .max(0),
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use yizhan_core::geodesy::LonLat;
    use yizhan_core::hours::OpeningHours;
    use yizhan_core::model::{Amenity, AmenitySet, Occupancy, StationKind};

    use crate::routes::stations::station_out;
    use crate::routes::GeoJson;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Text with what JSON must escape (quotes, backslashes, every control
    /// character), what it must not (DEL, U+2028, CJK, emoji) and plain ASCII.
    fn text(r: &mut ChaCha8Rng) -> String {
        const PIECES: &[&str] = &[
            "\"",
            "\\",
            "/",
            "'",
            "\u{7f}",
            "\u{2028}",
            "\u{2029}",
            "驿站",
            "安海镇",
            "🚲",
            "é",
            "\u{feff}",
            "</script>",
            "{\"a\":1}",
            " ",
            "Station",
            "№ 5",
            "\u{10ffff}",
        ];
        let n = r.random_range(0..12_u64);
        let mut s = String::new();
        for _ in 0..n {
            if r.random_bool(0.3) {
                s.push(char::from(r.random_range(0..0x20_u64) as u8));
            } else if r.random_bool(0.1) {
                s.push(
                    char::from_u32(r.random_range(0..0x11_0000_u64) as u32).unwrap_or('\u{fffd}'),
                );
            } else {
                s.push_str(PIECES[r.random_range(..PIECES.len())]);
            }
        }
        s
    }

    fn opt_text(r: &mut ChaCha8Rng) -> Option<String> {
        r.random_bool(0.5).then(|| text(r))
    }

    fn station(r: &mut ChaCha8Rng, now: DateTime<Utc>) -> Station {
        const HOURS: &[&str] = &[
            "24/7",
            "08:00-20:00",
            "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
            "18:00-06:00",
            "Mo 10:00-11:00",
            "Sa 00:00-24:00",
            "Mo-Su 07:30-09:00,17:00-22:30",
        ];
        let amenities: AmenitySet = Amenity::ALL
            .into_iter()
            .filter(|_| r.random_bool(0.5))
            .collect();
        let capacity = match r.random_range(0..4_u64) {
            0 => 0,
            1 => u32::MAX,
            _ => r.random_range(0..60_u64) as u32,
        };
        let occupancy = r.random_bool(0.5).then(|| Occupancy {
            occupied: if r.random_bool(0.2) {
                u32::MAX
            } else {
                r.random_range(0..80_u64) as u32
            },
            // From the future (clock skew) to days old; some with sub-second parts.
            reported_at: now - Duration::seconds(r.random_range(0..4 * 86_400_u64) as i64 - 3_600)
                + Duration::nanoseconds(if r.random_bool(0.3) {
                    r.random_range(0..1_000_000_000_u64) as i64
                } else {
                    0
                }),
        });
        Station {
            id: if r.random_bool(0.8) {
                format!("CN-ST-{:06}", r.random_range(0..1_000_000_u64))
            } else {
                text(r)
            },
            name: text(r),
            name_zh: opt_text(r),
            kind: StationKind::ALL[r.random_range(..StationKind::ALL.len())],
            location: LonLat::new(
                r.random::<f64>() * 360.0 - 180.0,
                r.random::<f64>() * 180.0 - 90.0,
            )
            .expect("in range"),
            amenities,
            capacity,
            occupancy,
            opening_hours: HOURS[r.random_range(..HOURS.len())]
                .parse::<OpeningHours>()
                .expect("valid hours"),
            grid_unit: r
                .random_bool(0.5)
                .then(|| format!("{:012}", r.random_range(0..1_000_000_000_000_u64))),
            operator: opt_text(r),
            address: opt_text(r),
        }
    }

    fn distance(r: &mut ChaCha8Rng) -> Option<f64> {
        match r.random_range(0..6_u64) {
            0 => None,
            1 => Some(0.0),
            2 => Some(r.random_range(0..5_000_u64) as f64),
            3 => Some(r.random::<f64>() * 20_037_509.0),
            4 => Some(r.random::<f64>() * 1e-3),
            _ => Some(r.random::<f64>() * 2_000.0),
        }
    }

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    /// The fast writer against the `Feature`/`Value` path, on seeded random
    /// stations: both must parse to the same JSON value (an integer written as
    /// `5.0` or a missing `null` member would differ), and today they are the
    /// same bytes too.
    #[test]
    fn writer_matches_the_value_path() {
        let mut r = ChaCha8Rng::seed_from_u64(0x5EED_2026_0007);
        let now = Utc::now();
        for round in 0..400 {
            let fresh = Freshness {
                now,
                max_age: std::time::Duration::from_secs(r.random_range(0..4 * 3600_u64)),
            };
            let crs = if r.random_bool(0.25) {
                Crs::Gcj02
            } else {
                Crs::Wgs84
            };
            let at =
                (now + Duration::minutes(r.random_range(0..14 * 24 * 60_u64) as i64)).naive_utc();
            let n = r.random_range(0..if round % 10 == 9 { 40 } else { 8 });
            let stations: Vec<Station> = (0..n).map(|_| station(&mut r, now)).collect();
            let dists: Vec<Option<f64>> = (0..n).map(|_| distance(&mut r)).collect();

            let reference = GeoJson::collection(
                stations
                    .iter()
                    .zip(&dists)
                    .map(|(s, d)| station_out(s, crs, *d, at, &fresh))
                    .collect(),
            )
            .0;
            let mut w = StationCollection::with_capacity(n);
            if round % 2 == 0 {
                for (s, d) in stations.iter().zip(&dists) {
                    w.push(s, crs, *d, at, &fresh);
                }
            } else {
                let both: Vec<(&Station, Option<f64>)> =
                    stations.iter().zip(dists.iter().copied()).collect();
                w.extend(&both, crs, at, &fresh);
            }
            let fast = w.finish();
            assert_eq!(parse(&fast), parse(&reference), "round {round}");
            assert_eq!(fast, reference, "round {round}: same value, other bytes");

            for (s, d) in stations.iter().zip(&dists) {
                let reference = station_out(s, crs, *d, at, &fresh).to_string();
                let fast = feature_string(s, crs, *d, at, &fresh);
                assert_eq!(parse(&fast), parse(&reference), "round {round}");
                assert_eq!(fast, reference, "round {round}");
            }
        }
    }
}
