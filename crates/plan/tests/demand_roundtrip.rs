//! The round trip of demand from traces: the sample town's hotspots → seeded
//! synthetic GPS pings (`synth::write_traces`) → `demand::hotspots_from_pings` →
//! hotspots that match the sample within stated tolerances:
//! - workers: the recovered total within 3 % of the sample's;
//! - place: at least 95 % of the sample's workers have a recovered hotspot within
//!   250 m, and the workers per village (grid unit, by the nearest sample hotspot)
//!   differ by at most 10 % of the total in all;
//! - time: the town's worker-weighted hourly profile within 0.15 (L1 over 24 hours)
//!   of the sample's weekday one; each worker type's within 0.4 (hotspots of
//!   several types gather in one recovered hotspot, which takes the most common
//!   type); the town's busiest hour within an hour.
//!
//! The clustering merges sample hotspots closer than its cells (median spacing of
//! the sample: ≈ 100 m), so hotspots are not matched one to one.

use std::path::Path;

use yizhan_core::geodesy::haversine_m;
use yizhan_core::profile::HOURS;
use yizhan_core::synth;
use yizhan_core::{Dataset, Hotspot, WorkerType};
use yizhan_plan::demand::{hotspots_from_pings, DemandCounts, DemandParams};

fn sample() -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/anhai");
    Dataset::load_dir(&dir).expect("the sample dataset loads")
}

/// Worker-weighted hourly profile of `hs` (of type `t` when given), from `pick`.
fn town_profile(
    hs: &[Hotspot],
    t: Option<WorkerType>,
    pick: impl Fn(&Hotspot) -> [f64; HOURS],
) -> [f64; HOURS] {
    let mut out = [0.0; HOURS];
    let mut sum = 0.0;
    for h in hs.iter().filter(|h| t.is_none_or(|t| h.worker_type == t)) {
        let w = f64::from(h.workers);
        for (o, x) in out.iter_mut().zip(pick(h)) {
            *o += w * x;
        }
        sum += w;
    }
    out.map(|x| x / sum)
}

fn busiest(a: &[f64; HOURS]) -> usize {
    (0..HOURS).max_by(|&x, &y| a[x].total_cmp(&a[y])).unwrap()
}

#[test]
fn traces_from_the_sample_give_back_its_hotspots() {
    let ds = sample();
    let truth = ds.hotspots.items();
    assert!(
        truth.iter().all(|h| h.profile.is_some()),
        "the sample has profiles"
    );
    let mut csv = Vec::new();
    let made = synth::write_traces(truth, 2024, &mut csv).unwrap();
    let total: u32 = truth.iter().map(|h| h.workers).sum();
    assert_eq!(made.stops, u64::from(total));
    assert!(made.workers < made.stops, "workers make several stops");
    let mut counts = DemandCounts::default();
    let got = hotspots_from_pings(&csv[..], &DemandParams::default(), &mut counts, |_| {}).unwrap();
    assert_eq!(counts.pings, made.pings);
    assert_eq!((counts.broken, counts.no_timezone, counts.jumps), (0, 0, 0));
    assert_eq!(counts.workers, made.workers);

    // Workers.
    let back: u32 = got.iter().map(|h| h.workers).sum();
    let off = (f64::from(back) - f64::from(total)).abs() / f64::from(total);
    assert!(off <= 0.03, "{back} workers back of {total}");

    // Place.
    let near: u32 = truth
        .iter()
        .filter(|t| {
            got.iter()
                .any(|g| haversine_m(g.location, t.location) <= 250.0)
        })
        .map(|t| t.workers)
        .sum();
    assert!(
        f64::from(near) >= 0.95 * f64::from(total),
        "{near} of {total} workers have a hotspot within 250 m"
    );
    let unit = |h: &Hotspot| -> String {
        truth
            .iter()
            .min_by(|a, b| {
                haversine_m(a.location, h.location).total_cmp(&haversine_m(b.location, h.location))
            })
            .and_then(|t| t.grid_unit.clone())
            .unwrap_or_default()
    };
    let mut by_unit: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for t in truth {
        by_unit.entry(unit(t)).or_default().0 += f64::from(t.workers);
    }
    for g in &got {
        by_unit.entry(unit(g)).or_default().1 += f64::from(g.workers);
    }
    let moved: f64 = by_unit.values().map(|(a, b)| (a - b).abs()).sum();
    assert!(
        moved <= 0.10 * f64::from(total),
        "{moved} workers in other villages: {by_unit:?}"
    );

    // Time.
    let want = town_profile(truth, None, |h| h.profile.as_ref().unwrap().weekday);
    let have = town_profile(&got, None, |h| h.profile.as_ref().unwrap().hourly);
    let l1: f64 = want.iter().zip(&have).map(|(a, b)| (a - b).abs()).sum();
    eprintln!("town L1 {l1:.3}, workers back {back} of {total}, near {near}, moved {moved}");
    assert!(l1 <= 0.15, "L1 {l1}: {want:?} vs {have:?}");
    let (a, b) = (busiest(&want), busiest(&have));
    assert!(
        a.abs_diff(b) <= 1,
        "the town's busiest hour {a} came back as {b}"
    );
    for t in WorkerType::ALL {
        if !truth.iter().any(|h| h.worker_type == t) {
            continue;
        }
        let want = town_profile(truth, Some(t), |h| h.profile.as_ref().unwrap().weekday);
        let have = town_profile(&got, Some(t), |h| h.profile.as_ref().unwrap().hourly);
        let l1: f64 = want.iter().zip(&have).map(|(a, b)| (a - b).abs()).sum();
        eprintln!("{t:?}: L1 {l1:.3}");
        // Recovered hotspots mix types where they gather together: looser per type.
        assert!(l1 <= 0.4, "{t:?}: L1 {l1}");
    }
    // Aggregates only: no worker id in the output.
    for g in &got {
        assert!(g.id.starts_with("demand-"), "{}", g.id);
    }
}
