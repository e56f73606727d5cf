//! `GET /api/v1/me`: who a token belongs to, for a connected application.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use domain::digests::TokenDigest;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, ApiErrorBody, ApiErrorCode};
use crate::AppState;
use crate::verification::two_step_of;
use domain::email_confirmation::token_unused_since;

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub email: String,
    /// The verification methods that are on: `sms`, `authenticator`.
    pub methods: Vec<&'static str>,
    pub two_step_verification: bool,
    pub app_id: String,
    pub device_name: String,
}

/// The account behind the bearer token.
#[utoipa::path(get, path = "/api/v1/me", tag = "applications",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, body = ApiErrorBody, description = "`unauthorized`: no token, or a token whose connection was removed, whose account's password changed, or that was not used for 90 days (configurable)"),
    ))]
pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<MeResponse>, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::Unauthorized,
            "Send a valid token as `Authorization: Bearer <token>`.",
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    let connection = state
        .store
        .connection_by_token(&TokenDigest::of(token))
        .await?
        .ok_or_else(unauthorized)?;
    let account = state
        .store
        .account_by_id(connection.account_id)
        .await?
        .ok_or_else(unauthorized)?;
    // Using the token keeps it alive, unless it went unused too long: then it
    // is deleted. The condition is the statement's, so a use and the expiry
    // cannot both win.
    let now = state.now();
    let idle_since = token_unused_since(state.settings.app_token_idle_seconds, now);
    if !state
        .store
        .touch_connection(connection.id, now, idle_since)
        .await?
    {
        state
            .store
            .delete_connection(connection.account_id, connection.id)
            .await?;
        return Err(unauthorized());
    }
    let two_step = two_step_of(&account);
    Ok(Json(MeResponse {
        email: account.email,
        methods: two_step
            .methods()
            .into_iter()
            .map(domain::Method::as_str)
            .collect(),
        two_step_verification: two_step.is_on(),
        app_id: connection.app_id,
        device_name: connection.device_name,
    }))
}
