//! Deterministic random restarts ("shaking" of variable neighbourhood search,
//! Mladenović & Hansen 1997, "Variable neighborhood search", *Computers & Operations
//! Research* 24) for the MCLP and p-median heuristics, on problems small enough to
//! afford them.

use super::setup::Setup;
use crate::problem::Problem;

/// Deterministic random restarts ("shaking" of variable neighbourhood search,
/// Mladenović & Hansen 1997) for problems small enough to afford them.
pub(super) struct Shaker {
    state: u64,
    left: usize,
    /// Most sites replaced by one shake.
    span: usize,
}

impl Shaker {
    pub fn new(prob: &Problem, s: &Setup, p: usize) -> Self {
        let size = prob.nnz().max(prob.n_demand()) * p.max(1);
        let left = if p == 0 || s.free.len() <= p {
            0
        } else if size <= 200_000 {
            40
        } else if size <= 4_000_000 {
            // 20,000 × 1,000, p = 10 (≈ 2.3 M): ≈ 0.35 s (BENCHMARKS.md).
            50
        } else {
            0
        };
        Self {
            state: 0x9E37_79B9_7F4A_7C15,
            left,
            span: 3,
        }
    }
    /// Shakes replacing up to `span` sites (at least one).
    pub fn with_span(mut self, span: usize) -> Self {
        self.span = span.max(1);
        self
    }
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A copy of `chosen` with one to `span` sites (and one fewer than all) replaced
    /// by random ones of `free`.
    pub fn shake(&mut self, chosen: &[usize], free: &[usize]) -> Option<Vec<usize>> {
        if self.left == 0 || chosen.is_empty() {
            return None;
        }
        self.left -= 1;
        let mut t = chosen.to_vec();
        let k = 1 + (self.left % self.span).min(chosen.len() - 1);
        for _ in 0..k {
            let pos = (self.next() % t.len() as u64) as usize;
            for _ in 0..16 {
                let c = free[(self.next() % free.len() as u64) as usize];
                if !t.contains(&c) {
                    t[pos] = c;
                    break;
                }
            }
        }
        Some(t)
    }
}
