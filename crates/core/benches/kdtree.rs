//! The hand-written k-d tree against its library alternative, `kiddo`
//! (`ImmutableKdTree`, its fastest static tree), on this project's data: the
//! city-scale dataset of `yizhan_core::synth` (2,000 stations, 200,000 hotspots).
//!
//! Both answer the same question the same way: the k nearest items by great-circle
//! distance, ties by id, from a tree over unit vectors stored as f32, with the
//! candidates re-ranked by the haversine distance. Peers, in the same run:
//! - `yizhan`: [`GeoIndex::nearest`] (what every query uses; it also widens its
//!   candidate set by the f32 error bound, so its answers are exact by construction);
//! - `kiddo`: `nearest_n::<SquaredEuclidean>` for k + 8 candidates (with a filter,
//!   four times more until k + 8 are kept: `kiddo` takes no predicate), re-ranked by
//!   haversine (with each item's cos(latitude) kept, as `GeoIndex` does) and id. It
//!   does less than `yizhan` (no error bound); its answers are checked to be
//!   `yizhan`'s before timing;
//! - `kiddo_tree_only`: `kiddo`'s walk for k answers alone, nothing else: a lower
//!   bound for any index built on it.
//!
//! Three workloads: the 10 nearest hotspots of 20,000 points (near stations), the
//! 5 nearest stations of 20,000 hotspots, the same with a courier's filter
//! (amenities, opening hours); and the bulk load of each tree.
//!
//! `cargo bench -p yizhan-core --bench kdtree`
#![allow(missing_docs)] // criterion_group! generates undocumented functions

mod common;

use std::hint::black_box;
use std::num::NonZero;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use kiddo::SquaredEuclidean;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yizhan_core::index::Located;
use yizhan_core::model::{AmenitySet, Station};
use yizhan_core::synth::{self, BulkSpec, TownInputs};
use yizhan_core::{Dataset, GeoIndex, LonLat, StationFilter, EARTH_RADIUS_M};

/// Extra candidates the `kiddo` peer asks for before re-ranking.
const EXTRA: usize = 8;

/// The city dataset (generated on the first run).
fn city() -> Dataset {
    let inputs = TownInputs::bundled().expect("bundled inputs");
    common::bulk_dataset(
        "city",
        &BulkSpec::city(&inputs.jinjiang),
        synth::SAMPLE_SEED,
    )
}

/// `kiddo`'s tree over the same f32 unit vectors, the items, and each item's
/// cos(latitude), which the re-ranking needs (as `GeoIndex` keeps it).
struct KiddoIndex<'a, T> {
    tree: ImmutableKdTree<f32, u32, 3, 32>,
    items: &'a [T],
    cos_lat: Vec<f64>,
}

/// [`haversine_m`] with both cosines of the latitudes given: the same operations in
/// the same order, so the same bits.
fn haversine_cos(a: LonLat, cos_a: f64, b: LonLat, cos_b: f64) -> f64 {
    let dp = b.lat.to_radians() - a.lat.to_radians();
    let dl = (b.lon - a.lon).to_radians();
    let (s1, s2) = ((dp / 2.0).sin(), (dl / 2.0).sin());
    let h = s1 * s1 + cos_a * cos_b * s2 * s2;
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

fn unit_f32(p: LonLat) -> [f32; 3] {
    p.to_unit_vector().map(|x| x as f32)
}

impl<'a, T: Located> KiddoIndex<'a, T> {
    fn new(items: &'a [T]) -> Self {
        let pts: Vec<[f32; 3]> = items.iter().map(|i| unit_f32(i.location())).collect();
        Self {
            tree: ImmutableKdTree::new_from_slice(&pts),
            items,
            cos_lat: items
                .iter()
                .map(|i| i.location().lat.to_radians().cos())
                .collect(),
        }
    }

    /// The k nearest accepted by `keep`, as (metres, item index), nearest first,
    /// ties by id. With a filter, asks for four times more candidates until k are kept.
    fn nearest(&self, at: LonLat, k: usize, keep: impl Fn(&T) -> bool) -> Vec<(f64, usize)> {
        let q = unit_f32(at);
        let cos_q = at.lat.to_radians().cos();
        let mut want = k + EXTRA;
        let mut out: Vec<(f64, usize)> = loop {
            let Some(n) = NonZero::new(want.min(self.items.len())) else {
                return Vec::new();
            };
            let found = self.tree.nearest_n::<SquaredEuclidean>(&q, n);
            let kept: Vec<(f64, usize)> = found
                .iter()
                .map(|nn| nn.item as usize)
                .filter(|&i| keep(&self.items[i]))
                .map(|i| {
                    let d = haversine_cos(at, cos_q, self.items[i].location(), self.cos_lat[i]);
                    (d, i)
                })
                .collect();
            if kept.len() >= k + EXTRA || n.get() == self.items.len() {
                break kept;
            }
            want *= 4;
        };
        out.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| self.items[a.1].id().cmp(self.items[b.1].id()))
        });
        out.truncate(k);
        out
    }
}

/// Points near `from`'s items (within about 2 km), seeded.
fn points_near<T: Located>(from: &[T], n: usize, seed: u64) -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let p = from[rng.random_range(0..from.len())].location();
            LonLat::new(
                p.lon + rng.random_range(-0.02..0.02),
                p.lat + rng.random_range(-0.02..0.02),
            )
            .unwrap_or(p)
        })
        .collect()
}

/// Time the peers on `queries` over `index` (items accepted by `keep`), after
/// checking that they agree.
fn knn<T: Located + Sync>(
    c: &mut Criterion,
    name: &str,
    index: &GeoIndex<T>,
    queries: &[LonLat],
    k: usize,
    keep: impl Fn(&T) -> bool + Copy,
) {
    let peer = KiddoIndex::new(index.items());
    for &q in queries {
        let ours: Vec<usize> = index
            .nearest(q, k, None, keep)
            .iter()
            .map(|h| h.index)
            .collect();
        let theirs: Vec<usize> = peer.nearest(q, k, keep).iter().map(|h| h.1).collect();
        assert_eq!(ours, theirs, "{name}: the peers disagree at {q:?}");
    }
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function("yizhan", |b| {
        b.iter(|| {
            for &q in queries {
                black_box(index.nearest(q, k, None, keep));
            }
        })
    });
    g.bench_function("kiddo", |b| {
        b.iter(|| {
            for &q in queries {
                black_box(peer.nearest(q, k, keep));
            }
        })
    });
    // The library's tree walk alone (k answers by f32 chord, no filter, no
    // re-ranking): a lower bound for any index built on it, without a filter.
    g.bench_function("kiddo_tree_only", |b| {
        let n = NonZero::new(k).unwrap_or(NonZero::<usize>::MIN);
        b.iter(|| {
            for &q in queries {
                black_box(peer.tree.nearest_n::<SquaredEuclidean>(&unit_f32(q), n));
            }
        })
    });
    g.finish();
}

/// Time both trees' bulk loads over `items`.
fn build<T: Located + Clone>(c: &mut Criterion, name: &str, items: &[T]) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(items.len() as u64));
    common::bench_index_build(&mut g, "yizhan", items);
    g.bench_function("kiddo", |b| {
        b.iter(|| black_box(KiddoIndex::new(items).tree))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let data = city();
    let near_stations = points_near(data.stations.items(), 20_000, 1);
    fn all<T>(_: &T) -> bool {
        true
    }
    knn(
        c,
        "city_hotspots_200k_k10",
        &data.hotspots,
        &near_stations,
        10,
        all,
    );
    let at_hotspots = points_near(data.hotspots.items(), 20_000, 2);
    knn(
        c,
        "city_stations_2k_k5",
        &data.stations,
        &at_hotspots,
        5,
        all,
    );
    // A courier's query: stations with a microwave and charging, open at noon.
    let filter = StationFilter {
        amenities: AmenitySet::parse_list("microwave,charging").unwrap_or_default(),
        open_at: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).and_then(|d| d.and_hms_opt(12, 0, 0)),
        ..Default::default()
    };
    let courier = |s: &Station| filter.accepts(s);
    knn(
        c,
        "city_stations_2k_k5_filtered",
        &data.stations,
        &at_hotspots,
        5,
        courier,
    );
    build(c, "build_city_hotspots_200k", data.hotspots.items());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
