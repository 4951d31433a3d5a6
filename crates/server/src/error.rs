//! The one place where errors become HTTP answers: `application/problem+json`
//! (RFC 9457) with a title, a status and a detail that names what was wrong.
//!
//! Client errors (4xx) tell the client exactly what to fix. Server errors (5xx) log
//! the real error and tell the client only that something went wrong.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A query or path parameter is missing, malformed or out of range.
    #[error("parameter {param}: {reason}")]
    BadParam {
        /// The parameter's name (`lat`, `bbox`, `k`, …).
        param: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request body is not acceptable JSON for this route.
    #[error("request body: {reason}")]
    BadBody {
        /// Where in the body (`candidates[2].lon`), when known.
        path: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The request body is larger than the limit.
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not declared as JSON.
    #[error("request body must be application/json, found {found}")]
    UnsupportedMediaType {
        /// The content type sent.
        found: String,
    },
    /// No such thing (station, layer, collection, feature).
    #[error("{what} {id:?} not found")]
    NotFound {
        /// What was looked for (`station`, `collection`, …).
        what: &'static str,
        /// The id asked for.
        id: String,
        /// What exists instead, when short enough to list.
        expected: Option<String>,
    },
    /// No route at this path.
    #[error("no route {path}")]
    NoRoute {
        /// The path asked for.
        path: String,
    },
    /// The route exists but not with this method.
    #[error("method {method} not allowed on {path}")]
    MethodNotAllowed {
        /// Method used.
        method: String,
        /// The path.
        path: String,
    },
    /// The request is well-formed but cannot be answered with this dataset
    /// (e.g. a planning problem with no feasible answer, or a layer the dataset lacks).
    #[error("{reason}")]
    Unprocessable {
        /// What prevents an answer.
        reason: String,
    },
    /// A value the store refuses (the write changed nothing).
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// The write conflicts with what is stored (e.g. a duplicate id).
    #[error("{reason}")]
    Conflict {
        /// What conflicts.
        reason: String,
    },
    /// No token, or a token that is unknown or revoked.
    #[error("{reason}")]
    Unauthorized {
        /// What was wrong with the credentials.
        reason: String,
        /// Whether a token was sent (and refused) rather than missing.
        bad_token: bool,
    },
    /// A valid token whose role may not do this.
    #[error("role {role} may not {action}")]
    Forbidden {
        /// The caller's role.
        role: String,
        /// What was attempted, and who may do it.
        action: String,
    },
    /// The server cannot do this now (e.g. it runs without a store).
    #[error("{reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// The server is too busy for this request now; answered with `Retry-After`.
    #[error("{reason}; retry in {retry_after_s} s")]
    Busy {
        /// What is busy.
        reason: &'static str,
        /// Seconds after which a retry may succeed.
        retry_after_s: u64,
    },
    /// The request took longer than the server's request timeout.
    #[error("the request took longer than the server's limit of {} s", .limit.as_secs_f64())]
    Timeout {
        /// The timeout.
        limit: std::time::Duration,
    },
    /// A bug or an environment failure. Logged with its source; the client only
    /// hears that something went wrong.
    #[error("internal error: {context}")]
    Internal {
        /// What the server was doing (`token check`, `blocking task`).
        context: &'static str,
        /// The error, logged.
        #[source]
        source: BoxError,
    },
}

/// Any error, as the source of an [`ApiError::Internal`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl ApiError {
    /// A bad parameter.
    pub fn param(param: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        ApiError::BadParam {
            param: param.into(),
            reason: reason.to_string(),
        }
    }

    /// A bug or an environment failure while doing `context`.
    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        ApiError::Internal {
            context,
            source: source.into(),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParam { .. } | ApiError::BadBody { .. } => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound { .. } | ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unprocessable { .. } | ApiError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::Unavailable { .. } | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem's title: the status's reason phrase in sentence case
    /// (`Not found`), or a closer one where the status covers several errors.
    fn title(&self) -> std::borrow::Cow<'static, str> {
        let own = match self {
            ApiError::BadParam { .. } => "Invalid parameter",
            ApiError::BadBody { .. } => "Invalid request body",
            ApiError::BodyTooLarge { .. } => "Request body too large",
            ApiError::NoRoute { .. } => "No such route",
            ApiError::Unprocessable { .. } => "Cannot answer with this data",
            ApiError::Invalid { .. } => "Invalid value",
            ApiError::Timeout { .. } => "Request timed out",
            _ => "",
        };
        if !own.is_empty() {
            return own.into();
        }
        let reason = self.status().canonical_reason().unwrap_or("Error");
        let mut t = reason.to_ascii_lowercase();
        t[..1].make_ascii_uppercase();
        t.into()
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Internal { .. } => {
                "something went wrong on the server; the error was logged".to_string()
            }
            ApiError::NotFound {
                expected: Some(e), ..
            } => format!("{self} (expected one of: {e})"),
            ApiError::BadBody {
                path: Some(p),
                reason,
            } if !p.is_empty() && p != "." => format!("request body field {p}: {reason}"),
            other => other.to_string(),
        }
    }

    /// The problem document (without the HTTP wrapping).
    pub fn problem(&self) -> serde_json::Value {
        let status = self.status();
        let mut p = json!({
            "type": "about:blank",
            "title": self.title(),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        match self {
            ApiError::BadParam { param, reason } => {
                p["invalid-params"] = json!([{ "name": param, "reason": reason }]);
            }
            ApiError::BadBody {
                path: Some(path),
                reason,
            } => {
                p["invalid-params"] = json!([{ "name": path, "reason": reason }]);
            }
            ApiError::Invalid { field, reason } => {
                p["invalid-params"] = json!([{ "name": field, "reason": reason }]);
            }
            _ => {}
        }
        p
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal { context, source } = &self {
            tracing::error!(context, error = %Chain(source.as_ref()), "request failed");
        } else if status.is_server_error() {
            tracing::warn!(error = %self, "request refused");
        }
        let body = self.problem().to_string();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::Busy { retry_after_s, .. } = &self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
        }
        if let ApiError::Unauthorized { bad_token, .. } = &self {
            let challenge = if *bad_token {
                "Bearer realm=\"yizhan\", error=\"invalid_token\""
            } else {
                "Bearer realm=\"yizhan\""
            };
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        res
    }
}

/// An error and its sources, joined with `: ` (for the log).
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

/// The request field (as the API spells it) that carries a planning parameter;
/// `None` for parameters no request sets (the dataset is at fault).
fn plan_field(p: yizhan_plan::error::Param) -> Option<&'static str> {
    use yizhan_plan::error::Param as P;
    match p {
        P::Cutoff | P::Radius => Some("cutoff_m"),
        P::PeakShare => Some("peak_share"),
        P::TimeLimit => Some("time_limit_s"),
        _ => None,
    }
}

/// The request field (as the API spells it) a planning error is about; `None`
/// when no request sets what is wrong (the dataset is at fault). The one mapping
/// from `yizhan_plan` errors to API field names.
fn plan_error_field(e: &yizhan_plan::PlanError) -> Option<&'static str> {
    use yizhan_plan::PlanError as P;
    match e {
        P::TooManySites { .. } | P::MissingP { .. } => Some("p"),
        P::MissingRadius { .. } | P::TooManyPairs { .. } => Some("cutoff_m"),
        P::BadParameter { param, .. } => plan_field(*param),
        P::OutOfRange { what, .. } => Some(what),
        P::DuplicateId { .. } | P::FixedAndExcluded { .. } => Some("candidates"),
        P::UnknownId { .. } => Some("excluded"),
        _ => None,
    }
}

/// A planning error of a route that takes its parameters in a JSON body: 400
/// naming the body field at fault, else 422 (the data cannot answer).
impl From<yizhan_plan::PlanError> for ApiError {
    fn from(e: yizhan_plan::PlanError) -> Self {
        if let yizhan_plan::PlanError::Solver { .. } = e {
            return ApiError::internal("exact solver", e);
        }
        match plan_error_field(&e) {
            Some(path) => ApiError::BadBody {
                path: Some(path.to_string()),
                reason: e.to_string(),
            },
            None => ApiError::Unprocessable {
                reason: e.to_string(),
            },
        }
    }
}

impl ApiError {
    /// A planning error of a route that takes its parameters in the query string:
    /// as [`From`], with the field named as a query parameter.
    pub fn from_plan_query(e: yizhan_plan::PlanError) -> Self {
        match ApiError::from(e) {
            ApiError::BadBody {
                path: Some(param),
                reason,
            } => ApiError::BadParam { param, reason },
            other => other,
        }
    }
}

/// A tile address outside the grid: 400 naming `z`, `x` or `y`.
impl From<yizhan_core::tiles::TileError> for ApiError {
    fn from(e: yizhan_core::tiles::TileError) -> Self {
        use yizhan_core::tiles::TileError as T;
        match e {
            T::Zoom { .. } => ApiError::param("z", e),
            T::OutOfRange { axis, .. } => ApiError::param(axis, e),
            e => ApiError::internal("tile encoding", e),
        }
    }
}

/// How long a client should wait before retrying a write that found the store busy.
pub const STORE_RETRY_AFTER_S: u64 = 1;

impl From<yizhan_store::StoreError> for ApiError {
    fn from(e: yizhan_store::StoreError) -> Self {
        use yizhan_store::StoreError as S;
        match e {
            S::UnknownStation(id) => ApiError::NotFound {
                what: "station",
                id,
                expected: None,
            },
            S::UnknownScenario(id) => ApiError::NotFound {
                what: "scenario",
                id: id.to_string(),
                expected: None,
            },
            S::UnknownToken(id) => ApiError::NotFound {
                what: "token",
                id: id.to_string(),
                expected: None,
            },
            S::DuplicateStation(id) => ApiError::Conflict {
                reason: format!("a station with id {id:?} exists already"),
            },
            S::Invalid { field, reason } => ApiError::Invalid {
                field: field.to_string(),
                reason,
            },
            S::Busy => ApiError::Busy {
                reason: "the store is busy",
                retry_after_s: STORE_RETRY_AFTER_S,
            },
            S::Unavailable(source) => {
                tracing::warn!(error = %source, "the store's database cannot be reached");
                ApiError::Busy {
                    reason: "the store's database cannot be reached",
                    retry_after_s: STORE_RETRY_AFTER_S,
                }
            }
            other => ApiError::internal("store", other),
        }
    }
}

/// Answer for a handler that panicked (the panic itself is logged by the layer).
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::internal("handler", format!("handler panicked: {msg}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_details() {
        let e = ApiError::internal("store", "database password is hunter2");
        let p = e.problem();
        assert_eq!(p["status"], 500);
        assert!(!p["detail"].as_str().unwrap().contains("hunter2"));
        // The source is kept, for the log.
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("database password is hunter2"));
    }

    #[test]
    fn plan_errors_name_the_request_field() {
        use yizhan_plan::error::Param;
        for (param, field) in [
            (Param::Radius, "cutoff_m"),
            (Param::Cutoff, "cutoff_m"),
            (Param::PeakShare, "peak_share"),
            (Param::TimeLimit, "time_limit_s"),
        ] {
            let e = yizhan_plan::PlanError::BadParameter {
                param,
                unit: "metres",
                value: -1.0,
            };
            let p = ApiError::from(e).problem();
            assert_eq!(p["status"], 400);
            assert_eq!(p["invalid-params"][0]["name"], field, "{param:?}");
        }
        // Out of range and too many pairs name the field too, in a body or a query.
        let e = yizhan_plan::PlanError::OutOfRange {
            what: "peak_share",
            unit: "",
            value: 2.0,
            min: 0.0,
            max: 1.0,
        };
        let p = ApiError::from_plan_query(e).problem();
        assert_eq!(p["invalid-params"][0]["name"], "peak_share");
        assert_eq!(p["title"], "Invalid parameter");
        let e = yizhan_plan::PlanError::TooManyPairs { pairs: 9, max: 1 };
        let p = ApiError::from(e).problem();
        assert_eq!(p["invalid-params"][0]["name"], "cutoff_m");
        assert_eq!(p["title"], "Invalid request body");
        // A parameter no request sets: the data is at fault.
        let e = yizhan_plan::PlanError::BadParameter {
            param: Param::Capacity,
            unit: "seats",
            value: -1.0,
        };
        assert_eq!(ApiError::from(e).status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_busy_store_asks_to_retry() {
        let r = ApiError::from(yizhan_store::StoreError::Busy).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn titles() {
        let busy = ApiError::Busy {
            reason: "busy",
            retry_after_s: 1,
        };
        for (e, title) in [
            (ApiError::param("k", "bad"), "Invalid parameter"),
            (
                ApiError::BodyTooLarge { limit: 1 },
                "Request body too large",
            ),
            (
                ApiError::UnsupportedMediaType { found: "x".into() },
                "Unsupported media type",
            ),
            (
                ApiError::NotFound {
                    what: "station",
                    id: "S".into(),
                    expected: None,
                },
                "Not found",
            ),
            (ApiError::NoRoute { path: "/".into() }, "No such route"),
            (
                ApiError::MethodNotAllowed {
                    method: "GET".into(),
                    path: "/".into(),
                },
                "Method not allowed",
            ),
            (ApiError::Conflict { reason: "x".into() }, "Conflict"),
            (
                ApiError::Forbidden {
                    role: "r".into(),
                    action: "a".into(),
                },
                "Forbidden",
            ),
            (busy, "Service unavailable"),
            (ApiError::internal("x", "y"), "Internal server error"),
        ] {
            assert_eq!(e.problem()["title"], title, "{e:?}");
        }
    }

    #[test]
    fn bad_param_names_the_parameter() {
        let p = ApiError::param("lat", "must be between -90 and 90").problem();
        assert_eq!(p["status"], 400);
        assert!(p["detail"].as_str().unwrap().contains("lat"));
        assert_eq!(p["invalid-params"][0]["name"], "lat");
    }
}
