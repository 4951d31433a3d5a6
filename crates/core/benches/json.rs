//! The GeoJSON loader against its library alternative, on this project's data: the
//! city-scale dataset of `yizhan_core::synth` (2,000 stations, 200,000 hotspots),
//! read from text one feature per line as yizhan writes it.
//!
//! Peers, in the same run:
//! - `scanner`: `io::read_*_str`, the line reader with its strict scanner (what
//!   yizhan uses), duplicate-id check and all;
//! - `serde_json_borrowed`: every line read by `serde_json` into a derived, borrowed
//!   Feature struct with the same props struct, in parallel, and the same validation
//!   (no duplicate check: it does less than the peer it is measured against);
//! - `geojson_value`: the generic path (`geojson` + `serde_json::Value` trees).
//!
//! `cargo bench -p yizhan-core --bench json`
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use serde::Deserialize;
use yizhan_core::crs::Crs;
use yizhan_core::io::props::Problems;
use yizhan_core::io::{self, HotspotProps, StationProps};
use yizhan_core::synth::{self, BulkSpec, TownInputs};
use yizhan_core::LonLat;

/// The city dataset's stations and hotspots files, as text.
fn city() -> (String, String) {
    let dir = std::env::temp_dir().join(format!("yizhan-bench-json-{}", std::process::id()));
    let inputs = TownInputs::bundled().expect("bundled inputs");
    let spec = BulkSpec::city(&inputs.jinjiang);
    synth::write_bulk(&spec, synth::SAMPLE_SEED, &dir, &|_, _| {}).expect("city dataset");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("generated file");
    let texts = (read("stations.geojson"), read("hotspots.geojson"));
    let _ = std::fs::remove_dir_all(&dir);
    texts
}

#[derive(Deserialize)]
struct Geometry {
    coordinates: [f64; 2],
}

#[derive(Deserialize)]
struct Feature<'a, P> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    geometry: Geometry,
    properties: P,
}

/// The feature lines of a file written one feature per line.
fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("{\"type\":\"Feature\""))
        .map(|l| l.trim_end_matches(','))
        .collect()
}

fn serde_lines<'a, P, T>(
    text: &'a str,
    convert: impl Fn(P, String, Option<LonLat>, &mut Problems) -> Option<T> + Sync,
) -> usize
where
    P: Deserialize<'a> + Send,
    T: Send,
{
    let items: Vec<T> = lines(text)
        .par_iter()
        .with_min_len(256)
        .map(|l| {
            let f: Feature<'a, P> = serde_json::from_str(l).expect("a feature");
            let [lon, lat] = f.geometry.coordinates;
            let mut p = Problems::default();
            convert(
                f.properties,
                f.id.into_owned(),
                LonLat::new(lon, lat).ok(),
                &mut p,
            )
            .filter(|_| p.is_empty())
            .expect("valid")
        })
        .collect();
    items.len()
}

/// One layer's readers, as the peers call them.
struct Readers<T> {
    scanner: fn(&str, Crs) -> Result<Vec<T>, io::ReadError>,
    serde_json_borrowed: fn(&str) -> usize,
    generic: fn(&geojson::FeatureCollection, Crs) -> Result<Vec<T>, io::ReadError>,
}

/// Time the three readers of one layer on `text`.
fn layer<T>(c: &mut Criterion, name: &str, text: &str, samples: (usize, u64), r: Readers<T>) {
    let mut g = c.benchmark_group(name);
    g.sample_size(samples.0)
        .measurement_time(Duration::from_secs(samples.1));
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("scanner", |b| {
        b.iter(|| black_box((r.scanner)(text, Crs::Wgs84).unwrap().len()))
    });
    g.bench_function("serde_json_borrowed", |b| {
        b.iter(|| black_box((r.serde_json_borrowed)(text)))
    });
    g.bench_function("geojson_value", |b| {
        b.iter(|| {
            let fc = io::parse_collection(text).unwrap();
            black_box((r.generic)(&fc, Crs::Wgs84).unwrap().len())
        })
    });
    g.finish();
}

fn loader(c: &mut Criterion) {
    let (stations, hotspots) = city();
    let hotspot_readers = Readers {
        scanner: io::read_hotspots_str,
        serde_json_borrowed: |t| serde_lines(t, HotspotProps::hotspot),
        generic: io::read_hotspots,
    };
    layer(
        c,
        "load_hotspots_city",
        &hotspots,
        (10, 10),
        hotspot_readers,
    );
    let station_readers = Readers {
        scanner: io::read_stations_str,
        serde_json_borrowed: |t| serde_lines(t, StationProps::station),
        generic: io::read_stations,
    };
    layer(c, "load_stations_city", &stations, (20, 4), station_readers);
}

criterion_group!(benches, loader);
criterion_main!(benches);
