//! Domain types: stations, outdoor-worker hotspots, grid cells, candidate sites and roads.

use std::fmt;
use std::str::FromStr;

use geo_types::{LineString, MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};

use crate::geodesy::LonLat;
use crate::hours::OpeningHours;

/// What a station is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StationKind {
    /// A union rest station (工会驿站) for outdoor workers.
    RestStation,
    /// A summer childcare class (暑托班) with a number of seats.
    ChildcareClass,
}

impl StationKind {
    /// Every kind, in documentation order.
    pub const ALL: [StationKind; 2] = [StationKind::RestStation, StationKind::ChildcareClass];

    /// The snake_case name used in files and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::RestStation => "rest_station",
            StationKind::ChildcareClass => "childcare_class",
        }
    }
}

/// An amenity a station offers. The set is closed: files naming anything else are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Amenity {
    /// A microwave to heat food (微波炉).
    Microwave,
    /// Drinking water (饮水机).
    DrinkingWater,
    /// A first-aid kit (急救箱 / 医药箱).
    FirstAid,
    /// Books to read (书籍).
    Books,
    /// Phone / e-bike battery charging (充电).
    Charging,
    /// A toilet (卫生间).
    Toilet,
    /// Air conditioning (空调).
    AirConditioning,
    /// Seats and a place to rest (休息座椅).
    Seating,
    /// Wi-Fi.
    Wifi,
}

impl Amenity {
    /// Every amenity, in documentation order.
    pub const ALL: [Amenity; 9] = [
        Amenity::Microwave,
        Amenity::DrinkingWater,
        Amenity::FirstAid,
        Amenity::Books,
        Amenity::Charging,
        Amenity::Toilet,
        Amenity::AirConditioning,
        Amenity::Seating,
        Amenity::Wifi,
    ];

    /// The snake_case name used in files and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Amenity::Microwave => "microwave",
            Amenity::DrinkingWater => "drinking_water",
            Amenity::FirstAid => "first_aid",
            Amenity::Books => "books",
            Amenity::Charging => "charging",
            Amenity::Toilet => "toilet",
            Amenity::AirConditioning => "air_conditioning",
            Amenity::Seating => "seating",
            Amenity::Wifi => "wifi",
        }
    }

    /// The boolean field of this amenity in the flat GIS form of the stations layer
    /// (`has_microwave`, …; see [`crate::io::gis`]).
    pub fn field(self) -> &'static str {
        match self {
            Amenity::Microwave => "has_microwave",
            Amenity::DrinkingWater => "has_drinking_water",
            Amenity::FirstAid => "has_first_aid",
            Amenity::Books => "has_books",
            Amenity::Charging => "has_charging",
            Amenity::Toilet => "has_toilet",
            Amenity::AirConditioning => "has_air_conditioning",
            Amenity::Seating => "has_seating",
            Amenity::Wifi => "has_wifi",
        }
    }

    /// The bit of this amenity in an [`AmenitySet`].
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Kind of outdoor worker at a hotspot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WorkerType {
    /// Food-delivery riders (外卖骑手).
    Delivery,
    /// Parcel couriers (快递员).
    Courier,
    /// Sanitation workers (环卫工人).
    Sanitation,
    /// Ride-hailing drivers (网约车司机).
    RideHailing,
    /// Any other outdoor worker.
    Other,
}

impl WorkerType {
    /// Every worker type.
    pub const ALL: [WorkerType; 5] = [
        WorkerType::Delivery,
        WorkerType::Courier,
        WorkerType::Sanitation,
        WorkerType::RideHailing,
        WorkerType::Other,
    ];

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerType::Delivery => "delivery",
            WorkerType::Courier => "courier",
            WorkerType::Sanitation => "sanitation",
            WorkerType::RideHailing => "ride_hailing",
            WorkerType::Other => "other",
        }
    }
}

/// A name that is not one of a closed set of names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownName {
    /// What kind of name ("amenity", "kind", "worker type").
    pub what: &'static str,
    /// The name given.
    pub value: String,
    /// The accepted names, comma-separated.
    pub expected: String,
}

macro_rules! closed_set_str {
    ($t:ty, $what:literal) => {
        impl FromStr for $t {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                <$t>::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| UnknownName {
                        what: $what,
                        value: s.to_string(),
                        expected: <$t>::ALL
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
closed_set_str!(Amenity, "amenity");
closed_set_str!(StationKind, "kind");
closed_set_str!(WorkerType, "worker type");

/// A set of amenities, stored as a bit set (cheap to test in query filters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AmenitySet(u16);

impl AmenitySet {
    /// The empty set.
    pub const fn empty() -> Self {
        Self(0)
    }
    /// Add an amenity.
    pub fn insert(&mut self, a: Amenity) {
        self.0 |= a.bit();
    }
    /// Whether the set holds `a`.
    pub fn contains(self, a: Amenity) -> bool {
        self.0 & a.bit() != 0
    }
    /// Whether every amenity of `other` is in this set.
    pub fn is_superset(self, other: AmenitySet) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The amenities in documentation order.
    pub fn iter(self) -> impl Iterator<Item = Amenity> {
        Amenity::ALL.into_iter().filter(move |a| self.contains(*a))
    }
    /// Parse a comma-separated list such as `microwave,charging`.
    pub fn parse_list(s: &str) -> Result<Self, UnknownName> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Amenity::from_str)
            .collect()
    }
}

impl FromIterator<Amenity> for AmenitySet {
    fn from_iter<I: IntoIterator<Item = Amenity>>(iter: I) -> Self {
        let mut s = AmenitySet::empty();
        for a in iter {
            s.insert(a);
        }
        s
    }
}

impl Serialize for AmenitySet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for AmenitySet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<Amenity> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

/// A service station: a rest station for outdoor workers or a childcare class.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// Stable identifier, unique within a dataset (e.g. `AH-ST-01`).
    pub id: String,
    /// Name (any language; Chinese names also go to `name_zh`).
    pub name: String,
    /// Chinese name, if known.
    pub name_zh: Option<String>,
    /// What the station is.
    pub kind: StationKind,
    /// Where it stands (WGS 84).
    pub location: LonLat,
    /// What it offers.
    pub amenities: AmenitySet,
    /// Seats (rest places, or children for a childcare class).
    pub capacity: u32,
    /// Latest reported occupancy, if any.
    pub occupancy: Option<Occupancy>,
    /// Opening hours.
    pub opening_hours: OpeningHours,
    /// Code of the grid unit (village / community, 12-digit NBS code) it stands in.
    pub grid_unit: Option<String>,
    /// Who runs it (e.g. a trade union branch).
    pub operator: Option<String>,
    /// Street address.
    pub address: Option<String>,
}

/// How many seats of a station were taken, and when that was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupancy {
    /// Seats taken.
    pub occupied: u32,
    /// When it was reported (UTC).
    pub reported_at: chrono::DateTime<chrono::Utc>,
}

impl Station {
    /// Seats free: capacity less the reported occupancy (capacity when nothing was reported).
    pub fn free_seats(&self) -> u32 {
        self.capacity
            .saturating_sub(self.occupancy.map_or(0, |o| o.occupied))
    }
}

/// A place where outdoor workers gather or pass: a weighted demand point.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspot {
    /// Stable identifier, unique within a dataset.
    pub id: String,
    /// Where it is (WGS 84).
    pub location: LonLat,
    /// Number of outdoor workers (the demand weight).
    pub workers: u32,
    /// Which kind of workers.
    pub worker_type: WorkerType,
    /// Code of the grid unit it lies in, when known.
    pub grid_unit: Option<String>,
    /// When its workers are there, by hour of day (`None`: not known).
    pub profile: Option<crate::profile::DemandProfile>,
}

impl Hotspot {
    /// Its demand weight: the daily workers, or with `hours` the workers there in
    /// that window by its profile ([`DemandProfile::presence`]); a hotspot without a
    /// profile counts its workers at every hour.
    ///
    /// [`DemandProfile::presence`]: crate::profile::DemandProfile::presence
    pub fn demand(&self, hours: Option<crate::profile::HourWindow>) -> f64 {
        let w = f64::from(self.workers);
        match (hours, &self.profile) {
            (Some(win), Some(p)) => w * p.presence(win),
            _ => w,
        }
    }
}

/// A cell of the town's management grid (网格).
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// Stable identifier, unique within a dataset.
    pub id: String,
    /// The cell's area (WGS 84, counter-clockwise exterior ring).
    pub polygon: Polygon<f64>,
    /// Code of the grid unit (village / community) the cell belongs to.
    pub grid_unit: Option<String>,
    /// Name of that grid unit.
    pub unit_name: Option<String>,
    /// Outdoor workers in the cell (sum of the hotspots inside it).
    pub demand: f64,
    /// Representative point of the cell (centroid, or an interior point).
    pub centroid: LonLat,
}

/// A candidate site for a new station.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Stable identifier, unique within the candidate set.
    pub id: String,
    /// Name or description.
    pub name: Option<String>,
    /// Where it would stand.
    pub location: LonLat,
    /// Seats it would offer, if known.
    pub capacity: Option<u32>,
}

/// The town's outline (or approximate extent) with a label of what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// Name of the area.
    pub name: String,
    /// The geometry (WGS 84).
    pub geometry: MultiPolygon<f64>,
    /// Properties carried through unchanged (source, licence, caveats).
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// A street, path or other way of the road network: an OpenStreetMap way, or a
/// generated one tagged the same way. Routing (`yizhan-net`) reads its tags per
/// travel profile; the map and GIS read its name and class.
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    /// Stable identifier, unique within the layer (`w123` for OpenStreetMap way 123).
    pub id: String,
    /// The way's line (WGS 84), in the way's own direction (what `oneway=yes` refers to).
    pub line: LineString<f64>,
    /// The tags that routing and the map use.
    pub tags: RoadTags,
}

/// The OpenStreetMap tags of a way that yizhan uses, with their values as tagged
/// (`oneway` is `yes`, `-1`, `no` …), so that the profiles interpret them in one
/// place. Serialised with the OpenStreetMap keys (`name:zh`, `oneway:bicycle`): this
/// is the `roads` layer's property schema (other properties are ignored on reading).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoadTags {
    /// `access`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    /// `area` (`yes` for a pedestrian square drawn as a closed way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// `bicycle` (`yes`, `no`, `designated`, `dismount` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bicycle: Option<String>,
    /// `bridge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// `foot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foot: Option<String>,
    /// `highway`: the class of the way (`primary`, `residential`, `footway` …).
    pub highway: String,
    /// `junction` (`roundabout` implies one-way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junction: Option<String>,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `name:zh`.
    #[serde(rename = "name:zh", default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// `oneway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oneway: Option<String>,
    /// `oneway:bicycle`.
    #[serde(
        rename = "oneway:bicycle",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub oneway_bicycle: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amenity_names_round_trip() {
        for a in Amenity::ALL {
            assert_eq!(a.as_str().parse::<Amenity>().unwrap(), a);
        }
        let err = "jacuzzi".parse::<Amenity>().unwrap_err();
        assert!(err.to_string().contains("unknown amenity \"jacuzzi\""));
        assert!(err.to_string().contains("microwave"));
        for a in Amenity::ALL {
            assert_eq!(a.field(), format!("has_{}", a.as_str()));
        }
    }

    #[test]
    fn amenity_set_logic() {
        let s = AmenitySet::parse_list("microwave, charging").unwrap();
        assert!(s.contains(Amenity::Microwave) && s.contains(Amenity::Charging));
        assert!(!s.contains(Amenity::Books));
        let need = AmenitySet::parse_list("charging").unwrap();
        assert!(s.is_superset(need));
        assert!(!need.is_superset(s));
        assert!(AmenitySet::parse_list("").unwrap().is_empty());
        assert!(AmenitySet::parse_list("microwave,spa").is_err());
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["microwave","charging"]"#
        );
    }
}
