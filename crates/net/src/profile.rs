//! Travel profiles: who may use a way, in which directions, and how fast.
//!
//! The rules read the OpenStreetMap tags of [`RoadTags`] once, here, for both
//! profiles. The speeds are named constants and the fields of [`Profile`] are
//! public, so a caller (or `yizhan roads import --walk-kmh …`) can override them.
//!
//! | | walk | e-bike |
//! |---|---|---|
//! | streets (`primary` … `residential`, `service`, `living_street`, `unclassified`, `road`, `track`) | [`WALK_KMH`] | [`EBIKE_STREET_KMH`] |
//! | `cycleway` | [`WALK_KMH`] | [`EBIKE_STREET_KMH`] |
//! | `footway`, `pedestrian`, `path`, `bridleway`, `corridor` | [`WALK_KMH`] | [`EBIKE_PATH_KMH`] where riding is allowed (`bicycle=yes/designated/permissive`; `path` unless `bicycle=no`) |
//! | `steps` | [`WALK_KMH`] | never |
//! | `motorway`, `trunk` (and their links) | only with `foot=yes/designated/permissive` | only with `bicycle=yes/designated/permissive` |
//! | `bicycle=dismount` | — | pushed at [`DISMOUNT_KMH`] |
//!
//! `access=no/private` (and `foot=no` / `bicycle=no`, `…=use_sidepath`) close a way
//! to the profile unless its own key (`foot`, `bicycle`) allows it. Walking ignores
//! one-way tags; the e-bike obeys `oneway=yes/true/1` (forward only), `oneway=-1/reverse`
//! (backward only), `junction=roundabout/circular` and `highway=motorway` (implied
//! one-way), unless `oneway=no` or `oneway:bicycle=no`. Ways under construction or
//! proposed, platforms, raceways and other classes not listed are not routable.
//!
//! The last metres between a point (a query, a station) and its nearest street are
//! walked at [`Profile::connector_kmh`] ([`WALK_KMH`] for both profiles: a rider
//! pushes the bike to the door).

use serde::{Deserialize, Serialize};
use yizhan_core::model::RoadTags;

/// Walking speed, km/h.
pub const WALK_KMH: f64 = 4.5;
/// E-bike speed on streets and cycleways, km/h.
pub const EBIKE_STREET_KMH: f64 = 15.0;
/// E-bike speed on footways, pedestrian streets and paths where riding is allowed, km/h.
pub const EBIKE_PATH_KMH: f64 = 10.0;
/// Speed of an e-bike pushed where `bicycle=dismount`, km/h.
pub const DISMOUNT_KMH: f64 = WALK_KMH;

/// Which travel profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// On foot.
    Walk,
    /// Electric bicycle (电动自行车), the couriers' vehicle.
    Ebike,
}

impl Mode {
    /// Both modes, in the order files and answers list them.
    pub const ALL: [Mode; 2] = [Mode::Walk, Mode::Ebike];

    /// `walk` or `ebike`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Walk => "walk",
            Mode::Ebike => "ebike",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is neither `walk` nor `ebike`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown travel mode {0:?} (expected walk or ebike)")]
pub struct UnknownMode(pub String);

impl std::str::FromStr for Mode {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "walk" | "foot" => Ok(Mode::Walk),
            "ebike" | "e-bike" => Ok(Mode::Ebike),
            _ => Err(UnknownMode(s.to_string())),
        }
    }
}

/// The speeds of one travel mode; the access rules are those of its [`Mode`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Which rules apply.
    pub mode: Mode,
    /// Speed on streets (and cycleways), km/h.
    pub street_kmh: f64,
    /// Speed on footways and paths, km/h.
    pub path_kmh: f64,
    /// Speed where the vehicle is pushed (`bicycle=dismount`), km/h.
    pub dismount_kmh: f64,
    /// Speed of the walk between a point and its snapped position on a street, km/h.
    pub connector_kmh: f64,
}

/// How a profile may use one way: the speed in m/s and the allowed directions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WayAccess {
    /// Metres per second.
    pub speed_mps: f64,
    /// Along the way's direction.
    pub forward: bool,
    /// Against it.
    pub backward: bool,
}

fn is(v: &Option<String>, any: &[&str]) -> bool {
    v.as_deref()
        .is_some_and(|v| any.contains(&v.trim().to_ascii_lowercase().as_str()))
}

const YES: &[&str] = &["yes", "designated", "permissive", "official"];
const NO: &[&str] = &["no", "private", "use_sidepath", "discouraged_no"];

impl Profile {
    /// Walking at [`WALK_KMH`].
    pub const fn walk() -> Self {
        Self {
            mode: Mode::Walk,
            street_kmh: WALK_KMH,
            path_kmh: WALK_KMH,
            dismount_kmh: WALK_KMH,
            connector_kmh: WALK_KMH,
        }
    }

    /// E-bike at [`EBIKE_STREET_KMH`] on streets, [`EBIKE_PATH_KMH`] on paths.
    pub const fn ebike() -> Self {
        Self {
            mode: Mode::Ebike,
            street_kmh: EBIKE_STREET_KMH,
            path_kmh: EBIKE_PATH_KMH,
            dismount_kmh: DISMOUNT_KMH,
            connector_kmh: WALK_KMH,
        }
    }

    /// The default profile of `mode`.
    pub const fn of(mode: Mode) -> Self {
        match mode {
            Mode::Walk => Self::walk(),
            Mode::Ebike => Self::ebike(),
        }
    }

    /// The highest speed of the profile in m/s (a lower bound of travel time is
    /// straight-line metres divided by it).
    pub fn max_speed_mps(&self) -> f64 {
        self.street_kmh
            .max(self.path_kmh)
            .max(self.dismount_kmh)
            .max(self.connector_kmh)
            / 3.6
    }

    /// Whether speeds are positive and finite (the graph's costs need it).
    pub fn is_valid(&self) -> bool {
        [
            self.street_kmh,
            self.path_kmh,
            self.dismount_kmh,
            self.connector_kmh,
        ]
        .iter()
        .all(|v| v.is_finite() && *v > 0.1 && *v < 200.0)
    }

    /// How this profile may use a way with `tags`; `None` when it may not.
    pub fn access(&self, tags: &RoadTags) -> Option<WayAccess> {
        let hw = tags.highway.trim().to_ascii_lowercase();
        let (own, kmh) = match self.mode {
            Mode::Walk => (&tags.foot, self.walk_class(&hw, &tags.foot)?),
            Mode::Ebike => (&tags.bicycle, self.ebike_class(&hw, &tags.bicycle)?),
        };
        // access=no closes a way unless the profile's own key opens it.
        if is(own, NO) || (is(&tags.access, NO) && !is(own, YES)) {
            return None;
        }
        let speed_mps = kmh / 3.6;
        if self.mode == Mode::Walk {
            return Some(WayAccess {
                speed_mps,
                forward: true,
                backward: true,
            });
        }
        let (forward, backward) = self.ebike_directions(&hw, tags);
        Some(WayAccess {
            speed_mps,
            forward,
            backward,
        })
    }

    fn walk_class(&self, hw: &str, foot: &Option<String>) -> Option<f64> {
        match hw {
            "motorway" | "motorway_link" | "trunk" | "trunk_link" => {
                is(foot, YES).then_some(self.street_kmh)
            }
            "primary" | "primary_link" | "secondary" | "secondary_link" | "tertiary"
            | "tertiary_link" | "unclassified" | "residential" | "living_street" | "service"
            | "road" | "track" | "cycleway" => Some(self.street_kmh),
            "footway" | "pedestrian" | "path" | "steps" | "bridleway" | "corridor" => {
                Some(self.path_kmh)
            }
            _ => None,
        }
    }

    fn ebike_class(&self, hw: &str, bicycle: &Option<String>) -> Option<f64> {
        if is(bicycle, &["dismount"]) {
            return (hw != "steps").then_some(self.dismount_kmh);
        }
        match hw {
            "motorway" | "motorway_link" | "trunk" | "trunk_link" => {
                is(bicycle, YES).then_some(self.street_kmh)
            }
            "primary" | "primary_link" | "secondary" | "secondary_link" | "tertiary"
            | "tertiary_link" | "unclassified" | "residential" | "living_street" | "service"
            | "road" | "track" | "cycleway" => Some(self.street_kmh),
            "path" => Some(self.path_kmh),
            "footway" | "pedestrian" | "bridleway" | "corridor" => {
                is(bicycle, YES).then_some(self.path_kmh)
            }
            _ => None,
        }
    }

    fn ebike_directions(&self, hw: &str, tags: &RoadTags) -> (bool, bool) {
        if is(&tags.oneway_bicycle, &["no", "false", "0"]) {
            return (true, true);
        }
        if is(&tags.oneway_bicycle, &["yes", "true", "1"]) {
            return (true, false);
        }
        if is(&tags.oneway_bicycle, &["-1", "reverse"]) {
            return (false, true);
        }
        if is(&tags.oneway, &["no", "false", "0"]) {
            return (true, true);
        }
        if is(&tags.oneway, &["yes", "true", "1"]) {
            return (true, false);
        }
        if is(&tags.oneway, &["-1", "reverse"]) {
            return (false, true);
        }
        let implied = is(&tags.junction, &["roundabout", "circular"])
            || matches!(hw, "motorway" | "motorway_link");
        (true, !implied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(highway: &str, extra: &[(&str, &str)]) -> RoadTags {
        let mut t = RoadTags {
            highway: highway.into(),
            ..Default::default()
        };
        for (k, v) in extra {
            let v = Some(v.to_string());
            match *k {
                "access" => t.access = v,
                "foot" => t.foot = v,
                "bicycle" => t.bicycle = v,
                "oneway" => t.oneway = v,
                "oneway:bicycle" => t.oneway_bicycle = v,
                "junction" => t.junction = v,
                _ => panic!("{k}"),
            }
        }
        t
    }

    fn dirs(p: &Profile, t: &RoadTags) -> Option<(bool, bool)> {
        p.access(t).map(|a| (a.forward, a.backward))
    }

    #[test]
    fn walking_rules() {
        let w = Profile::walk();
        assert_eq!(dirs(&w, &tags("residential", &[])), Some((true, true)));
        assert_eq!(
            dirs(&w, &tags("residential", &[("oneway", "yes")])),
            Some((true, true))
        );
        assert_eq!(dirs(&w, &tags("steps", &[])), Some((true, true)));
        assert_eq!(dirs(&w, &tags("motorway", &[])), None);
        assert_eq!(dirs(&w, &tags("trunk", &[])), None);
        assert_eq!(
            dirs(&w, &tags("trunk", &[("foot", "yes")])),
            Some((true, true))
        );
        assert_eq!(dirs(&w, &tags("footway", &[("access", "private")])), None);
        assert!(w
            .access(&tags("service", &[("access", "no"), ("foot", "yes")]))
            .is_some());
        assert_eq!(
            dirs(&w, &tags("primary", &[("foot", "use_sidepath")])),
            None
        );
        assert_eq!(dirs(&w, &tags("construction", &[])), None);
        let a = w.access(&tags("primary", &[])).unwrap();
        assert!((a.speed_mps - 4.5 / 3.6).abs() < 1e-12);
    }

    #[test]
    fn ebike_rules() {
        let e = Profile::ebike();
        assert_eq!(dirs(&e, &tags("residential", &[])), Some((true, true)));
        assert_eq!(
            dirs(&e, &tags("residential", &[("oneway", "yes")])),
            Some((true, false))
        );
        assert_eq!(
            dirs(&e, &tags("residential", &[("oneway", "-1")])),
            Some((false, true))
        );
        assert_eq!(
            dirs(
                &e,
                &tags(
                    "residential",
                    &[("oneway", "yes"), ("oneway:bicycle", "no")]
                )
            ),
            Some((true, true))
        );
        assert_eq!(
            dirs(&e, &tags("primary", &[("junction", "roundabout")])),
            Some((true, false))
        );
        assert_eq!(dirs(&e, &tags("steps", &[])), None);
        assert_eq!(dirs(&e, &tags("footway", &[])), None);
        let f = e.access(&tags("footway", &[("bicycle", "yes")])).unwrap();
        assert!((f.speed_mps - EBIKE_PATH_KMH / 3.6).abs() < 1e-12);
        assert!(e.access(&tags("path", &[])).is_some());
        assert!(e.access(&tags("path", &[("bicycle", "no")])).is_none());
        assert!(e.access(&tags("motorway", &[])).is_none());
        let d = e
            .access(&tags("pedestrian", &[("bicycle", "dismount")]))
            .unwrap();
        assert!((d.speed_mps - DISMOUNT_KMH / 3.6).abs() < 1e-12);
        let s = e.access(&tags("secondary", &[])).unwrap();
        assert!((s.speed_mps - 15.0 / 3.6).abs() < 1e-12);
        assert!((e.max_speed_mps() - 15.0 / 3.6).abs() < 1e-12);
    }

    #[test]
    fn overridden_speeds_are_used() {
        let fast = Profile {
            street_kmh: 20.0,
            ..Profile::ebike()
        };
        let s = fast.access(&tags("secondary", &[])).unwrap();
        assert!((s.speed_mps - 20.0 / 3.6).abs() < 1e-12);
        assert!("ebike".parse::<Mode>().is_ok() && "car".parse::<Mode>().is_err());
    }
}
