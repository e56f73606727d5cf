//! Creating an account with e-mail and password. The answer is the same
//! "Check your e-mail" page whether or not the address already has an
//! account: a new account gets a confirmation link, an existing one's owner
//! an e-mail saying that someone tried. Nobody is signed in at once.

use askama::Template;
use axum::Form;
use axum::http::StatusCode;
use axum::response::Response;
use domain::account::SecurityEvent;
use domain::budgets::Rule;
use domain::digests::ConfirmationLinkDigest;
use domain::{Email, Password};

use super::confirm_email;
use crate::budgets;
use crate::chrome::{Chrome, render, render_with_status};
use crate::session::{Page, Requester, SignedOut, Visitor};
use crate::{WebError, security_events};

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage {
    chrome: Chrome,
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    /// A refusal that concerns no one field (too many sign-ups).
    error: Option<String>,
}

text_form!(SignUpForm { email, password });

pub async fn form(SignedOut(chrome): SignedOut) -> Result<Response, WebError> {
    render(&SignUpPage {
        chrome,
        email: String::new(),
        email_error: None,
        password_error: None,
        error: None,
    })
}

pub async fn submit(
    Page(state, visitor): Page<Visitor>,
    from: Requester,
    Form(form): Form<SignUpForm>,
) -> Result<Response, WebError> {
    // The form's own rules first: they cost nothing, so a person who mistypes
    // does not spend their network's budget.
    let email = Email::parse(&form.email);
    let password = Password::parse_new(&form.password);
    let (email, password) = match (email, password) {
        (Ok(email), Ok(password)) => (email, password),
        (email, password) => {
            let page = SignUpPage {
                chrome: visitor.chrome,
                email: form.email,
                email_error: email.err().map(|e| e.to_string()),
                password_error: password.err().map(|e| e.to_string()),
                error: None,
            };
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    // Reserve, then check: every sign-up that could create an account takes a
    // place in its network's hourly budget before anything is hashed or stored.
    if let Err(full) =
        budgets::reserve(&state, Rule::SignUpPerClientIp, &from.budget_subject()).await?
    {
        let page = SignUpPage {
            chrome: visitor.chrome,
            email: form.email,
            email_error: None,
            password_error: None,
            error: Some(full.to_string()),
        };
        return render_with_status(StatusCode::TOO_MANY_REQUESTS, &page);
    }
    // Hashed in both cases, so that the answer takes as long for an address
    // that has an account as for a new one.
    let hash = state.passwords.hash(password.as_str().to_owned()).await?;
    let policy = state.settings.confirmation;
    let now = state.now();
    // Accounts never confirmed within their time go first, which also frees
    // their addresses for this sign-up.
    state
        .store
        .delete_unconfirmed_accounts(policy.unconfirmed_deleted_since(now))
        .await?;
    let token = domain::secrets::random_token();
    let created = state
        .store
        .create_unconfirmed_account(
            email.as_str(),
            &hash,
            &ConfirmationLinkDigest::of(&token),
            now,
            policy.link_expires_at(now),
        )
        .await;
    match created {
        Ok(account_id) => {
            if let Some(account) = state.store.account_by_id(account_id).await? {
                security_events::record(&state, &account, SecurityEvent::AccountCreated).await?;
            }
            confirm_email::send_link(&state, email.as_str(), &token);
            tracing::info!(account_id = account_id.get(), "account created");
        }
        Err(storage::StoreError::EmailTaken) => {
            if let Some(account) = state.store.account_by_email(email.as_str()).await? {
                let event = SecurityEvent::SignUpWithExistingAddress;
                security_events::record(&state, &account, event).await?;
            }
        }
        Err(other) => return Err(other.into()),
    }
    confirm_email::check_your_email(visitor.chrome)
}
