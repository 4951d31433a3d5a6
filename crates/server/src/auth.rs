//! Who may call a route: the one list of routes with their required access,
//! bearer-token checks, and the [`Caller`] extractor of write handlers.
//!
//! Read routes are public. Write routes need `Authorization: Bearer <token>` with a
//! token made by `yizhan token create`; a missing or unknown token answers 401
//! (with `WWW-Authenticate: Bearer`), a token whose role may not do this answers
//! 403, both as problem+json.

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::RequestPartsExt;
use yizhan_store::{Role, TokenInfo};

use crate::error::ApiError;
use crate::limits::Cost;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Roles `planner` and `admin`.
    Planner,
    /// The operator of the station named by the path's `{id}` (`operator:<id>`),
    /// and `planner` and `admin`.
    StationOperator,
    /// Role `admin` only.
    Admin,
}

impl Access {
    /// Whether `role` may call a route with this access; `station` is the path's
    /// station id, if any.
    pub fn allows(self, role: &Role, station: Option<&str>) -> bool {
        match self {
            Access::Public => true,
            Access::Planner => role.can_plan(),
            Access::StationOperator => station.is_some_and(|s| role.can_report(s)),
            Access::Admin => *role == Role::Admin,
        }
    }

    /// Who may, in words (for 403 answers and the API description).
    pub fn who(self) -> &'static str {
        match self {
            Access::Public => "anyone",
            Access::Planner => "planner or admin",
            Access::StationOperator => "the station's operator, planner or admin",
            Access::Admin => "admin",
        }
    }
}

/// One route: method, path template, required access, and its handler.
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path template (`/api/v1/stations/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it costs, which decides its limits.
    pub cost: Cost,
    /// Whether the OpenAPI document describes it (false for aliases, such as a
    /// trailing-slash form, of a documented route).
    pub documented: bool,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({:?}, {:?})",
            self.method, self.path, self.access, self.cost
        )
    }
}

impl Route {
    /// A GET route.
    pub fn get<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        Self::new(Method::GET, path, access, axum::routing::get(h))
    }
    /// A POST route.
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        Self::new(Method::POST, path, access, axum::routing::post(h))
    }
    /// A PUT route.
    pub fn put<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        Self::new(Method::PUT, path, access, axum::routing::put(h))
    }
    /// A DELETE route.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        Self::new(Method::DELETE, path, access, axum::routing::delete(h))
    }

    fn new(
        method: Method,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Self {
        Self {
            method,
            path,
            access,
            cost: Cost::Light,
            documented: true,
            handler,
        }
    }

    /// This route, as an alias of a documented one (left out of the OpenAPI
    /// document).
    pub fn alias(self) -> Self {
        Self {
            documented: false,
            ..self
        }
    }

    /// This route, marked as an analysis that may run for seconds (it gets the
    /// planning cap of [`crate::limits`]).
    pub fn planning(self) -> Self {
        Self {
            cost: Cost::Planning,
            ..self
        }
    }

    /// The handler, guarded by this route's access.
    pub fn guarded(self, state: &AppState) -> MethodRouter<AppState> {
        match self.access {
            Access::Public => self.handler,
            access => self
                .handler
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    move |st: State<AppState>, req: Request, next: Next| {
                        guard(st, access, req, next)
                    },
                )),
        }
    }
}

/// The authenticated caller of a write route.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

impl Caller {
    /// How the caller is named in the history (`token 3 (planner, alice)`).
    pub fn actor(&self) -> String {
        let t = &self.0;
        match &t.label {
            Some(l) => format!("token {} ({}, {l})", t.id, t.role),
            None => format!("token {} ({})", t.id, t.role),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized {
                reason: "this route needs a bearer token".into(),
                bad_token: false,
            })
    }
}

/// The bearer token of a request, if it has one.
fn bearer(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(v) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = |reason: &str| ApiError::Unauthorized {
        reason: reason.into(),
        bad_token: true,
    };
    let v = v
        .to_str()
        .map_err(|_| bad("the Authorization header is not text"))?;
    let (scheme, token) = v
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad("expected Authorization: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(bad("expected Authorization: Bearer <token>"));
    }
    Ok(Some(token.trim().to_string()))
}

/// Check the token and role, then pass the request on with its [`Caller`].
async fn guard(State(st): State<AppState>, access: Access, req: Request, next: Next) -> Response {
    match authorize(&st, access, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn authorize(st: &AppState, access: Access, req: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = req.into_parts();
    let station = parts.extract::<RawPathParams>().await.ok().and_then(|p| {
        p.iter()
            .find(|(k, _)| *k == "id")
            .map(|(_, v)| v.to_string())
    });
    let token = bearer(&parts)?.ok_or_else(|| ApiError::Unauthorized {
        reason: format!("this route needs a bearer token ({})", access.who()),
        bad_token: false,
    })?;
    let st2 = st.clone();
    let info = tokio::task::spawn_blocking(move || {
        st2.with_store_blocking(|s| Ok(s.verify_token(&token)?))
    })
    .await
    .map_err(|e| ApiError::internal("token check", e))?;
    let info = match info {
        Ok(Some(i)) => i,
        Ok(None) | Err(ApiError::Unavailable { .. }) => {
            return Err(ApiError::Unauthorized {
                reason: "unknown or revoked token".into(),
                bad_token: true,
            })
        }
        Err(e) => return Err(e),
    };
    if !access.allows(&info.role, station.as_deref()) {
        return Err(ApiError::Forbidden {
            role: info.role.to_string(),
            action: format!("call this route (needs {})", access.who()),
        });
    }
    parts.extensions.insert(Caller(info));
    Ok(Request::from_parts(parts, body))
}
