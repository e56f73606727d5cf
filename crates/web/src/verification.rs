//! Sending and checking second-factor codes, shared by the sign-in page, the
//! password reset, the security settings and the application API, so that every
//! entrance obeys the same expiry, attempt and replay rules.

use domain::authenticator::{self, AuthenticatorError, AuthenticatorSecret, AuthenticatorState};
use domain::one_time_code::{CodeError, CodePurpose, IssuedCode, OtpCode, digest_context};
use domain::{Method, PhoneNumber};
use storage::Account;

use crate::{AppState, WebError};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error(transparent)]
    Authenticator(#[from] AuthenticatorError),
    #[error("This verification method is not set up for your account.")]
    MethodNotAvailable,
    #[error("We couldn't send the SMS. Try again in a minute.")]
    SmsNotSent,
    #[error(transparent)]
    Internal(#[from] WebError),
}

pub fn phone_context(account_id: i64) -> String {
    format!("phone:{account_id}")
}

pub fn authenticator_context(account_id: i64) -> String {
    format!("authenticator:{account_id}")
}

pub fn account_phone(state: &AppState, account: &Account) -> Result<Option<PhoneNumber>, WebError> {
    account
        .phone_enc
        .as_deref()
        .map(|sealed| open_phone(state, account.id, sealed))
        .transpose()
}

pub fn open_phone(
    state: &AppState,
    account_id: i64,
    sealed: &[u8],
) -> Result<PhoneNumber, WebError> {
    let bytes = state
        .key
        .open(sealed, &phone_context(account_id))
        .map_err(WebError::internal)?;
    let e164 = String::from_utf8(bytes).map_err(WebError::internal)?;
    Ok(PhoneNumber::from_e164(&e164))
}

pub fn seal_phone(state: &AppState, account_id: i64, phone: &PhoneNumber) -> Vec<u8> {
    state
        .key
        .seal(phone.e164().as_bytes(), &phone_context(account_id))
}

/// Sends a fresh code for `purpose` to `phone`, replacing any earlier one, unless
/// the last one went out less than a minute ago.
pub async fn send_sms_code(
    state: &AppState,
    account_id: i64,
    purpose: CodePurpose,
    bound_to: &[u8],
    phone: &PhoneNumber,
) -> Result<(), VerifyError> {
    let now = state.now();
    if let Some(previous) = state
        .store
        .code(account_id, purpose)
        .await
        .map_err(WebError::from)?
    {
        previous.code.may_send_another(now)?;
    }
    let code = OtpCode::generate();
    let digest = state
        .key
        .code_digest(&digest_context(account_id, purpose), code.as_str());
    let issued = IssuedCode::new(
        purpose,
        digest,
        bound_to.to_vec(),
        now,
        state.settings.codes,
    );
    state
        .store
        .save_code(
            account_id,
            &issued,
            Some(seal_phone(state, account_id, phone)),
        )
        .await
        .map_err(WebError::from)?;
    let text = purpose.sms_text(
        &state.settings.service_name,
        &code,
        state.settings.codes.lifetime_seconds(),
    );
    let sms = delivery::Sms {
        to: phone.e164().to_owned(),
        text,
    };
    if let Err(error) = state.sms.send(&sms).await {
        tracing::error!(%error, purpose = purpose.as_str(), "SMS could not be sent");
        return Err(VerifyError::SmsNotSent);
    }
    Ok(())
}

/// Sends a new code to wherever the previous code for `purpose` went.
pub async fn resend_sms_code(
    state: &AppState,
    account_id: i64,
    purpose: CodePurpose,
    bound_to: &[u8],
) -> Result<(), VerifyError> {
    let stored = state
        .store
        .code(account_id, purpose)
        .await
        .map_err(WebError::from)?
        .ok_or(CodeError::NotRequested)?;
    let destination = stored.destination_enc.ok_or(CodeError::NotRequested)?;
    let phone = open_phone(state, account_id, &destination)?;
    send_sms_code(state, account_id, purpose, bound_to, &phone).await
}

/// How long until another code for `purpose` may be sent, as the page says it;
/// `None` once it may.
pub async fn resend_wait_message(
    state: &AppState,
    account_id: i64,
    purpose: CodePurpose,
) -> Result<Option<String>, WebError> {
    let stored = state.store.code(account_id, purpose).await?;
    Ok(stored
        .and_then(|stored| stored.code.may_send_another(state.now()).err())
        .map(|wait| format!("A code was sent less than a minute ago. {wait}")))
}

/// Checks an SMS code; on success returns the number it was sent to.
pub async fn check_sms_code(
    state: &AppState,
    account_id: i64,
    purpose: CodePurpose,
    bound_to: &[u8],
    input: &str,
) -> Result<PhoneNumber, VerifyError> {
    let entered = OtpCode::parse(input)?;
    let stored = state
        .store
        .code(account_id, purpose)
        .await
        .map_err(WebError::from)?
        .ok_or(CodeError::NotRequested)?;
    let before = stored.code.clone();
    let mut after = stored.code;
    let digest = state
        .key
        .code_digest(&digest_context(account_id, purpose), entered.as_str());
    let outcome = after.verify(purpose, &digest, bound_to, state.now());
    if after != before
        && !state
            .store
            .record_code_attempt(account_id, &before, &after)
            .await
            .map_err(WebError::from)?
    {
        // Another request changed this code first (a parallel attempt): never accept twice.
        return Err(CodeError::AlreadyUsed.into());
    }
    outcome?;
    let destination = stored.destination_enc.ok_or(CodeError::NotRequested)?;
    Ok(open_phone(state, account_id, &destination)?)
}

/// A second factor that passed its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an authenticator step left unclaimed would let its code be used again"]
pub enum Passed {
    /// An SMS code, already used up by its check.
    Sms,
    /// The step of an authenticator code, not yet claimed: whoever goes on must
    /// claim it with the store's compare-and-set, alone or with what it writes.
    AuthenticatorStep(i64),
}

impl Passed {
    pub fn authenticator_step(self) -> Option<i64> {
        match self {
            Self::Sms => None,
            Self::AuthenticatorStep(step) => Some(step),
        }
    }
}

async fn claim_authenticator_step(
    state: &AppState,
    account_id: i64,
    step: i64,
) -> Result<(), VerifyError> {
    if state
        .store
        .record_authenticator_use(account_id, step)
        .await
        .map_err(WebError::from)?
    {
        Ok(())
    } else {
        Err(AuthenticatorError::AlreadyUsed.into())
    }
}

/// Checks a code from the account's authenticator app (RFC 6238) and answers the
/// step it belongs to; a wrong code is counted here. The app's state comes with
/// the account, so the step must still be claimed: the compare-and-set that
/// records a used step keeps a code single-use however old that reading is.
async fn verify_authenticator_code(
    state: &AppState,
    account: &Account,
    input: &str,
) -> Result<i64, VerifyError> {
    let entered = OtpCode::parse(input)?;
    let account_id = account.id;
    let row = account
        .authenticator
        .as_ref()
        .ok_or(VerifyError::MethodNotAvailable)?;
    let secret_bytes = state
        .key
        .open(&row.secret_enc, &authenticator_context(account_id))
        .map_err(WebError::internal)?;
    let secret = AuthenticatorSecret::from_bytes(secret_bytes);
    let mut memory = AuthenticatorState {
        last_used_step: row.last_used_step,
        failed_step: row.failed_step,
        failed_count: row.failed_count as u32,
    };
    match authenticator::verify(&secret, &mut memory, &entered, state.now()) {
        Ok(step) => Ok(step),
        Err(error) => {
            if error == AuthenticatorError::WrongCode {
                state
                    .store
                    .record_authenticator_failure(account_id, memory.failed_step)
                    .await
                    .map_err(WebError::from)?;
            }
            Err(error.into())
        }
    }
}

/// The second step of a reset or an app connection, by either method: the code
/// is used up when this returns.
pub async fn check_second_factor(
    state: &AppState,
    account: &Account,
    method: Method,
    purpose: CodePurpose,
    bound_to: &[u8],
    input: &str,
) -> Result<(), VerifyError> {
    match verify_second_factor(state, account, method, purpose, bound_to, input).await? {
        Passed::Sms => Ok(()),
        Passed::AuthenticatorStep(step) => claim_authenticator_step(state, account.id, step).await,
    }
}

/// The second factor's check, leaving an authenticator step for the caller to
/// claim (the sign-in claims it in the transaction that starts the session).
pub async fn verify_second_factor(
    state: &AppState,
    account: &Account,
    method: Method,
    purpose: CodePurpose,
    bound_to: &[u8],
    input: &str,
) -> Result<Passed, VerifyError> {
    let two_step = two_step_of(account);
    if !two_step.offers(method) {
        return Err(VerifyError::MethodNotAvailable);
    }
    match method {
        Method::Sms => check_sms_code(state, account.id, purpose, bound_to, input)
            .await
            .map(|_| Passed::Sms),
        Method::Authenticator => verify_authenticator_code(state, account, input)
            .await
            .map(Passed::AuthenticatorStep),
    }
}

pub fn two_step_of(account: &Account) -> domain::TwoStep {
    domain::TwoStep::from_stored(account.phone_enc.is_some(), account.has_authenticator())
}
