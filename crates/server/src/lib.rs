//! # yizhan-server
//!
//! The map server of yizhan (驿站): a courier and planner API under `/api/v1`,
//! OGC API - Features under `/ogc` for city GIS (QGIS, GDAL, OWSLib), GeoJSON
//! downloads, `/healthz`, Prometheus `/metrics`, and the web page at `/`.
//!
//! [`router`] builds the whole application from an [`AppState`]; [`serve`] runs it
//! on a listener until a shutdown signal. Handlers are thin: they extract and
//! validate parameters ([`extract`]), call `yizhan-core` / `yizhan-plan`, and wrap
//! the answer; every error becomes `application/problem+json` in [`error`].
//!
//! ```
//! use yizhan_server::{router, AppState, ServerConfig};
//! use yizhan_core::Dataset;
//! let app = router(AppState::new(Dataset::new(vec![], vec![], vec![], vec![], None), ServerConfig::default()));
//! # let _ = app;
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod error;
pub mod extract;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod station_json;
pub mod web;

use std::future::Future;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

pub use axum::http::Method;
pub use error::ApiError;
pub use state::{AppState, CorsConfig, ServerConfig, Snapshot};

/// The whole application.
pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.config().cors);
    let mut api = Router::new();
    for r in routes::all() {
        let path = r.path;
        api = api.route(path, r.guarded(&state));
    }
    api.merge(web::routes())
        .route_layer(middleware::from_fn(tag_route))
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::wrong_method)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(cors)
        .with_state(state)
}

/// Copy the matched route template into the response, for metrics.
async fn tag_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(r) = route {
        res.extensions_mut().insert(r);
    }
    res
}

fn cors_layer(c: &CorsConfig) -> CorsLayer {
    let origins: Vec<HeaderValue> = c
        .origins
        .iter()
        .filter(|o| o.as_str() != "*")
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let layer = CorsLayer::new()
        .allow_methods(c.methods.clone())
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::AUTHORIZATION,
        ]);
    if origins.is_empty() || c.origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        layer.allow_origin(AllowOrigin::list(origins))
    }
}

/// Parse a comma-separated list of HTTP methods (for `--cors-methods`).
pub fn parse_methods(s: &str) -> Result<Vec<Method>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("{m:?} is not an HTTP method"))
        })
        .collect()
}

/// Serve `state` on `listener` until `shutdown` completes, then finish requests in
/// flight and return.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let st = state.clone();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            // End live streams, which would otherwise keep the shutdown waiting.
            st.begin_shutdown();
        })
        .await
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod store_tests;
