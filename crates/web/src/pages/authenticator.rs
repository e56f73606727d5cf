//! The authenticator app on the Security tab: set up (password, QR code and secret
//! key, first code) and turn off. Nothing is active until a valid code is entered.

use askama::Template;
use axum::Form;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::OtpCode;
use domain::account::SecurityEvent;
use domain::authenticator::{self, AuthenticatorSecret, AuthenticatorState};
use domain::session::AUTHENTICATOR_ENROLMENT_LIFETIME_SECONDS;

use crate::chrome::{Chrome, render, render_with_status};
use crate::pages::phone::PasswordStep;
use crate::session::{Page, SignedIn};
use crate::verification::{authenticator_context, two_step_of};
use crate::{AppState, WebError};

const START: &str = "/account/security/authenticator/set-up";

fn password_page(signed_in: &SignedIn, error: Option<String>) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: "Set up the authenticator app",
        explanation: "To keep your account safe, enter your password first.",
        action: START.into(),
        button: "Continue",
        error,
    }
}

/// Each step of the set-up asks the core whether the authenticator may be added
/// to this account's methods: only on top of SMS, and only once.
fn allowed(signed_in: &SignedIn) -> Result<(), WebError> {
    signed_in
        .account
        .address()
        .may_set_up_two_step_or_connect_apps()?;
    two_step_of(&signed_in.account)
        .with_authenticator_set_up()
        .map(|_| ())
        .map_err(|e| WebError::BadRequest(e.to_string()))
}

/// Whether the core lets this account turn its authenticator off (only one that is on).
fn may_turn_off(signed_in: &SignedIn) -> bool {
    two_step_of(&signed_in.account)
        .without_authenticator()
        .is_ok()
}

pub async fn password_step(signed_in: SignedIn) -> Result<Response, WebError> {
    allowed(&signed_in)?;
    password_page(&signed_in, None).render()
}

pub async fn confirm_password(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    allowed(&signed_in)?;
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        return password_page(&signed_in, Some(wrong.to_string())).render();
    }
    let now = state.now();
    state
        .store
        .confirm_password_in_session(&signed_in.session_digest, now)
        .await?;
    let secret = AuthenticatorSecret::generate();
    let sealed = state.key.seal(
        secret.as_bytes(),
        &authenticator_context(signed_in.account.id),
    );
    state
        .store
        .save_authenticator_enrolment(signed_in.account.id, &signed_in.session_digest, sealed, now)
        .await?;
    Ok(Redirect::to("/account/security/authenticator/scan").into_response())
}

/// The secret being set up in this session; shown only during set-up.
async fn enrolment_secret(
    state: &AppState,
    signed_in: &SignedIn,
) -> Result<AuthenticatorSecret, WebError> {
    signed_in.require_fresh_password(state.now(), START)?;
    let restart = || WebError::PasswordConfirmationRequired {
        restart: START.into(),
    };
    let (sealed, created_at) = state
        .store
        .authenticator_enrolment(signed_in.account.id, &signed_in.session_digest)
        .await?
        .ok_or_else(restart)?;
    if state.now() - created_at >= AUTHENTICATOR_ENROLMENT_LIFETIME_SECONDS {
        return Err(restart());
    }
    let bytes = state
        .key
        .open(&sealed, &authenticator_context(signed_in.account.id))
        .map_err(WebError::internal)?;
    Ok(AuthenticatorSecret::from_bytes(bytes))
}

#[derive(Template)]
#[template(path = "authenticator_scan.html")]
struct ScanPage {
    chrome: Chrome,
    secret_key: String,
    error: Option<String>,
}

pub async fn scan_step(Page(state, signed_in): Page<SignedIn>) -> Result<Response, WebError> {
    allowed(&signed_in)?;
    let secret = enrolment_secret(&state, &signed_in).await?;
    render(&ScanPage {
        chrome: signed_in.chrome(),
        secret_key: secret.to_base32_grouped(),
        error: None,
    })
}

pub async fn qr_code(Page(state, signed_in): Page<SignedIn>) -> Result<Response, WebError> {
    allowed(&signed_in)?;
    let secret = enrolment_secret(&state, &signed_in).await?;
    let url = authenticator::otpauth_url(
        &state.settings.authenticator_issuer,
        &signed_in.account.email,
        &secret,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        authenticator::qr_svg(&url),
    )
        .into_response())
}

pub async fn confirm_code(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<super::CodeForm>,
) -> Result<Response, WebError> {
    allowed(&signed_in)?;
    let secret = enrolment_secret(&state, &signed_in).await?;
    let refuse = |message: String| {
        render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ScanPage {
                chrome: signed_in.chrome(),
                secret_key: secret.to_base32_grouped(),
                error: Some(message),
            },
        )
    };
    let code = match OtpCode::parse(&form.code) {
        Ok(code) => code,
        Err(error) => return refuse(error.to_string()),
    };
    let step = match authenticator::verify(
        &secret,
        &mut AuthenticatorState::default(),
        &code,
        state.now(),
    ) {
        Ok(step) => step,
        Err(error) => return refuse(error.to_string()),
    };
    let account_id = signed_in.account.id;
    let sealed = state
        .key
        .seal(secret.as_bytes(), &authenticator_context(account_id));
    // One transaction: the enrolment used up, the secret stored and the step of
    // the code that proved the set-up claimed, so that code cannot sign in.
    if !state
        .store
        .enable_authenticator(
            account_id,
            &signed_in.session_digest,
            sealed,
            step,
            state.now(),
        )
        .await?
    {
        // A parallel confirmation of the same enrolment got there first.
        return Ok(super::to_security_tab(super::Notice::AuthenticatorOn));
    }
    super::security_changed(
        &state,
        &signed_in.account,
        SecurityEvent::AuthenticatorAdded,
    )
    .await
}

fn turn_off_page(signed_in: &SignedIn, error: Option<String>) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: "Turn off the authenticator app",
        explanation: "Sign-in will ask for the code from SMS instead. Enter your password to continue.",
        action: "/account/security/authenticator/turn-off".into(),
        button: "Turn off",
        error,
    }
}

pub async fn turn_off_form(signed_in: SignedIn) -> Result<Response, WebError> {
    if !may_turn_off(&signed_in) {
        return Ok(Redirect::to("/account/settings/security").into_response());
    }
    turn_off_page(&signed_in, None).render()
}

pub async fn turn_off(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    if !may_turn_off(&signed_in) {
        return Ok(Redirect::to("/account/settings/security").into_response());
    }
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        return turn_off_page(&signed_in, Some(wrong.to_string())).render();
    }
    state
        .store
        .remove_authenticator(signed_in.account.id)
        .await?;
    super::security_changed(
        &state,
        &signed_in.account,
        SecurityEvent::AuthenticatorRemoved,
    )
    .await
}
