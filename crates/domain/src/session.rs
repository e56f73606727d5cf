//! How long sessions, half-finished sign-ins, password confirmations and reset
//! links live.

use crate::UnixTime;

/// A sign-in that passed the password but not yet the code.
pub const PENDING_SIGN_IN_LIFETIME_SECONDS: i64 = 10 * 60;
/// How long an entered password unlocks security changes (set up, change number,
/// turn off) before it is asked again.
pub const PASSWORD_CONFIRMATION_LIFETIME_SECONDS: i64 = 10 * 60;
/// A secret shown on the set-up page but not yet confirmed by a code.
pub const AUTHENTICATOR_ENROLMENT_LIFETIME_SECONDS: i64 = 10 * 60;
pub const PASSWORD_RESET_LINK_LIFETIME_SECONDS: i64 = 60 * 60;
/// `last_seen` is written at most this often, so that reading pages does not
/// turn every request into a database write.
pub const LAST_SEEN_PRECISION_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_timeout_seconds: i64,
    pub absolute_timeout_seconds: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout_seconds: 30 * 60,
            absolute_timeout_seconds: 12 * 60 * 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active { touch: bool },
    IdleExpired,
    AbsoluteExpired,
}

impl SessionPolicy {
    pub fn state(
        &self,
        created_at: UnixTime,
        last_seen_at: UnixTime,
        now: UnixTime,
    ) -> SessionState {
        if now - created_at >= self.absolute_timeout_seconds {
            SessionState::AbsoluteExpired
        } else if now - last_seen_at >= self.idle_timeout_seconds {
            SessionState::IdleExpired
        } else {
            SessionState::Active {
                touch: now - last_seen_at >= LAST_SEEN_PRECISION_SECONDS,
            }
        }
    }
}

pub fn pending_sign_in_is_live(created_at: UnixTime, now: UnixTime) -> bool {
    now - created_at < PENDING_SIGN_IN_LIFETIME_SECONDS
}

pub fn password_confirmation_is_fresh(confirmed_at: Option<UnixTime>, now: UnixTime) -> bool {
    confirmed_at.is_some_and(|at| now - at < PASSWORD_CONFIRMATION_LIFETIME_SECONDS && now >= at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_800_000_000;

    #[test]
    fn a_session_ends_after_thirty_idle_minutes() {
        let policy = SessionPolicy::default();
        assert_eq!(
            policy.state(T0, T0, T0 + 29 * 60),
            SessionState::Active { touch: true }
        );
        assert_eq!(
            policy.state(T0, T0, T0 + 30 * 60),
            SessionState::IdleExpired
        );
    }

    #[test]
    fn a_session_ends_after_twelve_hours_even_when_used() {
        let policy = SessionPolicy::default();
        let now = T0 + 12 * 3600;
        assert_eq!(
            policy.state(T0, now - 5, now),
            SessionState::AbsoluteExpired
        );
        assert!(matches!(
            policy.state(T0, now - 5, now - 1),
            SessionState::Active { .. }
        ));
    }

    #[test]
    fn last_seen_is_written_at_most_once_a_minute() {
        let policy = SessionPolicy::default();
        assert_eq!(
            policy.state(T0, T0, T0 + 59),
            SessionState::Active { touch: false }
        );
        assert_eq!(
            policy.state(T0, T0, T0 + 60),
            SessionState::Active { touch: true }
        );
    }

    #[test]
    fn a_half_finished_sign_in_expires_after_ten_minutes() {
        assert!(pending_sign_in_is_live(T0, T0 + 599));
        assert!(!pending_sign_in_is_live(T0, T0 + 600));
    }

    #[test]
    fn a_password_confirmation_unlocks_changes_for_ten_minutes() {
        assert!(password_confirmation_is_fresh(Some(T0), T0 + 599));
        assert!(!password_confirmation_is_fresh(Some(T0), T0 + 600));
        assert!(!password_confirmation_is_fresh(None, T0));
        assert!(
            !password_confirmation_is_fresh(Some(T0 + 10), T0),
            "a confirmation from the future is not trusted"
        );
    }
}
