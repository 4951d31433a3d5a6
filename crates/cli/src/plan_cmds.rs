//! Planning commands: coverage, gaps, assign, compare, site.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use yizhan_core::io;
use yizhan_core::{Candidate, Dataset, Station, StationFilter, StationKind};
use yizhan_plan::coverage::{
    self, CoverageParams, CoverageReport, Cutoff, Decay, GapWeights, Nearest, TravelMode,
};
use yizhan_plan::{
    assign, select, ExactSolver, MatrixCsv, Model, Problem, SiteInfo, SiteParams, TownSites,
    WeightsCsv,
};

use crate::common::{emit, Ctx, Table};
use crate::query::parse_local_time;

/// Planning subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Share of outdoor-worker demand within a cutoff of an open station; station load.
    Coverage(CoverageArgs),
    /// Gap score of every grid cell, ranked; grid units with no station within the cutoff.
    Gaps(GapsArgs),
    /// Capacitated assignment of demand to stations (min-cost flow).
    Assign(AssignArgs),
    /// Rank candidate sites by what they would add.
    Compare(CompareArgs),
    /// Choose sites: MCLP, LSCP, p-median or p-center, heuristic or exact.
    Site(SiteArgs),
}

/// The coverage cutoff and how to count demand.
#[derive(Debug, Args)]
pub struct CutoffArgs {
    /// Cutoff distance in metres.
    #[arg(long, default_value_t = 1000.0, allow_hyphen_values = true)]
    cutoff_m: f64,
    /// Cutoff as travel time in minutes instead (with --mode / --speed-kmh).
    #[arg(long, allow_hyphen_values = true)]
    minutes: Option<f64>,
    /// Travel mode for --minutes: walk (4.5 km/h) or ebike (15 km/h).
    #[arg(long, default_value = "walk")]
    mode: TravelMode,
    /// Speed in km/h overriding the mode's.
    #[arg(long)]
    speed_kmh: Option<f64>,
    /// Also report a distance-decay accessibility: linear, power or exponential.
    #[arg(long)]
    decay: Option<String>,
    /// Decay parameter β (power, exponential).
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// Share of workers wanting a seat at the same time (load = workers × share).
    #[arg(long, default_value_t = coverage::DEFAULT_PEAK_SHARE)]
    peak_share: f64,
    /// Count only stations open at this local time, YYYY-MM-DDTHH:MM.
    #[arg(long)]
    open_at: Option<String>,
    /// Count only stations of this kind [default: rest_station, the kind that serves
    /// outdoor workers].
    #[arg(long)]
    kind: Option<StationKind>,
}

impl CutoffArgs {
    fn params(&self) -> Result<CoverageParams> {
        let cutoff = match self.minutes {
            Some(minutes) => Cutoff::Minutes {
                minutes,
                mode: self.mode,
                speed_kmh: self.speed_kmh,
            },
            None => Cutoff::Metres {
                metres: self.cutoff_m,
            },
        };
        cutoff.metres()?;
        let decay = match self.decay.as_deref() {
            None => None,
            Some("linear") => Some(Decay::Linear),
            Some("power") => Some(Decay::Power { beta: self.beta }),
            Some("exponential") | Some("exp") => Some(Decay::Exponential { beta: self.beta }),
            Some(o) => bail!("--decay {o:?}: expected linear, power or exponential"),
        };
        Ok(CoverageParams {
            cutoff,
            decay,
            peak_share: self.peak_share,
        })
    }

    fn filter(&self) -> Result<StationFilter> {
        Ok(coverage::worker_filter(StationFilter {
            kind: self.kind,
            open_at: self.open_at.as_deref().map(parse_local_time).transpose()?,
            ..StationFilter::default()
        }))
    }
}

/// Arguments of `yizhan coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    cutoff: CutoffArgs,
}

/// Arguments of `yizhan gaps`.
#[derive(Debug, Args)]
pub struct GapsArgs {
    #[command(flatten)]
    cutoff: CutoffArgs,
    /// Write every cell with its gap fields as GeoJSON to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Show only the worst N cells (table / JSON).
    #[arg(long, default_value_t = 20)]
    top: usize,
}

/// Arguments of `yizhan assign`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Farthest a worker is sent, metres.
    #[arg(long, default_value_t = 1000.0, allow_hyphen_values = true)]
    cutoff_m: f64,
    /// Share of workers wanting a seat at the same time (demand = round(workers × share)).
    #[arg(long, default_value_t = coverage::DEFAULT_PEAK_SHARE)]
    peak_share: f64,
    #[command(flatten)]
    matrix: MatrixArgs,
    /// With --matrix: CSV of site capacities (columns id,capacity).
    #[arg(long)]
    capacities: Option<PathBuf>,
}

/// Arguments of `yizhan compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    cutoff: CutoffArgs,
    /// Candidate sites (GeoJSON points); default: the dataset's candidates.
    #[arg(long, conflicts_with = "cells")]
    candidates: Option<PathBuf>,
    /// Use every grid-cell centroid as a candidate.
    #[arg(long)]
    cells: bool,
    /// Show only the best N.
    #[arg(long, default_value_t = 20)]
    top: usize,
}

/// A long-format cost matrix.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Long-format cost matrix CSV (one line per demand–site pair).
    #[arg(long)]
    matrix: Option<PathBuf>,
    /// Demand id column.
    #[arg(long, default_value = "demand")]
    demand_col: String,
    /// Site id column.
    #[arg(long, default_value = "site")]
    site_col: String,
    /// Cost column.
    #[arg(long, default_value = "cost")]
    cost_col: String,
    /// Demand weight column in the matrix (default: weight 1, or --weights).
    #[arg(long)]
    weight_col: Option<String>,
    /// Second CSV with demand weights (see --weights-id-col, --weights-value-col).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Id column of --weights.
    #[arg(long, default_value = "id")]
    weights_id_col: String,
    /// Weight column of --weights.
    #[arg(long, default_value = "weight")]
    weights_value_col: String,
}

impl MatrixArgs {
    fn problem(&self) -> Result<Option<Problem>> {
        let Some(path) = &self.matrix else {
            return Ok(None);
        };
        let spec = MatrixCsv {
            path: path.clone(),
            demand_col: self.demand_col.clone(),
            site_col: self.site_col.clone(),
            cost_col: self.cost_col.clone(),
            weight_col: self.weight_col.clone(),
            weights: self.weights.as_ref().map(|p| WeightsCsv {
                path: p.clone(),
                id_col: self.weights_id_col.clone(),
                weight_col: self.weights_value_col.clone(),
            }),
            require_complete: true,
        };
        Ok(Some(Problem::from_csv(&spec)?))
    }
}

/// Arguments of `yizhan site`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// mclp, lscp, pmedian or pcenter.
    #[arg(long)]
    model: Model,
    /// Number of new sites.
    #[arg(short, long)]
    p: Option<usize>,
    /// Service radius, metres (cost units with --matrix).
    #[arg(long, allow_hyphen_values = true)]
    radius_m: Option<f64>,
    /// Solve the integer program (proves optimality or reports the gap).
    #[arg(long)]
    exact: bool,
    /// Solver for --exact: microlp (for MCLP, yizhan's own branch and bound), or highs
    /// (the integer program; if built with it).
    #[arg(long, default_value = "microlp")]
    solver: String,
    /// Time limit of the exact solver, seconds.
    #[arg(long, default_value_t = 60.0)]
    time_limit: f64,
    /// Keep the existing stations open (geometry mode): they count as fixed sites.
    #[arg(long)]
    keep_existing: bool,
    /// Site ids kept open, comma-separated.
    #[arg(long, value_delimiter = ',')]
    fixed: Vec<String>,
    /// Candidate ids never chosen, comma-separated.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Candidate sites GeoJSON (geometry mode); default: the dataset's candidates.
    #[arg(long, conflicts_with = "cells")]
    candidates: Option<PathBuf>,
    /// Use every grid-cell centroid as a candidate (geometry mode).
    #[arg(long)]
    cells: bool,
    #[command(flatten)]
    matrix: MatrixArgs,
}

/// Run a planning subcommand.
pub fn run(ctx: &Ctx, c: PlanCommand) -> Result<ExitCode> {
    match c {
        PlanCommand::Coverage(a) => run_coverage(ctx, a),
        PlanCommand::Gaps(a) => run_gaps(ctx, a),
        PlanCommand::Assign(a) => run_assign(ctx, a),
        PlanCommand::Compare(a) => run_compare(ctx, a),
        PlanCommand::Site(a) => run_site(ctx, a),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

fn analyse(
    ds: &Dataset,
    a: &CutoffArgs,
) -> Result<(CoverageParams, StationFilter, CoverageReport, Vec<Nearest>)> {
    let params = a.params()?;
    let filter = a.filter()?;
    let keep = |s: &Station| filter.accepts(s);
    let (report, near) = coverage::coverage(&ds.stations, ds.hotspots.items(), &params, &keep)?;
    Ok((params, filter, report, near))
}

fn run_coverage(ctx: &Ctx, a: CoverageArgs) -> Result<()> {
    let ds = ctx.load()?;
    let (_, filter, r, _) = analyse(&ds, &a.cutoff)?;
    let mut t = Table::new(&[
        "station", "name", "seats", "hotspots", "workers", "load", "use", "over",
    ]);
    // Stations the filter left out (other kinds, closed) serve no one: not listed.
    let counted = ds.stations.items().iter().map(|s| filter.accepts(s));
    for (l, _) in r.stations.iter().zip(counted).filter(|(_, c)| *c) {
        t.rows.push(vec![
            l.id.clone(),
            l.name.clone(),
            l.capacity.to_string(),
            l.hotspots.to_string(),
            f1(l.workers),
            f1(l.load),
            l.utilisation
                .map_or("-".into(), |u| format!("{:.0}%", u * 100.0)),
            if l.overloaded { "yes" } else { "" }.into(),
        ]);
    }
    let fmt = ctx.format();
    if fmt == crate::common::Format::Table {
        println!(
            "coverage within {:.0} m: {:.1}% of {} workers ({} of {} hotspots){}; {} overloaded station(s)",
            r.cutoff_m,
            r.covered_share * 100.0,
            r.total_demand,
            r.hotspots_covered,
            r.hotspots,
            r.decay_share
                .map_or(String::new(), |d| format!(", decay-weighted {:.1}%", d * 100.0)),
            r.overloaded.len()
        );
    }
    let features = ds
        .stations
        .items()
        .iter()
        .zip(&r.stations)
        .map(|(s, l)| {
            let mut extra = geojson::JsonObject::new();
            for (k, v) in serde_json::to_value(l)?
                .as_object()
                .cloned()
                .unwrap_or_default()
            {
                if k != "id" && k != "name" && k != "capacity" {
                    extra.insert(k, v);
                }
            }
            Ok(io::station_feature(s, ctx.crs, extra))
        })
        .collect::<Result<Vec<_>>>()?;
    emit(fmt, &serde_json::to_value(&r)?, Some(features), &t)
}

fn run_gaps(ctx: &Ctx, a: GapsArgs) -> Result<()> {
    let ds = ctx.load()?;
    if ds.cells.is_empty() {
        bail!("dataset {} has no cells.geojson", ctx.data.display());
    }
    let (_, filter, r, near) = analyse(&ds, &a.cutoff)?;
    let keep = |s: &Station| filter.accepts(s);
    let cells = coverage::gaps(&ds, &r, &near, &GapWeights::default(), &keep);
    let units = coverage::unit_coverage(&cells, r.cutoff_m);
    let uncovered: Vec<_> = units.iter().filter(|u| !u.covered).collect();
    let all_covered = uncovered.is_empty();
    if let Some(out) = &a.out {
        let by_id: std::collections::HashMap<&str, &coverage::CellGap> =
            cells.iter().map(|g| (g.id.as_str(), g)).collect();
        let features: Vec<_> = ds
            .cells
            .items()
            .iter()
            .map(|c| {
                let g = by_id[c.id.as_str()];
                let mut extra = geojson::JsonObject::new();
                extra.insert("uncovered_demand".into(), json!(g.uncovered_demand));
                extra.insert("nearest_station_m".into(), json!(g.nearest_station_m));
                extra.insert("pressure".into(), json!(g.pressure));
                extra.insert("score".into(), json!(g.score));
                extra.insert("rank".into(), json!(g.rank));
                io::cell_feature(c, ctx.crs, extra)
            })
            .collect();
        std::fs::write(out, io::to_string_lines(&features))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let top: Vec<_> = cells.iter().take(a.top).collect();
    let mut t = Table::new(&[
        "rank",
        "cell",
        "unit",
        "demand",
        "uncovered",
        "nearest_m",
        "pressure",
        "score",
    ]);
    for g in &top {
        t.rows.push(vec![
            g.rank.to_string(),
            g.id.clone(),
            g.unit_name
                .clone()
                .or(g.grid_unit.clone())
                .unwrap_or_default(),
            f1(g.demand),
            f1(g.uncovered_demand),
            g.nearest_station_m.map_or("-".into(), f1),
            f1(g.pressure),
            format!("{:.3}", g.score),
        ]);
    }
    let fmt = ctx.format();
    if fmt == crate::common::Format::Table {
        if all_covered {
            println!(
                "every grid unit ({}) has a station within {:.0} m",
                units.len(),
                r.cutoff_m
            );
        } else {
            println!(
                "{} of {} grid units have no station within {:.0} m: {}",
                uncovered.len(),
                units.len(),
                r.cutoff_m,
                uncovered
                    .iter()
                    .map(|u| u.unit_name.clone().unwrap_or(u.grid_unit.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let json = json!({
        "cutoff_m": r.cutoff_m,
        "cells": top,
        "units": units,
        "uncovered_units": uncovered,
        "all_units_covered": all_covered,
    });
    let features = top
        .iter()
        .filter_map(|g| {
            ds.cells
                .items()
                .iter()
                .find(|c| c.id == g.id)
                .map(|c| (c, g))
        })
        .map(|(c, g)| {
            let mut extra = geojson::JsonObject::new();
            extra.insert("score".into(), json!(g.score));
            extra.insert("rank".into(), json!(g.rank));
            extra.insert("uncovered_demand".into(), json!(g.uncovered_demand));
            io::cell_feature(c, ctx.crs, extra)
        })
        .collect();
    emit(fmt, &json, Some(features), &t)
}

fn read_capacities(path: &PathBuf) -> Result<std::collections::HashMap<String, f64>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = std::collections::HashMap::new();
    for rec in r.records() {
        let rec = rec?;
        let id = rec.get(0).unwrap_or("").trim().to_string();
        let cap: f64 =
            rec.get(1).unwrap_or("").trim().parse().with_context(|| {
                format!("{}: capacity of {id:?} is not a number", path.display())
            })?;
        out.insert(id, cap);
    }
    Ok(out)
}

fn run_assign(ctx: &Ctx, a: AssignArgs) -> Result<()> {
    if !(a.peak_share > 0.0 && a.peak_share.is_finite()) {
        bail!("--peak-share {} must be a positive number", a.peak_share);
    }
    let prob = match a.matrix.problem()? {
        Some(p) => {
            let caps = a.capacities.as_ref().map(read_capacities).transpose()?;
            let sites: Vec<SiteInfo> = p
                .sites()
                .iter()
                .map(|s| SiteInfo {
                    id: s.id.clone(),
                    capacity: caps.as_ref().and_then(|c| c.get(&s.id).copied()),
                })
                .collect();
            let mut trip = Vec::new();
            for i in 0..p.n_demand() {
                let (s, c) = p.row(i);
                trip.extend(s.iter().zip(c).map(|(j, d)| (i, *j as usize, *d)));
            }
            Problem::from_triplets(p.demand().to_vec(), sites, trip)?
        }
        None => {
            let ds = ctx.load()?;
            // Workers (seats wanted at once) to the rest stations' seats.
            let mut town = TownSites::new(&ds, &[], true);
            for d in &mut town.demand {
                d.weight = (d.weight * a.peak_share).round();
            }
            town.into_problem(Some(a.cutoff_m))?
        }
    };
    let res = assign::assign(&prob, Some(a.cutoff_m))?;
    let mut t = Table::new(&["site", "capacity", "load"]);
    for s in &res.sites {
        t.rows.push(vec![
            s.id.clone(),
            s.capacity.map_or("-".into(), |c| c.to_string()),
            s.load.to_string(),
        ]);
    }
    if ctx.format() == crate::common::Format::Table {
        println!(
            "assigned {} of {} (mean cost {}), {} left over",
            res.assigned_weight,
            res.assigned_weight + res.unassigned_weight,
            res.mean_cost.map_or("-".into(), f1),
            res.unassigned_weight
        );
    }
    emit(ctx.format(), &serde_json::to_value(&res)?, None, &t)
}

fn load_candidates(
    ctx: &Ctx,
    ds: &Dataset,
    file: Option<&PathBuf>,
    cells: bool,
) -> Result<Vec<Candidate>> {
    if cells {
        if ds.cells.is_empty() {
            bail!("dataset {} has no cells.geojson", ctx.data.display());
        }
        return Ok(coverage::cell_candidates(ds.cells.items()));
    }
    let c = match file {
        Some(f) => yizhan_core::dataset::read_candidates_file(f, ctx.crs)
            .with_context(|| format!("cannot read candidates {}", f.display()))?,
        None => ds.candidates.items().to_vec(),
    };
    if c.is_empty() {
        bail!("no candidate sites: give --candidates FILE or --cells");
    }
    let mut seen = std::collections::HashSet::new();
    for x in &c {
        if !seen.insert(x.id.as_str()) {
            bail!("duplicate candidate id {:?}", x.id);
        }
    }
    Ok(c)
}

fn run_compare(ctx: &Ctx, a: CompareArgs) -> Result<()> {
    let ds = ctx.load()?;
    let cands = load_candidates(ctx, &ds, a.candidates.as_ref(), a.cells)?;
    let (params, filter, r, near) = analyse(&ds, &a.cutoff)?;
    let keep = |s: &Station| filter.accepts(s);
    let cells = coverage::gaps(&ds, &r, &near, &GapWeights::default(), &keep);
    let units = coverage::unit_coverage(&cells, r.cutoff_m);
    let scores = coverage::compare(&ds, &cands, &r, &near, &units, params.peak_share);
    let top: Vec<_> = scores.iter().take(a.top).collect();
    let mut t = Table::new(&[
        "rank",
        "candidate",
        "new_demand",
        "relief",
        "served",
        "saved_m",
        "new_units",
    ]);
    for s in &top {
        t.rows.push(vec![
            s.rank.to_string(),
            s.id.clone(),
            f1(s.newly_covered_demand),
            f1(s.relief),
            f1(s.workers_served),
            s.mean_distance_saved_m.map_or("-".into(), f1),
            s.new_units.join(","),
        ]);
    }
    let features = top
        .iter()
        .map(|s| {
            let c = Candidate {
                id: s.id.clone(),
                name: s.name.clone(),
                location: s.location,
                capacity: None,
            };
            let mut f = io::candidate_feature(&c, ctx.crs);
            if let Some(p) = f.properties.as_mut() {
                p.insert("rank".into(), json!(s.rank));
                p.insert("newly_covered_demand".into(), json!(s.newly_covered_demand));
                p.insert("relief".into(), json!(s.relief));
            }
            f
        })
        .collect();
    emit(
        ctx.format(),
        &serde_json::to_value(&top)?,
        Some(features),
        &t,
    )
}

/// Largest complete geometric matrix built for p-median / p-center without a radius.
const MAX_DENSE: usize = 20_000_000;

fn run_site(ctx: &Ctx, a: SiteArgs) -> Result<()> {
    if let Some(r) = a.radius_m {
        if !(r >= 0.0 && r.is_finite()) {
            bail!("--radius-m {r} must be a distance in metres >= 0");
        }
    }
    let solver = match a.solver.as_str() {
        "microlp" => ExactSolver::Microlp,
        "highs" => ExactSolver::Highs,
        o => bail!("--solver {o:?}: expected microlp or highs"),
    };
    let mut params = SiteParams::new(a.model);
    params.p = a.p;
    params.radius_m = a.radius_m;
    params.exact = a.exact;
    params.solver = solver;
    params.time_limit_s = a.time_limit;
    params.fixed = a.fixed.clone();
    params.excluded = a.exclude.clone();
    let prob = match a.matrix.problem()? {
        Some(p) => p,
        None => {
            let ds = ctx.load()?;
            let cands = load_candidates(ctx, &ds, a.candidates.as_ref(), a.cells)?;
            let town = TownSites::new(&ds, &cands, a.keep_existing);
            params.fixed.extend(town.fixed.iter().cloned());
            let max_m = match a.model {
                Model::Mclp | Model::Lscp => a.radius_m,
                _ if town.pairs() <= MAX_DENSE => None,
                _ => Some(a.radius_m.context(
                    "too many demand-site pairs for a full matrix: give --radius-m to limit assignment distance",
                )?),
            };
            if max_m.is_none() && matches!(a.model, Model::Mclp | Model::Lscp) {
                bail!("--model {} needs --radius-m", a.model);
            }
            town.into_problem(max_m)?
        }
    };
    let sol = select::solve(&prob, &params)?;
    let mut t = Table::new(&["field", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("model", sol.model.to_string()),
        ("sites", sol.sites.join(",")),
        ("new_sites", sol.new_sites.join(",")),
        (
            "objective",
            format!("{} ({})", sol.objective, sol.objective_name),
        ),
        (
            "covered_demand",
            format!(
                "{} of {} ({:.2}%)",
                sol.covered_demand,
                sol.total_demand,
                sol.covered_share * 100.0
            ),
        ),
        ("uncovered_points", sol.uncovered_points.to_string()),
        (
            "mean_distance_m",
            sol.mean_distance_m
                .map_or("-".into(), |d| format!("{d:.3}")),
        ),
        (
            "max_distance_m",
            sol.max_distance_m.map_or("-".into(), |d| format!("{d:.3}")),
        ),
        ("optimal", sol.optimal.to_string()),
        (
            "gap",
            sol.gap.map_or("unknown".into(), |g| format!("{g:.6}")),
        ),
        ("method", sol.method.clone()),
    ];
    for (k, v) in rows {
        t.rows.push(vec![k.into(), v]);
    }
    if let Some(n) = &sol.note {
        t.rows.push(vec!["note".into(), n.clone()]);
    }
    emit(ctx.format(), &serde_json::to_value(&sol)?, None, &t)
}
