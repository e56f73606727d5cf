//! The second step, account-wide: wrong second-step codes are counted per
//! account in a row, across methods (SMS, authenticator app) and entrances (the
//! sign-in page, the password reset, the application API). After `consecutive`
//! (10) the second step is locked for `lock_seconds` (15 minutes) for every
//! method; a right code clears the count. The per-code (5) and per-step (3)
//! limits hold besides: they stop one code or step being guessed, this stops
//! the guessing across new codes and steps that would otherwise go on forever.
//! An attempt takes its place here only once its method has given it one of
//! its own: what the per-code and per-step limits turn away was never compared,
//! so it must not count towards, nor start, the account-wide lock.
//!
//! Also the "someone has your password" alert: a wrong code in a sign-in that
//! got past the password tells the owner, at most once per `alert_interval`.

use crate::UnixTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondStepLimits {
    pub consecutive: i64,
    pub lock_seconds: i64,
    /// At most one "someone has your password" e-mail per account this often.
    pub alert_interval_seconds: i64,
}

impl Default for SecondStepLimits {
    fn default() -> Self {
        Self {
            consecutive: 10,
            lock_seconds: 15 * 60,
            alert_interval_seconds: 60 * 60,
        }
    }
}

/// Wrong second-step codes of an account in a row; `locked_until` is set by
/// the attempt that took the last place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongCodes {
    pub count: i64,
    pub locked_until: Option<UnixTime>,
}

impl WrongCodes {
    /// The lock in force at `now`, if any.
    pub fn locked(&self, now: UnixTime) -> Option<SecondStepLocked> {
        self.locked_until
            .filter(|&until| until > now)
            .map(|until| SecondStepLocked { until })
    }

    /// Whether this attempt, found wrong, is the one that locked the second
    /// step: exactly one per lock takes the last place.
    pub fn locks(&self, limits: &SecondStepLimits) -> bool {
        self.count == limits.consecutive
    }

    /// Reserve, then check: an attempt first counts itself as wrong; the one
    /// that takes the last place starts the lock at once (so that attempts
    /// arriving while it is checked are refused), and a right code clears the
    /// count and the lock. A lock that has run out starts the count again.
    /// The store runs this as one insert-or-increment.
    pub fn reserve(
        limits: &SecondStepLimits,
        previous: Option<Self>,
        now: UnixTime,
    ) -> Result<Self, SecondStepLocked> {
        let count = match previous {
            Some(previous) => {
                if let Some(locked) = previous.locked(now) {
                    return Err(locked);
                }
                if previous.locked_until.is_some() {
                    0
                } else {
                    previous.count
                }
            }
            None => 0,
        } + 1;
        Ok(Self {
            count,
            locked_until: (count >= limits.consecutive).then_some(now + limits.lock_seconds),
        })
    }
}

/// The second step is locked for every method until `until`. The page says
/// the time in the reader's terms, so the message is the web layer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondStepLocked {
    pub until: UnixTime,
}

impl SecondStepLocked {
    pub fn retry_after_seconds(&self, now: UnixTime) -> i64 {
        (self.until - now).max(1)
    }
}

impl SecondStepLimits {
    /// An alert may go out again at `now` if the last one was sent at or
    /// before this time; the store claims it with that bound in one statement.
    pub fn alert_sent_before(&self, now: UnixTime) -> UnixTime {
        now - self.alert_interval_seconds
    }
}

/// Whether an alert last sent at `last_sent` may be sent again at `now`.
pub fn may_alert_again(
    limits: &SecondStepLimits,
    last_sent: Option<UnixTime>,
    now: UnixTime,
) -> bool {
    last_sent.is_none_or(|sent| sent <= limits.alert_sent_before(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_800_000_000;

    #[test]
    fn ten_wrong_codes_in_a_row_lock_the_second_step_for_fifteen_minutes() {
        let limits = SecondStepLimits::default();
        let mut wrong = None;
        for count in 1..=10 {
            let reserved = WrongCodes::reserve(&limits, wrong, T0).unwrap();
            assert_eq!(reserved.count, count);
            assert_eq!(reserved.locks(&limits), count == 10);
            wrong = Some(reserved);
        }
        let locked = SecondStepLocked {
            until: T0 + 15 * 60,
        };
        assert_eq!(WrongCodes::reserve(&limits, wrong, T0 + 1), Err(locked));
        assert_eq!(
            WrongCodes::reserve(&limits, wrong, T0 + 15 * 60 - 1),
            Err(locked),
            "the lock's last second"
        );
        assert_eq!(locked.retry_after_seconds(T0 + 60), 14 * 60);
        let after = WrongCodes::reserve(&limits, wrong, T0 + 15 * 60).unwrap();
        assert_eq!(
            after,
            WrongCodes {
                count: 1,
                locked_until: None
            },
            "after the lock the count starts again"
        );
    }

    #[test]
    fn a_configured_limit_holds_at_its_edge() {
        let limits = SecondStepLimits {
            consecutive: 2,
            lock_seconds: 60,
            alert_interval_seconds: 10,
        };
        let one = WrongCodes::reserve(&limits, None, T0).unwrap();
        let two = WrongCodes::reserve(&limits, Some(one), T0).unwrap();
        assert_eq!(two.locked_until, Some(T0 + 60));
        assert!(WrongCodes::reserve(&limits, Some(two), T0 + 59).is_err());
        assert!(WrongCodes::reserve(&limits, Some(two), T0 + 60).is_ok());
    }

    #[test]
    fn the_alert_goes_out_at_most_once_an_hour() {
        let limits = SecondStepLimits::default();
        assert!(may_alert_again(&limits, None, T0));
        assert!(!may_alert_again(&limits, Some(T0), T0 + 3599));
        assert!(may_alert_again(&limits, Some(T0), T0 + 3600));
    }
}
