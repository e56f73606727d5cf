//! The bearer token a connected application sends: which connection and
//! account it stands for. A disconnected application's token, or one of an
//! account that is gone or disabled, or one unused for too long, stands for
//! nothing. One signed out by a password change reaches only its own
//! Anti-Theft commands, and only if it is a device
//! (`domain::anti_theft::token_reaches`).

use axum::http::{HeaderMap, StatusCode, header};
use domain::anti_theft::{TokenUse, token_reaches};
use domain::digests::TokenDigest;
use domain::email_confirmation::token_unused_since;
use storage::{Account, ConnectionRow};

use super::{ApiError, ApiErrorCode};
use crate::AppState;

/// The connection and account behind `Authorization: Bearer`, if its token
/// reaches what is `wanted`, or `unauthorized`; the connection is marked as
/// seen now.
pub async fn connection_of(
    state: &AppState,
    headers: &HeaderMap,
    wanted: TokenUse,
) -> Result<(ConnectionRow, Account), ApiError> {
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
    let mut connection = state
        .store
        .connection_by_token(&TokenDigest::of(token))
        .await?
        .ok_or_else(unauthorized)?;
    let signed_out = connection.signed_out_at.is_some();
    let is_device = signed_out && super::devices::is_anti_theft_device(state, &connection);
    if !token_reaches(wanted, signed_out, is_device) {
        // Refused as a disconnected token is, and not marked as seen, so that
        // the thief's application calling on does not keep it alive. A
        // signed-out application that is no device will never reach anything
        // again: it goes now.
        if signed_out && !is_device {
            state
                .store
                .delete_connection(connection.account_id, connection.id)
                .await?;
        }
        return Err(unauthorized());
    }
    let account = state
        .store
        .account_by_id(connection.account_id)
        .await?
        .ok_or_else(unauthorized)?;
    // Disabling revokes every token; this holds against one issued meanwhile.
    if account.is_disabled() {
        return Err(super::connect::account_disabled());
    }
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
    connection.last_used_at = now;
    Ok((connection, account))
}
