//! Seeded synthetic GPS traces (labelled synthetic): one weekday of pings from
//! outdoor workers who stop at the town's hotspots, so that `yizhan demand` can be
//! checked against the hotspots they were made from.
//!
//! Every worker of a hotspot makes one stop there: its start hour is drawn from the
//! hotspot's weekday profile (its type's typical one when it has none), the minute
//! uniformly, and it lasts [`STOP_MIN_S`]–[`STOP_MAX_S`], with pings every
//! [`PING_S`] seconds scattered up to [`NOISE_M`] around the hotspot. A stop is
//! reached by a ride of [`LEG_M`] from a random bearing and left by another, at
//! e-bike speed ([`RIDE_MPS`]), pinging all the way. Stops are chained into
//! workers of the same type (at most [`MAX_STOPS`] a day): a worker's stops lie at
//! least [`STOP_SPACING_M`] apart (so each hotspot counts a worker once), with at
//! least [`QUIET_S`] of silence between leaving one and riding to the next, over
//! which it would need no more than [`MAX_GAP_MPS`]. Rows are written stop by stop,
//! so a worker's pings are not in time order (the reader sorts them), as exports
//! from several devices are not.

use std::io::{self, Write};

use super::rng::Rng;
use crate::geodesy::{destination, haversine_m, LonLat};
use crate::model::{Hotspot, WorkerType};
use crate::profile::HOURS;

/// Seconds between pings.
pub const PING_S: i64 = 30;
/// Shortest stop (s).
pub const STOP_MIN_S: i64 = 10 * 60;
/// Longest stop (s).
pub const STOP_MAX_S: i64 = 30 * 60;
/// GPS scatter around a hotspot during a stop (m).
pub const NOISE_M: f64 = 15.0;
/// The ride to and from a stop (m).
pub const LEG_M: f64 = 1_000.0;
/// Riding speed (m/s, 15 km/h).
pub const RIDE_MPS: f64 = 15.0 / 3.6;
/// A worker's stops lie at least this far apart (m).
pub const STOP_SPACING_M: f64 = 1_500.0;
/// Silence between two rides of a worker (s).
pub const QUIET_S: i64 = 10 * 60;
/// The speed a worker's silent gap may imply (m/s).
pub const MAX_GAP_MPS: f64 = 15.0;
/// Where a worker's silence starts and ends lie at least this far apart (m), so that
/// the silence is no stop.
pub const MIN_GAP_M: f64 = 300.0;
/// Stops a worker makes in a day, at most.
pub const MAX_STOPS: usize = 6;
/// The day of the traces (a Wednesday), local time +08:00.
pub const TRACE_DAY: &str = "2026-07-01";

const DAY_S: i64 = 86_400;

/// What [`write_traces`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceSummary {
    /// Rows (pings).
    pub pings: u64,
    /// Distinct workers.
    pub workers: u64,
    /// Stops made.
    pub stops: u64,
}

struct Stop {
    hotspot: usize,
    /// Seconds after local midnight.
    start: i64,
    end: i64,
    /// Where the ride in starts and the ride out ends.
    from: LonLat,
    to: LonLat,
    kind: WorkerType,
}

impl Stop {
    fn ride_s() -> i64 {
        (LEG_M / RIDE_MPS).ceil() as i64
    }
    fn first_ping(&self) -> i64 {
        self.start - Self::ride_s()
    }
    fn last_ping(&self) -> i64 {
        self.end + Self::ride_s()
    }
}

struct Worker {
    kind: WorkerType,
    stops: Vec<usize>,
}

/// Write one weekday of pings (CSV: `id,timestamp,lon,lat,worker_type`) from the
/// workers of `hotspots`, seeded by `seed`.
pub fn write_traces(
    hotspots: &[Hotspot],
    seed: u64,
    out: &mut impl Write,
) -> io::Result<TraceSummary> {
    let mut rng = Rng::new(seed, 21);
    let mut stops = Vec::new();
    for (i, h) in hotspots.iter().enumerate() {
        let profile = h
            .profile
            .clone()
            .unwrap_or_else(|| super::profiles::typical_profile(h.worker_type));
        let cdf = super::rng::Cdf::new(profile.weekday);
        for _ in 0..h.workers {
            let hour = cdf.sample(&mut rng).min(HOURS - 1) as i64;
            let len = STOP_MIN_S + rng.below((STOP_MAX_S - STOP_MIN_S) as u64 + 1) as i64;
            let ride = Stop::ride_s();
            let start =
                (hour * 3600 + rng.below(3600) as i64).clamp(ride + 60, DAY_S - len - ride - 60);
            let bearing_in = rng.unit() * 360.0;
            let bearing_out = rng.unit() * 360.0;
            stops.push(Stop {
                hotspot: i,
                start,
                end: start + len,
                from: destination(h.location, bearing_in, LEG_M),
                to: destination(h.location, bearing_out, LEG_M),
                kind: h.worker_type,
            });
        }
    }
    // Chain stops into workers, earliest first.
    let mut order: Vec<usize> = (0..stops.len()).collect();
    order.sort_by_key(|&k| (stops[k].start, k));
    let mut workers: Vec<Worker> = Vec::new();
    for &k in &order {
        let s = &stops[k];
        let at = hotspots[s.hotspot].location;
        let fits = |w: &Worker| -> bool {
            if w.kind != s.kind || w.stops.len() >= MAX_STOPS {
                return false;
            }
            let last = &stops[*w.stops.last().expect("a worker has a stop")];
            let gap = s.first_ping() - last.last_ping();
            if gap < QUIET_S {
                return false;
            }
            let d = haversine_m(last.to, s.from);
            // Far enough not to look like a stop across the silence, slow enough not
            // to look like a jump.
            d > MIN_GAP_M
                && d < MAX_GAP_MPS * gap as f64
                && w.stops.iter().all(|&o| {
                    haversine_m(hotspots[stops[o].hotspot].location, at) >= STOP_SPACING_M
                })
        };
        // A few tries among the workers so far, from a random one.
        let n = workers.len();
        let mut chosen = None;
        if n > 0 {
            let from = rng.below(n as u64) as usize;
            for t in 0..n.min(40) {
                let w = (from + t) % n;
                if fits(&workers[w]) {
                    chosen = Some(w);
                    break;
                }
            }
        }
        match chosen {
            Some(w) => workers[w].stops.push(k),
            None => workers.push(Worker {
                kind: s.kind,
                stops: vec![k],
            }),
        }
    }
    let mut pings = 0u64;
    writeln!(out, "id,timestamp,lon,lat,worker_type")?;
    for (wi, w) in workers.iter().enumerate() {
        let id = format!("synthetic-worker-{:05}", wi + 1);
        for &k in &w.stops {
            let s = &stops[k];
            let at = hotspots[s.hotspot].location;
            let mut row = |t: i64, p: LonLat| -> io::Result<()> {
                pings += 1;
                writeln!(
                    out,
                    "{id},{TRACE_DAY}T{:02}:{:02}:{:02}+08:00,{:.6},{:.6},{}",
                    t / 3600,
                    t / 60 % 60,
                    t % 60,
                    p.lon,
                    p.lat,
                    s.kind.as_str()
                )
            };
            let ride = Stop::ride_s();
            let mut t = s.first_ping();
            while t < s.start {
                let frac = (s.start - t) as f64 / ride as f64;
                row(t, toward(at, s.from, frac))?;
                t += PING_S;
            }
            let mut t = s.start;
            while t <= s.end {
                let r = NOISE_M * rng.unit().sqrt();
                row(t, destination(at, rng.unit() * 360.0, r))?;
                t += PING_S;
            }
            let mut t = s.end + PING_S;
            while t <= s.last_ping() {
                let frac = ((t - s.end) as f64 / ride as f64).min(1.0);
                row(t, toward(at, s.to, frac))?;
                t += PING_S;
            }
        }
    }
    Ok(TraceSummary {
        pings,
        workers: workers.len() as u64,
        stops: stops.len() as u64,
    })
}

/// The point `frac` of the way from `a` to `b` (short distances: linear in degrees).
fn toward(a: LonLat, b: LonLat, frac: f64) -> LonLat {
    LonLat {
        lon: a.lon + (b.lon - a.lon) * frac,
        lat: a.lat + (b.lat - a.lat) * frac,
    }
}
