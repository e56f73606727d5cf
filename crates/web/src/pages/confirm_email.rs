//! Confirming the e-mail address of a new account with the link e-mailed at
//! sign-up. Opening the link only shows a Confirm button, so that a mail
//! scanner that follows links confirms nothing; the button confirms whether or
//! not this browser is signed in. "Send the link again", on every page of an
//! unconfirmed account, replaces the link at most once a minute.

use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use domain::account::SecurityEvent;
use domain::digests::ConfirmationLinkDigest;

use super::{Notice, to_security_tab};
use crate::chrome::{Chrome, render, render_with_status};
use crate::session::{Page, SignedIn, Visitor};
use crate::{AppState, WebError, security_events};

#[derive(Template)]
#[template(path = "check_email.html")]
struct CheckEmailPage {
    chrome: Chrome,
    message: &'static str,
}

/// What a sign-up answers, whether the address was new or already had an
/// account: nothing on it tells the two apart.
pub fn check_your_email(chrome: Chrome) -> Result<Response, WebError> {
    render(&CheckEmailPage {
        chrome,
        message: "We sent you an e-mail. Open the link in it within 24 hours to confirm your address, then sign in.",
    })
}

/// Makes a new link for `email` and e-mails it; the link's token exists only in
/// the e-mail, the store keeps its digest.
pub fn send_link(state: &AppState, email: &str, token: &str) {
    let link = state.settings.url(&format!("/confirm-email?token={token}"));
    let text = format!(
        "Welcome to {service}. To confirm that this e-mail address is yours, open this link within 24 hours and click Confirm:\n{link}\n\nThe link works once. If you didn't create an account, ignore this e-mail: the account is deleted after 7 days.",
        service = state.settings.service_name
    );
    security_events::send_email(state, email, "Confirm your e-mail address".into(), text);
}

/// Where a link stands, from the route to the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConfirmStep {
    Ask,
    Confirmed,
    Invalid,
}

#[derive(Template)]
#[template(path = "confirm_email.html")]
struct ConfirmPage {
    chrome: Chrome,
    token: String,
    step: ConfirmStep,
}

text_form! {
    /// The link's token, in the query when opened and in the form when confirmed.
    LinkForm { token }
}

pub async fn form(
    Page(state, visitor): Page<Visitor>,
    Query(link): Query<LinkForm>,
) -> Result<Response, WebError> {
    let live = state
        .store
        .confirmation_link_is_live(&ConfirmationLinkDigest::of(&link.token), state.now())
        .await?;
    let step = if live {
        ConfirmStep::Ask
    } else {
        ConfirmStep::Invalid
    };
    page(visitor.chrome, link.token, step)
}

pub async fn confirm(
    Page(state, visitor): Page<Visitor>,
    Form(link): Form<LinkForm>,
) -> Result<Response, WebError> {
    let digest = ConfirmationLinkDigest::of(&link.token);
    let Some(account_id) = state.store.confirm_email(&digest, state.now()).await? else {
        return page(visitor.chrome, String::new(), ConfirmStep::Invalid);
    };
    if let Some(account) = state.store.account_by_id(account_id).await? {
        security_events::record(&state, &account, SecurityEvent::EmailConfirmed).await?;
    }
    tracing::info!(account_id = account_id.get(), "e-mail address confirmed");
    match visitor.signed_in {
        // Straight on to what the address unlocks.
        Some(signed_in) if signed_in.account.id == account_id => {
            Ok(to_security_tab(Notice::EmailConfirmed))
        }
        _ => page(visitor.chrome, String::new(), ConfirmStep::Confirmed),
    }
}

fn page(chrome: Chrome, token: String, step: ConfirmStep) -> Result<Response, WebError> {
    let page = ConfirmPage {
        chrome,
        token,
        step,
    };
    match step {
        ConfirmStep::Invalid => render_with_status(StatusCode::GONE, &page),
        ConfirmStep::Ask | ConfirmStep::Confirmed => render(&page),
    }
}

/// "Send the link again": a new link replaces the last one, unless that one is
/// less than a minute old (the store decides, so clicks at once send one e-mail).
pub async fn resend(Page(state, signed_in): Page<SignedIn>) -> Result<Response, WebError> {
    let account = &signed_in.account;
    if account.address().is_confirmed() {
        return Ok(to_security_tab(Notice::EmailConfirmed));
    }
    let policy = state.settings.confirmation;
    let now = state.now();
    let token = domain::secrets::random_token();
    let replaced = state
        .store
        .replace_confirmation_link(
            account.id,
            &ConfirmationLinkDigest::of(&token),
            now,
            policy.link_expires_at(now),
            policy.resend_allowed_before(now),
        )
        .await?;
    let message = if replaced {
        send_link(&state, &account.email, &token);
        "We sent you a new link. Open it within 24 hours to confirm your address; earlier links no longer work."
    } else {
        "We sent you a link less than a minute ago. Check your e-mail, or try again in a minute."
    };
    let page = CheckEmailPage {
        chrome: signed_in.chrome(),
        message,
    };
    if replaced {
        render(&page)
    } else {
        render_with_status(StatusCode::TOO_MANY_REQUESTS, &page)
    }
}
