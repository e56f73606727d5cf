//! One-time security codes sent by SMS: how they are made, how long they live,
//! how many wrong entries they allow, when a new one may be sent, and to which
//! purpose and session each is bound. An entry is reserved before it is checked
//! (`IssuedCode::reserve_entry`, then `check_reserved`), so that the store can
//! hold the limit with one conditional statement whatever runs in parallel.

use crate::UnixTime;
use crate::digests::{CodeBinding, CodeDigest};

/// The help page's promise that a code is short-lived: never longer than this.
pub const MAX_CODE_LIFETIME_SECONDS: i64 = 10 * 60;
pub const RESEND_AFTER_SECONDS: i64 = 60;
pub const MAX_WRONG_ENTRIES: u32 = 5;
pub const CODE_DIGITS: usize = 6;

/// What a code was sent for; a code for one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    SetUp,
    SignIn,
    ChangeNumber,
    PasswordReset,
    ConnectApp,
}

impl CodePurpose {
    pub const ALL: [CodePurpose; 5] = [
        Self::SetUp,
        Self::SignIn,
        Self::ChangeNumber,
        Self::PasswordReset,
        Self::ConnectApp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetUp => "set_up",
            Self::SignIn => "sign_in",
            Self::ChangeNumber => "change_number",
            Self::PasswordReset => "password_reset",
            Self::ConnectApp => "connect_app",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    fn doing(self) -> &'static str {
        match self {
            Self::SetUp => "setting up two-step verification",
            Self::SignIn => "signing in",
            Self::ChangeNumber => "confirming your new phone number",
            Self::PasswordReset => "resetting your password",
            Self::ConnectApp => "connecting an application",
        }
    }

    /// The SMS names the service and the purpose, so that a person who did not ask
    /// for the code knows what someone is trying to do.
    pub fn sms_text(self, service_name: &str, code: &OtpCode, lifetime_seconds: i64) -> String {
        let minutes = (lifetime_seconds + 59) / 60;
        format!(
            "{code} is your {service_name} security code for {}. It expires in {minutes} minute{}. Don't share it.",
            self.doing(),
            if minutes == 1 { "" } else { "s" },
            code = code.as_str(),
        )
    }
}

/// Six digits, as typed by a person (spaces and dashes between digits are forgiven).
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl std::fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpCode(••••••)")
    }
}

impl OtpCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let digits: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(CodeError::Malformed)
        }
    }

    /// Uniform over 000000–999999: rejection sampling avoids the modulo bias.
    pub fn generate() -> Self {
        loop {
            let value = u32::from_le_bytes(crate::secrets::random_bytes());
            if value < 4_294_000_000 {
                return Self(format!("{:06}", value % 1_000_000));
            }
        }
    }

    pub fn from_number(value: u32) -> Self {
        Self(format!("{:06}", value % 1_000_000))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("Enter the 6-digit security code.")]
    Malformed,
    #[error("There is no code waiting for this step. Request a new code.")]
    NotRequested,
    #[error("This code has expired. Request a new code.")]
    Expired,
    #[error("Too many wrong codes. Request a new code.")]
    TooManyAttempts,
    #[error("This code has already been used. Request a new code.")]
    AlreadyUsed,
    #[error("That code isn't right. {attempts_left} attempt{} left.", if *attempts_left == 1 { "" } else { "s" })]
    Wrong { attempts_left: u32 },
    #[error("You can ask for a new code in {wait_seconds} seconds.")]
    ResendTooSoon { wait_seconds: i64 },
}

/// How long codes live; configurable, but never beyond the ten-minute maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    lifetime_seconds: i64,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            lifetime_seconds: MAX_CODE_LIFETIME_SECONDS,
        }
    }
}

impl CodePolicy {
    pub fn with_lifetime(seconds: i64) -> Self {
        Self {
            lifetime_seconds: seconds.clamp(60, MAX_CODE_LIFETIME_SECONDS),
        }
    }

    pub fn lifetime_seconds(self) -> i64 {
        self.lifetime_seconds
    }
}

/// The context a code's digest is keyed with: the account and the purpose.
pub fn digest_context(account_id: crate::AccountId, purpose: CodePurpose) -> String {
    format!("{account_id}:{}", purpose.as_str())
}

/// A code that was sent, as remembered (only its keyed digest, never the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub purpose: CodePurpose,
    pub digest: CodeDigest,
    /// The session, half-finished sign-in, reset link or challenge that asked for it.
    pub bound_to: CodeBinding,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    pub wrong_entries: u32,
    pub used: bool,
}

impl IssuedCode {
    pub fn new(
        purpose: CodePurpose,
        digest: CodeDigest,
        bound_to: CodeBinding,
        now: UnixTime,
        policy: CodePolicy,
    ) -> Self {
        Self {
            purpose,
            digest,
            bound_to,
            issued_at: now,
            expires_at: now + policy.lifetime_seconds,
            wrong_entries: 0,
            used: false,
        }
    }

    /// Checks an entry and records its effect on `self` (one more wrong entry, or
    /// used up): the two steps below, in memory. The store runs the same two
    /// steps against the database, the first as one conditional statement.
    pub fn verify(
        &mut self,
        purpose: CodePurpose,
        entered_digest: &CodeDigest,
        bound_to: &CodeBinding,
        now: UnixTime,
    ) -> Result<(), CodeError> {
        self.reserve_entry(purpose, bound_to, now)?;
        self.check_reserved(entered_digest)
    }

    /// Whether the code may take one more entry: the rule that the store's
    /// reservation (`wrong_entries = wrong_entries + 1 WHERE used = 0 AND
    /// expires_at > now AND wrong_entries < MAX_WRONG_ENTRIES`) enforces.
    pub fn may_take_entry(
        &self,
        purpose: CodePurpose,
        bound_to: &CodeBinding,
        now: UnixTime,
    ) -> Result<(), CodeError> {
        // A binding's equality runs in constant time, like a code digest's.
        if purpose != self.purpose || *bound_to != self.bound_to {
            return Err(CodeError::NotRequested);
        }
        if self.used {
            return Err(CodeError::AlreadyUsed);
        }
        if now >= self.expires_at {
            return Err(CodeError::Expired);
        }
        if self.wrong_entries >= MAX_WRONG_ENTRIES {
            return Err(CodeError::TooManyAttempts);
        }
        Ok(())
    }

    /// Reserve, then check: an entry first takes its place by counting itself as
    /// wrong, so that entries racing each other can never be checked more than
    /// `MAX_WRONG_ENTRIES` times in all.
    pub fn reserve_entry(
        &mut self,
        purpose: CodePurpose,
        bound_to: &CodeBinding,
        now: UnixTime,
    ) -> Result<(), CodeError> {
        self.may_take_entry(purpose, bound_to, now)?;
        self.wrong_entries += 1;
        Ok(())
    }

    /// Checks an entry that holds a place (`self` already counts it). The right
    /// code gives its place back and is used up; a wrong one keeps it.
    pub fn check_reserved(&mut self, entered_digest: &CodeDigest) -> Result<(), CodeError> {
        // `CodeDigest`'s equality runs in constant time.
        if *entered_digest == self.digest {
            self.wrong_entries = self.wrong_entries.saturating_sub(1);
            self.used = true;
            return Ok(());
        }
        match MAX_WRONG_ENTRIES.saturating_sub(self.wrong_entries) {
            0 => Err(CodeError::TooManyAttempts),
            attempts_left => Err(CodeError::Wrong { attempts_left }),
        }
    }

    /// The latest `issued_at` of an unused code that a new one may replace at
    /// `now`: the store's condition for [`Self::may_send_another`], so that two
    /// requests at once cannot both send.
    pub fn replaceable_if_issued_by(now: UnixTime) -> UnixTime {
        now - RESEND_AFTER_SECONDS
    }

    /// A new code may be sent a minute after the last one: enough to stop SMS
    /// flooding, short enough for a lost message.
    pub fn may_send_another(&self, now: UnixTime) -> Result<(), CodeError> {
        let wait_seconds = self.issued_at + RESEND_AFTER_SECONDS - now;
        if wait_seconds > 0 && !self.used {
            Err(CodeError::ResendTooSoon { wait_seconds })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(byte: u8) -> CodeDigest {
        CodeDigest::from_bytes(vec![byte; 32])
    }

    fn binding(byte: u8) -> CodeBinding {
        CodeBinding::from_bytes(vec![byte; 32])
    }

    const T0: UnixTime = 1_800_000_000;

    fn issued() -> IssuedCode {
        IssuedCode::new(
            CodePurpose::SignIn,
            digest(7),
            binding(1),
            T0,
            CodePolicy::default(),
        )
    }

    #[test]
    fn the_right_code_is_accepted_once() {
        let mut code = issued();
        assert_eq!(
            code.verify(CodePurpose::SignIn, &digest(7), &binding(1), T0 + 5),
            Ok(())
        );
        assert_eq!(
            code.verify(CodePurpose::SignIn, &digest(7), &binding(1), T0 + 6),
            Err(CodeError::AlreadyUsed)
        );
    }

    #[test]
    fn a_code_expires_after_ten_minutes() {
        let mut code = issued();
        assert_eq!(
            code.clone()
                .verify(CodePurpose::SignIn, &digest(7), &binding(1), T0 + 599),
            Ok(())
        );
        assert_eq!(
            code.verify(CodePurpose::SignIn, &digest(7), &binding(1), T0 + 600),
            Err(CodeError::Expired)
        );
    }

    #[test]
    fn the_lifetime_is_configurable_but_never_beyond_ten_minutes() {
        assert_eq!(CodePolicy::with_lifetime(3600).lifetime_seconds(), 600);
        assert_eq!(CodePolicy::with_lifetime(300).lifetime_seconds(), 300);
        let code = IssuedCode::new(
            CodePurpose::SignIn,
            CodeDigest::from_bytes(vec![]),
            CodeBinding::from_bytes(vec![]),
            T0,
            CodePolicy::with_lifetime(300),
        );
        assert_eq!(code.expires_at, T0 + 300);
    }

    #[test]
    fn five_wrong_entries_end_the_code() {
        let mut code = issued();
        for left in (1..=4).rev() {
            assert_eq!(
                code.verify(CodePurpose::SignIn, &digest(0), &binding(1), T0),
                Err(CodeError::Wrong {
                    attempts_left: left
                })
            );
        }
        assert_eq!(
            code.verify(CodePurpose::SignIn, &digest(0), &binding(1), T0),
            Err(CodeError::TooManyAttempts)
        );
        assert_eq!(
            code.verify(CodePurpose::SignIn, &digest(7), &binding(1), T0),
            Err(CodeError::TooManyAttempts),
            "even the right code"
        );
    }

    #[test]
    fn an_entry_takes_its_place_first_and_the_right_one_gives_it_back() {
        let mut code = issued();
        code.reserve_entry(CodePurpose::SignIn, &binding(1), T0)
            .unwrap();
        assert_eq!(code.wrong_entries, 1, "counted before it is checked");
        assert_eq!(code.check_reserved(&digest(7)), Ok(()));
        assert_eq!(code.wrong_entries, 0);
        assert!(code.used);
    }

    #[test]
    fn a_code_with_five_places_taken_gives_no_sixth() {
        let mut code = issued();
        for _ in 0..MAX_WRONG_ENTRIES {
            code.reserve_entry(CodePurpose::SignIn, &binding(1), T0)
                .unwrap();
        }
        assert_eq!(
            code.reserve_entry(CodePurpose::SignIn, &binding(1), T0),
            Err(CodeError::TooManyAttempts)
        );
        assert_eq!(
            code.wrong_entries, MAX_WRONG_ENTRIES,
            "a refused entry counts nothing"
        );
    }

    #[test]
    fn a_code_serves_only_its_purpose_and_the_session_that_asked_for_it() {
        // Issued for signing in, to session 1.
        for (case, purpose, session) in [
            ("another purpose", CodePurpose::SetUp, 1),
            ("another session", CodePurpose::SignIn, 2),
        ] {
            let mut code = issued();
            assert_eq!(
                code.verify(purpose, &digest(7), &binding(session), T0),
                Err(CodeError::NotRequested),
                "{case}"
            );
            assert_eq!(code.wrong_entries, 0, "{case}: no wrong entry counted");
            assert!(!code.used, "{case}: the code is not used up");
        }
    }

    #[test]
    fn a_new_code_may_be_sent_after_sixty_seconds() {
        let code = issued();
        assert_eq!(
            code.may_send_another(T0 + 15),
            Err(CodeError::ResendTooSoon { wait_seconds: 45 })
        );
        assert_eq!(code.may_send_another(T0 + 60), Ok(()));
    }

    #[test]
    fn codes_are_six_digits_and_typing_spaces_is_forgiven() {
        assert_eq!(OtpCode::parse(" 123 456 ").unwrap().as_str(), "123456");
        assert_eq!(OtpCode::parse("123-456").unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert_eq!(OtpCode::parse(bad), Err(CodeError::Malformed), "{bad}");
        }
        let generated = OtpCode::generate();
        assert_eq!(generated.as_str().len(), 6);
        assert_eq!(OtpCode::from_number(42).as_str(), "000042");
    }

    #[test]
    fn the_sms_names_the_service_the_purpose_and_the_lifetime() {
        let text = CodePurpose::SignIn.sms_text("twostep", &OtpCode::from_number(123456), 600);
        assert_eq!(
            text,
            "123456 is your twostep security code for signing in. It expires in 10 minutes. Don't share it."
        );
    }

    #[test]
    fn purposes_round_trip_through_their_names() {
        for purpose in CodePurpose::ALL {
            assert_eq!(CodePurpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(CodePurpose::parse("other"), None);
    }

    #[test]
    fn the_wrong_code_message_counts_attempts_left() {
        assert_eq!(
            CodeError::Wrong { attempts_left: 1 }.to_string(),
            "That code isn't right. 1 attempt left."
        );
        assert_eq!(
            CodeError::Wrong { attempts_left: 3 }.to_string(),
            "That code isn't right. 3 attempts left."
        );
    }
}
