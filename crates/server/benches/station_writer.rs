//! The byte-level station writer (`station_json`) against a derived `Serialize` view
//! (`StationProps` in a `PointFeature`, serialised by serde_json), on this project's
//! data: the stations of the city-scale dataset of `yizhan_core::synth`, written as
//! the courier routes write them (a `nearest` answer of 5, a `list` answer of all).
//!
//! `cargo bench -p yizhan-server --bench station_writer`
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;
use std::time::Duration;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yizhan_core::crs::Crs;
use yizhan_core::io::Collection;
use yizhan_core::model::Station;
use yizhan_core::synth::{self, BulkSpec, TownInputs};
use yizhan_server::routes::stations::{courier_feature, Freshness};
use yizhan_server::station_json::StationCollection;

/// The city dataset's stations.
fn city_stations() -> Vec<Station> {
    let dir = std::env::temp_dir().join(format!("yizhan-bench-writer-{}", std::process::id()));
    let inputs = TownInputs::bundled().expect("bundled inputs");
    let spec = BulkSpec::city(&inputs.jinjiang);
    synth::write_bulk(&spec, synth::SAMPLE_SEED, &dir, &|_, _| {}).expect("city dataset");
    let s = yizhan_core::dataset::read_stations_file(&dir.join("stations.geojson"), Crs::Wgs84)
        .expect("stations");
    let _ = std::fs::remove_dir_all(&dir);
    s
}

fn writer(c: &mut Criterion) {
    let stations = city_stations();
    let now = Utc::now();
    let fresh = Freshness {
        now,
        max_age: std::time::Duration::from_secs(3600),
    };
    let at = now.naive_utc();
    for (name, n) in [("nearest_5", 5), ("list_all", stations.len())] {
        let found: Vec<(&Station, Option<f64>)> = stations
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, s)| (s, Some(i as f64 * 37.25)))
            .collect();
        let bytes = {
            let mut w = StationCollection::with_capacity(n);
            w.extend(&found, Crs::Wgs84, at, &fresh);
            w.finish().len()
        };
        let mut g = c.benchmark_group(format!("write_stations_{name}"));
        g.sample_size(20).measurement_time(Duration::from_secs(4));
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("byte_writer", |b| {
            b.iter(|| {
                let mut w = StationCollection::with_capacity(found.len());
                w.extend(&found, Crs::Wgs84, at, &fresh);
                black_box(w.finish())
            })
        });
        g.bench_function("serde_derived", |b| {
            b.iter(|| {
                let features = found
                    .iter()
                    .map(|&(s, d)| courier_feature(s, Crs::Wgs84, d, at, &fresh))
                    .collect();
                black_box(Collection::new(features).to_json())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, writer);
criterion_main!(benches);
