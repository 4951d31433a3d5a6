use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

#[test]
fn tile_addresses_are_checked() {
    assert!(TileId::new(0, 0, 0).is_ok());
    assert!(TileId::new(22, (1 << 22) - 1, 0).is_ok());
    assert_eq!(TileId::new(23, 0, 0), Err(TileError::Zoom { z: 23 }));
    assert!(matches!(
        TileId::new(3, 8, 0),
        Err(TileError::OutOfRange {
            axis: "x",
            max: 7,
            ..
        })
    ));
    assert!(matches!(
        TileId::new(0, 0, 1),
        Err(TileError::OutOfRange {
            axis: "y",
            max: 0,
            ..
        })
    ));
}

/// A tile's box projects onto its own corners (and the buffer around them).
#[test]
fn bbox_and_projection_agree() {
    let mut r = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..500 {
        let z = r.random_range(0..=MAX_ZOOM);
        let n = 1u32 << z;
        let t = TileId::new(u32::from(z), r.random_range(0..n), r.random_range(0..n)).unwrap();
        let b = t.bbox(0);
        let (x0, y0) = t.project(b.west, b.north);
        let (x1, y1) = t.project(b.east, b.south);
        for (got, want) in [(x0, 0.0), (y0, 0.0), (x1, 4096.0), (y1, 4096.0)] {
            assert!((got - want).abs() < 1e-3, "{t}: {got} vs {want}");
        }
        let bb = t.bbox(BUFFER);
        let (x0, y0) = t.project(bb.west, bb.north);
        if bb.west > -180.0 && bb.north < MAX_MERCATOR_LAT - 1e-9 {
            assert!(
                (x0 + 64.0).abs() < 1e-3 && (y0 + 64.0).abs() < 1e-3,
                "{t}: {x0},{y0}"
            );
        }
    }
}

fn points(r: &mut ChaCha8Rng, n: usize) -> Vec<(f64, f64, u64)> {
    (0..n)
        .map(|_| {
            if r.random_bool(0.8) {
                (
                    118.4 + r.random::<f64>() * 0.3,
                    24.6 + r.random::<f64>() * 0.3,
                    r.random_range(0..50),
                )
            } else {
                (
                    r.random_range(-180.0..180.0),
                    r.random_range(-85.0..85.0),
                    r.random_range(0..50),
                )
            }
        })
        .collect()
}

fn in_tile(t: TileId, lon: f64, lat: f64) -> bool {
    let (mx, my) = mercator(lon, lat);
    let n = t.side();
    (mx * n).floor() == f64::from(t.x) && (my * n).floor() == f64::from(t.y)
}

/// Tile counts and aggregate grids agree with a scan of the points: every
/// point of the tile counted once, in the cell it falls in.
#[test]
fn pyramid_counts_and_aggregates_match_a_scan() {
    let mut r = ChaCha8Rng::seed_from_u64(0x711E5);
    let pts = points(&mut r, 20_000);
    let p = PointPyramid::new(pts.iter().copied());
    assert_eq!(p.len(), pts.len());
    let mut seen = 0;
    for round in 0..300 {
        let z = r.random_range(0..=16u8);
        // A tile around a random point, so most tiles hold some.
        let (lon, lat, _) = pts[r.random_range(0..pts.len())];
        let (mx, my) = mercator(lon, lat);
        let n = f64::from(1u32 << z);
        let t = TileId::new(u32::from(z), (mx * n) as u32, (my * n) as u32).unwrap();
        let inside: Vec<&(f64, f64, u64)> = pts.iter().filter(|q| in_tile(t, q.0, q.1)).collect();
        assert_eq!(p.count(t), inside.len(), "round {round}, {t}");
        let agg = p.aggregate(t);
        let count: u64 = agg.iter().map(|a| a.count).sum();
        let weight: u64 = agg.iter().map(|a| a.weight).sum();
        assert_eq!(count as usize, inside.len(), "{t}");
        assert_eq!(weight, inside.iter().map(|q| q.2).sum::<u64>(), "{t}");
        assert!(agg.len() <= (AGGREGATE_GRID * AGGREGATE_GRID) as usize);
        for a in &agg {
            // Each aggregate lies in its tile, and its cell's points are its count.
            let (px, py) = t.project(a.lon, a.lat);
            assert!(TileId::holds(px, py, 0), "{t}: {px},{py}");
            let g = f64::from(EXTENT / AGGREGATE_GRID.min(1 << (26 - u32::from(z)).min(6)));
            let (cx, cy) = ((px / g).floor(), (py / g).floor());
            let in_cell = inside
                .iter()
                .filter(|q| {
                    let (qx, qy) = t.project(q.0, q.1);
                    (qx / g).floor() == cx && (qy / g).floor() == cy
                })
                .count();
            assert_eq!(in_cell as u64, a.count, "{t} cell {cx},{cy}");
        }
        seen += inside.len();
        let around = p.count_around(t);
        assert!(around >= inside.len());
    }
    assert!(seen > 10_000, "too few points in the tiles to test: {seen}");
}

/// The shape index finds every feature whose extent meets the buffered tile and
/// is at least a tile unit large at that zoom.
#[test]
fn shape_index_matches_a_scan() {
    let mut r = ChaCha8Rng::seed_from_u64(0x5A4E);
    let feats: Vec<geojson::Feature> = (0..3_000)
        .map(|_| {
            let (lon, lat) = (
                118.4 + r.random::<f64>() * 0.3,
                24.6 + r.random::<f64>() * 0.3,
            );
            let d = 10f64.powf(r.random_range(-5.0..-1.0));
            let ring = vec![
                vec![lon, lat],
                vec![lon + d, lat],
                vec![lon + d, lat + d],
                vec![lon, lat + d],
                vec![lon, lat],
            ];
            geojson::Feature {
                geometry: Some(geojson::Geometry::new(geojson::GeometryValue::Polygon {
                    coordinates: vec![ring.into_iter().map(Into::into).collect()],
                })),
                ..Default::default()
            }
        })
        .collect();
    let idx = ShapeIndex::new(&feats);
    let mut found = 0;
    for _ in 0..200 {
        let z = r.random_range(6..=18u8);
        let (lon, lat) = (
            118.4 + r.random::<f64>() * 0.3,
            24.6 + r.random::<f64>() * 0.3,
        );
        let (mx, my) = mercator(lon, lat);
        let n = f64::from(1u32 << z);
        let t = TileId::new(u32::from(z), (mx * n) as u32, (my * n) as u32).unwrap();
        let e = f64::from(EXTENT);
        let want: Vec<usize> = feats
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let g = f.geometry.as_ref().unwrap();
                let geojson::GeometryValue::Polygon { coordinates } = &g.value else {
                    unreachable!()
                };
                let ps: Vec<(f64, f64)> = coordinates[0]
                    .iter()
                    .map(|p| t.project(p[0], p[1]))
                    .collect();
                let (x0, x1) = ps
                    .iter()
                    .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
                let (y0, y1) = ps
                    .iter()
                    .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
                let b = f64::from(BUFFER);
                let meets = x1 >= -b && x0 <= e + b && y1 >= -b && y0 <= e + b;
                // Large enough: a tile unit at this zoom (with a margin for the
                // rounding of the zoom it was filed under).
                meets && (x1 - x0).max(y1 - y0) >= 1.0
            })
            .map(|(i, _)| i)
            .collect();
        let got = idx.query(t);
        for i in &want {
            assert!(got.contains(i), "{t}: feature {i} missing");
        }
        // Nothing that misses the buffered tile.
        for i in &got {
            let g = feats[*i].geometry.as_ref().unwrap();
            let geojson::GeometryValue::Polygon { coordinates } = &g.value else {
                unreachable!()
            };
            let ps: Vec<(f64, f64)> = coordinates[0]
                .iter()
                .map(|p| t.project(p[0], p[1]))
                .collect();
            let b = f64::from(BUFFER) + 1e-6;
            let meets = ps.iter().any(|p| p.0 >= -b)
                && ps.iter().any(|p| p.0 <= e + b)
                && ps.iter().any(|p| p.1 >= -b)
                && ps.iter().any(|p| p.1 <= e + b);
            assert!(meets, "{t}: {i} misses the tile");
        }
        found += want.len();
    }
    assert!(found > 100, "too few features met: {found}");
}
