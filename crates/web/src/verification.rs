//! Sending and checking second-factor codes, shared by the sign-in page, the
//! password reset, the security settings and the application API, so that every
//! entrance obeys the same expiry, attempt and replay rules. Every attempt is
//! reserved before it is checked: it takes its place in one conditional
//! statement, and an attempt that got none is refused unchecked.

use domain::account::SecurityEvent;
use domain::authenticator::{self, AuthenticatorError, AuthenticatorSecret, AuthenticatorState};
use domain::digests::CodeBinding;
use domain::lockout::SecondStepLocked;
use domain::one_time_code::{CodeError, CodePurpose, IssuedCode, OtpCode, digest_context};
use domain::recovery_codes::{RecoveryCode, RecoveryCodeError};
use domain::sms_guard::SmsRefused;
use domain::{AccountId, Method, PhoneNumber};
use storage::Account;

use crate::clock::format_time;
use crate::metrics::{Delivery, Limit};
use crate::session::Requester;
use crate::sms_guard::{self, SmsRequest};
use crate::{AppState, WebError, security_events};

mod account_wide;

pub use account_wide::AccountWidePlace;
use account_wide::someone_has_the_password;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error(transparent)]
    Authenticator(#[from] AuthenticatorError),
    #[error(transparent)]
    RecoveryCode(#[from] RecoveryCodeError),
    #[error("This verification method is not set up for your account.")]
    MethodNotAvailable,
    #[error("We couldn't send the SMS. Try again in a minute.")]
    SmsNotSent,
    /// Too many wrong codes in a row for the account, across methods and
    /// entrances: every method waits until the lock ends.
    #[error(
        "Too many wrong codes. For your security, two-step verification is locked until {}. Try again then.",
        format_time(.0.until)
    )]
    Locked(SecondStepLocked),
    #[error(transparent)]
    SmsRefused(#[from] SmsRefused),
    #[error(transparent)]
    Internal(#[from] WebError),
}

pub fn phone_context(account_id: AccountId) -> String {
    format!("phone:{account_id}")
}

pub fn authenticator_context(account_id: AccountId) -> String {
    format!("authenticator:{account_id}")
}

pub fn recovery_code_context(account_id: AccountId) -> String {
    format!("recovery:{account_id}")
}

/// The keyed digest the store keeps of one of the account's recovery codes,
/// made under the current key.
pub fn recovery_code_digest(
    state: &AppState,
    account_id: AccountId,
    code: &RecoveryCode,
) -> domain::digests::CodeDigest {
    state
        .key
        .code_digest(&recovery_code_context(account_id), code.as_str())
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

/// Sends a fresh code for `purpose` to `phone`, replacing any earlier one,
/// unless the last one went out less than a minute ago or the SMS guard
/// refuses it (`sms_guard`: the number, its country, the budgets).
pub async fn send_sms_code(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
    bound_to: &CodeBinding,
    phone: &PhoneNumber,
    client: &Requester,
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
    let request = SmsRequest {
        account_id,
        phone,
        client,
    };
    sms_guard::screen(state, request).await?;
    let code = OtpCode::generate();
    let digest = state
        .key
        .code_digest(&digest_context(account_id, purpose), code.as_str());
    let issued = IssuedCode::new(purpose, digest, bound_to.clone(), now, state.settings.codes);
    // The read above gives the wait a person is told; this write is the limit,
    // together with every SMS budget.
    sms_guard::save_code(
        state,
        request,
        &issued,
        &seal_phone(state, account_id, phone),
        IssuedCode::replaceable_if_issued_by(now),
    )
    .await?;
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
    client: &Requester,
) -> Result<(), VerifyError> {
    let stored = requested_code(state, account_id, purpose).await?;
    let phone = phone_of(state, account_id, stored.destination_enc)?;
    send_sms_code(state, account_id, purpose, bound_to, &phone, client).await
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
/// uses it up with the store's compare-and-set, alone ([`use_up_sms_code`]) or in
/// the transaction of the change it allows (`Store::confirm_phone`).
#[derive(Debug)]
#[must_use = "an SMS code left unused up could be entered again"]
pub struct CheckedSmsCode {
    pub code: IssuedCode,
    /// The number the code was sent to.
    pub phone: PhoneNumber,
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
    check_sms_entry(state, account_id, purpose, bound_to, input, None).await?
}

/// A code's check in two layers: the outer error refuses it before any
/// comparison (malformed, expired, no place left: it was never compared), the
/// inner result is the comparison's. Only a compared wrong code counts against
/// the account ([`AccountWidePlace`]).
pub type Checked<T> = Result<Result<T, VerifyError>, VerifyError>;

/// [`check_sms_code_unused`], telling a compared wrong code from a refusal.
/// With `account_wide`, an entry that got its place among the code's five then
/// takes one in the account's count before it is compared.
async fn check_sms_entry(
    state: &AppState,
    account_id: AccountId,
    purpose: CodePurpose,
    bound_to: &CodeBinding,
    input: &str,
    account_wide: Option<&mut AccountWidePlace<'_>>,
) -> Checked<CheckedSmsCode> {
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
    if let Some(account_wide) = account_wide
        && let Err(locked) = account_wide.take().await
    {
        state
            .store
            .release_code_entry(account_id, purpose, stored.code.issued_at)
            .await
            .map_err(WebError::from)?;
        return Err(locked);
    }
    let digest = state.key.code_digest_for(
        &stored.code.digest,
        &digest_context(account_id, purpose),
        entered.as_str(),
    );
    let mut code = stored.code;
    if let Err(wrong) = code.check_reserved(&digest) {
        return Ok(Err(wrong.into()));
    }
    // The conversion guard's figure: this code reached a person.
    state
        .store
        .mark_sms_entered(account_id, purpose, code.issued_at)
        .await
        .map_err(WebError::from)?;
    let phone = phone_of(state, account_id, stored.destination_enc)?;
    Ok(Ok(CheckedSmsCode { code, phone }))
}

/// A second factor that passed its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an authenticator step left unclaimed would let its code be used again"]
pub enum Passed {
    /// An SMS code, already used up by its check.
    Sms,
    /// A recovery code, already used up by its check (and the owner told).
    RecoveryCode,
    /// The step of an authenticator code, not yet claimed: whoever goes on must
    /// claim it with the store's compare-and-set, alone or with what it writes.
    AuthenticatorStep(i64),
}

impl Passed {
    pub fn authenticator_step(self) -> Option<i64> {
        match self {
            Self::Sms | Self::RecoveryCode => None,
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
    account_wide: &mut AccountWidePlace<'_>,
) -> Checked<i64> {
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
    if let Err(locked) = account_wide.take().await {
        state
            .store
            .release_authenticator_attempt(account_id, current_step)
            .await
            .map_err(WebError::from)?;
        return Err(locked);
    }
    let secret_bytes = state
        .key
        .open(&row.secret_enc, &authenticator_context(account_id))
        .map_err(WebError::internal)?;
    let secret = AuthenticatorSecret::from_bytes(secret_bytes);
    let mut memory = memory_of(&row);
    match authenticator::check_reserved(&secret, &mut memory, &entered, now) {
        Ok(step) => Ok(Ok(step)),
        // The right code, replayed: refused, but not a guess.
        Err(AuthenticatorError::AlreadyUsed) => {
            state
                .store
                .release_authenticator_attempt(account_id, current_step)
                .await
                .map_err(WebError::from)?;
            Err(AuthenticatorError::AlreadyUsed.into())
        }
        Err(wrong) => Ok(Err(wrong.into())),
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
/// which half-finished flow (the code is only good for that one), and by whom.
pub struct SecondFactor<'a> {
    pub method: Method,
    pub purpose: CodePurpose,
    pub binding: CodeBinding,
    pub input: &'a str,
    pub from: &'a Requester,
}

/// The second step of a reset or an app connection, by either method: the code
/// is used up when this returns.
pub async fn check_second_factor(
    state: &AppState,
    account: &Account,
    entry: SecondFactor<'_>,
) -> Result<(), VerifyError> {
    match verify_second_factor(state, account, entry).await? {
        Passed::Sms | Passed::RecoveryCode => Ok(()),
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
        from,
    } = entry;
    let two_step = two_step_of(account);
    if !two_step.offers(method) {
        return Err(VerifyError::MethodNotAvailable);
    }
    // Every method's code passes through the one place that counts wrong ones.
    let mut account_wide = AccountWidePlace::new(state, account.id);
    let checked = async {
        match method {
            Method::Sms => {
                let entry = check_sms_entry(
                    state,
                    account.id,
                    purpose,
                    &binding,
                    input,
                    Some(&mut account_wide),
                );
                match entry.await? {
                    Ok(checked) => use_up_sms_code(state, account.id, checked)
                        .await
                        .map(|_| Ok(Passed::Sms)),
                    Err(wrong) => Ok(Err(wrong)),
                }
            }
            Method::Authenticator => {
                let code = verify_authenticator_code(state, account, input, &mut account_wide);
                Ok(code.await?.map(Passed::AuthenticatorStep))
            }
            Method::RecoveryCode => {
                let code = use_recovery_code(state, account, input, &mut account_wide);
                Ok(code.await?.map(|_| Passed::RecoveryCode))
            }
        }
    }
    .await;
    let checked = account_wide.count(account, checked).await;
    // Only a sign-in (on the page or by an application) got past the password.
    if matches!(checked, Ok(Err(_)))
        && matches!(purpose, CodePurpose::SignIn | CodePurpose::ConnectApp)
    {
        someone_has_the_password(state, account, from).await?;
    }
    let passed = checked.and_then(|inner| inner);
    state.metrics.second_step(method, &passed);
    passed
}

/// Uses up an SMS code that passed its check; a parallel request with the same
/// code that used it up first wins, and this one is refused: never accepted twice.
async fn use_up_sms_code(
    state: &AppState,
    account_id: AccountId,
    checked: CheckedSmsCode,
) -> Result<PhoneNumber, VerifyError> {
    if state
        .store
        .consume_code(account_id, &checked.code)
        .await
        .map_err(WebError::from)?
    {
        Ok(checked.phone)
    } else {
        Err(CodeError::AlreadyUsed.into())
    }
}

/// Uses one of the account's recovery codes: the store's compare-and-set marks
/// it used (and forgets every remembered device) once, whoever races with it.
/// With 60 random bits a code is not guessed, so no attempt is reserved here
/// beyond the account-wide count of wrong second-step codes. A set outlives
/// key changes, so the code is looked for under each key of the ring, the
/// current first (a rotation keeps every key unused codes need). The owner is
/// told at once, with how many codes remain; answers that number.
async fn use_recovery_code(
    state: &AppState,
    account: &Account,
    input: &str,
    account_wide: &mut AccountWidePlace<'_>,
) -> Checked<i64> {
    // A malformed code is refused before any comparison.
    let code = RecoveryCode::parse(input)?;
    account_wide.take().await?;
    let context = recovery_code_context(account.id);
    let mut used = None;
    for (_, digest) in state.key.code_digests(&context, code.as_str()) {
        used = state
            .store
            .use_recovery_code(account.id, &digest, state.now())
            .await
            .map_err(WebError::from)?;
        if used.is_some() {
            break;
        }
    }
    let Some(remaining) = used else {
        return Ok(Err(RecoveryCodeError::WrongOrUsed.into()));
    };
    tracing::info!(
        account_id = account.id.get(),
        remaining,
        "recovery code used"
    );
    security_events::record(
        state,
        account,
        SecurityEvent::RecoveryCodeUsed { remaining },
    )
    .await?;
    Ok(Ok(remaining))
}

pub fn two_step_of(account: &Account) -> domain::TwoStep {
    account.two_step()
}
