//! Recovery codes, for the day the phone is gone, and the remembered device, so
//! that a person on their own laptop is not asked for a code at every sign-in.
//!
//! A recovery code is 12 characters from a 32-character alphabet without the
//! look-alikes 0/O and 1/I (60 random bits), written in three groups of four
//! for reading aloud: `7KQ2-9XWD-M4TP`. It is entered with or without the
//! dashes, in any letter case. The store keeps only its keyed digest
//! (`ServerKey::code_digest` over [`RecoveryCode::as_str`]); using one is a
//! compare-and-set, so a code is accepted once.

use std::fmt;

use crate::UnixTime;

/// 8 digits and 24 letters: no 0, 1, I or O, which read alike.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const GROUPS: usize = 3;
const GROUP_LENGTH: usize = 4;
const LENGTH: usize = GROUPS * GROUP_LENGTH;
/// Each character carries 5 bits.
pub const RANDOM_BITS: u32 = 5 * LENGTH as u32;
// The issue asks for at least 50 random bits a code: checked when compiling.
const _: () = assert!(RANDOM_BITS >= 50);

/// The rules of a set of recovery codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryCodePolicy {
    /// How many codes a new set has.
    pub codes_per_set: usize,
    /// With this many left or fewer, the Security tab says to get new ones.
    pub running_low_at: i64,
}

impl Default for RecoveryCodePolicy {
    fn default() -> Self {
        Self {
            codes_per_set: 10,
            running_low_at: 2,
        }
    }
}

impl RecoveryCodePolicy {
    /// A new set, each code drawn independently.
    pub fn generate_set(&self) -> Vec<RecoveryCode> {
        (0..self.codes_per_set)
            .map(|_| RecoveryCode::generate())
            .collect()
    }

    /// Two-step verification is on and the codes left are few (none included):
    /// time to get new ones.
    pub fn is_running_low(&self, remaining: i64) -> bool {
        remaining <= self.running_low_at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryCodeError {
    #[error("Enter a recovery code: 12 letters and digits, like 7KQ2-9XWD-M4TP.")]
    Malformed,
    #[error("That recovery code isn't right, or it has already been used.")]
    WrongOrUsed,
}

/// A recovery code in its one stored form: 12 upper-case characters of the
/// alphabet, no dashes.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn generate() -> Self {
        let bytes = crate::secrets::random_bytes::<LENGTH>();
        // 256 is a multiple of 32, so the low five bits of a byte are uniform.
        Self(
            bytes
                .iter()
                .map(|byte| ALPHABET[usize::from(byte & 31)] as char)
                .collect(),
        )
    }

    /// Reads a code as a person types it: dashes and spaces anywhere, any case.
    pub fn parse(input: &str) -> Result<Self, RecoveryCodeError> {
        let code: String = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(Self(code))
        } else {
            Err(RecoveryCodeError::Malformed)
        }
    }

    /// What the keyed digest is made of.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as shown and downloaded: `7KQ2-9XWD-M4TP`.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(GROUP_LENGTH)
            .map(|group| std::str::from_utf8(group).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// Only a prefix, so that a log line or a failing test never shows a whole code.
impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCode({}…)", &self.0[..2])
    }
}

/// The text file behind **Download**.
pub fn download_text(service: &str, email: &str, codes: &[RecoveryCode]) -> String {
    let mut text = format!(
        "{service} recovery codes for {email}\n\nEach code can be used once, instead of a security code, to sign in if you cannot use your phone or authenticator app.\nKeep them somewhere safe.\n\n"
    );
    for code in codes {
        text.push_str(&code.grouped());
        text.push('\n');
    }
    text
}

/// How long "Don't ask again on this device" lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RememberDevicePolicy {
    pub lifetime_seconds: i64,
}

impl Default for RememberDevicePolicy {
    fn default() -> Self {
        Self {
            lifetime_seconds: 30 * 24 * 60 * 60,
        }
    }
}

impl RememberDevicePolicy {
    /// The instant a device remembered at `now` is asked for a code again.
    pub fn expires_at(&self, remembered_at: UnixTime) -> UnixTime {
        remembered_at + self.lifetime_seconds
    }

    /// A remembered device skips the second step until the instant it expires.
    pub fn skips_second_step(expires_at: UnixTime, now: UnixTime) -> bool {
        now < expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_three_groups_of_four_and_reads_back() {
        let code = RecoveryCode::generate();
        let grouped = code.grouped();
        let groups: Vec<_> = grouped.split('-').collect();
        assert_eq!(groups.len(), 3);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert_eq!(RecoveryCode::parse(&grouped), Ok(code));
    }

    #[test]
    fn the_alphabet_has_thirty_two_characters_and_no_look_alikes() {
        let distinct: std::collections::HashSet<_> = ALPHABET.iter().collect();
        assert_eq!(distinct.len(), 32);
        for look_alike in b"01IO" {
            assert!(!ALPHABET.contains(look_alike), "{}", *look_alike as char);
        }
    }

    #[test]
    fn every_character_of_the_alphabet_is_drawn() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.extend(RecoveryCode::generate().as_str().bytes());
        }
        assert_eq!(seen.len(), 32, "2,400 draws miss none of 32 characters");
    }

    #[test]
    fn a_code_is_read_with_or_without_dashes_in_any_case() {
        let expected = RecoveryCode::parse("7KQ29XWDM4TP").unwrap();
        for typed in [
            "7KQ2-9XWD-M4TP",
            "7kq2-9xwd-m4tp",
            "7kq29xwdm4tp",
            " 7KQ2 9XWD M4TP ",
            "7Kq2‐9xWd‐M4tP",
        ] {
            assert_eq!(RecoveryCode::parse(typed), Ok(expected.clone()), "{typed}");
        }
    }

    #[test]
    fn anything_but_twelve_characters_of_the_alphabet_is_refused() {
        for typed in [
            "",
            "7KQ2-9XWD-M4T",
            "7KQ2-9XWD-M4TPX",
            "7KQ2-9XWD-M4T0",
            "7KQ2-9XWD-M4TO",
            "7KQ2-9XWD-M4T1",
            "7KQ2-9XWD-M4TÄ",
            "123456",
        ] {
            assert_eq!(
                RecoveryCode::parse(typed),
                Err(RecoveryCodeError::Malformed),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_set_has_ten_distinct_codes() {
        let set = RecoveryCodePolicy::default().generate_set();
        assert_eq!(set.len(), 10);
        let distinct: std::collections::HashSet<_> = set.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), 10);
    }

    #[test]
    fn two_or_fewer_left_is_running_low() {
        let policy = RecoveryCodePolicy::default();
        for remaining in 0..=10 {
            assert_eq!(
                policy.is_running_low(remaining),
                remaining <= 2,
                "{remaining}"
            );
        }
    }

    #[test]
    fn the_download_lists_every_code_grouped() {
        let set = RecoveryCodePolicy::default().generate_set();
        let text = download_text("twostep", "ann@example.com", &set);
        assert!(text.contains("ann@example.com"));
        for code in &set {
            assert!(text.contains(&format!("\n{}\n", code.grouped())));
        }
    }

    #[test]
    fn debug_never_shows_a_whole_code() {
        let code = RecoveryCode::parse("7KQ2-9XWD-M4TP").unwrap();
        assert!(!format!("{code:?}").contains("9XWD"));
    }

    #[test]
    fn a_remembered_device_skips_the_code_for_thirty_days_then_asks_again() {
        let policy = RememberDevicePolicy::default();
        let remembered_at = 1_000_000;
        let expires_at = policy.expires_at(remembered_at);
        assert_eq!(expires_at - remembered_at, 30 * 86_400);
        assert!(RememberDevicePolicy::skips_second_step(
            expires_at,
            remembered_at
        ));
        assert!(RememberDevicePolicy::skips_second_step(
            expires_at,
            expires_at - 1
        ));
        assert!(!RememberDevicePolicy::skips_second_step(
            expires_at, expires_at
        ));
    }
}
