//! The front door, the health check and the stylesheet.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::session::Visitor;

pub async fn index(visitor: Visitor) -> Redirect {
    Redirect::to(if visitor.signed_in.is_some() {
        "/account"
    } else {
        "/sign-in"
    })
}

/// 200 once the database answers, for load balancers and orchestrators.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
        .into_response()
}

pub async fn not_found() -> crate::WebError {
    crate::WebError::NotFound
}
