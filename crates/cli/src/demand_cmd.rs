//! `yizhan demand`: hotspots with hourly demand profiles from GPS traces.
//!
//! The pings are streamed (a 10 GB file is read line by line, with a progress bar by
//! bytes on a terminal); the output holds aggregates only: positions, distinct worker
//! counts, the most common worker type and the profile, never a trace or an id.

use std::io::{BufReader, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde_json::json;
use yizhan_core::crs::Crs;
use yizhan_core::io;
use yizhan_plan::demand::{self, DemandCounts, DemandParams};

use crate::common::{emit, Ctx, Format, Table};

/// `yizhan demand`.
#[derive(Debug, Args)]
pub struct DemandArgs {
    /// GPS pings: CSV with a header (id, timestamp, lon, lat[, worker_type]) or GeoJSON
    /// lines (one Point Feature a line); `-` reads standard input. Timestamps are RFC
    /// 3339 with their offset; coordinates in --crs (wgs84 or gcj02).
    #[arg(long)]
    pings: PathBuf,
    /// Write the hotspots here (GeoJSON, the dataset's hotspots schema, WGS 84),
    /// replacing the file only once it is complete; without it the hotspots go to
    /// standard output and the summary to standard error.
    #[arg(long)]
    out: Option<PathBuf>,
    /// k-anonymity: a hotspot seen from fewer distinct workers is merged into a
    /// neighbour within --merge-m or dropped.
    #[arg(long, default_value_t = demand::DEFAULT_MIN_WORKERS)]
    min_workers: u32,
    /// Stay point distance threshold (metres).
    #[arg(long, default_value_t = demand::DEFAULT_STAY_DISTANCE_M)]
    stay_distance_m: f64,
    /// Stay point minimum duration (minutes).
    #[arg(long, default_value_t = demand::DEFAULT_STAY_MINUTES)]
    stay_minutes: f64,
    /// Faster than this between two pings is a GPS jump, dropped (metres a second).
    #[arg(long, default_value_t = demand::DEFAULT_MAX_SPEED_MPS)]
    max_speed_mps: f64,
    /// Side of a clustering cell (metres).
    #[arg(long, default_value_t = demand::DEFAULT_CELL_M)]
    cell_m: f64,
    /// How far a small hotspot may be merged into a neighbour (metres).
    #[arg(long, default_value_t = demand::DEFAULT_MERGE_M)]
    merge_m: f64,
}

impl DemandArgs {
    fn params(&self, crs: Crs) -> Result<DemandParams> {
        let positive = [
            ("--stay-distance-m", self.stay_distance_m),
            ("--stay-minutes", self.stay_minutes),
            ("--max-speed-mps", self.max_speed_mps),
            ("--cell-m", self.cell_m),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                bail!("{name} must be a positive number, not {v}");
            }
        }
        if !(self.merge_m.is_finite() && self.merge_m >= 0.0) {
            bail!("--merge-m must be zero or more, not {}", self.merge_m);
        }
        if self.min_workers == 0 {
            bail!("--min-workers must be at least 1");
        }
        Ok(DemandParams {
            crs,
            stay_distance_m: self.stay_distance_m,
            stay_minutes: self.stay_minutes,
            max_speed_mps: self.max_speed_mps,
            cell_m: self.cell_m,
            min_workers: self.min_workers,
            merge_m: self.merge_m,
        })
    }
}

/// Run `yizhan demand`.
pub fn run(ctx: &Ctx, a: DemandArgs) -> Result<ExitCode> {
    let params = a.params(ctx.crs)?;
    let mut counts = DemandCounts::default();
    let stdin = a.pings.as_os_str() == "-";
    let (input, total): (Box<dyn std::io::Read>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = std::fs::File::open(&a.pings)
            .with_context(|| format!("cannot open {}", a.pings.display()))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} pings {bar:40} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let hotspots = demand::hotspots_from_pings(
        BufReader::with_capacity(1 << 20, input),
        &params,
        &mut counts,
        |bytes| {
            if let Some(b) = &bar {
                b.set_position(bytes);
            }
        },
    )
    .with_context(|| format!("cannot read the pings {}", a.pings.display()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if counts.pings > 0 && counts.broken + counts.no_timezone == counts.pings {
        bail!(
            "none of the {} rows of {} is a ping (broken: {}, without a time zone: {})",
            counts.pings,
            a.pings.display(),
            counts.broken,
            counts.no_timezone
        );
    }
    let features: Vec<_> = hotspots
        .iter()
        .map(|h| io::hotspot_feature(h, Crs::Wgs84))
        .collect();
    let text = io::to_string_lines(&features);
    let summary = summary_line(&counts);
    match &a.out {
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            eprintln!("{summary}");
        }
        Some(path) => {
            write_atomically(path, &text)?;
            let mut table = Table::new(&["what", "count"]);
            for (k, v) in counts_rows(&counts) {
                table.rows.push(vec![k.to_string(), v.to_string()]);
            }
            let value = json!({ "out": path.display().to_string(), "counts": counts });
            let fmt = match ctx.format() {
                Format::Geojson => bail!(
                    "--format geojson: leave out --out to get the hotspots on standard output"
                ),
                f => f,
            };
            emit(fmt, &value, None, &table)?;
            if fmt == Format::Table {
                eprintln!("wrote {} hotspots to {}", counts.hotspots, path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn counts_rows(c: &DemandCounts) -> [(&'static str, u64); 10] {
    [
        ("pings read", c.pings),
        ("broken rows", c.broken),
        ("rows without a time zone", c.no_timezone),
        ("duplicates", c.duplicates),
        ("jumps", c.jumps),
        ("workers", c.workers),
        ("stay points", c.stays),
        ("hotspots", c.hotspots),
        ("merged (fewer than k workers)", c.merged),
        ("dropped (fewer than k workers)", c.dropped),
    ]
}

fn summary_line(c: &DemandCounts) -> String {
    let parts: Vec<String> = counts_rows(c)
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    parts.join(", ")
}

/// Write `text` to `path` through a temporary file beside it, so that a failure
/// leaves the old file as it was.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
