//! "My Account" and the account settings window with its Security tab.

use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use domain::account::SecurityEvent;
use domain::recovery_codes::RecoveryCodePolicy;
use domain::security_question::{
    SecurityQuestionError, SecurityQuestionState, normalise_answer, parse_question,
};
use storage::Account;

use super::{Notice, NoticeQuery, Path};
use crate::chrome::{Chrome, render, render_form, render_with_status};
use crate::clock::format_time;
use crate::session::{Page, SignedIn};
use crate::verification::{account_phone, two_step_of};
use crate::{AppState, WebError, security_events};

#[derive(Template)]
#[template(path = "account.html")]
struct OverviewPage {
    chrome: Chrome,
    two_step_on: bool,
    authenticator_on: bool,
}

pub async fn overview(signed_in: SignedIn) -> Result<Response, WebError> {
    let two_step = two_step_of(&signed_in.account);
    render(&OverviewPage {
        chrome: signed_in.chrome(),
        two_step_on: two_step.is_on(),
        authenticator_on: two_step.has_authenticator(),
    })
}

#[derive(Template)]
#[template(path = "settings_profile.html")]
struct ProfileTab {
    chrome: Chrome,
    member_since: String,
}

pub async fn settings(signed_in: SignedIn) -> Result<Response, WebError> {
    render(&ProfileTab {
        member_since: format_time(signed_in.account.created_at),
        chrome: signed_in.chrome(),
    })
}

/// Messages beside the Security tab's inline forms, and what was typed.
#[derive(Default)]
pub struct SecurityTabInput {
    pub current_password_error: Option<String>,
    pub new_password_error: Option<String>,
    pub question: String,
    pub question_error: Option<String>,
    pub answer_error: Option<String>,
    pub question_password_error: Option<String>,
}

impl SecurityTabInput {
    fn has_errors(&self) -> bool {
        [
            &self.current_password_error,
            &self.new_password_error,
            &self.question_error,
            &self.answer_error,
            &self.question_password_error,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

text_form! {
    /// The Security tab's security-question form (its password confirms it).
    SecurityQuestionForm { question, answer, password }
}

pub struct EventView {
    pub when: String,
    pub summary: String,
}

pub struct ConnectionView {
    pub id: i64,
    pub app: String,
    pub version: String,
    pub device: String,
    pub connected_at: String,
    pub last_used_at: String,
}

impl ConnectionView {
    fn of(state: &AppState, row: storage::ConnectionRow) -> Self {
        Self {
            id: row.id,
            app: crate::api::app_name(state, &row.app_id),
            version: row.app_version,
            device: row.device_name,
            connected_at: format_time(row.created_at),
            last_used_at: format_time(row.last_used_at),
        }
    }
}

#[derive(Template)]
#[template(path = "settings_security.html")]
struct SecurityTab {
    chrome: Chrome,
    notice: Option<Notice>,
    input: SecurityTabInput,
    two_step_on: bool,
    masked_phone: String,
    authenticator_on: bool,
    question: SecurityQuestionState,
    /// How many recovery codes are left, while two-step verification is on.
    recovery_codes: Option<RecoveryCodesView>,
    events: Vec<EventView>,
    connections: Vec<ConnectionView>,
    sessions: Vec<super::sessions::SessionView>,
}

/// The **Recovery codes** section: how many are left, and whether that is few.
pub struct RecoveryCodesView {
    pub left: String,
    pub running_low: bool,
}

impl RecoveryCodesView {
    async fn of(state: &AppState, account: &Account) -> Result<Option<Self>, WebError> {
        if !two_step_of(account).is_on() {
            return Ok(None);
        }
        let left = state.store.recovery_codes_left(account.id).await?;
        Ok(Some(Self {
            left: domain::account::codes_left(left),
            running_low: RecoveryCodePolicy::default().is_running_low(left),
        }))
    }
}

/// The account's security question as the core sees it.
pub fn security_question_of(account: &Account) -> SecurityQuestionState {
    SecurityQuestionState::from_stored(
        account.security_question.clone(),
        account.security_question_disabled,
        two_step_of(account),
    )
}

pub async fn render_security_tab(
    state: &AppState,
    signed_in: &SignedIn,
    input: SecurityTabInput,
    notice: Option<Notice>,
) -> Result<Response, WebError> {
    let account = &signed_in.account;
    let two_step = two_step_of(account);
    let events = state.store.recent_events(account.id, 10).await?;
    let connections = state.store.connections_of_account(account.id).await?;
    let sessions = super::sessions::sessions_of(state, signed_in).await?;
    let page = SecurityTab {
        sessions,
        chrome: signed_in.chrome(),
        notice,
        two_step_on: two_step.is_on(),
        masked_phone: account_phone(state, account)?
            .map(|p| p.masked())
            .unwrap_or_default(),
        authenticator_on: two_step.has_authenticator(),
        question: security_question_of(account),
        recovery_codes: RecoveryCodesView::of(state, account).await?,
        events: events
            .into_iter()
            .map(|e| EventView {
                when: format_time(e.created_at),
                summary: e.summary,
            })
            .collect(),
        // Signed out by a password change, an application is no longer
        // connected to the account; a device among them is on Anti-Theft.
        connections: connections
            .into_iter()
            .filter(|c| c.signed_out_at.is_none())
            .map(|c| ConnectionView::of(state, c))
            .collect(),
        input,
    };
    render_form(&page, page.input.has_errors())
}

pub async fn security_tab(
    Page(state, signed_in): Page<SignedIn>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render_security_tab(
        &state,
        &signed_in,
        SecurityTabInput::default(),
        query.notice,
    )
    .await
}

pub async fn save_security_question(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<SecurityQuestionForm>,
) -> Result<Response, WebError> {
    let mut input = SecurityTabInput {
        question: form.question.clone(),
        ..Default::default()
    };
    if let Err(error) = security_question_of(&signed_in.account).may_be_changed() {
        input.question_error = Some(error.to_string());
        return render_security_tab(&state, &signed_in, input, None).await;
    }
    let question = parse_question(&form.question);
    let answer = normalise_answer(&form.answer);
    let password = super::check_password(&state, &signed_in, &form.password).await?;
    let (question, answer) = match (question, answer, password) {
        (Ok(question), Ok(answer), Ok(())) => (question, answer),
        (question, answer, password) => {
            input.question_error = question.err().map(|e| e.to_string());
            input.answer_error = answer.err().map(|e| e.to_string());
            input.question_password_error = password.err().map(|e| e.to_string());
            return render_security_tab(&state, &signed_in, input, None).await;
        }
    };
    let answer_hash = state.passwords.hash(answer).await?;
    if !state
        .store
        .set_security_question(signed_in.account.id, &question, &answer_hash)
        .await?
    {
        // Disabled meanwhile: a concurrent set-up of two-step verification won.
        input.question_error = Some(SecurityQuestionError::PermanentlyDisabled.to_string());
        return render_security_tab(&state, &signed_in, input, None).await;
    }
    super::security_changed(
        &state,
        &signed_in.account,
        SecurityEvent::SecurityQuestionSet,
    )
    .await
}

#[derive(Template)]
#[template(path = "disconnect.html")]
struct DisconnectPage {
    chrome: Chrome,
    connection: ConnectionView,
    error: Option<String>,
}

async fn connection_view(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
) -> Result<ConnectionView, WebError> {
    let connections = state
        .store
        .connections_of_account(signed_in.account.id)
        .await?;
    let connection = connections
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(WebError::NotFound)?;
    Ok(ConnectionView::of(state, connection))
}

pub async fn disconnect_form(
    Page(state, signed_in): Page<SignedIn>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let connection = connection_view(&state, &signed_in, id).await?;
    render(&DisconnectPage {
        chrome: signed_in.chrome(),
        connection,
        error: None,
    })
}

/// Removing an application's access asks for the password like every other
/// security change: a borrowed, signed-in browser must not cut the owner's devices off.
pub async fn disconnect(
    Page(state, signed_in): Page<SignedIn>,
    Path(id): Path<i64>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    let connection = connection_view(&state, &signed_in, id).await?;
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        let page = DisconnectPage {
            chrome: signed_in.chrome(),
            connection,
            error: Some(wrong.to_string()),
        };
        return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    disconnect_for_good(&state, &signed_in, id, connection.app, connection.device).await?;
    Ok(super::to_security_tab(Notice::Disconnected))
}

/// Deletes the account's connection `id` (its token stops working at once,
/// signed out or not) and records it, e-mailing the owner; nothing when a
/// parallel request deleted it first. Shared by Disconnect and the Anti-Theft
/// page's Remove.
pub(super) async fn disconnect_for_good(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
    app: String,
    device: String,
) -> Result<(), WebError> {
    let deleted = state
        .store
        .delete_connection(signed_in.account.id, id)
        .await?;
    if deleted.is_some() {
        let event = SecurityEvent::AppDisconnected { app, device };
        security_events::record(state, &signed_in.account, event).await?;
    }
    Ok(())
}
