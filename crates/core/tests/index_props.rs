//! Property tests of bounding boxes and of the spatial index.
//!
//! - `BBox`: parsing never panics; it accepts exactly four comma-separated numbers
//!   forming valid corners with south ≤ north, and gives back the numbers written;
//!   `contains` of a box crossing the antimeridian is the union of its two halves.
//! - `GeoIndex`: k nearest (with a distance limit and a filter), within a radius
//!   and inside a box answer exactly what a brute-force scan answers, on points
//!   clustered in a town, at the antimeridian and at the poles, with exact
//!   duplicate positions so that ties (broken by id) occur.

use proptest::prelude::*;
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::index::{BBox, BBoxError, GeoIndex, Hit, Place};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

/// Whether `(lon, lat)` is a valid WGS 84 coordinate.
fn valid(lon: f64, lat: f64) -> bool {
    (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)
}

/// Numbers a bbox might be given: in range, out of range, not finite, edges.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -180.0..180.0f64,
        1 => -400.0..400.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-90.0),
        1 => Just(180.0),
    ]
}

/// Text a bbox parameter might be: numbers, with spaces, too few or many, junk.
fn bbox_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        8 => number().prop_map(|x| x.to_string()),
        1 => Just(String::new()),
        1 => "[a-z ,.+-]{0,4}",
        1 => number().prop_map(|x| format!(" {x} ")),
    ];
    prop::collection::vec(part, 0..7).prop_map(|v| v.join(","))
}

/// A valid box: any corners with south ≤ north (west > east crosses the antimeridian).
fn valid_box() -> impl Strategy<Value = BBox> {
    (
        -180.0..=180.0f64,
        -180.0..=180.0f64,
        -90.0..=90.0f64,
        -90.0..=90.0f64,
    )
        .prop_map(|(w, e, a, b)| BBox::new(w, a.min(b), e, a.max(b)).unwrap())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bbox_parsing_accepts_exactly_the_valid_boxes(text in bbox_text()) {
        let parsed = text.parse::<BBox>();
        let nums: Option<Vec<f64>> = text.split(',').map(|p| p.trim().parse().ok()).collect();
        match nums.as_deref() {
            Some(&[w, s, e, n]) => {
                let ok = valid(w, s) && valid(e, n) && s <= n;
                prop_assert_eq!(parsed.is_ok(), ok, "{:?} → {:?}", text, parsed);
                match parsed {
                    Ok(b) => {
                        prop_assert_eq!((b.west, b.south, b.east, b.north), (w, s, e, n));
                        prop_assert_eq!(BBox::new(w, s, e, n), Ok(b));
                    }
                    Err(BBoxError::Inverted { south, north }) => {
                        prop_assert!(valid(w, s) && valid(e, n) && south > north);
                    }
                    Err(BBoxError::Coord(_)) => prop_assert!(!valid(w, s) || !valid(e, n)),
                    Err(other) => prop_assert!(false, "{:?}: {:?}", text, other),
                }
            }
            _ => prop_assert!(
                matches!(parsed, Err(BBoxError::Format(_))),
                "{:?} → {:?}",
                text,
                parsed
            ),
        }
    }

    #[test]
    fn a_written_bbox_parses_back_to_the_same_numbers(bbox in valid_box()) {
        let BBox { west: w, south: s, east: e, north: n } = bbox;
        prop_assert_eq!(format!("{w},{s},{e},{n}").parse::<BBox>(), Ok(bbox));
        prop_assert_eq!(format!(" {w} , {s},{e} ,{n} ").parse::<BBox>(), Ok(bbox));
    }

    #[test]
    fn bbox_containment_is_the_union_of_its_halves_across_the_antimeridian(
        bbox in valid_box(),
        lon in -180.0..=180.0f64,
        lat in -90.0..=90.0f64,
    ) {
        let BBox { west: w, south: s, east: e, north: n } = bbox;
        let p = LonLat::new(lon, lat).unwrap();
        let want = if w <= e {
            s <= lat && lat <= n && w <= lon && lon <= e
        } else {
            let east_half = BBox::new(w, s, 180.0, n).unwrap();
            let west_half = BBox::new(-180.0, s, e, n).unwrap();
            east_half.contains(p) || west_half.contains(p)
        };
        prop_assert_eq!(bbox.contains(p), want);
    }
}

/// Cluster centres: a town, both sides of the antimeridian, both poles.
const CENTRES: [(f64, f64); 5] = [
    (118.47, 24.72),
    (179.9, 0.0),
    (-179.9, 0.5),
    (20.0, 89.95),
    (-60.0, -89.95),
];

/// A position near one of the [`CENTRES`]; snapped to a 0.01° grid at times, so
/// that exact duplicates (ties) occur.
fn position() -> impl Strategy<Value = LonLat> {
    (
        0..CENTRES.len(),
        -0.3..0.3f64,
        -0.3..0.3f64,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(c, dx, dy, snap)| {
            let (lon, lat) = CENTRES[c];
            let (mut x, mut y) = (lon + dx, (lat + dy).clamp(-90.0, 90.0));
            if snap {
                x = (x * 100.0).round() / 100.0;
                y = (y * 100.0).round() / 100.0;
            }
            if x > 180.0 {
                x -= 360.0;
            } else if x < -180.0 {
                x += 360.0;
            }
            LonLat::new(x, y).unwrap()
        })
}

/// Up to 250 points with distinct ids in scrambled order.
fn points() -> impl Strategy<Value = Vec<Place>> {
    prop::collection::vec(position(), 0..250).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, at)| Place {
                id: format!("P{:03}", (i * 919) % 1000),
                at,
            })
            .collect()
    })
}

/// A filter: every point, or those whose id's last digit is in a set.
fn filter() -> impl Strategy<Value = Option<u16>> {
    prop_oneof![1 => Just(None), 2 => (1..1024u16).prop_map(Some)]
}

fn keeps(f: Option<u16>, p: &Place) -> bool {
    f.is_none_or(|mask| {
        let d = p.id.as_bytes().last().map_or(0, |b| b - b'0');
        mask & (1 << d) != 0
    })
}

/// The brute-force answer: kept points by (haversine, id).
fn scan(pts: &[Place], at: LonLat, f: Option<u16>) -> Vec<(f64, &str)> {
    let mut v: Vec<(f64, &str)> = pts
        .iter()
        .filter(|p| keeps(f, p))
        .map(|p| (haversine_m(at, p.at), p.id.as_str()))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
    v
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn nearest_k_is_the_brute_force_answer(
        pts in points(),
        at in position(),
        k in 0..20usize,
        max_m in prop::option::of(0.0..40_000.0f64),
        f in filter(),
    ) {
        let index = GeoIndex::new(pts.clone());
        let got: Vec<(f64, &str)> = index
            .nearest(at, k, max_m, |p| keeps(f, p))
            .iter()
            .map(|h| (h.distance_m, h.item.id.as_str()))
            .collect();
        let want: Vec<(f64, &str)> = scan(&pts, at, f)
            .into_iter()
            .filter(|w| max_m.is_none_or(|m| w.0 <= m))
            .take(k)
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn within_radius_is_the_brute_force_answer(
        pts in points(),
        at in position(),
        radius_m in prop_oneof![0.0..5_000.0f64, 0.0..60_000.0f64],
        f in filter(),
    ) {
        let index = GeoIndex::new(pts.clone());
        let mut hits = index.within_radius(at, radius_m, |p| keeps(f, p));
        Hit::nearest_first(&mut hits);
        let got: Vec<(f64, &str)> = hits
            .iter()
            .map(|h| (h.distance_m, h.item.id.as_str()))
            .collect();
        let want: Vec<(f64, &str)> =
            scan(&pts, at, f).into_iter().filter(|w| w.0 <= radius_m).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn bbox_query_is_the_brute_force_answer(
        pts in points(),
        corner in position(),
        width in 0.0..1.0f64,
        height in 0.0..0.6f64,
        f in filter(),
    ) {
        let mut east = corner.lon + width;
        if east > 180.0 {
            east -= 360.0; // the box crosses the antimeridian
        }
        let north = (corner.lat + height).min(90.0);
        let bbox = BBox::new(corner.lon, corner.lat, east, north).unwrap();
        let index = GeoIndex::new(pts.clone());
        let got: Vec<&str> = index
            .within_bbox(&bbox, |p| keeps(f, p))
            .iter()
            .map(|h| h.item.id.as_str())
            .collect();
        let mut want: Vec<&str> = pts
            .iter()
            .filter(|p| bbox.contains(p.at) && keeps(f, p))
            .map(|p| p.id.as_str())
            .collect();
        want.sort_unstable();
        prop_assert_eq!(got, want);
    }
}
