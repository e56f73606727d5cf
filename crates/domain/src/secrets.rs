//! Randomness, hex and constant-time comparison; the keyed operations (code
//! digests, CSRF tokens, encryption at rest) are the server key's, in `server_key`.

use subtle::ConstantTimeEq;

pub use crate::server_key::{KeyId, SecretError, ServerKey};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digests::TokenDigest;

    #[test]
    fn tokens_are_256_bit_hex_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(TokenDigest::of(&a).as_bytes().len(), 32);
    }
}
