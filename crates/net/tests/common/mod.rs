//! Helpers shared by the network tests.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use yizhan_core::model::{Road, RoadTags};

/// A seeded random street grid of `n` × `n` crossings about 200 m apart, with
/// missing blocks, one-way streets, footways, paths, steps, motorways.
pub fn random_town(rng: &mut ChaCha8Rng, n: usize) -> Vec<Road> {
    let step = 0.002; // about 200 m
    let mut at = vec![vec![(0.0, 0.0); n]; n];
    for (i, row) in at.iter_mut().enumerate() {
        for (j, p) in row.iter_mut().enumerate() {
            *p = (
                118.4 + i as f64 * step + rng.random_range(-0.0006..0.0006),
                24.7 + j as f64 * step + rng.random_range(-0.0006..0.0006),
            );
        }
    }
    let classes = [
        "residential",
        "residential",
        "primary",
        "footway",
        "path",
        "steps",
        "motorway",
        "service",
    ];
    let mut roads = Vec::new();
    for i in 0..n {
        for j in 0..n {
            for (di, dj) in [(1, 0), (0, 1)] {
                let (i2, j2) = (i + di, j + dj);
                if i2 >= n || j2 >= n || rng.random_bool(0.15) {
                    continue;
                }
                let (a, b) = (at[i][j], at[i2][j2]);
                let mid = (
                    (a.0 + b.0) / 2.0 + rng.random_range(-0.0003..0.0003),
                    (a.1 + b.1) / 2.0,
                );
                let oneway = match rng.random_range(0..10) {
                    0 | 1 => Some("yes".to_string()),
                    2 => Some("-1".to_string()),
                    _ => None,
                };
                roads.push(Road {
                    id: format!("w{}", roads.len()),
                    line: vec![a, mid, b].into(),
                    tags: RoadTags {
                        highway: classes[rng.random_range(0..classes.len())].into(),
                        oneway,
                        oneway_bicycle: rng.random_bool(0.1).then(|| "no".to_string()),
                        ..Default::default()
                    },
                });
            }
        }
    }
    roads
}
