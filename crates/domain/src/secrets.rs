//! Randomness, hashing of tokens and codes, and encryption at rest.
//!
//! One 32-byte server key (generated into the data directory on first start)
//! is the root of every keyed operation; purpose-specific keys are derived from it
//! so that, e.g., a CSRF token can never be mistaken for a code digest.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::digests::{CodeDigest, SubjectDigest};

type HmacSha256 = Hmac<Sha256>;

/// Fills an array from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// 256 random bits as 64 hex characters: session ids, reset tokens, API tokens.
/// Only their digests (`SessionDigest::of`, `TokenDigest::of`, …) are stored.
pub fn random_token() -> String {
    hex(&random_bytes::<32>())
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 0xf) as usize] as char);
    }
    out
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the server key must be 32 bytes (64 hex characters)")]
    BadServerKey,
    #[error("encrypted data could not be decrypted with this server key")]
    Undecryptable,
}

#[derive(Clone)]
pub struct ServerKey {
    encryption: Aes256Gcm,
    code_key: [u8; 32],
    csrf_key: [u8; 32],
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(••••)")
    }
}

impl ServerKey {
    pub fn generate_hex() -> String {
        hex(&random_bytes::<32>())
    }

    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return Err(SecretError::BadServerKey);
        }
        let mut root = [0u8; 32];
        for (i, byte) in root.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                .map_err(|_| SecretError::BadServerKey)?;
        }
        Ok(Self::from_root(&root))
    }

    fn from_root(root: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = HmacSha256::new_from_slice(root).expect("HMAC takes any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        let encryption_key = derive(b"twostep encryption at rest");
        Self {
            encryption: Aes256Gcm::new_from_slice(&encryption_key).expect("32-byte AES key"),
            code_key: derive(b"twostep one-time code digests"),
            csrf_key: derive(b"twostep csrf tokens"),
        }
    }

    /// AES-256-GCM with a random nonce; `context` (e.g. "phone:42") is bound as
    /// associated data so that a ciphertext cannot be moved to another account or field.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let nonce_bytes: [u8; 12] = random_bytes();
        let nonce = Nonce::from(nonce_bytes);
        let ciphertext = self
            .encryption
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut sealed = nonce_bytes.to_vec();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 12 + 16 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce_bytes, ciphertext) = sealed.split_at(12);
        let nonce = Nonce::try_from(nonce_bytes).map_err(|_| SecretError::Undecryptable)?;
        self.encryption
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)
    }

    /// Keyed digest of a one-time code. A 6-digit code has only a million values,
    /// so an unkeyed hash in a stolen database would be reversed at once.
    pub fn code_digest(&self, context: &str, code: &str) -> CodeDigest {
        let mut mac =
            HmacSha256::new_from_slice(&self.code_key).expect("HMAC takes any key length");
        mac.update(context.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        CodeDigest::from_bytes(mac.finalize().into_bytes().to_vec())
    }

    /// Keyed digest of what a budget counts per; `rule` keeps one rule's
    /// subjects apart from another's.
    pub fn subject_digest(&self, rule: &str, subject: &str) -> SubjectDigest {
        let mut mac =
            HmacSha256::new_from_slice(&self.code_key).expect("HMAC takes any key length");
        mac.update(b"budget\0");
        mac.update(rule.as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        SubjectDigest::from_bytes(mac.finalize().into_bytes().to_vec())
    }

    /// The signed double-submit CSRF token for a browser's CSRF cookie value.
    pub fn csrf_token(&self, cookie_value: &str) -> String {
        let mut mac =
            HmacSha256::new_from_slice(&self.csrf_key).expect("HMAC takes any key length");
        mac.update(cookie_value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    pub fn csrf_token_is_valid(&self, cookie_value: &str, submitted: &str) -> bool {
        !cookie_value.is_empty()
            && constant_time_eq(
                self.csrf_token(cookie_value).as_bytes(),
                submitted.as_bytes(),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digests::TokenDigest;

    fn key() -> ServerKey {
        ServerKey::from_hex(&ServerKey::generate_hex()).unwrap()
    }

    #[test]
    fn sealed_data_opens_with_the_same_key_and_context_only() {
        let key = key();
        let sealed = key.seal(b"+16502530000", "phone:1");
        assert!(
            !sealed.windows(4).any(|w| w == b"6502"),
            "plaintext must not show"
        );
        assert_eq!(key.open(&sealed, "phone:1").unwrap(), b"+16502530000");
        assert_eq!(
            key.open(&sealed, "phone:2"),
            Err(SecretError::Undecryptable)
        );
        assert_eq!(
            self::key().open(&sealed, "phone:1"),
            Err(SecretError::Undecryptable)
        );
        assert_eq!(
            key.open(&sealed[..10], "phone:1"),
            Err(SecretError::Undecryptable)
        );
    }

    #[test]
    fn code_digests_depend_on_context_and_code() {
        let key = key();
        assert_eq!(
            key.code_digest("1:sign_in", "123456"),
            key.code_digest("1:sign_in", "123456")
        );
        assert_ne!(
            key.code_digest("1:sign_in", "123456"),
            key.code_digest("2:sign_in", "123456")
        );
        assert_ne!(
            key.code_digest("1:sign_in", "123456"),
            key.code_digest("1:sign_in", "123457")
        );
    }

    #[test]
    fn a_csrf_token_is_valid_only_for_its_cookie() {
        let key = key();
        let token = key.csrf_token("cookie-a");
        assert!(key.csrf_token_is_valid("cookie-a", &token));
        assert!(!key.csrf_token_is_valid("cookie-b", &token));
        assert!(!key.csrf_token_is_valid("", &key.csrf_token("")));
        assert!(!key.csrf_token_is_valid("cookie-a", ""));
    }

    #[test]
    fn a_malformed_server_key_is_refused() {
        assert_eq!(
            ServerKey::from_hex("abc").err(),
            Some(SecretError::BadServerKey)
        );
        assert_eq!(
            ServerKey::from_hex(&"zz".repeat(32)).err(),
            Some(SecretError::BadServerKey)
        );
        assert_eq!(
            ServerKey::from_hex(&"é".repeat(32)).err(),
            Some(SecretError::BadServerKey)
        );
    }

    #[test]
    fn tokens_are_256_bit_hex_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(TokenDigest::of(&a).as_bytes().len(), 32);
    }
}
