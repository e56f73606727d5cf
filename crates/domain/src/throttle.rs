//! Limited password attempts: after ten wrong passwords for one e-mail address
//! within fifteen minutes, the password step refuses that address until the
//! window ends. Counted per address typed, whether or not it has an account, so
//! that the lock itself reveals nothing about which addresses exist.

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
        (self.count >= MAX_FAILED_PASSWORDS && now < window_ends).then_some(window_ends - now)
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
