//! Resetting a forgotten password through an e-mailed link, which also asks for
//! the security answer or, with two-step verification on, the second factor: a
//! reset never bypasses what signing in would ask. Each answer and code reserves
//! its place before it is checked, and the reset itself is one transaction.
//! Once verified (or at once, for an account with nothing to ask), the link
//! continues in a cookie of its own and leaves the URL: the new password is
//! set only with that cookie, so the link from a browser history or a proxy
//! log alone asks again for what it asked, and sets no password.

use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::{ResetChecks, SecurityEvent, password_reset_checks};
use domain::budgets::Rule;
use domain::digests::ResetLinkDigest;
use domain::one_time_code::CodePurpose;
use domain::security_question::{
    SecurityQuestionError, SecurityQuestionState, may_answer, normalise_answer, wrong_answer,
};
use domain::session::PASSWORD_RESET_LINK_LIFETIME_SECONDS;
use domain::{Email, Method, Password};
use storage::Account;

use crate::budgets;
use crate::chrome::{Chrome, render, render_with_status};
use crate::session::{Page, Requester, Visitor};
use crate::verification::{self, SecondFactor, VerifyError, two_step_of};
use crate::{AppState, WebError, cookies, security_events};

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
    sent: bool,
}

text_form!(ForgotForm { email });

pub async fn forgot_form(visitor: Visitor) -> Result<Response, WebError> {
    render(&ForgotPage {
        chrome: visitor.chrome,
        email: String::new(),
        error: None,
        sent: false,
    })
}

/// The answer is the same whether or not the address has an account.
pub async fn forgot_submit(
    Page(state, visitor): Page<Visitor>,
    Form(form): Form<ForgotForm>,
) -> Result<Response, WebError> {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            let page = ForgotPage {
                chrome: visitor.chrome,
                email: form.email,
                error: Some(error.to_string()),
                sent: false,
            };
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if let Some(account) = state.store.account_by_email(email.as_str()).await? {
        // The link is made in the background so that the answer takes as long
        // for an address with an account as for one without, and is the same
        // whether or not the address's budget of e-mails has room.
        let state = state.clone();
        tokio::spawn(async move {
            match budgets::reserve(&state, Rule::ResetEmailPerAddress, account.email.as_str()).await
            {
                Ok(Ok(())) => {
                    if let Err(error) = send_reset_link(&state, &account).await {
                        tracing::error!(%error, "password reset link could not be made");
                    }
                }
                Ok(Err(_)) => {}
                Err(error) => tracing::error!(%error, "password reset budget could not be read"),
            }
        });
    }
    render(&ForgotPage {
        chrome: visitor.chrome,
        email: String::new(),
        error: None,
        sent: true,
    })
}

async fn send_reset_link(state: &AppState, account: &Account) -> Result<(), WebError> {
    let token = domain::secrets::random_token();
    let now = state.now();
    let expires_at = now + PASSWORD_RESET_LINK_LIFETIME_SECONDS;
    state
        .store
        .create_password_reset(&ResetLinkDigest::of(&token), account.id, now, expires_at)
        .await?;
    let link = state
        .settings
        .url(&format!("/reset-password?token={token}"));
    let text = format!(
        "Someone asked to reset the password of your {service} account.\n\nTo choose a new password, open this link within 1 hour:\n{link}\n\nThe link works once. If you didn't ask for this, ignore this e-mail: your password stays as it is.",
        service = state.settings.service_name
    );
    security_events::send_email(state, &account.email, "Reset your password".into(), text);
    Ok(())
}

/// Where a reset link stands, from the route to the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResetStep {
    /// Unknown, used, expired or spent by wrong answers.
    Invalid,
    /// Asks for the security answer or the second factor.
    Verify,
    NewPassword,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    chrome: Chrome,
    token: String,
    step: ResetStep,
    question: Option<String>,
    second_factor: Option<Method>,
    masked_phone: String,
    offers_sms_instead: bool,
    answer_error: Option<String>,
    code_error: Option<String>,
    password_error: Option<String>,
    notice: Option<String>,
}

impl ResetPage {
    fn new(chrome: Chrome, token: String, step: ResetStep) -> Self {
        Self {
            chrome,
            token,
            step,
            question: None,
            second_factor: None,
            masked_phone: String::new(),
            offers_sms_instead: false,
            answer_error: None,
            code_error: None,
            password_error: None,
            notice: None,
        }
    }
}

// What the reset page reads, a step at a time.

/// The link, and the second factor asked for, as the page opens.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ResetQuery {
    token: String,
    method: Option<String>,
}

/// The verification step: the security answer and the second factor's code.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ResetVerifyForm {
    token: String,
    answer: String,
    code: String,
    method: Option<String>,
}

text_form! {
    /// The last step: the new password (the link is in the reset cookie).
    ResetForm { new_password }
}

struct LiveReset {
    digest: ResetLinkDigest,
    account: Account,
    checks: ResetChecks,
    /// Whether the account has a security answer or a second factor to ask for;
    /// without either, the link alone resets.
    asks_anything: bool,
    verified: bool,
}

impl LiveReset {
    /// The new password may be set: the link asks nothing, or it was verified
    /// and this browser holds it in its reset cookie.
    fn may_set_password(&self, in_cookie: bool) -> bool {
        !self.asks_anything || (self.verified && in_cookie)
    }
}

/// The link this browser continues with, if any.
fn reset_cookie(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookies::read(headers, cookies::RESET, state.settings.secure_cookies())
}

/// On to the new password, the link in its cookie and off the URL.
fn continue_in_cookie(state: &AppState, token: &str) -> Response {
    let mut response = Redirect::to("/reset-password").into_response();
    let secure = state.settings.secure_cookies();
    cookies::set(response.headers_mut(), cookies::RESET, token, secure);
    response
}

async fn live_reset(state: &AppState, token: &str) -> Result<Option<LiveReset>, WebError> {
    if token.is_empty() {
        return Ok(None);
    }
    let digest = ResetLinkDigest::of(token);
    let Some(row) = state.store.password_reset(&digest).await? else {
        return Ok(None);
    };
    if row.used || state.now() >= row.expires_at || may_answer(row.wrong_answers).is_err() {
        return Ok(None);
    }
    let Some(account) = state.store.account_by_id(row.account_id).await? else {
        return Ok(None);
    };
    let question = match (
        &account.security_question,
        account.security_question_disabled,
    ) {
        (_, true) => SecurityQuestionState::PermanentlyDisabled,
        (Some(question), false) => SecurityQuestionState::Set {
            question: question.clone(),
        },
        (None, false) => SecurityQuestionState::NotSet,
    };
    let checks = password_reset_checks(two_step_of(&account), &question);
    let asks_anything = checks.security_answer || checks.second_factor.is_some();
    let verified = row.verified_at.is_some() || !asks_anything;
    Ok(Some(LiveReset {
        digest,
        account,
        checks,
        asks_anything,
        verified,
    }))
}

pub async fn reset_form(
    Page(state, visitor): Page<Visitor>,
    client: Requester,
    headers: HeaderMap,
    Query(query): Query<ResetQuery>,
) -> Result<Response, WebError> {
    let cookie = reset_cookie(&state, &headers);
    let from_url = !query.token.is_empty();
    let token = if from_url {
        query.token
    } else {
        cookie.clone().unwrap_or_default()
    };
    let Some(reset) = live_reset(&state, &token).await? else {
        return invalid_link(visitor.chrome);
    };
    if reset.may_set_password(cookie.as_deref() == Some(token.as_str())) {
        if from_url {
            return Ok(continue_in_cookie(&state, &token));
        }
        return render(&ResetPage::new(
            visitor.chrome,
            String::new(),
            ResetStep::NewPassword,
        ));
    }
    let method = chosen_method(&reset, query.method.as_deref());
    let mut page = verify_page(&state, visitor.chrome, token, &reset, method)?;
    if method == Some(Method::Sms) {
        let pending = state
            .store
            .code(reset.account.id, CodePurpose::PasswordReset)
            .await?;
        // A code ended by wrong entries tells the person to request a new one:
        // reloading does. The domain's rule says whether the last one still serves.
        let already_sent = pending.is_some_and(|p| {
            p.code
                .may_take_entry(
                    CodePurpose::PasswordReset,
                    &reset.digest.binding(),
                    state.now(),
                )
                .is_ok()
        });
        if !already_sent {
            page.notice = match send_reset_sms(&state, &reset, &client).await {
                Ok(()) => None,
                Err(VerifyError::Internal(error)) => return Err(error),
                Err(error) => Some(error.to_string()),
            };
        }
    }
    render(&page)
}

fn chosen_method(reset: &LiveReset, requested: Option<&str>) -> Option<Method> {
    let two_step = two_step_of(&reset.account);
    requested
        .and_then(Method::parse)
        .filter(|m| two_step.offers(*m))
        .or(reset.checks.second_factor)
}

fn verify_page(
    state: &AppState,
    chrome: Chrome,
    token: String,
    reset: &LiveReset,
    method: Option<Method>,
) -> Result<ResetPage, WebError> {
    let mut page = ResetPage::new(chrome, token, ResetStep::Verify);
    if reset.checks.security_answer {
        page.question = reset.account.security_question.clone();
    }
    page.second_factor = method;
    page.offers_sms_instead = method == Some(Method::Authenticator);
    page.masked_phone = verification::account_phone(state, &reset.account)?
        .map(|p| p.masked())
        .unwrap_or_default();
    Ok(page)
}

async fn send_reset_sms(
    state: &AppState,
    reset: &LiveReset,
    client: &Requester,
) -> Result<(), VerifyError> {
    let phone = verification::account_phone(state, &reset.account)?
        .ok_or(VerifyError::MethodNotAvailable)?;
    verification::send_sms_code(
        state,
        reset.account.id,
        CodePurpose::PasswordReset,
        &reset.digest.binding(),
        &phone,
        client,
    )
    .await
}

pub async fn reset_verify(
    Page(state, visitor): Page<Visitor>,
    from: Requester,
    headers: HeaderMap,
    Form(form): Form<ResetVerifyForm>,
) -> Result<Response, WebError> {
    let Some(reset) = live_reset(&state, &form.token).await? else {
        return invalid_link(visitor.chrome);
    };
    let in_cookie = reset_cookie(&state, &headers).as_deref() == Some(form.token.as_str());
    if reset.may_set_password(in_cookie) {
        return Ok(continue_in_cookie(&state, &form.token));
    }
    let method = chosen_method(&reset, form.method.as_deref());
    let mut answer_error = None;
    if reset.checks.security_answer {
        let expected = reset
            .account
            .security_answer_hash
            .clone()
            .unwrap_or_default();
        match normalise_answer(&form.answer) {
            Err(error) => answer_error = Some(error.to_string()),
            Ok(answer) => {
                // Reserve, then check: the answer takes its place among the
                // link's five before it is hashed; with no place left the link
                // is spent and the answer is not checked. Then a place in the
                // hashing queue: refused for load, the answer gives its place
                // back (nothing was checked) and the page answers 503.
                let reserved = state
                    .store
                    .reserve_reset_answer(&reset.digest, state.now())
                    .await?;
                let Some(wrong_answers) = reserved else {
                    return spent_link(&state, visitor.chrome, &reset.digest).await;
                };
                let place = match state.passwords.reserve() {
                    Ok(place) => place,
                    Err(busy) => {
                        state.store.release_reset_answer(&reset.digest).await?;
                        return Err(busy.into());
                    }
                };
                if place.verify(answer, expected).await {
                    state.store.release_reset_answer(&reset.digest).await?;
                } else if wrong_answer(wrong_answers) == SecurityQuestionError::TooManyWrongAnswers
                {
                    return spent_link(&state, visitor.chrome, &reset.digest).await;
                } else {
                    answer_error = Some(wrong_answer(wrong_answers).to_string());
                }
            }
        }
    }
    let mut code_error = None;
    if let Some(method) = method {
        code_error = match verification::check_second_factor(
            &state,
            &reset.account,
            SecondFactor {
                method,
                purpose: CodePurpose::PasswordReset,
                binding: reset.digest.binding(),
                input: &form.code,
                from: &from,
            },
        )
        .await
        {
            Ok(()) => None,
            Err(VerifyError::Internal(error)) => return Err(error),
            Err(error) => Some(error.to_string()),
        };
    }
    if answer_error.is_none() && code_error.is_none() {
        state
            .store
            .mark_password_reset_verified(&reset.digest, state.now())
            .await?;
        return Ok(continue_in_cookie(&state, &form.token));
    }
    let mut page = verify_page(&state, visitor.chrome, form.token, &reset, method)?;
    page.answer_error = answer_error;
    page.code_error = code_error;
    render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// The page of a link that is unknown, expired or already used.
fn invalid_link(chrome: Chrome) -> Result<Response, WebError> {
    let page = ResetPage::new(chrome, String::new(), ResetStep::Invalid);
    render_with_status(StatusCode::GONE, &page)
}

/// Too many wrong answers: the link is spent, and a new one must come from the
/// mailbox again.
async fn spent_link(
    state: &AppState,
    chrome: Chrome,
    digest: &ResetLinkDigest,
) -> Result<Response, WebError> {
    state.store.consume_password_reset(digest).await?;
    let mut page = ResetPage::new(chrome, String::new(), ResetStep::Invalid);
    page.notice = Some(SecurityQuestionError::TooManyWrongAnswers.to_string());
    render_with_status(StatusCode::GONE, &page)
}

pub async fn reset_submit(
    Page(state, visitor): Page<Visitor>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Result<Response, WebError> {
    // Only from the cookie: a token in the form or the URL sets nothing.
    let token = reset_cookie(&state, &headers).unwrap_or_default();
    let Some(reset) = live_reset(&state, &token).await? else {
        return invalid_link(visitor.chrome);
    };
    if !reset.may_set_password(true) {
        return Ok(Redirect::to("/reset-password").into_response());
    }
    let password = match Password::parse_new(&form.new_password) {
        Ok(password) => password,
        Err(error) => {
            let mut page = ResetPage::new(visitor.chrome, String::new(), ResetStep::NewPassword);
            page.password_error = Some(error.to_string());
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let hash = state.passwords.hash(password.as_str().to_owned()).await?;
    // One transaction: the link used up, the password set, every session ended
    // and every application's token revoked; nothing of it if the link was used.
    let reset_done = state
        .store
        .complete_password_reset(&reset.digest, &hash, reset.asks_anything, state.now())
        .await?;
    if reset_done.is_none() {
        return invalid_link(visitor.chrome);
    }
    security_events::record(&state, &reset.account, SecurityEvent::PasswordReset).await?;
    let mut response = Redirect::to("/sign-in?notice=password_reset").into_response();
    let secure = state.settings.secure_cookies();
    cookies::clear(response.headers_mut(), cookies::RESET, secure);
    Ok(response)
}
