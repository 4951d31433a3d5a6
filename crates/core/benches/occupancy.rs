//! One occupancy report at country scale: the synthetic country dataset of
//! `yizhan_core::synth` (150,000 stations, 5,000,000 hotspots, seed 1), loaded once.
//!
//! Peers, in the same run, each making the next version of the dataset with one
//! station's report changed and dropping it again:
//! - `set_occupancy`: a shared clone of the dataset (`Arc` per layer) and
//!   [`Dataset::set_occupancy`], once the live table exists (every report after the
//!   first since the layer was built);
//! - `set_occupancy_first`: the same on a version with no report yet, which builds
//!   the live table (once per stations layer);
//! - `full_copy`: the way before issue 13, as the server's write path did it: every
//!   station copied with the report patched in by a linear search, the stations'
//!   k-d tree rebuilt, and every other layer cloned (the hotspots as loaded, their
//!   k-d tree not yet built: the cheapest case of the old way).
//!
//! `cargo bench -p yizhan-core --bench occupancy`. The generated dataset (about
//! 1 GB of GeoJSON) is kept in Cargo's target tmp dir and reused by later runs.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use yizhan_core::model::{Boundary, Candidate, GridCell, Hotspot, Occupancy, Station};
use yizhan_core::synth::BulkSpec;
use yizhan_core::{Dataset, GeoIndex};

/// The seed of the benchmarks' country dataset (as in BENCHMARKS.md).
const SEED: u64 = 1;

/// A version of the dataset as the server held it before issue 13: every layer by value.
type Copied = (
    GeoIndex<Station>,
    GeoIndex<Hotspot>,
    GeoIndex<GridCell>,
    GeoIndex<Candidate>,
    Option<Boundary>,
);

/// The old write path: copy the stations with the report patched in, rebuild their
/// index, clone every other layer.
fn full_copy(d: &Dataset, id: &str, o: Option<Occupancy>) -> Copied {
    let mut stations = d.stations.items().to_vec();
    if let Some(s) = stations.iter_mut().find(|s| s.id == id) {
        s.occupancy = o;
    }
    (
        GeoIndex::new(stations),
        (*d.hotspots).clone(),
        (*d.cells).clone(),
        (*d.candidates).clone(),
        d.boundary.as_deref().cloned(),
    )
}

fn occupancy(c: &mut Criterion) {
    let data = common::bulk_dataset("country", &BulkSpec::country(), SEED);
    assert_eq!(data.stations.len(), 150_000);
    assert_eq!(data.hotspots.len(), 5_000_000);
    let report = |occupied| {
        Some(Occupancy {
            occupied,
            reported_at: chrono::DateTime::from_timestamp(1_796_126_400, 0).unwrap_or_default(),
        })
    };
    // Stations spread over the layer, so that reports land in every chunk.
    let ids: Vec<String> = (0..97)
        .map(|k| data.stations.items()[k * 1_543].id.clone())
        .collect();
    let mut warm = data.clone();
    assert!(warm.set_occupancy(&ids[0], report(1)));

    let mut g = c.benchmark_group("occupancy_report_country");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    let mut k = 0;
    for (name, base) in [("set_occupancy", &warm), ("set_occupancy_first", &data)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                k = (k + 1) % ids.len();
                let mut next = base.clone();
                assert!(next.set_occupancy(&ids[k], report(k as u32 % 4)));
                black_box(next)
            })
        });
    }
    // About a second an iteration: ten of them.
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(40));
    g.bench_function("full_copy", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            black_box(full_copy(&data, &ids[k], report(k as u32 % 4)))
        })
    });
    g.finish();
}

criterion_group!(benches, occupancy);
criterion_main!(benches);
