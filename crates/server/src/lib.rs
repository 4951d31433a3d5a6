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
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod replica;
pub mod routes;
pub mod state;
pub mod station_json;
pub mod tiles;
pub mod web;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::middleware;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use axum::http::Method;
pub use error::ApiError;
pub use state::{AppState, CorsConfig, ServerConfig, Snapshot};

/// The whole application.
pub fn router(state: AppState) -> Router {
    state.set_api_document(openapi::document_json(&state));
    state.set_ogc_document(openapi::ogc_document_json(&state));
    let cors = cors_layer(&state.config().cors);
    let limiter = limits::Limiter::new(state.config().limits);
    let mut api = Router::new();
    for r in routes::all() {
        let (path, cost) = (r.path, r.cost);
        api = api.route(path, limiter.apply(cost, r.guarded(&state)));
    }
    // `Router::layer` wraps every route (and the fallbacks) separately, after
    // routing: `metrics::track` finds the route template in the request.
    //
    // The layers go on as one stack, outermost first: axum boxes each `layer`
    // call's service separately and clones the boxes for every request.
    //
    // Compression is outermost, so it sees the whole answer and the `Vary` below
    // (which names `accept-encoding`, so it adds no second `Vary`). Its default
    // predicate leaves Server-Sent Events, images and tiny bodies alone.
    let layers = tower::ServiceBuilder::new()
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(SetResponseHeaderLayer::appending(
            axum::http::header::VARY,
            HeaderValue::from_static(CORS_VARY),
        ))
        .layer(cors)
        .layer(middleware::from_fn_with_state(
            state.metrics().clone(),
            metrics::track,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT));
    api.merge(web::routes())
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::wrong_method)
        .layer(layers)
        .with_state(state)
}

/// The `Vary` value of every answer: the request headers the CORS answer depends
/// on (tower-http's default list) and `accept-encoding` (answers are compressed
/// when the client accepts it). Set as one static value rather than by
/// `CorsLayer`, which joins the list into a new allocation on every request.
const CORS_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers, accept-encoding";

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
        ])
        .vary([]);
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
mod cors_tests {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;

    use super::*;

    const VARY: &str =
        "origin, access-control-request-method, access-control-request-headers, accept-encoding";

    /// The headers of the answer to `req`, after checking its CORS headers: one
    /// `Vary` with tower-http's default list, and any origin allowed.
    async fn cors_checked(app: &Router, req: Request<Body>) -> axum::http::HeaderMap {
        let h = app.clone().oneshot(req).await.unwrap().headers().clone();
        assert_eq!(h.get_all(header::VARY).iter().collect::<Vec<_>>(), [VARY]);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        h
    }

    /// The CORS headers are those `CorsLayer` with its default `Vary` gave (and
    /// `accept-encoding`, for compression).
    #[tokio::test]
    async fn cors_headers_and_vary() {
        let app = router(AppState::new(
            tests::small_dataset(),
            ServerConfig::default(),
        ));
        let get = Request::get("/api/v1/stations/nearest?lat=24.72&lon=118.47")
            .header(header::ORIGIN, "https://gis.example")
            .body(Body::empty())
            .unwrap();
        cors_checked(&app, get).await;
        // Errors and unknown paths too.
        cors_checked(&app, Request::get("/nowhere").body(Body::empty()).unwrap()).await;
        // A preflight request.
        let pre = Request::options("/api/v1/stations/nearest")
            .header(header::ORIGIN, "https://gis.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .unwrap();
        let h = cors_checked(&app, pre).await;
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], "GET,HEAD");
    }
}

#[cfg(test)]
mod store_tests;

#[cfg(test)]
mod compression_tests;

#[cfg(test)]
mod tiles_tests;
