//! The flat, typed GIS form of every layer: what OGC API Features, the GeoJSON
//! exports and CSV carry, so that every GDAL driver (GeoPackage, FlatGeobuf,
//! ESRI Shapefile, CSV, GeoJSON) writes each property and a GIS user filters on it.
//!
//! The JSON form of a layer ([`props`](super::props)) is what the JSON API and the
//! dataset files use; the GIS form is made from it by one rule, [`to_gis`]:
//!
//! - a station's `amenities` array becomes one boolean field per amenity of the
//!   closed set ([`Amenity::field`]: `has_microwave`, `has_drinking_water`, …), and
//!   stays as comma-separated text (`microwave,charging`), which every reader of
//!   the dataset files accepts, so an export reads back as it was written;
//! - any other array or object becomes its JSON text (GDAL reads arrays as
//!   `StringList`, which FlatGeobuf and Shapefile cannot write);
//! - every feature gets every property of its layer, `null` where it has none, so
//!   that a reader that takes the fields from the first features (GDAL's GeoJSON
//!   and OAPIF drivers) sees all of them.
//!
//! [`fields`] is the typed schema of features in this form (the OGC queryables and
//! the collection schema are made from it).

use geojson::{Feature, JsonObject, JsonValue};

use super::props::Checked;
use crate::model::{Amenity, AmenitySet};

/// The station property that holds the amenities.
pub const AMENITIES: &str = "amenities";

/// The type of a field in the GIS form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A real number.
    Number,
    /// True or false.
    Boolean,
}

impl FieldType {
    /// The JSON Schema type name (`string`, `integer`, `number`, `boolean`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
        }
    }
}

/// One field of a layer in the GIS form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Property name.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether some feature has no value (`null`).
    pub nullable: bool,
}

/// The amenity fields of a set: (`has_…`, whether it holds the amenity), for every
/// amenity of the closed set, in [`Amenity::ALL`] order.
pub fn amenity_flags(set: AmenitySet) -> impl Iterator<Item = (&'static str, bool)> {
    Amenity::ALL
        .into_iter()
        .map(move |a| (a.field(), set.contains(a)))
}

/// The amenities as comma-separated text (`microwave,charging`).
pub fn amenity_text(set: AmenitySet) -> String {
    set.iter()
        .map(Amenity::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// One feature's properties in the GIS form (without the filling of absent ones,
/// which needs the whole layer: see [`to_gis`]).
pub fn gis_properties(props: &mut JsonObject) {
    let amenities = props.get(AMENITIES).and_then(|v| match v {
        JsonValue::Array(_) => match serde_json::from_value::<Checked<AmenitySet>>(v.clone()) {
            Ok(Checked::Valid(set)) => Some(set),
            _ => None,
        },
        _ => None,
    });
    if let Some(set) = amenities {
        props.insert(AMENITIES.into(), JsonValue::String(amenity_text(set)));
        for (field, has) in amenity_flags(set) {
            props.insert(field.into(), JsonValue::Bool(has));
        }
    }
    for v in props.values_mut() {
        if matches!(v, JsonValue::Array(_) | JsonValue::Object(_)) {
            *v = JsonValue::String(v.to_string());
        }
    }
}

/// Features in the GIS form (see the [module](self) documentation): each feature's
/// properties flattened, and every property of the layer on every feature.
pub fn to_gis(features: &mut [Feature]) {
    let mut names = std::collections::BTreeSet::new();
    for f in features.iter_mut() {
        let props = f.properties.get_or_insert_with(JsonObject::new);
        gis_properties(props);
        names.extend(props.keys().cloned());
    }
    for f in features.iter_mut() {
        let props = f.properties.get_or_insert_with(JsonObject::new);
        for n in &names {
            if !props.contains_key(n) {
                props.insert(n.clone(), JsonValue::Null);
            }
        }
    }
}

/// The typed fields of features in the GIS form, in key order: a field is an
/// integer when every value is a whole number, a number when some is not, a boolean
/// or a string; one with only `null` values is a string.
pub fn fields(features: &[Feature]) -> Vec<Field> {
    let mut out: std::collections::BTreeMap<&str, (Option<FieldType>, bool)> =
        std::collections::BTreeMap::new();
    for f in features {
        let Some(props) = &f.properties else {
            continue;
        };
        for (k, v) in props {
            let e = out.entry(k.as_str()).or_insert((None, false));
            let ty = match v {
                JsonValue::Null => {
                    e.1 = true;
                    continue;
                }
                JsonValue::Bool(_) => FieldType::Boolean,
                JsonValue::Number(n) if n.is_i64() || n.is_u64() => FieldType::Integer,
                JsonValue::Number(_) => FieldType::Number,
                _ => FieldType::String,
            };
            e.0 = Some(match (e.0, ty) {
                (None, t) => t,
                (Some(a), b) if a == b => a,
                (Some(FieldType::Integer), FieldType::Number)
                | (Some(FieldType::Number), FieldType::Integer) => FieldType::Number,
                _ => FieldType::String,
            });
        }
    }
    let n = features.len();
    out.into_iter()
        .map(|(name, (ty, nullable))| {
            let present = features
                .iter()
                .filter(|f| f.properties.as_ref().is_some_and(|p| p.contains_key(name)))
                .count();
            Field {
                name: name.to_string(),
                ty: ty.unwrap_or(FieldType::String),
                nullable: nullable || present < n,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::Crs;
    use crate::geodesy::LonLat;
    use crate::hours::OpeningHours;
    use crate::model::{Station, StationKind};

    fn station(id: &str, amenities: &str, address: Option<&str>) -> Station {
        Station {
            id: id.into(),
            name: format!("{id} 驿站"),
            name_zh: None,
            kind: StationKind::RestStation,
            location: LonLat::new(118.47, 24.72).unwrap(),
            amenities: AmenitySet::parse_list(amenities).unwrap(),
            capacity: 8,
            occupancy: None,
            opening_hours: OpeningHours::always(),
            grid_unit: None,
            operator: None,
            address: address.map(str::to_string),
        }
    }

    #[test]
    fn stations_get_one_flag_per_amenity_and_every_field() {
        let stations = [
            station("A", "microwave,charging", Some("1 Road")),
            station("B", "", None),
        ];
        let mut feats: Vec<Feature> = stations
            .iter()
            .map(|s| super::super::station_feature(s, Crs::Wgs84, JsonObject::new()))
            .collect();
        to_gis(&mut feats);
        let a = feats[0].properties.as_ref().unwrap();
        let b = feats[1].properties.as_ref().unwrap();
        assert_eq!(a[AMENITIES], "microwave,charging");
        assert_eq!(b[AMENITIES], "");
        for am in Amenity::ALL {
            let want = matches!(am, Amenity::Microwave | Amenity::Charging);
            assert_eq!(a[am.field()], want, "{am:?}");
            assert_eq!(b[am.field()], false, "{am:?}");
        }
        assert_eq!(b["address"], JsonValue::Null);
        let keys = |p: &JsonObject| p.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(a), keys(b));
        // No arrays or objects are left, and the text reads back as the set.
        assert!(a.values().all(|v| !v.is_array() && !v.is_object()));
        assert_eq!(
            AmenitySet::parse_list(a[AMENITIES].as_str().unwrap()).unwrap(),
            stations[0].amenities
        );
        let f = fields(&feats);
        let ty = |n: &str| f.iter().find(|x| x.name == n).map(|x| (x.ty, x.nullable));
        assert_eq!(ty("capacity"), Some((FieldType::Integer, false)));
        assert_eq!(ty("has_wifi"), Some((FieldType::Boolean, false)));
        assert_eq!(ty("address"), Some((FieldType::String, true)));
        assert_eq!(f.len(), keys(a).len());
    }

    #[test]
    fn other_lists_and_objects_become_text() {
        let mut p = JsonObject::new();
        p.insert("tags".into(), serde_json::json!(["a", 1]));
        p.insert("meta".into(), serde_json::json!({"k": [1]}));
        p.insert(AMENITIES.into(), serde_json::json!(["sauna"]));
        gis_properties(&mut p);
        assert_eq!(p["tags"], r#"["a",1]"#);
        assert_eq!(p["meta"], r#"{"k":[1]}"#);
        assert_eq!(p[AMENITIES], r#"["sauna"]"#);
        assert!(!p.contains_key("has_microwave"));
    }

    #[test]
    fn a_hotspot_profile_is_one_text_field_that_reads_back() {
        use crate::model::{Hotspot, WorkerType};
        use crate::profile::DemandProfile;
        let mut p = DemandProfile::uniform();
        p.hourly = [0.0; 24];
        p.hourly[12] = 1.0;
        let h = Hotspot {
            id: "H".into(),
            location: LonLat::new(118.47, 24.72).unwrap(),
            workers: 7,
            worker_type: WorkerType::Delivery,
            grid_unit: None,
            profile: Some(p),
        };
        let mut feats = vec![super::super::hotspot_feature(&h, Crs::Wgs84)];
        to_gis(&mut feats);
        let props = feats[0].properties.as_ref().unwrap();
        assert!(props["profile"].is_string());
        let f = fields(&feats);
        assert!(f
            .iter()
            .any(|x| x.name == "profile" && x.ty == FieldType::String));
        let fc = geojson::FeatureCollection {
            bbox: None,
            features: feats,
            foreign_members: None,
        };
        let back = crate::io::read_hotspots(&fc, Crs::Wgs84).unwrap();
        assert_eq!(back, vec![h]);
    }
}
