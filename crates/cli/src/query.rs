//! Courier queries: nearest, within; and the file commands validate and export.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use chrono::NaiveDateTime;
use clap::Args;
use serde_json::json;
use yizhan_core::crs::Crs;
use yizhan_core::io::{self, Layer};
use yizhan_core::occupancy::{Freshness, DEFAULT_OCCUPANCY_MAX_AGE};
use yizhan_core::{AmenitySet, BBox, Hit, LonLat, Station, StationFilter, StationKind};

use crate::common::{emit, parse_age, Ctx, Table};

/// Most results a query may ask for.
pub const MAX_K: usize = 100;

/// Filters shared by nearest and within.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Required amenities, comma-separated (e.g. microwave,charging).
    #[arg(long)]
    amenity: Option<String>,
    /// Only this kind of station (rest_station, childcare_class).
    #[arg(long)]
    kind: Option<StationKind>,
    /// Only stations open at this local time, YYYY-MM-DDTHH:MM.
    #[arg(long)]
    open_at: Option<String>,
    /// Only stations with at least this many free seats.
    #[arg(long)]
    min_free: Option<u32>,
    /// Occupancy reports older than this are unknown: the station's capacity counts
    /// as free, as `yizhan serve` counts it (e.g. 90s, 30m, 2h, 1d) [default: 2h].
    #[arg(long, value_parser = parse_age)]
    occupancy_max_age: Option<Duration>,
}

impl FilterArgs {
    fn filter(&self) -> Result<StationFilter> {
        let amenities = match &self.amenity {
            Some(a) => AmenitySet::parse_list(a)?,
            None => AmenitySet::empty(),
        };
        let open_at = self.open_at.as_deref().map(parse_local_time).transpose()?;
        Ok(StationFilter {
            kind: self.kind,
            amenities,
            open_at,
            min_free: self.min_free,
        })
    }

    /// Now, with the maximum age of occupancy reports.
    fn freshness(&self) -> Freshness {
        Freshness::now(self.occupancy_max_age.unwrap_or(DEFAULT_OCCUPANCY_MAX_AGE))
    }
}

/// Parse an `--open-at` local time (the core's parser: `YYYY-MM-DDTHH:MM`, seconds
/// optional, or an RFC 3339 time with an offset).
pub fn parse_local_time(s: &str) -> Result<NaiveDateTime> {
    yizhan_core::time::parse_local_time(s).map_err(|e| anyhow::anyhow!("--open-at {e}"))
}

/// Arguments of `yizhan nearest`.
#[derive(Debug, Args)]
pub struct NearestArgs {
    /// Latitude (WGS 84 unless --crs gcj02).
    #[arg(long, allow_hyphen_values = true)]
    lat: f64,
    /// Longitude.
    #[arg(long, allow_hyphen_values = true)]
    lon: f64,
    /// How many stations (1 to 100).
    #[arg(short, long, default_value_t = 5)]
    k: usize,
    /// Farthest distance in metres (on the WGS 84 ellipsoid).
    #[arg(long, allow_hyphen_values = true)]
    max_m: Option<f64>,
    #[command(flatten)]
    filter: FilterArgs,
}

/// Arguments of `yizhan within`.
#[derive(Debug, Args)]
pub struct WithinArgs {
    /// Latitude of the centre.
    #[arg(long, allow_hyphen_values = true, requires_all = ["lon", "radius_m"], conflicts_with = "bbox")]
    lat: Option<f64>,
    /// Longitude of the centre.
    #[arg(long, allow_hyphen_values = true, requires = "lat")]
    lon: Option<f64>,
    /// Radius in metres (on the WGS 84 ellipsoid).
    #[arg(long, requires = "lat", allow_hyphen_values = true)]
    radius_m: Option<f64>,
    /// Bounding box west,south,east,north (degrees).
    #[arg(long, allow_hyphen_values = true)]
    bbox: Option<String>,
    #[command(flatten)]
    filter: FilterArgs,
}

/// Arguments of `yizhan validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// GeoJSON files; the layer is taken from the file name (stations, hotspots, cells,
    /// boundary, candidates) unless --layer says.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Read every file as this layer.
    #[arg(long)]
    layer: Option<Layer>,
}

/// Arguments of `yizhan export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which layer.
    #[arg(long)]
    layer: Layer,
    /// Output file, a folder (the file is then named stations.geojson, or
    /// stations-gcj02.geojson with --crs gcj02), or - for standard output.
    #[arg(long, short)]
    out: PathBuf,
    /// Read the layer from this store (a GeoPackage file or
    /// postgres://USER@HOST:PORT/DB) instead of the --data folder.
    #[arg(long)]
    store: Option<yizhan_store::Location>,
}

fn point(ctx: &Ctx, lon: f64, lat: f64) -> Result<LonLat> {
    let p = LonLat::new(lon, lat)?;
    Ok(ctx.crs.to_wgs84(p))
}

fn station_row(h: &Hit<'_, Station>, fresh: &Freshness, with_distance: bool) -> Vec<String> {
    let s = h.item;
    let mut row = vec![s.id.clone()];
    if with_distance {
        row.push(format!("{:.1}", h.distance_m));
    }
    row.extend([
        s.name_zh.clone().unwrap_or_else(|| s.name.clone()),
        s.kind.to_string(),
        fresh
            .free_seats(s)
            .map_or_else(|| "?".to_string(), |n| n.to_string()),
        s.capacity.to_string(),
        s.opening_hours.to_string(),
        s.amenities
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(","),
    ]);
    row
}

fn station_json(
    h: &Hit<'_, Station>,
    crs: Crs,
    fresh: &Freshness,
    with_distance: bool,
) -> serde_json::Value {
    let s = h.item;
    let p = crs.from_wgs84(s.location);
    let mut v = json!({
        "id": s.id,
        "name": s.name,
        "name_zh": s.name_zh,
        "kind": s.kind,
        "lon": p.lon,
        "lat": p.lat,
        "capacity": s.capacity,
        "free_seats": fresh.free_seats(s),
        "opening_hours": s.opening_hours.as_str(),
        "amenities": s.amenities,
        "grid_unit": s.grid_unit,
    });
    if with_distance {
        v["distance_m"] = json!(yizhan_core::geodesy::reported_m(h.distance_m));
    }
    v
}

/// Print stations; free seats from a current report (`fresh`), unknown (`?`, JSON
/// `null`) without one, as the server's courier answers show them.
fn print_stations(
    ctx: &Ctx,
    hits: &[Hit<'_, Station>],
    fresh: &Freshness,
    with_distance: bool,
) -> Result<()> {
    let mut headers = vec!["id"];
    if with_distance {
        headers.push("distance_m");
    }
    headers.extend(["name", "kind", "free", "seats", "hours", "amenities"]);
    let mut table = Table::new(&headers);
    table.rows = hits
        .iter()
        .map(|h| station_row(h, fresh, with_distance))
        .collect();
    let json = serde_json::Value::Array(
        hits.iter()
            .map(|h| station_json(h, ctx.crs, fresh, with_distance))
            .collect(),
    );
    let features = hits
        .iter()
        .map(|h| {
            let mut extra = geojson::JsonObject::new();
            if with_distance {
                extra.insert(
                    "distance_m".into(),
                    json!(yizhan_core::geodesy::reported_m(h.distance_m)),
                );
            }
            extra.insert("free_seats".into(), json!(fresh.free_seats(h.item)));
            io::station_feature(h.item, ctx.crs, extra)
        })
        .collect();
    emit(ctx.format(), &json, Some(features), &table)
}

/// `yizhan nearest`.
pub fn nearest(ctx: &Ctx, a: NearestArgs) -> Result<ExitCode> {
    let at = point(ctx, a.lon, a.lat)?;
    if a.k == 0 || a.k > MAX_K {
        bail!("-k {} is out of range (1 to {MAX_K})", a.k);
    }
    if let Some(m) = a.max_m {
        if !(m.is_finite() && m >= 0.0) {
            bail!("--max-m {m} must be a distance in metres ≥ 0");
        }
    }
    let (filter, fresh) = (a.filter.filter()?, a.filter.freshness());
    let stations = ctx.load_stations()?;
    let hits = stations.nearest_on_ellipsoid(at, a.k, a.max_m, |s| filter.accepts_fresh(s, &fresh));
    print_stations(ctx, &hits, &fresh, true)?;
    Ok(ExitCode::SUCCESS)
}

/// `yizhan within`.
pub fn within(ctx: &Ctx, a: WithinArgs) -> Result<ExitCode> {
    let (filter, fresh) = (a.filter.filter()?, a.filter.freshness());
    let keep = |s: &Station| filter.accepts_fresh(s, &fresh);
    match (a.lat, a.lon, a.radius_m, &a.bbox) {
        (Some(lat), Some(lon), Some(r), None) => {
            let at = point(ctx, lon, lat)?;
            if !(r.is_finite() && r >= 0.0) {
                bail!("--radius-m {r} must be a distance in metres ≥ 0");
            }
            let stations = ctx.load_stations()?;
            let mut hits = stations.within_radius_on_ellipsoid(at, r, keep);
            Hit::nearest_first(&mut hits);
            print_stations(ctx, &hits, &fresh, true)?;
        }
        (None, None, None, Some(b)) => {
            let mut bbox: BBox = b.parse()?;
            if ctx.crs != Crs::Wgs84 {
                let sw = point(ctx, bbox.west, bbox.south)?;
                let ne = point(ctx, bbox.east, bbox.north)?;
                bbox = BBox::new(sw.lon, sw.lat, ne.lon, ne.lat)?;
            }
            let stations = ctx.load_stations()?;
            let hits = stations.within_bbox(&bbox, keep);
            print_stations(ctx, &hits, &fresh, false)?;
        }
        _ => bail!("give either --lat, --lon and --radius-m, or --bbox W,S,E,N"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `yizhan validate`.
pub fn validate(_ctx: &Ctx, a: ValidateArgs) -> Result<ExitCode> {
    let mut problems = 0usize;
    for f in &a.files {
        let Some(layer) = a.layer.or_else(|| Layer::from_path(f)) else {
            eprintln!(
                "{}: cannot tell the layer from the file name; pass --layer",
                f.display()
            );
            problems += 1;
            continue;
        };
        let found = yizhan_core::dataset::validate_file(f, layer);
        if found.is_empty() {
            println!("{}: ok ({layer})", f.display());
        }
        for p in &found {
            eprintln!("{p}");
        }
        problems += found.len();
    }
    if problems > 0 {
        eprintln!("{problems} problem(s) found");
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// The file name `yizhan export` suggests for a layer in `crs`: `stations.geojson`,
/// `stations-gcj02.geojson` (the datum in the name, as the server's downloads).
pub fn export_file_name(layer: Layer, crs: Crs) -> String {
    match crs {
        Crs::Wgs84 => format!("{layer}.geojson"),
        other => format!("{layer}-{other}.geojson"),
    }
}

/// `yizhan export`: the layer in the GIS form; in GCJ-02 the file says so (a
/// `yizhan:crs` member and a `coordinate_system` property on every feature). An
/// `--out` folder gets the suggested file name ([`export_file_name`]).
pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<ExitCode> {
    let data = match &a.store {
        Some(at) => {
            anyhow::ensure!(at.exists(), "store {at} does not exist");
            crate::store_cmds::open(at)?
                .load()
                .with_context(|| format!("cannot read store {at}"))?
        }
        None => ctx.load()?,
    };
    let features = data.gis_features(a.layer, ctx.crs);
    let text = io::to_string_lines_in(&features, ctx.crs);
    if a.out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())?;
    } else {
        let suggested = export_file_name(a.layer, ctx.crs);
        let out = if a.out.is_dir() {
            a.out.join(&suggested)
        } else {
            a.out.clone()
        };
        std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {} {} to {}", features.len(), a.layer, out.display());
        let named = out
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("gcj"));
        if ctx.crs != Crs::Wgs84 && !named {
            eprintln!(
                "note: the coordinates are {} (not WGS 84); a name such as {suggested} says so",
                ctx.crs.label()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use yizhan_core::hours::OpeningHours;
    use yizhan_core::model::Occupancy;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        filter: FilterArgs,
    }

    fn filter_args(args: &[&str]) -> FilterArgs {
        Cli::parse_from(std::iter::once("yizhan").chain(args.iter().copied())).filter
    }

    /// A full station whose report is `age_min` minutes old.
    fn full_station(age_min: i64) -> Station {
        Station {
            id: "S1".into(),
            name: "s".into(),
            name_zh: None,
            kind: StationKind::RestStation,
            location: LonLat::new(118.47, 24.72).unwrap(),
            amenities: AmenitySet::empty(),
            capacity: 10,
            occupancy: Some(Occupancy {
                occupied: 10,
                reported_at: chrono::Utc::now() - chrono::TimeDelta::minutes(age_min),
            }),
            opening_hours: OpeningHours::always(),
            grid_unit: None,
            operator: None,
            address: None,
        }
    }

    #[test]
    fn min_free_counts_a_report_older_than_the_maximum_age_as_unknown() {
        let args = filter_args(&["--min-free", "3"]);
        let (f, fresh) = (args.filter().unwrap(), args.freshness());
        assert_eq!(fresh.max_age, DEFAULT_OCCUPANCY_MAX_AGE);
        assert!(
            !f.accepts_fresh(&full_station(60), &fresh),
            "full an hour ago"
        );
        assert!(
            f.accepts_fresh(&full_station(180), &fresh),
            "3 h old: unknown"
        );
        let args = filter_args(&["--min-free", "3", "--occupancy-max-age", "4h"]);
        let (f, fresh) = (args.filter().unwrap(), args.freshness());
        assert!(
            !f.accepts_fresh(&full_station(180), &fresh),
            "within 4 h: full"
        );
    }
}
