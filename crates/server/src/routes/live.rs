//! `GET /api/v1/stream`: Server-Sent Events of station and occupancy changes.
//!
//! Events (each `data` is one JSON object):
//! - `hello`: sent first, `{"occupancy_max_age_s": …}`.
//! - `station`: `{"action": "created"|"updated"|"retired", "id", "feature"}`, the
//!   feature as `GET /api/v1/stations/{id}` returns it (its last state when retired).
//! - `occupancy`: `{"id", "occupied", "capacity", "free_seats", "reported_at"}`.
//! - `reload`: `{"missed": n}` when the client fell behind; reload the stations.
//!
//! Comments are sent as keep-alives. Streams end when the server shuts down.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use yizhan_core::crs::Crs;

use crate::extract::local_now;
use crate::routes::stations::station_out;
use crate::state::{AppState, LiveEvent};

/// The SSE form of a live event.
pub fn to_event(st: &AppState, e: &LiveEvent) -> Event {
    let fresh = st.freshness();
    match e {
        LiveEvent::Station { action, station } => Event::default().event("station").data(
            json!({
                "action": action,
                "id": station.id,
                "feature": station_out(station, Crs::Wgs84, None, local_now(), &fresh),
            })
            .to_string(),
        ),
        LiveEvent::Occupancy { station } => Event::default().event("occupancy").data(
            json!({
                "id": station.id,
                "occupied": station.occupancy.map(|o| o.occupied),
                "capacity": station.capacity,
                "free_seats": fresh.free_seats(station),
                "reported_at": station.occupancy.map(|o| o.reported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            })
            .to_string(),
        ),
    }
}

struct Feed {
    st: AppState,
    rx: tokio::sync::broadcast::Receiver<LiveEvent>,
    stop: tokio::sync::watch::Receiver<bool>,
    hello: bool,
}

/// Live station and occupancy changes as Server-Sent Events.
#[utoipa::path(get, path = "/api/v1/stream", tag = "stations",
    responses((status = 200, description = "text/event-stream with events hello, station, occupancy, reload", content_type = "text/event-stream")))]
pub async fn stream_route(
    State(st): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feed = Feed {
        rx: st.subscribe(),
        stop: st.shutdown_signal(),
        st,
        hello: true,
    };
    let s = stream::unfold(feed, |mut f| async move {
        if f.hello {
            f.hello = false;
            let max_age = f.st.config().occupancy_max_age.as_secs();
            let e = Event::default()
                .event("hello")
                .data(json!({ "occupancy_max_age_s": max_age }).to_string());
            return Some((Ok(e), f));
        }
        if *f.stop.borrow() {
            return None;
        }
        let e = tokio::select! {
            _ = f.stop.changed() => return None,
            r = f.rx.recv() => match r {
                Ok(ev) => to_event(&f.st, &ev),
                Err(RecvError::Lagged(n)) => Event::default()
                    .event("reload")
                    .data(json!({ "missed": n }).to_string()),
                Err(RecvError::Closed) => return None,
            },
        };
        Some((Ok(e), f))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
