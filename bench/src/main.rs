//! `yizhan-bench`: the in-process figures of BENCHMARKS.md, and the export of the very
//! same data and queries for the peer scripts (bench/peers.py).
//!
//! ```text
//! yizhan-bench gen  --scale country --seed 1 --out /tmp/yz/country   # = yizhan gen
//! yizhan-bench core --country /tmp/yz/country --city /tmp/yz/city --export /tmp/yz/export
//! yizhan-bench mclp --city /tmp/yz/city --export /tmp/yz/export   # only the MCLP figures
//! yizhan-bench lscp --city /tmp/yz/city --export /tmp/yz/export   # only the LSCP figures
//! yizhan-bench pings --riders 1000 --per-rider 10000 --seed 1 --data data/anhai --out /tmp/yz/pings.csv
//! yizhan-bench demand --yizhan target/release/yizhan --pings /tmp/yz/pings.csv --work /tmp/yz
//! ```
//!
//! Every figure is printed as one line: `FIGURE <name> <value> <unit> | <what bounds it>`.
//! Timings are wall-clock medians of a few repetitions, never assertions.

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::dataset::Dataset;
use yizhan_core::model::AmenitySet;
use yizhan_core::synth::{self, BulkSpec, Scale, TownInputs};
use yizhan_core::{GeoIndex, Hit, LonLat, StationFilter};
mod pings;

use yizhan_plan::{DemandPoint, ExactSolver, Model, Problem, SiteInfo, SiteParams};

fn figure(name: &str, value: f64, unit: &str, note: &str) {
    println!("FIGURE {name} {value:.4} {unit} | {note}");
    let _ = std::io::stdout().flush();
}

/// CPU time of the calling thread, seconds (Linux schedstat), if available.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// Run `f` (which does `per_call` operations) for about `budget`, and return the
/// best of 5 rounds in operations per second of wall time, and per second of this
/// thread's CPU time (which discounts time lost to other processes on a busy machine).
fn rate(per_call: usize, budget: Duration, mut f: impl FnMut()) -> (f64, f64) {
    f(); // warm-up
    let mut best = (0.0f64, 0.0f64);
    for _ in 0..5 {
        let t = Instant::now();
        let c0 = thread_cpu_s();
        let mut calls = 0usize;
        while t.elapsed() < budget / 5 {
            f();
            calls += 1;
        }
        let ops = (calls * per_call) as f64;
        let wall = ops / t.elapsed().as_secs_f64();
        let cpu = match (c0, thread_cpu_s()) {
            (Some(a), Some(b)) if b > a => ops / (b - a),
            _ => wall,
        };
        best = (best.0.max(wall), best.1.max(cpu));
    }
    best
}

/// [`rate`] of `query` run on every point of `queries` (one operation each); the
/// hit counts go into `sink`, so that no query is optimised away.
fn query_rate(
    queries: &[LonLat],
    budget: Duration,
    sink: &mut usize,
    mut query: impl FnMut(LonLat) -> usize,
) -> (f64, f64) {
    rate(queries.len(), budget, || {
        for q in queries {
            *sink += query(*q);
        }
    })
}

/// Print a rate figure: the wall-clock rate, and the rate per CPU-second in the note.
fn rate_figure(name: &str, (wall, cpu): (f64, f64), note: &str) {
    figure(
        name,
        wall,
        "queries/s",
        &format!(
            "{note}; {:.0} ns/query wall, {:.0}/s per CPU-second",
            1e9 / wall,
            cpu
        ),
    );
}

/// Median wall time of `reps` runs of `f`, in seconds. What `f` returns is dropped
/// after the clock stops (as criterion's `iter_with_large_drop`): freeing a result is
/// its user's business, not part of computing it.
fn median_s<R>(reps: usize, mut f: impl FnMut() -> R) -> f64 {
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            let r = black_box(f());
            let s = t.elapsed().as_secs_f64();
            drop(r);
            s
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Resident set size of this process, bytes.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Little-endian f64 records, for numpy's `fromfile`.
fn write_f64(path: &Path, rows: impl Iterator<Item = Vec<f64>>) -> Result<()> {
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| path.display().to_string())?,
    );
    for r in rows {
        for x in r {
            w.write_all(&x.to_le_bytes())?;
        }
    }
    w.flush()?;
    Ok(())
}

fn gen(scale: &str, seed: u64, out: &Path) -> Result<()> {
    let scale = match scale {
        "city" => Scale::City,
        "country" => Scale::Country,
        s => bail!("scale {s:?}: expected city or country"),
    };
    let inputs = TownInputs::bundled()?;
    let spec = BulkSpec::of(scale, &inputs).context("no bulk spec")?;
    let t = Instant::now();
    let sum = synth::write_bulk(&spec, seed, out, &|_, _| {})?;
    eprintln!(
        "generated {} {:?} in {:.1} s",
        scale.as_str(),
        sum.counts,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Queries: positions of hotspots (where workers ask from), sampled with a seed.
fn sample(points: &[LonLat], n: usize, seed: u64) -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| points[rng.random_range(0..points.len())])
        .collect()
}

fn core(country: &Path, city: &Path, export: &Path, quick: bool) -> Result<()> {
    std::fs::create_dir_all(export)?;
    let budget = Duration::from_secs(if quick { 1 } else { 4 });
    let threads = rayon::current_num_threads();

    // ---- Load of the country dataset.
    let rss0 = rss_bytes();
    let t = Instant::now();
    let ds = Dataset::load_dir(country).with_context(|| country.display().to_string())?;
    let load_s = t.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    let n_st = ds.stations.len();
    let n_hs = ds.hotspots.len();
    let file = dir_bytes(country);
    figure(
        "load_country",
        load_s,
        "s",
        &format!(
            "Dataset::load_dir: {n_st} stations, {n_hs} hotspots, {} MB of GeoJSON",
            file / 1_000_000
        ),
    );
    figure(
        "load_country_memory",
        (rss1.saturating_sub(rss0)) as f64 / n_hs.max(1) as f64,
        "B/hotspot",
        &format!(
            "RSS growth {} MB; file {:.0} B/hotspot; of which index {:.0} B/hotspot",
            (rss1.saturating_sub(rss0)) / 1_000_000,
            file as f64 / n_hs.max(1) as f64,
            ds.hotspots.index_bytes() as f64 / n_hs.max(1) as f64
        ),
    );

    let stations: Vec<_> = ds.stations.items().to_vec();
    let hotspot_at: Vec<LonLat> = ds.hotspots.items().iter().map(|h| h.location).collect();
    let queries = sample(&hotspot_at, 100_000, 7);
    write_f64(
        &export.join("stations.f64"),
        stations
            .iter()
            .map(|s| vec![s.location.lon, s.location.lat]),
    )?;
    write_f64(
        &export.join("queries.f64"),
        queries.iter().map(|q| vec![q.lon, q.lat]),
    )?;
    write_f64(
        &export.join("hotspots.f64"),
        hotspot_at.iter().map(|q| vec![q.lon, q.lat]),
    )?;

    // ---- Bulk load of the station index.
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let v = stations.clone();
            let t = Instant::now();
            let idx = GeoIndex::new(v);
            let el = t.elapsed().as_secs_f64();
            drop(black_box(idx));
            el
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    figure(
        "bulk_load_stations",
        runs[2] * 1e3,
        "ms",
        &format!("GeoIndex::new over {n_st} stations (median of 5; input clone and drop excluded)"),
    );

    // ---- k nearest, one thread.
    let idx = &ds.stations;
    // Our answers to the first 1,000 queries, for the peers' cross-check.
    write_f64(
        &export.join("knn5_first1000.f64"),
        queries[..1000].iter().map(|q| {
            let mut v: Vec<f64> = idx
                .nearest(*q, 5, None, |_| true)
                .iter()
                .map(|h| h.index as f64)
                .collect();
            v.resize(5, -1.0);
            v
        }),
    )?;
    let mut sink = 0usize;
    let knn5 = query_rate(&queries, budget, &mut sink, |q| {
        idx.nearest(q, 5, None, |_| true).len()
    });
    rate_figure(
        "knn5",
        knn5,
        &format!("exact k=5 nearest, 1 thread, {n_st} stations"),
    );
    let knn1 = query_rate(&queries, budget, &mut sink, |q| {
        idx.nearest(q, 1, None, |_| true).len()
    });
    rate_figure("knn1", knn1, "exact nearest (k=1), 1 thread");
    let filter = StationFilter {
        amenities: AmenitySet::parse_list("microwave,charging").unwrap_or_default(),
        open_at: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).and_then(|d| d.and_hms_opt(12, 30, 0)),
        ..Default::default()
    };
    let knn5f = query_rate(&queries, budget, &mut sink, |q| {
        idx.nearest(q, 5, None, |s| filter.accepts(s)).len()
    });
    let share = stations.iter().filter(|s| filter.accepts(s)).count() as f64 / n_st as f64;
    rate_figure(
        "knn5_filtered",
        knn5f,
        &format!(
            "k=5 with amenity + open-at-12:30 filter ({:.0}% of stations pass)",
            share * 100.0
        ),
    );
    let mut found = 0usize;
    for q in &queries {
        found += idx.within_radius(*q, 1000.0, |_| true).len();
    }
    let rad = query_rate(&queries, budget, &mut sink, |q| {
        idx.within_radius(q, 1000.0, |_| true).len()
    });
    rate_figure(
        "radius_1km",
        rad,
        &format!(
            "within 1 km, unsorted, {:.1} hits/query",
            found as f64 / queries.len() as f64
        ),
    );
    let rad_sorted = query_rate(&queries, budget, &mut sink, |q| {
        let mut hits = idx.within_radius(q, 1000.0, |_| true);
        Hit::nearest_first(&mut hits);
        hits.len()
    });
    rate_figure(
        "radius_1km_sorted",
        rad_sorted,
        "within 1 km, nearest first",
    );

    // ---- Coverage: nearest station of every hotspot, all cores.
    let keep = |_: &yizhan_core::Station| true;
    let mut covered = 0usize;
    let cov = median_s(3, || {
        let near = yizhan_plan::coverage::nearest_stations(idx, &hotspot_at, 500.0, false, &keep);
        covered = near.iter().filter(|n| n.covered).count();
        near
    });
    let cov_full = median_s(3, || {
        yizhan_plan::coverage::nearest_stations(idx, &hotspot_at, 500.0, true, &keep)
    });
    figure(
        "coverage_nearest_all",
        cov_full,
        "s",
        &format!("{n_hs} hotspots: nearest station of each, at any distance, {threads} threads"),
    );
    figure(
        "coverage_500m",
        cov,
        "s",
        &format!(
            "{n_hs} hotspots vs {n_st} stations, nearest + within 500 m, {threads} threads; {:.1}% covered",
            100.0 * covered as f64 / n_hs as f64
        ),
    );
    let mut covered_z = 0usize;
    let cov_z = median_s(3, || {
        let near = idx.nearest_each(&hotspot_at, Some(500.0), |_| true);
        covered_z = near.iter().filter(|n| n.is_some()).count();
        near
    });
    figure(
        "coverage_500m_zorder",
        cov_z,
        "s",
        &format!(
            "same, with core GeoIndex::nearest_each (queries in Hilbert-curve order, {threads} threads); covered {covered_z} (= {covered})"
        ),
    );
    std::fs::write(export.join("coverage_covered.txt"), covered.to_string())?;
    drop(ds);

    // ---- MCLP: 20,000 hotspots x 1,000 candidate sites of the city, p = 10.
    mclp(city, export)?;
    lscp(city, export)?;
    black_box(sink);
    Ok(())
}

/// The site problem of hotspots (weighted by workers, ids `D0`, `D1`, …) and station
/// sites, with the pairs within `radius_m`.
fn points_problem(
    demand: &[&yizhan_core::Hotspot],
    sites: &[&yizhan_core::Station],
    radius_m: f64,
) -> Result<Problem, yizhan_plan::PlanError> {
    Problem::from_points(
        demand
            .iter()
            .enumerate()
            .map(|(i, h)| DemandPoint {
                id: format!("D{i}"),
                weight: f64::from(h.workers),
            })
            .collect(),
        &demand.iter().map(|h| h.location).collect::<Vec<_>>(),
        sites
            .iter()
            .map(|s| SiteInfo {
                id: s.id.clone(),
                capacity: None,
            })
            .collect(),
        &sites.iter().map(|s| s.location).collect::<Vec<_>>(),
        Some(radius_m),
    )
}

fn mclp(city: &Path, export: &Path) -> Result<()> {
    const RADIUS: f64 = 800.0;
    let ds = Dataset::load_dir(city).with_context(|| city.display().to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let hs = ds.hotspots.items();
    let demand: Vec<_> = (0..20_000)
        .map(|_| &hs[rng.random_range(0..hs.len())])
        .collect();
    let st = ds.stations.items();
    let mut pick: Vec<usize> = (0..st.len()).collect();
    for i in 0..pick.len() {
        let j = rng.random_range(i..pick.len());
        pick.swap(i, j);
    }
    pick.truncate(1_000);
    pick.sort_unstable();
    let sites: Vec<_> = pick.iter().map(|&i| &st[i]).collect();
    write_f64(
        &export.join("mclp_demand.f64"),
        demand
            .iter()
            .map(|h| vec![h.location.lon, h.location.lat, f64::from(h.workers)]),
    )?;
    write_f64(
        &export.join("mclp_sites.f64"),
        sites.iter().map(|s| vec![s.location.lon, s.location.lat]),
    )?;
    let build = || points_problem(&demand, &sites, RADIUS);
    let t = Instant::now();
    let prob = build()?;
    let build_s = t.elapsed().as_secs_f64();
    figure(
        "mclp_build",
        build_s,
        "s",
        &format!(
            "Problem::from_points 20000 x 1000 within {RADIUS} m: {} pairs",
            prob.nnz()
        ),
    );
    // The size of the integer program: one row per demand point covered by some
    // candidate, and per distinct coverage set (what the exact mode solves).
    let mut sets: Vec<Vec<u32>> = (0..prob.n_demand())
        .map(|i| {
            let mut c = prob.row_within(i, RADIUS).0.to_vec();
            c.sort_unstable();
            c
        })
        .filter(|c| !c.is_empty())
        .collect();
    let coverable = sets.len();
    sets.sort_unstable();
    sets.dedup();
    figure(
        "mclp_model_rows",
        sets.len() as f64,
        "rows",
        &format!(
            "distinct coverage sets (one z each in the exact model) of the {coverable} demand points any candidate covers (of {})",
            prob.n_demand()
        ),
    );
    let mut params = SiteParams::new(Model::Mclp);
    params.p = Some(10);
    params.radius_m = Some(RADIUS);
    let mut heur = None;
    let h_s = median_s(3, || {
        heur = Some(yizhan_plan::solve(&prob, &params));
    });
    let heur = heur.context("no run")??;
    params.exact = true;
    // The exact runs' time limit: 30 s unless YIZHAN_BENCH_MCLP_LIMIT_S says otherwise
    // (a longer HiGHS run for the certificate of the optimum).
    params.time_limit_s = std::env::var("YIZHAN_BENCH_MCLP_LIMIT_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30.0);
    // Exact with every method this build has: the default (yizhan's own branch and bound,
    // `mclp_exact_bnb`, which the `mclp_exact` / `mclp_end_to_end` figures report) and,
    // when built with `--features highs`, the integer program through HiGHS.
    let mut solvers = vec![ExactSolver::Microlp];
    if yizhan_plan::milp::cbc_program().is_some() {
        solvers.push(ExactSolver::Cbc);
    }
    if cfg!(feature = "highs") {
        solvers.push(ExactSolver::Highs);
    }
    // YIZHAN_BENCH_MCLP_ONLY_HIGHS=1: the HiGHS run alone.
    if std::env::var("YIZHAN_BENCH_MCLP_ONLY_HIGHS").is_ok() {
        solvers.retain(|&s| s == ExactSolver::Highs);
    }
    // For MCLP the default solver setting means the branch and bound, not microlp.
    let label = |s: ExactSolver| match s {
        ExactSolver::Microlp => "bnb",
        other => other.as_str(),
    };
    let mut runs = Vec::new();
    for &solver in &solvers {
        params.solver = solver;
        let t = Instant::now();
        let sol = yizhan_plan::solve(&prob, &params)?;
        let secs = t.elapsed().as_secs_f64();
        figure(
            &format!("mclp_exact_{}", label(solver)),
            secs,
            "s",
            &format!(
                "objective {:.0} with {} new sites, optimal {}, gap {:?}, method {}{}",
                sol.objective,
                sol.new_sites.len(),
                sol.optimal,
                sol.gap,
                sol.method,
                sol.note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        );
        runs.push((solver, secs, sol));
    }
    let (solver, e_s, exact) = runs.swap_remove(0);
    let optimum = runs
        .iter()
        .map(|r| &r.2)
        .chain([&exact])
        .find(|s| s.optimal && s.method == "exact")
        .map(|s| s.objective);
    let vs_opt = match optimum {
        Some(o) if o > 0.0 => format!(
            "{:.3}% below the proven optimum {o:.0}",
            (o - heur.objective) / o * 100.0
        ),
        _ => "optimum not proven in this run".into(),
    };
    figure(
        "mclp_heuristic",
        h_s,
        "s",
        &format!(
            "p=10, r={RADIUS} m: objective {:.0} of {}, {vs_opt}; own bound: gap {:?}, optimal {}",
            heur.objective, heur.total_demand, heur.gap, heur.optimal
        ),
    );
    figure(
        "mclp_exact",
        e_s,
        "s",
        &format!(
            "method {}: objective {:.0}, optimal {}, gap {:?}",
            label(solver),
            exact.objective,
            exact.optimal,
            exact.gap
        ),
    );
    figure(
        "mclp_end_to_end",
        build_s + e_s,
        "s",
        &format!(
            "matrix build + exact solve with {} (what spopt's figure covers)",
            label(solver)
        ),
    );
    std::fs::write(
        export.join("mclp.txt"),
        format!("{RADIUS} 10 {} {}\n", exact.objective, heur.objective),
    )?;
    Ok(())
}

/// LSCP exact on a city's central district: the 1,000 stations nearest the middle of
/// the stations as candidate sites, 5,000 hotspots drawn at random among those some
/// candidate covers within 500 m as demand. Solved exactly with every solver at
/// hand (microlp; CBC when the `cbc` program is installed), exported for spopt's LSCP.
fn lscp(city: &Path, export: &Path) -> Result<()> {
    const RADIUS: f64 = 500.0;
    const LIMIT_S: f64 = 120.0;
    let ds = Dataset::load_dir(city).with_context(|| city.display().to_string())?;
    let st = ds.stations.items();
    let mut lons: Vec<f64> = st.iter().map(|s| s.location.lon).collect();
    let mut lats: Vec<f64> = st.iter().map(|s| s.location.lat).collect();
    lons.sort_by(f64::total_cmp);
    lats.sort_by(f64::total_cmp);
    let mid = LonLat::new(lons[lons.len() / 2], lats[lats.len() / 2])?;
    let by_distance = |l: &LonLat| mid.distance_m(*l);
    let mut sites: Vec<_> = st.iter().collect();
    sites.sort_by(|a, b| by_distance(&a.location).total_cmp(&by_distance(&b.location)));
    sites.truncate(1_000);
    let site_index = GeoIndex::new(sites.iter().map(|s| (*s).clone()).collect::<Vec<_>>());
    let mut demand: Vec<_> = ds
        .hotspots
        .items()
        .iter()
        .filter(|h| {
            !site_index
                .within_radius(h.location, RADIUS, |_| true)
                .is_empty()
        })
        .collect();
    // 5,000 of them, drawn at random (seeded) over the whole district.
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    for i in 0..demand.len().min(5_000) {
        let j = rng.random_range(i..demand.len());
        demand.swap(i, j);
    }
    demand.truncate(5_000);
    write_f64(
        &export.join("lscp_demand.f64"),
        demand
            .iter()
            .map(|h| vec![h.location.lon, h.location.lat, f64::from(h.workers)]),
    )?;
    write_f64(
        &export.join("lscp_sites.f64"),
        sites.iter().map(|s| vec![s.location.lon, s.location.lat]),
    )?;
    let prob = points_problem(&demand, &sites, RADIUS)?;
    let mut params = SiteParams::new(Model::Lscp);
    params.radius_m = Some(RADIUS);
    params.exact = true;
    params.time_limit_s = LIMIT_S;
    let mut solvers = vec![ExactSolver::Microlp];
    if yizhan_plan::milp::cbc_program().is_some() {
        solvers.push(ExactSolver::Cbc);
    } else {
        println!(
            "SKIP lscp_exact_cbc: the cbc program is not installed (apt-get install coinor-cbc)"
        );
    }
    let mut best = None;
    for solver in solvers {
        params.solver = solver;
        let t = Instant::now();
        let sol = yizhan_plan::solve(&prob, &params)?;
        let secs = t.elapsed().as_secs_f64();
        figure(
            &format!("lscp_exact_{}", solver.as_str()),
            secs,
            "s",
            &format!(
                "LSCP {} x {} within {RADIUS} m (limit {LIMIT_S} s): {} sites, optimal {}, gap {:?}, method {}{}",
                prob.n_demand(),
                prob.n_sites(),
                sol.new_sites.len(),
                sol.optimal,
                sol.gap,
                sol.method,
                sol.note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        );
        if sol.optimal {
            best.get_or_insert(sol.new_sites.len());
        }
    }
    std::fs::write(
        export.join("lscp.txt"),
        format!("{RADIUS} {}\n", best.map_or(-1, |b| b as i64)),
    )?;
    Ok(())
}

fn knn_only(n: usize, quick: bool) {
    // Clustered synthetic stations as in crates/core/benches/index.rs, for profiling.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let centres: Vec<(f64, f64)> = (0..300)
        .map(|_| (rng.random_range(105.0..122.0), rng.random_range(20.0..42.0)))
        .collect();
    let pts: Vec<LonLat> = (0..n)
        .map(|_| {
            let (x, y) = centres[rng.random_range(0..centres.len())];
            LonLat {
                lon: x + rng.random_range(-0.3..0.3),
                lat: y + rng.random_range(-0.3..0.3),
            }
        })
        .collect();
    let stations: Vec<yizhan_core::Candidate> = pts
        .iter()
        .enumerate()
        .map(|(i, p)| yizhan_core::Candidate {
            id: format!("S{i:06}"),
            name: None,
            location: *p,
            capacity: None,
        })
        .collect();
    let idx = GeoIndex::new(stations);
    let mut qs = sample(&pts, 100_000, 3);
    if std::env::var_os("YZ_SORTED").is_some() {
        qs.sort_by(|a, b| {
            (a.lon.floor(), a.lat)
                .partial_cmp(&(b.lon.floor(), b.lat))
                .unwrap()
        });
    }
    let calls = std::cell::Cell::new(0usize);
    for q in &qs {
        idx.nearest(*q, 5, None, |_| {
            calls.set(calls.get() + 1);
            true
        });
    }
    eprintln!(
        "keep calls per query {}",
        calls.get() as f64 / qs.len() as f64
    );
    let t = Instant::now();
    for q in &qs[..10_000] {
        black_box(idx.nearest(*q, 5, None, |_| true));
    }
    eprintln!("10k queries {:?}", t.elapsed());
    if std::env::var_os("YZ_CALLGRIND").is_some() {
        for q in &qs[..20_000] {
            black_box(idx.nearest(*q, 5, None, |_| true));
        }
        return;
    }
    let mut sink = 0;
    let r = query_rate(
        &qs,
        Duration::from_secs(if quick { 1 } else { 5 }),
        &mut sink,
        |q| idx.nearest(q, 5, None, |_| true).len(),
    );
    rate_figure("knn5_synthetic", r, "clustered synthetic stations");
    let r = query_rate(
        &qs,
        Duration::from_secs(if quick { 1 } else { 5 }),
        &mut sink,
        |q| idx.nearest(q, 1, Some(500.0), |_| true).len(),
    );
    rate_figure(
        "knn1_500m_synthetic",
        r,
        "k=1 within 500 m (the coverage query)",
    );
    black_box(sink);
}

/// Rows of a CSV file (lines less the header); reading it also brings it into the
/// page cache, so that the timed runs of yizhan and its peer both read from memory.
fn csv_rows(path: &Path) -> Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok(lines.saturating_sub(1))
}

/// `yizhan demand` on a pings file as a child process: wall time and peak memory
/// (max RSS, from GNU time's `%M`, which reads the child's rusage).
fn demand(yizhan: &Path, pings: &Path, work: &Path, label: &str) -> Result<()> {
    std::fs::create_dir_all(work)?;
    let rows = csv_rows(pings)?;
    let out = work.join(format!("demand-{label}.geojson"));
    let timing = work.join(format!("demand-{label}.time"));
    let gnu_time = Path::new("/usr/bin/time");
    let mut cmd = if gnu_time.exists() {
        let mut c = std::process::Command::new(gnu_time);
        c.arg("-f").arg("%e %M").arg("-o").arg(&timing).arg(yizhan);
        c
    } else {
        println!("SKIP demand_{label}_rss: /usr/bin/time missing (apt-get install time)");
        std::process::Command::new(yizhan)
    };
    cmd.arg("demand")
        .arg("--pings")
        .arg(pings)
        .arg("--out")
        .arg(&out);
    let t = Instant::now();
    let res = cmd.output().context("running yizhan demand")?;
    let wall = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&res.stderr);
    if !res.status.success() {
        bail!("yizhan demand failed: {}", stderr.trim());
    }
    // What it found: the counts of its JSON summary (standard output with --out), on one line.
    let stdout = String::from_utf8_lossy(&res.stdout);
    let summary: String = stdout
        .split_whitespace()
        .collect::<String>()
        .replace(&format!(",\"out\":\"{}\"", out.display()), "");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    figure(
        &format!("demand_{label}"),
        wall,
        "s",
        &format!(
            "yizhan demand (release, child process) on {rows} pings ({} MB CSV), {threads} cores; {summary}",
            std::fs::metadata(pings).map_or(0, |m| m.len()) / 1_000_000
        ),
    );
    if let Ok(text) = std::fs::read_to_string(&timing) {
        let kb: Option<f64> = text.split_whitespace().nth(1).and_then(|v| v.parse().ok());
        if let Some(kb) = kb {
            figure(
                &format!("demand_{label}_rss"),
                kb / 1024.0,
                "MB",
                &format!(
                    "peak memory (max RSS, GNU time %M) of the run above: {:.0} B/ping",
                    kb * 1024.0 / rows.max(1) as f64
                ),
            );
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| -> Option<String> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    match args.first().map(String::as_str) {
        Some("gen") => gen(
            &get("--scale").unwrap_or_else(|| "country".into()),
            get("--seed").map_or(Ok(1), |s| s.parse())?,
            &PathBuf::from(get("--out").context("--out DIR")?),
        ),
        Some("core") => core(
            &PathBuf::from(get("--country").context("--country DIR")?),
            &PathBuf::from(get("--city").context("--city DIR")?),
            &PathBuf::from(get("--export").context("--export DIR")?),
            quick,
        ),
        Some("mclp") => {
            // Only the MCLP figures (and their export for spopt).
            let export = PathBuf::from(get("--export").context("--export DIR")?);
            std::fs::create_dir_all(&export)?;
            mclp(
                &PathBuf::from(get("--city").context("--city DIR")?),
                &export,
            )
        }
        Some("lscp") => {
            // Only the LSCP figures (and their export for spopt).
            let export = PathBuf::from(get("--export").context("--export DIR")?);
            std::fs::create_dir_all(&export)?;
            lscp(
                &PathBuf::from(get("--city").context("--city DIR")?),
                &export,
            )
        }
        Some("load") => {
            // For profiling the dataset loader: load a folder, print the time.
            let dir = PathBuf::from(get("--data").context("--data DIR")?);
            let t = Instant::now();
            let ds = Dataset::load_dir(&dir)?;
            figure(
                "load",
                t.elapsed().as_secs_f64(),
                "s",
                &format!("{} hotspots", ds.hotspots.len()),
            );
            Ok(())
        }
        Some("knn") => {
            knn_only(get("--n").map_or(Ok(150_000), |s| s.parse())?, quick);
            Ok(())
        }
        Some("pings") => {
            let riders: usize = get("--riders").map_or(Ok(1_000), |s| s.parse())?;
            let per_rider: i64 =
                get("--per-rider").map_or(Ok(pings::PINGS_PER_RIDER), |s| s.parse())?;
            let seed: u64 = get("--seed").map_or(Ok(1), |s| s.parse())?;
            let data = PathBuf::from(get("--data").unwrap_or_else(|| "data/anhai".into()));
            let out = PathBuf::from(get("--out").context("--out FILE")?);
            let ds = Dataset::load_dir(&data).with_context(|| data.display().to_string())?;
            let t = Instant::now();
            let mut w = std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(&out).with_context(|| out.display().to_string())?,
            );
            let rows = pings::write_pings(ds.hotspots.items(), riders, per_rider, seed, &mut w)?;
            eprintln!(
                "wrote {rows} pings of {riders} riders to {} in {:.1} s",
                out.display(),
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some("demand") => demand(
            &PathBuf::from(get("--yizhan").context("--yizhan BIN")?),
            &PathBuf::from(get("--pings").context("--pings FILE")?),
            &PathBuf::from(get("--work").context("--work DIR")?),
            &get("--label").unwrap_or_else(|| "pings".into()),
        ),
        _ => {
            bail!("usage: yizhan-bench gen|core|mclp|lscp|load|knn|pings|demand (see bench/run.sh)")
        }
    }
}
