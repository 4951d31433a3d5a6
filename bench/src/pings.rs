//! Seeded synthetic GPS pings for the `demand` figure (labelled synthetic): riders
//! moving around the sample town all day, one ping every [`PING_S`] seconds, with
//! stops at its hotspots.
//!
//! Each rider starts stopped at a random hotspot (weighted by its workers) and then
//! alternates: a stop of [`STOP_MIN_S`]–[`STOP_MAX_S`] with pings scattered up to
//! [`NOISE_M`] around the hotspot, then a straight ride to another hotspot within
//! [`HOP_MAX_M`] at e-bike speed ([`RIDE_MIN_MPS`]–[`RIDE_MAX_MPS`]), pinging all the
//! way, for `per_rider` pings from [`START_S`] (07:00 +08:00 on [`DAY`]): 10,000 pings
//! by default, a shift of 13 h 53 min (a whole day at 5 s would be 17,280 pings, so
//! 1,000 riders make the 10,000,000 pings with 10,000 each).
//! Rows are written rider by rider in time order, as CSV
//! `id,timestamp,lon,lat,worker_type` (RFC 3339 with the offset), which is what
//! `yizhan demand --pings` reads.

use std::io::Write;

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::{Hotspot, LonLat};

/// Seconds between pings.
pub const PING_S: i64 = 5;
/// Pings a rider makes by default (13 h 53 min 20 s at 5 s).
pub const PINGS_PER_RIDER: i64 = 10_000;
/// First ping, seconds after local midnight (07:00).
pub const START_S: i64 = 7 * 3600;
/// Shortest stop (s).
pub const STOP_MIN_S: i64 = 5 * 60;
/// Longest stop (s).
pub const STOP_MAX_S: i64 = 30 * 60;
/// GPS scatter during a stop (m).
pub const NOISE_M: f64 = 15.0;
/// The next hotspot lies at most this far (m).
pub const HOP_MAX_M: f64 = 3_000.0;
/// Slowest ride (m/s, 15 km/h).
pub const RIDE_MIN_MPS: f64 = 15.0 / 3.6;
/// Fastest ride (m/s, 25 km/h, the e-bike limit).
pub const RIDE_MAX_MPS: f64 = 25.0 / 3.6;
/// The day, local time +08:00.
pub const DAY: &str = "2026-07-01";

const M_PER_DEG: f64 = 111_195.0;

/// A point `dx` metres east and `dy` north of `p`.
fn offset(p: LonLat, dx: f64, dy: f64) -> LonLat {
    LonLat {
        lon: p.lon + dx / (M_PER_DEG * p.lat.to_radians().cos()),
        lat: p.lat + dy / M_PER_DEG,
    }
}

/// Write `riders` riders' day of pings (see the [module](self) documentation);
/// returns the rows written.
pub fn write_pings(
    hotspots: &[Hotspot],
    riders: usize,
    per_rider: i64,
    seed: u64,
    out: &mut impl Write,
) -> Result<u64> {
    anyhow::ensure!(!hotspots.is_empty(), "no hotspots to stop at");
    anyhow::ensure!(
        per_rider > 0 && START_S + per_rider * PING_S <= 86_400,
        "{per_rider} pings a rider do not fit in the day from 07:00 at {PING_S} s"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Cumulative workers, to draw hotspots by how busy they are.
    let mut cum = Vec::with_capacity(hotspots.len());
    let mut total = 0u64;
    for h in hotspots {
        total += u64::from(h.workers.max(1));
        cum.push(total);
    }
    let draw = |rng: &mut ChaCha8Rng| {
        let x = rng.random_range(0..total);
        cum.partition_point(|&c| c <= x)
    };
    writeln!(out, "id,timestamp,lon,lat,worker_type")?;
    let mut rows = 0u64;
    for r in 0..riders {
        let mut here = draw(&mut rng);
        let kind = hotspots[here].worker_type.as_str();
        let id = format!("rider-{r:05}");
        let mut k = 0i64; // ping index of the day
        let ping = |out: &mut dyn Write, k: i64, p: LonLat| -> std::io::Result<()> {
            let s = START_S + k * PING_S;
            writeln!(
                out,
                "{id},{DAY}T{:02}:{:02}:{:02}+08:00,{:.6},{:.6},{kind}",
                s / 3600,
                s / 60 % 60,
                s % 60,
                p.lon,
                p.lat
            )
        };
        while k < per_rider {
            // Stop.
            let at = hotspots[here].location;
            let n = rng.random_range(STOP_MIN_S..=STOP_MAX_S) / PING_S;
            for _ in 0..n {
                if k >= per_rider {
                    break;
                }
                let (dx, dy) = loop {
                    let (x, y): (f64, f64) =
                        (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
                    if x * x + y * y <= 1.0 {
                        break (x * NOISE_M, y * NOISE_M);
                    }
                };
                ping(out, k, offset(at, dx, dy))?;
                k += 1;
            }
            // Ride to another hotspot nearby (the nearest of a few draws when none is).
            let mut next = draw(&mut rng);
            for _ in 0..20 {
                let d = at.distance_m(hotspots[next].location);
                if next != here && d <= HOP_MAX_M {
                    break;
                }
                next = draw(&mut rng);
            }
            let to = hotspots[next].location;
            let d = at.distance_m(to).max(1.0);
            let speed = rng.random_range(RIDE_MIN_MPS..RIDE_MAX_MPS);
            let steps = ((d / speed) / PING_S as f64).ceil().max(1.0) as i64;
            for i in 1..=steps {
                if k >= per_rider {
                    break;
                }
                let f = i as f64 / steps as f64;
                let p = LonLat {
                    lon: at.lon + (to.lon - at.lon) * f,
                    lat: at.lat + (to.lat - at.lat) * f,
                };
                let (dx, dy) = (rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0));
                ping(out, k, offset(p, dx, dy))?;
                k += 1;
            }
            here = next;
        }
        rows += per_rider as u64;
    }
    out.flush().context("writing the pings")?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_core::dataset::Dataset;
    use yizhan_plan::demand::{self, DemandCounts, DemandParams};

    fn sample() -> Vec<Hotspot> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/anhai");
        Dataset::load_dir(&dir).unwrap().hotspots.items().to_vec()
    }

    #[test]
    fn a_day_a_rider_at_ride_speed_and_demand_finds_the_hotspots() {
        let hs = sample();
        let mut buf = Vec::new();
        let rows = write_pings(&hs, 6, PINGS_PER_RIDER, 3, &mut buf).unwrap();
        assert_eq!(rows, 6 * PINGS_PER_RIDER as u64);
        let text = String::from_utf8(buf.clone()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,timestamp,lon,lat,worker_type"));
        let mut last: Option<(String, i64, LonLat)> = None;
        let mut n = 0;
        for l in lines {
            n += 1;
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 5, "{l}");
            let t = chrono::DateTime::parse_from_rfc3339(f[1]).unwrap();
            assert_eq!(t.offset().local_minus_utc(), 8 * 3600);
            let p = LonLat::new(f[2].parse().unwrap(), f[3].parse().unwrap()).unwrap();
            if let Some((id, t0, p0)) = &last {
                if id == f[0] {
                    assert_eq!(t.timestamp() - t0, PING_S, "{l}");
                    // Ride speed plus the scatter of two pings.
                    let d = p0.distance_m(p);
                    assert!(
                        d <= RIDE_MAX_MPS * PING_S as f64 + 2.0 * NOISE_M + 1.0,
                        "{d} m: {l}"
                    );
                }
            }
            last = Some((f[0].to_string(), t.timestamp(), p));
        }
        assert_eq!(n, rows);
        // Every stay yizhan finds is at one of the hotspots the riders stop at.
        let mut counts = DemandCounts::default();
        let params = DemandParams {
            min_workers: 1,
            ..DemandParams::default()
        };
        let found =
            demand::hotspots_from_pings(buf.as_slice(), &params, &mut counts, |_| {}).unwrap();
        assert_eq!(counts.pings, rows);
        assert_eq!(counts.workers, 6);
        assert!(counts.stays >= 6 * 30, "{counts:?}");
        for h in &found {
            let near = hs
                .iter()
                .map(|x| x.location.distance_m(h.location))
                .fold(f64::INFINITY, f64::min);
            assert!(near <= 150.0, "{near} m from {:?}", h.location);
        }
    }
}
