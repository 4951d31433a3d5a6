//! Limits on what a request may cost: a timeout on every route, and a cap on how
//! many planning requests (coverage, gaps, compare, select, assign) run at once.
//!
//! A planning request that finds the cap reached is answered at once with 503 and
//! `Retry-After` rather than queued; a request that outlives the timeout is
//! answered with 504. Both are problem+json like every other error.
//!
//! The timeout covers the handler up to the answer's head: a streamed body (the
//! live event stream, a large export) is not cut off.

use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::load_shed::LoadShedLayer;
use tower::timeout::error::Elapsed;
use tower::timeout::TimeoutLayer;
use tower::ServiceBuilder;

use crate::error::{ApiError, BoxError};

/// Default longest time to answer one request. Above the exact solver's own
/// limit of 30 s (`routes::plan::MAX_TIME_LIMIT_S`), so a solve that stops on time
/// still answers.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Default number of planning requests that may run at once. Each analysis
/// already uses every core (rayon), so more at once only makes each slower.
pub const DEFAULT_MAX_PLANNING: usize = 4;

/// Seconds a client is asked to wait when the planning cap is reached.
pub const PLANNING_RETRY_AFTER_S: u64 = 5;

/// The limits of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest time to answer one request.
    pub request_timeout: Duration,
    /// Planning requests that may run at once (at least 1).
    pub max_planning: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_planning: DEFAULT_MAX_PLANNING,
        }
    }
}

/// What a route costs, which decides the limits it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cost {
    /// A lookup: the timeout only.
    #[default]
    Light,
    /// An analysis that may run for seconds: the timeout and the planning cap.
    Planning,
}

/// The limits of one router, applied route by route. The planning cap is one
/// semaphore shared by every planning route of the router.
#[derive(Debug, Clone)]
pub struct Limiter {
    limits: Limits,
    planning: Arc<Semaphore>,
}

impl Limiter {
    /// A limiter enforcing `limits` (a cap of 0 is taken as 1).
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            planning: Arc::new(Semaphore::new(limits.max_planning.max(1))),
        }
    }

    /// `route` with the limits its `cost` calls for.
    pub fn apply<S>(&self, cost: Cost, route: MethodRouter<S>) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let timeout = self.limits.request_timeout;
        let answer =
            HandleErrorLayer::<_, ()>::new(move |e: BoxError| async move { refusal(e, timeout) });
        let limited = ServiceBuilder::new()
            .layer(answer)
            .layer(TimeoutLayer::new(timeout));
        match cost {
            Cost::Light => route.layer(limited),
            Cost::Planning => route.layer(limited.layer(LoadShedLayer::new()).layer(
                GlobalConcurrencyLimitLayer::with_semaphore(Arc::clone(&self.planning)),
            )),
        }
    }
}

/// The answer to a request the limits stopped.
fn refusal(e: BoxError, limit: Duration) -> Response {
    if e.is::<Overloaded>() {
        ApiError::Busy {
            reason: "the server is running as many planning requests as it may",
            retry_after_s: PLANNING_RETRY_AFTER_S,
        }
    } else if e.is::<Elapsed>() {
        ApiError::Timeout { limit }
    } else {
        ApiError::internal("request limits", e)
    }
    .into_response()
}
