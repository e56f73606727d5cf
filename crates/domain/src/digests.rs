//! What the database keeps in place of a secret: a digest, typed by what it
//! stands for, so that a session's digest cannot be passed where a reset link's
//! or a code's is expected.
//!
//! Session ids, half-finished sign-ins, application tokens, reset links and
//! application challenges are 256 random bits, so a plain SHA-256 of each is
//! safe to store (`of`); a one-time code has only a million values, so its
//! digest is keyed (`ServerKey::code_digest`). Every comparison of two digests
//! runs in constant time.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::secrets::{constant_time_eq, hex};

macro_rules! digest {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Eq)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// A digest as it was made or as the store reads it back.
            pub fn from_bytes(bytes: Vec<u8>) -> Self {
                Self(bytes)
            }

            /// The bytes the database stores.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(&self.0, &other.0)
            }
        }

        // A prefix is enough to tell two apart in a test's failure message.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let prefix = &self.0[..self.0.len().min(4)];
                write!(f, concat!(stringify!($name), "({}…)"), hex(prefix))
            }
        }
    };
}

/// The digests of random tokens: made from the token a browser or an application
/// holds, and able to bind a one-time code to the flow that asked for it.
macro_rules! token_digest {
    ($(#[$doc:meta])* $name:ident) => {
        digest!($(#[$doc])* $name);

        impl $name {
            /// The SHA-256 of a high-entropy token.
            pub fn of(token: &str) -> Self {
                Self(Sha256::digest(token.as_bytes()).to_vec())
            }

            /// What a code sent for this flow is bound to.
            pub fn binding(&self) -> CodeBinding {
                CodeBinding(self.0.clone())
            }
        }
    };
}

token_digest!(
    /// A signed-in browser's session id, as stored.
    SessionDigest
);
impl SessionDigest {
    /// How the owner's list of sessions names one in its "Sign out" form:
    /// derived from the digest, so that not even the stored digest leaves the
    /// server, and unrelated to the id in the cookie.
    pub fn handle(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"twostep session handle\0");
        hasher.update(&self.0);
        hex(&hasher.finalize()[..16])
    }
}

token_digest!(
    /// A half-finished sign-in's id (the password is right, the code is awaited).
    PendingSignInDigest
);
token_digest!(
    /// A connected application's bearer token.
    TokenDigest
);
token_digest!(
    /// A password reset link's token.
    ResetLinkDigest
);
token_digest!(
    /// A remembered device's cookie ("Don't ask again on this device").
    DeviceDigest
);
token_digest!(
    /// An application's sign-in challenge, waiting for its second factor.
    ChallengeDigest
);
token_digest!(
    /// The token of a link that confirms an account's e-mail address.
    ConfirmationLinkDigest
);

digest!(
    /// A one-time code's keyed digest (HMAC-SHA-256 under the server's code key).
    CodeDigest
);
digest!(
    /// The digest of the session, half-finished sign-in, reset link or challenge
    /// that asked for a code: the code is accepted only where it was asked for.
    CodeBinding
);
digest!(
    /// What a budget counts per (an address, a number, a client IP), keyed
    /// under the server key so that the table of budgets names no one.
    SubjectDigest
);
