//! Passwords: the NIST 800-63B policy for new passwords, and Argon2id hashing.
//!
//! Hashing is pure computation but costs tens of milliseconds by design; callers
//! run it off the async runtime.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// Argon2id's working memory (`memory_kib` of it), kept by a thread that hashes
/// again and again. Without it every hash allocates and zeroes the whole block
/// anew, and the allocator keeps those blocks, fragmented, in each thread's arena.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    /// `count` blocks, grown (never shrunk) on demand; None when memory runs out.
    fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if let Some(more) = count.checked_sub(self.0.len()).filter(|&n| n > 0) {
            self.0.try_reserve_exact(more).ok()?;
            self.0.resize(count, Block::new());
        }
        Some(&mut self.0[..count])
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: Params,
    /// A hash of a password nobody knows, verified when an e-mail has no account
    /// so that a wrong e-mail costs exactly as long as a wrong password.
    decoy_hash: String,
}

impl PasswordHasher {
    pub fn new(params: Argon2Params) -> Result<Self, InvalidArgon2Params> {
        let params = params.to_argon2()?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut hasher = Self {
            argon2,
            params,
            decoy_hash: String::new(),
        };
        hasher.decoy_hash = hasher.hash(&crate::secrets::random_token());
        Ok(hasher)
    }

    /// A PHC string (`$argon2id$v=19$m=…`), with a fresh 128-bit salt.
    pub fn hash(&self, password: &str) -> String {
        self.hash_with(password, &mut HashMemory::default())
    }

    /// `hash`, in working memory the caller keeps between calls.
    pub fn hash_with(&self, password: &str, memory: &mut HashMemory) -> String {
        const CANNOT_FAIL: &str =
            "Argon2id with validated parameters and a 16-byte salt cannot fail";
        let salt: [u8; 16] = crate::secrets::random_bytes();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let blocks = memory
            .blocks(self.params.block_count())
            .expect("memory for the configured Argon2id parameters");
        self.argon2
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
            .expect(CANNOT_FAIL);
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).expect(CANNOT_FAIL),
            salt: Some(Salt::new(&salt).expect(CANNOT_FAIL)),
            hash: Some(Output::new(&out).expect(CANNOT_FAIL)),
        }
        .to_string()
    }

    /// False for a wrong password and for a stored hash that cannot be read.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        self.verify_with(password, phc, &mut HashMemory::default())
    }

    /// `verify`, in working memory the caller keeps between calls. The stored
    /// hash's own parameters apply, so hashes made before a change of parameters
    /// still verify.
    pub fn verify_with(&self, password: &str, phc: &str, memory: &mut HashMemory) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let Ok(version) = parsed.version.map(Version::try_from).transpose() else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let mut out = [0u8; Output::MAX_LENGTH];
        let (Some(out), Some(blocks)) = (
            out.get_mut(..expected.len()),
            memory.blocks(params.block_count()),
        ) else {
            return false;
        };
        Argon2::new(algorithm, version.unwrap_or_default(), params)
            .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
            .is_ok()
            && crate::secrets::constant_time_eq(out, expected.as_bytes())
    }

    /// Spends the same time as `verify` and always fails: for unknown e-mails.
    pub fn verify_decoy(&self, password: &str) -> bool {
        self.verify_decoy_with(password, &mut HashMemory::default())
    }

    /// `verify_decoy`, in working memory the caller keeps between calls.
    pub fn verify_decoy_with(&self, password: &str, memory: &mut HashMemory) -> bool {
        let _ = self.verify_with(password, &self.decoy_hash, memory);
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
        for common in ["password", "PassWord1", "12345678"] {
            assert_eq!(
                Password::parse_new(common).err(),
                Some(PasswordError::TooCommon),
                "{common}"
            );
        }
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
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = fast_hasher();
        let theirs = hasher
            .argon2
            .hash_password_with_salt(b"tulip-orbit-42", b"sixteen byte salt")
            .unwrap()
            .to_string();
        assert!(hasher.verify("tulip-orbit-42", &theirs));
        assert!(!hasher.verify("tulip-orbit-43", &theirs));
        let ours = hasher.hash("tulip-orbit-42");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            hasher
                .argon2
                .verify_password(b"tulip-orbit-42", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn kept_memory_serves_hashes_of_other_parameters() {
        let small = fast_hasher();
        let large = PasswordHasher::new(Argon2Params {
            memory_kib: 256,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        let mut memory = HashMemory::default();
        let small_hash = small.hash_with("tulip-orbit-42", &mut memory);
        let large_hash = large.hash_with("tulip-orbit-42", &mut memory);
        for _ in 0..2 {
            assert!(small.verify_with("tulip-orbit-42", &large_hash, &mut memory));
            assert!(large.verify_with("tulip-orbit-42", &small_hash, &mut memory));
            assert!(!small.verify_with("tulip-orbit-4", &small_hash, &mut memory));
        }
        assert!(!small.verify_decoy_with("tulip-orbit-42", &mut memory));
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
