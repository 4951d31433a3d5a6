//! Index benchmarks on deterministic synthetic stations: k-nearest with and without
//! filters, radius search, and bulk load.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use yizhan_core::hours::OpeningHours;
use yizhan_core::model::{Amenity, AmenitySet, Station, StationKind};
use yizhan_core::{GeoIndex, LonLat, StationFilter};

/// Stations clustered around a few hundred city centres in eastern China.
fn stations(n: usize, seed: u64) -> Vec<Station> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<(f64, f64)> = (0..300)
        .map(|_| (rng.random_range(105.0..122.0), rng.random_range(20.0..42.0)))
        .collect();
    let hours = [
        "24/7".parse::<OpeningHours>().unwrap(),
        "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00".parse().unwrap(),
    ];
    (0..n)
        .map(|i| {
            let (clon, clat) = centres[rng.random_range(0..centres.len())];
            let amenities: AmenitySet = Amenity::ALL
                .into_iter()
                .filter(|_| rng.random_bool(0.5))
                .collect();
            Station {
                id: format!("S{i:06}"),
                name: String::new(),
                name_zh: None,
                kind: StationKind::RestStation,
                location: LonLat::new(
                    clon + rng.random_range(-0.3..0.3),
                    clat + rng.random_range(-0.3..0.3),
                )
                .unwrap(),
                amenities,
                capacity: rng.random_range(5..40),
                occupancy: None,
                opening_hours: hours[i % 2].clone(),
                grid_unit: None,
                operator: None,
                address: None,
            }
        })
        .collect()
}

fn queries(n: usize, seed: u64, from: &[Station]) -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let s = &from[rng.random_range(0..from.len())];
            LonLat::new(
                s.location.lon + rng.random_range(-0.02..0.02),
                s.location.lat + rng.random_range(-0.02..0.02),
            )
            .unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let st = stations(150_000, 1);
    let qs = queries(10_000, 2, &st);
    let index = GeoIndex::new(st.clone());
    let mut g = c.benchmark_group("stations_150k");
    g.throughput(Throughput::Elements(qs.len() as u64));
    g.bench_function("nearest_k5", |b| {
        b.iter(|| {
            for q in &qs {
                black_box(index.nearest(*q, 5, None, |_| true));
            }
        })
    });
    let filter = StationFilter {
        amenities: AmenitySet::parse_list("microwave,charging").unwrap(),
        open_at: Some(
            chrono::NaiveDate::from_ymd_opt(2026, 7, 1)
                .unwrap()
                .and_hms_opt(12, 30, 0)
                .unwrap(),
        ),
        ..Default::default()
    };
    g.bench_function("nearest_k5_filtered", |b| {
        b.iter(|| {
            for q in &qs {
                black_box(index.nearest(*q, 5, None, |s| filter.accepts(s)));
            }
        })
    });
    g.bench_function("radius_1km", |b| {
        b.iter(|| {
            for q in &qs {
                black_box(index.within_radius(*q, 1000.0, |_| true));
            }
        })
    });
    g.finish();
    let mut g = c.benchmark_group("bulk_load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(st.len() as u64));
    common::bench_index_build(&mut g, "stations_150k", &st);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
