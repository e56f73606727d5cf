//! Who is asking: the signed-in account behind the session cookie, checked against
//! the idle and absolute timeouts on every request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use domain::digests::SessionDigest;
use domain::session::{SessionState, password_confirmation_is_fresh};
use storage::{Account, SessionRow};

use crate::chrome::Chrome;
use crate::hygiene::CsrfToken;
use crate::{AppState, WebError, cookies};

/// A request from a signed-in account. Handlers that take it are unreachable
/// without a live session; the visitor is sent to the sign-in page instead.
pub struct SignedIn {
    pub account: Account,
    pub session_digest: SessionDigest,
    pub session: SessionRow,
    pub csrf_token: String,
    /// Who is asking: the password re-entry counts per client like the sign-in.
    pub requester: Requester,
    dev_outbox: bool,
}

impl SignedIn {
    pub fn chrome(&self) -> Chrome {
        Chrome {
            email: Some(self.account.email.clone()),
            csrf_token: self.csrf_token.clone(),
            dev_outbox: self.dev_outbox,
            email_unconfirmed: !self.account.address().is_confirmed(),
        }
    }

    /// Security changes need the password entered within the last ten minutes;
    /// otherwise the flow starts again at its password step.
    pub fn require_fresh_password(&self, now: i64, restart: &str) -> Result<(), WebError> {
        if password_confirmation_is_fresh(self.session.password_confirmed_at, now) {
            Ok(())
        } else {
            Err(WebError::PasswordConfirmationRequired {
                restart: restart.to_owned(),
            })
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let csrf_token = csrf_token(parts);
        let Some(session_id) = cookies::read(
            &parts.headers,
            cookies::SESSION,
            state.settings.secure_cookies(),
        ) else {
            return Err(WebError::SignInRequired);
        };
        let session_digest = SessionDigest::of(&session_id);
        let Some(session) = state.store.session(&session_digest).await? else {
            return Err(WebError::SignInRequired);
        };
        let now = state.now();
        match state
            .settings
            .session
            .state(session.created_at, session.last_seen_at, now)
        {
            SessionState::Active { touch } => {
                if touch {
                    state.store.touch_session(&session_digest, now).await?;
                }
            }
            SessionState::IdleExpired | SessionState::AbsoluteExpired => {
                state.store.delete_session(&session_digest).await?;
                return Err(WebError::SignInRequired);
            }
        }
        // Disabling an account ends its sessions in the same transaction; this
        // also turns away a session started by a sign-in that raced with it.
        let Some(account) = state
            .store
            .account_by_id(session.account_id)
            .await?
            .filter(|account| !account.is_disabled())
        else {
            state.store.delete_session(&session_digest).await?;
            return Err(WebError::SignInRequired);
        };
        let signed_in = Self {
            account,
            session_digest,
            session,
            csrf_token,
            requester: Requester::of(parts),
            dev_outbox: state.dev_outbox_served_to(peer(parts)),
        };
        if let Some(slot) = parts.extensions.get::<AskerChrome>() {
            slot.keep(signed_in.chrome());
        }
        Ok(signed_in)
    }
}

/// The frame of the signed-in person who asked, kept by the extractor that
/// found them: a refusal (`WebError`) becomes a page without knowing who
/// asked, and the hygiene layer draws it again in this frame, without
/// reading the session a second time.
#[derive(Clone, Default)]
pub struct AskerChrome(std::sync::Arc<std::sync::OnceLock<Chrome>>);

impl AskerChrome {
    fn keep(&self, chrome: Chrome) {
        let _first_wins = self.0.set(chrome);
    }

    pub fn kept(&self) -> Option<&Chrome> {
        self.0.get()
    }
}

/// Any visitor, signed in or not: for pages that everyone may see.
pub struct Visitor {
    pub signed_in: Option<SignedIn>,
    pub chrome: Chrome,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        match SignedIn::from_request_parts(parts, state).await {
            Ok(signed_in) => Ok(Self {
                chrome: signed_in.chrome(),
                signed_in: Some(signed_in),
            }),
            Err(WebError::SignInRequired) => Ok(Self {
                signed_in: None,
                chrome: Chrome {
                    email: None,
                    csrf_token: csrf_token(parts),
                    dev_outbox: state.dev_outbox_served_to(peer(parts)),
                    email_unconfirmed: false,
                },
            }),
            Err(other) => Err(other),
        }
    }
}

/// What a page's handler takes together: the portal's state and who is asking
/// (`Page<SignedIn>` or `Page<Visitor>`), in one extractor so that a handler's
/// signature names only what sets it apart (its path, query or form).
pub struct Page<Who>(pub AppState, pub Who);

impl<Who> FromRequestParts<AppState> for Page<Who>
where
    Who: FromRequestParts<AppState, Rejection = WebError> + Send,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let who = Who::from_request_parts(parts, state).await?;
        Ok(Self(state.clone(), who))
    }
}

/// A visitor who is not signed in, for the sign-in and sign-up forms: someone
/// signed in has nothing to do there and goes on to the account page.
pub struct SignedOut(pub Chrome);

impl FromRequestParts<AppState> for SignedOut {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let visitor = Visitor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match visitor.signed_in {
            Some(_) => Err(Redirect::to("/account").into_response()),
            None => Ok(Self(visitor.chrome)),
        }
    }
}

fn csrf_token(parts: &Parts) -> String {
    parts
        .extensions
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default()
}

/// The client's address, when the server was started with connect info: the
/// socket's, or behind a trusted proxy the one it forwarded (`crate::client_ip`).
pub fn peer(parts: &Parts) -> Option<std::net::IpAddr> {
    crate::client_ip::from_parts(parts)
}

/// Who sent a request: as the limits count them, as an alert to the owner
/// describes them, and as the list of where they are signed in shows them.
#[derive(Debug, Clone)]
pub struct Requester {
    pub ip: Option<std::net::IpAddr>,
    /// The User-Agent as sent, bounded and without control characters.
    user_agent: Option<String>,
}

impl Requester {
    fn of(parts: &Parts) -> Self {
        Self {
            ip: peer(parts),
            user_agent: parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .and_then(domain::user_agent::stored_user_agent),
        }
    }

    /// The address as the counts key it and the events show it.
    pub fn ip_text(&self) -> String {
        self.ip
            .map_or_else(|| crate::client_ip::UNKNOWN.to_owned(), |ip| ip.to_string())
    }

    /// What a per-IP budget counts: an IPv6 client is its /64, which one
    /// subscriber usually holds whole, so that walking through it gains
    /// nothing. Clients of unknown address share one budget.
    pub fn budget_subject(&self) -> String {
        match self.ip {
            Some(std::net::IpAddr::V6(ip)) => {
                let [a, b, c, d, ..] = ip.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
            Some(ip) => ip.to_string(),
            None => crate::client_ip::UNKNOWN.to_owned(),
        }
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    pub fn browser(&self) -> String {
        self.user_agent
            .clone()
            .unwrap_or_else(|| "an unknown browser".to_owned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Requester {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}
