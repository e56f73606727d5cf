//! Signing in: the password step, then, with two-step verification on, the code
//! step by SMS, authenticator app or recovery code. Only both together give a
//! session, or the password on a device remembered for the account.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::authenticator::AuthenticatorError;
use domain::digests::{PendingSignInDigest, SessionDigest};
use domain::one_time_code::CodePurpose;
use domain::session::pending_sign_in_is_live;
use domain::{Email, Method};
use storage::{Account, FinishSignIn, PendingSignInRow, SessionOrigin, SignInFinish};

use super::notice::{Notice, NoticeQuery, SendFailure};
use super::{Path, remembered_device};
use crate::chrome::{Chrome, render, render_form, render_with_status};
use crate::credentials::{self, CredentialsError};
use crate::session::{Page, Requester, SignedOut, Visitor};
use crate::verification::{self, Passed, SecondFactor, VerifyError, two_step_of};
use crate::{AppState, WebError, cookies, hygiene};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
    notice: Option<Notice>,
}

text_form!(SignInForm { email, password });

pub async fn form(
    SignedOut(chrome): SignedOut,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render(&SignInPage {
        chrome,
        email: String::new(),
        error: None,
        notice: query.notice,
    })
}

pub async fn submit(
    Page(state, visitor): Page<Visitor>,
    headers: HeaderMap,
    from: Requester,
    Form(form): Form<SignInForm>,
) -> Result<Response, WebError> {
    let refuse = |chrome: Chrome, email: String, error: String| {
        render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignInPage {
                chrome,
                email,
                error: Some(error),
                notice: None,
            },
        )
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => return refuse(visitor.chrome, form.email, error.to_string()),
    };
    let account = match credentials::check(&state, &email, form.password, &from).await {
        Ok(account) => account,
        Err(CredentialsError::Internal(error)) => return Err(error),
        // One message and one cost for a wrong e-mail and a wrong password.
        Err(error) => return refuse(visitor.chrome, form.email, error.to_string()),
    };
    let mut second_step = two_step_of(&account).default_method();
    // "Don't ask again on this device": this browser was remembered for this account.
    if second_step.is_some() && remembered_device::is_remembered(&state, &headers, &account).await?
    {
        second_step = None;
    }
    let Some(method) = second_step else {
        return super::start_session(
            &state,
            account.id,
            cookies::read(&headers, cookies::SESSION, state.settings.secure_cookies()),
            &from,
        )
        .await;
    };
    let pending_id = domain::secrets::random_token();
    let pending_digest = PendingSignInDigest::of(&pending_id);
    state
        .store
        .create_pending_sign_in(&pending_digest, account.id, method, state.now())
        .await?;
    let mut target = "/sign-in/verify".to_owned();
    if method == Method::Sms
        && let Err(error) = send_sign_in_sms(&state, &account, &pending_digest, &from).await
    {
        target = SendFailure::link(&error, &target, state.now());
    }
    let mut response = Redirect::to(&target).into_response();
    cookies::set(
        response.headers_mut(),
        cookies::PENDING,
        &pending_id,
        state.settings.secure_cookies(),
    );
    Ok(response)
}

async fn send_sign_in_sms(
    state: &AppState,
    account: &Account,
    pending_digest: &PendingSignInDigest,
    client: &Requester,
) -> Result<(), VerifyError> {
    let phone =
        verification::account_phone(state, account)?.ok_or(VerifyError::MethodNotAvailable)?;
    verification::send_sms_code(
        state,
        account.id,
        CodePurpose::SignIn,
        &pending_digest.binding(),
        &phone,
        client,
    )
    .await
}

#[derive(Template)]
#[template(path = "sign_in_code.html")]
struct SecondStepPage {
    chrome: Chrome,
    method: Method,
    masked_phone: String,
    offers_authenticator: bool,
    /// The method the person came from to use a recovery code, to go back to.
    back_to: Method,
    error: Option<String>,
    notice: Option<Notice>,
}

/// The half-finished sign-in behind the browser's pending cookie, if still live.
async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(PendingSignInDigest, PendingSignInRow, Account)>, WebError> {
    let Some(pending_id) =
        cookies::read(headers, cookies::PENDING, state.settings.secure_cookies())
    else {
        return Ok(None);
    };
    let digest = PendingSignInDigest::of(&pending_id);
    let Some((row, account)) = state.store.pending_sign_in_with_account(&digest).await? else {
        return Ok(None);
    };
    if !pending_sign_in_is_live(row.created_at, state.now()) {
        state.store.delete_pending_sign_in(&digest).await?;
        return Ok(None);
    }
    Ok(Some((digest, row, account)))
}

fn start_again() -> Response {
    Redirect::to(&Notice::Expired.on("/sign-in")).into_response()
}

async fn second_step_page(
    state: &AppState,
    chrome: Chrome,
    row: &PendingSignInRow,
    account: &Account,
    error: Option<String>,
    notice: Option<Notice>,
) -> Result<Response, WebError> {
    let masked_phone = verification::account_phone(state, account)?
        .map(|p| p.masked())
        .unwrap_or_default();
    let two_step = two_step_of(account);
    let page = SecondStepPage {
        chrome,
        method: row.method,
        masked_phone,
        offers_authenticator: two_step.offers(Method::Authenticator),
        back_to: two_step.default_method().unwrap_or(Method::Sms),
        notice,
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn second_step(
    Page(state, visitor): Page<Visitor>,
    headers: HeaderMap,
    Query(query): Query<super::notice::CodeStepQuery>,
) -> Result<Response, WebError> {
    let Some((_, row, account)) = pending(&state, &headers).await? else {
        return Ok(start_again());
    };
    // The page says how long to wait, counted from the code actually sent.
    let error = match query.error {
        Some(failure) => {
            failure
                .message(query.until, &state, account.id, CodePurpose::SignIn)
                .await?
        }
        None => None,
    };
    second_step_page(&state, visitor.chrome, &row, &account, error, query.notice).await
}

text_form! {
    /// The code, and `remember` = `yes` when "Don't ask again on this device"
    /// is ticked.
    SecondStepForm { code, remember }
}

pub async fn submit_code(
    Page(state, visitor): Page<Visitor>,
    headers: HeaderMap,
    from: Requester,
    Form(form): Form<SecondStepForm>,
) -> Result<Response, WebError> {
    let Some((digest, row, account)) = pending(&state, &headers).await? else {
        return Ok(start_again());
    };
    let method = row.method;
    let passed = verification::verify_second_factor(
        &state,
        &account,
        SecondFactor {
            method,
            purpose: CodePurpose::SignIn,
            binding: digest.binding(),
            input: &form.code,
            from: &from,
        },
    )
    .await;
    let remember = form.remember == "yes";
    let outcome = match passed {
        Ok(passed) => {
            let signing_in = SigningIn {
                pending_digest: &digest,
                account: &account,
                from: &from,
            };
            let finished = FinishedStep {
                method,
                passed,
                remember,
            };
            finish_sign_in(&state, &headers, signing_in, finished).await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(VerifyError::Internal(error)) => Err(error),
        Err(error) => {
            second_step_page(
                &state,
                visitor.chrome,
                &row,
                &account,
                Some(error.to_string()),
                None,
            )
            .await
        }
    }
}

/// A second step that passed, and whether to remember the device.
struct FinishedStep {
    method: Method,
    passed: Passed,
    remember: bool,
}

/// The half-finished sign-in whose code passed, and where it comes from.
struct SigningIn<'a> {
    pending_digest: &'a PendingSignInDigest,
    account: &'a Account,
    from: &'a Requester,
}

/// Ends a sign-in whose code passed. Consuming the half-finished sign-in (and
/// claiming the app's step) is the single point of success, written in one
/// transaction with the new session and the remembered device.
async fn finish_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    signing_in: SigningIn<'_>,
    step: FinishedStep,
) -> Result<Response, VerifyError> {
    let SigningIn {
        pending_digest,
        account,
        from,
    } = signing_in;
    let FinishedStep {
        method,
        passed,
        remember,
    } = step;
    let device = remember.then(|| remembered_device::NewDevice::at(state.now()));
    let session_id = domain::secrets::random_token();
    let ip_address = from.ip.map(|ip| ip.to_string());
    let replaced = cookies::read(headers, cookies::SESSION, state.settings.secure_cookies())
        .map(|old| SessionDigest::of(&old));
    let finish = FinishSignIn {
        pending_digest,
        account_id: account.id,
        authenticator_step: passed.authenticator_step(),
        session_digest: &SessionDigest::of(&session_id),
        replaced_session_digest: replaced.as_ref(),
        origin: SessionOrigin {
            user_agent: from.user_agent(),
            ip_address: ip_address.as_deref(),
        },
        remember_device: device.as_ref().map(remembered_device::NewDevice::to_store),
        now: state.now(),
    };
    match state
        .store
        .finish_sign_in(&finish)
        .await
        .map_err(WebError::from)?
    {
        SignInFinish::SignedIn => {
            tracing::info!(
                account_id = account.id.get(),
                method = method.as_str(),
                "signed in with two-step verification"
            );
            let mut response = super::signed_in(state, &session_id);
            if passed == Passed::RecoveryCode {
                // On to where the codes left are counted and new ones are got.
                response = super::to_security_tab(Notice::RecoveryCodeUsed);
                super::set_session_cookies(state, &mut response, &session_id);
            }
            if let Some(device) = device {
                device.set_cookie(state, &mut response);
            }
            Ok(response)
        }
        SignInFinish::SignInGone => Ok(start_again()),
        SignInFinish::CodeAlreadyUsed => Err(AuthenticatorError::AlreadyUsed.into()),
    }
}

text_form! {
    /// The links that send an SMS carry the CSRF token in their query: they stay
    /// links, as the help page names them, yet no other site can make a browser
    /// follow them.
    LinkToken { csrf_token }
}

pub async fn resend(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Requester,
    Query(link): Query<LinkToken>,
) -> Result<Response, WebError> {
    hygiene::check_link_token(&state, &headers, &link.csrf_token)?;
    let Some((digest, row, account)) = pending(&state, &headers).await? else {
        return Ok(start_again());
    };
    if row.method != Method::Sms {
        return Ok(Redirect::to("/sign-in/verify").into_response());
    }
    Ok(
        match send_sign_in_sms(&state, &account, &digest, &client).await {
            Ok(()) => Redirect::to(&Notice::CodeSent.on("/sign-in/verify")),
            Err(VerifyError::Internal(error)) => return Err(error),
            Err(error) => Redirect::to(&SendFailure::link(&error, "/sign-in/verify", state.now())),
        }
        .into_response(),
    )
}

/// "Use the code from SMS" / "Use the code from the authenticator app".
pub async fn switch_method(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Requester,
    Path(method): Path<String>,
    Query(link): Query<LinkToken>,
) -> Result<Response, WebError> {
    hygiene::check_link_token(&state, &headers, &link.csrf_token)?;
    let Some((digest, _, account)) = pending(&state, &headers).await? else {
        return Ok(start_again());
    };
    let Some(method) = Method::parse(&method).filter(|m| two_step_of(&account).offers(*m)) else {
        return Err(WebError::NotFound);
    };
    state.store.set_pending_method(&digest, method).await?;
    if method == Method::Sms {
        let already_sent = state
            .store
            .code(account.id, CodePurpose::SignIn)
            .await?
            .is_some_and(|stored| {
                stored.code.bound_to == digest.binding()
                    && stored.code.may_send_another(state.now()).is_err()
            });
        if !already_sent
            && let Err(error) = send_sign_in_sms(&state, &account, &digest, &client).await
        {
            let target = SendFailure::link(&error, "/sign-in/verify", state.now());
            return Ok(Redirect::to(&target).into_response());
        }
    }
    Ok(Redirect::to("/sign-in/verify").into_response())
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(session_id) =
        cookies::read(&headers, cookies::SESSION, state.settings.secure_cookies())
    {
        state
            .store
            .delete_session(&SessionDigest::of(&session_id))
            .await?;
    }
    let mut response = Redirect::to(&Notice::SignedOut.on("/sign-in")).into_response();
    cookies::clear(
        response.headers_mut(),
        cookies::SESSION,
        state.settings.secure_cookies(),
    );
    Ok(response)
}
