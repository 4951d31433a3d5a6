//! The sample town's street network (synthetic): arterials every kilometre and
//! local streets on the town's 250 m grid, footways and paths across some blocks,
//! a one-way pair in the centre, and a river across the town with its bank roads,
//! three road bridges and one footbridge, so that a walk or a ride across the river
//! is much longer than the straight line. Tagged like OpenStreetMap ways.
//!
//! Drawn from its own random stream, after the other layers, which it does not
//! change: it only reads where the stations, hotspots and candidates are, so as to
//! keep the river away from stations and candidates and to make every point lie
//! within [`TOWN_STREET_REACH_M`] of a street.

use std::collections::{BTreeMap, VecDeque};

use geo::BooleanOps;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use super::grid::contains;
use super::maths::{round7, round_pos, rounded_polygon, sin_cos, Frame, PI};
use super::rng::Rng;
use super::{SynthError, TOWN_CELL_M, TOWN_STREET_REACH_M};
use crate::geodesy::LonLat;
use crate::model::{Road, RoadTags};

/// The street network's random stream (streams 1–5 are the other layers').
const STREAM: u64 = 6;
/// Grid street spacing: the cells' side, so streets run along cell edges.
const S: f64 = TOWN_CELL_M;
/// Half the river's width, metres.
const RIVER_HALF_WIDTH_M: f64 = 35.0;
/// Distance of the bank roads from the river's centre line, metres.
const BANK_OFFSET_M: f64 = 50.0;
/// Grid streets end this far from the river's centre line, metres.
const RIVER_CLEARANCE_M: f64 = 80.0;
/// Spacing of the bank roads' vertices along x, metres (a fifth of a block).
const BANK_STEP_M: f64 = 50.0;
/// Streets within this distance of the town centre are `residential` and named;
/// farther out they are village roads (`unclassified`), some of them missing.
const TOWN_ZONE_M: f64 = 2_000.0;
/// Share of village road segments left out (put back where a point needs them).
const VILLAGE_GAP_SHARE: f64 = 0.18;
/// Share of town blocks crossed by a footway, and of village blocks by a path.
const FOOTWAY_SHARE: (f64, f64) = (0.06, 0.04);
/// Grid lines (x = 125 + 250·i m) carrying the road bridges, and the footbridge.
const ROAD_BRIDGES: [i64; 3] = [-8, 0, 8];
const FOOTBRIDGE: i64 = 14;
/// River courses drawn; the one that keeps farthest from the stations is used.
const RIVER_TRIES: usize = 24;

/// The river's centre line y(x) in the town's frame: a base line and two meanders.
#[derive(Debug, Clone, Copy)]
pub(super) struct River {
    y0: f64,
    waves: [(f64, f64, f64); 2],
}

impl River {
    fn draw(rng: &mut Rng) -> Self {
        let y0 = -1_300.0 + 600.0 * rng.unit();
        let a1 = (
            120.0 + 140.0 * rng.unit(),
            1.0 / (800.0 + 600.0 * rng.unit()),
        );
        let p1 = 2.0 * PI * rng.unit();
        let a2 = (40.0 + 50.0 * rng.unit(), 1.0 / (300.0 + 200.0 * rng.unit()));
        let p2 = 2.0 * PI * rng.unit();
        Self {
            y0,
            waves: [(a1.0, a1.1, p1), (a2.0, a2.1, p2)],
        }
    }
    /// The centre line's y at x (metres in the town's frame).
    fn y(&self, x: f64) -> f64 {
        self.y0
            + self
                .waves
                .iter()
                .map(|&(a, k, p)| a * sin_cos(k * x + p).0)
                .sum::<f64>()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    North,
    South,
}

/// A vertex of the network: a grid crossing, or a vertex of a bank road.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Grid(i64, i64),
    Bank(Side, i64),
}

/// The line a segment belongs to (a way never leaves its line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Line {
    /// East–west grid line j (y = 125 + 250·j).
    Ew(i64),
    /// North–south grid line i (x = 125 + 250·i).
    Ns(i64),
    Bank(Side),
    Diagonal(i64, i64),
}

/// A segment, from `a` to `b` in the line's order (west to east, north to south).
#[derive(Debug, Clone)]
struct Seg {
    a: Node,
    b: Node,
    line: Line,
    tags: RoadTags,
    /// The way runs against the line's order (for one-way streets).
    reverse: bool,
}

/// The generated network: its ways, and the river as a polygon (WGS 84).
pub(super) struct Streets {
    pub(super) roads: Vec<Road>,
    pub(super) river: MultiPolygon<f64>,
}

struct Net<'a> {
    frame: &'a Frame,
    extent: &'a MultiPolygon<f64>,
    river: River,
}

fn tags(highway: &str, name: Option<(&str, &str)>) -> RoadTags {
    RoadTags {
        highway: highway.into(),
        name: name.map(|n| n.0.to_string()),
        name_zh: name.map(|n| n.1.to_string()),
        ..RoadTags::default()
    }
}

const EW_ARTERIALS: [(&str, &str); 9] = [
    ("Nanhuan Road", "南环路"),
    ("Yingbin Road", "迎宾路"),
    ("Xinghua Road", "兴华路"),
    ("Jin'an Road", "晋安路"),
    ("Wenhua Road", "文化路"),
    ("Anhai Avenue", "安海大道"),
    ("Shuangxi Road", "双溪路"),
    ("Xinfu Road", "新府路"),
    ("Beihuan Road", "北环路"),
];
const NS_ARTERIALS: [(&str, &str); 8] = [
    ("Xihuan Road", "西环路"),
    ("Yucai Road", "育才路"),
    ("Xin'an Road", "新安路"),
    ("Zhongshan Road", "中山路"),
    ("Chenggong Road", "成功路"),
    ("Heping Road", "和平路"),
    ("Zhenxing Road", "振兴路"),
    ("Donghuan Road", "东环路"),
];
const BANK_NAMES: [(&str, &str); 2] = [
    ("Binhe North Road", "滨河北路"),
    ("Binhe South Road", "滨河南路"),
];

/// 1 → (一, Yi), 12 → (十二, Shier), 23 → (二十三, Ershisan).
fn numeral(n: usize) -> (String, String) {
    const ZH: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    const PY: [&str; 10] = ["", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu"];
    let (t, u) = (n / 10 % 10, n % 10);
    let (zh, py) = match t {
        0 => (ZH[u].to_string(), PY[u].to_string()),
        1 => (format!("十{}", ZH[u]), format!("shi{}", PY[u])),
        _ => (
            format!("{}十{}", ZH[t], ZH[u]),
            format!("{}shi{}", PY[t], PY[u]),
        ),
    };
    let mut c = py.chars();
    let py = c
        .next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default();
    (zh, py)
}

/// Distance from p to the segment a–b (planar).
fn seg_dist(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
    (qx * qx + qy * qy).sqrt()
}

impl Net<'_> {
    fn xy(&self, n: Node) -> (f64, f64) {
        match n {
            Node::Grid(i, j) => ((i as f64 + 0.5) * S, (j as f64 + 0.5) * S),
            Node::Bank(side, k) => {
                let x = S / 2.0 + k as f64 * BANK_STEP_M;
                let off = match side {
                    Side::North => BANK_OFFSET_M,
                    Side::South => -BANK_OFFSET_M,
                };
                (x, self.river.y(x) + off)
            }
        }
    }
    fn on_land(&self, n: Node) -> bool {
        let (x, y) = self.xy(n);
        contains(self.extent, self.frame.ll(x, y))
    }
    /// Whether a grid segment comes within the river's clearance.
    fn near_river(&self, a: Node, b: Node) -> bool {
        let ((x1, y1), (x2, y2)) = (self.xy(a), self.xy(b));
        if x1 == x2 {
            let yr = self.river.y(x1);
            return y1.min(y2) < yr + RIVER_CLEARANCE_M && y1.max(y2) > yr - RIVER_CLEARANCE_M;
        }
        let steps = 10;
        let mut sign = None;
        for s in 0..=steps {
            let x = x1 + (x2 - x1) * s as f64 / steps as f64;
            let d = y1 - self.river.y(x);
            if d.abs() < RIVER_CLEARANCE_M || sign.is_some_and(|s: bool| s != (d > 0.0)) {
                return true;
            }
            sign = Some(d > 0.0);
        }
        false
    }
    fn seg_dist(&self, p: (f64, f64), s: &Seg) -> f64 {
        seg_dist(p, self.xy(s.a), self.xy(s.b))
    }
}

/// The river course for the town: of [`RIVER_TRIES`] drawn, the first with no
/// station or candidate near its water and, among those, the fewest hotspots in it.
fn choose_river(rng: &mut Rng, frame: &Frame, keep_dry: &[LonLat], hotspots: &[LonLat]) -> River {
    let vertical = |r: &River, p: &LonLat| {
        let (x, y) = frame.xy(*p);
        (y - r.y(x)).abs()
    };
    let mut best: Option<((usize, usize), River)> = None;
    for _ in 0..RIVER_TRIES {
        let r = River::draw(rng);
        let wet = keep_dry
            .iter()
            .filter(|p| vertical(&r, p) < RIVER_CLEARANCE_M + 10.0)
            .count();
        let soaked = hotspots
            .iter()
            .filter(|p| vertical(&r, p) < RIVER_HALF_WIDTH_M + 15.0)
            .count();
        if best.as_ref().is_none_or(|(s, _)| (wet, soaked) < *s) {
            best = Some(((wet, soaked), r));
        }
    }
    best.map(|b| b.1).unwrap_or_else(|| River::draw(rng))
}

/// Union-find over node indexes.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The street network of the town in `extent` (frame `frame`), reaching every point
/// of `keep_dry` (stations, candidates: also kept out of the river) and `hotspots`.
pub(super) fn streets(
    seed: u64,
    frame: &Frame,
    extent: &MultiPolygon<f64>,
    keep_dry: &[LonLat],
    hotspots: &[LonLat],
) -> Result<Streets, SynthError> {
    let mut rng = Rng::new(seed, STREAM);
    let river = choose_river(&mut rng, frame, keep_dry, hotspots);
    let net = Net {
        frame,
        extent,
        river,
    };
    // The lattice over the extent's bounding box, with a margin.
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &extent.0 {
        for c in &p.exterior().0 {
            let (x, y) = frame.xy(LonLat { lon: c.x, lat: c.y });
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    let (i0, i1) = ((x0 / S).floor() as i64 - 2, (x1 / S).ceil() as i64 + 1);
    let (j0, j1) = ((y0 / S).floor() as i64 - 2, (y1 / S).ceil() as i64 + 1);
    let mid_dist = |a: (f64, f64), b: (f64, f64)| {
        let (mx, my) = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        (mx * mx + my * my).sqrt()
    };
    let number = |lines: Vec<i64>| -> BTreeMap<i64, usize> { lines.into_iter().zip(1..).collect() };
    let local_in_town =
        |k: i64| k.rem_euclid(4) != 0 && ((k as f64 + 0.5) * S).abs() <= TOWN_ZONE_M;
    let ew_numbers = number((j0..=j1).rev().filter(|&j| local_in_town(j)).collect());
    let ns_numbers = number((i0..=i1).filter(|&i| local_in_town(i)).collect());
    // The tags of grid line k (east–west or north–south), in town or in a village.
    let line_tags = |ew: bool, k: i64, town: bool| -> RoadTags {
        // Each list of arterials has the one through the centre at `centre`.
        let (arterials, centre, prefix, numbers): (&[(&str, &str)], i64, _, _) = if ew {
            (&EW_ARTERIALS[..], 5, ("Wei", "纬"), &ew_numbers)
        } else {
            (&NS_ARTERIALS[..], 3, ("Jing", "经"), &ns_numbers)
        };
        if k.rem_euclid(4) == 0 {
            let m = k.div_euclid(4);
            let name = arterials[(m + centre).rem_euclid(arterials.len() as i64) as usize];
            return tags(if m == 0 { "primary" } else { "secondary" }, Some(name));
        }
        match numbers.get(&k).filter(|_| town) {
            Some(&n) => {
                let (zh, py) = numeral(n);
                let en = format!("{}{} Road", prefix.0, py.to_ascii_lowercase());
                tags("residential", Some((&en, &format!("{}{zh}路", prefix.1))))
            }
            None => tags(if town { "residential" } else { "unclassified" }, None),
        }
    };

    // Grid segments: eligible where at least one end is on land and the river is
    // not in the way; active where both ends are on land, but for village gaps.
    let mut grid: Vec<Seg> = Vec::new();
    let mut active: Vec<bool> = Vec::new();
    for j in j0..=j1 {
        for i in i0..=i1 {
            let candidates = [
                (Node::Grid(i, j), Node::Grid(i + 1, j), Line::Ew(j)),
                (Node::Grid(i, j + 1), Node::Grid(i, j), Line::Ns(i)),
            ];
            for (a, b, line) in candidates {
                let (la, lb) = (net.on_land(a), net.on_land(b));
                if !(la || lb) || net.near_river(a, b) {
                    continue;
                }
                let town = mid_dist(net.xy(a), net.xy(b)) <= TOWN_ZONE_M;
                let mut t = match line {
                    Line::Ew(_) => line_tags(true, j, town),
                    _ => line_tags(false, i, town),
                };
                let mut reverse = false;
                // The one-way pair in the centre: Wei 1 westbound, the line south
                // of Anhai Avenue eastbound (e-bikes may ride it both ways).
                if (-3..3).contains(&i) {
                    match line {
                        Line::Ew(1) => {
                            t.oneway = Some("yes".into());
                            reverse = true;
                        }
                        Line::Ew(-1) => {
                            t.oneway = Some("yes".into());
                            t.oneway_bicycle = Some("no".into());
                        }
                        _ => {}
                    }
                }
                let gap = t.highway == "unclassified" && rng.chance(VILLAGE_GAP_SHARE);
                grid.push(Seg {
                    a,
                    b,
                    line,
                    tags: t,
                    reverse,
                });
                active.push(la && lb && !gap);
            }
        }
    }

    // The bank roads, the stubs from the grid down to them, and the bridges.
    let mut fixed: Vec<Seg> = Vec::new();
    let (k0, k1) = (i0 * 5, i1 * 5);
    for (side, name) in [Side::North, Side::South].into_iter().zip(BANK_NAMES) {
        for k in k0..k1 {
            let (a, b) = (Node::Bank(side, k), Node::Bank(side, k + 1));
            if net.on_land(a) && net.on_land(b) {
                fixed.push(Seg {
                    a,
                    b,
                    line: Line::Bank(side),
                    tags: tags("tertiary", Some(name)),
                    reverse: false,
                });
            }
        }
    }
    for i in i0..=i1 {
        let x = (i as f64 + 0.5) * S;
        let yr = river.y(x);
        let (bn, bs) = (
            Node::Bank(Side::North, 5 * i),
            Node::Bank(Side::South, 5 * i),
        );
        let jn = ((yr + RIVER_CLEARANCE_M) / S - 0.5).ceil() as i64;
        let js = ((yr - RIVER_CLEARANCE_M) / S - 0.5).floor() as i64;
        let stub_tags = |j: i64| {
            line_tags(
                false,
                i,
                mid_dist((x, yr), net.xy(Node::Grid(i, j))) <= TOWN_ZONE_M,
            )
        };
        let (gn, gs) = (Node::Grid(i, jn), Node::Grid(i, js));
        if net.on_land(bn) && net.on_land(gn) {
            fixed.push(Seg {
                a: gn,
                b: bn,
                line: Line::Ns(i),
                tags: stub_tags(jn),
                reverse: false,
            });
        }
        if net.on_land(bs) && net.on_land(gs) {
            fixed.push(Seg {
                a: bs,
                b: gs,
                line: Line::Ns(i),
                tags: stub_tags(js),
                reverse: false,
            });
        }
        let bridge = if ROAD_BRIDGES.contains(&i) {
            let mut t = stub_tags(jn);
            t.oneway = None;
            Some(t)
        } else if i == FOOTBRIDGE {
            Some(tags("footway", None))
        } else {
            None
        };
        if let Some(mut t) = bridge {
            if !(net.on_land(bn) && net.on_land(bs)) {
                return Err(SynthError::Generator(format!(
                    "the bridge at x = {x} m would not stand on the town's land"
                )));
            }
            t.bridge = Some("yes".into());
            fixed.push(Seg {
                a: bn,
                b: bs,
                line: Line::Ns(i),
                tags: t,
                reverse: false,
            });
        }
    }

    // Every point within reach of a street: put back the nearest missing segment.
    let reach = TOWN_STREET_REACH_M - 10.0;
    let points: Vec<(f64, f64)> = keep_dry
        .iter()
        .chain(hotspots)
        .map(|p| frame.xy(*p))
        .collect();
    for p in &points {
        loop {
            let near = fixed
                .iter()
                .chain(grid.iter().zip(&active).filter(|(_, &a)| a).map(|(s, _)| s))
                .map(|s| net.seg_dist(*p, s))
                .fold(f64::MAX, f64::min);
            if near <= reach {
                break;
            }
            let best = (0..grid.len())
                .filter(|&g| !active[g])
                .map(|g| (net.seg_dist(*p, &grid[g]), g))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            match best {
                Some((d, g)) if d <= reach => active[g] = true,
                _ => {
                    return Err(SynthError::Generator(format!(
                        "no street can reach a point {near:.0} m from the network"
                    )))
                }
            }
        }
    }
    connect(&grid, &mut active, &fixed)?;

    // Footways and paths across some blocks whose four sides are streets.
    let edge_of: BTreeMap<(Node, Node), usize> = grid
        .iter()
        .enumerate()
        .map(|(k, s)| ((s.a, s.b), k))
        .collect();
    let is_active = |a: Node, b: Node| edge_of.get(&(a, b)).is_some_and(|&k| active[k]);
    for j in j0..j1 {
        for i in i0..i1 {
            let (sw, se) = (Node::Grid(i, j), Node::Grid(i + 1, j));
            let (nw, ne) = (Node::Grid(i, j + 1), Node::Grid(i + 1, j + 1));
            let centre = net.xy(sw);
            let town = (centre.0 + S / 2.0).hypot(centre.1 + S / 2.0) <= TOWN_ZONE_M;
            let share = if town {
                FOOTWAY_SHARE.0
            } else {
                FOOTWAY_SHARE.1
            };
            let (p, up) = (rng.unit(), rng.chance(0.5));
            let closed =
                is_active(sw, se) && is_active(nw, ne) && is_active(nw, sw) && is_active(ne, se);
            if closed && p < share {
                let (a, b) = if up { (sw, ne) } else { (nw, se) };
                fixed.push(Seg {
                    a,
                    b,
                    line: Line::Diagonal(i, j),
                    tags: tags(if town { "footway" } else { "path" }, None),
                    reverse: false,
                });
            }
        }
    }

    let segs = grid
        .into_iter()
        .zip(active)
        .filter(|(_, a)| *a)
        .map(|(s, _)| s)
        .chain(fixed);
    Ok(Streets {
        roads: ways(&net, segs),
        river: river_polygon(&net, x0 - S, x1 + S),
    })
}

/// Join the network into one piece: from the largest piece, put back the fewest
/// missing grid segments that reach another piece (a 0-1 breadth-first search),
/// until none is left apart.
fn connect(grid: &[Seg], active: &mut [bool], fixed: &[Seg]) -> Result<(), SynthError> {
    let mut index: BTreeMap<Node, usize> = BTreeMap::new();
    for s in grid.iter().chain(fixed) {
        for n in [s.a, s.b] {
            let k = index.len();
            index.entry(n).or_insert(k);
        }
    }
    let n = index.len();
    let ends = |s: &Seg| (index[&s.a], index[&s.b]);
    let mut adj: Vec<Vec<(usize, Option<usize>)>> = vec![Vec::new(); n];
    for (g, s) in grid.iter().enumerate() {
        let (a, b) = ends(s);
        adj[a].push((b, Some(g)));
        adj[b].push((a, Some(g)));
    }
    for s in fixed {
        let (a, b) = ends(s);
        adj[a].push((b, None));
        adj[b].push((a, None));
    }
    loop {
        let mut parent: Vec<usize> = (0..n).collect();
        let mut used = vec![false; n];
        for s in grid
            .iter()
            .zip(active.iter())
            .filter(|(_, &a)| a)
            .map(|(s, _)| s)
            .chain(fixed)
        {
            let (a, b) = ends(s);
            used[a] = true;
            used[b] = true;
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra.max(rb)] = ra.min(rb);
        }
        let mut size = vec![0usize; n];
        for v in (0..n).filter(|&v| used[v]) {
            let r = find(&mut parent, v);
            size[r] += 1;
        }
        let main = (0..n)
            .max_by_key(|&r| (size[r], std::cmp::Reverse(r)))
            .unwrap_or(0);
        let pieces = size.iter().filter(|&&s| s > 0).count();
        if pieces <= 1 {
            return Ok(());
        }
        // 0-1 BFS from the main piece over every segment (missing ones cost 1).
        let mut dist = vec![usize::MAX; n];
        let mut via: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut q = VecDeque::new();
        for v in 0..n {
            if used[v] && find(&mut parent, v) == main {
                dist[v] = 0;
                q.push_back(v);
            }
        }
        let mut target = None;
        while let Some(v) = q.pop_front() {
            if used[v] && find(&mut parent, v) != main {
                target = Some(v);
                break;
            }
            for &(w, g) in &adj[v] {
                let cost = usize::from(g.is_some_and(|g| !active[g]));
                if dist[v] + cost < dist[w] {
                    dist[w] = dist[v] + cost;
                    via[w] = g.map(|g| (v, g));
                    if g.is_none() {
                        via[w] = Some((v, usize::MAX));
                    }
                    if cost == 0 {
                        q.push_front(w);
                    } else {
                        q.push_back(w);
                    }
                }
            }
        }
        let Some(mut v) = target else {
            return Err(SynthError::Generator(format!(
                "the street network stays in {pieces} pieces"
            )));
        };
        while let Some((u, g)) = via[v] {
            if g != usize::MAX {
                active[g] = true;
            }
            if dist[u] == 0 {
                break;
            }
            v = u;
        }
    }
}

/// Chain each line's segments into ways (a way ends where the tags change or a
/// segment is missing) and write them as roads.
fn ways(net: &Net, segs: impl Iterator<Item = Seg>) -> Vec<Road> {
    let mut lines: BTreeMap<Line, Vec<Seg>> = BTreeMap::new();
    for s in segs {
        lines.entry(s.line).or_default().push(s);
    }
    let pos = |s: &Seg| {
        let (x, y) = net.xy(s.a);
        match s.line {
            Line::Ns(_) => -y,
            _ => x,
        }
    };
    let mut out: Vec<(Vec<Node>, RoadTags, bool)> = Vec::new();
    for (_, mut segs) in lines {
        segs.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
        let mut cur: Option<(Vec<Node>, RoadTags, bool)> = None;
        for s in segs {
            match &mut cur {
                Some((nodes, t, r))
                    if nodes.last() == Some(&s.a) && *t == s.tags && *r == s.reverse =>
                {
                    nodes.push(s.b)
                }
                _ => {
                    out.extend(cur.take());
                    cur = Some((vec![s.a, s.b], s.tags, s.reverse));
                }
            }
        }
        out.extend(cur);
    }
    out.into_iter()
        .enumerate()
        .map(|(k, (mut nodes, tags, reverse))| {
            if reverse {
                nodes.reverse();
            }
            let coords = nodes
                .iter()
                .map(|&n| {
                    let (x, y) = net.xy(n);
                    let p = round_pos(net.frame.ll(x, y));
                    Coord { x: p.lon, y: p.lat }
                })
                .collect();
            Road {
                id: format!("AH-RD-{:04}", k + 1),
                line: LineString::new(coords),
                tags,
            }
        })
        .collect()
}

/// The river between x0 and x1 (its full width), clipped to the town's land.
fn river_polygon(net: &Net, x0: f64, x1: f64) -> MultiPolygon<f64> {
    let n = ((x1 - x0) / BANK_STEP_M).ceil() as usize;
    let xs: Vec<f64> = (0..=n).map(|k| x0 + k as f64 * BANK_STEP_M).collect();
    let at = |x: f64, dy: f64| {
        let p = net.frame.ll(x, net.river.y(x) + dy);
        Coord {
            x: round7(p.lon),
            y: round7(p.lat),
        }
    };
    let mut ring: Vec<Coord<f64>> = xs.iter().map(|&x| at(x, -RIVER_HALF_WIDTH_M)).collect();
    ring.extend(xs.iter().rev().map(|&x| at(x, RIVER_HALF_WIDTH_M)));
    ring.push(ring[0]);
    let band = Polygon::new(LineString::new(ring), vec![]);
    MultiPolygon::new(
        band.intersection(net.extent)
            .0
            .iter()
            .map(rounded_polygon)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_read_as_chinese_and_pinyin() {
        assert_eq!(numeral(1), ("一".into(), "Yi".into()));
        assert_eq!(numeral(10), ("十".into(), "Shi".into()));
        assert_eq!(numeral(12), ("十二".into(), "Shier".into()));
        assert_eq!(numeral(23), ("二十三".into(), "Ershisan".into()));
    }

    #[test]
    fn segment_distance_is_to_the_nearest_point_of_the_segment() {
        assert_eq!(seg_dist((0.0, 5.0), (-1.0, 0.0), (1.0, 0.0)), 5.0);
        assert_eq!(seg_dist((4.0, 4.0), (-1.0, 0.0), (1.0, 0.0)), 5.0);
        assert_eq!(seg_dist((3.0, 4.0), (0.0, 0.0), (0.0, 0.0)), 5.0);
    }
}
