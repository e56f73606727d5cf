//! The server key: the root of every keyed operation, and how it is rotated.
//!
//! One 32-byte key (configured, or generated into the data directory on first
//! start) derives a key per purpose, so that, e.g., a CSRF token can never be
//! mistaken for a code digest. `ServerKey` is a key ring: the current key, which
//! seals, digests and signs, and the previous ones, which only open and verify,
//! so that instances keep working while `twostep rotate-key` re-seals every value
//! under the current key.
//!
//! A sealed value names the key that sealed it: `"tsk1"`, the key's 8-byte id
//! (an HMAC of the key, which reveals nothing of it), the 12-byte nonce, then
//! AES-256-GCM's ciphertext and tag. Values sealed before key ids existed have
//! no header; they open with whichever key of the ring fits, and are re-sealed
//! with a header by the next rotation.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::digests::{CodeDigest, SubjectDigest};
use crate::secrets::{constant_time_eq, hex, random_bytes};

type HmacSha256 = Hmac<Sha256>;

const MAGIC: &[u8; 4] = b"tsk1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The magic and the key id: what `sealed_header` compares.
pub const SEALED_HEADER_LEN: usize = MAGIC.len() + 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the server key must be 32 bytes (64 hex characters)")]
    BadServerKey,
    #[error("encrypted data could not be decrypted with this server key")]
    Undecryptable,
}

/// Which server key sealed a value; shown to operators as 16 hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = decode_hex(text)?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// What one 32-byte key derives.
#[derive(Clone)]
struct DerivedKeys {
    id: KeyId,
    encryption: Aes256Gcm,
    code_key: [u8; 32],
    csrf_key: [u8; 32],
}

impl DerivedKeys {
    fn from_root(root: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = HmacSha256::new_from_slice(root).expect("HMAC takes any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        let encryption_key = derive(b"twostep encryption at rest");
        let id = derive(b"twostep key id");
        Self {
            id: KeyId(id[..8].try_into().expect("8 of 32 bytes")),
            encryption: Aes256Gcm::new_from_slice(&encryption_key).expect("32-byte AES key"),
            code_key: derive(b"twostep one-time code digests"),
            csrf_key: derive(b"twostep csrf tokens"),
        }
    }

    fn open(&self, nonce_and_ciphertext: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        if nonce_and_ciphertext.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce_bytes, ciphertext) = nonce_and_ciphertext.split_at(NONCE_LEN);
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

    fn code_digest(&self, context: &str, code: &str) -> CodeDigest {
        let mut mac =
            HmacSha256::new_from_slice(&self.code_key).expect("HMAC takes any key length");
        mac.update(context.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        CodeDigest::from_bytes(mac.finalize().into_bytes().to_vec())
    }

    fn subject_digest(&self, rule: &str, subject: &str) -> SubjectDigest {
        let mut mac =
            HmacSha256::new_from_slice(&self.code_key).expect("HMAC takes any key length");
        mac.update(b"budget\0");
        mac.update(rule.as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        SubjectDigest::from_bytes(mac.finalize().into_bytes().to_vec())
    }

    fn csrf_token(&self, cookie_value: &str) -> String {
        let mut mac =
            HmacSha256::new_from_slice(&self.csrf_key).expect("HMAC takes any key length");
        mac.update(cookie_value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// The current server key and the previous ones still accepted.
#[derive(Clone)]
pub struct ServerKey {
    current: DerivedKeys,
    previous: Vec<DerivedKeys>,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(••••)")
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.is_ascii() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

impl ServerKey {
    pub fn generate_hex() -> String {
        hex(&random_bytes::<32>())
    }

    /// A ring of one key, given as 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let root: [u8; 32] = decode_hex(text.trim())
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(SecretError::BadServerKey)?;
        Ok(Self {
            current: DerivedKeys::from_root(&root),
            previous: Vec::new(),
        })
    }

    /// This ring, also accepting the current keys of `previous` for opening and
    /// verifying (never for sealing). The current key itself is not repeated.
    pub fn with_previous(mut self, previous: impl IntoIterator<Item = ServerKey>) -> Self {
        for key in previous {
            let known = self.ids().any(|id| id == key.current.id);
            if !known {
                self.previous.push(key.current);
            }
        }
        self
    }

    /// This ring without the previous keys in `retired`; the current key stays.
    pub fn without(mut self, retired: &[KeyId]) -> Self {
        self.previous.retain(|key| !retired.contains(&key.id));
        self
    }

    /// The key that seals, digests and signs.
    pub fn id(&self) -> KeyId {
        self.current.id
    }

    pub fn previous_ids(&self) -> Vec<KeyId> {
        self.previous.iter().map(|key| key.id).collect()
    }

    fn ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|key| key.id)
    }

    fn keys(&self) -> impl Iterator<Item = &DerivedKeys> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// AES-256-GCM under the current key with a random nonce; `context` (e.g.
    /// "phone:42") is bound as associated data so that a ciphertext cannot be
    /// moved to another account or field.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes();
        let ciphertext = self
            .current
            .encryption
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut sealed = self.sealed_header();
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// What every value sealed under the current key begins with; the store
    /// finds the values still to re-seal by it.
    pub fn sealed_header(&self) -> Vec<u8> {
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&self.current.id.0);
        header
    }

    /// Opens a value with the key it names, or, for a value sealed before key
    /// ids, with whichever key of the ring fits. A value under a key no longer
    /// in the ring (retired by a rotation) is `Undecryptable`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        if let Some((id, rest)) = split_header(sealed)
            && let Some(key) = self.keys().find(|key| key.id == id)
        {
            return key.open(rest, context);
        }
        // No header, or (one chance in 2^32 for a legacy value's random nonce)
        // one that only looks like it: try the legacy layout with every key.
        self.keys()
            .find_map(|key| key.open(sealed, context).ok())
            .ok_or(SecretError::Undecryptable)
    }

    /// Whether `sealed` is under the current key already.
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.starts_with(&self.sealed_header())
    }

    /// `sealed` opened with the ring and sealed again under the current key.
    pub fn reseal(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        Ok(self.seal(&self.open(sealed, context)?, context))
    }

    /// Keyed digest of a one-time code under the current key. A 6-digit code has
    /// only a million values, so an unkeyed hash in a stolen database would be
    /// reversed at once.
    pub fn code_digest(&self, context: &str, code: &str) -> CodeDigest {
        self.current.code_digest(context, code)
    }

    /// The digest of an entered code to compare with `issued`: under the key that
    /// issued it when one of the ring did, so that a code sent just before a key
    /// change still works; otherwise under the current key (a wrong code).
    pub fn code_digest_for(&self, issued: &CodeDigest, context: &str, code: &str) -> CodeDigest {
        let current = self.current.code_digest(context, code);
        if current == *issued {
            return current;
        }
        self.previous
            .iter()
            .map(|key| key.code_digest(context, code))
            .find(|digest| digest == issued)
            .unwrap_or(current)
    }

    /// The digest of `code` under each key of the ring, the current key first:
    /// for what is kept longer than a rotation (recovery codes), found under
    /// whichever key made it.
    pub fn code_digests(&self, context: &str, code: &str) -> Vec<(KeyId, CodeDigest)> {
        self.keys()
            .map(|key| (key.id, key.code_digest(context, code)))
            .collect()
    }

    /// Keyed digest of what a budget counts per, under the current key; `rule`
    /// keeps one rule's subjects apart from another's. A budget's window is
    /// short, so a key change only starts its counts afresh.
    pub fn subject_digest(&self, rule: &str, subject: &str) -> SubjectDigest {
        self.current.subject_digest(rule, subject)
    }

    /// The signed double-submit CSRF token for a browser's CSRF cookie value.
    pub fn csrf_token(&self, cookie_value: &str) -> String {
        self.current.csrf_token(cookie_value)
    }

    /// Valid when signed by any key of the ring: a form opened before a key
    /// change can still be sent.
    pub fn csrf_token_is_valid(&self, cookie_value: &str, submitted: &str) -> bool {
        !cookie_value.is_empty()
            && self.keys().any(|key| {
                constant_time_eq(
                    key.csrf_token(cookie_value).as_bytes(),
                    submitted.as_bytes(),
                )
            })
    }
}

fn split_header(sealed: &[u8]) -> Option<(KeyId, &[u8])> {
    let rest = sealed.strip_prefix(MAGIC)?;
    let (id, rest) = rest.split_at_checked(8)?;
    Some((KeyId(id.try_into().ok()?), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServerKey {
        ServerKey::from_hex(&ServerKey::generate_hex()).unwrap()
    }

    /// How values were sealed before key ids: nonce and ciphertext only.
    fn legacy_seal(key: &ServerKey, plaintext: &[u8], context: &str) -> Vec<u8> {
        key.seal(plaintext, context)[SEALED_HEADER_LEN..].to_vec()
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
        for cut in 0..sealed.len() {
            assert_eq!(
                key.open(&sealed[..cut], "phone:1"),
                Err(SecretError::Undecryptable)
            );
        }
    }

    #[test]
    fn a_sealed_value_names_its_key_and_any_key_of_the_ring_opens_it() {
        let (old, new) = (key(), key());
        let sealed_old = old.seal(b"secret", "authenticator:7");
        assert!(old.is_current(&sealed_old));
        let ring = new.clone().with_previous([old.clone()]);
        assert!(!ring.is_current(&sealed_old));
        assert_eq!(
            ring.open(&sealed_old, "authenticator:7").unwrap(),
            b"secret"
        );
        let resealed = ring.reseal(&sealed_old, "authenticator:7").unwrap();
        assert!(ring.is_current(&resealed) && new.is_current(&resealed));
        assert_eq!(new.open(&resealed, "authenticator:7").unwrap(), b"secret");
        assert_eq!(
            old.open(&resealed, "authenticator:7"),
            Err(SecretError::Undecryptable),
            "the old key alone cannot open what the new one sealed"
        );
        assert_eq!(
            ring.without(&[old.id()])
                .open(&sealed_old, "authenticator:7"),
            Err(SecretError::Undecryptable),
            "a retired key opens nothing"
        );
    }

    #[test]
    fn values_sealed_before_key_ids_open_with_any_key_of_the_ring_and_are_resealed() {
        let (old, new) = (key(), key());
        let ring = new.clone().with_previous([old.clone()]);
        for i in 0..200 {
            let context = format!("phone:{i}");
            let legacy = legacy_seal(&old, b"+4915123456789", &context);
            assert!(!ring.is_current(&legacy));
            assert_eq!(ring.open(&legacy, &context).unwrap(), b"+4915123456789");
            assert!(ring.is_current(&ring.reseal(&legacy, &context).unwrap()));
            assert!(new.open(&legacy, &context).is_err());
        }
    }

    #[test]
    fn the_current_key_is_never_repeated_among_the_previous_ones_and_stays_when_retired() {
        let key = key();
        let ring = key.clone().with_previous([key.clone(), key.clone()]);
        assert!(ring.previous_ids().is_empty());
        let ring = ring.without(&[key.id()]);
        assert_eq!(ring.id(), key.id());
        assert!(ring.is_current(&ring.seal(b"x", "c")));
    }

    #[test]
    fn key_ids_differ_per_key_read_back_and_do_not_show_the_key() {
        let hex_key = ServerKey::generate_hex();
        let key = ServerKey::from_hex(&hex_key).unwrap();
        assert_ne!(key.id(), self::key().id());
        assert_eq!(KeyId::parse(&key.id().to_string()), Some(key.id()));
        assert_eq!(key.id().to_string().len(), 16);
        assert!(!hex_key.contains(&key.id().to_string()));
        assert_eq!(KeyId::parse("xyz"), None);
        assert_eq!(KeyId::parse("00"), None);
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
    fn a_code_issued_under_a_previous_key_is_checked_under_it() {
        let (old, new) = (key(), key());
        let ring = new.clone().with_previous([old.clone()]);
        let issued = old.code_digest("1:sign_in", "123456");
        assert_eq!(ring.code_digest_for(&issued, "1:sign_in", "123456"), issued);
        assert_eq!(
            ring.code_digest_for(&issued, "1:sign_in", "654321"),
            new.code_digest("1:sign_in", "654321"),
            "a wrong code is digested under the current key, and differs"
        );
        assert_ne!(
            new.code_digest_for(&issued, "1:sign_in", "123456"),
            issued,
            "once the old key is gone, its codes no longer match"
        );
    }

    #[test]
    fn a_code_has_a_digest_under_each_key_of_the_ring_current_first_until_its_key_is_retired() {
        let (old, new) = (key(), key());
        let made = old.code_digest("recovery:1", "7KQ29XWDM4TP");
        let ring = new.clone().with_previous([old.clone()]);
        let digests = ring.code_digests("recovery:1", "7KQ29XWDM4TP");
        assert_eq!(
            digests,
            vec![
                (new.id(), new.code_digest("recovery:1", "7KQ29XWDM4TP")),
                (old.id(), made.clone()),
            ]
        );
        assert!(
            !ring
                .code_digests("recovery:1", "7KQ29XWDM4TQ")
                .iter()
                .any(|(_, digest)| *digest == made)
        );
        assert!(
            !ring
                .without(&[old.id()])
                .code_digests("recovery:1", "7KQ29XWDM4TP")
                .iter()
                .any(|(_, digest)| *digest == made)
        );
    }

    #[test]
    fn a_csrf_token_is_valid_only_for_its_cookie_under_a_key_of_the_ring() {
        let (old, new) = (key(), key());
        let token = new.csrf_token("cookie-a");
        assert!(new.csrf_token_is_valid("cookie-a", &token));
        assert!(!new.csrf_token_is_valid("cookie-b", &token));
        assert!(!new.csrf_token_is_valid("", &new.csrf_token("")));
        assert!(!new.csrf_token_is_valid("cookie-a", ""));
        let signed_by_old = old.csrf_token("cookie-a");
        assert!(!new.csrf_token_is_valid("cookie-a", &signed_by_old));
        let ring = new.with_previous([old.clone()]);
        assert!(ring.csrf_token_is_valid("cookie-a", &signed_by_old));
        assert!(
            !ring
                .without(&[old.id()])
                .csrf_token_is_valid("cookie-a", &signed_by_old)
        );
    }

    #[test]
    fn a_malformed_server_key_is_refused() {
        for text in [
            "abc".to_owned(),
            "zz".repeat(32),
            "é".repeat(32),
            "ab".repeat(33),
        ] {
            assert_eq!(
                ServerKey::from_hex(&text).err(),
                Some(SecretError::BadServerKey),
                "{text}"
            );
        }
    }
}
