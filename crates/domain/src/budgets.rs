//! Budgets: how many of a costly or abusable thing (an SMS, a new account, a
//! reset e-mail) one subject (an account, a number, a client IP, …) may have in
//! a window of time. Each rule is named ([`Rule`]) and configurable ([`Limits`]).
//!
//! A budget is a fixed window that starts with the first use: `limit` uses,
//! then nothing until `window_seconds` after that first use. Reserve, then
//! check: a use takes its place ([`Window::reserve`]) before anything is sent,
//! so a hundred requests at once get no more than `limit` places; the store
//! runs the same rule as one insert-or-increment per budget.

use crate::UnixTime;

const HOUR: i64 = 60 * 60;
const DAY: i64 = 24 * HOUR;

/// Every budget the portal keeps, by what it limits and per what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// SMS codes sent for one account in an hour.
    SmsPerAccountHour,
    /// SMS codes sent for one account in a day.
    SmsPerAccountDay,
    /// SMS codes sent to one destination number in an hour.
    SmsPerNumber,
    /// SMS codes sent to one number prefix (the number without its last four
    /// digits) in an hour: a pumping run walks through a range of numbers.
    SmsPerPrefix,
    /// SMS codes asked for from one client IP in an hour.
    SmsPerClientIp,
    /// SMS codes sent to one country calling code in a day.
    SmsPerCallingCode,
    /// New accounts made from one client IP in an hour.
    SignUpPerClientIp,
    /// Password reset e-mails to one address.
    ResetEmailPerAddress,
}

impl Rule {
    /// The budgets an SMS code takes, in the order the store takes them (one
    /// order for every request, so that transactions never wait on each other
    /// in a circle).
    pub const SMS: [Rule; 6] = [
        Self::SmsPerAccountHour,
        Self::SmsPerAccountDay,
        Self::SmsPerNumber,
        Self::SmsPerPrefix,
        Self::SmsPerClientIp,
        Self::SmsPerCallingCode,
    ];

    /// The name the store keys a budget by and the log shows; never changed once
    /// released.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SmsPerAccountHour => "sms_per_account_hour",
            Self::SmsPerAccountDay => "sms_per_account_day",
            Self::SmsPerNumber => "sms_per_number",
            Self::SmsPerPrefix => "sms_per_prefix",
            Self::SmsPerClientIp => "sms_per_client_ip",
            Self::SmsPerCallingCode => "sms_per_calling_code",
            Self::SignUpPerClientIp => "sign_up_per_client_ip",
            Self::ResetEmailPerAddress => "reset_email_per_address",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::SMS
            .into_iter()
            .chain([Self::SignUpPerClientIp, Self::ResetEmailPerAddress])
            .find(|rule| rule.as_str() == text)
    }
}

/// How many uses a budget allows in how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub rule: Rule,
    pub limit: i64,
    pub window_seconds: i64,
}

/// Every budget's size, configurable; the defaults are the issue's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub sms_per_account_hour: i64,
    pub sms_per_account_day: i64,
    pub sms_per_number_hour: i64,
    pub sms_per_prefix_hour: i64,
    pub sms_per_client_ip_hour: i64,
    pub sms_per_calling_code_day: i64,
    pub sign_ups_per_client_ip_hour: i64,
    /// Seconds between two reset e-mails to one address (one per window).
    pub reset_email_interval_seconds: i64,
    pub conversion: ConversionGuard,
    /// At most one security event per account and refusal rule in this long:
    /// the owner sees each kind of refused SMS, an attacker cannot flood the list.
    pub refusal_event_interval_seconds: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sms_per_account_hour: 10,
            sms_per_account_day: 20,
            sms_per_number_hour: 5,
            sms_per_prefix_hour: 20,
            sms_per_client_ip_hour: 10,
            sms_per_calling_code_day: 1_000,
            sign_ups_per_client_ip_hour: 10,
            reset_email_interval_seconds: 5 * 60,
            conversion: ConversionGuard::default(),
            refusal_event_interval_seconds: HOUR,
        }
    }
}

/// An SMS refused by a rule that guards the account or the service (not the
/// pacing of one flow nor a number that cannot take SMS): shown to the owner in
/// the account's security events, at most once per account and rule in
/// `Limits::refusal_event_interval_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsRefusal {
    Budget(Rule),
    /// The conversion guard holds SMS to the number's calling code.
    ConversionHold,
}

impl SmsRefusal {
    /// The rule's name, as the log shows it and the store keys its events by.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Budget(rule) => rule.as_str(),
            Self::ConversionHold => "conversion_guard",
        }
    }

    /// Why, for the owner: "too many codes for this account in an hour".
    pub fn reason(self) -> &'static str {
        match self {
            Self::Budget(Rule::SmsPerAccountHour) => "too many codes for this account in an hour",
            Self::Budget(Rule::SmsPerAccountDay) => "too many codes for this account in a day",
            Self::Budget(Rule::SmsPerNumber) => "too many codes to this number in an hour",
            Self::Budget(Rule::SmsPerPrefix) => {
                "too many codes to numbers that look like this one in an hour"
            }
            Self::Budget(Rule::SmsPerClientIp) => "too many codes asked for from one address",
            Self::Budget(Rule::SmsPerCallingCode) => "the day's codes to this country are used up",
            Self::Budget(Rule::SignUpPerClientIp | Rule::ResetEmailPerAddress) => {
                "too many requests"
            }
            Self::ConversionHold => "codes to this country are held for now",
        }
    }
}

impl Limits {
    /// An account's event for a refusal rule stands for the refusals after it
    /// while it was recorded after this time (at `now`); the store's claim
    /// replaces only an event recorded at or before it.
    pub fn refusal_events_stand_since(&self, now: UnixTime) -> UnixTime {
        now - self.refusal_event_interval_seconds
    }
}

/// A limit below one would refuse everything: a misconfiguration, not a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must be at least 1")]
pub struct LimitTooSmall(pub &'static str);

impl Limits {
    pub fn budget(&self, rule: Rule) -> Budget {
        let (limit, window_seconds) = match rule {
            Rule::SmsPerAccountHour => (self.sms_per_account_hour, HOUR),
            Rule::SmsPerAccountDay => (self.sms_per_account_day, DAY),
            Rule::SmsPerNumber => (self.sms_per_number_hour, HOUR),
            Rule::SmsPerPrefix => (self.sms_per_prefix_hour, HOUR),
            Rule::SmsPerClientIp => (self.sms_per_client_ip_hour, HOUR),
            Rule::SmsPerCallingCode => (self.sms_per_calling_code_day, DAY),
            Rule::SignUpPerClientIp => (self.sign_ups_per_client_ip_hour, HOUR),
            Rule::ResetEmailPerAddress => (1, self.reset_email_interval_seconds),
        };
        Budget {
            rule,
            limit,
            window_seconds,
        }
    }

    /// The longest window of any budget: a window that started before this
    /// long ago has ended, whatever its rule, and its row may go.
    pub fn longest_window_seconds(&self) -> i64 {
        [DAY, self.reset_email_interval_seconds]
            .into_iter()
            .max()
            .unwrap_or(DAY)
    }

    pub fn check(&self) -> Result<(), LimitTooSmall> {
        let sizes = [
            ("sms_per_account_hour", self.sms_per_account_hour),
            ("sms_per_account_day", self.sms_per_account_day),
            ("sms_per_number_hour", self.sms_per_number_hour),
            ("sms_per_prefix_hour", self.sms_per_prefix_hour),
            ("sms_per_client_ip_hour", self.sms_per_client_ip_hour),
            ("sms_per_calling_code_day", self.sms_per_calling_code_day),
            (
                "sign_ups_per_client_ip_hour",
                self.sign_ups_per_client_ip_hour,
            ),
            (
                "reset_email_interval_seconds",
                self.reset_email_interval_seconds,
            ),
            ("conversion_sample", self.conversion.sample),
            ("conversion_hold_seconds", self.conversion.hold_seconds),
            (
                "refusal_event_interval_seconds",
                self.refusal_event_interval_seconds,
            ),
        ];
        match sizes.into_iter().find(|(_, size)| *size < 1) {
            Some((name, _)) => Err(LimitTooSmall(name)),
            None => Ok(()),
        }
    }
}

/// One budget's use in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: i64,
    pub started_at: UnixTime,
}

impl Window {
    /// Seconds until the budget has room again, while it is full.
    pub fn full_for(&self, budget: &Budget, now: UnixTime) -> Option<i64> {
        self.wait_for(budget.limit, budget.window_seconds, now)
    }

    /// Takes a place in the budget (a window that has ended starts again at
    /// one) or says how long until there is one.
    pub fn reserve(
        previous: Option<Self>,
        budget: &Budget,
        now: UnixTime,
    ) -> Result<Self, BudgetFull> {
        Self::take_place(previous, budget.limit, budget.window_seconds, now).map_err(
            |retry_after_seconds| BudgetFull {
                rule: budget.rule,
                retry_after_seconds,
            },
        )
    }

    // The fixed window itself, by limit and length, so that the password
    // step's limit (`throttle::FailedPasswords`) keeps the very same rule.

    pub(crate) fn ended(&self, window_seconds: i64, now: UnixTime) -> bool {
        now >= self.started_at + window_seconds
    }

    pub(crate) fn wait_for(&self, limit: i64, window_seconds: i64, now: UnixTime) -> Option<i64> {
        (self.count >= limit && !self.ended(window_seconds, now))
            .then(|| self.started_at + window_seconds - now)
    }

    /// The new window, or the seconds to wait when it is full.
    pub(crate) fn take_place(
        previous: Option<Self>,
        limit: i64,
        window_seconds: i64,
        now: UnixTime,
    ) -> Result<Self, i64> {
        match previous {
            Some(previous) if !previous.ended(window_seconds, now) => {
                if let Some(retry_after_seconds) = previous.wait_for(limit, window_seconds, now) {
                    return Err(retry_after_seconds);
                }
                Ok(Self {
                    count: previous.count + 1,
                    ..previous
                })
            }
            _ => Ok(Self {
                count: 1,
                started_at: now,
            }),
        }
    }
}

/// A budget with no room: which rule, and for how long. Its message tells
/// the person refused what was refused and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetFull {
    pub rule: Rule,
    pub retry_after_seconds: i64,
}

impl std::fmt::Display for BudgetFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.rule {
            Rule::SignUpPerClientIp => "Too many accounts created from your network",
            Rule::ResetEmailPerAddress => "Too many reset e-mails requested",
            _ => "Too many codes requested",
        };
        write!(
            f,
            "{what}. Try again in {}.",
            wait_in_words(self.retry_after_seconds)
        )
    }
}

impl std::error::Error for BudgetFull {}

/// "12 minutes", "1 minute", "24 hours": a wait as a person reads it, rounded up.
pub fn wait_in_words(seconds: i64) -> String {
    let minutes = (seconds.max(1) + 59) / 60;
    let (amount, unit) = if minutes >= 120 {
        ((minutes + 59) / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{amount} {unit}{}", if amount == 1 { "" } else { "s" })
}

/// The conversion guard: a calling code to which SMS codes are sent but hardly
/// ever entered is being pumped (someone earns from the texts, not the codes).
/// When fewer than `min_entered_percent` of the last `sample` codes sent to a
/// calling code were entered, SMS to it are held for `hold_seconds`. Only codes
/// sent since the last hold ended count, so a hold is judged again on fresh
/// figures rather than renewed by the ones that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversionGuard {
    pub sample: i64,
    pub min_entered_percent: i64,
    pub hold_seconds: i64,
}

impl Default for ConversionGuard {
    fn default() -> Self {
        Self {
            sample: 50,
            min_entered_percent: 20,
            hold_seconds: DAY,
        }
    }
}

/// How long a sent code counts in the conversion guard's figures: a calling
/// code that sends fewer than a sample's codes in this time is never judged.
pub const CONVERSION_FIGURES_KEPT_SECONDS: i64 = 7 * DAY;

/// Of the last codes sent to a calling code, how many were entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    pub sent: i64,
    pub entered: i64,
}

impl ConversionGuard {
    /// Whether these figures call for a hold: only a full sample is judged.
    pub fn holds(&self, figures: Conversion) -> bool {
        figures.sent >= self.sample
            && figures.entered * 100 < self.min_entered_percent * figures.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_800_000_000;

    #[test]
    fn a_refusal_event_stands_for_its_interval_then_a_new_one_may_be_recorded() {
        for interval in [1, 60, HOUR, 7 * HOUR] {
            let limits = Limits {
                refusal_event_interval_seconds: interval,
                ..Limits::default()
            };
            let stands = |now| T0 > limits.refusal_events_stand_since(now);
            assert!(stands(T0) && stands(T0 + interval - 1), "{interval}");
            assert!(!stands(T0 + interval), "{interval}");
        }
        assert_eq!(Limits::default().refusal_event_interval_seconds, HOUR);
        let none = Limits {
            refusal_event_interval_seconds: 0,
            ..Limits::default()
        };
        assert_eq!(
            none.check(),
            Err(LimitTooSmall("refusal_event_interval_seconds"))
        );
    }

    #[test]
    fn each_sms_refusal_has_its_own_name_and_a_reason_for_the_owner() {
        let refusals: Vec<_> = Rule::SMS
            .into_iter()
            .map(SmsRefusal::Budget)
            .chain([SmsRefusal::ConversionHold])
            .collect();
        let names: std::collections::HashSet<_> = refusals.iter().map(|r| r.as_str()).collect();
        let reasons: std::collections::HashSet<_> = refusals.iter().map(|r| r.reason()).collect();
        assert_eq!((names.len(), reasons.len()), (7, 7));
    }

    #[test]
    fn a_budget_gives_its_limit_of_places_then_says_when_the_window_ends() {
        let limits = Limits::default();
        for rule in Rule::SMS
            .into_iter()
            .chain([Rule::SignUpPerClientIp, Rule::ResetEmailPerAddress])
        {
            let budget = limits.budget(rule);
            let mut window = None;
            for count in 1..=budget.limit {
                let reserved = Window::reserve(window, &budget, T0 + count - 1).unwrap();
                assert_eq!(reserved.count, count, "{rule:?}");
                assert_eq!(reserved.started_at, T0, "{rule:?}");
                window = Some(reserved);
            }
            let last = T0 + budget.window_seconds - 1;
            assert_eq!(
                Window::reserve(window, &budget, last),
                Err(BudgetFull {
                    rule,
                    retry_after_seconds: 1
                }),
                "{rule:?}: full until the window ends"
            );
            let again = Window::reserve(window, &budget, T0 + budget.window_seconds).unwrap();
            assert_eq!(again.count, 1, "{rule:?}: a new window starts at one");
        }
    }

    #[test]
    fn the_issue_defaults() {
        let limits = Limits::default();
        let size = |rule| {
            let budget = limits.budget(rule);
            (budget.limit, budget.window_seconds)
        };
        assert_eq!(size(Rule::SmsPerAccountHour), (10, HOUR));
        assert_eq!(size(Rule::SmsPerAccountDay), (20, DAY));
        assert_eq!(size(Rule::SmsPerNumber), (5, HOUR));
        assert_eq!(size(Rule::SmsPerPrefix), (20, HOUR));
        assert_eq!(size(Rule::SmsPerClientIp), (10, HOUR));
        assert_eq!(size(Rule::SmsPerCallingCode), (1_000, DAY));
        assert_eq!(size(Rule::SignUpPerClientIp), (10, HOUR));
        assert_eq!(size(Rule::ResetEmailPerAddress), (1, 5 * 60));
        assert_eq!(limits.check(), Ok(()));
        assert_eq!(limits.longest_window_seconds(), DAY);
        let slow_resets = Limits {
            reset_email_interval_seconds: 2 * DAY,
            ..limits
        };
        assert_eq!(slow_resets.longest_window_seconds(), 2 * DAY);
    }

    #[test]
    fn a_limit_below_one_is_refused() {
        let limits = Limits {
            sms_per_number_hour: 0,
            ..Limits::default()
        };
        assert_eq!(limits.check(), Err(LimitTooSmall("sms_per_number_hour")));
    }

    #[test]
    fn rules_are_read_back_from_their_names() {
        for rule in Rule::SMS
            .into_iter()
            .chain([Rule::SignUpPerClientIp, Rule::ResetEmailPerAddress])
        {
            assert_eq!(Rule::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(Rule::parse("sms"), None);
    }

    #[test]
    fn a_refusal_says_what_and_how_long_to_wait() {
        let full = |rule, retry_after_seconds| {
            BudgetFull {
                rule,
                retry_after_seconds,
            }
            .to_string()
        };
        assert_eq!(
            full(Rule::SmsPerPrefix, 12 * 60),
            "Too many codes requested. Try again in 12 minutes."
        );
        assert_eq!(
            full(Rule::SignUpPerClientIp, 59),
            "Too many accounts created from your network. Try again in 1 minute."
        );
    }

    #[test]
    fn waits_are_rounded_up_and_long_ones_told_in_hours() {
        assert_eq!(wait_in_words(12 * 60), "12 minutes");
        assert_eq!(wait_in_words(11 * 60 + 1), "12 minutes");
        assert_eq!(wait_in_words(30), "1 minute");
        assert_eq!(wait_in_words(0), "1 minute");
        assert_eq!(wait_in_words(119 * 60), "119 minutes");
        assert_eq!(wait_in_words(DAY), "24 hours");
        assert_eq!(wait_in_words(DAY - 30 * 60 - 1), "24 hours");
    }

    #[test]
    fn the_conversion_guard_holds_below_a_fifth_of_a_full_sample() {
        let guard = ConversionGuard::default();
        let held = |sent, entered| guard.holds(Conversion { sent, entered });
        assert!(!held(49, 0), "a sample short of 50 is not judged");
        assert!(held(50, 0));
        assert!(held(50, 9), "9 of 50 is 18 %");
        assert!(!held(50, 10), "10 of 50 is 20 %");
        assert!(!held(50, 50));
    }
}
