//! The web page at `/`: the courier finder and planner workbench (MapLibre GL JS).
//!
//! `build.rs` builds the npm project in `web/` and embeds the built files in the
//! binary, so `yizhan serve` is self-contained. When the page could not be built
//! (no Node.js, or `YIZHAN_SKIP_WEB=1`), `/` answers with a page saying so and how
//! to fix it, and [`built`] returns the reason.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// `Ok` when the web page is embedded, else why it was not built.
pub fn built() -> Result<(), &'static str> {
    if assets::BUILT {
        Ok(())
    } else {
        Err(assets::NOT_BUILT_REASON)
    }
}

/// The embedded files: URL path (`/index.html`, `/assets/…`), content type, bytes.
pub fn files() -> &'static [(&'static str, &'static str, &'static [u8])] {
    assets::ASSETS
}

/// Routes of the web page: `/`, `/index.html` and the built assets.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut r = Router::new().route("/", get(index));
    for &(path, ctype, bytes) in assets::ASSETS {
        // Vite names files [A-Za-z0-9_.-]; anything axum would read as a pattern is skipped.
        if path == "/" || path.contains(['{', '}', '*', ':']) {
            continue;
        }
        if path == "/index.html" {
            r = r.route(path, get(index));
            continue;
        }
        r = r.route(path, get(move || async move { asset(path, ctype, bytes) }));
    }
    r
}

fn asset(path: &str, ctype: &'static str, bytes: &'static [u8]) -> Response {
    // Files under /assets/ carry a content hash in their names: cache them for good.
    let cache = if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn index() -> Response {
    if let Some(&(path, ctype, bytes)) = assets::ASSETS.iter().find(|a| a.0 == "/index.html") {
        return asset(path, ctype, bytes);
    }
    (StatusCode::SERVICE_UNAVAILABLE, Html(not_built_page())).into_response()
}

fn not_built_page() -> String {
    let reason = assets::NOT_BUILT_REASON
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
<meta name=viewport content=\"width=device-width, initial-scale=1\">\
<title>yizhan: web UI not built</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}}\
code{{background:#eee;padding:0 .2em}}</style>\
<h1>The web UI was not built: install Node.js and rebuild</h1>\
<p>网页界面未构建：请安装 Node.js 后重新构建。</p>\
<p>Reason: <code>{reason}</code></p>\
<p>Install Node.js 20.19 or later (with npm), then run the README's command again \
(<code>cargo run --release -- serve</code> or <code>cargo build</code>): the build runs \
<code>npm ci</code> and <code>npm run build</code> in <code>web/</code> by itself. \
Unset <code>YIZHAN_SKIP_WEB</code> if it is set.</p>\
<p>The server works without the page: the API is described at \
<a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>, and OGC API Features for \
QGIS and GDAL is at <a href=\"/ogc\">/ogc</a>.</p></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn root_serves_the_page_or_says_why_not() {
        let app: Router = routes();
        let res = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let ctype = res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(ctype.starts_with("text/html"), "{ctype}");
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        match built() {
            Ok(()) => {
                assert_eq!(status, StatusCode::OK);
                assert!(body.contains("id=\"map\""), "{body}");
                // every asset the page names is served
                for (path, _, _) in files() {
                    let res = app
                        .clone()
                        .oneshot(Request::get(*path).body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::OK, "{path}");
                }
            }
            Err(reason) => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert!(body.contains("install Node.js and rebuild"), "{body}");
                assert!(!reason.is_empty());
            }
        }
    }
}
