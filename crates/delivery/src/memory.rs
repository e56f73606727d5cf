//! The memory provider: keeps what was sent so that tests can read it back.

use std::sync::{Arc, Mutex, PoisonError};

/// A message with one recipient, so the memory provider can find messages by address.
pub trait Addressed {
    fn to(&self) -> &str;
}

/// What a memory sender has sent, oldest first. Clones share the same list.
#[derive(Debug)]
pub struct MemoryOutbox<T> {
    messages: Arc<Mutex<Vec<T>>>,
}

// Derived `Clone` would require `T: Clone`; sharing the list needs no such bound.
impl<T> Clone for MemoryOutbox<T> {
    fn clone(&self) -> Self {
        Self {
            messages: Arc::clone(&self.messages),
        }
    }
}

impl<T> Default for MemoryOutbox<T> {
    fn default() -> Self {
        Self {
            messages: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T: Clone + Addressed> MemoryOutbox<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first.
    pub fn messages(&self) -> Vec<T> {
        self.lock().clone()
    }

    /// The last message sent to `to`, if any.
    pub fn last_to(&self, to: &str) -> Option<T> {
        self.lock().iter().rev().find(|m| m.to() == to).cloned()
    }

    /// Forgets everything sent so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub(crate) fn push(&self, message: T) {
        self.lock().push(message);
    }

    // A test that panicked while holding the lock must not hide what was sent from the others.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
