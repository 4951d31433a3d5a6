//! Capacitated assignment: demand to sites within a cutoff, no site above its capacity,
//! as much demand assigned as possible and, among such assignments, minimum total cost.
//!
//! Solved exactly as a min-cost flow (source → demand → site → sink) by successive
//! shortest paths with Dijkstra on reduced costs (Edmonds & Karp 1972; Tomizawa 1971).
//! The successive-shortest-path algorithm yields a minimum-cost maximum flow. Costs are
//! rounded to millimetres inside the flow so that the arithmetic is exact; reported
//! costs use the unrounded matrix.
//!
//! The same tool answers the childcare case (暑托班): children are demand points of
//! weight 1, classes are sites whose capacity is their seats.
//!
//! # Examples
//!
//! ```
//! use yizhan_plan::problem::{DemandPoint, Problem, SiteInfo};
//! use yizhan_plan::assign::assign;
//! let demand = vec![
//!     DemandPoint { id: "a".into(), weight: 2.0 },
//!     DemandPoint { id: "b".into(), weight: 1.0 },
//! ];
//! let sites = vec![
//!     SiteInfo { id: "near".into(), capacity: Some(2.0) },
//!     SiteInfo { id: "far".into(), capacity: Some(5.0) },
//! ];
//! let p = Problem::from_dense(demand, sites, &[vec![100.0, 900.0], vec![50.0, 300.0]]).unwrap();
//! let a = assign(&p, Some(1000.0)).unwrap();
//! assert_eq!(a.assigned_weight, 3.0);
//! // a: 2 at near (200); b: 1 at far (300) — better than b near and one of a far (50 + 100 + 900).
//! assert_eq!(a.total_cost, 500.0);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::error::PlanError;
use crate::problem::Problem;

/// Why some demand stayed unassigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnassignedReason {
    /// No site lies within the cutoff.
    NoSiteWithinCutoff,
    /// Every site within the cutoff is full.
    SitesFull,
}

/// Demand of one point left unassigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unassigned {
    /// Demand id.
    pub id: String,
    /// How much of its weight.
    pub amount: f64,
    /// Why.
    pub reason: UnassignedReason,
}

/// Demand sent from one point to one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Demand id.
    pub demand: String,
    /// Site id.
    pub site: String,
    /// Amount (people).
    pub amount: f64,
    /// Cost of one unit (metres).
    pub cost: f64,
}

/// Load of one site after assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteLoad {
    /// Site id.
    pub id: String,
    /// Seats (null: unlimited).
    pub capacity: Option<f64>,
    /// Assigned demand.
    pub load: f64,
}

/// The result of a capacitated assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Every non-zero flow.
    pub flows: Vec<Flow>,
    /// Σ amount × cost.
    pub total_cost: f64,
    /// Demand assigned.
    pub assigned_weight: f64,
    /// Demand left over.
    pub unassigned_weight: f64,
    /// Mean cost per assigned unit.
    pub mean_cost: Option<f64>,
    /// What stayed unassigned and why.
    pub unassigned: Vec<Unassigned>,
    /// Load of every site.
    pub sites: Vec<SiteLoad>,
    /// Always true: the flow is optimal (maximum assignment, then minimum cost).
    pub optimal: bool,
}

struct Edge {
    to: usize,
    cap: i64,
    cost: i64,
}

/// A min-cost-flow graph (successive shortest paths with potentials).
struct Mcf {
    g: Vec<Vec<usize>>,
    e: Vec<Edge>,
}

impl Mcf {
    fn new(n: usize) -> Self {
        Self {
            g: vec![Vec::new(); n],
            e: Vec::new(),
        }
    }
    fn add(&mut self, a: usize, b: usize, cap: i64, cost: i64) -> usize {
        self.g[a].push(self.e.len());
        self.e.push(Edge { to: b, cap, cost });
        self.g[b].push(self.e.len());
        self.e.push(Edge {
            to: a,
            cap: 0,
            cost: -cost,
        });
        self.e.len() - 2
    }
    fn run(&mut self, s: usize, t: usize) {
        let n = self.g.len();
        let mut pot = vec![0i64; n];
        let mut dist = vec![i64::MAX; n];
        let mut prev = vec![usize::MAX; n];
        loop {
            dist.fill(i64::MAX);
            prev.fill(usize::MAX);
            dist[s] = 0;
            let mut pq = BinaryHeap::new();
            pq.push(Reverse((0i64, s)));
            while let Some(Reverse((d, u))) = pq.pop() {
                if d > dist[u] {
                    continue;
                }
                for &k in &self.g[u] {
                    let ed = &self.e[k];
                    if ed.cap <= 0 {
                        continue;
                    }
                    let nd = d + ed.cost + pot[u] - pot[ed.to];
                    if nd < dist[ed.to] {
                        dist[ed.to] = nd;
                        prev[ed.to] = k;
                        pq.push(Reverse((nd, ed.to)));
                    }
                }
            }
            if dist[t] == i64::MAX {
                break;
            }
            for v in 0..n {
                if dist[v] != i64::MAX {
                    pot[v] += dist[v];
                }
            }
            let mut f = i64::MAX;
            let mut v = t;
            while v != s {
                let k = prev[v];
                f = f.min(self.e[k].cap);
                v = self.e[k ^ 1].to;
            }
            let mut v = t;
            while v != s {
                let k = prev[v];
                self.e[k].cap -= f;
                self.e[k ^ 1].cap += f;
                v = self.e[k ^ 1].to;
            }
        }
    }
}

/// Assign demand (whole-number weights) to sites within `max_cost` (all stored pairs
/// when None), respecting each site's capacity (`None` = unlimited): maximum demand
/// assigned, then minimum total cost.
pub fn assign(prob: &Problem, max_cost: Option<f64>) -> Result<Assignment, PlanError> {
    if let Some(c) = max_cost {
        crate::error::Param::Cutoff.non_negative(c, "metres")?;
    }
    let n = prob.n_demand();
    let m = prob.n_sites();
    let mut w = Vec::with_capacity(n);
    for d in prob.demand() {
        if d.weight.fract() != 0.0 || d.weight > 1e12 {
            return Err(PlanError::FractionalWeight {
                id: d.id.clone(),
                weight: d.weight,
            });
        }
        w.push(d.weight as i64);
    }
    let total: i64 = w.iter().sum();
    let (src, sink) = (n + m, n + m + 1);
    let mut g = Mcf::new(n + m + 2);
    let r = max_cost.unwrap_or(f64::INFINITY);
    let mut arcs = Vec::new();
    for (i, &wi) in w.iter().enumerate() {
        if wi == 0 {
            continue;
        }
        g.add(src, i, wi, 0);
        let (s, c) = prob.row_within(i, r);
        for (&j, &cost) in s.iter().zip(c) {
            let k = g.add(i, n + j as usize, wi, (cost * 1000.0).round() as i64);
            arcs.push((k, i, j as usize, cost));
        }
    }
    for (j, site) in prob.sites().iter().enumerate() {
        let cap = match site.capacity {
            Some(c) if c.is_finite() && c >= 0.0 => (c.floor() as i64).min(total),
            Some(c) => {
                return Err(PlanError::BadParameter {
                    param: crate::error::Param::Capacity,
                    unit: "seats",
                    value: c,
                })
            }
            None => total,
        };
        g.add(n + j, sink, cap, 0);
    }
    g.run(src, sink);
    let mut flows = Vec::new();
    let mut sent = vec![0i64; n];
    let mut load = vec![0i64; m];
    let mut total_cost = 0.0;
    for (k, i, j, cost) in arcs {
        let f = g.e[k ^ 1].cap;
        if f > 0 {
            sent[i] += f;
            load[j] += f;
            total_cost += f as f64 * cost;
            flows.push(Flow {
                demand: prob.demand()[i].id.clone(),
                site: prob.sites()[j].id.clone(),
                amount: f as f64,
                cost,
            });
        }
    }
    let mut unassigned = Vec::new();
    for i in 0..n {
        let left = w[i] - sent[i];
        if left > 0 {
            let reason = if prob.row_within(i, r).0.is_empty() {
                UnassignedReason::NoSiteWithinCutoff
            } else {
                UnassignedReason::SitesFull
            };
            unassigned.push(Unassigned {
                id: prob.demand()[i].id.clone(),
                amount: left as f64,
                reason,
            });
        }
    }
    let assigned: i64 = sent.iter().sum();
    Ok(Assignment {
        flows,
        total_cost,
        assigned_weight: assigned as f64,
        unassigned_weight: (total - assigned) as f64,
        mean_cost: (assigned > 0).then(|| total_cost / assigned as f64),
        unassigned,
        sites: prob
            .sites()
            .iter()
            .zip(&load)
            .map(|(s, &l)| SiteLoad {
                id: s.id.clone(),
                capacity: s.capacity,
                load: l as f64,
            })
            .collect(),
        optimal: true,
    })
}
