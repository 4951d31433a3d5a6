#![allow(missing_docs)]
//! Benchmarks of coverage and site selection at town, city and country scale.
//!
//! Data are generated here from a seed with the shapes of `yizhan gen` (clustered
//! hotspots around town centres, stations and candidates near them), so that the benches
//! do not depend on files. Run: `cargo bench -p yizhan-plan` (add `-- --quick` for a
//! short run). Besides criterion's timings, a figures table is printed first: time of a
//! single run, covered demand, and the proven gap of the MCLP heuristic (its submodular
//! upper bound, so "gap ≤ 0.5%" proves the answer within 0.5% of the exact optimum).

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::geodesy::destination;
use yizhan_core::{Candidate, GeoIndex, LonLat};
use yizhan_plan::coverage::{nearest_stations, Nearest};
use yizhan_plan::{solve, Model, Problem, SiteParams};

#[path = "../tests/common/mod.rs"]
mod common;

use common::{demand_points, point, site_infos};

/// `n` points clustered around `centres` (normal-ish spread of `spread_m`).
fn clustered(rng: &mut ChaCha8Rng, centres: &[LonLat], n: usize, spread_m: f64) -> Vec<LonLat> {
    (0..n)
        .map(|_| {
            let c = centres[rng.random_range(0..centres.len())];
            let r: f64 = (rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>()) / 3.0;
            destination(c, rng.random_range(0.0..360.0), r * 2.0 * spread_m)
        })
        .collect()
}

fn centres(rng: &mut ChaCha8Rng, k: usize, lon: (f64, f64), lat: (f64, f64)) -> Vec<LonLat> {
    (0..k)
        .map(|_| {
            LonLat::new(
                rng.random_range(lon.0..lon.1),
                rng.random_range(lat.0..lat.1),
            )
            .unwrap()
        })
        .collect()
}

/// A scale of the benches: demand points, candidates and stations around `centres`
/// town centres in a lon/lat box, spread over `spread_m`.
struct Scale {
    name: &'static str,
    demand: usize,
    candidates: usize,
    stations: usize,
    centres: usize,
    lon: (f64, f64),
    lat: (f64, f64),
    spread_m: f64,
}

/// A [`Scale`] from one row of the table below.
const fn scale(
    name: &'static str,
    (demand, candidates, stations, centres): (usize, usize, usize, usize),
    lon: (f64, f64),
    lat: (f64, f64),
    spread_m: f64,
) -> Scale {
    Scale {
        name,
        demand,
        candidates,
        stations,
        centres,
        lon,
        lat,
        spread_m,
    }
}

// One row a scale: name, (demand, candidates, stations, centres), lon, lat, spread.
#[rustfmt::skip]
const TOWN: Scale = scale("town", (2_000, 100, 18, 6), (118.44, 118.50), (24.69, 24.75), 800.0);
#[rustfmt::skip]
const CITY: Scale = scale("city", (20_000, 1_000, 2_000, 40), (118.30, 118.70), (24.60, 24.95), 2_000.0);
#[rustfmt::skip]
const COUNTRY: Scale = scale("country", (5_000_000, 0, 150_000, 2_000), (100.0, 122.0), (22.0, 41.0), 8_000.0);

struct Data {
    demand: Vec<LonLat>,
    weights: Vec<f64>,
    cands: Vec<LonLat>,
    stations: GeoIndex<Candidate>,
}

fn data(s: &Scale) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(20260701);
    let c = centres(&mut rng, s.centres, s.lon, s.lat);
    let demand = clustered(&mut rng, &c, s.demand, s.spread_m);
    let weights = (0..s.demand)
        .map(|_| rng.random_range(1..40) as f64)
        .collect();
    let cands = clustered(&mut rng, &c, s.candidates, s.spread_m);
    let st = clustered(&mut rng, &c, s.stations, s.spread_m)
        .into_iter()
        .enumerate()
        .map(|(i, at)| point(format!("S{i}"), at))
        .collect();
    Data {
        demand,
        weights,
        cands,
        stations: GeoIndex::new(st),
    }
}

fn problem(d: &Data, radius: Option<f64>) -> Problem {
    let demand = demand_points("d", &d.weights);
    let sites = site_infos("c", d.cands.iter().map(|_| None));
    Problem::from_points(demand, &d.demand, sites, &d.cands, radius).unwrap()
}

/// The coverage cutoff of the benches, metres.
const CUTOFF_M: f64 = 1000.0;

/// Each demand point's nearest station, covered within [`CUTOFF_M`].
fn coverage(d: &Data) -> Vec<Nearest> {
    nearest_stations(&d.stations, &d.demand, CUTOFF_M, false, &|_| true)
}

fn params(model: Model, p: usize, r: f64, exact: bool) -> SiteParams {
    let mut sp = SiteParams::new(model);
    sp.p = Some(p);
    sp.radius_m = Some(r);
    sp.exact = exact;
    sp
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let x = f();
    (x, t.elapsed().as_secs_f64())
}

fn figures() {
    println!(
        "\nyizhan-plan figures ({} threads)",
        rayon::current_num_threads()
    );
    println!("{:<8} {:<28} {:>10}  result", "scale", "what", "seconds");
    for s in [&TOWN, &CITY, &COUNTRY] {
        let d = data(s);
        let cutoff = CUTOFF_M;
        let (near, t) = timed(|| coverage(&d));
        let cov = near.iter().filter(|n| n.covered).count();
        println!(
            "{:<8} {:<28} {:>10.3}  {} of {} points covered within {cutoff} m by {} stations",
            s.name,
            "coverage",
            t,
            cov,
            d.demand.len(),
            d.stations.len()
        );
        if s.candidates == 0 {
            continue;
        }
        let r = 1000.0;
        let (prob, t) = timed(|| problem(&d, Some(r)));
        println!(
            "{:<8} {:<28} {:>10.3}  {} pairs within {r} m",
            s.name,
            "matrix (R-tree)",
            t,
            prob.nnz()
        );
        let p = 10;
        let (h, t) = timed(|| solve(&prob, &params(Model::Mclp, p, r, false)).unwrap());
        println!(
            "{:<8} {:<28} {:>10.3}  covered {:.1}% of demand, proven gap <= {:.3}%",
            s.name,
            format!("mclp heuristic p={p}"),
            t,
            h.covered_share * 100.0,
            h.gap.unwrap_or(f64::NAN) * 100.0
        );
        if s.demand <= 2_000 {
            let (e, t) = timed(|| solve(&prob, &params(Model::Mclp, p, r, true)).unwrap());
            println!(
                "{:<8} {:<28} {:>10.3}  optimal {} covered {} (heuristic {}, {:.3}% below)",
                s.name,
                "mclp exact (microlp)",
                t,
                e.optimal,
                e.objective,
                h.objective,
                (e.objective - h.objective) / e.objective.max(1.0) * 100.0
            );
        }
        let (l, t) = timed(|| solve(&prob, &params(Model::Lscp, 0, 1000.0, false)));
        match l {
            Ok(l) => println!(
                "{:<8} {:<28} {:>10.3}  {} sites cover every point within 1000 m",
                s.name,
                "lscp heuristic",
                t,
                l.new_sites.len()
            ),
            Err(e) => println!("{:<8} {:<28} {:>10.3}  {e}", s.name, "lscp heuristic", t),
        }
        let dense_r = if s.demand > 2_000 { Some(5000.0) } else { None };
        let prob2 = problem(&d, dense_r);
        let (pm, t) = timed(|| solve(&prob2, &params(Model::PMedian, p, 5000.0, false)).unwrap());
        println!(
            "{:<8} {:<28} {:>10.3}  mean distance {:.1} m ({} pairs)",
            s.name,
            format!("pmedian heuristic p={p}"),
            t,
            pm.mean_distance_m.unwrap_or(f64::NAN),
            prob2.nnz()
        );
        if s.demand <= 2_000 {
            let (pc, t) =
                timed(|| solve(&prob2, &params(Model::PCenter, p, 5000.0, false)).unwrap());
            println!(
                "{:<8} {:<28} {:>10.3}  worst distance {:.1} m",
                s.name,
                format!("pcenter heuristic p={p}"),
                t,
                pc.max_distance_m.unwrap_or(f64::NAN)
            );
        }
    }
    println!();
}

fn benches(c: &mut Criterion) {
    figures();
    for s in [&TOWN, &CITY] {
        let d = data(s);
        let prob = problem(&d, Some(1000.0));
        let mut g = c.benchmark_group(s.name);
        g.sample_size(10);
        g.bench_function("coverage", |b| b.iter(|| black_box(coverage(&d))));
        g.bench_function("mclp_heuristic_p10", |b| {
            b.iter(|| black_box(solve(&prob, &params(Model::Mclp, 10, 1000.0, false)).unwrap()))
        });
        g.bench_function("lscp_heuristic_1km", |b| {
            b.iter(|| black_box(solve(&prob, &params(Model::Lscp, 0, 1000.0, false)).ok()))
        });
        let prob2 = problem(&d, Some(5000.0));
        g.bench_function("pmedian_heuristic_p10", |b| {
            b.iter(|| black_box(solve(&prob2, &params(Model::PMedian, 10, 5000.0, false)).unwrap()))
        });
        g.finish();
    }
    let d = data(&COUNTRY);
    let mut g = c.benchmark_group("country");
    g.sample_size(10);
    g.bench_function("coverage_5M_x_150k", |b| b.iter(|| black_box(coverage(&d))));
    g.finish();
}

criterion_group!(plan, benches);
criterion_main!(plan);
