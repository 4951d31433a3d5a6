//! Planning commands: coverage, gaps, assign, compare, site.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use yizhan_core::io;
use yizhan_core::profile::HourWindow;
use yizhan_core::{Candidate, Dataset, StationFilter, StationKind};
use yizhan_net::Networks;
use yizhan_plan::coverage::{CoverageParams, Cutoff, Decay, TravelMode};
use yizhan_plan::workflow::{self, CandidateSource, GapsReport};
use yizhan_plan::{
    assign, select, By, DistanceUsed, ExactSolver, MatrixCsv, Model, NetworkCosts, PlanError,
    Problem, SiteInfo, SiteParams, WeightsCsv,
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
    /// The street-network cost matrix between the hotspots and the candidate sites
    /// (and the stations with --keep-existing), as CSV in the shape of spopt's San
    /// Francisco file: distance (network metres), time_s, name (site),
    /// DestinationName (hotspot), demand (workers).
    Matrix(NetMatrixArgs),
    /// Service areas: the streets reachable from each open rest station within N
    /// minutes along the dataset's road graph, as GeoJSON polygons.
    ServiceAreas(ServiceAreaArgs),
}

/// Arguments of `yizhan service-areas`.
#[derive(Debug, Args)]
pub struct ServiceAreaArgs {
    /// walk or ebike.
    #[arg(long, default_value = "walk")]
    mode: TravelMode,
    /// Travel time, minutes (at most 60).
    #[arg(long, default_value_t = 5.0, allow_hyphen_values = true)]
    minutes: f64,
    /// Only stations open at this local time, YYYY-MM-DDTHH:MM.
    #[arg(long)]
    open_at: Option<String>,
    /// Only stations of this kind [default: rest_station].
    #[arg(long)]
    kind: Option<StationKind>,
    /// Write the GeoJSON here (replaced only once complete) [default: standard output].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `yizhan matrix`.
#[derive(Debug, Args)]
pub struct NetMatrixArgs {
    /// walk or ebike: whose streets.
    #[arg(long, default_value = "walk")]
    mode: TravelMode,
    /// Keep only pairs within this travel time (minutes) [default: every pair].
    #[arg(long, conflicts_with = "cutoff_m", allow_hyphen_values = true)]
    minutes: Option<f64>,
    /// Keep only pairs within this many network metres [default: every pair].
    #[arg(long, allow_hyphen_values = true)]
    cutoff_m: Option<f64>,
    /// Candidate sites (GeoJSON points); default: the dataset's candidates.
    #[arg(long, conflicts_with = "cells")]
    candidates: Option<PathBuf>,
    /// Use every grid-cell centroid as a candidate.
    #[arg(long)]
    cells: bool,
    /// Also the existing worker stations as sites (then pass their ids to
    /// `site --fixed` to keep them open).
    #[arg(long)]
    keep_existing: bool,
    #[command(flatten)]
    hours: HoursArgs,
    /// Write the CSV here (replaced only once complete) [default: standard output].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Which hours of the day to plan for.
#[derive(Debug, Args)]
pub struct HoursArgs {
    /// Plan for one local hour, 0–23 (12 is 12:00–13:00): each hotspot counts its
    /// workers present then by its demand profile (all of them at its busiest hour;
    /// hotspots without a profile count all their workers) [default: daily workers].
    #[arg(long, conflicts_with = "hours")]
    hour: Option<u8>,
    /// Plan for a window of local hours, A-B (11-14 is the lunch peak, 11:00–14:00).
    #[arg(long)]
    hours: Option<String>,
}

impl HoursArgs {
    fn window(&self) -> Result<Option<HourWindow>> {
        HourWindow::from_params(self.hour, self.hours.as_deref()).map_err(|e| {
            anyhow::anyhow!(
                "--{}: {e}",
                if self.hour.is_some() { "hour" } else { "hours" }
            )
        })
    }
}

/// Workers as a headline says them: whole when whole, else to a tenth.
fn workers_text(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// " at 11:00–14:00" for a headline, or nothing.
fn at_hours(h: Option<HourWindow>) -> String {
    h.map_or(String::new(), |w| {
        format!(" at {:02}:00–{:02}:00", w.start(), w.end())
    })
}

/// The coverage cutoff and how to count demand.
#[derive(Debug, Args)]
pub struct CutoffArgs {
    /// Cutoff distance in metres.
    #[arg(long, default_value_t = workflow::DEFAULT_CUTOFF_M, allow_hyphen_values = true)]
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
    /// Measure along the streets of the dataset's road graph (roads.graph or
    /// roads.geojson) for --mode: --minutes is then network travel time and
    /// --cutoff-m network metres [default: straight lines].
    #[arg(long)]
    network: bool,
    /// Also report a distance-decay accessibility: linear, power or exponential.
    #[arg(long)]
    decay: Option<String>,
    /// Decay parameter β (power, exponential).
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// Share of workers wanting a seat at the same time (load = workers × share).
    #[arg(long, default_value_t = workflow::DEFAULT_PEAK_SHARE)]
    peak_share: f64,
    /// Count only stations open at this local time, YYYY-MM-DDTHH:MM.
    #[arg(long)]
    open_at: Option<String>,
    /// Count only stations of this kind [default: rest_station, the kind that serves
    /// outdoor workers].
    #[arg(long)]
    kind: Option<StationKind>,
    #[command(flatten)]
    hours: HoursArgs,
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
        let decay = match self.decay.as_deref() {
            None => None,
            Some("linear") => Some(Decay::Linear),
            Some("power") => Some(Decay::Power { beta: self.beta }),
            Some("exponential") | Some("exp") => Some(Decay::Exponential { beta: self.beta }),
            Some(o) => bail!("--decay {o:?}: expected linear, power or exponential"),
        };
        let params = CoverageParams {
            cutoff,
            decay,
            peak_share: self.peak_share,
            hours: self.hours.window()?,
        };
        workflow::check_coverage_params(&params).map_err(flag_error)?;
        Ok(params)
    }

    /// The station filter (the workflow defaults the kind to rest stations).
    fn filter(&self) -> Result<StationFilter> {
        Ok(StationFilter {
            kind: self.kind,
            open_at: self.open_at.as_deref().map(parse_local_time).transpose()?,
            ..StationFilter::default()
        })
    }

    /// The road graphs when `--network` is given.
    fn networks(&self, ctx: &Ctx) -> Result<Option<Networks>> {
        self.network.then(|| load_networks(ctx)).transpose()
    }

    /// The network cutoff on the graphs of `nets` (straight lines without them).
    fn costs<'a>(&self, nets: &'a Option<Networks>) -> Result<Option<NetworkCosts<'a>>> {
        let Some(n) = nets else { return Ok(None) };
        Ok(NetworkCosts::of(
            n,
            by_of(self.mode),
            &self.params()?.cutoff,
        )?)
    }
}

/// The profile of a travel mode.
fn by_of(m: TravelMode) -> By {
    match m {
        TravelMode::Ebike => By::Ebike,
        _ => By::Walk,
    }
}

/// The dataset's road graphs, or one clear error when it has none.
fn load_networks(ctx: &Ctx) -> Result<Networks> {
    match Networks::for_dataset_dir(&ctx.data)? {
        Some((n, _)) => Ok(n),
        None => bail!(
            "--network: dataset {} has no road graph (roads.graph or roads.geojson): run `yizhan roads import --pbf FILE.osm.pbf` first",
            ctx.data.display()
        ),
    }
}

/// How a headline says the distance was measured.
fn measured(d: DistanceUsed) -> String {
    if d.network {
        format!(" (along the streets, {})", d.by)
    } else {
        " (straight line)".into()
    }
}

/// `v` with the `distance` member.
fn with_distance(mut v: serde_json::Value, d: DistanceUsed) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("distance".into(), json!(d));
    }
    v
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
    #[arg(long, default_value_t = workflow::DEFAULT_CUTOFF_M, allow_hyphen_values = true)]
    cutoff_m: f64,
    /// Share of workers wanting a seat at the same time (demand = round(workers × share)).
    #[arg(long, default_value_t = workflow::DEFAULT_PEAK_SHARE)]
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
    /// Solver for --exact: auto (cbc when the cbc program is installed, else microlp),
    /// microlp, cbc (COIN-OR CBC, the cbc program), or highs (if built with it). For
    /// MCLP, auto and microlp use yizhan's own branch and bound.
    #[arg(long, default_value = "auto")]
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
    /// Costs along the streets of the dataset's road graph for --mode (geometry
    /// mode): travel seconds within --minutes, or network metres within --radius-m,
    /// which is then the service radius.
    #[arg(long, conflicts_with = "matrix")]
    network: bool,
    /// With --network: walk or ebike.
    #[arg(long, default_value = "walk")]
    mode: TravelMode,
    /// With --network: the cutoff as travel time in minutes (costs in seconds).
    #[arg(long, requires = "network")]
    minutes: Option<f64>,
    #[command(flatten)]
    hours: HoursArgs,
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
        PlanCommand::Matrix(a) => run_matrix(ctx, a),
        PlanCommand::ServiceAreas(a) => run_service_areas(ctx, a),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

/// A workflow's range error named as the flag is spelt (`--cutoff-m`).
fn flag_error(e: PlanError) -> anyhow::Error {
    match e {
        PlanError::OutOfRange { what, .. } => {
            anyhow::anyhow!("--{}: {e}", what.replace('_', "-"))
        }
        e => e.into(),
    }
}

fn run_coverage(ctx: &Ctx, a: CoverageArgs) -> Result<()> {
    let ds = ctx.load()?;
    let nets = a.cutoff.networks(ctx)?;
    let costs = a.cutoff.costs(&nets)?;
    let params = a.cutoff.params()?;
    let an = workflow::analyse_on(&ds, &params, a.cutoff.filter()?, costs.as_ref())?;
    let r = &an.report;
    let mut t = Table::new(&[
        "station", "name", "seats", "hotspots", "workers", "load", "use", "over",
    ]);
    // Stations the filter left out (other kinds, closed) serve no one: not listed.
    let counted = ds.stations.items().iter().map(|s| an.counts(s));
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
            "coverage within {}{}{}: {:.1}% of {} workers ({} of {} hotspots){}; {} overloaded station(s)",
            cutoff_text(&params, costs.as_ref()),
            measured(an.distance),
            at_hours(params.hours),
            r.covered_share * 100.0,
            workers_text(r.total_demand),
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
    emit(
        fmt,
        &with_distance(serde_json::to_value(r)?, an.distance),
        Some(features),
        &t,
    )
}

/// The cutoff as a headline says it.
fn cutoff_text(p: &CoverageParams, costs: Option<&NetworkCosts<'_>>) -> String {
    match (p.cutoff, costs) {
        (Cutoff::Minutes { minutes, .. }, Some(_)) => format!("{minutes} min"),
        (_, _) => format!("{:.0} m", p.cutoff.metres().unwrap_or(f64::NAN)),
    }
}

fn run_gaps(ctx: &Ctx, a: GapsArgs) -> Result<()> {
    let ds = ctx.load()?;
    if ds.cells.is_empty() {
        bail!("dataset {} has no cells.geojson", ctx.data.display());
    }
    let nets = a.cutoff.networks(ctx)?;
    let costs = a.cutoff.costs(&nets)?;
    let params = a.cutoff.params()?;
    let an = workflow::analyse_on(&ds, &params, a.cutoff.filter()?, costs.as_ref())?;
    let mut g = GapsReport::of_on(&ds, &an, costs.as_ref());
    let within = format!(
        "{}{}{}",
        cutoff_text(&params, costs.as_ref()),
        measured(g.distance),
        at_hours(params.hours)
    );
    if let Some(out) = &a.out {
        std::fs::write(
            out,
            io::to_string_lines_in(&g.features(&ds, ctx.crs), ctx.crs),
        )
        .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let features = g.worst_features(&ds, a.top, ctx.crs);
    g.cells.truncate(a.top);
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
    for c in &g.cells {
        t.rows.push(vec![
            c.rank.to_string(),
            c.id.clone(),
            c.unit_name
                .clone()
                .or(c.grid_unit.clone())
                .unwrap_or_default(),
            f1(c.demand),
            f1(c.uncovered_demand),
            c.nearest_station_m.map_or("-".into(), f1),
            f1(c.pressure),
            format!("{:.3}", c.score),
        ]);
    }
    let fmt = ctx.format();
    if fmt == crate::common::Format::Table {
        if g.all_units_covered {
            println!(
                "every grid unit ({}) has a station within {within}",
                g.units.len(),
            );
        } else {
            println!(
                "{} of {} grid units have no station within {within}: {}",
                g.uncovered_units.len(),
                g.units.len(),
                g.uncovered_units
                    .iter()
                    .map(|u| u.unit_name.clone().unwrap_or(u.grid_unit.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    emit(fmt, &serde_json::to_value(&g)?, Some(features), &t)
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
    let (res, json) = match a.matrix.problem()? {
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
            let prob = Problem::from_triplets(p.demand().to_vec(), sites, trip)?;
            let res = assign::assign(&prob, Some(a.cutoff_m))?;
            let json = serde_json::to_value(&res)?;
            (res, json)
        }
        None => {
            let ds = ctx.load()?;
            let town =
                workflow::town_assignment(&ds, a.cutoff_m, a.peak_share).map_err(flag_error)?;
            let json = serde_json::to_value(&town)?;
            (town.assignment, json)
        }
    };
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
    emit(ctx.format(), &json, None, &t)
}

fn load_candidates(
    ctx: &Ctx,
    ds: &Dataset,
    file: Option<&PathBuf>,
    cells: bool,
) -> Result<Vec<Candidate>> {
    let source = match file {
        _ if cells => {
            if ds.cells.is_empty() {
                bail!("dataset {} has no cells.geojson", ctx.data.display());
            }
            CandidateSource::Cells
        }
        Some(f) => CandidateSource::Given(
            yizhan_core::dataset::read_candidates_file(f, ctx.crs)
                .with_context(|| format!("cannot read candidates {}", f.display()))?,
        ),
        None => CandidateSource::Dataset,
    };
    workflow::candidate_sites(ds, source).map_err(|e| match e {
        PlanError::Empty { .. } => {
            anyhow::anyhow!("no candidate sites: give --candidates FILE or --cells")
        }
        e => e.into(),
    })
}

fn run_compare(ctx: &Ctx, a: CompareArgs) -> Result<()> {
    let ds = ctx.load()?;
    let cands = load_candidates(ctx, &ds, a.candidates.as_ref(), a.cells)?;
    let params = a.cutoff.params()?;
    let nets = a.cutoff.networks(ctx)?;
    let costs = a.cutoff.costs(&nets)?;
    let cmp = workflow::compare_on(
        &ds,
        &cands,
        &params,
        a.cutoff.filter()?,
        Some(a.top),
        costs.as_ref(),
    )?;
    let distance = cmp.distance;
    let top = cmp.candidates;
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
    if ctx.format() == crate::common::Format::Table {
        println!("candidates{}{}", measured(distance), at_hours(params.hours));
    }
    emit(
        ctx.format(),
        &serde_json::to_value(&top)?,
        Some(features),
        &t,
    )
}

fn run_site(ctx: &Ctx, a: SiteArgs) -> Result<()> {
    if let Some(r) = a.radius_m {
        if !(r >= 0.0 && r.is_finite()) {
            bail!("--radius-m {r} must be a distance in metres >= 0");
        }
    }
    let solver: ExactSolver = a
        .solver
        .parse()
        .map_err(|e| anyhow::anyhow!("--solver: {e}"))?;
    let mut params = SiteParams::new(a.model);
    params.p = a.p;
    params.radius_m = a.radius_m;
    params.exact = a.exact;
    params.solver = solver;
    params.time_limit_s = a.time_limit;
    params.fixed = a.fixed.clone();
    params.excluded = a.exclude.clone();
    params.hours = a.hours.window()?;
    let prob = match a.matrix.problem()? {
        Some(p) if params.hours.is_some() => {
            drop(p);
            bail!("--hour/--hours weigh the dataset's hotspots by their profiles: not with --matrix (give the weights for that hour in --weights)")
        }
        Some(p) => p,
        None => {
            let ds = ctx.load()?;
            let cands = load_candidates(ctx, &ds, a.candidates.as_ref(), a.cells)?;
            let nets = a.network.then(|| load_networks(ctx)).transpose()?;
            let cutoff = match (a.minutes, a.radius_m) {
                (Some(minutes), _) => Some(Cutoff::Minutes {
                    minutes,
                    mode: a.mode,
                    speed_kmh: None,
                }),
                (None, Some(metres)) => Some(Cutoff::Metres { metres }),
                (None, None) => None,
            };
            let costs = match (&nets, cutoff) {
                (Some(n), Some(c)) => NetworkCosts::of(n, by_of(a.mode), &c)?,
                (Some(_), None) => {
                    bail!("--network needs --minutes or --radius-m, the network cutoff")
                }
                (None, _) => None,
            };
            if params.radius_m.is_none()
                && costs.is_none()
                && matches!(a.model, Model::Mclp | Model::Lscp)
            {
                bail!("--model {} needs --radius-m", a.model);
            }
            if let Some(c) = &costs {
                eprintln!(
                    "costs along the streets ({}), in {} within {}",
                    c.by(),
                    c.metric.unit(),
                    c.cutoff
                );
            }
            workflow::town_problem_on(&ds, &cands, a.keep_existing, &mut params, costs.as_ref())
                .map_err(|e| match e {
                    PlanError::TooManyPairs { .. } => anyhow::anyhow!("{e} (--radius-m)"),
                    e => e.into(),
                })?
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

fn run_matrix(ctx: &Ctx, a: NetMatrixArgs) -> Result<()> {
    let ds = ctx.load()?;
    let cands = if a.keep_existing && a.candidates.is_none() && !a.cells && ds.candidates.is_empty()
    {
        Vec::new()
    } else {
        load_candidates(ctx, &ds, a.candidates.as_ref(), a.cells)?
    };
    let nets = load_networks(ctx)?;
    let net = nets.get(match by_of(a.mode) {
        By::Ebike => yizhan_net::Mode::Ebike,
        _ => yizhan_net::Mode::Walk,
    });
    let costs = match (a.minutes, a.cutoff_m) {
        (Some(minutes), _) => NetworkCosts::new(
            net,
            &Cutoff::Minutes {
                minutes,
                mode: a.mode,
                speed_kmh: None,
            },
        )
        .map_err(|e| anyhow::anyhow!("--minutes: {e}"))?,
        (None, Some(metres)) => NetworkCosts::new(net, &Cutoff::Metres { metres })
            .map_err(|e| anyhow::anyhow!("--cutoff-m: {e}"))?,
        // Every pair: a bound no town reaches.
        (None, None) => NetworkCosts {
            net,
            metric: yizhan_net::Metric::Metres,
            cutoff: f64::INFINITY,
        },
    };
    let town = yizhan_plan::TownSites::new(&ds, &cands, a.keep_existing, a.hours.window()?);
    let m = costs.matrix(&town.demand_at, &town.site_at);
    let mut text = String::from("distance,time_s,name,DestinationName,demand\n");
    let mut pairs = 0usize;
    {
        use std::fmt::Write as _;
        let quote = |s: &str| -> String {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        for (i, row) in m.rows.iter().enumerate() {
            let d = &town.demand[i];
            for (j, c) in row {
                let site = &town.sites[*j as usize];
                let _ = writeln!(
                    text,
                    "{:.3},{:.3},{},{},{}",
                    c.metres,
                    c.time_s,
                    quote(&site.id),
                    quote(&d.id),
                    d.weight
                );
                pairs += 1;
            }
        }
    }
    if !m.off_network_origins.is_empty() || !m.off_network_sites.is_empty() {
        eprintln!(
            "warning: {} hotspots and {} sites lie more than {:.0} m from every street: they have no pairs",
            m.off_network_origins.len(),
            m.off_network_sites.len(),
            yizhan_net::SNAP_LIMIT_M
        );
    }
    match &a.out {
        None => {
            use std::io::Write as _;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(&dir)
                .with_context(|| format!("cannot write into {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tmp.persist(path)
                .map_err(|e| e.error)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {pairs} pairs ({} hotspots × {} sites, {} along the streets) to {}",
                town.demand.len(),
                town.sites.len(),
                costs.by(),
                path.display()
            );
        }
    }
    Ok(())
}

fn run_service_areas(ctx: &Ctx, a: ServiceAreaArgs) -> Result<()> {
    use yizhan_plan::service_area::{service_area_features, MAX_MINUTES};
    if !(a.minutes > 0.0 && a.minutes <= MAX_MINUTES) {
        bail!(
            "--minutes {} must be above 0 and at most {MAX_MINUTES}",
            a.minutes
        );
    }
    let ds = ctx.load()?;
    let nets = load_networks(ctx)?;
    let net = nets.get(match by_of(a.mode) {
        By::Ebike => yizhan_net::Mode::Ebike,
        _ => yizhan_net::Mode::Walk,
    });
    let filter = yizhan_plan::coverage::worker_filter(StationFilter {
        kind: a.kind,
        open_at: a.open_at.as_deref().map(parse_local_time).transpose()?,
        ..StationFilter::default()
    });
    let stations: Vec<&yizhan_core::Station> = ds
        .stations
        .items()
        .iter()
        .filter(|s| filter.accepts(s))
        .collect();
    let features = service_area_features(net, &stations, a.minutes, ctx.crs);
    let text = io::to_string_lines_in(&features, ctx.crs);
    match &a.out {
        None => {
            use std::io::Write as _;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(&dir)
                .with_context(|| format!("cannot write into {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tmp.persist(path)
                .map_err(|e| e.error)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} service areas ({} min by {}) of {} stations to {}",
                features.len(),
                a.minutes,
                net.profile().mode.as_str(),
                stations.len(),
                path.display()
            );
        }
    }
    Ok(())
}
