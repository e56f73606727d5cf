//! `GET /api/v1/me`: who a token belongs to, for a connected application.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use domain::anti_theft::TokenUse;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, ApiErrorBody};
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
        (status = 401, body = ApiErrorBody, description = "`unauthorized`: no token, or a token whose connection was removed, whose account's password changed, or that was not used for 90 days (configurable)"),
        (status = 403, body = ApiErrorBody, description = "`account_disabled`: support has disabled the account"),
    ))]
pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<MeResponse>, ApiError> {
    let (connection, account) =
        super::bearer::connection_of(&state, &headers, TokenUse::Account).await?;
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
