//! Hotspots from GPS traces: stay points per worker, clustered into hotspots with
//! a demand profile by hour, aggregated so that no trace or id leaves.
//!
//! 1. **Pings** ([`read_pings`]): CSV with a header (`id`, `timestamp`, `lon`,
//!    `lat`, optional `worker_type`) or GeoJSON lines (one Point Feature a line,
//!    properties `id`, `timestamp`, optional `worker_type`), streamed line by line.
//!    A timestamp must be RFC 3339 with its offset (`2026-07-01T12:00:00+08:00`):
//!    rows without a time zone are counted and skipped, as are broken rows.
//!    Coordinates in GCJ-02 are converted with `core::crs`. Memory: pings are
//!    grouped per worker in compact buffers (24 bytes a ping plus one id a worker),
//!    so memory grows with the pings, not with the text; 10 million pings take
//!    about 240 MB. The input may be unsorted: each worker's buffer is sorted by
//!    time.
//! 2. **Cleaning** per worker: pings with the same time as the previous one are
//!    duplicates (dropped, counted); a ping that would need a speed above
//!    [`DEFAULT_MAX_SPEED_MPS`] from the last kept one is a jump (dropped, counted).
//! 3. **Stay points** ([`stay_points`], Li et al. 2008, "Mining user similarity
//!    based on location history"): from each anchor ping, the following pings
//!    within a distance threshold of it form a stay when they span at least the
//!    minimum duration; the stay is at their mean position. Defaults for riders:
//!    [`DEFAULT_STAY_DISTANCE_M`] = 50 m, [`DEFAULT_STAY_MINUTES`] = 5 min.
//! 4. **Hotspots** ([`cluster`]): a grid with merging. Stays fall into square
//!    cells of [`DEFAULT_CELL_M`]; the busiest cell, with its unclaimed 8
//!    neighbours, becomes a hotspot, then the next busiest unclaimed cell, and so
//!    on. This is DBSCAN-like without its chaining (a dense town does not become
//!    one cluster) and runs in linear time; `linfa-clustering` was not used since
//!    its DBSCAN is quadratic in memory for millions of stays and pulls in ndarray.
//! 5. **k-anonymity**: a hotspot seen from fewer than `min_workers` distinct
//!    workers ([`DEFAULT_MIN_WORKERS`] = 5) is merged into the nearest hotspot
//!    that has enough within [`DEFAULT_MERGE_M`], or dropped.
//! 6. **Profile**: each stay counts once for each local hour it overlaps (by the
//!    offset of its own timestamps), on all days, and on weekdays or weekends.
//!
//! The output holds aggregates only: position, distinct workers, the most common
//! worker type and the profile.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::model::{Hotspot, WorkerType};
use yizhan_core::profile::{DemandProfile, HOURS};

/// Stay distance threshold for riders (metres).
pub const DEFAULT_STAY_DISTANCE_M: f64 = 50.0;
/// Minimum duration of a stay for riders (minutes).
pub const DEFAULT_STAY_MINUTES: f64 = 5.0;
/// Faster than this between two pings is a GPS jump (metres a second, 108 km/h).
pub const DEFAULT_MAX_SPEED_MPS: f64 = 30.0;
/// Side of a clustering cell (metres).
pub const DEFAULT_CELL_M: f64 = 100.0;
/// Hotspots seen from fewer distinct workers are merged or dropped.
pub const DEFAULT_MIN_WORKERS: u32 = 5;
/// How far a small hotspot may be merged into a neighbour (metres).
pub const DEFAULT_MERGE_M: f64 = 300.0;

/// The parameters of [`hotspots_from_pings`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemandParams {
    /// The CRS of the pings' coordinates.
    pub crs: Crs,
    /// Stay distance threshold (m).
    pub stay_distance_m: f64,
    /// Minimum stay (minutes).
    pub stay_minutes: f64,
    /// Jump speed (m/s).
    pub max_speed_mps: f64,
    /// Clustering cell (m).
    pub cell_m: f64,
    /// k of k-anonymity.
    pub min_workers: u32,
    /// Merge distance for small hotspots (m).
    pub merge_m: f64,
}

impl Default for DemandParams {
    fn default() -> Self {
        Self {
            crs: Crs::Wgs84,
            stay_distance_m: DEFAULT_STAY_DISTANCE_M,
            stay_minutes: DEFAULT_STAY_MINUTES,
            max_speed_mps: DEFAULT_MAX_SPEED_MPS,
            cell_m: DEFAULT_CELL_M,
            min_workers: DEFAULT_MIN_WORKERS,
            merge_m: DEFAULT_MERGE_M,
        }
    }
}

/// What happened to the input: every row is read, kept or counted under a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DemandCounts {
    /// Rows read (not counting a CSV header or blank lines).
    pub pings: u64,
    /// Rows that are not a ping (wrong columns, numbers, coordinates, JSON).
    pub broken: u64,
    /// Rows whose timestamp has no time zone (or is not a time).
    pub no_timezone: u64,
    /// Rows with the same worker and time as a kept one.
    pub duplicates: u64,
    /// Rows that would need an impossible speed.
    pub jumps: u64,
    /// Distinct workers.
    pub workers: u64,
    /// Stay points found.
    pub stays: u64,
    /// Hotspots written.
    pub hotspots: u64,
    /// Small hotspots merged into a neighbour.
    pub merged: u64,
    /// Small hotspots dropped (no neighbour near enough).
    pub dropped: u64,
}

/// Why the pings cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemandError {
    /// Reading the input failed.
    #[error("reading the pings: {0}")]
    Io(#[from] std::io::Error),
    /// A CSV file without the columns it needs.
    #[error("the CSV header lacks the column {column:?} (need id, timestamp, lon, lat)")]
    Header {
        /// The missing column.
        column: &'static str,
    },
}

/// One cleaned ping of a worker (compact: 24 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RawPing {
    /// Unix seconds.
    t: i64,
    /// Offset of the local time (seconds east of UTC).
    offset: i32,
    lon: f32,
    lat: f32,
    /// Worker type index into [`WorkerType::ALL`], or 255.
    kind: u8,
}

/// Pings grouped per worker.
#[derive(Debug, Default)]
pub struct Pings {
    ids: HashMap<String, usize>,
    traces: Vec<Vec<RawPing>>,
}

impl Pings {
    fn push(&mut self, id: &str, p: RawPing) {
        let i = match self.ids.get(id) {
            Some(&i) => i,
            None => {
                self.ids.insert(id.to_string(), self.traces.len());
                self.traces.push(Vec::new());
                self.traces.len() - 1
            }
        };
        self.traces[i].push(p);
    }
}

/// One ping as read: the worker's id, the time, the place, the worker type.
enum Row<'a> {
    Ping(&'a str, RawPing),
    Broken,
    NoTimezone,
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok()
}

fn kind_of(s: Option<&str>) -> u8 {
    s.and_then(|s| s.trim().parse::<WorkerType>().ok())
        .and_then(|w| WorkerType::ALL.iter().position(|&x| x == w))
        .map_or(255, |i| i as u8)
}

fn make_ping<'a>(
    id: &'a str,
    ts: &str,
    lon: Option<f64>,
    lat: Option<f64>,
    kind: Option<&str>,
    crs: Crs,
) -> Row<'a> {
    let (Some(lon), Some(lat)) = (lon, lat) else {
        return Row::Broken;
    };
    let Ok(at) = LonLat::new(lon, lat) else {
        return Row::Broken;
    };
    if id.trim().is_empty() {
        return Row::Broken;
    }
    let Some(t) = parse_time(ts) else {
        return Row::NoTimezone;
    };
    let at = crs.to_wgs84(at);
    Row::Ping(
        id,
        RawPing {
            t: t.timestamp(),
            offset: t.offset().local_minus_utc(),
            lon: at.lon as f32,
            lat: at.lat as f32,
            kind: kind_of(kind),
        },
    )
}

fn geojson_row<'a>(v: &'a serde_json::Value, crs: Crs) -> Row<'a> {
    let props = &v["properties"];
    let coords = &v["geometry"]["coordinates"];
    let id = props["id"].as_str().or_else(|| v["id"].as_str());
    let (Some(id), Some(ts)) = (id, props["timestamp"].as_str()) else {
        return Row::Broken;
    };
    make_ping(
        id,
        ts,
        coords[0].as_f64(),
        coords[1].as_f64(),
        props["worker_type"].as_str(),
        crs,
    )
}

/// Read pings (CSV with a header, or GeoJSON lines: the first non-blank byte
/// decides) from a stream; `progress` is told the bytes read so far.
pub fn read_pings(
    input: impl BufRead,
    crs: Crs,
    counts: &mut DemandCounts,
    mut progress: impl FnMut(u64),
) -> Result<Pings, DemandError> {
    let mut pings = Pings::default();
    let mut lines = input.lines();
    let mut bytes = 0u64;
    let mut header: Option<[usize; 5]> = None;
    let mut first = true;
    while let Some(line) = lines.next().transpose()? {
        bytes += line.len() as u64 + 1;
        if bytes % (1 << 20) < line.len() as u64 + 1 {
            progress(bytes);
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if first && !text.starts_with('{') {
            first = false;
            let cols: Vec<String> = text.split(',').map(|c| c.trim().to_lowercase()).collect();
            let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
            let need = |names: &[&str], column| find(names).ok_or(DemandError::Header { column });
            header = Some([
                need(&["id", "worker_id", "device_id"], "id")?,
                need(&["timestamp", "time", "t"], "timestamp")?,
                need(&["lon", "lng", "longitude"], "lon")?,
                need(&["lat", "latitude"], "lat")?,
                find(&["worker_type", "type"]).unwrap_or(usize::MAX),
            ]);
            continue;
        }
        first = false;
        counts.pings += 1;
        let json;
        let row = if let Some([ci, ct, cx, cy, ck]) = header {
            let f: Vec<&str> = text.split(',').collect();
            match (f.get(ci), f.get(ct)) {
                (Some(id), Some(ts)) => make_ping(
                    id.trim(),
                    ts,
                    f.get(cx).and_then(|x| x.trim().parse().ok()),
                    f.get(cy).and_then(|x| x.trim().parse().ok()),
                    f.get(ck).copied(),
                    crs,
                ),
                _ => Row::Broken,
            }
        } else {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => {
                    json = v;
                    geojson_row(&json, crs)
                }
                Err(_) => Row::Broken,
            }
        };
        match row {
            Row::Ping(id, p) => pings.push(id, p),
            Row::Broken => counts.broken += 1,
            Row::NoTimezone => counts.no_timezone += 1,
        }
    }
    progress(bytes);
    counts.workers = pings.traces.len() as u64;
    Ok(pings)
}

fn at(p: &RawPing) -> LonLat {
    LonLat {
        lon: f64::from(p.lon),
        lat: f64::from(p.lat),
    }
}

/// Sort one worker's pings by time, drop duplicates and jumps (counted).
fn clean(trace: &mut Vec<RawPing>, max_speed: f64, counts: &mut DemandCounts) {
    trace.sort_by_key(|p| p.t);
    let mut kept: Vec<RawPing> = Vec::with_capacity(trace.len());
    for &p in trace.iter() {
        if let Some(last) = kept.last() {
            if last.t == p.t {
                counts.duplicates += 1;
                continue;
            }
            let d = at(last).distance_m(at(&p));
            if d / (p.t - last.t) as f64 > max_speed {
                counts.jumps += 1;
                continue;
            }
        }
        kept.push(p);
    }
    *trace = kept;
}

/// A stay point: where a worker stayed, from when to when (Unix seconds), in
/// which local offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stay {
    /// Mean position of its pings.
    pub at: LonLat,
    /// First ping.
    pub arrive: i64,
    /// Last ping.
    pub leave: i64,
    /// Offset of local time (s).
    pub offset: i32,
    /// Worker type index, 255 when unknown.
    kind: u8,
}

/// The stay points of one time-ordered trace (Li et al. 2008): from each anchor,
/// the following pings within `distance_m` of it; a stay when they span at least
/// `minutes`.
fn stay_points(trace: &[RawPing], distance_m: f64, minutes: f64) -> Vec<Stay> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < trace.len() {
        let anchor = at(&trace[i]);
        let mut j = i + 1;
        while j < trace.len() && anchor.distance_m(at(&trace[j])) <= distance_m {
            j += 1;
        }
        let (arrive, leave) = (trace[i].t, trace[j - 1].t);
        if (leave - arrive) as f64 >= minutes * 60.0 {
            let n = (j - i) as f64;
            let (lon, lat) = trace[i..j].iter().fold((0.0, 0.0), |(x, y), p| {
                (x + f64::from(p.lon), y + f64::from(p.lat))
            });
            out.push(Stay {
                at: LonLat {
                    lon: lon / n,
                    lat: lat / n,
                },
                arrive,
                leave,
                offset: trace[i].offset,
                kind: trace[i].kind,
            });
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// A cluster being built: its stays (worker index, stay).
struct Cluster {
    stays: Vec<(usize, Stay)>,
}

impl Cluster {
    fn centre(&self) -> LonLat {
        let n = self.stays.len() as f64;
        let (x, y) = self
            .stays
            .iter()
            .fold((0.0, 0.0), |(x, y), (_, s)| (x + s.at.lon, y + s.at.lat));
        LonLat {
            lon: x / n,
            lat: y / n,
        }
    }

    fn workers(&self) -> u32 {
        let mut w: Vec<usize> = self.stays.iter().map(|s| s.0).collect();
        w.sort_unstable();
        w.dedup();
        w.len() as u32
    }
}

/// Cluster stays (with their worker index) into grid-with-merging clusters.
fn cluster(stays: Vec<(usize, Stay)>, cell_m: f64) -> Vec<Cluster> {
    if stays.is_empty() {
        return Vec::new();
    }
    let lat0 = stays.iter().map(|s| s.1.at.lat).sum::<f64>() / stays.len() as f64;
    let m_per_deg = yizhan_core::geodesy::EARTH_RADIUS_M.to_radians();
    let kx = m_per_deg * lat0.to_radians().cos() / cell_m;
    let ky = m_per_deg / cell_m;
    let mut cells: HashMap<(i64, i64), Vec<(usize, Stay)>> = HashMap::new();
    for s in stays {
        let key = (
            (s.1.at.lon * kx).floor() as i64,
            (s.1.at.lat * ky).floor() as i64,
        );
        cells.entry(key).or_default().push(s);
    }
    let mut order: Vec<((i64, i64), usize)> = cells.iter().map(|(k, v)| (*k, v.len())).collect();
    // Busiest first; ties by cell, so the result does not depend on hashing.
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = Vec::new();
    for (key, _) in order {
        let Some(mut stays) = cells.remove(&key) else {
            continue;
        };
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(more) = cells.remove(&(key.0 + dx, key.1 + dy)) {
                    stays.extend(more);
                }
            }
        }
        out.push(Cluster { stays });
    }
    out
}

/// Merge clusters seen from fewer than `min_workers` workers into the nearest
/// cluster with enough within `merge_m`, else drop them (counted).
fn anonymise(
    clusters: Vec<Cluster>,
    min_workers: u32,
    merge_m: f64,
    counts: &mut DemandCounts,
) -> Vec<Cluster> {
    let (mut big, small): (Vec<Cluster>, Vec<Cluster>) = clusters
        .into_iter()
        .partition(|c| c.workers() >= min_workers);
    let centres: Vec<LonLat> = big.iter().map(Cluster::centre).collect();
    for c in small {
        let here = c.centre();
        let best = centres
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.distance_m(here)))
            .filter(|&(_, d)| d <= merge_m)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, _)) => {
                big[i].stays.extend(c.stays);
                counts.merged += 1;
            }
            None => counts.dropped += 1,
        }
    }
    big
}

/// The demand profile of a cluster's stays: each stay counts once for every
/// local hour it overlaps.
fn profile(stays: &[(usize, Stay)]) -> DemandProfile {
    let mut w = [[0.0; HOURS]; 3];
    for (_, s) in stays {
        let mut t = s.arrive - s.arrive.rem_euclid(3600);
        while t <= s.leave {
            let local = DateTime::from_timestamp(t + i64::from(s.offset), 0)
                .map(|d| d.naive_utc())
                .unwrap_or_default();
            let h = local.hour() as usize;
            w[0][h] += 1.0;
            let weekend = local.weekday().number_from_monday() >= 6;
            w[if weekend { 2 } else { 1 }][h] += 1.0;
            t += 3600;
        }
    }
    DemandProfile::from_weights(w[0], w[1], w[2]).unwrap_or_else(|_| DemandProfile::uniform())
}

/// Hotspots from pings already read (see the [module](self) documentation).
pub fn hotspots_from(
    mut pings: Pings,
    params: &DemandParams,
    counts: &mut DemandCounts,
) -> Vec<Hotspot> {
    let mut stays = Vec::new();
    for (w, trace) in pings.traces.iter_mut().enumerate() {
        clean(trace, params.max_speed_mps, counts);
        stays.extend(
            stay_points(trace, params.stay_distance_m, params.stay_minutes)
                .into_iter()
                .map(|s| (w, s)),
        );
        // The trace is no longer needed.
        *trace = Vec::new();
    }
    counts.stays = stays.len() as u64;
    let clusters = anonymise(
        cluster(stays, params.cell_m),
        params.min_workers,
        params.merge_m,
        counts,
    );
    let mut out: Vec<Hotspot> = clusters
        .iter()
        .map(|c| {
            let mut kinds = [0u32; 256];
            for (_, s) in &c.stays {
                kinds[s.kind as usize] += 1;
            }
            let top = (0..WorkerType::ALL.len()).max_by_key(|&i| (kinds[i], usize::MAX - i));
            let worker_type = top
                .filter(|&i| kinds[i] > 0)
                .map_or(WorkerType::Other, |i| WorkerType::ALL[i]);
            let centre = c.centre();
            Hotspot {
                id: String::new(),
                location: LonLat::new(centre.lon, centre.lat).unwrap_or(centre),
                workers: c.workers(),
                worker_type,
                grid_unit: None,
                profile: Some(profile(&c.stays)),
            }
        })
        .collect();
    // A stable order and ids that say nothing about a worker.
    out.sort_by(|a, b| {
        b.workers
            .cmp(&a.workers)
            .then(a.location.lon.total_cmp(&b.location.lon))
            .then(a.location.lat.total_cmp(&b.location.lat))
    });
    for (i, h) in out.iter_mut().enumerate() {
        h.id = format!("demand-{:04}", i + 1);
    }
    counts.hotspots = out.len() as u64;
    out
}

/// Read pings and make hotspots in one go.
pub fn hotspots_from_pings(
    input: impl BufRead,
    params: &DemandParams,
    counts: &mut DemandCounts,
    progress: impl FnMut(u64),
) -> Result<Vec<Hotspot>, DemandError> {
    let pings = read_pings(input, params.crs, counts, progress)?;
    Ok(hotspots_from(pings, params, counts))
}

#[cfg(test)]
mod tests;
