//! Confirmed e-mail addresses: an address belongs to whoever can read its mail.
//!
//! A sign-up e-mails a link that confirms the address; until then the account
//! may sign in but neither set up two-step verification nor connect an
//! application, and it is deleted once it has waited too long.

use crate::UnixTime;

/// How long each step of confirming an address may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmationPolicy {
    /// A confirmation link works once, within this time.
    pub link_lifetime_seconds: i64,
    /// "Send the link again" sends at most one e-mail in this time.
    pub resend_interval_seconds: i64,
    /// An account whose address is not confirmed within this time is deleted.
    pub unconfirmed_account_lifetime_seconds: i64,
}

impl Default for ConfirmationPolicy {
    fn default() -> Self {
        Self {
            link_lifetime_seconds: 24 * 60 * 60,
            resend_interval_seconds: 60,
            unconfirmed_account_lifetime_seconds: 7 * 24 * 60 * 60,
        }
    }
}

impl ConfirmationPolicy {
    /// When a link made at `now` stops working.
    pub fn link_expires_at(&self, now: UnixTime) -> UnixTime {
        now + self.link_lifetime_seconds
    }

    /// A link made at or before this time may be replaced by a new one.
    pub fn resend_allowed_before(&self, now: UnixTime) -> UnixTime {
        now - self.resend_interval_seconds
    }

    /// Accounts unconfirmed since this time or earlier are deleted.
    pub fn unconfirmed_deleted_since(&self, now: UnixTime) -> UnixTime {
        now - self.unconfirmed_account_lifetime_seconds
    }

    pub fn link_is_live(&self, expires_at: UnixTime, now: UnixTime) -> bool {
        now < expires_at
    }

    pub fn account_is_expired(&self, unconfirmed_since: UnixTime, now: UnixTime) -> bool {
        unconfirmed_since <= self.unconfirmed_deleted_since(now)
    }
}

/// Whether an account's address is confirmed: `unconfirmed_since` is set at
/// sign-up and cleared by the link (accounts from before confirmation existed,
/// and those an operator created, have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressState {
    Confirmed,
    Unconfirmed { since: UnixTime },
}

impl AddressState {
    pub fn of(unconfirmed_since: Option<UnixTime>) -> Self {
        match unconfirmed_since {
            None => Self::Confirmed,
            Some(since) => Self::Unconfirmed { since },
        }
    }

    pub fn is_confirmed(self) -> bool {
        self == Self::Confirmed
    }

    /// What an unconfirmed address keeps closed: two-step set-up and connecting
    /// applications, so that nobody can tie their phone or their apps to an
    /// address that is not theirs.
    pub fn may_set_up_two_step_or_connect_apps(self) -> Result<(), AddressNotConfirmed> {
        match self {
            Self::Confirmed => Ok(()),
            Self::Unconfirmed { .. } => Err(AddressNotConfirmed),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "Confirm your e-mail address first: open the link in the e-mail we sent you. No e-mail? Use Send the link again at the top of the page."
)]
pub struct AddressNotConfirmed;

/// Application tokens expire after this long without use, unless configured.
pub const DEFAULT_TOKEN_IDLE_LIFETIME_SECONDS: i64 = 90 * 24 * 60 * 60;

/// Whether a token last used at `last_used_at` still works at `now`.
pub fn token_is_live(last_used_at: UnixTime, idle_lifetime_seconds: i64, now: UnixTime) -> bool {
    last_used_at > token_unused_since(idle_lifetime_seconds, now)
}

/// A token last used at this time or earlier has expired at `now` (the
/// condition the store's update of its last use carries).
pub fn token_unused_since(idle_lifetime_seconds: i64, now: UnixTime) -> UnixTime {
    now - idle_lifetime_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_700_000_000;
    const DAY: i64 = 24 * 60 * 60;

    #[test]
    fn a_link_works_for_24_hours_and_not_a_second_longer() {
        let policy = ConfirmationPolicy::default();
        let expires = policy.link_expires_at(T0);
        assert!(policy.link_is_live(expires, T0));
        assert!(policy.link_is_live(expires, T0 + DAY - 1));
        assert!(!policy.link_is_live(expires, T0 + DAY));
        assert!(!policy.link_is_live(expires, T0 + 2 * DAY));
    }

    #[test]
    fn an_unconfirmed_account_lives_seven_days() {
        let policy = ConfirmationPolicy::default();
        assert!(!policy.account_is_expired(T0, T0));
        assert!(!policy.account_is_expired(T0, T0 + 7 * DAY - 1));
        assert!(policy.account_is_expired(T0, T0 + 7 * DAY));
        assert_eq!(policy.unconfirmed_deleted_since(T0 + 7 * DAY), T0);
    }

    #[test]
    fn a_new_link_may_follow_the_last_after_the_interval() {
        let policy = ConfirmationPolicy {
            resend_interval_seconds: 120,
            ..ConfirmationPolicy::default()
        };
        // The store replaces a link made at or before this time.
        assert_eq!(policy.resend_allowed_before(T0 + 120), T0);
        assert!(policy.resend_allowed_before(T0 + 119) < T0);
    }

    #[test]
    fn only_a_confirmed_address_may_set_up_two_step_or_connect_apps() {
        assert_eq!(AddressState::of(None), AddressState::Confirmed);
        assert!(
            AddressState::of(None)
                .may_set_up_two_step_or_connect_apps()
                .is_ok()
        );
        let unconfirmed = AddressState::of(Some(T0));
        assert!(!unconfirmed.is_confirmed());
        assert_eq!(
            unconfirmed.may_set_up_two_step_or_connect_apps(),
            Err(AddressNotConfirmed)
        );
    }

    #[test]
    fn a_token_expires_after_its_idle_lifetime_without_use() {
        let lifetime = DEFAULT_TOKEN_IDLE_LIFETIME_SECONDS;
        assert_eq!(lifetime, 90 * DAY);
        assert!(token_is_live(T0, lifetime, T0));
        assert!(token_is_live(T0, lifetime, T0 + lifetime - 1));
        assert!(!token_is_live(T0, lifetime, T0 + lifetime));
        assert!(token_is_live(T0, 10, T0 + 9));
        assert!(!token_is_live(T0, 10, T0 + 10));
    }
}
