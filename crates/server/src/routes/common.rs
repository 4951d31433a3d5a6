//! HTTP glue shared by the route modules (so that route modules never import each
//! other): GeoJSON answers, the base URL of links, the blocking pool, planning parameters read from a
//! body, candidate sites given in a body.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use geojson::Feature;
use serde::Deserialize;
use serde_json::json;
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::model::Candidate;
use yizhan_core::Dataset;
use yizhan_plan::coverage::CoverageParams;
use yizhan_plan::workflow::{self, CandidateSource};
use yizhan_plan::PlanError;

use crate::error::ApiError;
use crate::extract::Params;
use crate::state::AppState;

/// The media type of GeoJSON.
pub const GEO_JSON: &str = "application/geo+json";

/// A GeoJSON answer (`application/geo+json`), already serialised.
#[derive(Debug, Clone)]
pub struct GeoJson(pub String);

impl GeoJson {
    /// A FeatureCollection.
    pub fn collection(features: Vec<Feature>) -> Self {
        GeoJson(yizhan_core::io::to_string(features))
    }

    /// A FeatureCollection with extra top-level members.
    pub fn collection_with(
        features: &[Feature],
        members: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        let mut v = serde_json::Map::new();
        v.insert("type".into(), json!("FeatureCollection"));
        v.insert("features".into(), json!(features));
        v.extend(members);
        GeoJson(serde_json::Value::Object(v).to_string())
    }

    /// A single Feature.
    pub fn feature(f: Feature) -> Self {
        GeoJson(f.to_string())
    }
}

impl IntoResponse for GeoJson {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(GEO_JSON))],
            self.0,
        )
            .into_response()
    }
}

/// The station filter's query parameters, as `Params::station_filter` reads
/// them; this type only describes them to the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParams {
    /// Comma-separated amenities the station must all offer (microwave, drinking_water, first_aid, books, charging, toilet, air_conditioning, seating, wifi)
    amenity: Option<String>,
    /// Only stations of this kind: rest_station or childcare_class
    kind: Option<String>,
    /// Only stations open at this local time, e.g. 2026-07-01T12:30
    open_at: Option<String>,
    /// Only stations with at least this many free seats (by a current report; a station without one counts its capacity)
    min_free: Option<u32>,
}

/// The `crs` query parameter ([`Params::crs`]): an extractor for routes that read
/// no other, and its description in the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CrsParam {
    /// wgs84 (default) or gcj02: the CRS of the coordinates given (query point, bbox, body) and answered
    #[param(value_type = Option<String>)]
    pub crs: Crs,
}

impl<S: Send + Sync> FromRequestParts<S> for CrsParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let crs = Params::from_query(parts.uri.query())?.crs()?;
        Ok(Self { crs })
    }
}

/// The base URL for links: the configured public URL, else `http://` + Host.
pub(crate) fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &st.config().public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
        })
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// Run CPU-heavy or blocking work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("blocking task", e))?
}

/// Coverage parameters from a request body: `cutoff_m` (default: the server's) and
/// `peak_share` (default [`workflow::DEFAULT_PEAK_SHARE`]), checked by the workflow.
pub(crate) fn body_params(
    st: &AppState,
    cutoff_m: Option<f64>,
    peak_share: Option<f64>,
) -> Result<CoverageParams, ApiError> {
    workflow::coverage_params(
        Some(cutoff_m.unwrap_or(st.config().default_cutoff_m)),
        peak_share,
    )
    .map_err(ApiError::from)
}

/// A candidate site given in a request body (coordinates in the request's `crs`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateIn {
    /// Unique id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Seats it would offer.
    pub capacity: Option<u32>,
}

/// The candidate sites of a request: those given (in `crs`), else every cell's
/// centroid when `cells`, else the dataset's; checked by the workflow.
pub(crate) fn candidates_in(
    given: Option<Vec<CandidateIn>>,
    cells: bool,
    data: &Dataset,
    crs: Crs,
) -> Result<Vec<Candidate>, ApiError> {
    let source = match given {
        Some(list) => CandidateSource::Given(
            list.into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let at = LonLat::new(c.lon, c.lat).map_err(|e| ApiError::BadBody {
                        path: Some(format!("candidates[{i}]")),
                        reason: e.to_string(),
                    })?;
                    Ok(Candidate {
                        id: c.id,
                        name: c.name,
                        location: crs.to_wgs84(at),
                        capacity: c.capacity,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?,
        ),
        None if cells => CandidateSource::Cells,
        None => CandidateSource::Dataset,
    };
    workflow::candidate_sites(data, source).map_err(|e| match e {
        PlanError::DuplicateCandidate { index, id } => ApiError::BadBody {
            path: Some(format!("candidates[{index}].id")),
            reason: format!("duplicate id {id:?}"),
        },
        PlanError::Empty { .. } => ApiError::BadBody {
            path: Some("candidates".into()),
            reason: "no candidate sites: give candidates, set cells: true, or load a dataset with candidates.geojson".into(),
        },
        e => e.into(),
    })
}
