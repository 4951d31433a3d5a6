//! The properties of each point layer, written once.
//!
//! One borrowed struct per layer ([`StationProps`], [`HotspotProps`],
//! [`CandidateProps`]) with `#[derive(Serialize, Deserialize)]` is the layer's
//! GeoJSON schema: the writer serialises it, the JSON API and OGC API Features
//! answer with it, the store records it in the history, and both readers (the line
//! reader over the text, the generic reader over a `serde_json` map) deserialise it
//! and turn it into the domain type with one validation (`StationProps::station` …),
//! so both report the same problems by construction.
//!
//! A property is added in one line: a field here (fields in byte order of their
//! keys, as `serde_json::Map` sorts them, so that a struct serialised directly and a
//! map give the same text; a test checks it), then its use in `of` and the validation.
//!
//! Reading is lenient per property: a value of the wrong type does not fail the
//! deserialisation but becomes [`Checked::Invalid`] with the message the reader
//! reports, so that every problem of a feature is named, not only the first.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::geodesy::LonLat;
use crate::hours::OpeningHours;
use crate::model::{AmenitySet, Candidate, Hotspot, Occupancy, Station, StationKind, WorkerType};
use crate::profile::DemandProfile;

/// A property as read: its value, or what was wrong with it (one message per problem).
/// Writers only ever make `Valid` values.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked<T> {
    /// A value of the expected type.
    Valid(T),
    /// A value of another type (or with invalid items): the problems.
    Invalid(Vec<String>),
}

/// A text property: a JSON string, borrowed from the input when it has no escapes
/// (a number is read as its text, as spreadsheets write codes).
pub type Text<'a> = Checked<Cow<'a, str>>;

fn text(s: &str) -> Option<Text<'_>> {
    Some(Checked::Valid(Cow::Borrowed(s)))
}

fn valid<T>(v: T) -> Option<Checked<T>> {
    Some(Checked::Valid(v))
}

impl<T: Serialize> Serialize for Checked<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Checked::Valid(v) => v.serialize(s),
            Checked::Invalid(_) => Err(serde::ser::Error::custom("an invalid property")),
        }
    }
}

/// The problems of one feature: (property, message), in the order found.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<(&'static str, String)>);

impl Problems {
    /// Note a problem.
    pub fn push(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// Whether none was noted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of an optional property (`None` when absent or invalid; its problems noted).
    pub(crate) fn take<T>(&mut self, field: &'static str, v: Option<Checked<T>>) -> Option<T> {
        match v? {
            Checked::Valid(v) => Some(v),
            Checked::Invalid(messages) => {
                for m in messages {
                    self.push(field, m);
                }
                None
            }
        }
    }

    /// The value of a required property: `missing` when absent.
    fn required<T>(&mut self, field: &'static str, v: Option<Checked<T>>) -> Option<T> {
        if v.is_none() {
            self.push(field, "missing");
        }
        self.take(field, v)
    }

    /// A required text that must not be blank.
    fn nonblank(&mut self, field: &'static str, v: Option<Text<'_>>) -> Option<String> {
        let v = self.required(field, v)?;
        if v.trim().is_empty() {
            self.push(field, "must not be empty");
            return None;
        }
        Some(v.into_owned())
    }

    /// An optional text parsed with `FromStr` (its error is the message).
    fn parse<T: std::str::FromStr>(&mut self, field: &'static str, v: Option<Text<'_>>) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let s = self.take(field, v)?;
        s.parse::<T>()
            .map_err(|e| self.push(field, e.to_string()))
            .ok()
    }
}

fn owned(v: Option<Cow<'_, str>>) -> Option<String> {
    v.map(Cow::into_owned)
}

// ------------------------------------------------------------------ stations

/// The properties of a station feature; see the [module](self) documentation.
///
/// Read: `name` (required), `name_zh`, `kind` (default `rest_station`), `amenities`
/// (array of names or a comma-separated string), `capacity` (required),
/// `opening_hours` (default `24/7`), `grid_unit`, `operator`, `address`, and
/// optionally `occupied` with `occupancy_reported_at` (RFC 3339); `id` is the
/// feature's id when the Feature has none. The courier answers add `distance_m`,
/// `free_seats`, `navigate`, `next_open`, `occupancy` and `open_now`, which readers ignore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StationProps<'a> {
    /// Street address.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text<'a>>,
    /// What the station offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amenities: Option<Checked<AmenitySet>>,
    /// Seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Checked<u32>>,
    /// Courier answers: metres from the query point on the WGS 84 ellipsoid, to 1 mm.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Courier answers: seats free by a current report (`null`: no current report).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub free_seats: Option<Option<u32>>,
    /// Code of the grid unit it stands in.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub grid_unit: Option<Text<'a>>,
    /// The feature id, repeated as a property for spreadsheets.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    /// `rest_station` or `childcare_class`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text<'a>>,
    /// Name.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    /// Chinese name.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<Text<'a>>,
    /// Courier answers: links that open the station in navigation apps
    /// ([`crate::navigate`]).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub navigate: Option<crate::navigate::Links>,
    /// Courier answers, when closed: when it opens next (local time, minutes).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub next_open: Option<String>,
    /// Courier answers: the occupancy report (`null`: never reported).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub occupancy: Option<Option<OccupancyReport>>,
    /// When `occupied` was reported (RFC 3339).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub occupancy_reported_at: Option<Text<'a>>,
    /// Seats taken at the last report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupied: Option<Checked<u32>>,
    /// Courier answers: whether it is open at the query time.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub open_now: Option<bool>,
    /// Opening hours (a subset of the OSM `opening_hours` syntax).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<Text<'a>>,
    /// Who runs it.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Text<'a>>,
}

/// The `occupancy` member of a courier answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupancyReport {
    /// Seconds since the report (0 for reports from the future).
    pub age_s: i64,
    /// Seats taken.
    pub occupied: u32,
    /// When it was reported (RFC 3339, seconds, UTC).
    pub reported_at: String,
    /// Whether the report is too old to count.
    pub stale: bool,
}

impl<'a> StationProps<'a> {
    /// The properties of a station as files, the store and the APIs write them.
    pub fn of(s: &'a Station) -> Self {
        Self {
            address: s.address.as_deref().and_then(text),
            amenities: valid(s.amenities),
            capacity: valid(s.capacity),
            grid_unit: s.grid_unit.as_deref().and_then(text),
            id: text(&s.id),
            kind: text(s.kind.as_str()),
            name: text(&s.name),
            name_zh: s.name_zh.as_deref().and_then(text),
            occupancy_reported_at: s
                .occupancy
                .map(|o| Checked::Valid(Cow::Owned(o.reported_at.to_rfc3339()))),
            occupied: s.occupancy.map(|o| Checked::Valid(o.occupied)),
            opening_hours: text(s.opening_hours.as_str()),
            operator: s.operator.as_deref().and_then(text),
            ..Self::default()
        }
    }

    /// The station these properties describe, or `None` with every problem noted.
    pub fn station(
        self,
        id: String,
        location: Option<LonLat>,
        p: &mut Problems,
    ) -> Option<Station> {
        let name = p.nonblank("name", self.name);
        let name_zh = owned(p.take("name_zh", self.name_zh));
        let kind = p
            .parse::<StationKind>("kind", self.kind)
            .unwrap_or(StationKind::RestStation);
        let amenities = p.take("amenities", self.amenities).unwrap_or_default();
        let capacity = p.required("capacity", self.capacity);
        let opening_hours = p
            .parse::<OpeningHours>("opening_hours", self.opening_hours)
            .unwrap_or_else(OpeningHours::always);
        let occupied = p.take("occupied", self.occupied);
        let reported = p.take("occupancy_reported_at", self.occupancy_reported_at);
        let occupancy = match (occupied, reported) {
            (Some(occupied), Some(r)) => match chrono::DateTime::parse_from_rfc3339(&r) {
                Ok(t) => Some(Occupancy {
                    occupied,
                    reported_at: t.with_timezone(&chrono::Utc),
                }),
                Err(e) => {
                    p.push(
                        "occupancy_reported_at",
                        format!("not an RFC 3339 time: {e}"),
                    );
                    None
                }
            },
            (Some(_), None) => {
                p.push("occupancy_reported_at", "missing (required with occupied)");
                None
            }
            _ => None,
        };
        let grid_unit = owned(p.take("grid_unit", self.grid_unit));
        let operator = owned(p.take("operator", self.operator));
        let address = owned(p.take("address", self.address));
        Some(Station {
            id,
            name: name?,
            name_zh,
            kind,
            location: location?,
            amenities,
            capacity: capacity?,
            occupancy,
            opening_hours,
            grid_unit,
            operator,
            address,
        })
    }
}

// ------------------------------------------------------------------ hotspots

/// The properties of a hotspot feature: `workers` (required, whole number),
/// `worker_type` (default `other`), `grid_unit`, and the optional demand `profile`
/// (`{"hourly": [24], "weekday": [24], "weekend": [24]}`, see
/// [`DemandProfile`]; its JSON text is read too, as the GIS form writes it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HotspotProps<'a> {
    /// Code of the grid unit it lies in.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub grid_unit: Option<Text<'a>>,
    /// The feature id, repeated as a property.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    /// The shares of the daily workers by hour of day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Checked<DemandProfile>>,
    /// Which kind of workers.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub worker_type: Option<Text<'a>>,
    /// Number of workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<Checked<u32>>,
}

impl<'a> HotspotProps<'a> {
    /// The properties of a hotspot as written.
    pub fn of(h: &'a Hotspot) -> Self {
        Self {
            grid_unit: h.grid_unit.as_deref().and_then(text),
            id: text(&h.id),
            profile: h.profile.clone().map(Checked::Valid),
            worker_type: text(h.worker_type.as_str()),
            workers: valid(h.workers),
        }
    }

    /// The hotspot these properties describe, or `None` with every problem noted.
    pub fn hotspot(
        self,
        id: String,
        location: Option<LonLat>,
        p: &mut Problems,
    ) -> Option<Hotspot> {
        let workers = p.required("workers", self.workers);
        let worker_type = p
            .parse::<WorkerType>("worker_type", self.worker_type)
            .unwrap_or(WorkerType::Other);
        let grid_unit = owned(p.take("grid_unit", self.grid_unit));
        let profile = p.take("profile", self.profile);
        Some(Hotspot {
            id,
            location: location?,
            workers: workers?,
            worker_type,
            grid_unit,
            profile,
        })
    }
}

// ------------------------------------------------------------------ candidates

/// The properties of a candidate site: `name`, `capacity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CandidateProps<'a> {
    /// Seats it would offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Checked<u32>>,
    /// The feature id, repeated as a property.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    /// Name or description.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
}

impl<'a> CandidateProps<'a> {
    /// The properties of a candidate site as written.
    pub fn of(c: &'a Candidate) -> Self {
        Self {
            capacity: c.capacity.map(Checked::Valid),
            id: text(&c.id),
            name: c.name.as_deref().and_then(text),
        }
    }

    /// The candidate these properties describe, or `None` with every problem noted.
    pub fn candidate(
        self,
        id: String,
        location: Option<LonLat>,
        p: &mut Problems,
    ) -> Option<Candidate> {
        let name = owned(p.take("name", self.name));
        let capacity = p.take("capacity", self.capacity);
        Some(Candidate {
            id,
            name,
            location: location?,
            capacity,
        })
    }
}

/// The `id` property of a layer's properties (the feature's id when the Feature has none).
pub(crate) trait IdProp {
    fn id_prop(&self) -> Option<&Text<'_>>;
}

impl IdProp for StationProps<'_> {
    fn id_prop(&self) -> Option<&Text<'_>> {
        self.id.as_ref()
    }
}

impl IdProp for HotspotProps<'_> {
    fn id_prop(&self) -> Option<&Text<'_>> {
        self.id.as_ref()
    }
}

impl IdProp for CandidateProps<'_> {
    fn id_prop(&self) -> Option<&Text<'_>> {
        self.id.as_ref()
    }
}

// ------------------------------------------------------------------ lenient values

/// "a string", "an array" …: what a JSON value is, for messages.
const BOOLEAN: &str = "a boolean";
const NUMBER: &str = "a number";
const STRING: &str = "a string";
const ARRAY: &str = "an array";
const OBJECT: &str = "an object";
const NULL: &str = "null";

/// A number as `serde_json` prints it.
fn float_text(x: f64) -> String {
    serde_json::Number::from_f64(x).map_or_else(|| x.to_string(), |n| n.to_string())
}

/// A value read from any JSON value, never failing on its type: each kind of value
/// becomes `Self` through its method, and by default through [`Lenient::other`]
/// with what the value was ("a string", "an array" …). [`LenientVisitor`] is the one
/// `serde` visitor of every lenient property.
trait Lenient<'de>: Sized {
    /// A value of an unexpected kind: `found` says which.
    fn other(found: &'static str) -> Self;
    fn string(_: Cow<'de, str>) -> Self {
        Self::other(STRING)
    }
    fn unsigned(_: u64) -> Self {
        Self::other(NUMBER)
    }
    fn signed(_: i64) -> Self {
        Self::other(NUMBER)
    }
    fn float(_: f64) -> Self {
        Self::other(NUMBER)
    }
    fn array<A: SeqAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::other(ARRAY))
    }
    fn map<A: MapAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::other(OBJECT))
    }
}

/// The `serde` visitor of a [`Lenient`] value.
struct LenientVisitor<T>(std::marker::PhantomData<T>);

/// Deserialise a [`Lenient`] value from any JSON value.
fn lenient<'de, T: Lenient<'de>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(LenientVisitor(std::marker::PhantomData))
}

impl<'de, T: Lenient<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<T, E> {
        Ok(T::string(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<T, E> {
        Ok(T::string(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<T, E> {
        Ok(T::string(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<T, E> {
        Ok(T::unsigned(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<T, E> {
        Ok(T::signed(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<T, E> {
        Ok(T::float(v))
    }
    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok(T::other(BOOLEAN))
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::other(NULL))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<T, A::Error> {
        T::array(a)
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<T, A::Error> {
        T::map(a)
    }
}

/// A text: a string, or a number as its text.
impl<'de> Lenient<'de> for Checked<Cow<'de, str>> {
    fn other(found: &'static str) -> Self {
        Checked::Invalid(vec![format!("expected a string, found {found}")])
    }
    fn string(v: Cow<'de, str>) -> Self {
        Checked::Valid(v)
    }
    fn unsigned(v: u64) -> Self {
        Checked::Valid(Cow::Owned(v.to_string()))
    }
    fn signed(v: i64) -> Self {
        Checked::Valid(Cow::Owned(v.to_string()))
    }
    fn float(v: f64) -> Self {
        Checked::Valid(Cow::Owned(float_text(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Checked<Cow<'a, str>> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::<Checked<Cow<'de, str>>, D>(d)
    }
}

/// A whole number ≥ 0 that fits `u32`.
fn count(found: impl fmt::Display) -> Checked<u32> {
    Checked::Invalid(vec![format!("expected a whole number ≥ 0, found {found}")])
}

impl Lenient<'_> for Checked<u32> {
    fn other(found: &'static str) -> Self {
        count(found)
    }
    fn unsigned(v: u64) -> Self {
        u32::try_from(v).map_or_else(|_| count(v), Checked::Valid)
    }
    fn signed(v: i64) -> Self {
        u32::try_from(v).map_or_else(|_| count(v), Checked::Valid)
    }
    fn float(v: f64) -> Self {
        count(float_text(v))
    }
}

impl<'de> Deserialize<'de> for Checked<u32> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d)
    }
}

/// One item of an amenity array: a name, or what else it was.
enum Item<'a> {
    Name(Cow<'a, str>),
    Other(&'static str),
}

impl<'de> Lenient<'de> for Item<'de> {
    fn other(found: &'static str) -> Self {
        Item::Other(found)
    }
    fn string(v: Cow<'de, str>) -> Self {
        Item::Name(v)
    }
}

impl<'de> Deserialize<'de> for Item<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d)
    }
}

/// Amenities: an array of names, or one comma-separated string of them.
impl<'de> Lenient<'de> for Checked<AmenitySet> {
    fn other(found: &'static str) -> Self {
        Checked::Invalid(vec![format!("expected an array of names, found {found}")])
    }
    fn string(v: Cow<'de, str>) -> Self {
        AmenitySet::parse_list(&v)
            .map_or_else(|e| Checked::Invalid(vec![e.to_string()]), Checked::Valid)
    }
    fn array<A: SeqAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        let mut set = AmenitySet::empty();
        let mut problems = Vec::new();
        while let Some(item) = a.next_element::<Item<'de>>()? {
            match item {
                Item::Name(n) => match n.parse() {
                    Ok(x) => set.insert(x),
                    Err(e) => problems.push(e.to_string()),
                },
                Item::Other(t) => problems.push(format!("expected names, found {t}")),
            }
        }
        Ok(if problems.is_empty() {
            Checked::Valid(set)
        } else {
            Checked::Invalid(problems)
        })
    }
}

impl<'de> Deserialize<'de> for Checked<AmenitySet> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d)
    }
}

/// A demand profile: an object of three arrays of 24 shares, or its JSON text.
impl<'de> Lenient<'de> for Checked<DemandProfile> {
    fn other(found: &'static str) -> Self {
        Checked::Invalid(vec![format!(
            "expected an object of hourly, weekday and weekend shares, found {found}"
        )])
    }
    fn string(v: Cow<'de, str>) -> Self {
        profile_of(&serde_json::Value::String(v.into_owned()))
    }
    fn map<A: MapAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        let mut obj = serde_json::Map::new();
        while let Some((k, v)) = a.next_entry::<String, serde_json::Value>()? {
            obj.insert(k, v);
        }
        Ok(profile_of(&serde_json::Value::Object(obj)))
    }
}

fn profile_of(v: &serde_json::Value) -> Checked<DemandProfile> {
    DemandProfile::from_json(v)
        .map_or_else(|e| Checked::Invalid(vec![e.to_string()]), Checked::Valid)
}

impl<'de> Deserialize<'de> for Checked<DemandProfile> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys in byte order, as `serde_json::Map` sorts them: a struct serialised
    /// directly (the JSON API) and through a map (files) then give the same text.
    #[test]
    fn fields_are_in_key_order() {
        fn keys<T: Serialize>(v: &T) -> Vec<String> {
            let text = serde_json::to_string(v).unwrap();
            let map = serde_json::to_value(v).unwrap();
            assert_eq!(text, serde_json::to_string(&map).unwrap());
            map.as_object().unwrap().keys().cloned().collect()
        }
        let s = Station {
            id: "S".into(),
            name: "n".into(),
            name_zh: Some("z".into()),
            kind: StationKind::RestStation,
            location: LonLat::new(1.0, 2.0).unwrap(),
            amenities: AmenitySet::parse_list("wifi").unwrap(),
            capacity: 3,
            occupancy: Some(Occupancy {
                occupied: 1,
                reported_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            }),
            opening_hours: OpeningHours::always(),
            grid_unit: Some("g".into()),
            operator: Some("o".into()),
            address: Some("a".into()),
        };
        let mut p = StationProps::of(&s);
        p.distance_m = Some(1.0);
        p.free_seats = Some(None);
        p.next_open = Some("t".into());
        p.occupancy = Some(Some(OccupancyReport {
            age_s: 1,
            occupied: 1,
            reported_at: "r".into(),
            stale: false,
        }));
        p.open_now = Some(true);
        assert_eq!(keys(&p).len(), 17);
        let h = Hotspot {
            id: "H".into(),
            location: s.location,
            workers: 1,
            worker_type: WorkerType::Other,
            grid_unit: Some("g".into()),
            profile: Some(DemandProfile::uniform()),
        };
        assert_eq!(keys(&HotspotProps::of(&h)).len(), 5);
        let c = Candidate {
            id: "C".into(),
            name: Some("n".into()),
            location: s.location,
            capacity: Some(2),
        };
        assert_eq!(keys(&CandidateProps::of(&c)).len(), 3);
    }

    #[test]
    fn wrong_types_are_named_not_fatal() {
        let p: StationProps<'_> = serde_json::from_str(
            r#"{"name":12,"capacity":"ten","amenities":["sauna",3,null],"kind":[1],"occupied":-1,"x":{"y":[1]}}"#,
        )
        .unwrap();
        let mut problems = Problems::default();
        assert!(p.station("A".into(), None, &mut problems).is_none());
        let all: Vec<String> = problems
            .0
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect();
        assert_eq!(
            all,
            [
                "kind: expected a string, found an array",
                "amenities: unknown amenity \"sauna\" (expected one of: microwave, drinking_water, first_aid, books, charging, toilet, air_conditioning, seating, wifi)",
                "amenities: expected names, found a number",
                "amenities: expected names, found null",
                "capacity: expected a whole number ≥ 0, found a string",
                "occupied: expected a whole number ≥ 0, found -1",
            ]
        );
    }
}
