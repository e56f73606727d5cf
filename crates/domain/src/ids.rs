//! The account's identity: the one id every crate passes around for an account.
//!
//! The database assigns it; the rules bind codes and sealed secrets to it
//! (`digest_context`, the phone's and authenticator's encryption context). A
//! newtype rather than a bare `i64` so that an account id cannot be mixed up with
//! a connection id, a count or a time.

use std::fmt;

/// An account's id, as the database assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(i64);

impl AccountId {
    /// The id the database gave the account; only the store and tests make one.
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The number the database keys the account by.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
