//! The Anti-Theft page: the account's devices and the commands sent to them,
//! and the Locate, Lock, Alarm and Wipe buttons. Lock and Wipe are security
//! changes and ask for the password; Locate and Alarm need a session only.
//! Remove deletes a device for good (with the password, like Disconnect): the
//! only way to end one that a password change signed out, since it is no
//! longer among the Security tab's connected applications.

use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::SecurityEvent;
use domain::anti_theft::{
    AntiTheftEvent, CommandKind, CommandState, lock_message, wipe_confirmation,
};
use serde::Deserialize;
use storage::{CommandRow, ConnectionRow};

use super::Path;
use crate::chrome::{Chrome, render, render_with_status};
use crate::clock::format_time;
use crate::session::{Page, SignedIn};
use crate::{AppState, WebError, security_events};

const PAGE: &str = "/account/anti-theft";

/// How many of a device's latest commands the page shows.
const COMMANDS_SHOWN: usize = 10;

/// A command in the URL: `/account/anti-theft/{device}/{command}`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandPath {
    Locate,
    Lock,
    Alarm,
    Wipe,
}

impl CommandPath {
    fn kind(self) -> CommandKind {
        match self {
            Self::Locate => CommandKind::Locate,
            Self::Lock => CommandKind::Lock,
            Self::Alarm => CommandKind::Alarm,
            Self::Wipe => CommandKind::Wipe,
        }
    }
}

pub struct LocationView {
    pub latitude: String,
    pub longitude: String,
    pub accuracy_m: i64,
    pub map_url: String,
}

pub struct CommandView {
    pub kind: &'static str,
    pub issued_at: String,
    pub state: &'static str,
    /// For styling: waiting, received, done, failed, expired.
    pub state_name: &'static str,
    pub received_at: Option<String>,
    pub answered_at: Option<String>,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub location: Option<LocationView>,
}

impl CommandView {
    fn of(row: CommandRow, now: i64) -> Self {
        let state = row.state.at(row.issued_at, now);
        Self {
            kind: row.kind.label(),
            issued_at: format_time(row.issued_at),
            state: state.label(),
            state_name: state.as_str(),
            received_at: row.received_at.map(format_time),
            answered_at: row.answered_at.map(format_time),
            message: row.message,
            reason: row.reason.filter(|_| state == CommandState::Failed),
            location: row.location.map(|location| LocationView {
                latitude: location.latitude(),
                longitude: location.longitude(),
                accuracy_m: location.accuracy_m(),
                map_url: location.map_url(),
            }),
        }
    }
}

pub struct DeviceView {
    pub id: i64,
    pub name: String,
    pub app: String,
    pub version: String,
    pub platform: String,
    pub last_seen: String,
    /// Signed out of the account by a password change, still answering commands.
    pub signed_out: bool,
    pub commands: Vec<CommandView>,
}

impl DeviceView {
    fn of(state: &AppState, row: ConnectionRow) -> Self {
        Self {
            id: row.id,
            app: crate::api::app_name(state, &row.app_id),
            version: row.app_version,
            platform: row.platform.unwrap_or_default(),
            last_seen: format_time(row.last_used_at),
            signed_out: row.signed_out_at.is_some(),
            name: row.device_name,
            commands: Vec::new(),
        }
    }
}

/// The account's applications that are Anti-Theft devices by the catalogue
/// (new enough, on a platform it lists), those a password change signed out
/// included: they still answer commands.
async fn devices_of(
    state: &AppState,
    signed_in: &SignedIn,
) -> Result<Vec<ConnectionRow>, WebError> {
    let connections = state
        .store
        .connections_of_account(signed_in.account.id)
        .await?;
    Ok(connections
        .into_iter()
        .filter(|connection| crate::api::devices::is_anti_theft_device(state, connection))
        .collect())
}

async fn device(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
) -> Result<ConnectionRow, WebError> {
    devices_of(state, signed_in)
        .await?
        .into_iter()
        .find(|device| device.id == id)
        .ok_or(WebError::NotFound)
}

/// What the page says after a command: `?sent=lock` or `?waiting=lock`. Only
/// the kind travels, so no text from the URL reaches the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AntiTheftQuery {
    sent: Option<String>,
    waiting: Option<String>,
    removed: bool,
}

impl AntiTheftQuery {
    fn notice(&self) -> Option<String> {
        if self.removed {
            return Some(
                "The device is removed. It no longer answers Anti-Theft commands.".to_owned(),
            );
        }
        let kind = |text: &Option<String>| text.as_deref().and_then(CommandKind::parse);
        if let Some(kind) = kind(&self.sent) {
            return Some(format!(
                "{} sent. The device receives it the next time it connects.",
                kind.label()
            ));
        }
        kind(&self.waiting).map(|kind| {
            format!(
                "The {} sent earlier is still waiting for this device, so no second one was sent.",
                kind.label()
            )
        })
    }
}

#[derive(Template)]
#[template(path = "anti_theft.html")]
struct AntiTheftPage {
    chrome: Chrome,
    notice: Option<String>,
    devices: Vec<DeviceView>,
    /// "Photon Mobile 5.1.0", for the sentence on how to add a device.
    capable_apps: Vec<String>,
}

pub async fn list(
    Page(state, signed_in): Page<SignedIn>,
    Query(query): Query<AntiTheftQuery>,
) -> Result<Response, WebError> {
    let now = state.now();
    let mut devices: Vec<DeviceView> = devices_of(&state, &signed_in)
        .await?
        .into_iter()
        .map(|row| DeviceView::of(&state, row))
        .collect();
    for device in &mut devices {
        device.commands = state
            .store
            .commands_of_connection(device.id, COMMANDS_SHOWN as i64)
            .await?
            .into_iter()
            .map(|command| CommandView::of(command, now))
            .collect();
    }
    let capable_apps = state
        .settings
        .apps
        .apps()
        .iter()
        .filter_map(|app| {
            let since = app.anti_theft_since.as_ref()?;
            Some(format!("{} {since} or later", app.name))
        })
        .collect();
    render(&AntiTheftPage {
        chrome: signed_in.chrome(),
        notice: query.notice(),
        devices,
        capable_apps,
    })
}

text_form! {
    /// Lock and Wipe: the password; Lock's message; Wipe's confirmation box.
    CommandForm { password, message, confirm }
}

#[derive(Template)]
#[template(path = "anti_theft_command.html")]
struct CommandPage {
    chrome: Chrome,
    device: DeviceView,
    kind: CommandKind,
    action: String,
    confirmation: String,
    message: String,
    message_error: Option<String>,
    confirm_error: Option<String>,
    password_error: Option<String>,
}

impl CommandPage {
    fn new(
        state: &AppState,
        signed_in: &SignedIn,
        device: ConnectionRow,
        kind: CommandKind,
    ) -> Self {
        let device = DeviceView::of(state, device);
        Self {
            chrome: signed_in.chrome(),
            action: format!("{PAGE}/{}/{}", device.id, kind.as_str()),
            confirmation: wipe_confirmation(&device.name),
            device,
            kind,
            message: String::new(),
            message_error: None,
            confirm_error: None,
            password_error: None,
        }
    }

    fn is_wipe(&self) -> bool {
        self.kind == CommandKind::Wipe
    }

    fn has_errors(&self) -> bool {
        self.message_error.is_some()
            || self.confirm_error.is_some()
            || self.password_error.is_some()
    }
}

/// Lock's and Wipe's form; Locate and Alarm have none (their buttons send).
pub async fn command_form(
    Page(state, signed_in): Page<SignedIn>,
    Path((id, command)): Path<(i64, CommandPath)>,
) -> Result<Response, WebError> {
    let kind = command.kind();
    if !kind.asks_for_password() {
        return Err(WebError::NotFound);
    }
    let device = device(&state, &signed_in, id).await?;
    render(&CommandPage::new(&state, &signed_in, device, kind))
}

pub async fn send(
    Page(state, signed_in): Page<SignedIn>,
    Path((id, command)): Path<(i64, CommandPath)>,
    Form(form): Form<CommandForm>,
) -> Result<Response, WebError> {
    let kind = command.kind();
    let device = device(&state, &signed_in, id).await?;
    let mut message = None;
    if kind.asks_for_password() {
        let mut page = CommandPage::new(&state, &signed_in, device.clone(), kind);
        page.message = form.message.clone();
        if kind == CommandKind::Lock {
            match lock_message(&form.message) {
                Ok(text) => message = text,
                Err(error) => page.message_error = Some(error.to_string()),
            }
        }
        if kind == CommandKind::Wipe && form.confirm != "yes" {
            page.confirm_error = Some("Tick the box to confirm the wipe.".to_owned());
        }
        if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
            page.password_error = Some(wrong.to_string());
        }
        if page.has_errors() {
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    }
    let issued = state
        .store
        .issue_command(
            signed_in.account.id,
            device.id,
            kind,
            message.as_deref(),
            state.now(),
        )
        .await?;
    if issued.is_none() {
        return Ok(Redirect::to(&format!("{PAGE}?waiting={}", kind.as_str())).into_response());
    }
    let event = AntiTheftEvent::CommandSent {
        kind,
        device: device.device_name,
        message,
    };
    security_events::record(&state, &signed_in.account, SecurityEvent::AntiTheft(event)).await?;
    Ok(Redirect::to(&format!("{PAGE}?sent={}", kind.as_str())).into_response())
}

#[derive(Template)]
#[template(path = "anti_theft_remove.html")]
struct RemovePage {
    chrome: Chrome,
    device: DeviceView,
    error: Option<String>,
}

pub async fn remove_form(
    Page(state, signed_in): Page<SignedIn>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let device = device(&state, &signed_in, id).await?;
    render(&RemovePage {
        chrome: signed_in.chrome(),
        device: DeviceView::of(&state, device),
        error: None,
    })
}

/// Removing a device asks for the password like Disconnect: a borrowed,
/// signed-in browser must not leave the owner unable to find a lost phone.
pub async fn remove(
    Page(state, signed_in): Page<SignedIn>,
    Path(id): Path<i64>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    let device = device(&state, &signed_in, id).await?;
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        let page = RemovePage {
            chrome: signed_in.chrome(),
            device: DeviceView::of(&state, device),
            error: Some(wrong.to_string()),
        };
        return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let app = crate::api::app_name(&state, &device.app_id);
    super::account::disconnect_for_good(&state, &signed_in, id, app, device.device_name).await?;
    Ok(Redirect::to(&format!("{PAGE}?removed=true")).into_response())
}
