//! Passwords: the NIST 800-63B policy for new passwords, and Argon2id hashing.
//!
//! Hashing is pure computation but costs tens of milliseconds by design; callers
//! run it off the async runtime.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The most common passwords of 8 or more characters, lower-cased (SecLists'
/// 10k-most-common list, MIT licence). NIST 800-63B asks new passwords to be
/// checked against such a list.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A new password that satisfies the policy. Only ever held briefly, never logged.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least 8 characters.")]
    TooShort,
    #[error("Use at most 256 characters.")]
    TooLong,
    #[error("This password is one of the most common ones. Choose one that is harder to guess.")]
    TooCommon,
}

impl Password {
    pub fn parse_new(input: &str) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        if is_common(input) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(••••)")
    }
}

fn is_common(input: &str) -> bool {
    let lowered = input.to_lowercase();
    COMMON_PASSWORDS.lines().any(|common| common == lowered)
}

/// Argon2id parameters; the defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Argon2id parameters: {0}")]
pub struct InvalidArgon2Params(String);

impl Argon2Params {
    /// Checks the parameters without hashing anything (a hash costs tens of
    /// milliseconds and, at start-up, memory the allocator may keep).
    pub fn check(self) -> Result<(), InvalidArgon2Params> {
        self.to_argon2().map(|_| ())
    }

    fn to_argon2(self) -> Result<Params, InvalidArgon2Params> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| InvalidArgon2Params(e.to_string()))
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// A hash of a password nobody knows, verified when an e-mail has no account
    /// so that a wrong e-mail costs exactly as long as a wrong password.
    decoy_hash: String,
}

impl PasswordHasher {
    pub fn new(params: Argon2Params) -> Result<Self, InvalidArgon2Params> {
        let params = params.to_argon2()?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self {
            argon2,
            decoy_hash: String::new(),
        };
        hasher.decoy_hash = hasher.hash(&crate::secrets::random_token());
        Ok(hasher)
    }

    /// A PHC string (`$argon2id$v=19$m=…`), with a fresh 128-bit salt.
    pub fn hash(&self, password: &str) -> String {
        let salt: [u8; 16] = crate::secrets::random_bytes();
        self.argon2
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .expect("Argon2id with validated parameters and a 16-byte salt cannot fail")
    }

    /// False for a wrong password and for a stored hash that cannot be read.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => self
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the same time as `verify` and always fails: for unknown e-mails.
    pub fn verify_decoy(&self, password: &str) -> bool {
        let _ = self.verify(password, &self.decoy_hash);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_hasher() -> PasswordHasher {
        PasswordHasher::new(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn a_password_of_seven_characters_is_too_short() {
        assert_eq!(
            Password::parse_new("abcdefg").err(),
            Some(PasswordError::TooShort)
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Password::parse_new("ééééééé").is_err());
        assert!(Password::parse_new("éééééééx9").is_ok());
    }

    #[test]
    fn a_password_of_257_characters_is_too_long() {
        assert_eq!(
            Password::parse_new(&"x".repeat(257)).err(),
            Some(PasswordError::TooLong)
        );
        assert!(Password::parse_new(&"xq7".repeat(85)).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(
            Password::parse_new("password").err(),
            Some(PasswordError::TooCommon)
        );
        assert_eq!(
            Password::parse_new("PassWord1").err(),
            Some(PasswordError::TooCommon)
        );
        assert_eq!(
            Password::parse_new("12345678").err(),
            Some(PasswordError::TooCommon)
        );
    }

    #[test]
    fn an_uncommon_password_is_accepted() {
        assert!(Password::parse_new("correct horse battery staple").is_ok());
    }

    #[test]
    fn a_hash_is_argon2id_and_verifies_only_the_same_password() {
        let hasher = fast_hasher();
        let phc = hasher.hash("tulip-orbit-42");
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hasher.verify("tulip-orbit-42", &phc));
        assert!(!hasher.verify("tulip-orbit-43", &phc));
        assert_ne!(
            phc,
            hasher.hash("tulip-orbit-42"),
            "every hash has its own salt"
        );
    }

    #[test]
    fn a_damaged_stored_hash_never_verifies() {
        assert!(!fast_hasher().verify("anything", "not a phc string"));
    }

    #[test]
    fn the_decoy_never_verifies() {
        assert!(!fast_hasher().verify_decoy("anything"));
    }

    #[test]
    fn impossible_parameters_fail_the_check_without_hashing() {
        let impossible = Argon2Params {
            memory_kib: 1,
            iterations: 0,
            parallelism: 1,
        };
        assert!(impossible.check().is_err());
        assert!(Argon2Params::default().check().is_ok());
    }

    #[test]
    fn impossible_parameters_are_an_error() {
        assert!(
            PasswordHasher::new(Argon2Params {
                memory_kib: 1,
                iterations: 0,
                parallelism: 1
            })
            .is_err()
        );
    }

    #[test]
    fn the_debug_form_hides_the_password() {
        let p = Password::parse_new("tulip-orbit-42").unwrap();
        assert!(!format!("{p:?}").contains("tulip"));
    }
}
