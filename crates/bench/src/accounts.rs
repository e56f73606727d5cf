//! The benchmark's accounts: who they are (derived from the id, so nothing has to
//! be remembered for a million of them) and which may sign in now.
//!
//! The authenticator's replay rule accepts one code per account per 30-second
//! step, so every sign-in and code check claims an account that has not used the
//! current step yet; the pool hands them out round-robin.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use domain::authenticator::{AuthenticatorSecret, SECRET_BYTES, STEP_SECONDS, code_at, step_at};
use domain::digests::TokenDigest;

/// Every account's password; its one hash is stored for all of them.
pub const PASSWORD: &str = "bench tulip orbit 42 staple";

pub fn email(id: i64) -> String {
    format!("user{id}@bench.example")
}

/// A valid North American number, different for neighbouring accounts.
pub fn phone_e164(id: i64) -> String {
    format!("+1650253{:04}", id % 10_000)
}

pub fn secret(id: i64) -> AuthenticatorSecret {
    let digest = TokenDigest::of(&format!("twostep bench authenticator {id}"));
    AuthenticatorSecret::from_bytes(digest.as_bytes()[..SECRET_BYTES].to_vec())
}

/// Seconds until the next authenticator step, when every account is free again.
pub fn seconds_to_next_step() -> i64 {
    STEP_SECONDS - now().rem_euclid(STEP_SECONDS)
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Accounts `first_id .. first_id + count`, with the last step each one used.
pub struct AccountPool {
    first_id: i64,
    cursor: AtomicUsize,
    last_step: Vec<AtomicI64>,
}

impl AccountPool {
    pub fn new(first_id: i64, count: usize) -> Self {
        Self {
            first_id,
            cursor: AtomicUsize::new(0),
            last_step: (0..count).map(|_| AtomicI64::new(i64::MIN)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.last_step.len()
    }

    /// The next account that has not used the current step, reserved for it.
    pub fn claim(&self) -> Option<i64> {
        let step = step_at(now());
        for _ in 0..self.len() {
            let index = self.cursor.fetch_add(1, Ordering::Relaxed) % self.len();
            let last = self.last_step[index].load(Ordering::Relaxed);
            if last < step
                && self.last_step[index]
                    .compare_exchange(last, step, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return Some(self.first_id + index as i64);
            }
        }
        None
    }

    /// How many accounts have not used the current step: what `claim` can still hand out before the next one.
    pub fn free_now(&self) -> usize {
        let step = step_at(now());
        self.last_step
            .iter()
            .filter(|last| last.load(Ordering::Relaxed) < step)
            .count()
    }

    /// The code the account's app shows now; remembers its step, which the server
    /// will refuse from now on.
    pub fn code_for(&self, id: i64) -> String {
        let now = now();
        let index = (id - self.first_id) as usize;
        self.last_step[index].fetch_max(step_at(now), Ordering::Relaxed);
        code_at(&secret(id), now).as_str().to_owned()
    }

    /// After the server's replay memory was wiped: every account is fresh again.
    pub fn forget_steps(&self) {
        for last in &self.last_step {
            last.store(i64::MIN, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_claimed_at_most_once_per_step() {
        let pool = AccountPool::new(1, 3);
        let mut claimed: Vec<i64> = (0..3).map(|_| pool.claim().unwrap()).collect();
        claimed.sort_unstable();
        assert_eq!(claimed, vec![1, 2, 3]);
        assert_eq!(pool.claim(), None, "every account has used this step");
        assert_eq!(pool.free_now(), 0);
        pool.forget_steps();
        assert_eq!(pool.free_now(), 3);
        assert!(pool.claim().is_some());
        assert_eq!(pool.free_now(), 2);
    }

    #[test]
    fn the_client_computes_the_code_the_server_expects() {
        let pool = AccountPool::new(1, 1);
        let id = pool.claim().unwrap();
        let now = now();
        let code = pool.code_for(id);
        let expected = code_at(&secret(id), now).as_str().to_owned();
        let next = code_at(&secret(id), now + 1).as_str().to_owned();
        assert!(code == expected || code == next);
        assert_eq!(code.len(), 6);
    }
}
