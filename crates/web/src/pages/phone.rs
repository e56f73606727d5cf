//! Two-step verification by SMS on the Security tab: set up, change the phone
//! number, turn off. Each flow starts by asking for the password.

use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::PhoneNumber;
use domain::account::SecurityEvent;
use domain::one_time_code::CodePurpose;
use storage::TurnOnTwoStep;

use super::notice::{Notice, SendFailure};
use super::{Path, recovery_codes};
use crate::chrome::{Chrome, render, render_form, render_with_status};
use crate::session::{Page, Requester, SignedIn};
use crate::verification::{self, VerifyError, two_step_of};
use crate::{AppState, WebError, security_events};

/// The two SMS flows share their steps: password, number, code. The flow is the
/// URL's `{flow}` segment, read by serde; any other segment is a 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum PhoneFlow {
    #[serde(rename = "set-up")]
    SetUp,
    #[serde(rename = "change")]
    Change,
}

impl PhoneFlow {
    /// The segment serde reads back (a test holds the two together).
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

    /// The flow may go on past its password step: allowed, and the password
    /// was entered in the last minutes.
    fn unlocked(self, signed_in: &SignedIn, now: i64) -> Result<(), WebError> {
        self.allowed_for(signed_in)?;
        signed_in.require_fresh_password(now, &self.path(""))
    }

    /// The core decides whether this account may take the flow: setting up
    /// needs SMS off, changing the number needs it on.
    fn allowed_for(self, signed_in: &SignedIn) -> Result<(), WebError> {
        let two_step = two_step_of(&signed_in.account);
        let after = match self {
            Self::SetUp => {
                signed_in
                    .account
                    .address()
                    .may_set_up_two_step_or_connect_apps()?;
                two_step.with_sms_set_up()
            }
            Self::Change => two_step.with_phone_number_changed(),
        };
        after
            .map(|_| ())
            .map_err(|e| WebError::BadRequest(e.to_string()))
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

fn password_step_page(
    signed_in: &SignedIn,
    flow: PhoneFlow,
    error: Option<String>,
) -> PasswordStep {
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
    Path(flow): Path<PhoneFlow>,
) -> Result<Response, WebError> {
    flow.allowed_for(&signed_in)?;
    password_step_page(&signed_in, flow, None).render()
}

pub async fn confirm_password(
    Page(state, signed_in): Page<SignedIn>,
    Path(flow): Path<PhoneFlow>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    flow.allowed_for(&signed_in)?;
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        return password_step_page(&signed_in, flow, Some(wrong.to_string())).render();
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
    Page(state, signed_in): Page<SignedIn>,
    Path(flow): Path<PhoneFlow>,
) -> Result<Response, WebError> {
    flow.unlocked(&signed_in, state.now())?;
    render(&NumberStep {
        chrome: signed_in.chrome(),
        title: flow.title(),
        action: flow.path("/number"),
        phone: String::new(),
        error: None,
    })
}

text_form!(NumberForm { phone });

pub async fn send_code(
    Page(state, signed_in): Page<SignedIn>,
    Path(flow): Path<PhoneFlow>,
    client: Requester,
    Form(form): Form<NumberForm>,
) -> Result<Response, WebError> {
    flow.unlocked(&signed_in, state.now())?;
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
    if flow == PhoneFlow::Change
        && verification::account_phone(&state, &signed_in.account)?.as_ref() == Some(&phone)
    {
        return refuse("This is already your phone number. Enter a new one.".into());
    }
    match verification::send_sms_code(
        &state,
        signed_in.account.id,
        flow.purpose(),
        &signed_in.session_digest.binding(),
        &phone,
        &client,
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
    notice: Option<Notice>,
}

async fn code_step_page(
    state: &AppState,
    signed_in: &SignedIn,
    flow: PhoneFlow,
    error: Option<String>,
    notice: Option<Notice>,
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

pub async fn code_step(
    Page(state, signed_in): Page<SignedIn>,
    Path(flow): Path<PhoneFlow>,
    Query(query): Query<super::notice::CodeStepQuery>,
) -> Result<Response, WebError> {
    flow.unlocked(&signed_in, state.now())?;
    let error = match query.error {
        Some(failure) => {
            failure
                .message(query.until, &state, signed_in.account.id, flow.purpose())
                .await?
        }
        None => None,
    };
    code_step_page(&state, &signed_in, flow, error, query.notice).await
}

pub async fn confirm_code(
    Page(state, signed_in): Page<SignedIn>,
    Path(flow): Path<PhoneFlow>,
    Form(form): Form<super::CodeForm>,
) -> Result<Response, WebError> {
    flow.unlocked(&signed_in, state.now())?;
    let account = &signed_in.account;
    let checked = match verification::check_sms_code_unused(
        &state,
        account.id,
        flow.purpose(),
        &signed_in.session_digest.binding(),
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
    let now = state.now();
    let masked_phone = checked.phone.masked();
    // Uses the code up and saves the number (disabling the security question for
    // good) in one transaction, for a new set-up and a change of number alike;
    // a set-up also stores the first recovery codes, forgets any device
    // remembered before, signs out every other session and disconnects the
    // applications that could not pass the second step.
    let (saved, new_set, event) = match flow {
        PhoneFlow::SetUp => {
            let set = recovery_codes::NewSet::generate(&state, account);
            let too_old = super::apps_without_two_step(&state, account.id).await?;
            let ids: Vec<i64> = too_old.iter().map(|(id, _)| *id).collect();
            let saved = state
                .store
                .turn_on_two_step(TurnOnTwoStep {
                    account_id: account.id,
                    code: &checked.code,
                    phone_enc: sealed,
                    recovery_digests: &set.digests,
                    recovery_key_id: set.key_id,
                    keep_session: &signed_in.session_digest,
                    disconnect: &ids,
                    now,
                })
                .await?;
            let disconnected_apps = too_old.into_iter().map(|(_, name)| name).collect();
            let event = SecurityEvent::TwoStepTurnedOn {
                masked_phone,
                disconnected_apps,
            };
            (saved, Some(set), event)
        }
        PhoneFlow::Change => {
            let saved = state
                .store
                .confirm_phone(account.id, &checked.code, sealed, now)
                .await?;
            let event = SecurityEvent::PhoneNumberChanged { masked_phone };
            (saved, None, event)
        }
    };
    if !saved {
        let used = VerifyError::from(domain::one_time_code::CodeError::AlreadyUsed);
        return code_step_page(&state, &signed_in, flow, Some(used.to_string()), None).await;
    }
    match new_set {
        Some(set) => {
            let notice = Notice::after(&event);
            security_events::record(&state, account, event).await?;
            set.show(&signed_in, notice)
        }
        None => super::security_changed(&state, account, event).await,
    }
}

pub async fn resend_code(
    Page(state, signed_in): Page<SignedIn>,
    Path(flow): Path<PhoneFlow>,
    client: Requester,
) -> Result<Response, WebError> {
    flow.unlocked(&signed_in, state.now())?;
    let target = match verification::resend_sms_code(
        &state,
        signed_in.account.id,
        flow.purpose(),
        &signed_in.session_digest.binding(),
        &client,
    )
    .await
    {
        Ok(()) => Notice::CodeSent.on(&flow.path("/code")),
        Err(VerifyError::Internal(error)) => return Err(error),
        // No code to send again (expired, used): start the number step over.
        Err(error) => match SendFailure::of(&error) {
            SendFailure::Failed => flow.path("/number"),
            _ => SendFailure::link(&error, &flow.path("/code"), state.now()),
        },
    };
    Ok(Redirect::to(&target).into_response())
}

/// What turning SMS off comes to, as the core decides it: `None` when two-step
/// verification is not on; otherwise whether the authenticator goes with it.
fn turning_off(signed_in: &SignedIn) -> Option<bool> {
    let before = two_step_of(&signed_in.account);
    let after = before.turning_off_sms_turns_off_authenticator().ok()?;
    Some(before.has_authenticator() && !after.has_authenticator())
}

fn turn_off_page(
    signed_in: &SignedIn,
    authenticator_too: bool,
    error: Option<String>,
) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: "Turn off two-step verification",
        explanation: if authenticator_too {
            "Your phone number will be removed, the authenticator app will be turned off too, and your recovery codes will stop working. Enter your password to continue."
        } else {
            "Your phone number will be removed and your recovery codes will stop working. Enter your password to continue."
        },
        action: "/account/security/two-step/turn-off".into(),
        button: "Turn off",
        error,
    }
}

pub async fn turn_off_form(signed_in: SignedIn) -> Result<Response, WebError> {
    let Some(authenticator_too) = turning_off(&signed_in) else {
        return Ok(Redirect::to("/account/settings/security").into_response());
    };
    turn_off_page(&signed_in, authenticator_too, None).render()
}

pub async fn turn_off(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    let Some(authenticator_too) = turning_off(&signed_in) else {
        return Ok(Redirect::to("/account/settings/security").into_response());
    };
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        return turn_off_page(&signed_in, authenticator_too, Some(wrong.to_string())).render();
    }
    // The store writes the core's decision (no phone, no authenticator, no
    // enrolment) in one transaction, and answers what it actually removed.
    let authenticator_too = state.store.turn_off_two_step(signed_in.account.id).await?;
    super::security_changed(
        &state,
        &signed_in.account,
        SecurityEvent::TwoStepTurnedOff { authenticator_too },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde::de::value::{Error, StrDeserializer};

    fn read(segment: &str) -> Option<PhoneFlow> {
        PhoneFlow::deserialize(StrDeserializer::<Error>::new(segment)).ok()
    }

    #[test]
    fn each_flow_is_read_back_from_the_paths_it_builds() {
        for flow in [PhoneFlow::SetUp, PhoneFlow::Change] {
            assert_eq!(read(flow.slug()), Some(flow));
            assert!(flow.path("/code").ends_with("/code"));
        }
        assert_eq!(read("set_up"), None);
        assert_eq!(read("SetUp"), None);
    }
}
