//! GeoJSON in and out.
//!
//! Reading turns a FeatureCollection into domain types and reports *every* problem,
//! each naming the feature index, the property and what was wrong. Writing produces
//! RFC 7946: lon, lat order, counter-clockwise exterior rings, no `crs` member,
//! and the feature `id` both as the Feature id and as an `id` property (QGIS and
//! OGC clients read the first, spreadsheets the second).
//!
//! - [`props`]: the schema of each point layer's properties, one struct each, used
//!   by every reader and writer (files, store, JSON API, OGC API Features);
//! - [`gis`]: the flat, typed GIS form of every layer made from it (one boolean
//!   field per amenity, no lists, every field on every feature), which OGC API
//!   Features, the exports and CSV carry;
//! - [`read`](read_stations): the generic reader of a parsed collection, and the
//!   entry points from text that try the line reader first;
//! - `lines`: the line reader of files written one feature per line, with its
//!   strict scanner (a `serde` deserializer);
//! - [`write`](to_string_lines): features and collections;
//! - [`Layer`], [`ReadError`], [`FeatureError`].

mod dups;
mod error;
pub mod gis;
mod layer;
pub(crate) mod lines;
pub mod props;
mod read;
mod write;

pub use error::{FeatureError, ReadError};
pub use layer::Layer;
pub use props::{CandidateProps, Checked, HotspotProps, OccupancyReport, StationProps, Text};
pub(crate) use read::{finish, CandidateLayer, HasId, HotspotLayer, StationLayer};
pub use read::{
    parse_collection, polygon_centroid, read_boundary, read_boundary_str, read_candidates,
    read_candidates_str, read_cells, read_cells_str, read_hotspots, read_hotspots_str, read_roads,
    read_roads_str, read_stations, read_stations_str,
};
pub use write::{
    boundary_feature, candidate_feature, cell_feature, hotspot_feature, mark_crs,
    multipolygon_geometry, polygon_geometry, road_feature, station_feature, station_properties,
    to_string, to_string_lines, to_string_lines_in, Collection, FeatureLines, PointFeature,
    CRS_MEMBER, CRS_PROPERTY,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::Crs;
    use crate::geodesy::LonLat;
    use crate::model::{AmenitySet, Hotspot, Occupancy, Station, StationKind, WorkerType};
    use error::Outcome;
    use geojson::{GeometryValue, JsonObject};
    use lines::feature::Feat;

    const STATIONS: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[118.47,24.72]},
  "properties":{"name":"Alpha","amenities":["microwave","charging"],"capacity":12,"opening_hours":"Mo-Fr 08:00-18:00"}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[118.48,24.73]},
  "properties":{"id":"B","name":"Beta","amenities":"books, wifi","capacity":4,"kind":"childcare_class"}}
]}"#;

    #[test]
    fn reads_stations() {
        let fc = parse_collection(STATIONS).unwrap();
        let s = read_stations(&fc, Crs::Wgs84).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].id, "A");
        assert_eq!(s[0].capacity, 12);
        assert_eq!(s[1].kind, StationKind::ChildcareClass);
        assert!(s[1].opening_hours.is_always_open());
        assert_eq!(s[1].amenities.iter().count(), 2);
    }

    #[test]
    fn round_trips_stations() {
        let fc = parse_collection(STATIONS).unwrap();
        let s = read_stations(&fc, Crs::Wgs84).unwrap();
        let text = to_string(
            s.iter()
                .map(|x| station_feature(x, Crs::Wgs84, JsonObject::new()))
                .collect(),
        );
        assert!(!text.contains("\"crs\""));
        let again = read_stations(&parse_collection(&text).unwrap(), Crs::Wgs84).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn reports_every_problem_with_index_and_property() {
        let bad = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[118.47,123]},"properties":{"name":"x","capacity":3}},
 {"type":"Feature","id":"B","geometry":{"type":"Point","coordinates":[118.47,24]},"properties":{"name":"y","capacity":"ten","amenities":["sauna"]}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"z","capacity":1}},
 {"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"dup","capacity":1}},
 {"type":"Feature","id":"E","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"capacity":-1}}
]}"#;
        let err = read_stations(&parse_collection(bad).unwrap(), Crs::Wgs84).unwrap_err();
        let all = err.lines().join("\n");
        for want in [
            "feature 0 (id \"A\"): geometry: latitude 123",
            "feature 1 (id \"B\"): capacity: expected a whole number",
            "feature 1 (id \"B\"): amenities: unknown amenity \"sauna\"",
            "feature 2: id: missing",
            "feature 3 (id \"A\"): id: duplicate id",
            "feature 4 (id \"E\"): geometry: expected a Point, found LineString",
            "feature 4 (id \"E\"): name: missing",
            "feature 4 (id \"E\"): capacity: expected a whole number ≥ 0, found -1",
        ] {
            assert!(all.contains(want), "{want:?} not in {all}");
        }
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert!(matches!(
            parse_collection("{nope"),
            Err(ReadError::Syntax(_))
        ));
        assert!(matches!(
            parse_collection(r#"{"type":"Point","coordinates":[1,2]}"#),
            Err(ReadError::NotACollection("Geometry"))
        ));
        assert!(matches!(parse_collection("[]"), Err(ReadError::Syntax(_))));
    }

    #[test]
    fn polygons_are_written_counter_clockwise() {
        // A clockwise square in, counter-clockwise out.
        let cw = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"c1",
          "geometry":{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]},"properties":{"demand":3}}]}"#;
        let cells = read_cells(&parse_collection(cw).unwrap(), Crs::Wgs84).unwrap();
        assert!((cells[0].centroid.lon - 0.5).abs() < 1e-9);
        let f = cell_feature(&cells[0], Crs::Wgs84, JsonObject::new());
        let GeometryValue::Polygon { coordinates } = &f.geometry.unwrap().value else {
            panic!("not a polygon")
        };
        let ring = &coordinates[0];
        let area2: f64 = ring
            .windows(2)
            .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
            .sum();
        assert!(area2 > 0.0, "exterior ring must be counter-clockwise");
    }

    #[test]
    fn gcj02_input_is_converted() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"h","geometry":{"type":"Point","coordinates":[118.476342,24.716803]},"properties":{"workers":5}}]}"#;
        let h = read_hotspots(&parse_collection(text).unwrap(), Crs::Gcj02).unwrap();
        let d =
            crate::geodesy::haversine_m(h[0].location, LonLat::new(118.471598, 24.719559).unwrap());
        assert!(d < 1.0, "{d}");
    }

    // ------------------------------------------------ fast path = generic path

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A JSON value as raw text, chosen at random among valid and invalid ones.
    fn pick<'a>(rng: &mut ChaCha8Rng, options: &[&'a str]) -> &'a str {
        options[rng.random_range(0..options.len())]
    }

    /// Values of some properties, as JSON texts separated by `|`, right and wrong.
    const KIND: &str = r#""rest_station"|"childcare_class"|" Rest_Station "|"spa"|null|3"#;
    const AMENITIES: &str = r#"["microwave","charging"]|"books, wifi"|[]|""|null|["sauna"]|["wifi",3]|5|" Toilet ,seating"|["\u0077ifi"]"#;
    const OPENING_HOURS: &str = r#""Mo-Fr 08:00-18:00"|"24/7"|"07:00-21:00"|"whenever"|null"#;
    const OCCUPANCY_REPORTED_AT: &str =
        r#""2026-07-01T12:30:00+08:00"|"2026-07-01T04:30:00Z"|"yesterday"|null"#;
    const WORKER_TYPE: &str = r#""delivery"|"courier"|"Ride_Hailing"|"other"|"robot"|null|1"#;

    /// With probability `prob`, property `key` with one of `values` (JSON texts
    /// separated by `|`).
    fn one_of(
        rng: &mut ChaCha8Rng,
        p: &mut Vec<(&'static str, String)>,
        prob: f64,
        key: &'static str,
        values: &str,
    ) {
        if rng.random_bool(prob) {
            let values: Vec<&str> = values.split('|').collect();
            p.push((key, pick(rng, &values).to_string()));
        }
    }

    fn json_str(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    /// A random string: ASCII, Chinese, emoji, quotes, backslashes, control characters.
    fn any_text(rng: &mut ChaCha8Rng) -> String {
        let parts = [
            "Rest",
            " ",
            "驿站",
            "安海镇",
            "😀",
            "\"",
            "\\",
            "\n",
            "\t",
            "é",
            "\u{1f}",
            "a,b",
            "",
        ];
        (0..rng.random_range(0..5))
            .map(|_| parts[rng.random_range(0..parts.len())])
            .collect()
    }

    /// A string value, sometimes with `\u` escapes written out, sometimes not a string.
    fn any_str_value(rng: &mut ChaCha8Rng) -> String {
        match rng.random_range(0..10) {
            0 => r#""\u00e9t\u00e9 \ud83d\ude00""#.to_string(),
            1 => pick(rng, &["null", "12", "1.5", "true", "[]", "{}"]).to_string(),
            2 => json_str(pick(rng, &["", "  "])),
            _ => json_str(&any_text(rng)),
        }
    }

    fn any_number(rng: &mut ChaCha8Rng) -> String {
        match rng.random_range(0..8) {
            0 => pick(
                rng,
                &[
                    "0",
                    "-0",
                    "-0.0",
                    "1e2",
                    "2.5E-1",
                    "4294967295",
                    "4294967296",
                    "-3",
                    "7.0",
                    "12345678901234567890",
                    "0.1000000000000000055511151231257827",
                    "null",
                    "\"5\"",
                ],
            )
            .to_string(),
            _ => rng.random_range(0..60).to_string(),
        }
    }

    /// Coordinates: mostly valid points (as the writer rounds them), sometimes not.
    fn any_geometry(rng: &mut ChaCha8Rng) -> Option<String> {
        let lon = rng.random_range(-180.0..180.0f64);
        let lat = rng.random_range(-90.0..90.0f64);
        let r7 = |x: f64| (x * 1e7).round() / 1e7;
        Some(match rng.random_range(0..24) {
            0 => return None,
            1 => "null".into(),
            2 => format!(
                r#"{{"type":"Point","coordinates":[{lon},{}]}}"#,
                lat + 100.0
            ),
            3 => r#"{"type":"LineString","coordinates":[[1,2],[3,4]]}"#.into(),
            4 => format!(r#"{{"type":"Point","coordinates":[{lon},{lat},12.5]}}"#),
            5 => format!(r#"{{"type":"Point","bbox":[1,2,3,4],"coordinates":[{lon},{lat}]}}"#),
            6 => format!(r#"{{"coordinates":[{lon:e},{lat:e}],"type":"Point"}}"#),
            7 => format!(
                r#"{{ "type" : "Point" , "coordinates" : [ {} , {} ] }}"#,
                lon as i32, lat as i32
            ),
            8 => r#"{"type":"Point","coordinates":[118.4716,24.7196],"foo":{"a":[1,"x"]}}"#.into(),
            9 => r#"{"type":"Point","coordinates":[-0.0,-0]}"#.into(),
            10 => format!(r#"{{"type":"Point","coordinates":[{lon},{lat}]}}"#),
            _ => format!(
                r#"{{"type":"Point","coordinates":[{},{}]}}"#,
                r7(lon),
                r7(lat)
            ),
        })
    }

    /// One random feature line of a point layer with properties `props` (key, value).
    fn feature_line(rng: &mut ChaCha8Rng, n: usize, props: Vec<(&str, String)>) -> String {
        let mut members = vec![r#""type":"Feature""#.to_string()];
        if n % 97 == 96 {
            // Not a GeoJSON Feature, so the document is not GeoJSON.
            let bad = [
                r#""type":"Feat""#,
                r#""type":"Feature","bbox":"x""#,
                r#""type":"Feature","geometry":{"type":"Point","coordinates":[1,2],"bbox":[1,"a"]}"#,
                r#""type":"Feature","geometry":{"type":"Pt","coordinates":[1,2]}"#,
                r#""type":"Feature","id":[1]"#,
                r#""type":"Feature","properties":"str""#,
                r#""type":"Feature","foreign":"\udc00""#,
                r#""type":"Feature","foreign":[1e999]"#,
            ];
            let bad = bad[rng.random_range(0..bad.len())];
            let geometry = match (bad.contains("geometry"), rng.random_bool(0.5)) {
                (true, _) => "",
                (false, true) => r#","geometry":null"#,
                (false, false) => r#","geometry":{"type":"Point","coordinates":[1,2]}"#,
            };
            return format!(r#"{{{bad}{geometry},"id":"x{n}","properties":{{"workers":1}}}}"#);
        }
        if let Some(g) = any_geometry(rng) {
            members.push(format!(r#""geometry":{g}"#));
        }
        let id = match rng.random_range(0..40) {
            0 => Some("12".to_string()),
            1 => Some(json_str("")),
            2 => Some(json_str(" ")),
            3 => Some("null".into()),
            4 => None,
            5 => Some(r#""\u0041-dup""#.into()),
            6 => Some(json_str(&format!("F-{}", rng.random_range(0..n.max(1))))), // duplicates
            7 => Some(json_str(&format!("F-{}é\"", rng.random_range(0..5)))),
            _ => Some(json_str(&format!("F-{n}"))),
        };
        let mut props = props;
        if id.is_none() || rng.random_range(0..10) == 0 {
            props.push((
                "id",
                pick(rng, &[r#""P-1""#, "7", "null", r#""""#, "[1]"]).to_string(),
            ));
            if rng.random_bool(0.5) {
                props.push(("id", json_str(&format!("P-{n}"))));
            }
        }
        if rng.random_range(0..8) == 0 {
            props.push(("synthetic", "true".into()));
            props.push(("extra", r#"{"a":[1,2,{"b":null}],"c":"\u00e9"}"#.into()));
        }
        if rng.random_range(0..40) == 0 {
            // A key given twice: the last one counts.
            if let Some((k, _)) = props.first().cloned() {
                props.push((k, any_str_value(rng)));
            }
        }
        let shuffle = rng.random_range(0..4) == 0;
        if shuffle {
            props.reverse();
        }
        let props_text = props
            .iter()
            .map(|(k, v)| format!("{}:{v}", json_str(k)))
            .collect::<Vec<_>>()
            .join(",");
        match rng.random_range(0..25) {
            0 => {}
            1 => members.push(r#""properties":null"#.into()),
            _ => members.push(format!(r#""properties":{{{props_text}}}"#)),
        }
        if let Some(id) = id {
            members.insert(rng.random_range(0..=members.len()), format!(r#""id":{id}"#));
        }
        if rng.random_range(0..30) == 0 {
            members.push(r#""title":"a foreign member""#.into());
        }
        if shuffle {
            members.reverse();
        }
        format!("{{{}}}", members.join(","))
    }

    fn station_line(rng: &mut ChaCha8Rng, n: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        let maybe = |rng: &mut ChaCha8Rng| rng.random_range(0..6) != 0;
        if maybe(rng) || rng.random_bool(0.5) {
            p.push(("name", any_str_value(rng)));
        }
        if rng.random_bool(0.3) {
            p.push(("name_zh", any_str_value(rng)));
        }
        one_of(rng, &mut p, 0.5, "kind", KIND);
        one_of(rng, &mut p, 0.7, "amenities", AMENITIES);
        if maybe(rng) || rng.random_bool(0.5) {
            p.push(("capacity", any_number(rng)));
        }
        one_of(rng, &mut p, 0.5, "opening_hours", OPENING_HOURS);
        if rng.random_range(0..5) == 0 {
            p.push(("occupied", any_number(rng)));
        }
        one_of(
            rng,
            &mut p,
            0.2,
            "occupancy_reported_at",
            OCCUPANCY_REPORTED_AT,
        );
        for k in ["grid_unit", "operator", "address"] {
            if rng.random_bool(0.3) {
                p.push((k, any_str_value(rng)));
            }
        }
        feature_line(rng, n, p)
    }

    fn hotspot_line(rng: &mut ChaCha8Rng, n: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        if rng.random_range(0..8) != 0 {
            p.push(("workers", any_number(rng)));
        }
        one_of(rng, &mut p, 0.8, "worker_type", WORKER_TYPE);
        if rng.random_bool(0.4) {
            p.push(("grid_unit", any_str_value(rng)));
        }
        feature_line(rng, n, p)
    }

    fn candidate_line(rng: &mut ChaCha8Rng, n: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        if rng.random_bool(0.6) {
            p.push(("name", any_str_value(rng)));
        }
        if rng.random_bool(0.6) {
            p.push(("capacity", any_number(rng)));
        }
        feature_line(rng, n, p)
    }

    fn lines_file(lines: &[String]) -> String {
        let mut t = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
        t.push_str(&lines.join(",\n"));
        t.push_str("\n]}\n");
        t
    }

    /// Whether the fast path reads `text` itself (rather than the whole generic path).
    fn fast_path_reads(text: &str) -> bool {
        lines::read_lines(&HotspotLayer(Crs::Wgs84), text).is_some()
    }

    /// Read `text` both ways with every reader and compare everything, errors included.
    fn same_both_ways(text: &str) {
        for crs in [Crs::Wgs84, Crs::Gcj02] {
            let fc = parse_collection(text);
            let generic_s = fc.clone().and_then(|fc| read_stations(&fc, crs));
            assert_eq!(read_stations_str(text, crs), generic_s, "stations");
            let generic_h = fc.clone().and_then(|fc| read_hotspots(&fc, crs));
            assert_eq!(read_hotspots_str(text, crs), generic_h, "hotspots");
            let generic_c = fc.and_then(|fc| read_candidates(&fc, crs));
            assert_eq!(read_candidates_str(text, crs), generic_c, "candidates");
            // Through a file, read in small blocks (a block boundary in every few lines).
            let path = std::env::temp_dir().join(format!(
                "yizhan-fastjson-{}-{:?}.geojson",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&path, text).unwrap();
            for block in [2 << 10, 8 << 10, 1 << 20] {
                let file = lines::read_file_blocks(&HotspotLayer(crs), &path, block)
                    .unwrap()
                    .map(finish);
                if block > 2 << 10 {
                    // Blocks larger than a few lines: the file is read on the fast path
                    // whenever the text is.
                    let text_fast = lines::read_lines(&HotspotLayer(crs), text).is_some();
                    assert_eq!(file.is_some(), text_fast, "file, block {block}");
                }
                if let Some(from_file) = file {
                    assert_eq!(
                        from_file,
                        read_hotspots_str(text, crs),
                        "file, block {block}"
                    );
                }
            }
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn fast_path_reads_exactly_as_the_generic_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for round in 0..60 {
            let n = rng.random_range(0..120);
            let mut lines: Vec<String> = (0..n)
                .map(|i| match round % 3 {
                    0 => station_line(&mut rng, i),
                    1 => hotspot_line(&mut rng, i),
                    _ => candidate_line(&mut rng, i),
                })
                .collect();
            let text = lines_file(&lines);
            assert_eq!(
                fast_path_reads(&text),
                parse_collection(&text).is_ok(),
                "{text}"
            );
            assert_eq!(fast_path_reads(&text), n < 97, "{text}");
            same_both_ways(&text);
            // Mixed with the other layers' lines (other properties, so other problems).
            lines.extend((0..20).map(|i| station_line(&mut rng, n + i)));
            lines.extend((0..20).map(|i| hotspot_line(&mut rng, n + 20 + i)));
            same_both_ways(&lines_file(&lines));
        }
    }

    #[test]
    fn fast_path_accepts_what_yizhan_writes() {
        // Valid features, written by `to_string_lines`, all read on the fast path.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut stations = Vec::new();
        let mut hotspots = Vec::new();
        for i in 0..500 {
            let at = LonLat::new(
                rng.random_range(-180.0..180.0),
                rng.random_range(-90.0..90.0),
            )
            .unwrap();
            let name = format!("{} {i}", any_text(&mut rng));
            stations.push(Station {
                id: format!("S-{i}"),
                name: if name.trim().is_empty() {
                    "x".into()
                } else {
                    name
                },
                name_zh: rng.random_bool(0.5).then(|| "安海驿站".to_string()),
                kind: StationKind::ALL[i % 2],
                location: at,
                amenities: AmenitySet::parse_list(["microwave,wifi", "", "books"][i % 3]).unwrap(),
                capacity: rng.random_range(0..100),
                occupancy: (i % 4 == 0).then(|| Occupancy {
                    occupied: 3,
                    reported_at: chrono::DateTime::parse_from_rfc3339("2026-07-01T12:30:00+08:00")
                        .unwrap()
                        .with_timezone(&chrono::Utc),
                }),
                opening_hours: ["24/7", "Mo-Fr 08:00-18:00"][i % 2].parse().unwrap(),
                grid_unit: (i % 3 == 0).then(|| format!("35058210{i:04}")),
                operator: None,
                address: (i % 5 == 0).then(|| "泉州 \"A\" road\\1".to_string()),
            });
            hotspots.push(Hotspot {
                id: format!("H-{i}"),
                location: at,
                workers: rng.random_range(0..1000),
                worker_type: WorkerType::ALL[i % 5],
                grid_unit: (i % 2 == 0).then(|| "g".to_string()),
                profile: (i % 4 == 1).then(|| {
                    let mut w = [[0.0; 24]; 3];
                    for x in w.iter_mut().flatten() {
                        *x = rng.random_range(0.0..1.0);
                    }
                    crate::profile::DemandProfile::from_weights(w[0], w[1], w[2]).unwrap()
                }),
            });
        }
        let st = to_string_lines(
            &stations
                .iter()
                .map(|s| station_feature(s, Crs::Wgs84, JsonObject::new()))
                .collect::<Vec<_>>(),
        );
        let hs = to_string_lines(
            &hotspots
                .iter()
                .map(|h| hotspot_feature(h, Crs::Wgs84))
                .collect::<Vec<_>>(),
        );
        let s = read_stations_str(&st, Crs::Wgs84).unwrap();
        assert_eq!(
            s,
            read_stations(&parse_collection(&st).unwrap(), Crs::Wgs84).unwrap()
        );
        let h = read_hotspots_str(&hs, Crs::Wgs84).unwrap();
        assert_eq!(
            h,
            read_hotspots(&parse_collection(&hs).unwrap(), Crs::Wgs84).unwrap()
        );
        assert_eq!(h.len(), 500);
        // The strict scanner itself takes the lines yizhan writes (no serde fallback).
        for line in hs.lines().skip(1).filter(|l| l.starts_with('{')) {
            let line = line.trim_end_matches(',');
            let f = Feat::<HotspotProps<'_>>::scan(line);
            assert!(
                f.is_some_and(|f| lines::PointLayer::fast(&HotspotLayer(Crs::Wgs84), f).is_some()),
                "{line}"
            );
        }
        for line in st
            .lines()
            .skip(1)
            .filter(|l| l.starts_with('{') && !l.contains('\\'))
        {
            let line = line.trim_end_matches(',');
            let f = Feat::<StationProps<'_>>::scan(line);
            assert!(
                f.is_some_and(|f| lines::PointLayer::fast(&StationLayer(Crs::Wgs84), f).is_some()),
                "{line}"
            );
        }
    }

    #[test]
    fn files_the_fast_path_leaves_to_the_generic_path() {
        let ok = r#"{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"workers":1}}"#;
        let ok2 = ok.replace(r#""a""#, r#""b""#);
        let head = "{\"type\":\"FeatureCollection\",\"features\":[";
        let deep = format!(
            r#"{{"type":"Feature","id":"d","geometry":{{"type":"Point","coordinates":[1,2]}},"properties":{{"workers":1,"x":{}1{}}}}}"#,
            "[".repeat(125),
            "]".repeat(125)
        );
        // The second feature with `from` replaced by `to`.
        let second =
            |from: &str, to: &str| format!("{head}\n{ok},\n{}\n]}}\n", ok2.replace(from, to));
        let cases = [
            format!("{head}\n{ok},\n{ok2}\n]}}\n"), // the fast layout
            format!("{head}\r\n{ok},\r\n{ok2}\r\n]}}\r\n"), // CRLF
            format!("{head}\n{ok},\n{ok2}]}}"),     // footer on the last line
            format!("{head}\n{ok},\n{ok2},\n]}}\n"), // trailing comma
            format!("{head}\n{ok}\n{ok2}\n]}}\n"),  // missing comma
            format!("{head}\n{ok},\n\n{ok2}\n]}}\n"), // blank line
            format!("{head}{ok},{ok2}]}}"),         // one line
            format!("{head}\n{ok},\n{{\"type\":\"Feature\",\n\"id\":\"c\"}}\n]}}\n"), // pretty-printed
            format!(
                "{head}\n{ok},\n{{\"type\":\"Feature\",\"id\":\"c\",\"geometry\":null,}}\n]}}\n"
            ), // bad JSON
            second("\"workers\":1", "\"workers\":1,\"w\":\"\\ud800\""),
            second("\"workers\":1", "\"workers\":1,\"w\":1e999"),
            second("\"type\":\"Feature\"", "\"type\":\"Polygon\""),
            second("\"type\":\"Point\"", "\"type\":\"Pt\""),
            format!("{head}\n{ok},\n{deep}\n]}}\n"), // nested too deep for the document
            format!(
                "{head}\n{ok},\n{}\n]}}\n",
                deep.replace(&"[".repeat(125), &"[".repeat(100))
                    .replace(&"]".repeat(125), &"]".repeat(100))
            ),
            format!("{head}\n{ok},\n{ok2}\n],\"bbox\":[1,2,3,4]}}\n"), // a collection member
            format!("{head}\n{ok},\n{ok2}\n]}}\n{{}}"),                // trailing data
            format!("{head}\n]}}\n"),                                  // empty
        ];
        for text in &cases {
            same_both_ways(text);
        }
        assert!(fast_path_reads(&cases[0]));
        assert!(!fast_path_reads(&cases[2]) || read_hotspots_str(&cases[2], Crs::Wgs84).is_ok());
        for bad in [3, 4, 5, 6, 7, 8, 9, 10, 13] {
            assert!(!fast_path_reads(&cases[bad]), "case {bad}");
        }
    }

    #[test]
    fn outcomes_are_as_small_as_items() {
        // So that `io::finish` turns the outcomes into the items in place.
        use crate::model::Candidate;
        use std::mem::size_of;
        assert_eq!(size_of::<Outcome<Hotspot>>(), size_of::<Hotspot>());
        assert_eq!(size_of::<Outcome<Station>>(), size_of::<Station>());
        assert_eq!(size_of::<Outcome<Candidate>>(), size_of::<Candidate>());
    }

    #[test]
    fn roads_round_trip_and_report_every_problem() {
        use crate::model::{Road, RoadTags};
        let road = Road {
            id: "w42".into(),
            line: geo_types::LineString::from(vec![(118.47, 24.72), (118.4712, 24.7205)]),
            tags: RoadTags {
                highway: "residential".into(),
                name: Some("Xingsheng Road".into()),
                name_zh: Some("兴胜路".into()),
                oneway: Some("yes".into()),
                oneway_bicycle: Some("no".into()),
                ..RoadTags::default()
            },
        };
        let text = to_string_lines(&[road_feature(&road, Crs::Wgs84)]);
        assert!(text.contains(r#""name:zh":"兴胜路""#), "{text}");
        assert!(text.contains(r#""oneway:bicycle":"no""#), "{text}");
        assert_eq!(read_roads_str(&text, Crs::Wgs84).unwrap(), vec![road]);

        let bad = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[118.4,24.7]},"properties":{"highway":"path"}},
            {"type":"Feature","id":"b","geometry":{"type":"LineString","coordinates":[[118.4,24.7]]},"properties":{"highway":"path"}},
            {"type":"Feature","id":"c","geometry":{"type":"LineString","coordinates":[[118.4,24.7],[118.5,24.8]]},"properties":{"name":"no class"}},
            {"type":"Feature","id":"d","geometry":{"type":"LineString","coordinates":[[118.4,24.7],[190,24.8]]},"properties":{"highway":" "}}
        ]}"#;
        let err = read_roads_str(bad, Crs::Wgs84)
            .unwrap_err()
            .lines()
            .join("\n");
        for want in [
            "expected a LineString",
            "at least 2 positions",
            "highway",
            "must not be blank",
            "longitude",
        ] {
            assert!(err.contains(want), "{want:?} missing in {err}");
        }
    }
}
