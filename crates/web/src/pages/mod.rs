//! One module per part of the portal the help page walks through.

/// A form of text fields, each read as empty when the browser left it out, so
/// that a missing field gets the same message beside it as an empty one, never
/// axum's bare 422.
macro_rules! text_form {
    ($(#[$meta:meta])* $name:ident { $($field:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        pub struct $name {
            $(pub $field: String,)+
        }
    };
}

pub mod account;
pub mod anti_theft;
pub mod authenticator;
pub mod authenticator_apps;
pub mod confirm_email;
pub mod downloads;
pub mod home;
pub mod notice;
pub mod outbox;
pub mod password;
pub mod password_reset;
pub mod phone;
pub mod recovery_codes;
pub mod remembered_device;
pub mod sessions;
pub mod sign_in;
pub mod sign_up;

use axum::extract::FromRequestParts;
use axum::extract::rejection::PathRejection;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::SecurityEvent;
use domain::digests::SessionDigest;
use serde::de::DeserializeOwned;

pub use notice::{Notice, NoticeQuery};

use crate::credentials::CredentialsError;
use crate::session::{Requester, SignedIn};
use crate::{AppState, cookies, security_events};

/// A page's path parameters, read by serde like axum's `Path`. A segment that
/// does not read (an unknown flow, a connection id that is no number) names a
/// page that doesn't exist: the portal's 404, not axum's plain-text 400.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = crate::WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, crate::WebError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(crate::WebError::NotFound),
            // A route without the parameter its handler reads: our mistake.
            Err(other) => Err(crate::WebError::internal(other)),
        }
    }
}

/// Starts a signed-in session with a brand-new id (never the one the browser
/// arrived with: no session fixation) and goes to the account page.
pub async fn start_session(
    state: &AppState,
    account_id: domain::AccountId,
    old_session: Option<String>,
    from: &Requester,
) -> Result<Response, crate::WebError> {
    if let Some(old) = old_session {
        state.store.delete_session(&SessionDigest::of(&old)).await?;
    }
    let session_id = domain::secrets::random_token();
    let ip = from.ip.map(|ip| ip.to_string());
    state
        .store
        .start_session(
            &SessionDigest::of(&session_id),
            account_id,
            state.now(),
            from.user_agent(),
            ip.as_deref(),
        )
        .await?;
    Ok(signed_in(state, &session_id))
}

/// The account's connected applications whose version cannot do two-step
/// verification (or that the catalogue no longer lists): their ids, and each
/// as "Photon Desktop 1.2.0 on Office PC" for the owner's e-mail.
pub async fn apps_without_two_step(
    state: &AppState,
    account_id: domain::AccountId,
) -> Result<Vec<(i64, String)>, crate::WebError> {
    let connections = state.store.connections_of_account(account_id).await?;
    Ok(connections
        .into_iter()
        .filter(|connection| {
            let app = state.settings.apps.find(&connection.app_id);
            let version = domain::apps::Version::parse(&connection.app_version);
            !matches!((app, version), (Some(app), Ok(version)) if app.supports_two_step(&version))
        })
        .map(|connection| {
            let name = crate::api::app_name(state, &connection.app_id);
            let text = format!(
                "{name} {} on {}",
                connection.app_version, connection.device_name
            );
            (connection.id, text)
        })
        .collect())
}

/// The answer once a session has started: its cookie, a new CSRF seed (no
/// token from before the sign-in works after it), the half-finished sign-in's
/// cleared, and on to the account page.
pub fn signed_in(state: &AppState, session_id: &str) -> Response {
    let mut response = Redirect::to("/account").into_response();
    set_session_cookies(state, &mut response, session_id);
    response
}

/// The new session's cookie, and the half-finished sign-in's cleared.
pub fn set_session_cookies(state: &AppState, response: &mut Response, session_id: &str) {
    let secure = state.settings.secure_cookies();
    cookies::set(response.headers_mut(), cookies::SESSION, session_id, secure);
    let seed = domain::secrets::random_token();
    cookies::set(response.headers_mut(), cookies::CSRF, &seed, secure);
    cookies::clear(response.headers_mut(), cookies::PENDING, secure);
}

pub fn to_security_tab(notice: Notice) -> Response {
    Redirect::to(&notice.on("/account/settings/security")).into_response()
}

/// A security setting has changed: the change goes into the account's security
/// events (and, where the owner should know, their mail), and the browser back
/// to the Security tab with the notice that says what changed.
pub async fn security_changed(
    state: &AppState,
    account: &storage::Account,
    event: SecurityEvent,
) -> Result<Response, crate::WebError> {
    let notice = Notice::after(&event);
    security_events::record(state, account, event).await?;
    Ok(match notice {
        Some(notice) => to_security_tab(notice),
        None => Redirect::to("/account/settings/security").into_response(),
    })
}

text_form! {
    /// Form fields that the CSRF layer already checked; handlers ignore them.
    PasswordForm { password }
}

text_form!(CodeForm { code });

/// The password entered again to confirm a security change was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum WrongPassword {
    #[error("That password isn't right.")]
    Wrong,
    /// Too many wrong passwords: the same counts as the sign-in's.
    #[error(transparent)]
    Refused(domain::throttle::PasswordRefused),
}

/// The inner result is the answer; the outer error means it could not be
/// checked now (the hashing queue is full, the database is away). The password
/// is counted as at sign-in, per address and client, so that a stolen session
/// cannot be used to guess the password without limit.
pub async fn check_password(
    state: &AppState,
    signed_in: &SignedIn,
    password: &str,
) -> Result<Result<(), WrongPassword>, crate::WebError> {
    let checked = crate::credentials::check_password(
        state,
        &signed_in.account.email,
        Some(signed_in.account.password_hash.clone()),
        password.to_owned(),
        &signed_in.requester,
    )
    .await;
    match checked {
        Ok(true) => Ok(Ok(())),
        // `Disabled` is `credentials::check`'s answer, never this one's.
        Ok(false) | Err(CredentialsError::Invalid | CredentialsError::Disabled) => {
            Ok(Err(WrongPassword::Wrong))
        }
        Err(CredentialsError::Refused(refused)) => Ok(Err(WrongPassword::Refused(refused))),
        Err(CredentialsError::Internal(error)) => Err(error),
    }
}
