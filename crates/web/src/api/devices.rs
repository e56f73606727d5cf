//! The device side of Anti-Theft: a connected application fetches the commands
//! its owner sent it (which marks them received) and answers each once. A
//! token reaches only its own device's commands; a device signed out by a
//! password change still does, an application that is no device then not.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use domain::account::SecurityEvent;
use domain::anti_theft::{
    AntiTheftEvent, CommandState, Location, Outcome, TokenUse, failure_reason, is_device,
};
use domain::apps::Version;
use serde::{Deserialize, Serialize};
use storage::{CommandAnswer, CommandRow, ConnectionRow};
use utoipa::ToSchema;

use super::bearer::connection_of;
use super::{ApiError, ApiErrorBody, ApiErrorCode, JsonBody};
use crate::{AppState, security_events};

/// Whether the connection is an Anti-Theft device by the catalogue: new
/// enough, on a platform it lists. An application the catalogue no longer
/// lists, or a version it cannot read, is none.
pub fn is_anti_theft_device(state: &AppState, connection: &ConnectionRow) -> bool {
    let app = state.settings.apps.find(&connection.app_id);
    let version = Version::parse(&connection.app_version).ok();
    match (app, version) {
        (Some(app), Some(version)) => is_device(app, &version, connection.platform.as_deref()),
        _ => false,
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCommand {
    pub id: i64,
    /// `locate`, `lock`, `alarm` or `wipe`.
    pub kind: &'static str,
    /// For `lock`: what the lock screen shows, if the owner wrote something.
    pub message: Option<String>,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CommandsResponse {
    /// Oldest first.
    pub commands: Vec<DeviceCommand>,
}

/// The device's waiting commands; fetching marks them received.
#[utoipa::path(get, path = "/api/v1/devices/commands", tag = "anti-theft",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CommandsResponse, description = "The commands waiting for this device, oldest first; each is handed out once. A command not fetched within 24 hours has expired and is not handed out."),
        (status = 401, body = ApiErrorBody, description = "`unauthorized`: no token, the token of a disconnected application, or of one signed out by a password change that is no Anti-Theft device"),
        (status = 403, body = ApiErrorBody, description = "`account_disabled`: support has disabled the account"),
    ))]
pub async fn commands(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CommandsResponse>, ApiError> {
    let (connection, _) = connection_of(&state, &headers, TokenUse::DeviceCommands).await?;
    let commands = state
        .store
        .take_waiting_commands(connection.id, state.now())
        .await?;
    Ok(Json(CommandsResponse {
        commands: commands
            .into_iter()
            .map(|command| DeviceCommand {
                id: command.id,
                kind: command.kind.as_str(),
                message: command.message,
                issued_at: command.issued_at,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
    /// Metres.
    pub accuracy_m: f64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultRequest {
    /// `done` or `failed`.
    pub status: String,
    /// Where the device is: required for a `locate` that is done, refused on any other command.
    pub location: Option<LocationBody>,
    /// Why it failed, shown to the owner (at most 200 characters).
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ResultResponse {
    pub id: i64,
    /// `done` or `failed`.
    pub state: &'static str,
}

/// Answer a command, once.
#[utoipa::path(post, path = "/api/v1/devices/commands/{id}/result", tag = "anti-theft",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The command's id")),
    request_body = ResultRequest,
    responses(
        (status = 200, body = ResultResponse),
        (status = 400, body = ApiErrorBody, description = "`invalid_request`: a status other than done or failed, a location on anything but locate, a locate done without one, or a position off the Earth"),
        (status = 401, body = ApiErrorBody, description = "`unauthorized`"),
        (status = 403, body = ApiErrorBody, description = "`account_disabled`: support has disabled the account"),
        (status = 404, body = ApiErrorBody, description = "`not_found`: no such command for this device"),
        (status = 409, body = ApiErrorBody, description = "`already_answered`: this command has its answer"),
    ))]
pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(request): JsonBody<ResultRequest>,
) -> Result<Json<ResultResponse>, ApiError> {
    let (connection, account) = connection_of(&state, &headers, TokenUse::DeviceCommands).await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ApiErrorCode::NotFound,
            "This device has no command with this id.",
        )
    };
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let command = state
        .store
        .command_of_device(connection.id, id)
        .await?
        .ok_or_else(not_found)?;
    if is_answered(&command, state.now()) {
        return Err(already_answered());
    }
    let (outcome, reason, location) = read_answer(&command, request)?;
    let answer = CommandAnswer {
        state: outcome.state(),
        reason: reason.as_deref(),
        location,
    };
    state
        .store
        .answer_command(connection.id, id, &answer, state.now())
        .await?
        .ok_or_else(already_answered)?;
    let device = connection.device_name;
    let event = match location {
        Some(location) => AntiTheftEvent::LocationFound { device, location },
        None => AntiTheftEvent::CommandAnswered {
            kind: command.kind,
            device,
            outcome,
            reason,
        },
    };
    security_events::record(&state, &account, SecurityEvent::AntiTheft(event)).await?;
    Ok(Json(ResultResponse {
        id,
        state: outcome.state().as_str(),
    }))
}

/// Answered, or expired unanswered: either way it takes no answer now.
fn is_answered(command: &CommandRow, now: i64) -> bool {
    matches!(
        command.state.at(command.issued_at, now),
        CommandState::Done | CommandState::Failed | CommandState::Expired
    )
}

fn already_answered() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ApiErrorCode::AlreadyAnswered,
        "This command has already been answered.",
    )
}

/// The answer as the rules take it, or what is wrong with it.
fn read_answer(
    command: &CommandRow,
    request: ResultRequest,
) -> Result<(Outcome, Option<String>, Option<Location>), ApiError> {
    let outcome = Outcome::parse(&request.status)
        .ok_or_else(|| ApiError::invalid_request("status: use \"done\" or \"failed\"."))?;
    let reason = failure_reason(request.reason.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::invalid_request(format!("reason: {e}")))?;
    let location = match request.location {
        Some(_) if !command.kind.answers_with_location() => {
            return Err(ApiError::invalid_request(format!(
                "location: only a locate answers with a location, this is a {}.",
                command.kind.as_str()
            )));
        }
        Some(body) => Some(
            Location::new(body.latitude, body.longitude, body.accuracy_m)
                .map_err(|e| ApiError::invalid_request(format!("location: {e}")))?,
        ),
        None => None,
    };
    if outcome == Outcome::Done && command.kind.answers_with_location() && location.is_none() {
        return Err(ApiError::invalid_request(
            "location: a locate that is done answers with the location.",
        ));
    }
    if outcome == Outcome::Failed && location.is_some() {
        return Err(ApiError::invalid_request(
            "location: a locate that failed has no location.",
        ));
    }
    Ok((outcome, reason, location))
}
