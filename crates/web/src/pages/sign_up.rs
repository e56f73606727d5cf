//! Creating an account with e-mail and password.

use askama::Template;
use axum::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::account::SecurityEvent;
use domain::budgets::Rule;
use domain::{Email, Password};

use crate::budgets;
use crate::chrome::{Chrome, render, render_with_status};
use crate::session::{Page, Requester, SignedOut, Visitor};
use crate::{WebError, cookies, security_events};

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
    headers: HeaderMap,
    from: Requester,
    Form(form): Form<SignUpForm>,
) -> Result<Response, WebError> {
    // Reserve, then check: every attempt takes a place in its network's
    // hourly budget before anything else is done.
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
    let hash = state.passwords.hash(password.as_str().to_owned()).await?;
    let account_id = match state
        .store
        .create_account(email.as_str(), &hash, state.now())
        .await
    {
        Ok(id) => id,
        Err(storage::StoreError::EmailTaken) => {
            let page = SignUpPage {
                chrome: visitor.chrome,
                email: form.email,
                email_error: Some(
                    "An account with this e-mail already exists. Sign in instead.".into(),
                ),
                password_error: None,
                error: None,
            };
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(other) => return Err(other.into()),
    };
    if let Some(account) = state.store.account_by_id(account_id).await? {
        security_events::record(&state, &account, SecurityEvent::AccountCreated).await?;
    }
    tracing::info!(account_id = account_id.get(), "account created");
    super::start_session(
        &state,
        account_id,
        cookies::read(&headers, cookies::SESSION, state.settings.secure_cookies()),
        &from,
    )
    .await
}
