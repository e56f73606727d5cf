//! Sending and checking second-factor codes, shared by the sign-in page, the
//! password reset, the security settings and the application API, so that every
//! entrance obeys the same expiry, attempt and replay rules. Every attempt is
//! reserved before it is checked: it takes its place in one conditional
//! statement, and an attempt that got none is refused unchecked.

use domain::authenticator::{self, AuthenticatorError, AuthenticatorSecret, AuthenticatorState};
use domain::digests::CodeBinding;
use domain::one_time_code::{
    CodeError, CodePurpose, IssuedCode, OtpCode, RESEND_AFTER_SECONDS, digest_context,
};
use domain::{AccountId, Method, PhoneNumber};
use storage::Account;

use crate::metrics::{Delivery, Limit};
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

pub fn phone_context(account_id: AccountId) -> String {
    format!("phone:{account_id}")
}

pub fn authenticator_context(account_id: AccountId) -> String {
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
    account_id: AccountId,
    sealed: &[u8],
) -> Result<PhoneNumber, WebError> {
    let bytes = state
        .key
        .open(sealed, &phone_context(account_id))
        .map_err(WebError::internal)?;
    let e164 = String::from_utf8(bytes).map_err(WebError::internal)?;
    Ok(PhoneNumber::from_e164(&e164))
}

pub fn seal_phone(state: &AppState, account_id: AccountId, phone: &PhoneNumber) -> Vec<u8> {
    state
        .key
        .seal(phone.e164().as_bytes(), &phone_context(account_id))
}

/// Sends a fresh code for `purpose` to `phone`, replacing any earlier one, unless
/// the last one went out less than a minute ago.
pub async fn send_sms_code(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
    bound_to: &CodeBinding,
    phone: &PhoneNumber,
) -> Result<(), VerifyError> {
    let now = state.now();
    if let Some(previous) = state
        .store
        .code(account_id, purpose)
        .await
        .map_err(WebError::from)?
    {
        previous
            .code
            .may_send_another(now)
            .inspect_err(|_| state.metrics.limit_hit(Limit::SmsResend))?;
    }
    let code = OtpCode::generate();
    let digest = state
        .key
        .code_digest(&digest_context(account_id, purpose), code.as_str());
    let issued = IssuedCode::new(purpose, digest, bound_to.clone(), now, state.settings.codes);
    // The read above gives the wait a person is told; this write is the limit.
    let saved = state
        .store
        .replace_code_sent_by(
            account_id,
            &issued,
            Some(seal_phone(state, account_id, phone)),
            IssuedCode::replaceable_if_issued_by(now),
        )
        .await
        .map_err(WebError::from)?;
    if !saved {
        return Err(CodeError::ResendTooSoon {
            wait_seconds: RESEND_AFTER_SECONDS,
        }
        .into());
    }
    let text = purpose.sms_text(
        &state.settings.service_name,
        &code,
        state.settings.codes.lifetime_seconds(),
    );
    let sms = delivery::Sms {
        to: phone.e164().to_owned(),
        text,
    };
    let sent = state.sms.send(&sms).await;
    state.metrics.sms_sent(Delivery::of(&sent));
    if let Err(error) = sent {
        tracing::error!(%error, purpose = purpose.as_str(), "SMS could not be sent");
        return Err(VerifyError::SmsNotSent);
    }
    Ok(())
}

/// Sends a new code to wherever the previous code for `purpose` went.
pub async fn resend_sms_code(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
    bound_to: &CodeBinding,
) -> Result<(), VerifyError> {
    let stored = requested_code(state, account_id, purpose).await?;
    let phone = phone_of(state, account_id, stored.destination_enc)?;
    send_sms_code(state, account_id, purpose, bound_to, &phone).await
}

/// The code last sent for `purpose`; none sent is `NotRequested`.
async fn requested_code(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
) -> Result<storage::StoredCode, VerifyError> {
    let stored = state
        .store
        .code(account_id, purpose)
        .await
        .map_err(WebError::from)?;
    Ok(stored.ok_or(CodeError::NotRequested)?)
}

/// The phone a code went to, opened from its sealed copy; a code without one
/// was never sent by SMS.
fn phone_of(
    state: &AppState,
    account_id: AccountId,
    destination: Option<Vec<u8>>,
) -> Result<PhoneNumber, VerifyError> {
    let destination = destination.ok_or(CodeError::NotRequested)?;
    Ok(open_phone(state, account_id, &destination)?)
}

/// How long until another code for `purpose` may be sent, as the page says it;
/// `None` once it may.
pub async fn resend_wait_message(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
) -> Result<Option<String>, WebError> {
    let stored = state.store.code(account_id, purpose).await?;
    Ok(stored
        .and_then(|stored| stored.code.may_send_another(state.now()).err())
        .map(|wait| format!("A code was sent less than a minute ago. {wait}")))
}

/// An SMS code that passed its check but is not used up yet: whoever goes on
/// uses it up with the store's compare-and-set, alone ([`check_sms_code`]) or in
/// the transaction of the change it allows (`Store::confirm_phone`).
#[derive(Debug)]
#[must_use = "an SMS code left unused up could be entered again"]
pub struct CheckedSmsCode {
    pub code: IssuedCode,
    /// The number the code was sent to.
    pub phone: PhoneNumber,
}

/// Checks an SMS code and uses it up; on success returns the number it was sent to.
pub async fn check_sms_code(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
    bound_to: &CodeBinding,
    input: &str,
) -> Result<PhoneNumber, VerifyError> {
    let checked = check_sms_code_unused(state, account_id, purpose, bound_to, input).await?;
    if state
        .store
        .consume_code(account_id, &checked.code)
        .await
        .map_err(WebError::from)?
    {
        Ok(checked.phone)
    } else {
        // A parallel request with the same code used it up first: never accept twice.
        Err(CodeError::AlreadyUsed.into())
    }
}

/// Reserve, then check: the entry first takes its place among the code's five
/// (`Store::reserve_code_entry`, one statement), and only an entry that got one
/// is compared with the code. A wrong entry keeps its place; the right one gives
/// it back when the caller uses the code up.
pub async fn check_sms_code_unused(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
    bound_to: &CodeBinding,
    input: &str,
) -> Result<CheckedSmsCode, VerifyError> {
    let entered = OtpCode::parse(input)?;
    let now = state.now();
    let reserved = state
        .store
        .reserve_code_entry(account_id, purpose, bound_to, now)
        .await
        .map_err(WebError::from)?;
    let Some(stored) = reserved else {
        // No place, so the entry is not checked; the stored code only says why.
        let stored = requested_code(state, account_id, purpose).await?;
        stored.code.may_take_entry(purpose, bound_to, now)?;
        // It changed between the two statements: a parallel request used it up.
        return Err(CodeError::AlreadyUsed.into());
    };
    let digest = state.key.code_digest_for(
        &stored.code.digest,
        &digest_context(account_id, purpose),
        entered.as_str(),
    );
    let mut code = stored.code;
    code.check_reserved(&digest)?;
    let phone = phone_of(state, account_id, stored.destination_enc)?;
    Ok(CheckedSmsCode { code, phone })
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
    account_id: AccountId,
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
/// step it belongs to, not yet claimed. Reserve, then check: the attempt first
/// takes its place among the current step's three
/// (`Store::reserve_authenticator_attempt`, one statement, which also reads the
/// app's state as it is now), and only an attempt that got one is checked.
async fn verify_authenticator_code(
    state: &AppState,
    account: &Account,
    input: &str,
) -> Result<i64, VerifyError> {
    let entered = OtpCode::parse(input)?;
    let account_id = account.id;
    if !account.has_authenticator() {
        return Err(VerifyError::MethodNotAvailable);
    }
    let now = state.now();
    let current_step = authenticator::step_at(now);
    let reserved = state
        .store
        .reserve_authenticator_attempt(account_id, current_step)
        .await
        .map_err(WebError::from)?;
    let Some(row) = reserved else {
        // No place, so the code is not checked; the stored state only says why.
        let row = state
            .store
            .authenticator(account_id)
            .await
            .map_err(WebError::from)?
            .ok_or(VerifyError::MethodNotAvailable)?;
        authenticator::may_attempt(&memory_of(&row), now)?;
        // The store refused a place the row read afterwards seems to have: the
        // step's attempts were spent meanwhile.
        return Err(authenticator::too_many_attempts(now).into());
    };
    let secret_bytes = state
        .key
        .open(&row.secret_enc, &authenticator_context(account_id))
        .map_err(WebError::internal)?;
    let secret = AuthenticatorSecret::from_bytes(secret_bytes);
    let mut memory = memory_of(&row);
    match authenticator::check_reserved(&secret, &mut memory, &entered, now) {
        Ok(step) => Ok(step),
        Err(AuthenticatorError::AlreadyUsed) => {
            state
                .store
                .release_authenticator_attempt(account_id, current_step)
                .await
                .map_err(WebError::from)?;
            Err(AuthenticatorError::AlreadyUsed.into())
        }
        Err(error) => Err(error.into()),
    }
}

fn memory_of(row: &storage::AuthenticatorRow) -> AuthenticatorState {
    AuthenticatorState {
        last_used_step: row.last_used_step,
        failed_step: row.failed_step,
        // A count that does not fit reads as "too many", the safe side.
        failed_count: u32::try_from(row.failed_count).unwrap_or(u32::MAX),
    }
}

/// A second-factor code as it was entered: by which method, for what, bound to
/// which half-finished flow (the code is only good for that one).
pub struct SecondFactor<'a> {
    pub method: Method,
    pub purpose: CodePurpose,
    pub binding: CodeBinding,
    pub input: &'a str,
}

/// The second step of a reset or an app connection, by either method: the code
/// is used up when this returns.
pub async fn check_second_factor(
    state: &AppState,
    account: &Account,
    entry: SecondFactor<'_>,
) -> Result<(), VerifyError> {
    match verify_second_factor(state, account, entry).await? {
        Passed::Sms => Ok(()),
        Passed::AuthenticatorStep(step) => claim_authenticator_step(state, account.id, step).await,
    }
}

/// The second factor's check, leaving an authenticator step for the caller to
/// claim (the sign-in claims it in the transaction that starts the session).
pub async fn verify_second_factor(
    state: &AppState,
    account: &Account,
    entry: SecondFactor<'_>,
) -> Result<Passed, VerifyError> {
    let SecondFactor {
        method,
        purpose,
        binding,
        input,
    } = entry;
    let two_step = two_step_of(account);
    if !two_step.offers(method) {
        return Err(VerifyError::MethodNotAvailable);
    }
    let passed = match method {
        Method::Sms => check_sms_code(state, account.id, purpose, &binding, input)
            .await
            .map(|_| Passed::Sms),
        Method::Authenticator => verify_authenticator_code(state, account, input)
            .await
            .map(Passed::AuthenticatorStep),
    };
    state.metrics.second_step(method, &passed);
    passed
}

pub fn two_step_of(account: &Account) -> domain::TwoStep {
    domain::TwoStep::from_stored(account.phone_enc.is_some(), account.has_authenticator())
}
