//! Answers are compressed as the client's `Accept-Encoding` asks (gzip, brotli),
//! except the live event stream, which must reach the client event by event.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

/// `GET uri` with `accept` as `Accept-Encoding` (none when `None`): the
/// `Content-Encoding`, the `Vary` values and the body as sent.
async fn fetch(
    app: &Router,
    uri: &str,
    accept: Option<&str>,
) -> (Option<String>, Vec<String>, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{uri}");
    let enc = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_string());
    let vary = res
        .headers()
        .get_all(header::VARY)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (enc, vary, body)
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096)
        .read_to_end(&mut out)
        .expect("a brotli body");
    out
}

/// JSON, GeoJSON and OGC answers come gzip- or brotli-compressed as asked, and
/// decompress to the plain answer; without `Accept-Encoding` they are plain.
#[tokio::test]
async fn json_and_geojson_are_compressed_as_asked() {
    let app = router(AppState::new(
        tests::small_dataset(),
        ServerConfig::default(),
    ));
    for uri in [
        "/api/v1/stations",
        "/api/v1/export/cells.geojson",
        "/ogc/collections/hotspots/items?limit=100",
        "/api/v1/openapi.json",
    ] {
        let (enc, vary, plain) = fetch(&app, uri, None).await;
        assert_eq!(enc, None, "{uri}");
        assert_eq!(vary, [CORS_VARY], "{uri}");
        let json: serde_json::Value = serde_json::from_slice(&plain).expect("plain JSON");
        for (accept, want, decode) in [
            ("gzip", "gzip", gunzip as fn(&[u8]) -> Vec<u8>),
            ("br", "br", unbrotli),
            ("br;q=0.5, gzip;q=1.0", "gzip", gunzip),
            ("gzip;q=0.2, br", "br", unbrotli),
        ] {
            let (enc, vary, body) = fetch(&app, uri, Some(accept)).await;
            assert_eq!(enc.as_deref(), Some(want), "{uri} with {accept}");
            // One `Vary`, which names accept-encoding.
            assert_eq!(vary, [CORS_VARY], "{uri} with {accept}");
            assert_ne!(body, plain, "{uri} with {accept}: not compressed");
            let back: serde_json::Value =
                serde_json::from_slice(&decode(&body)).expect("decompresses to JSON");
            assert_eq!(back, json, "{uri} with {accept}");
        }
        // An encoding the server does not offer: plain.
        let (enc, _, body) = fetch(&app, uri, Some("compress")).await;
        assert_eq!(enc, None, "{uri}");
        assert_eq!(body, plain, "{uri}");
    }
}

/// The event stream is never compressed (a compressor would hold events back):
/// with `Accept-Encoding: gzip, br` each event still arrives as it is sent.
#[tokio::test]
async fn the_event_stream_is_not_compressed() {
    let st = AppState::new(tests::small_dataset(), ServerConfig::default());
    let app = router(st.clone());
    let req = Request::get("/api/v1/stream")
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    let mut body = res.into_body();
    let mut text = String::new();
    let mut next = async |want: &str, text: &mut String| {
        while !text.contains(want) {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
                .await
                .expect("an event within 10 s")
                .expect("stream ended")
                .expect("stream error");
            if let Ok(d) = frame.into_data() {
                text.push_str(std::str::from_utf8(&d).expect("plain text"));
            }
        }
    };
    next("event: hello", &mut text).await;
    let s = st.snapshot().data.stations.items()[0].clone();
    st.publish(state::LiveEvent::Occupancy {
        station: Box::new(s),
    });
    next("event: occupancy", &mut text).await;
}
