//! `yizhan roads import`: an OpenStreetMap extract into the dataset folder's street
//! network (`roads.geojson` for the map and GIS, `roads.graph` for routing).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use yizhan_core::crs::Crs;
use yizhan_core::dataset::{Dataset, ROADS_FILE};
use yizhan_core::io;
use yizhan_net::{Mode, Networks, GRAPH_FILE, SNAP_LIMIT_M};

use crate::common::Ctx;

/// `yizhan roads …`.
#[derive(Debug, Subcommand)]
pub enum RoadsCommand {
    /// Read an OpenStreetMap extract (.osm.pbf) into the --data folder: roads.geojson
    /// and roads.graph (the walk and e-bike networks).
    Import(ImportArgs),
}

/// `yizhan roads import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The OpenStreetMap extract (.osm.pbf), cut to the town (e.g. with osmium extract).
    #[arg(long)]
    pbf: PathBuf,
    /// Import even when some stations lie farther than 500 m from every street of the
    /// extract (they are then answered without a route).
    #[arg(long)]
    allow_off_network: bool,
}

/// Run a `yizhan roads` command.
pub fn run(ctx: &Ctx, c: RoadsCommand) -> Result<ExitCode> {
    match c {
        RoadsCommand::Import(a) => import(ctx, a),
    }
}

fn import(ctx: &Ctx, a: ImportArgs) -> Result<ExitCode> {
    // The dataset first: the extract must cover its stations.
    let data = Dataset::load_dir(&ctx.data)
        .with_context(|| format!("cannot read the dataset {}", ctx.data.display()))?;
    let roads = yizhan_net::read_pbf_roads(&a.pbf)?;
    let nets = Networks::build(&roads)?;
    let walk = nets.get(Mode::Walk);
    let off: Vec<&str> = data
        .stations
        .items()
        .iter()
        .filter(|s| walk.snap_within(s.location, SNAP_LIMIT_M).is_err())
        .map(|s| s.id.as_str())
        .collect();
    if !off.is_empty() && !a.allow_off_network {
        let first: Vec<&str> = off.iter().take(5).copied().collect();
        bail!(
            "{} of {} stations lie more than {SNAP_LIMIT_M:.0} m from every street of {} \
             (first: {}): is the extract of this town? (--allow-off-network to import anyway)",
            off.len(),
            data.stations.len(),
            a.pbf.display(),
            first.join(", ")
        );
    }
    // Both files are written beside their final names and renamed: a failure leaves
    // the folder as it was.
    let dir = &ctx.data;
    let features: Vec<_> = roads
        .iter()
        .map(|r| io::road_feature(r, Crs::Wgs84))
        .collect();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    tmp.write_all(io::to_string_lines(&features).as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    nets.save(&dir.join(GRAPH_FILE))?;
    tmp.persist(dir.join(ROADS_FILE))
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", dir.join(ROADS_FILE).display()))?;
    // The graph must not look older than the roads it was built from.
    let now = std::fs::File::options()
        .append(true)
        .open(dir.join(GRAPH_FILE))
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    now.with_context(|| format!("cannot touch {}", dir.join(GRAPH_FILE).display()))?;
    for m in [Mode::Walk, Mode::Ebike] {
        let r = nets.get(m).report();
        eprintln!(
            "{m}: {} vertices, {} edges kept; {} vertices in {} parts dropped (not connected to the main network)",
            r.nodes, r.edges, r.dropped_nodes, r.dropped_parts
        );
    }
    if !off.is_empty() {
        eprintln!(
            "warning: {} stations lie more than {SNAP_LIMIT_M:.0} m from every street",
            off.len()
        );
    }
    println!(
        "wrote {} roads to {} and the walk and e-bike networks to {}",
        roads.len(),
        dir.join(ROADS_FILE).display(),
        dir.join(GRAPH_FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}
