//! Timing harness for the coverage join, as `yizhan-bench core` times it:
//! `cargo run --release -p yizhan-plan --example cover -- [--core] STATIONS.f64 POINTS.f64 [RUNS] [CUTOFF_M]`.
//!
//! By default the plan crate's `coverage::nearest_stations` (nearest open station of every
//! point, then the count of points within the cutoff); with `--core` the core's
//! `GeoIndex::nearest_each` alone. The inputs are raw little-endian f64 (lon, lat) rows,
//! as `yizhan-bench core` exports them (`stations.f64`, `hotspots.f64`): no GeoJSON parse
//! before the join, so that profilers see the join alone. Prints wall time per run and a
//! checksum of the answers (the same in both modes).

use std::time::Instant;

use yizhan_core::{Candidate, GeoIndex, LonLat};
use yizhan_plan::coverage::nearest_stations;

#[path = "../tests/common/mod.rs"]
mod common;

fn read(path: &str) -> Vec<LonLat> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes
        .chunks_exact(16)
        .filter_map(|c| {
            let f = |b: &[u8]| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
            LonLat::new(f(&c[..8]), f(&c[8..])).ok()
        })
        .collect()
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let core = args.first().is_some_and(|a| a == "--core");
    if core {
        args.remove(0);
    }
    let (Some(st), Some(pts)) = (args.first(), args.get(1)) else {
        eprintln!("usage: cover [--core] STATIONS.f64 POINTS.f64 [RUNS] [CUTOFF_M]");
        std::process::exit(2);
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let cutoff: f64 = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(500.0);
    let sites: Vec<Candidate> = read(st)
        .into_iter()
        .enumerate()
        .map(|(i, at)| common::point(format!("S{i:07}"), at))
        .collect();
    let index = GeoIndex::new(sites);
    let points = read(pts);
    let keep = |_: &Candidate| true;
    for _ in 0..runs {
        let t = Instant::now();
        let (wall, covered, sum) = if core {
            let near = index.nearest_each(&points, Some(cutoff), keep);
            let covered = near.iter().flatten().count();
            let wall = t.elapsed().as_secs_f64();
            let sum: f64 = near.iter().flatten().map(|&(i, d)| i as f64 + d).sum();
            (wall, covered, sum)
        } else {
            let near = nearest_stations(&index, &points, cutoff, false, &keep);
            let covered = near.iter().filter(|n| n.covered).count();
            let wall = t.elapsed().as_secs_f64();
            let sum: f64 = near
                .iter()
                .filter_map(|n| Some(n.station? as f64 + n.distance_m?))
                .sum();
            (wall, covered, sum)
        };
        println!(
            "{}: {} points, {} stations within {cutoff} m in {wall:.3} s; {covered} covered, checksum {sum:.6}",
            if core { "nearest_each" } else { "nearest_stations" },
            points.len(),
            index.len()
        );
    }
}
