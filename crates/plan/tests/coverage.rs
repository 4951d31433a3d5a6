//! Coverage, station load, gaps, grid units and candidate comparison on a small town
//! whose distances are known by construction.

use geo_types::{LineString, Polygon};
use yizhan_core::geodesy::destination;
use yizhan_core::hours::OpeningHours;
use yizhan_core::{
    AmenitySet, Candidate, Dataset, GridCell, Hotspot, LonLat, Station, StationKind, WorkerType,
};
use yizhan_plan::coverage::{
    cell_candidates, compare, coverage, gaps, unit_coverage, CoverageParams, CoverageReport,
    Cutoff, Decay, GapWeights, Nearest, TravelMode,
};
use yizhan_plan::PlanError;

fn origin() -> LonLat {
    LonLat::new(118.4716, 24.7196).unwrap()
}

fn at(east_m: f64, north_m: f64) -> LonLat {
    let p = destination(origin(), 90.0, east_m);
    destination(p, 0.0, north_m)
}

fn station(id: &str, p: LonLat, capacity: u32) -> Station {
    Station {
        id: id.into(),
        name: id.into(),
        name_zh: None,
        kind: StationKind::RestStation,
        location: p,
        amenities: AmenitySet::empty(),
        capacity,
        occupancy: None,
        opening_hours: OpeningHours::always(),
        grid_unit: None,
        operator: None,
        address: None,
    }
}

fn hotspot(id: &str, p: LonLat, workers: u32) -> Hotspot {
    Hotspot {
        id: id.into(),
        location: p,
        workers,
        worker_type: WorkerType::Delivery,
        grid_unit: None,
        profile: None,
    }
}

fn cell(id: &str, unit: &str, x0: f64, y0: f64, size: f64) -> GridCell {
    let c = [
        at(x0, y0),
        at(x0 + size, y0),
        at(x0 + size, y0 + size),
        at(x0, y0 + size),
        at(x0, y0),
    ];
    GridCell {
        id: id.into(),
        polygon: Polygon::new(
            LineString::from(c.iter().map(|p| (p.lon, p.lat)).collect::<Vec<_>>()),
            vec![],
        ),
        grid_unit: Some(unit.into()),
        unit_name: Some(format!("unit {unit}")),
        demand: 0.0,
        centroid: at(x0 + size / 2.0, y0 + size / 2.0),
    }
}

/// Stations at x = 0 (10 seats) and x = 2000 (50 seats); hotspots at x = 100 (30
/// workers), 400 (20), 1900 (5), 5000 (40, uncovered at 1 km). Cells: A around the
/// stations, B far east (unit U2, no station).
fn town() -> Dataset {
    Dataset::new(
        vec![
            station("S1", at(0.0, 0.0), 10),
            station("S2", at(2000.0, 0.0), 50),
        ],
        vec![
            hotspot("H1", at(100.0, 0.0), 30),
            hotspot("H2", at(400.0, 0.0), 20),
            hotspot("H3", at(1900.0, 0.0), 5),
            hotspot("H4", at(5000.0, 0.0), 40),
        ],
        vec![
            cell("A", "U1", -500.0, -500.0, 1000.0),
            cell("A2", "U1", 1500.0, -500.0, 1000.0),
            cell("B", "U2", 4500.0, -500.0, 1000.0),
        ],
        vec![],
        None,
    )
}

/// The coverage of the dataset's hotspots by its stations that `keep` keeps.
fn run(
    ds: &Dataset,
    p: &CoverageParams,
    keep: &(dyn Fn(&Station) -> bool + Sync),
) -> Result<(CoverageReport, Vec<Nearest>), PlanError> {
    coverage(&ds.stations, ds.hotspots.items(), p, keep)
}

#[test]
fn coverage_and_load() {
    let ds = town();
    let keep = |_: &Station| true;
    let (r, near) = run(&ds, &CoverageParams::metres(1000.0), &keep).unwrap();
    assert_eq!(r.total_demand, 95.0);
    assert_eq!(r.covered_demand, 55.0);
    assert!((r.covered_share - 55.0 / 95.0).abs() < 1e-12);
    assert_eq!(r.hotspots_covered, 3);
    assert_eq!(r.uncovered_hotspots, ["H4"]);
    assert_eq!(r.stations[0].workers, 50.0);
    assert!(r.stations[0].overloaded);
    assert_eq!(r.stations[0].utilisation, Some(5.0));
    assert_eq!(r.stations[1].workers, 5.0);
    assert!(!r.stations[1].overloaded);
    assert_eq!(r.overloaded, ["S1"]);
    assert!((near[3].distance_m.unwrap() - 3000.0).abs() < 0.01);
    // Minutes: 10 min on foot is 750 m — H1, H2 and H3 are within 750 m of a station.
    let p = CoverageParams {
        cutoff: Cutoff::Minutes {
            minutes: 10.0,
            mode: TravelMode::Walk,
            speed_kmh: None,
        },
        decay: Some(Decay::Linear),
        peak_share: 0.5,
        hours: None,
    };
    let (r, _) = run(&ds, &p, &keep).unwrap();
    assert!((r.cutoff_m - 750.0).abs() < 1e-9);
    assert_eq!(r.covered_demand, 55.0);
    assert_eq!(r.stations[0].load, 25.0);
    let want =
        (30.0 * (1.0 - 100.0 / 750.0) + 20.0 * (1.0 - 400.0 / 750.0) + 5.0 * (1.0 - 100.0 / 750.0))
            / 95.0;
    assert!((r.decay_share.unwrap() - want).abs() < 1e-6);
    // E-bike, 4 minutes: 1000 m.
    let e = Cutoff::Minutes {
        minutes: 4.0,
        mode: TravelMode::Ebike,
        speed_kmh: None,
    };
    assert!((e.metres().unwrap() - 1000.0).abs() < 1e-9);
    // A closed station is not counted.
    let only_s2 = |s: &Station| s.id == "S2";
    let (r, _) = run(&ds, &CoverageParams::metres(1000.0), &only_s2).unwrap();
    assert_eq!(r.covered_demand, 5.0);
}

#[test]
fn bad_cutoffs_are_refused() {
    let ds = town();
    let keep = |_: &Station| true;
    for p in [
        CoverageParams::metres(-5.0),
        CoverageParams::metres(f64::NAN),
    ] {
        let e = run(&ds, &p, &keep).unwrap_err();
        assert!(e.to_string().contains("cutoff must be a positive number"));
    }
}

#[test]
fn gaps_units_and_candidates() {
    let ds = town();
    let keep = |_: &Station| true;
    let (r, near) = run(&ds, &CoverageParams::metres(1000.0), &keep).unwrap();
    let g = gaps(&ds, &r, &near, &GapWeights::default(), &keep);
    assert_eq!(g[0].id, "B");
    assert_eq!(g[0].rank, 1);
    assert_eq!(g[0].uncovered_demand, 40.0);
    assert_eq!(g[0].demand, 40.0);
    assert!((g[0].nearest_station_m.unwrap() - 3000.0).abs() < 0.01);
    let a = g.iter().find(|c| c.id == "A").unwrap();
    assert_eq!(a.demand, 50.0);
    assert_eq!(a.uncovered_demand, 0.0);
    assert!(a.pressure > 0.0, "S1 is overloaded and near A");
    let units = unit_coverage(&g, 1000.0);
    assert_eq!(units.len(), 2);
    assert!(units[0].covered);
    assert!(!units[1].covered);
    assert_eq!(units[1].grid_unit, "U2");

    let cands = vec![
        Candidate {
            id: "east".into(),
            name: None,
            location: at(4900.0, 0.0),
            capacity: None,
        },
        Candidate {
            id: "mid".into(),
            name: None,
            location: at(300.0, 0.0),
            capacity: None,
        },
    ];
    let s = compare(&ds, &cands, &r, &near, &units, 1.0);
    assert_eq!(s[0].id, "east");
    assert_eq!(s[0].newly_covered_demand, 40.0);
    assert_eq!(s[0].new_units, ["U2"]);
    assert!((s[0].mean_distance_saved_m.unwrap() - 2900.0).abs() < 0.1);
    assert_eq!(s[1].id, "mid");
    assert_eq!(s[1].newly_covered_demand, 0.0);
    // H1 (100 m from S1, 200 from mid) stays; H2 (400 from S1, 100 from mid) moves: 20
    // workers off S1, which has 40 too many.
    assert_eq!(s[1].relief, 20.0);
    assert!((s[1].mean_distance_saved_m.unwrap() - 300.0).abs() < 0.1);
    assert_eq!(cell_candidates(ds.cells.items()).len(), 3);
}
