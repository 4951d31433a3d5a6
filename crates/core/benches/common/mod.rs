//! What several benchmarks share: datasets generated once, and the index build.
#![allow(dead_code)] // each bench uses its part

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup};
use yizhan_core::index::Located;
use yizhan_core::synth::{self, BulkSpec};
use yizhan_core::{Dataset, GeoIndex};

/// The bulk dataset of `spec` and `seed`, generated into Cargo's target tmp dir on
/// the first run (kept for later runs), then loaded.
pub fn bulk_dataset(name: &str, spec: &BulkSpec, seed: u64) -> Dataset {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-seed{seed}"));
    let done = dir.join("complete");
    if !done.exists() {
        let t = Instant::now();
        synth::write_bulk(spec, seed, &dir, &|_, _| {}).expect("bulk dataset");
        std::fs::write(&done, b"").expect("marker");
        eprintln!("generated {} in {:.1?}", dir.display(), t.elapsed());
    }
    let t = Instant::now();
    let data = Dataset::load_dir(&dir).expect("bulk dataset loads");
    eprintln!(
        "loaded {} stations, {} hotspots in {:.1?}",
        data.stations.len(),
        data.hotspots.len(),
        t.elapsed()
    );
    data
}

/// Time `GeoIndex::new` over (a copy of) `items`, the copy made outside the timing.
pub fn bench_index_build<T: Located + Clone>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    items: &[T],
) {
    g.bench_function(name, |b| {
        b.iter_batched(
            || items.to_vec(),
            |v| black_box(GeoIndex::new(v)),
            BatchSize::LargeInput,
        )
    });
}
