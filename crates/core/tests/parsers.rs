//! Property tests of the parsers: opening hours and GeoJSON features.
//!
//! - opening hours: parsing never panics, and `parse ∘ display` is the identity on
//!   what parses;
//! - features: arbitrary and mutated feature text never panics, the line reader
//!   (`read_*_str`) gives exactly what the generic reader gives, and valid stations
//!   round-trip through the writer and the reader.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::hours::OpeningHours;
use yizhan_core::io;
use yizhan_core::model::{Amenity, AmenitySet, Occupancy, Station, StationKind};

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

/// A weekday selector: one day, a range, or a list of both.
fn day_selector() -> impl Strategy<Value = String> {
    let one = (0..7usize, 0..7usize).prop_map(|(a, b)| {
        let (a, b) = (a.min(b), a.max(b));
        if a == b {
            DAYS[a].to_string()
        } else {
            format!("{}-{}", DAYS[a], DAYS[b])
        }
    });
    prop::collection::vec(one, 1..3).prop_map(|v| v.join(","))
}

/// `HH:MM-HH:MM` with minutes on the quarter hour; `24:00` only as an end.
fn span() -> impl Strategy<Value = String> {
    (0..96u16, 1..=96u16)
        .prop_filter("not empty", |(s, e)| s != e)
        .prop_map(|(s, e)| {
            let t = |q: u16| format!("{:02}:{:02}", q / 4, q % 4 * 15);
            format!("{}-{}", t(s), t(e))
        })
}

/// Opening hours in the supported syntax.
fn valid_hours() -> impl Strategy<Value = String> {
    let rule = (
        prop::option::of(day_selector()),
        prop_oneof![
            4 => prop::collection::vec(span(), 1..3).prop_map(|v| v.join(",")),
            1 => Just("off".to_string()),
        ],
    )
        .prop_map(|(days, spans)| match days {
            Some(d) => format!("{d} {spans}"),
            None => spans,
        });
    prop_oneof![
        1 => Just("24/7".to_string()),
        6 => prop::collection::vec(rule, 1..4).prop_map(|v| v.join("; ")),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hours_never_panic(s in ".{0,40}", t in "[MoTuWeThFrSaSu0-9:;, /offh-]{0,40}") {
        let _ = s.parse::<OpeningHours>();
        let _ = t.parse::<OpeningHours>();
    }

    #[test]
    fn hours_parse_display_round_trip(text in valid_hours()) {
        let h: OpeningHours = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let again: OpeningHours = h.to_string().parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&again, &h);
        prop_assert_eq!(again.to_string(), h.to_string());
    }
}

// ------------------------------------------------------------------ features

/// Text that JSON escapes or not: ASCII, CJK, emoji, quotes, backslashes, controls.
fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("Rest"),
            Just(" "),
            Just("驿站"),
            Just("😀"),
            Just("\""),
            Just("\\"),
            Just("\n"),
            Just("\u{1f}"),
            Just("a,b"),
            Just("é"),
        ],
        0..5,
    )
    .prop_map(|v| v.concat())
}

fn nonblank_text() -> impl Strategy<Value = String> {
    any_text().prop_map(|s| format!("S{s}"))
}

/// A coordinate as the writer rounds it (7 decimals), so that it reads back the same.
fn coordinate(max: i64) -> impl Strategy<Value = f64> {
    (-max * 10_000_000..=max * 10_000_000).prop_map(|k| k as f64 / 1e7)
}

fn station(i: usize) -> impl Strategy<Value = Station> {
    (
        nonblank_text(),
        prop::option::of(any_text()),
        any::<bool>(),
        (coordinate(180), coordinate(90)),
        any::<u16>(),
        any::<u32>(),
        prop::option::of((any::<u32>(), 0..4_000_000_000i64)),
        valid_hours(),
        prop::option::of(any_text()),
        prop::option::of(any_text()),
        prop::option::of(any_text()),
    )
        .prop_map(
            move |(name, name_zh, kind, (lon, lat), bits, capacity, occ, hours, g, op, addr)| {
                Station {
                    id: format!("ST-{i}"),
                    name,
                    name_zh,
                    kind: if kind {
                        StationKind::RestStation
                    } else {
                        StationKind::ChildcareClass
                    },
                    location: LonLat::new(lon, lat).expect("in range"),
                    amenities: Amenity::ALL
                        .into_iter()
                        .enumerate()
                        .filter(|(k, _)| bits & (1 << k) != 0)
                        .map(|(_, a)| a)
                        .collect::<AmenitySet>(),
                    capacity,
                    occupancy: occ.map(|(occupied, t)| Occupancy {
                        occupied,
                        reported_at: DateTime::<Utc>::from_timestamp(t, 0).expect("in range"),
                    }),
                    opening_hours: hours.parse().expect("valid hours"),
                    grid_unit: g,
                    operator: op,
                    address: addr,
                }
            },
        )
}

fn stations() -> impl Strategy<Value = Vec<Station>> {
    (0..6usize).prop_flat_map(|n| (0..n).map(station).collect::<Vec<_>>())
}

/// One of `words`, each as likely.
fn one_of(words: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(words)
}

/// A JSON value of any shape (small).
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any_text().prop_map(serde_json::Value::from),
        one_of(&[
            "rest_station",
            "wifi",
            "24/7",
            "2026-07-01T12:30:00Z",
            "delivery"
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    one_of(&["name", "capacity", "amenities", "workers", "id"])
                        .prop_map(str::to_string),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys of the point layers' properties.
fn key() -> impl Strategy<Value = String> {
    one_of(&[
        "name",
        "name_zh",
        "kind",
        "amenities",
        "capacity",
        "opening_hours",
        "occupied",
        "occupancy_reported_at",
        "grid_unit",
        "operator",
        "address",
        "workers",
        "worker_type",
        "id",
        "extra",
    ])
    .prop_map(str::to_string)
}

/// A feature of any content: a Point or other geometry, any properties.
fn any_feature() -> impl Strategy<Value = serde_json::Value> {
    (
        prop::option::of(prop_oneof![
            any_text().prop_map(serde_json::Value::from),
            any::<u32>().prop_map(serde_json::Value::from),
        ]),
        prop_oneof![
            (coordinate(200), coordinate(100)).prop_map(|(x, y)| {
                serde_json::json!({"type": "Point", "coordinates": [x, y]})
            }),
            Just(serde_json::json!({"type": "LineString", "coordinates": [[1, 2], [3, 4]]})),
            Just(serde_json::json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})),
            Just(serde_json::Value::Null),
        ],
        prop::collection::vec((key(), any_json()), 0..8),
    )
        .prop_map(|(id, geometry, props)| {
            let mut f = serde_json::json!({
                "type": "Feature",
                "geometry": geometry,
                "properties": serde_json::Value::Object(props.into_iter().collect()),
            });
            if let Some(id) = id {
                f["id"] = id;
            }
            f
        })
}

/// One feature per line, as yizhan writes collections.
fn lines_file(features: &[String]) -> String {
    let mut t = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    t.push_str(&features.join(",\n"));
    t.push_str("\n]}\n");
    t
}

/// The line reader and the generic reader agree (errors included), on every layer.
fn same_both_ways(text: &str) -> Result<(), TestCaseError> {
    let fc = io::parse_collection(text);
    let generic = fc.clone().and_then(|fc| io::read_stations(&fc, Crs::Wgs84));
    prop_assert_eq!(io::read_stations_str(text, Crs::Wgs84), generic);
    let generic = fc.clone().and_then(|fc| io::read_hotspots(&fc, Crs::Wgs84));
    prop_assert_eq!(io::read_hotspots_str(text, Crs::Wgs84), generic);
    let generic = fc.and_then(|fc| io::read_candidates(&fc, Crs::Wgs84));
    prop_assert_eq!(io::read_candidates_str(text, Crs::Wgs84), generic);
    let _ = io::read_cells_str(text, Crs::Gcj02);
    let _ = io::read_boundary_str(text, Crs::Wgs84);
    Ok(())
}

fn station_lines(stations: &[Station]) -> String {
    io::to_string_lines(
        &stations
            .iter()
            .map(|s| io::station_feature(s, Crs::Wgs84, Default::default()))
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_features_never_panic(features in prop::collection::vec(any_feature(), 0..6)) {
        let lines: Vec<String> = features.iter().map(|f| f.to_string()).collect();
        same_both_ways(&lines_file(&lines))?;
        let compact = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
        same_both_ways(&compact)?;
    }

    #[test]
    fn mutated_features_never_panic(
        stations in stations(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), 0..4usize, any_text()), 1..4),
    ) {
        let mut chars: Vec<char> = station_lines(&stations).chars().collect();
        for (at, remove, insert) in cuts {
            let at = at.index(chars.len().max(1)).min(chars.len());
            let end = (at + remove).min(chars.len());
            chars.splice(at..end, insert.chars());
        }
        let text: String = chars.into_iter().collect();
        same_both_ways(&text)?;
    }

    #[test]
    fn valid_stations_round_trip(stations in stations()) {
        let text = station_lines(&stations);
        prop_assert_eq!(io::read_stations_str(&text, Crs::Wgs84), Ok(stations.clone()));
        let compact = io::to_string(
            stations.iter().map(|s| io::station_feature(s, Crs::Wgs84, Default::default())).collect(),
        );
        prop_assert_eq!(
            io::parse_collection(&compact).and_then(|fc| io::read_stations(&fc, Crs::Wgs84)),
            Ok(stations)
        );
    }
}
