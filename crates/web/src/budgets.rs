//! The web side of `domain::budgets`: whom a budget counts (keyed digests of
//! the client IP, the address, the number), taking a place, and telling the
//! operator of each refusal.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::budgets::{BudgetFull, Rule};
use domain::digests::SubjectDigest;

use crate::metrics::Limit;
use crate::{AppState, WebError};

/// The client's address, as `session::peer` reads it (the one place that
/// knows about proxies); `None` for a server started without connect info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(crate::session::peer(parts)))
    }
}

impl ClientIp {
    /// What a per-IP budget counts: an IPv6 client is its /64, which one
    /// subscriber usually holds whole, so that walking through it gains
    /// nothing. Clients of unknown address share one budget.
    pub fn subject(self) -> String {
        match self.0.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V6(ip)) => {
                let [a, b, c, d, ..] = ip.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
            Some(ip) => ip.to_string(),
            None => "unknown".into(),
        }
    }
}

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
