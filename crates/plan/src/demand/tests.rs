use std::fmt::Write as _;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::geodesy::haversine_m;

use super::*;

/// Metres to degrees near `lat`: (east, north).
fn offset(p: LonLat, east_m: f64, north_m: f64) -> LonLat {
    let m = yizhan_core::geodesy::EARTH_RADIUS_M.to_radians();
    LonLat::new(
        p.lon + east_m / (m * p.lat.to_radians().cos()),
        p.lat + north_m / m,
    )
    .unwrap()
}

/// Seeded traces: `per_place[k]` workers stop at place `k` (a lunch stay of 40
/// minutes from 11:30 local, with 10 m of GPS noise) and ride between places
/// otherwise. Returns the CSV text and the places.
fn traces(seed: u64, per_place: &[usize]) -> (String, Vec<LonLat>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centre = LonLat::new(118.47, 24.72).unwrap();
    let places: Vec<LonLat> = (0..per_place.len())
        .map(|k| offset(centre, 800.0 * k as f64, 300.0 * (k % 2) as f64))
        .collect();
    let mut csv = String::from("id,timestamp,lon,lat,worker_type\n");
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-04T11:00:00+08:00").unwrap();
    let mut w = 0;
    for (k, &n) in per_place.iter().enumerate() {
        for _ in 0..n {
            w += 1;
            let start = rng.random_range(-200.0..200.0);
            let mut t = t0;
            // 30 min riding in (5 m/s, east), 40 min stay, 30 min riding out.
            for step in 0..(100 * 60 / 30) {
                let minute = step as f64 * 0.5;
                let p = if minute < 30.0 {
                    offset(places[k], -9000.0 + start + 300.0 * minute, 0.0)
                } else if minute < 70.0 {
                    offset(
                        places[k],
                        rng.random_range(-10.0..10.0),
                        rng.random_range(-10.0..10.0),
                    )
                } else {
                    offset(places[k], 0.0, 300.0 * (minute - 70.0) + 50.0)
                };
                writeln!(csv, "w{w},{},{},{},delivery", t.to_rfc3339(), p.lon, p.lat).unwrap();
                t += chrono::Duration::seconds(30);
            }
        }
    }
    (csv, places)
}

fn run(text: &str, params: &DemandParams) -> (Vec<Hotspot>, DemandCounts) {
    let mut counts = DemandCounts::default();
    let h = hotspots_from_pings(text.as_bytes(), params, &mut counts, |_| {}).unwrap();
    (h, counts)
}

#[test]
fn traces_give_back_their_places_and_workers() {
    let (csv, places) = traces(7, &[6, 9, 5, 12]);
    let (hs, counts) = run(&csv, &DemandParams::default());
    assert_eq!(counts.broken + counts.no_timezone + counts.duplicates, 0);
    assert_eq!(counts.workers, 32);
    assert_eq!(hs.len(), 4, "{hs:?}");
    for (k, &n) in [6u32, 9, 5, 12].iter().enumerate() {
        let h = hs
            .iter()
            .min_by(|a, b| {
                a.location
                    .distance_m(places[k])
                    .total_cmp(&b.location.distance_m(places[k]))
            })
            .unwrap();
        assert!(h.location.distance_m(places[k]) < 15.0, "{k}: {h:?}");
        assert_eq!(h.workers, n);
        assert_eq!(h.worker_type, WorkerType::Delivery);
        let p = h.profile.as_ref().unwrap();
        // The stays are 11:3x–12:1x local: hours 11 and 12 only, on a Friday.
        assert!((p.hourly[11] + p.hourly[12] - 1.0).abs() < 2e-3, "{p:?}");
        assert_eq!(p.weekday, p.hourly);
    }
    // No id of a worker in the output.
    let text = serde_json::to_string(&hs.iter().map(|h| h.id.clone()).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("\"w1"));
}

#[test]
fn small_hotspots_are_merged_or_dropped() {
    // Place 1 has 3 workers: below k = 5; it is 800 m from its neighbours.
    let (csv, _) = traces(8, &[6, 3, 7]);
    let (hs, counts) = run(&csv, &DemandParams::default());
    assert_eq!(hs.len(), 2);
    assert_eq!(counts.dropped, 1);
    assert!(hs.iter().all(|h| h.workers >= 5));
    let params = DemandParams {
        merge_m: 1000.0,
        ..DemandParams::default()
    };
    let (hs, counts) = run(&csv, &params);
    assert_eq!((hs.len(), counts.merged, counts.dropped), (2, 1, 0));
    assert_eq!(hs.iter().map(|h| h.workers).sum::<u32>(), 16);
}

#[test]
fn bad_rows_are_counted_never_fatal() {
    let (csv, _) = traces(9, &[6]);
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    let clean = run(&csv, &DemandParams::default()).0;
    // Shuffled, every tenth row twice, broken rows, rows without a time zone and a
    // jump of 50 km.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut rows: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let dups: Vec<String> = rows.iter().step_by(10).cloned().collect();
    rows.extend(dups.iter().cloned());
    rows.push("w1,2026-12-04T11:40:00,118.47,24.72,delivery".into());
    rows.push("w1,yesterday,118.47,24.72,delivery".into());
    rows.push("w1,2026-12-04T11:40:15+08:00,not-a-number,24.72".into());
    rows.push("w1,2026-12-04T11:40:15+08:00,118.47,95.0".into());
    rows.push("garbage".into());
    rows.push(",2026-12-04T11:40:15+08:00,118.47,24.72".into());
    rows.push("w1,2026-12-04T11:45:15+08:00,118.97,24.72,delivery".into());
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.random_range(0..=i));
    }
    let text = format!("{header}\n{}\n", rows.join("\n"));
    let (hs, counts) = run(&text, &DemandParams::default());
    assert_eq!(counts.duplicates, dups.len() as u64);
    assert_eq!(counts.no_timezone, 2);
    assert_eq!(counts.broken, 4);
    assert_eq!(counts.jumps, 1);
    // The same hotspots; positions are means summed in another order, so equal to
    // the last bits only.
    assert_eq!(hs.len(), clean.len());
    for (a, b) in hs.iter().zip(&clean) {
        assert!(haversine_m(a.location, b.location) < 1e-6, "{a:?} {b:?}");
        let (mut a, b) = (a.clone(), b.clone());
        a.location = b.location;
        assert_eq!(a, b);
    }
    // A CSV without the columns is one clear error.
    let mut c = DemandCounts::default();
    let e = hotspots_from_pings(
        "who,when\n1,2\n".as_bytes(),
        &DemandParams::default(),
        &mut c,
        |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("\"id\""), "{e}");
}

#[test]
fn geojson_lines_and_gcj02_read_as_csv() {
    let (csv, places) = traces(10, &[5]);
    let mut gj = String::new();
    for l in csv.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let p = Crs::Gcj02
            .from_wgs84(LonLat::new(f[2].parse().unwrap(), f[3].parse().unwrap()).unwrap());
        writeln!(
            gj,
            r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":{{"id":"{}","timestamp":"{}","worker_type":"delivery"}}}}"#,
            p.lon, p.lat, f[0], f[1]
        )
        .unwrap();
    }
    let params = DemandParams {
        crs: Crs::Gcj02,
        ..DemandParams::default()
    };
    let (hs, counts) = run(&gj, &params);
    assert_eq!(counts.broken, 0);
    assert_eq!(hs.len(), 1);
    assert!(hs[0].location.distance_m(places[0]) < 15.0);
    assert_eq!(hs[0].workers, 5);
}

#[test]
fn stay_points_follow_li_2008() {
    // A worker still for 4 minutes, then for 6: one stay (the second).
    let base = LonLat::new(118.0, 24.0).unwrap();
    let mut trace = Vec::new();
    let mut t = 0;
    for (place, minutes) in [(0.0, 4), (500.0, 6)] {
        for _ in 0..=(minutes * 2) {
            let p = offset(base, place, 0.0);
            trace.push(RawPing {
                t,
                offset: 0,
                lon: p.lon as f32,
                lat: p.lat as f32,
                kind: 255,
            });
            t += 30;
        }
        t += 60;
    }
    let s = stay_points(&trace, 50.0, 5.0);
    assert_eq!(s.len(), 1);
    assert!(s[0].at.distance_m(offset(base, 500.0, 0.0)) < 1.0);
    assert_eq!(s[0].leave - s[0].arrive, 360);
}
