//! Options every command takes, and output in table, JSON, GeoJSON or CSV.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use unicode_width::UnicodeWidthStr;
use yizhan_core::crs::Crs;
use yizhan_core::Dataset;

/// The default dataset folder: the bundled sample town.
pub const DEFAULT_DATA: &str = "data/anhai";

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people (default on a terminal).
    Table,
    /// JSON.
    Json,
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// Comma-separated values with a header row.
    Csv,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Ctx {
    /// Dataset folder (stations.geojson, hotspots.geojson, cells.geojson, …).
    #[arg(long, global = true, env = "YIZHAN_DATA", default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Coordinate system of coordinates given and printed (gcj02 for Amap/Tencent).
    #[arg(long, global = true, default_value = "wgs84")]
    pub crs: Crs,
}

impl Ctx {
    /// The output format: as asked, else table on a terminal and JSON in a pipe.
    pub fn format(&self) -> Format {
        self.format.unwrap_or(if std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        })
    }

    /// Load only the stations of the dataset folder (what courier queries need).
    pub fn load_stations(&self) -> Result<yizhan_core::GeoIndex<yizhan_core::Station>> {
        let path = self.data.join("stations.geojson");
        let stations =
            yizhan_core::dataset::read_stations_file(&path, yizhan_core::crs::Crs::Wgs84)
                .with_context(|| format!("cannot load dataset {}", self.data.display()))?;
        Ok(yizhan_core::GeoIndex::new(stations))
    }

    /// Load the dataset folder.
    pub fn load(&self) -> Result<Dataset> {
        Dataset::load_dir(&self.data)
            .with_context(|| format!("cannot load dataset {}", self.data.display()))
    }
}

/// A table of strings, printable in every format but GeoJSON.
pub struct Table {
    /// Column names.
    pub headers: Vec<String>,
    /// Rows, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Print aligned columns.
    pub fn print_text(&self, out: &mut impl Write) -> Result<()> {
        let width = |i: usize| {
            self.rows
                .iter()
                .map(|r| r[i].width())
                .chain([self.headers[i].width()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.width()))))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        writeln!(out, "{}", line(&self.headers))?;
        for r in &self.rows {
            writeln!(out, "{}", line(r))?;
        }
        Ok(())
    }

    /// Print CSV with a header row.
    pub fn print_csv(&self, out: impl Write) -> Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(&self.headers)?;
        for r in &self.rows {
            w.write_record(r)?;
        }
        w.flush()?;
        Ok(())
    }
}

/// Features as a table for CSV, in the flat GIS form (`yizhan_core::io::gis`): the
/// geometry as `lon`, `lat` columns when every feature is a point, else as a `wkt`
/// column (what QGIS and `ogr2ogr` read: `X_POSSIBLE_NAMES=lon`, `Y_POSSIBLE_NAMES=lat`
/// or `GEOM_POSSIBLE_NAMES=wkt`), then `id` and every property in key order.
pub fn features_table(features: &[geojson::Feature]) -> Table {
    let mut features = features.to_vec();
    yizhan_core::io::gis::to_gis(&mut features);
    let point = |f: &geojson::Feature| match f.geometry.as_ref().map(|g| &g.value) {
        Some(geojson::GeometryValue::Point { coordinates }) if coordinates.len() >= 2 => {
            Some((coordinates[0], coordinates[1]))
        }
        _ => None,
    };
    let points = features.iter().all(|f| point(f).is_some());
    let mut headers: Vec<String> = if points {
        vec!["lon".into(), "lat".into()]
    } else {
        vec!["wkt".into()]
    };
    let names: Vec<String> = features
        .first()
        .and_then(|f| f.properties.as_ref())
        .map(|p| p.keys().filter(|k| *k != "id").cloned().collect())
        .unwrap_or_default();
    headers.push("id".into());
    headers.extend(names.iter().cloned());
    let text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let rows = features
        .iter()
        .map(|f| {
            let mut row = match point(f) {
                Some((x, y)) if points => vec![x.to_string(), y.to_string()],
                _ => vec![wkt_of(f)],
            };
            let props = f.properties.as_ref();
            let id = match &f.id {
                Some(geojson::feature::Id::String(s)) => s.clone(),
                Some(geojson::feature::Id::Number(n)) => n.to_string(),
                None => text(props.and_then(|p| p.get("id"))),
            };
            row.push(id);
            row.extend(names.iter().map(|n| text(props.and_then(|p| p.get(n)))));
            row
        })
        .collect();
    Table { headers, rows }
}

/// A feature's geometry as WKT (empty without one).
fn wkt_of(f: &geojson::Feature) -> String {
    use wkt::ToWkt;
    f.geometry
        .as_ref()
        .and_then(|g| geo_types::Geometry::<f64>::try_from(g).ok())
        .map(|g| g.wkt_string())
        .unwrap_or_default()
}

/// Print a result in the chosen format: `json` for JSON, `features` for GeoJSON
/// and CSV (None when the result has no geometry), `table` for table (and CSV
/// when there are no features).
pub fn emit(
    fmt: Format,
    json: &serde_json::Value,
    features: Option<Vec<geojson::Feature>>,
    table: &Table,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match fmt {
        Format::Table => table.print_text(&mut out)?,
        Format::Csv => match &features {
            Some(f) => features_table(f).print_csv(&mut out)?,
            None => table.print_csv(&mut out)?,
        },
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(json)?)?,
        Format::Geojson => match features {
            Some(f) => writeln!(out, "{}", yizhan_core::io::to_string(f))?,
            None => anyhow::bail!(
                "--format geojson is not available for this command; use json, csv or table"
            ),
        },
    }
    Ok(())
}

/// Parse an age such as `90s`, `30m`, `2h`, `1d` (a bare number is seconds).
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not an age (expected e.g. 90s, 30m, 2h, 1d)"))?;
    let mult = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        u => return Err(format!("unknown unit {u:?} in {s:?} (use s, m, h or d)")),
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}
