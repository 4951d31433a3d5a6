//! Planning by hour of day: coverage, station load and site selection with an hour
//! window against a brute-force oracle on seeded random towns whose hotspots carry
//! random demand profiles (and some none).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::geodesy::{destination, haversine_m};
use yizhan_core::hours::OpeningHours;
use yizhan_core::profile::{DemandProfile, HourWindow, HOURS};
use yizhan_core::{
    AmenitySet, Candidate, Dataset, Hotspot, LonLat, Station, StationFilter, StationKind,
    WorkerType,
};
use yizhan_plan::coverage::CoverageParams;
use yizhan_plan::{select, workflow, Model, SiteParams};

const CUTOFF_M: f64 = 600.0;
const PEAK_SHARE: f64 = 0.2;

fn at(rng: &mut ChaCha8Rng) -> LonLat {
    let o = LonLat::new(118.4716, 24.7196).unwrap();
    let p = destination(o, 90.0, rng.random_range(0.0..3000.0));
    destination(p, 0.0, rng.random_range(0.0..3000.0))
}

fn town(seed: u64) -> (Dataset, Vec<Candidate>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let stations = (0..6)
        .map(|k| Station {
            id: format!("S{k}"),
            name: format!("S{k}"),
            name_zh: None,
            kind: StationKind::RestStation,
            location: at(&mut rng),
            amenities: AmenitySet::empty(),
            capacity: rng.random_range(5..30),
            occupancy: None,
            opening_hours: OpeningHours::always(),
            grid_unit: None,
            operator: None,
            address: None,
        })
        .collect();
    let hotspots = (0..150)
        .map(|i| {
            let profile = (i % 5 != 0).then(|| {
                let mut w = [0.0; HOURS];
                for x in w.iter_mut() {
                    // Some hours with nobody at all.
                    *x = if rng.random_bool(0.3) {
                        0.0
                    } else {
                        rng.random_range(0.0..1.0)
                    };
                }
                w[rng.random_range(0..HOURS)] += 2.0;
                DemandProfile::from_weights(w, w, w).unwrap()
            });
            Hotspot {
                id: format!("H{i}"),
                location: at(&mut rng),
                workers: rng.random_range(1..40),
                worker_type: WorkerType::Delivery,
                grid_unit: None,
                profile,
            }
        })
        .collect();
    let cands = (0..12)
        .map(|j| common::point(format!("C{j}"), at(&mut rng)))
        .collect();
    (
        Dataset::new(stations, hotspots, vec![], vec![], None),
        cands,
    )
}

/// The oracle's weight of `h` in window `w`: its workers times the mean share of the
/// window's hours over its largest hourly share (all of them without a profile).
fn weight(h: &Hotspot, w: Option<HourWindow>) -> f64 {
    let workers = f64::from(h.workers);
    match (w, &h.profile) {
        (Some(w), Some(p)) => {
            let max = p.hourly.iter().copied().fold(0.0, f64::max);
            let hours = (w.start()..w.end()).map(|k| p.hourly[k as usize]);
            let mean = hours.sum::<f64>() / f64::from(w.end() - w.start());
            workers * mean / max
        }
        _ => workers,
    }
}

fn windows() -> Vec<Option<HourWindow>> {
    vec![
        None,
        HourWindow::new(12, 13),
        HourWindow::new(11, 14),
        HourWindow::new(3, 4),
        HourWindow::new(0, 24),
    ]
}

#[test]
fn coverage_and_load_by_hour_match_the_oracle() {
    for seed in 0..4 {
        let (ds, _) = town(seed);
        let st = ds.stations.items();
        let hs = ds.hotspots.items();
        let mut totals = Vec::new();
        for w in windows() {
            let params = CoverageParams {
                peak_share: PEAK_SHARE,
                hours: w,
                ..CoverageParams::metres(CUTOFF_M)
            };
            let r = workflow::coverage(&ds, &params, StationFilter::default()).unwrap();
            assert_eq!(r.hours, w);
            let (mut total, mut covered) = (0.0, 0.0);
            let mut load = vec![0.0; st.len()];
            for h in hs {
                let x = weight(h, w);
                total += x;
                let (k, d) = st
                    .iter()
                    .enumerate()
                    .map(|(k, s)| (k, haversine_m(s.location, h.location)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .unwrap();
                if d <= CUTOFF_M {
                    covered += x;
                    load[k] += x * PEAK_SHARE;
                }
            }
            assert!((r.total_demand - total).abs() < 1e-6, "{w:?}");
            assert!((r.covered_demand - covered).abs() < 1e-6, "{w:?}");
            for (l, want) in r.stations.iter().zip(&load) {
                assert!((l.load - want).abs() < 1e-6, "{} {w:?}", l.id);
                assert_eq!(l.overloaded, *want > f64::from(l.capacity));
            }
            totals.push(total);
        }
        // The hour matters: 03:00 is not the day.
        assert!((totals[0] - totals[3]).abs() > 1.0, "{totals:?}");
    }
}

#[test]
fn best_sites_for_an_hour_match_enumeration() {
    for seed in 10..13 {
        let (ds, cands) = town(seed);
        for w in windows() {
            let mut params = SiteParams::new(Model::Mclp);
            params.p = Some(2);
            params.radius_m = Some(CUTOFF_M);
            params.exact = true;
            params.hours = w;
            let prob = workflow::town_problem(&ds, &cands, true, &mut params).unwrap();
            let sol = select::solve(&prob, &params).unwrap();
            assert!(sol.optimal, "{w:?}");
            // The oracle: every pair of candidates with the stations kept open.
            let covered = |open: &[LonLat]| -> f64 {
                ds.hotspots
                    .items()
                    .iter()
                    .filter(|h| open.iter().any(|p| haversine_m(*p, h.location) <= CUTOFF_M))
                    .map(|h| weight(h, w))
                    .sum()
            };
            let stations: Vec<LonLat> = ds.stations.items().iter().map(|s| s.location).collect();
            let mut best = 0.0f64;
            for a in 0..cands.len() {
                for b in a + 1..cands.len() {
                    let mut open = stations.clone();
                    open.push(cands[a].location);
                    open.push(cands[b].location);
                    best = best.max(covered(&open));
                }
            }
            assert!(
                (sol.objective - best).abs() < 1e-6 * best.max(1.0),
                "seed {seed} {w:?}: {} vs {best}",
                sol.objective
            );
        }
    }
}
