//! The service routes: health, metrics, the web page's configuration, the OpenAPI
//! document, and the answers for unknown paths and wrong methods.

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::routes::stations;
use crate::state::AppState;

/// Liveness and a summary of what is loaded.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The server is up", body = Object)))]
pub async fn healthz(State(st): State<AppState>) -> Json<serde_json::Value> {
    let snap = st.snapshot();
    let r = st.readiness();
    Json(json!({
        "status": "ok",
        "ready": r.ready,
        "replica": r.replica,
        "snapshot_age_s": r.snapshot_age_s,
        "last_seq": r.last_seq,
        "store_pool": r.pool,
        "dataset": st.config().dataset_name,
        "stations": snap.data.stations.len(),
        "hotspots": snap.data.hotspots.len(),
        "cells": snap.data.cells.len(),
        "candidates": snap.data.candidates.len(),
    }))
}

/// Readiness for a load balancer: 200 when this server can take traffic, 503
/// problem+json with `Retry-After` when not (a replica that has lost its store: it
/// still answers reads from its last snapshot, see `/healthz`).
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, description = "Ready", body = Object),
        (status = 503, description = "Not ready (the store is unreachable)", content_type = "application/problem+json")))]
pub async fn readyz(State(st): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let r = st.readiness();
    if r.ready {
        return Ok(Json(
            json!({ "status": "ready", "snapshot_age_s": r.snapshot_age_s }),
        ));
    }
    tracing::debug!(snapshot_age_s = ?r.snapshot_age_s, "not ready");
    Err(ApiError::Busy {
        reason: "not ready: the store cannot be reached (reads still answer from the last snapshot; see /healthz)",
        retry_after_s: crate::error::STORE_RETRY_AFTER_S,
    })
}

/// Request counts and latency histograms per route (Prometheus text format).
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    st.metrics().observe(&st.readiness());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        st.metrics().render(),
    )
        .into_response()
}

/// Settings for the web page: dataset name, basemap, default cutoff, how old an
/// occupancy report may be, whether writes are possible, the live stream.
#[utoipa::path(get, path = "/api/v1/config", tag = "service",
    responses((status = 200, description = "Page configuration", body = Object)))]
pub async fn config(State(st): State<AppState>) -> Json<serde_json::Value> {
    let c = st.config();
    Json(json!({
        "dataset": c.dataset_name,
        "basemap": c.basemap_url,
        "default_cutoff_m": c.default_cutoff_m,
        "max_k": stations::MAX_K,
        "crs": ["wgs84", "gcj02"],
        "occupancy_max_age_s": c.occupancy_max_age.as_secs(),
        "writes": st.has_store(),
        "stream": "/api/v1/stream",
    }))
}

/// This API's OpenAPI 3 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3 document", body = Object)))]
pub async fn openapi(State(st): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        st.api_document(),
    )
        .into_response()
}

/// Any path without a route.
pub async fn no_route(uri: OriginalUri) -> ApiError {
    ApiError::NoRoute {
        path: uri.path().to_string(),
    }
}

/// A route used with the wrong method.
pub async fn wrong_method(method: Method, uri: OriginalUri) -> Response {
    let mut r = ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
    .into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}
