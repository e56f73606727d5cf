//! A test hook that makes a security change fail between two of its statements,
//! so that tests can show each change happens whole or not at all. It exists only
//! in test builds and with the `fault-injection` feature, never in a release.

use crate::{Store, StoreError};

#[cfg(any(test, feature = "fault-injection"))]
pub(crate) type Faults = std::sync::Arc<std::sync::atomic::AtomicU32>;

impl Store {
    /// Called between the statements of every security change's transaction:
    /// fails there when a test armed a fault for this point, and otherwise
    /// (always, in a release build) does nothing.
    pub(crate) fn between_statements(&self) -> Result<(), StoreError> {
        #[cfg(any(test, feature = "fault-injection"))]
        {
            use std::sync::atomic::Ordering;
            // 0 is "disarmed"; n counts down the points still to pass, failing at 1.
            let previous = self
                .faults
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if previous == Ok(1) {
                return Err(StoreError::Database(crate::DatabaseError::Configuration(
                    "a fault injected by a test",
                )));
            }
        }
        Ok(())
    }

    /// Makes the `n`-th point between statements from now on fail (1 is the
    /// next one), once; 0 disarms.
    #[cfg(any(test, feature = "fault-injection"))]
    pub fn inject_fault_at(&self, n: u32) {
        self.faults.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}
