//! Planning on the street network: which distance an analysis uses
//! ([`By`]: straight line, or travel on the walk or e-bike road graph), what its
//! answer says it used ([`DistanceUsed`]), and the network cutoff
//! ([`NetworkCosts`]).
//!
//! With a network, the cutoff of a [`Cutoff::Minutes`] is the travel time on the
//! profile's graph (the profile's speeds: `speed_kmh` is not used) and that of a
//! [`Cutoff::Metres`] is network metres. Demand points, stations and candidates
//! snap to their nearest street ([`yizhan_net::matrix`] states the rule); one
//! farther than [`SNAP_LIMIT_M`] from any street reaches nothing.

use serde::{Deserialize, Serialize};
use yizhan_core::LonLat;
use yizhan_net::{CostMatrix, Metric, Mode, Network, Networks, SNAP_LIMIT_M};

use crate::coverage::Cutoff;
use crate::error::PlanError;

/// Which distance an analysis uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Great-circle metres (or minutes at a travel speed): the default.
    #[default]
    Straight,
    /// Along the streets on foot.
    Walk,
    /// Along the streets by e-bike (one-way streets obeyed).
    Ebike,
}

impl By {
    /// The network profile, `None` for straight lines.
    pub fn mode(self) -> Option<Mode> {
        match self {
            By::Straight => None,
            By::Walk => Some(Mode::Walk),
            By::Ebike => Some(Mode::Ebike),
        }
    }

    /// `straight`, `walk` or `ebike`.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Straight => "straight",
            By::Walk => "walk",
            By::Ebike => "ebike",
        }
    }

    /// What an answer computed this way says it used.
    pub fn used(self) -> DistanceUsed {
        DistanceUsed {
            by: self,
            network: self != By::Straight,
        }
    }
}

impl From<Mode> for By {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Walk => By::Walk,
            Mode::Ebike => By::Ebike,
        }
    }
}

impl std::fmt::Display for By {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for By {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "straight" => Ok(By::Straight),
            "walk" => Ok(By::Walk),
            "ebike" => Ok(By::Ebike),
            _ => Err(format!(
                "unknown distance {s:?} (expected straight, walk or ebike)"
            )),
        }
    }
}

/// The `distance` member of every planning answer:
/// `{"by": "straight"|"walk"|"ebike", "network": bool}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistanceUsed {
    /// Which distance.
    pub by: By,
    /// Whether it was measured on the street network.
    pub network: bool,
}

/// A network cutoff on one profile's graph.
#[derive(Debug, Clone, Copy)]
pub struct NetworkCosts<'a> {
    /// The profile's graph.
    pub net: &'a Network,
    /// Travel time or network metres.
    pub metric: Metric,
    /// The cutoff: seconds for [`Metric::Time`], metres for [`Metric::Metres`].
    pub cutoff: f64,
}

impl<'a> NetworkCosts<'a> {
    /// The network form of `cutoff` on `net`: minutes become seconds of travel time,
    /// metres stay network metres.
    pub fn new(net: &'a Network, cutoff: &Cutoff) -> Result<Self, PlanError> {
        cutoff.metres()?; // the same range checks as straight lines
        Ok(match *cutoff {
            Cutoff::Metres { metres } => Self {
                net,
                metric: Metric::Metres,
                cutoff: metres,
            },
            Cutoff::Minutes { minutes, .. } => Self {
                net,
                metric: Metric::Time,
                cutoff: minutes * 60.0,
            },
        })
    }

    /// The graph of `by` among `nets` with `cutoff`; `None` for straight lines.
    pub fn of(
        nets: &'a Networks,
        by: By,
        cutoff: &Cutoff,
    ) -> Result<Option<NetworkCosts<'a>>, PlanError> {
        by.mode()
            .map(|m| NetworkCosts::new(nets.get(m), cutoff))
            .transpose()
    }

    /// The profile.
    pub fn by(&self) -> By {
        self.net.profile().mode.into()
    }

    /// The cutoff in metres where a report needs one (gap distance scale, decay):
    /// network metres, or the travel time at the profile's street speed.
    pub fn cutoff_m(&self) -> f64 {
        match self.metric {
            Metric::Metres => self.cutoff,
            Metric::Time => self.cutoff * self.net.profile().street_kmh / 3.6,
        }
    }

    /// Costs from `from` to `to` within the cutoff.
    pub fn matrix(&self, from: &[LonLat], to: &[LonLat]) -> CostMatrix {
        self.net
            .cost_matrix(from, to, self.metric, self.cutoff, SNAP_LIMIT_M)
    }
}
