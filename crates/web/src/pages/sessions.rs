//! The Security tab's "Where you're signed in": every session of the account
//! with where it was started, and signing out one of the others or all of them.
//! Ending sessions is protective, so it asks for no password (a borrowed
//! browser can only sign others out, never in); the CSRF layer still guards it.

use axum::response::Response;
use domain::account::SecurityEvent;
use domain::user_agent::UserAgent;
use storage::SessionListRow;

use super::{Notice, Path};
use crate::clock::format_time;
use crate::session::{Page, SignedIn};
use crate::{AppState, WebError};

/// One row of the list, as the template shows it.
pub struct SessionView {
    /// Names the session in its "Sign out" form (`SessionDigest::handle`).
    pub handle: String,
    pub browser: String,
    pub system: String,
    pub ip_address: String,
    pub signed_in_at: String,
    pub last_active_at: String,
    pub this_device: bool,
}

impl SessionView {
    fn of(row: &SessionListRow, current: &SignedIn) -> Self {
        let agent = UserAgent::parse(row.user_agent.as_deref().unwrap_or_default());
        Self {
            handle: row.id_digest.handle(),
            browser: agent.browser.to_string(),
            system: agent.system.to_string(),
            ip_address: row.ip_address.clone().unwrap_or_else(|| "Unknown".into()),
            signed_in_at: format_time(row.created_at),
            last_active_at: format_time(row.last_seen_at),
            this_device: row.id_digest == current.session_digest,
        }
    }
}

/// The account's sessions, this device first, then the most recently active.
pub async fn sessions_of(
    state: &AppState,
    signed_in: &SignedIn,
) -> Result<Vec<SessionView>, WebError> {
    let rows = state
        .store
        .sessions_of_account(signed_in.account.id)
        .await?;
    let mut views: Vec<SessionView> = rows
        .iter()
        .map(|row| SessionView::of(row, signed_in))
        .collect();
    // A stable sort keeps the store's order among the others.
    views.sort_by_key(|view| !view.this_device);
    Ok(views)
}

/// "Sign out" beside one of the other sessions.
pub async fn sign_out_session(
    Page(state, signed_in): Page<SignedIn>,
    Path(handle): Path<String>,
) -> Result<Response, WebError> {
    let rows = state
        .store
        .sessions_of_account(signed_in.account.id)
        .await?;
    // This browser signs out with the header's "Sign out"; a handle of
    // another account's session is not among these rows.
    let Some(row) = rows
        .iter()
        .find(|row| row.id_digest.handle() == handle && row.id_digest != signed_in.session_digest)
    else {
        return Err(WebError::NotFound);
    };
    if !state
        .store
        .end_session_of_account(signed_in.account.id, &row.id_digest)
        .await?
    {
        // It ended meanwhile (expired, or signed out from there): nothing to record.
        return Ok(super::to_security_tab(Notice::SessionSignedOut));
    }
    let view = SessionView::of(row, &signed_in);
    let event = SecurityEvent::SessionSignedOut {
        browser: view.browser,
        system: view.system,
    };
    super::security_changed(&state, &signed_in.account, event).await
}

/// "Sign out everywhere else": every session but this browser's. Connected
/// applications keep their access; they are ended one by one beside them.
pub async fn sign_out_everywhere_else(
    Page(state, signed_in): Page<SignedIn>,
) -> Result<Response, WebError> {
    let count = state
        .store
        .delete_sessions_of_account(signed_in.account.id, Some(&signed_in.session_digest))
        .await?;
    if count == 0 {
        return Ok(super::to_security_tab(Notice::SignedOutEverywhereElse));
    }
    super::security_changed(
        &state,
        &signed_in.account,
        SecurityEvent::OtherSessionsSignedOut { count },
    )
    .await
}
