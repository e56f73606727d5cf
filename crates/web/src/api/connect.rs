//! Connecting an application to an account: the password, then — when the
//! account has two-step verification — the second step by SMS or authenticator
//! app, with the same code rules as the sign-in page (`crate::verification`).
//! An application too old for two-step verification is refused and the owner is
//! told by e-mail to update it from the Downloads section.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::account::SecurityEvent;
use domain::apps::{Connection, REFUSAL_NOTICE_INTERVAL_SECONDS, Version};
use domain::digests::{ChallengeDigest, TokenDigest};
use domain::one_time_code::CodePurpose;
use domain::session::pending_sign_in_is_live;
use domain::throttle::PasswordRefused;
use domain::{Email, Method};
use serde::{Deserialize, Serialize};
use storage::{Account, AppIdentity};
use utoipa::ToSchema;

use super::{ApiError, ApiErrorBody, ApiErrorCode, JsonBody};
use crate::credentials::{self, CredentialsError};
use crate::session::Requester;
use crate::verification::{self, SecondFactor, two_step_of};
use crate::{AppState, security_events};

// Every rule a handler applies to a field is stated on the field with
// `#[schema(...)]` (lengths, patterns, `value_type` for an enum), so that a request
// the document allows is never refused as `invalid_request`; the app ids are the
// catalogue's, added when the router is built (`super::state_app_ids`).

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// An address that is not one is refused as `invalid_credentials`, like a wrong one.
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub password: String,
    /// The application's id in the catalogue (see the Downloads page); the
    /// document lists the ids this portal's catalogue holds.
    #[schema(min_length = 1)]
    pub app_id: String,
    /// Its version, e.g. "2.4.1": one to three numbers, an optional
    /// `-pre.release` and an optional `+build`, spaces around it ignored.
    #[schema(
        pattern = r"^\s*[0-9]{1,18}(\.[0-9]{1,18}){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[\s\S]*)?\s*$"
    )]
    pub app_version: String,
    /// A name the owner recognises, e.g. "Ann's laptop": 1 to 100 characters,
    /// not only spaces, no control or format characters (the pattern is
    /// added with the document, `super::visible_text_pattern`).
    #[schema(min_length = 1, max_length = 100)]
    pub device_name: String,
    /// What it runs on, as the Downloads page lists it (e.g. "Android"); with a
    /// version that supports it, this makes the device one the owner can find,
    /// lock, sound and wipe from the Anti-Theft page. 1 to 40 characters, the
    /// same rules as `device_name`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 40)]
    pub platform: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConnectResponse {
    /// The application is connected; send the token as `Authorization: Bearer`.
    Connected { token: String, connection_id: i64 },
    /// Two-step verification is on: pass the second step with this challenge.
    TwoStepRequired {
        challenge: String,
        methods: Vec<&'static str>,
        default_method: &'static str,
    },
}

/// Connect with e-mail and password.
#[utoipa::path(post, path = "/api/v1/apps/connect", tag = "applications",
    request_body = ConnectRequest,
    responses(
        (status = 200, body = ConnectResponse, description = "`connected`, or `two_step_required` with a challenge"),
        (status = 400, body = ApiErrorBody, description = "`invalid_request` (names the field) or `unknown_app`"),
        (status = 401, body = ApiErrorBody, description = "`invalid_credentials`"),
        (status = 429, body = ApiErrorBody, description = "`too_many_attempts`: ten wrong passwords for this e-mail from this client within 15 minutes; `Retry-After` says when the wait ends", headers(("Retry-After" = i64, description = "Seconds until the wait ends"))),
        (status = 503, body = ApiErrorBody, description = "`overloaded`: too many passwords being checked at once; try again after `Retry-After` seconds"),
        (status = 403, body = ApiErrorBody, description = "`two_step_unsupported`: this version cannot do two-step verification; the owner is e-mailed, `downloads_url` says where to update. `password_reset_required`: a hundred wrong passwords in a row locked this e-mail's password until the owner resets it through e-mail. `account_disabled`: support has disabled the account. `email_not_confirmed`: the account's e-mail address is not confirmed yet"),
    ))]
pub async fn connect(
    State(state): State<AppState>,
    from: Requester,
    JsonBody(request): JsonBody<ConnectRequest>,
) -> Result<Json<ConnectResponse>, ApiError> {
    let app = state
        .settings
        .apps
        .find(&request.app_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ApiErrorCode::UnknownApp,
                format!("There is no application with the id {:?}.", request.app_id),
            )
        })?
        .clone();
    let version = Version::parse(&request.app_version)
        .map_err(|e| ApiError::invalid_request(format!("app_version: {e}")))?;
    let device_name = parse_device_name(&request.device_name)?;
    let platform = parse_platform(request.platform.as_deref())?;
    let account = authenticate(&state, &request.email, request.password, &from).await?;
    if let Err(refusal) = account.address().may_set_up_two_step_or_connect_apps() {
        tracing::debug!(%refusal, "application refused for an unconfirmed address");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ApiErrorCode::EmailNotConfirmed,
            "The account's e-mail address is not confirmed yet. Open the link in the e-mail sent at sign-up, then connect again.",
        ));
    }
    let identity = AppIdentity {
        app_id: app.id.clone(),
        app_version: version.to_string(),
        device_name,
        platform,
    };
    let two_step = two_step_of(&account);
    match domain::apps::connection(two_step.is_on(), &app, &version) {
        Connection::Connect => connected(&state, &account, &identity).await,
        Connection::TwoStepRequired => {
            let challenge = domain::secrets::random_token();
            state
                .store
                .create_app_challenge(
                    &ChallengeDigest::of(&challenge),
                    account.id,
                    &identity,
                    state.now(),
                )
                .await?;
            let default_method = two_step.default_method().unwrap_or(Method::Sms).as_str();
            Ok(Json(ConnectResponse::TwoStepRequired {
                challenge,
                methods: two_step.methods().into_iter().map(Method::as_str).collect(),
                default_method,
            }))
        }
        Connection::UpdateRequired => {
            Err(refuse_old_app(&state, &account, &app.name, &identity).await?)
        }
    }
}

/// The rules the document states for `device_name`, on the text as sent.
fn parse_device_name(text: &str) -> Result<String, ApiError> {
    visible_text(text, 100).ok_or_else(|| {
        ApiError::invalid_request(
            "device_name: give a name of 1 to 100 characters, e.g. \"Ann's laptop\".",
        )
    })
}

/// The same rules for the optional `platform`, of at most 40 characters.
fn parse_platform(text: Option<&str>) -> Result<Option<String>, ApiError> {
    text.map(|text| {
        visible_text(text, 40).ok_or_else(|| {
            ApiError::invalid_request(
                "platform: give the platform of 1 to 40 characters, e.g. \"Android\".",
            )
        })
    })
    .transpose()
}

/// A short text an application names something with, trimmed: at most `max`
/// characters as sent, not only spaces, and nothing invisible. Format
/// characters (bidi overrides, zero-width joiners) could make a name in an
/// e-mail or on the page read as something else. `super::visible_text_pattern`
/// states the same in the document.
fn visible_text(text: &str, max: usize) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()
        && text.chars().count() <= max
        && !text.chars().any(domain::text::is_hidden))
    .then(|| trimmed.to_owned())
}

/// One message and one cost for a wrong e-mail and a wrong password.
async fn authenticate(
    state: &AppState,
    email: &str,
    password: String,
    from: &Requester,
) -> Result<Account, ApiError> {
    let invalid = CredentialsError::Invalid;
    let outcome = match Email::parse(email) {
        Ok(email) => credentials::check(state, &email, password, from).await,
        Err(_) => Err(invalid),
    };
    outcome.map_err(|error| match error {
        CredentialsError::Invalid => ApiError::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::InvalidCredentials,
            error.to_string(),
        ),
        CredentialsError::Refused(PasswordRefused::TooMany(wait)) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::TooManyAttempts,
            wait.to_string(),
        )
        .with_retry_after(wait.retry_after_seconds),
        CredentialsError::Refused(PasswordRefused::Locked(locked)) => ApiError::new(
            StatusCode::FORBIDDEN,
            ApiErrorCode::PasswordResetRequired,
            locked.to_string(),
        ),
        CredentialsError::Disabled => account_disabled(),
        CredentialsError::Internal(cause) => cause.into(),
    })
}

pub(super) fn account_disabled() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ApiErrorCode::AccountDisabled,
        CredentialsError::Disabled.to_string(),
    )
}

async fn connected(
    state: &AppState,
    account: &Account,
    identity: &AppIdentity,
) -> Result<Json<ConnectResponse>, ApiError> {
    let token = domain::secrets::random_token();
    let connection_id = state
        .store
        .create_connection(account.id, &TokenDigest::of(&token), identity, state.now())
        .await?;
    let app = app_name(state, &identity.app_id);
    let event = SecurityEvent::AppConnected {
        app,
        version: identity.app_version.clone(),
        device: identity.device_name.clone(),
    };
    security_events::record(state, account, event).await?;
    Ok(Json(ConnectResponse::Connected {
        token,
        connection_id,
    }))
}

pub fn app_name(state: &AppState, app_id: &str) -> String {
    state
        .settings
        .apps
        .find(app_id)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| app_id.to_owned())
}

/// Records the refusal every time, and e-mails the owner at most once a day per
/// application and device, so that an app retrying in a loop does not flood them.
async fn refuse_old_app(
    state: &AppState,
    account: &Account,
    app_name: &str,
    identity: &AppIdentity,
) -> Result<ApiError, ApiError> {
    let event = SecurityEvent::OldAppRefused {
        app: app_name.to_owned(),
        version: identity.app_version.clone(),
        device: identity.device_name.clone(),
    };
    let now = state.now();
    security_events::record_without_email(state, account, &event).await?;
    if state
        .store
        .claim_refusal_notice(
            account.id,
            &identity.app_id,
            &identity.device_name,
            now,
            REFUSAL_NOTICE_INTERVAL_SECONDS,
        )
        .await?
    {
        security_events::notify(state, account, &event, now);
    }
    let downloads_url = state.settings.url("/downloads");
    let mut error = ApiError::new(
        StatusCode::FORBIDDEN,
        ApiErrorCode::TwoStepUnsupported,
        format!(
            "{app_name} {} does not support two-step verification, which is on for this account. Update to the latest version from the Downloads section.",
            identity.app_version
        ),
    );
    error.body.downloads_url = Some(downloads_url);
    Ok(error)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// From `two_step_required`; an unknown one is `challenge_expired`.
    #[schema(min_length = 1)]
    pub challenge: String,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSentResponse {
    /// Always `code_sent`.
    pub status: &'static str,
    /// The masked number the SMS went to, e.g. "+1 ••• ••• 4567".
    pub sent_to: String,
}

/// The live challenge and its account, or `challenge_expired`.
async fn live_challenge(
    state: &AppState,
    challenge: &str,
) -> Result<(ChallengeDigest, storage::ChallengeRow, Account), ApiError> {
    let expired = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::ChallengeExpired,
            "This challenge is unknown or has expired. Connect again.",
        )
    };
    let digest = ChallengeDigest::of(challenge);
    let row = state
        .store
        .app_challenge(&digest)
        .await?
        .ok_or_else(expired)?;
    if !pending_sign_in_is_live(row.created_at, state.now()) {
        state.store.delete_app_challenge(&digest).await?;
        return Err(expired());
    }
    let account = state
        .store
        .account_by_id(row.account_id)
        .await?
        .ok_or_else(expired)?;
    if account.is_disabled() {
        return Err(account_disabled());
    }
    Ok((digest, row, account))
}

/// Send the SMS code for a challenge.
#[utoipa::path(post, path = "/api/v1/apps/connect/sms", tag = "applications",
    request_body = ChallengeRequest,
    responses(
        (status = 200, body = CodeSentResponse),
        (status = 400, body = ApiErrorBody, description = "`invalid_request` or `method_not_available`"),
        (status = 401, body = ApiErrorBody, description = "`challenge_expired`"),
        (status = 403, body = ApiErrorBody, description = "`account_disabled`: support has disabled the account"),
        (status = 422, body = ApiErrorBody, description = "`sms_not_allowed`: the number's country is not served or it cannot take SMS"),
        (status = 429, body = ApiErrorBody, description = "`resend_too_soon`: one SMS a minute; `too_many_codes`: an SMS budget is full, the message and `Retry-After` say when to try again", headers(("Retry-After" = i64, description = "Seconds until the wait ends"))),
        (status = 503, body = ApiErrorBody, description = "`sms_not_sent`: the SMS gateway failed; try again in a minute"),
    ))]
pub async fn send_sms(
    State(state): State<AppState>,
    client: Requester,
    JsonBody(request): JsonBody<ChallengeRequest>,
) -> Result<Json<CodeSentResponse>, ApiError> {
    let (digest, _, account) = live_challenge(&state, &request.challenge).await?;
    let phone = verification::account_phone(&state, &account)?
        .ok_or(verification::VerifyError::MethodNotAvailable)?;
    verification::send_sms_code(
        &state,
        account.id,
        CodePurpose::ConnectApp,
        &digest.binding(),
        &phone,
        &client,
    )
    .await
    .map_err(|refused| ApiError::from_verify(refused, state.now()))?;
    Ok(Json(CodeSentResponse {
        status: "code_sent",
        sent_to: phone.masked(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[schema(min_length = 1)]
    pub challenge: String,
    /// One of the `methods` of `two_step_required`, or `recovery_code`.
    #[schema(value_type = MethodName)]
    pub method: String,
    /// The 6-digit code (spaces and hyphens between the digits are ignored),
    /// or a recovery code (`7KQ2-9XWD-M4TP`, dashes optional, any case).
    #[schema(
        pattern = r"^([\s-]*([0-9][\s-]*){6}|[ \u2010-\u2015-]*([2-9A-HJ-NP-Za-hj-np-z][ \u2010-\u2015-]*){12})$"
    )]
    pub code: String,
}

/// The second-step methods the API knows, as `VerifyRequest.method` spells them
/// (`domain::Method::parse`); a method the account has not set up is
/// `method_not_available`. `recovery_code`, one of the account's recovery
/// codes, is accepted whenever two-step verification is on.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Only its schema is used: the field stays a string, refused with a message of ours.
pub enum MethodName {
    Authenticator,
    Sms,
    RecoveryCode,
}

/// Pass the second step and receive the token.
#[utoipa::path(post, path = "/api/v1/apps/connect/verify", tag = "applications",
    request_body = VerifyRequest,
    responses(
        (status = 200, body = ConnectResponse, description = "`connected` with a token"),
        (status = 400, body = ApiErrorBody, description = "`invalid_request`, `code_malformed` or `method_not_available`"),
        (status = 401, body = ApiErrorBody, description = "`challenge_expired`, `code_wrong`, `code_expired`, `code_already_used` or `code_not_requested`"),
        (status = 403, body = ApiErrorBody, description = "`account_disabled`: support has disabled the account"),
        (status = 429, body = ApiErrorBody, description = "`too_many_attempts`: too many wrong codes for this code or step, or ten in a row for the account, which locks the second step for 15 minutes (the message says until when, `Retry-After` in how many seconds; none after a single code's five wrong entries, which a new code ends)", headers(("Retry-After" = i64, description = "Seconds until the wait ends, when it is one"))),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    from: Requester,
    JsonBody(request): JsonBody<VerifyRequest>,
) -> Result<Json<ConnectResponse>, ApiError> {
    let method = Method::parse(&request.method).ok_or_else(|| {
        ApiError::invalid_request("method: use \"authenticator\", \"sms\" or \"recovery_code\".")
    })?;
    let (digest, row, account) = live_challenge(&state, &request.challenge).await?;
    verification::check_second_factor(
        &state,
        &account,
        SecondFactor {
            method,
            purpose: CodePurpose::ConnectApp,
            binding: digest.binding(),
            input: &request.code,
            from: &from,
        },
    )
    .await
    .map_err(|refused| ApiError::from_verify(refused, state.now()))?;
    if !state.store.delete_app_challenge(&digest).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::ChallengeExpired,
            "This challenge was already used. Connect again.",
        ));
    }
    connected(&state, &account, &row.app).await
}
