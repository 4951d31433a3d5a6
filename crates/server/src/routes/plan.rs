//! Planner API: coverage, gaps, candidate comparison, site selection, assignment.

use axum::Router;
use geojson::Feature;
use yizhan_core::crs::Crs;
use yizhan_core::Dataset;

use crate::error::ApiError;
use crate::state::AppState;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// Grid cells with gap fields at `cutoff_m`.
///
/// Interim: a cell is covered when its centroid is within `cutoff_m` of a station.
pub fn gap_features(data: &Dataset, cutoff_m: f64, crs: Crs) -> Result<Vec<Feature>, ApiError> {
    Ok(data
        .cells
        .items()
        .iter()
        .map(|c| {
            let near = data.stations.nearest_one(c.centroid, |_| true);
            let d = near.map(|h| h.distance_m);
            let covered = d.is_some_and(|d| d <= cutoff_m);
            let mut extra = geojson::JsonObject::new();
            extra.insert("cutoff_m".into(), serde_json::json!(cutoff_m));
            extra.insert("covered".into(), serde_json::json!(covered));
            extra.insert(
                "nearest_station_m".into(),
                serde_json::json!(d.map(|d| (d * 10.0).round() / 10.0)),
            );
            extra.insert(
                "uncovered_demand".into(),
                serde_json::json!(if covered { 0.0 } else { c.demand }),
            );
            yizhan_core::io::cell_feature(c, crs, extra)
        })
        .collect())
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct PlanDoc;
