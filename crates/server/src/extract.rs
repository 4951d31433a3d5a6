//! Request extraction that fails with problem+json naming the bad parameter
//! (axum's own `Query` and `Json` rejections are plain text and name nothing).

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::index::{BBox, StationFilter};
use yizhan_core::model::{AmenitySet, StationKind};

use crate::error::ApiError;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The query string as name/value pairs, read by name with typed, named errors.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Params::from_query(parts.uri.query())
    }
}

impl Params {
    /// Parse a raw query string.
    pub fn from_query(q: Option<&str>) -> Result<Self, ApiError> {
        let uri: axum::http::Uri = match q {
            Some(q) => format!("/?{q}")
                .parse()
                .map_err(|e| ApiError::param("query", format!("unreadable query string: {e}")))?,
            None => return Ok(Params::default()),
        };
        Query::<Vec<(String, String)>>::try_from_uri(&uri)
            .map(|Query(v)| Params(v))
            .map_err(|e| ApiError::param("query", format!("unreadable query string: {e}")))
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Parse `name` with `FromStr`, naming the parameter on error.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<T>()
                    .map_err(|e| ApiError::param(name, format!("{v:?} is not valid: {e}")))
            })
            .transpose()
    }

    /// A required parameter.
    pub fn require<T: FromStr>(&self, name: &str) -> Result<T, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.parse(name)?
            .ok_or_else(|| ApiError::param(name, "is required"))
    }

    /// A finite number within `min..=max`.
    pub fn number(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
        let Some(v) = self.parse::<f64>(name)? else {
            return Ok(None);
        };
        if !v.is_finite() || v < min || v > max {
            return Err(ApiError::param(
                name,
                format!("{v} is out of range (must be between {min} and {max})"),
            ));
        }
        Ok(Some(v))
    }

    /// A whole number within `min..=max`.
    pub fn count(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        let v: u64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::param(name, format!("{raw:?} is not a whole number")))?;
        if v < min || v > max {
            return Err(ApiError::param(
                name,
                format!("{v} is out of range (must be between {min} and {max})"),
            ));
        }
        Ok(Some(v))
    }

    /// The `crs` parameter (default WGS 84).
    pub fn crs(&self) -> Result<Crs, ApiError> {
        Ok(self.parse::<Crs>("crs")?.unwrap_or_default())
    }

    /// A point given as `lat` and `lon` in `crs`, converted to WGS 84.
    pub fn point(&self, crs: Crs) -> Result<LonLat, ApiError> {
        let lat = self.number("lat", -90.0, 90.0)?;
        let lon = self.number("lon", -180.0, 180.0)?;
        let lat = lat.ok_or_else(|| ApiError::param("lat", "is required"))?;
        let lon = lon.ok_or_else(|| ApiError::param("lon", "is required"))?;
        let p = LonLat::new(lon, lat).map_err(|e| ApiError::param("lat", e))?;
        Ok(crs.to_wgs84(p))
    }

    /// A `bbox` (W,S,E,N in `crs`), converted to WGS 84.
    pub fn bbox(&self, crs: Crs) -> Result<Option<BBox>, ApiError> {
        let Some(b) = self.parse::<BBox>("bbox")? else {
            return Ok(None);
        };
        if crs == Crs::Wgs84 {
            return Ok(Some(b));
        }
        let sw = crs.to_wgs84(LonLat {
            lon: b.west,
            lat: b.south,
        });
        let ne = crs.to_wgs84(LonLat {
            lon: b.east,
            lat: b.north,
        });
        BBox::new(sw.lon, sw.lat, ne.lon, ne.lat)
            .map(Some)
            .map_err(|e| ApiError::param("bbox", e))
    }

    /// A local time (`2026-07-01T12:30`, seconds optional; an RFC 3339 time with an
    /// offset is converted to China Standard Time, the towns' local time).
    pub fn local_time(&self, name: &str) -> Result<Option<NaiveDateTime>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        parse_local_time(v).map(Some).map_err(|_| {
            ApiError::param(
                name,
                format!("{v:?} is not a time (expected e.g. 2026-07-01T12:30)"),
            )
        })
    }

    /// The station filters: `kind`, `amenity` (comma-separated, all required),
    /// `open_at`, `min_free`.
    pub fn station_filter(&self) -> Result<StationFilter, ApiError> {
        let amenities = match self.get("amenity").or_else(|| self.get("amenities")) {
            Some(list) => {
                AmenitySet::parse_list(list).map_err(|e| ApiError::param("amenity", e))?
            }
            None => AmenitySet::empty(),
        };
        Ok(StationFilter {
            kind: self.parse::<StationKind>("kind")?,
            amenities,
            open_at: self.local_time("open_at")?,
            min_free: self
                .count("min_free", 0, u64::from(u32::MAX))?
                .map(|v| v as u32),
        })
    }
}

/// A path parameter, refused with problem+json (axum's own rejection is plain text).
#[derive(Debug, Clone)]
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| PathParam(v))
            .map_err(|e| ApiError::param("path", e.body_text()))
    }
}

pub use yizhan_core::time::{parse_local_time, LOCAL_UTC_OFFSET_H};

/// The current local time of the towns.
pub fn local_now() -> NaiveDateTime {
    let off = chrono::Duration::hours(i64::from(LOCAL_UTC_OFFSET_H));
    (chrono::Utc::now() + off).naive_utc()
}

/// A JSON body, refused with problem+json naming the field on wrong types, and
/// with 413 when larger than [`BODY_LIMIT`].
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(ApiError::UnsupportedMediaType {
                found: if ct.is_empty() {
                    "no content type".into()
                } else {
                    ct
                },
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge { limit: BODY_LIMIT }
            } else {
                ApiError::BadBody {
                    path: None,
                    reason: e.body_text(),
                }
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parse JSON, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::BadBody {
            path: Some(path),
            reason: inner.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_name_the_bad_one() {
        let p = Params::from_query(Some("lat=91&lon=118&k=abc")).unwrap();
        let e = p.point(Crs::Wgs84).unwrap_err();
        assert!(e.to_string().contains("lat"), "{e}");
        let e = p.count("k", 1, 100).unwrap_err();
        assert!(e.to_string().contains("k"), "{e}");
    }

    #[test]
    fn local_times() {
        assert!(parse_local_time("2026-07-01T12:30").is_ok());
        assert!(parse_local_time("2026-07-01T12:30:05").is_ok());
        let t = parse_local_time("2026-07-01T04:30:00Z").unwrap();
        assert_eq!(t.format("%H:%M").to_string(), "12:30");
        assert!(parse_local_time("noon").is_err());
    }

    #[test]
    fn json_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct B {
            p: u32,
        }
        let e = parse_json::<B>(br#"{"p":"three"}"#).unwrap_err();
        assert!(e.problem()["detail"].as_str().unwrap().contains("p"));
    }
}
