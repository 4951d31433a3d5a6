//! Timing harness for the dataset loader: `cargo run --release -p yizhan-core --example load -- DIR [phases]`.
//!
//! Prints wall time, CPU time (user + system, all threads) and RSS growth of
//! `Dataset::load_dir`; with `phases`, also times reading and indexing the hotspots alone.

use std::path::PathBuf;
use std::time::Instant;

use yizhan_core::crs::Crs;
use yizhan_core::{dataset, Dataset, GeoIndex};

/// (RSS bytes, CPU seconds of the process).
fn usage() -> (u64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    (rss, ticks / 100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().expect("usage: load DIR [phases]"));
    let phases = args.iter().any(|a| a == "phases");
    if args.iter().any(|a| a == "memory") {
        // Where the bytes go: RSS growth per layer, per hotspot of the dataset.
        let n = 5_000_000f64;
        let (r0, _) = usage();
        let st = GeoIndex::new(
            dataset::read_stations_file(&dir.join("stations.geojson"), Crs::Wgs84).expect("st"),
        );
        let (r1, _) = usage();
        println!(
            "stations + index: {:.1} B/hotspot",
            (r1 as f64 - r0 as f64) / n
        );
        let cells = dataset::read_cells_file(&dir.join("cells.geojson"), Crs::Wgs84).expect("c");
        let cells = GeoIndex::new(cells);
        let (r2, _) = usage();
        println!(
            "cells + index: {:.1} B/hotspot",
            (r2 as f64 - r1 as f64) / n
        );
        let hs = dataset::read_hotspots_file(&dir.join("hotspots.geojson"), Crs::Wgs84).expect("h");
        let (r3, _) = usage();
        println!(
            "hotspots: {:.1} B/hotspot (struct {} B, {} hotspots, capacity {})",
            (r3 as f64 - r2 as f64) / hs.len() as f64,
            std::mem::size_of::<yizhan_core::Hotspot>(),
            hs.len(),
            hs.capacity()
        );
        let hs = GeoIndex::new_lazy(hs);
        let t = Instant::now();
        let probe = yizhan_core::LonLat::new(118.47, 24.72).expect("point");
        let hit = hs.nearest(probe, 1, None, |_| true).len();
        let (r4, _) = usage();
        println!(
            "hotspot k-d tree on first query: {:.2} s, {:.1} B/hotspot ({hit} hit)",
            t.elapsed().as_secs_f64(),
            (r4 as f64 - r3 as f64) / hs.len() as f64
        );
        drop((st, cells));
        return;
    }
    if args.iter().any(|a| a == "hotspots") {
        // The hotspots file alone, read once (for instruction counts under callgrind).
        let t = Instant::now();
        let n = dataset::read_hotspots_file(&dir.join("hotspots.geojson"), Crs::Wgs84)
            .expect("hotspots")
            .len();
        println!(
            "read_hotspots_file: {n} hotspots in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        return;
    }
    if args.iter().any(|a| a == "parse") {
        // For profiling the parse alone: the text is read first, then parsed 3 times.
        let text = dataset::read_text(&dir.join("hotspots.geojson")).expect("read");
        for _ in 0..3 {
            let (_, c0) = usage();
            let t = Instant::now();
            let n = yizhan_core::io::read_hotspots_str(&text, Crs::Wgs84)
                .expect("hotspots")
                .len();
            let (_, c1) = usage();
            println!(
                "read_hotspots_str: {n} hotspots in {:.2} s wall, {:.2} s CPU",
                t.elapsed().as_secs_f64(),
                c1 - c0
            );
        }
        return;
    }
    if phases {
        let path = dir.join("hotspots.geojson");
        let (r0, c0) = usage();
        let t = Instant::now();
        let hs = dataset::read_hotspots_file(&path, Crs::Wgs84).expect("hotspots");
        let (r1, c1) = usage();
        let n = hs.len();
        println!(
            "read_hotspots_file: {n} hotspots in {:.2} s wall, {:.2} s CPU, RSS +{:.0} B/hotspot",
            t.elapsed().as_secs_f64(),
            c1 - c0,
            (r1 as f64 - r0 as f64) / n as f64
        );
        let t = Instant::now();
        let idx = GeoIndex::new(hs);
        let (r2, c2) = usage();
        println!(
            "GeoIndex::new: {:.2} s wall, {:.2} s CPU, RSS +{:.0} B/hotspot (index_bytes {:.0} B/hotspot)",
            t.elapsed().as_secs_f64(),
            c2 - c1,
            (r2 as f64 - r1 as f64) / n as f64,
            idx.index_bytes() as f64 / n as f64
        );
        drop(idx);
        return;
    }
    let (r0, c0) = usage();
    let t = Instant::now();
    let ds = Dataset::load_dir(&dir).expect("load");
    let wall = t.elapsed().as_secs_f64();
    let (r1, c1) = usage();
    let n = ds.hotspots.len().max(1);
    println!(
        "load_dir: {} stations, {} hotspots in {wall:.2} s wall, {:.2} s CPU; RSS +{} MB = {:.0} B/hotspot",
        ds.stations.len(),
        ds.hotspots.len(),
        c1 - c0,
        (r1.saturating_sub(r0)) / 1_000_000,
        (r1 as f64 - r0 as f64) / n as f64
    );
}
