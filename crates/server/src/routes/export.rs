//! GeoJSON download of any layer, the computed gaps included.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use yizhan_core::crs::Crs;

use crate::error::ApiError;
use crate::extract::{Params, PathParam};
use crate::layers::{self, Collection};
use crate::routes::common::{CrsParam, GEO_JSON};
use crate::state::AppState;

/// A whole layer as an RFC 7946 file, with a `Content-Disposition` file name.
#[utoipa::path(get, path = "/api/v1/export/{file}", tag = "export",
    params(
        CrsParam,
        ("cutoff_m" = Option<f64>, Query, description = "For gaps: walking cutoff in metres"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection as an attachment", content_type = "application/geo+json", body = Object)))]
pub async fn export(
    State(st): State<AppState>,
    PathParam(file): PathParam<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let name = file.strip_suffix(".geojson").unwrap_or(&file);
    let c: Collection = name.parse().map_err(|_| ApiError::NotFound {
        what: "layer",
        id: file.clone(),
        expected: Some(
            Collection::ALL
                .map(|c| format!("{}.geojson", c.as_str()))
                .join(", "),
        ),
    })?;
    let crs = p.crs()?;
    let default_cutoff = st.config().default_cutoff_m;
    let cutoff = p
        .number("cutoff_m", 0.0, 100_000.0)?
        .unwrap_or(default_cutoff);
    let snap = st.snapshot();
    let text = if cutoff == default_cutoff && crs == Crs::Wgs84 {
        let f = snap.features(c, crs, default_cutoff)?;
        yizhan_core::io::to_string_lines(&f)
    } else {
        // Not WGS 84: the file says its datum (a member and a property per feature).
        let f = layers::build(&snap.data, c, crs, cutoff)?;
        yizhan_core::io::to_string_lines_in(&f, crs)
    };
    let dataset: String = st
        .config()
        .dataset_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let suffix = if crs == Crs::Wgs84 { "" } else { "-gcj02" };
    let filename = if dataset.is_empty() {
        format!("{}{suffix}.geojson", c.as_str())
    } else {
        format!("{dataset}-{}{suffix}.geojson", c.as_str())
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| ApiError::internal("export file name", e))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(GEO_JSON)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}
