//! Two-step verification by SMS on the Security tab: set up, change the phone
//! number, turn off. Each flow starts by asking for the password.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::SecurityEvent;
use domain::one_time_code::CodePurpose;
use domain::{PhoneNumber, TwoStepError};

use crate::chrome::{Chrome, render, render_form, render_with_status};
use crate::session::SignedIn;
use crate::verification::{self, VerifyError, two_step_of};
use crate::{AppState, WebError, security_events};

/// The two SMS flows share their steps: password, number, code.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    SetUp,
    Change,
}

impl Flow {
    fn parse(segment: &str) -> Result<Self, WebError> {
        match segment {
            "set-up" => Ok(Self::SetUp),
            "change" => Ok(Self::Change),
            _ => Err(WebError::NotFound),
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Self::SetUp => "set-up",
            Self::Change => "change",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::SetUp => "Set up two-step verification",
            Self::Change => "Change phone number",
        }
    }

    fn purpose(self) -> CodePurpose {
        match self {
            Self::SetUp => CodePurpose::SetUp,
            Self::Change => CodePurpose::ChangeNumber,
        }
    }

    fn path(self, step: &str) -> String {
        format!("/account/security/phone/{}{step}", self.slug())
    }

    /// The flow in the URL, once its password step was passed in the last minutes.
    fn unlocked(segment: &str, signed_in: &SignedIn, now: i64) -> Result<Self, WebError> {
        let flow = Self::parse(segment)?;
        flow.allowed_for(signed_in)?;
        signed_in.require_fresh_password(now, &flow.path(""))?;
        Ok(flow)
    }

    /// Setting up needs two-step off; changing the number needs it on.
    fn allowed_for(self, signed_in: &SignedIn) -> Result<(), WebError> {
        let on = two_step_of(&signed_in.account).is_on();
        match (self, on) {
            (Self::SetUp, true) => Err(WebError::BadRequest(
                TwoStepError::SmsAlreadySetUp.to_string(),
            )),
            (Self::Change, false) => {
                Err(WebError::BadRequest(TwoStepError::SmsNotSetUp.to_string()))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Template)]
#[template(path = "password_step.html")]
pub struct PasswordStep {
    pub chrome: Chrome,
    pub title: &'static str,
    pub explanation: &'static str,
    pub action: String,
    pub button: &'static str,
    pub error: Option<String>,
}

impl PasswordStep {
    pub fn render(self) -> Result<Response, WebError> {
        render_form(&self, self.error.is_some())
    }
}

fn password_step_page(signed_in: &SignedIn, flow: Flow, error: Option<String>) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: flow.title(),
        explanation: "To keep your account safe, enter your password first.",
        action: flow.path(""),
        button: "Continue",
        error,
    }
}

pub async fn password_step(
    signed_in: SignedIn,
    Path(flow): Path<String>,
) -> Result<Response, WebError> {
    let flow = Flow::parse(&flow)?;
    flow.allowed_for(&signed_in)?;
    password_step_page(&signed_in, flow, None).render()
}

pub async fn confirm_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(flow): Path<String>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    let flow = Flow::parse(&flow)?;
    flow.allowed_for(&signed_in)?;
    if !super::password_is_right(&state, &signed_in, &form.password).await {
        return password_step_page(&signed_in, flow, Some("That password isn't right.".into()))
            .render();
    }
    state
        .store
        .confirm_password_in_session(&signed_in.session_digest, state.now())
        .await?;
    Ok(Redirect::to(&flow.path("/number")).into_response())
}

#[derive(Template)]
#[template(path = "phone_number_step.html")]
struct NumberStep {
    chrome: Chrome,
    title: &'static str,
    action: String,
    phone: String,
    error: Option<String>,
}

pub async fn number_step(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(flow): Path<String>,
) -> Result<Response, WebError> {
    let flow = Flow::unlocked(&flow, &signed_in, state.now())?;
    render(&NumberStep {
        chrome: signed_in.chrome(),
        title: flow.title(),
        action: flow.path("/number"),
        phone: String::new(),
        error: None,
    })
}

#[derive(serde::Deserialize)]
pub struct NumberForm {
    #[serde(default)]
    phone: String,
}

pub async fn send_code(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(flow): Path<String>,
    Form(form): Form<NumberForm>,
) -> Result<Response, WebError> {
    let flow = Flow::unlocked(&flow, &signed_in, state.now())?;
    let refuse = |message: String| {
        let page = NumberStep {
            chrome: signed_in.chrome(),
            title: flow.title(),
            action: flow.path("/number"),
            phone: form.phone.clone(),
            error: Some(message),
        };
        render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let phone = match PhoneNumber::parse(&form.phone, state.settings.default_region) {
        Ok(phone) => phone,
        Err(error) => return refuse(error.to_string()),
    };
    if flow == Flow::Change
        && verification::account_phone(&state, &signed_in.account)?.as_ref() == Some(&phone)
    {
        return refuse("This is already your phone number. Enter a new one.".into());
    }
    match verification::send_sms_code(
        &state,
        signed_in.account.id,
        flow.purpose(),
        &signed_in.session_digest,
        &phone,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&flow.path("/code")).into_response()),
        Err(VerifyError::Internal(error)) => Err(error),
        Err(error) => refuse(error.to_string()),
    }
}

#[derive(Template)]
#[template(path = "phone_code_step.html")]
struct CodeStep {
    chrome: Chrome,
    title: &'static str,
    action: String,
    resend_action: String,
    change_number: String,
    masked_phone: String,
    /// Minutes until the code expires, rounded up; 0 once it has.
    expires_in_minutes: i64,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn code_step_page(
    state: &AppState,
    signed_in: &SignedIn,
    flow: Flow,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let Some(stored) = state
        .store
        .code(signed_in.account.id, flow.purpose())
        .await?
    else {
        return Ok(Redirect::to(&flow.path("/number")).into_response());
    };
    let masked_phone = match stored.destination_enc {
        Some(sealed) => verification::open_phone(state, signed_in.account.id, &sealed)?.masked(),
        None => String::new(),
    };
    let page = CodeStep {
        chrome: signed_in.chrome(),
        title: flow.title(),
        action: flow.path("/code"),
        resend_action: flow.path("/resend"),
        change_number: flow.path("/number"),
        masked_phone,
        expires_in_minutes: ((stored.code.expires_at - state.now()).max(0) + 59) / 60,
        notice,
        error,
    };
    render_form(&page, page.error.is_some())
}

#[derive(serde::Deserialize, Default)]
pub struct CodeQuery {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn code_step(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(flow): Path<String>,
    Query(query): Query<CodeQuery>,
) -> Result<Response, WebError> {
    let flow = Flow::unlocked(&flow, &signed_in, state.now())?;
    let error = match query.error.as_deref() {
        Some("too_soon") => {
            verification::resend_wait_message(&state, signed_in.account.id, flow.purpose()).await?
        }
        Some("sms_not_sent") => Some(VerifyError::SmsNotSent.to_string()),
        _ => None,
    };
    code_step_page(
        &state,
        &signed_in,
        flow,
        error,
        super::notice_text(query.notice.as_deref()),
    )
    .await
}

pub async fn confirm_code(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(flow): Path<String>,
    Form(form): Form<super::CodeForm>,
) -> Result<Response, WebError> {
    let flow = Flow::unlocked(&flow, &signed_in, state.now())?;
    let account = &signed_in.account;
    let checked = match verification::check_sms_code_unused(
        &state,
        account.id,
        flow.purpose(),
        &signed_in.session_digest,
        &form.code,
    )
    .await
    {
        Ok(checked) => checked,
        Err(VerifyError::Internal(error)) => return Err(error),
        Err(error) => {
            return code_step_page(&state, &signed_in, flow, Some(error.to_string()), None).await;
        }
    };
    let sealed = verification::seal_phone(&state, account.id, &checked.phone);
    // Uses the code up and saves the number (disabling the security question for
    // good) in one transaction, for a new set-up and a change of number alike.
    if !state
        .store
        .confirm_phone(account.id, &checked.code, sealed, state.now())
        .await?
    {
        let used = VerifyError::from(domain::one_time_code::CodeError::AlreadyUsed);
        return code_step_page(&state, &signed_in, flow, Some(used.to_string()), None).await;
    }
    let masked_phone = checked.phone.masked();
    match flow {
        Flow::SetUp => {
            security_events::record(
                &state,
                account,
                SecurityEvent::TwoStepTurnedOn { masked_phone },
            )
            .await?;
            Ok(super::to_security_tab("two_step_on"))
        }
        Flow::Change => {
            security_events::record(
                &state,
                account,
                SecurityEvent::PhoneNumberChanged { masked_phone },
            )
            .await?;
            Ok(super::to_security_tab("phone_changed"))
        }
    }
}

pub async fn resend_code(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(flow): Path<String>,
) -> Result<Response, WebError> {
    let flow = Flow::unlocked(&flow, &signed_in, state.now())?;
    let target = match verification::resend_sms_code(
        &state,
        signed_in.account.id,
        flow.purpose(),
        &signed_in.session_digest,
    )
    .await
    {
        Ok(()) => flow.path("/code?notice=code_sent"),
        Err(VerifyError::Internal(error)) => return Err(error),
        Err(VerifyError::Code(domain::CodeError::ResendTooSoon { .. })) => {
            flow.path("/code?error=too_soon")
        }
        Err(VerifyError::SmsNotSent) => flow.path("/code?error=sms_not_sent"),
        Err(_) => flow.path("/number"),
    };
    Ok(Redirect::to(&target).into_response())
}

fn turn_off_page(signed_in: &SignedIn, error: Option<String>) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: "Turn off two-step verification",
        explanation: if signed_in.account.has_authenticator() {
            "Your phone number will be removed, and the authenticator app will be turned off too. Enter your password to continue."
        } else {
            "Your phone number will be removed. Enter your password to continue."
        },
        action: "/account/security/two-step/turn-off".into(),
        button: "Turn off",
        error,
    }
}

pub async fn turn_off_form(signed_in: SignedIn) -> Result<Response, WebError> {
    if !two_step_of(&signed_in.account).is_on() {
        return Ok(Redirect::to("/account/settings/security").into_response());
    }
    turn_off_page(&signed_in, None).render()
}

pub async fn turn_off(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    if !two_step_of(&signed_in.account).is_on() {
        return Ok(Redirect::to("/account/settings/security").into_response());
    }
    if !super::password_is_right(&state, &signed_in, &form.password).await {
        return turn_off_page(&signed_in, Some("That password isn't right.".into())).render();
    }
    // The store applies TwoStep::turning_off_sms_turns_off_authenticator in one transaction.
    let authenticator_too = state.store.turn_off_two_step(signed_in.account.id).await?;
    security_events::record(
        &state,
        &signed_in.account,
        SecurityEvent::TwoStepTurnedOff { authenticator_too },
    )
    .await?;
    Ok(super::to_security_tab("two_step_off"))
}
