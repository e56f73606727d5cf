//! Argon2id runs off the async runtime, on at most one blocking thread per core:
//! a burst of sign-ins queues here instead of starving every other request.

use std::sync::Arc;

use domain::PasswordHasher;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordPool {
    hasher: PasswordHasher,
    permits: Arc<Semaphore>,
}

impl PasswordPool {
    pub fn new(hasher: PasswordHasher) -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self {
            hasher,
            permits: Arc::new(Semaphore::new(threads)),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher) -> T + Send + 'static,
    ) -> T {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || work(&hasher))
            .await
            .expect("password hashing does not panic")
    }

    pub async fn hash(&self, password: String) -> String {
        self.run(move |h| h.hash(&password)).await
    }

    pub async fn verify(&self, password: String, phc: String) -> bool {
        self.run(move |h| h.verify(&password, &phc)).await
    }

    /// Verifies against `phc` when there is an account, against a decoy otherwise,
    /// so that the answer takes the same time either way.
    pub async fn verify_or_decoy(&self, password: String, phc: Option<String>) -> bool {
        self.run(move |h| match phc {
            Some(phc) => h.verify(&password, &phc),
            None => h.verify_decoy(&password),
        })
        .await
    }
}
