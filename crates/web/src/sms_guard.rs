//! The SMS guard around every code texted: the number must take SMS and be in
//! an allowed country, its calling code must not be held by the conversion
//! guard, and the code is saved only together with a place in each of the six
//! budgets (`domain::budgets::Rule::SMS`), in one transaction. Every refusal is
//! logged for the operator with the number masked; a full budget or a held
//! calling code is also a security event of the account (`SmsRefusal`), at most
//! one per account and rule in an interval, claimed before it is recorded.

use domain::account::SecurityEvent;
use domain::budgets::{BudgetFull, Rule, SmsRefusal};
use domain::sms_guard::{SmsRefused, may_text};
use domain::{AccountId, IssuedCode, PhoneNumber};
use storage::{Claim, SmsReservation};

use crate::budgets::subject;
use crate::metrics::Limit;
use crate::session::Requester;
use crate::verification::VerifyError;
use crate::{AppState, WebError};

/// Who asks for an SMS, and to which number.
#[derive(Debug, Clone, Copy)]
pub struct SmsRequest<'a> {
    pub account_id: AccountId,
    pub phone: &'a PhoneNumber,
    pub client: &'a Requester,
}

impl SmsRequest<'_> {
    fn calling_code(&self) -> String {
        self.phone.calling_code().to_string()
    }

    /// What each SMS budget counts this request as.
    fn subject(&self, rule: Rule) -> String {
        match rule {
            Rule::SmsPerAccountHour | Rule::SmsPerAccountDay => self.account_id.to_string(),
            Rule::SmsPerNumber => self.phone.e164().to_owned(),
            Rule::SmsPerPrefix => self.phone.prefix().to_owned(),
            Rule::SmsPerClientIp => self.client.budget_subject(),
            Rule::SmsPerCallingCode => self.calling_code(),
            Rule::SignUpPerClientIp | Rule::ResetEmailPerAddress => {
                unreachable!("not an SMS budget")
            }
        }
    }

    /// The operator's view of a refusal: the rule, never the whole number.
    fn log_refusal(&self, rule: &str, retry_after_seconds: i64) {
        tracing::warn!(
            rule,
            account_id = self.account_id.get(),
            number = %self.phone.masked(),
            client_ip = %self.client.budget_subject(),
            retry_after_seconds,
            "SMS refused"
        );
    }
}

/// Shows the owner that an SMS for their account was refused, unless an event
/// for the same rule does already (`Limits::refusal_event_interval_seconds`):
/// a flood of refused requests adds one line to Recent security events.
async fn record_refusal(
    state: &AppState,
    request: SmsRequest<'_>,
    refusal: SmsRefusal,
    retry_after_seconds: i64,
) -> Result<(), WebError> {
    let now = state.now();
    let event = SecurityEvent::SmsRefused {
        refusal,
        ip: request.client.ip_text(),
        minutes: domain::throttle::minutes(retry_after_seconds),
    };
    state
        .store
        .record_sms_refusal_event(
            request.account_id,
            refusal.as_str(),
            event.kind(),
            &event.summary(),
            now,
            state.settings.limits.refusal_events_stand_since(now),
        )
        .await?;
    Ok(())
}

/// The checks before any budget: the kind of line, the country, the
/// conversion guard.
pub async fn screen(state: &AppState, request: SmsRequest<'_>) -> Result<(), VerifyError> {
    if let Err(refused) = may_text(request.phone, &state.settings.allowed_countries) {
        let rule = match refused {
            SmsRefused::CountryNotAllowed => "allowed_countries",
            _ => "sms_line_type",
        };
        request.log_refusal(rule, 0);
        state.metrics.limit_hit(Limit::SmsDestination);
        return Err(refused.into());
    }
    let now = state.now();
    let calling_code = request.calling_code();
    let held_until = state
        .store
        .sms_held_until(&calling_code)
        .await
        .map_err(WebError::from)?;
    let hold = match held_until {
        Some(until) if until > now => Some(until),
        _ => conversion_guard(state, &calling_code, held_until.unwrap_or(0), now).await?,
    };
    if let Some(until) = hold {
        request.log_refusal(SmsRefusal::ConversionHold.as_str(), until - now);
        state.metrics.limit_hit(Limit::SmsConversionHold);
        record_refusal(state, request, SmsRefusal::ConversionHold, until - now).await?;
        return Err(SmsRefused::TooManyCodes {
            retry_after_seconds: until - now,
        }
        .into());
    }
    Ok(())
}

/// Judges the codes sent to `calling_code` since `since` (the end of its last
/// hold); answers until when SMS to it are held, if they now are.
async fn conversion_guard(
    state: &AppState,
    calling_code: &str,
    since: i64,
    now: i64,
) -> Result<Option<i64>, WebError> {
    let guard = state.settings.limits.conversion;
    let figures = state
        .store
        .sms_conversion(calling_code, since, guard.sample)
        .await?;
    if !guard.holds(figures) {
        return Ok(None);
    }
    let until = now + guard.hold_seconds;
    if state
        .store
        .hold_sms(calling_code, until, figures, now)
        .await?
    {
        tracing::warn!(
            calling_code,
            sent = figures.sent,
            entered = figures.entered,
            entered_percent = figures.entered * 100 / figures.sent.max(1),
            min_entered_percent = guard.min_entered_percent,
            held_until = until,
            "conversion guard: SMS to this calling code held, its codes are hardly ever entered"
        );
    }
    Ok(Some(until))
}

/// Saves `code` with a place in every SMS budget, or nothing: too soon after
/// the last code for its purpose, or a full budget (logged, with how long).
pub async fn save_code(
    state: &AppState,
    request: SmsRequest<'_>,
    code: &IssuedCode,
    destination_enc: &[u8],
    sent_by: i64,
) -> Result<(), VerifyError> {
    let subjects: Vec<_> = Rule::SMS
        .into_iter()
        .map(|rule| (rule, subject(state, rule, &request.subject(rule))))
        .collect();
    let claims: Vec<_> = subjects
        .iter()
        .map(|(rule, subject)| Claim {
            budget: state.settings.limits.budget(*rule),
            subject,
        })
        .collect();
    let reservation = state
        .store
        .save_code_within_budgets(
            request.account_id,
            code,
            Some(destination_enc),
            sent_by,
            &claims,
            &request.calling_code(),
        )
        .await
        .map_err(WebError::from)?;
    match reservation {
        SmsReservation::Saved => Ok(()),
        SmsReservation::TooSoon => {
            request.log_refusal("sms_resend", domain::one_time_code::RESEND_AFTER_SECONDS);
            state.metrics.limit_hit(Limit::SmsResend);
            Err(domain::CodeError::ResendTooSoon {
                wait_seconds: domain::one_time_code::RESEND_AFTER_SECONDS,
            }
            .into())
        }
        SmsReservation::Full(BudgetFull {
            rule,
            retry_after_seconds,
        }) => {
            request.log_refusal(rule.as_str(), retry_after_seconds);
            state.metrics.limit_hit(Limit::Budget(rule));
            record_refusal(
                state,
                request,
                SmsRefusal::Budget(rule),
                retry_after_seconds,
            )
            .await?;
            Err(SmsRefused::TooManyCodes {
                retry_after_seconds,
            }
            .into())
        }
    }
}
