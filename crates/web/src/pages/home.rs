//! The front door, the health check, the metrics and the stylesheet.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::Extensions;
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
            tracing::error!(error = %crate::ErrorChain(&error), "health check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `/metrics` on the main listener: only for loopback clients and the networks
/// of `metrics_allow`; a 404 for everyone else, as for a page that does not
/// exist. Without the peer's address (a server started without connect info)
/// nobody is let in.
pub async fn metrics(State(state): State<AppState>, extensions: Extensions) -> Response {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    match peer {
        Some(ip) if state.settings.metrics_access.allows(ip) => metrics_text(&state),
        _ => crate::WebError::NotFound.into_response(),
    }
}

/// `/metrics` on its own listener (`metrics_listen`), which the operator keeps
/// on a private address: no check of who asks.
pub async fn metrics_on_own_listener(State(state): State<AppState>) -> Response {
    metrics_text(&state)
}

fn metrics_text(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
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

/// Takes the visitor so that a signed-in person's 404 keeps their frame.
pub async fn not_found(_visitor: crate::session::Visitor) -> crate::WebError {
    crate::WebError::NotFound
}
