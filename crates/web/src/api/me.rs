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
        (status = 401, body = ApiErrorBody, description = "`unauthorized`: no token, or a token whose connection was removed or whose account's password changed"),
        (status = 403, body = ApiErrorBody, description = "`account_disabled`: support has disabled the account"),
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
    // Disabling revokes every token; this holds against one issued meanwhile.
    if account.disabled_at.is_some() {
        return Err(super::connect::account_disabled());
    }
    state
        .store
        .touch_connection(connection.id, state.now())
        .await?;
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
