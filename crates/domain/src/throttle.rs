//! Limited password attempts, counted so that an attacker can neither guess
//! without limit nor lock the owner out from the owner's own network:
//!
//! - per typed address and client IP: after `per_client` (10) wrong passwords
//!   within `window_seconds` (15 minutes), that IP waits for that address until
//!   the window ends;
//! - per typed address across every IP: after `consecutive` (100) wrong
//!   passwords in a row, the password step of that address is locked until the
//!   owner resets the password through e-mail (NIST SP 800-63B §5.2.2).
//!
//! Counted per address typed, whether or not it has an account, so that the
//! limits reveal nothing about which addresses exist. An attempt is reserved
//! before its password is checked (`FailedPasswords::reserve`,
//! `ConsecutiveFailures::reserve`): it counts itself as wrong first, and the
//! right password then clears both counts.

use crate::UnixTime;
use crate::budgets::Window;

/// The password step's limits; the defaults are the issue's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordLimits {
    /// Wrong passwords for one address from one client IP per window.
    pub per_client: i64,
    pub window_seconds: i64,
    /// Consecutive wrong passwords for one address from any IP before the lock.
    pub consecutive: i64,
}

impl Default for PasswordLimits {
    fn default() -> Self {
        Self {
            per_client: 10,
            window_seconds: 15 * 60,
            consecutive: 100,
        }
    }
}

/// The longest window an operator may configure; rows older than this are
/// never needed again (`Store::delete_expired`).
pub const MAX_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// Wrong passwords for one address from one client IP since `window_started_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedPasswords {
    pub count: i64,
    pub window_started_at: UnixTime,
}

impl FailedPasswords {
    /// The same fixed window as every budget's ([`Window`]).
    fn window(&self) -> Window {
        Window {
            count: self.count,
            started_at: self.window_started_at,
        }
    }

    /// Seconds until the client may try again, while it waits.
    pub fn locked_for(&self, limits: &PasswordLimits, now: UnixTime) -> Option<i64> {
        self.window()
            .wait_for(limits.per_client, limits.window_seconds, now)
    }

    /// Whether this attempt, found wrong, is the one that makes its client wait:
    /// exactly one attempt per window gets the last place.
    pub fn is_last_place(&self, limits: &PasswordLimits) -> bool {
        self.count == limits.per_client
    }

    /// Reserve, then check: a password attempt first counts itself as wrong (a
    /// window that has ended starts again at one), and only an attempt that got
    /// a place has its password hashed; the right password then clears the
    /// count. The store runs this as one insert-or-increment.
    pub fn reserve(
        limits: &PasswordLimits,
        previous: Option<Self>,
        now: UnixTime,
    ) -> Result<Self, TooManyFailedPasswords> {
        let window = Window::take_place(
            previous.map(|previous| previous.window()),
            limits.per_client,
            limits.window_seconds,
            now,
        )
        .map_err(|retry_after_seconds| TooManyFailedPasswords {
            retry_after_seconds,
        })?;
        Ok(Self {
            count: window.count,
            window_started_at: window.started_at,
        })
    }
}

/// Wrong passwords in a row for one address, from any client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsecutiveFailures(pub i64);

impl ConsecutiveFailures {
    /// Reserve, then check, as for [`FailedPasswords::reserve`]: the attempt
    /// takes the next place unless every place is taken, and then the password
    /// step stays locked until a password reset clears the count.
    pub fn reserve(
        limits: &PasswordLimits,
        previous: Option<Self>,
    ) -> Result<Self, PasswordStepLocked> {
        let count = previous.map_or(0, |Self(count)| count);
        if count >= limits.consecutive {
            return Err(PasswordStepLocked);
        }
        Ok(Self(count + 1))
    }

    /// This attempt, found wrong, locked the password step: the owner is told.
    pub fn locks(&self, limits: &PasswordLimits) -> bool {
        self.0 >= limits.consecutive
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Too many attempts. Try again in {} minute{}.", minutes(*retry_after_seconds), if minutes(*retry_after_seconds) == 1 { "" } else { "s" })]
pub struct TooManyFailedPasswords {
    pub retry_after_seconds: i64,
}

/// The password step of an address after too many wrong passwords in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "Signing in with this password is locked after too many wrong attempts. To unlock it, reset your password: choose Forgot password? and follow the link we e-mail you."
)]
pub struct PasswordStepLocked;

/// Why a password attempt got no place, and so was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefused {
    #[error(transparent)]
    TooMany(#[from] TooManyFailedPasswords),
    #[error(transparent)]
    Locked(#[from] PasswordStepLocked),
}

pub fn minutes(seconds: i64) -> i64 {
    (seconds + 59) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_800_000_000;
    const LIMITS: PasswordLimits = PasswordLimits {
        per_client: 10,
        window_seconds: 15 * 60,
        consecutive: 100,
    };

    #[test]
    fn the_defaults_are_ten_in_fifteen_minutes_and_a_hundred_in_a_row() {
        assert_eq!(PasswordLimits::default(), LIMITS);
    }

    #[test]
    fn ten_wrong_passwords_make_the_client_wait_for_the_rest_of_the_window() {
        let nine = FailedPasswords {
            count: 9,
            window_started_at: T0,
        };
        assert_eq!(nine.locked_for(&LIMITS, T0 + 60), None);
        let ten = FailedPasswords {
            count: 10,
            window_started_at: T0,
        };
        assert_eq!(ten.locked_for(&LIMITS, T0 + 60), Some(14 * 60));
        assert_eq!(
            ten.locked_for(&LIMITS, T0 + 15 * 60 - 1),
            Some(1),
            "the last second of the window"
        );
        assert_eq!(
            ten.locked_for(&LIMITS, T0 + 15 * 60),
            None,
            "the window is over"
        );
    }

    #[test]
    fn the_eleventh_attempt_in_a_window_gets_no_place() {
        let mut failed = None;
        for count in 1..=LIMITS.per_client {
            let reserved = FailedPasswords::reserve(&LIMITS, failed, T0).unwrap();
            assert_eq!(reserved.count, count);
            assert_eq!(reserved.is_last_place(&LIMITS), count == LIMITS.per_client);
            failed = Some(reserved);
        }
        assert_eq!(
            FailedPasswords::reserve(&LIMITS, failed, T0 + 60),
            Err(TooManyFailedPasswords {
                retry_after_seconds: 14 * 60
            })
        );
        let next_window = FailedPasswords::reserve(&LIMITS, failed, T0 + 15 * 60).unwrap();
        assert_eq!(next_window.count, 1, "a new window starts again at one");
        assert_eq!(next_window.window_started_at, T0 + 15 * 60);
    }

    #[test]
    fn a_configured_limit_holds_at_its_edge() {
        let limits = PasswordLimits {
            per_client: 3,
            window_seconds: 60,
            consecutive: 5,
        };
        let mut failed = None;
        for _ in 0..3 {
            failed = Some(FailedPasswords::reserve(&limits, failed, T0).unwrap());
        }
        assert!(FailedPasswords::reserve(&limits, failed, T0 + 59).is_err());
        assert!(FailedPasswords::reserve(&limits, failed, T0 + 60).is_ok());
        let mut consecutive = None;
        for _ in 0..5 {
            consecutive = Some(ConsecutiveFailures::reserve(&limits, consecutive).unwrap());
        }
        assert!(consecutive.unwrap().locks(&limits));
        assert_eq!(
            ConsecutiveFailures::reserve(&limits, consecutive),
            Err(PasswordStepLocked)
        );
    }

    #[test]
    fn the_hundredth_wrong_password_in_a_row_locks_the_password_step_for_good() {
        let mut consecutive = None;
        for count in 1..=LIMITS.consecutive {
            let reserved = ConsecutiveFailures::reserve(&LIMITS, consecutive).unwrap();
            assert_eq!(reserved, ConsecutiveFailures(count));
            assert_eq!(reserved.locks(&LIMITS), count == LIMITS.consecutive);
            consecutive = Some(reserved);
        }
        assert_eq!(
            ConsecutiveFailures::reserve(&LIMITS, consecutive),
            Err(PasswordStepLocked),
            "no window ends this lock; only a reset clears the count"
        );
    }

    #[test]
    fn the_message_says_how_long_to_wait() {
        assert_eq!(
            TooManyFailedPasswords {
                retry_after_seconds: 840
            }
            .to_string(),
            "Too many attempts. Try again in 14 minutes."
        );
        assert_eq!(
            TooManyFailedPasswords {
                retry_after_seconds: 30
            }
            .to_string(),
            "Too many attempts. Try again in 1 minute."
        );
    }
}
