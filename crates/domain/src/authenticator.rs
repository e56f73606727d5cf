//! The authenticator app: TOTP (RFC 6238) with HMAC-SHA1, 6 digits, 30-second steps.
//!
//! A code is accepted for the previous, current and next step; a code whose step is
//! not later than the last accepted one is refused as already used (RFC 6238 §5.2);
//! three wrong codes within one step lock the authenticator until the next step.
//! An attempt is reserved before it is checked (`reserve_attempt`, then
//! `check_reserved`), so that the store can hold the limit with one statement.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::UnixTime;
use crate::one_time_code::OtpCode;

pub const STEP_SECONDS: i64 = 30;
pub const ACCEPTED_STEPS_AROUND_NOW: i64 = 1;
pub const MAX_WRONG_CODES_PER_STEP: u32 = 3;
/// RFC 4226 §4 asks for at least 128 bits and recommends 160.
pub const SECRET_BYTES: usize = 20;

#[derive(Clone, PartialEq, Eq)]
pub struct AuthenticatorSecret(Vec<u8>);

impl std::fmt::Debug for AuthenticatorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthenticatorSecret(••••)")
    }
}

impl AuthenticatorSecret {
    pub fn generate() -> Self {
        Self(crate::secrets::random_bytes::<SECRET_BYTES>().to_vec())
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn from_base32(text: &str) -> Option<Self> {
        base32_decode(text).map(Self)
    }

    /// RFC 4648 base32 without padding, as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The key for typing by hand, in groups of four: "JBSW Y3DP …".
    pub fn to_base32_grouped(&self) -> String {
        let plain = self.to_base32();
        plain
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32_ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32_ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32_ALPHABET
            .iter()
            .position(|&a| a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// HOTP (RFC 4226) with HMAC-SHA1 and dynamic truncation.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

pub fn step_at(now: UnixTime) -> i64 {
    now.div_euclid(STEP_SECONDS)
}

/// The code an authenticator app shows at `now` (used by tests and the benchmark client).
pub fn code_at(secret: &AuthenticatorSecret, now: UnixTime) -> OtpCode {
    OtpCode::from_number(hotp(secret.as_bytes(), step_at(now) as u64, 6))
}

/// What must be remembered between two checks of one account's authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthenticatorState {
    pub last_used_step: Option<i64>,
    pub failed_step: i64,
    pub failed_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthenticatorError {
    #[error("That code isn't right. Check the time on your device and try the current code.")]
    WrongCode,
    #[error("This code has already been used. Wait for the next code in your authenticator app.")]
    AlreadyUsed,
    #[error(
        "Too many wrong codes. Wait {retry_after_seconds} seconds for the next code in your app."
    )]
    TooManyAttempts { retry_after_seconds: i64 },
    #[error("The authenticator app can be set up only after two-step verification by SMS.")]
    RequiresSms,
}

/// Checks a code and records its effect on `state` (the caller stores it): the
/// two steps below, in memory. The store runs the same two steps against the
/// database, the first as one conditional statement.
pub fn verify(
    secret: &AuthenticatorSecret,
    state: &mut AuthenticatorState,
    code: &OtpCode,
    now: UnixTime,
) -> Result<i64, AuthenticatorError> {
    reserve_attempt(state, now)?;
    check_reserved(secret, state, code, now)
}

/// Whether one more code may be checked in the current step: the rule that the
/// store's reservation (`failed_count + 1 … WHERE failed_step <> current OR
/// failed_count < MAX_WRONG_CODES_PER_STEP`) enforces.
pub fn may_attempt(state: &AuthenticatorState, now: UnixTime) -> Result<(), AuthenticatorError> {
    if state.failed_step == step_at(now) && state.failed_count >= MAX_WRONG_CODES_PER_STEP {
        return Err(too_many_attempts(now));
    }
    Ok(())
}

/// The refusal once the current step's attempts are spent: the next step, and
/// with it the next code in the app, brings new ones.
pub fn too_many_attempts(now: UnixTime) -> AuthenticatorError {
    AuthenticatorError::TooManyAttempts {
        retry_after_seconds: (step_at(now) + 1) * STEP_SECONDS - now,
    }
}

/// Reserve, then check: an attempt first takes its place by counting itself as
/// wrong in the current step (a new step starts again at one), so that codes
/// sent in parallel can never be checked more than three times in one step.
pub fn reserve_attempt(
    state: &mut AuthenticatorState,
    now: UnixTime,
) -> Result<(), AuthenticatorError> {
    may_attempt(state, now)?;
    let current = step_at(now);
    if state.failed_step != current {
        state.failed_step = current;
        state.failed_count = 0;
    }
    state.failed_count += 1;
    Ok(())
}

/// Checks a code that holds a place (`state` already counts it). A wrong code
/// keeps its place; a code already used gives it back (it is no guess); the
/// right code claims its step and clears the count.
pub fn check_reserved(
    secret: &AuthenticatorSecret,
    state: &mut AuthenticatorState,
    code: &OtpCode,
    now: UnixTime,
) -> Result<i64, AuthenticatorError> {
    let current = step_at(now);
    let matching_step = (current - ACCEPTED_STEPS_AROUND_NOW..=current + ACCEPTED_STEPS_AROUND_NOW)
        .find(|&step| {
            let expected = OtpCode::from_number(hotp(secret.as_bytes(), step as u64, 6));
            crate::secrets::constant_time_eq(expected.as_str().as_bytes(), code.as_str().as_bytes())
        });
    match matching_step {
        Some(step) if state.last_used_step.is_some_and(|last| step <= last) => {
            state.failed_count = state.failed_count.saturating_sub(1);
            Err(AuthenticatorError::AlreadyUsed)
        }
        Some(step) => {
            state.last_used_step = Some(step);
            state.failed_step = 0;
            state.failed_count = 0;
            Ok(step)
        }
        None => Err(AuthenticatorError::WrongCode),
    }
}

/// The Key URI that authenticator apps read from the QR code.
pub fn otpauth_url(issuer: &str, account_email: &str, secret: &AuthenticatorSecret) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        percent_encode(account_email),
        secret.to_base32()
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The QR code of `text` as an SVG document.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        for (time, expected) in [
            (59u64, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(RFC_SEED, time / 30, 8), expected, "T = {time}");
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SEED, counter as u64, 6), value);
        }
    }

    fn secret() -> AuthenticatorSecret {
        AuthenticatorSecret::from_bytes(RFC_SEED.to_vec())
    }

    const NOW: UnixTime = 1_800_000_015; // in the middle of a step

    fn code_for_step_offset(offset: i64) -> OtpCode {
        code_at(&secret(), NOW + offset * STEP_SECONDS)
    }

    #[test]
    fn the_previous_current_and_next_step_are_accepted() {
        for offset in [-1, 0, 1] {
            let mut state = AuthenticatorState::default();
            assert_eq!(
                verify(&secret(), &mut state, &code_for_step_offset(offset), NOW),
                Ok(step_at(NOW) + offset)
            );
        }
    }

    #[test]
    fn two_steps_away_is_rejected() {
        for offset in [-2, 2] {
            let mut state = AuthenticatorState::default();
            assert_eq!(
                verify(&secret(), &mut state, &code_for_step_offset(offset), NOW),
                Err(AuthenticatorError::WrongCode)
            );
        }
    }

    #[test]
    fn the_same_code_is_never_accepted_twice_and_its_replay_is_no_guess() {
        let mut state = AuthenticatorState::default();
        let code = code_for_step_offset(0);
        assert!(verify(&secret(), &mut state, &code, NOW).is_ok());
        assert_eq!(state.failed_count, 0, "the right code clears the count");
        assert_eq!(
            verify(&secret(), &mut state, &code, NOW + 1),
            Err(AuthenticatorError::AlreadyUsed)
        );
        assert_eq!(state.failed_count, 0, "a replay gives its place back");
    }

    #[test]
    fn a_wrong_code_after_a_used_one_keeps_its_place() {
        let mut state = AuthenticatorState::default();
        assert!(verify(&secret(), &mut state, &code_for_step_offset(0), NOW).is_ok());
        let wrong = OtpCode::from_number((hotp(RFC_SEED, step_at(NOW) as u64, 6) + 1) % 1_000_000);
        reserve_attempt(&mut state, NOW).unwrap();
        assert_eq!(state.failed_count, 1, "counted before it is checked");
        assert_eq!(
            check_reserved(&secret(), &mut state, &wrong, NOW),
            Err(AuthenticatorError::WrongCode)
        );
        assert_eq!(state.failed_count, 1);
    }

    #[test]
    fn a_code_of_an_older_step_is_refused_after_a_newer_one() {
        let mut state = AuthenticatorState::default();
        assert!(verify(&secret(), &mut state, &code_for_step_offset(1), NOW).is_ok());
        assert_eq!(
            verify(&secret(), &mut state, &code_for_step_offset(0), NOW),
            Err(AuthenticatorError::AlreadyUsed)
        );
        assert_eq!(
            verify(&secret(), &mut state, &code_for_step_offset(-1), NOW),
            Err(AuthenticatorError::AlreadyUsed)
        );
    }

    #[test]
    fn three_wrong_codes_in_one_step_lock_until_the_next_step() {
        let mut state = AuthenticatorState::default();
        let wrong = OtpCode::from_number((hotp(RFC_SEED, step_at(NOW) as u64, 6) + 1) % 1_000_000);
        for _ in 0..3 {
            assert_eq!(
                verify(&secret(), &mut state, &wrong, NOW),
                Err(AuthenticatorError::WrongCode)
            );
        }
        assert_eq!(
            verify(&secret(), &mut state, &code_for_step_offset(0), NOW),
            Err(AuthenticatorError::TooManyAttempts {
                retry_after_seconds: 15
            })
        );
        let next_step = NOW + 15;
        assert!(
            verify(
                &secret(),
                &mut state,
                &code_at(&secret(), next_step),
                next_step
            )
            .is_ok()
        );
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb oi").unwrap(), b"foobar");
        assert_eq!(base32_decode("not base32 1"), None);
        let secret = AuthenticatorSecret::generate();
        assert_eq!(secret.as_bytes().len(), 20);
        assert_eq!(secret.to_base32().len(), 32);
        assert_eq!(
            AuthenticatorSecret::from_base32(&secret.to_base32_grouped()),
            Some(secret)
        );
    }

    #[test]
    fn the_secret_key_is_shown_in_groups_of_four() {
        assert_eq!(
            AuthenticatorSecret::from_bytes(b"foobarfoob".to_vec()).to_base32_grouped(),
            "MZXW 6YTB OJTG 633C"
        );
    }

    #[test]
    fn the_key_uri_names_issuer_and_account() {
        let url = otpauth_url(
            "twostep",
            "ann@example.com",
            &AuthenticatorSecret::from_bytes(b"foobar".to_vec()),
        );
        assert_eq!(
            url,
            "otpauth://totp/twostep:ann@example.com?secret=MZXW6YTBOI&issuer=twostep&algorithm=SHA1&digits=6&period=30"
        );
        let spaced = otpauth_url(
            "My Portal",
            "a+b@example.com",
            &AuthenticatorSecret::from_bytes(b"foobar".to_vec()),
        );
        assert!(spaced.starts_with("otpauth://totp/My%20Portal:a%2Bb@example.com?"));
        assert!(spaced.contains("&issuer=My%20Portal&"));
    }

    #[test]
    fn the_qr_code_is_an_svg_image() {
        let svg = qr_svg("otpauth://totp/twostep:ann@example.com?secret=MZXW6YTBOI");
        assert!(svg.contains("<svg"));
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }
}
