//! Limited password attempts: after ten wrong passwords for one e-mail address
//! within fifteen minutes, the password step refuses that address until the
//! window ends. Counted per address typed, whether or not it has an account, so
//! that the lock itself reveals nothing about which addresses exist. An attempt
//! is reserved before its password is checked (`FailedPasswords::reserve`).

use crate::UnixTime;

pub const MAX_FAILED_PASSWORDS: i64 = 10;
pub const FAILED_PASSWORD_WINDOW_SECONDS: i64 = 15 * 60;

/// Wrong passwords for one address since `window_started_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedPasswords {
    pub count: i64,
    pub window_started_at: UnixTime,
}

impl FailedPasswords {
    /// Seconds until the address may try again, while it is locked.
    pub fn locked_for(&self, now: UnixTime) -> Option<i64> {
        let window_ends = self.window_started_at + FAILED_PASSWORD_WINDOW_SECONDS;
        (self.count >= MAX_FAILED_PASSWORDS && !self.window_has_ended(now))
            .then_some(window_ends - now)
    }

    pub fn window_has_ended(&self, now: UnixTime) -> bool {
        now >= self.window_started_at + FAILED_PASSWORD_WINDOW_SECONDS
    }

    /// Reserve, then check: a password attempt first counts itself as wrong (a
    /// window that has ended starts again at one), and only an attempt that got
    /// a place has its password hashed; the right password then clears the
    /// count. The store runs this as one insert-or-increment.
    pub fn reserve(previous: Option<Self>, now: UnixTime) -> Result<Self, TooManyFailedPasswords> {
        match previous {
            Some(previous) if !previous.window_has_ended(now) => {
                if let Some(retry_after_seconds) = previous.locked_for(now) {
                    return Err(TooManyFailedPasswords {
                        retry_after_seconds,
                    });
                }
                Ok(Self {
                    count: previous.count + 1,
                    ..previous
                })
            }
            _ => Ok(Self {
                count: 1,
                window_started_at: now,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Too many failed sign-in attempts. Try again in {} minute{}.", minutes(*retry_after_seconds), if minutes(*retry_after_seconds) == 1 { "" } else { "s" })]
pub struct TooManyFailedPasswords {
    pub retry_after_seconds: i64,
}

fn minutes(seconds: i64) -> i64 {
    (seconds + 59) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_800_000_000;

    #[test]
    fn ten_wrong_passwords_lock_the_address_for_the_rest_of_the_window() {
        let nine = FailedPasswords {
            count: 9,
            window_started_at: T0,
        };
        assert_eq!(nine.locked_for(T0 + 60), None);
        let ten = FailedPasswords {
            count: 10,
            window_started_at: T0,
        };
        assert_eq!(ten.locked_for(T0 + 60), Some(14 * 60));
        assert_eq!(ten.locked_for(T0 + 15 * 60), None, "the window is over");
    }

    #[test]
    fn the_eleventh_attempt_in_a_window_gets_no_place() {
        let mut failed = None;
        for count in 1..=MAX_FAILED_PASSWORDS {
            let reserved = FailedPasswords::reserve(failed, T0).unwrap();
            assert_eq!(reserved.count, count);
            failed = Some(reserved);
        }
        assert_eq!(
            FailedPasswords::reserve(failed, T0 + 60),
            Err(TooManyFailedPasswords {
                retry_after_seconds: 14 * 60
            })
        );
        let next_window = FailedPasswords::reserve(failed, T0 + 15 * 60).unwrap();
        assert_eq!(next_window.count, 1, "a new window starts again at one");
        assert_eq!(next_window.window_started_at, T0 + 15 * 60);
    }

    #[test]
    fn the_message_says_how_long_to_wait() {
        assert_eq!(
            TooManyFailedPasswords {
                retry_after_seconds: 840
            }
            .to_string(),
            "Too many failed sign-in attempts. Try again in 14 minutes."
        );
        assert_eq!(
            TooManyFailedPasswords {
                retry_after_seconds: 30
            }
            .to_string(),
            "Too many failed sign-in attempts. Try again in 1 minute."
        );
    }
}
