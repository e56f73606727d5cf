//! The web side of `domain::budgets`: whom a budget counts (keyed digests of
//! the client IP, the address, the number), taking a place, and telling the
//! operator of each refusal.

use domain::budgets::{BudgetFull, Rule};
use domain::digests::SubjectDigest;

use crate::metrics::Limit;
use crate::{AppState, WebError};

/// What a rule counts `subject` as in the store.
pub fn subject(state: &AppState, rule: Rule, subject: &str) -> SubjectDigest {
    state.key.subject_digest(rule.as_str(), subject)
}

/// Takes a place in `rule`'s budget for `subject`; a full one is logged for
/// the operator and counted.
pub async fn reserve(
    state: &AppState,
    rule: Rule,
    subject_text: &str,
) -> Result<Result<(), BudgetFull>, WebError> {
    let subject = subject(state, rule, subject_text);
    let claim = storage::Claim {
        budget: state.settings.limits.budget(rule),
        subject: &subject,
    };
    let reserved = state.store.reserve_budget(claim, state.now()).await?;
    if let Err(full) = reserved {
        tracing::warn!(
            rule = rule.as_str(),
            retry_after_seconds = full.retry_after_seconds,
            "refused: budget full"
        );
        state.metrics.limit_hit(Limit::Budget(rule));
    }
    Ok(reserved)
}
