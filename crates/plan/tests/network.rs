//! Coverage, gaps, comparison and site selection on the street network of the
//! sample town (its synthetic streets, a river with few bridges), checked against
//! routes found independently of the cost matrix (the contraction hierarchy's
//! point-to-point `route`, one per hotspot–station pair).

use std::path::PathBuf;

use yizhan_core::{Dataset, LonLat, Station, StationFilter};
use yizhan_net::{Metric, Network, Networks, SNAP_LIMIT_M};
use yizhan_plan::coverage::{worker_filter, CoverageParams, Cutoff, TravelMode};
use yizhan_plan::workflow;
use yizhan_plan::{By, Model, NetworkCosts, SiteParams};

fn sample() -> (Dataset, Networks) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/anhai");
    let ds = Dataset::load_dir(&dir).unwrap();
    let (nets, _) = Networks::for_dataset_dir(&dir).unwrap().unwrap();
    (ds, nets)
}

fn params(cutoff: Cutoff) -> CoverageParams {
    CoverageParams {
        cutoff,
        decay: None,
        peak_share: 0.1,
        hours: None,
    }
}

/// The cheapest open station of `p` by routes: (station index, time s, metres).
fn oracle(net: &Network, ds: &Dataset, p: LonLat, metric: Metric) -> Option<(usize, f64, f64)> {
    let f = worker_filter(StationFilter::default());
    let from = net.snap_within(p, SNAP_LIMIT_M).ok()?;
    let mut best: Option<(usize, f64, f64)> = None;
    for (k, s) in ds.stations.items().iter().enumerate() {
        if !f.accepts(s) {
            continue;
        }
        let Ok(to) = net.snap_within(s.location, SNAP_LIMIT_M) else {
            continue;
        };
        let Some(r) = net.route(p, &from, s.location, &to) else {
            continue;
        };
        let key = |x: (f64, f64)| if metric == Metric::Time { x.0 } else { x.1 };
        if best.is_none_or(|b| key((r.time_s, r.metres)) < key((b.1, b.2))) {
            best = Some((k, r.time_s, r.metres));
        }
    }
    best
}

#[test]
fn network_coverage_equals_the_routes_and_differs_from_straight_lines() {
    let (ds, nets) = sample();
    let cut = Cutoff::Minutes {
        minutes: 4.0,
        mode: TravelMode::Ebike,
        speed_kmh: None,
    };
    let costs = NetworkCosts::of(&nets, By::Ebike, &cut).unwrap().unwrap();
    assert_eq!((costs.metric, costs.cutoff), (Metric::Time, 240.0));
    let a =
        workflow::analyse_on(&ds, &params(cut), StationFilter::default(), Some(&costs)).unwrap();
    assert_eq!(a.distance, By::Ebike.used());
    assert!(a.distance.network);
    let (mut checked, mut differs) = (0, 0);
    let straight = workflow::analyse(&ds, &params(cut), StationFilter::default()).unwrap();
    for (i, h) in ds.hotspots.items().iter().enumerate() {
        let got = a.near[i];
        let want = oracle(&nets.ebike, &ds, h.location, Metric::Time);
        // the CH rounds the partial edges to whole milliseconds: skip the knife edge
        if want.is_some_and(|w| (w.1 - 240.0).abs() < 0.01) {
            continue;
        }
        let covered = want.is_some_and(|w| w.1 <= 240.0);
        assert_eq!(got.covered, covered, "hotspot {} {want:?} {got:?}", h.id);
        if covered {
            let (k, _, m) = want.unwrap();
            let s = got.station.unwrap();
            if s != k {
                // a tie in time, to the millisecond
                let other = oracle_to(&nets.ebike, h.location, &ds.stations.items()[s]);
                assert!((other - want.unwrap().1).abs() < 0.01, "{}", h.id);
            } else {
                assert!(
                    (got.distance_m.unwrap() - m).abs() < 1.0,
                    "{} {m} {got:?}",
                    h.id
                );
            }
        }
        differs += usize::from(straight.near[i].covered != got.covered);
        checked += 1;
    }
    assert!(checked > 700, "{checked}");
    // across the river: straight lines and the streets disagree for some hotspots
    assert!(differs > 10, "{differs}");
    let share = a.report.covered_share;
    assert!(share > 0.05 && share < 0.999, "{share}");
    // the gaps and the comparison run on the same network and say so
    let g = workflow::gaps_on(&ds, &params(cut), StationFilter::default(), Some(&costs)).unwrap();
    assert!(g.distance.network);
    let uncovered: f64 = g.cells.iter().map(|c| c.uncovered_demand).sum();
    let in_cells: f64 = g.cells.iter().map(|c| c.demand).sum();
    let total_uncovered = a.report.total_demand - a.report.covered_demand;
    assert!(uncovered <= total_uncovered + 1e-6 && in_cells > 0.0);
    let cands = ds.candidates.items().to_vec();
    let c = workflow::compare_on(
        &ds,
        &cands,
        &params(cut),
        StationFilter::default(),
        None,
        Some(&costs),
    )
    .unwrap();
    assert_eq!(c.candidates.len(), cands.len());
    // a candidate's newly covered demand is that of the uncovered hotspots it reaches
    for score in &c.candidates {
        let cand = cands.iter().find(|x| x.id == score.id).unwrap();
        let want: f64 = ds
            .hotspots
            .items()
            .iter()
            .enumerate()
            .filter(|(i, _)| !a.near[*i].covered)
            .filter(|(_, h)| {
                let (Ok(f), Ok(t)) = (
                    nets.ebike.snap_within(h.location, SNAP_LIMIT_M),
                    nets.ebike.snap_within(cand.location, SNAP_LIMIT_M),
                ) else {
                    return false;
                };
                nets.ebike
                    .route(h.location, &f, cand.location, &t)
                    .is_some_and(|r| r.time_s <= 240.0)
            })
            .map(|(_, h)| f64::from(h.workers))
            .sum();
        assert!(
            (score.newly_covered_demand - want).abs() <= 1e-6,
            "{}: {} vs {want}",
            score.id,
            score.newly_covered_demand
        );
    }
}

fn oracle_to(net: &Network, p: LonLat, s: &Station) -> f64 {
    let (f, t) = (net.snap(p).unwrap(), net.snap(s.location).unwrap());
    net.route(p, &f, s.location, &t).unwrap().time_s
}

#[test]
fn network_metres_cutoff_on_foot() {
    let (ds, nets) = sample();
    let cut = Cutoff::Metres { metres: 600.0 };
    let costs = NetworkCosts::of(&nets, By::Walk, &cut).unwrap().unwrap();
    assert_eq!(costs.metric, Metric::Metres);
    let a =
        workflow::analyse_on(&ds, &params(cut), StationFilter::default(), Some(&costs)).unwrap();
    for (i, h) in ds.hotspots.items().iter().enumerate().step_by(3) {
        let want = oracle(&nets.walk, &ds, h.location, Metric::Metres);
        if want.is_some_and(|w| (w.2 - 600.0).abs() < 0.01) {
            continue;
        }
        assert_eq!(
            a.near[i].covered,
            want.is_some_and(|w| w.2 <= 600.0),
            "{}",
            h.id
        );
        if a.near[i].covered {
            assert!((a.near[i].distance_m.unwrap() - want.unwrap().2).abs() < 0.01);
        }
    }
}

#[test]
fn site_selection_on_network_costs() {
    let (ds, nets) = sample();
    let cut = Cutoff::Minutes {
        minutes: 5.0,
        mode: TravelMode::Walk,
        speed_kmh: None,
    };
    let costs = NetworkCosts::of(&nets, By::Walk, &cut).unwrap().unwrap();
    let cands = ds.candidates.items().to_vec();
    let mut sp = SiteParams::new(Model::Mclp);
    sp.p = Some(2);
    let prob = workflow::town_problem_on(&ds, &cands, true, &mut sp, Some(&costs)).unwrap();
    assert_eq!(sp.radius_m, Some(300.0));
    assert!(prob.max_cost() <= 300.0 && prob.nnz() > 0);
    // each stored cost is the walking route's seconds
    let mut n = 0;
    let at = |id: &str| {
        ds.stations
            .items()
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.location)
            .or_else(|| cands.iter().find(|c| c.id == id).map(|c| c.location))
            .unwrap()
    };
    for i in 0..prob.n_demand() {
        let p = ds.hotspots.items()[i].location;
        let (sites, c) = prob.row(i);
        for (j, cost) in sites.iter().zip(c) {
            let q = at(&prob.sites()[*j as usize].id);
            let w = &nets.walk;
            let r = w
                .route(p, &w.snap(p).unwrap(), q, &w.snap(q).unwrap())
                .unwrap();
            assert!((r.time_s - cost).abs() < 0.01, "{} vs {cost}", r.time_s);
            n += 1;
        }
    }
    assert!(n > 20, "{n}");
    let sol = yizhan_plan::solve(&prob, &sp).unwrap();
    assert_eq!(sol.new_sites.len(), 2);
}
