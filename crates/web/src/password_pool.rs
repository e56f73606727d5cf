//! Argon2id runs off the async runtime, on one dedicated thread per core: a
//! burst of sign-ins queues here instead of starving every other request.
//!
//! Dedicated threads rather than tokio's blocking pool because of memory: each
//! hash needs `memory_kib` (19 MiB by default). Allocated per hash, the allocator
//! kept those blocks, fragmented, in the arena of whichever blocking thread had
//! hashed (over 200 MB after a burst of sign-ins on two cores). Each thread here
//! keeps one block of working memory and reuses it: one block per core, no
//! allocation or zeroing per hash.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use domain::PasswordHasher;
use domain::password::HashMemory;

use crate::metrics::{GaugeGuard, Metrics};

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

#[derive(Clone)]
pub struct PasswordPool {
    jobs: mpsc::Sender<Job>,
    /// The queue's length and each hash's time, queue included, for `/metrics`.
    metrics: Arc<Metrics>,
}

impl PasswordPool {
    /// Starts the hashing threads; they end when the last clone of the pool goes.
    pub fn new(hasher: PasswordHasher, metrics: Arc<Metrics>) -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let (queue, hasher) = (queue.clone(), hasher.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    let mut memory = HashMemory::default();
                    loop {
                        // The lock is held only while waiting, never while hashing.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A panic drops the job's reply, which the caller reports;
                        // the thread stays for the next one.
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&hasher, &mut memory)));
                    }
                })
                .expect("the operating system starts a hashing thread");
        }
        Self { jobs, metrics }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher, &mut HashMemory) -> T + Send + 'static,
    ) -> T {
        // Counted from the moment it asks, so a long queue shows in both metrics.
        let _waiting = GaugeGuard::enter(&self.metrics.password_hash_queue);
        let asked = Instant::now();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |hasher, memory| {
            let _ = reply.send(work(hasher, memory));
        });
        self.jobs
            .send(job)
            .expect("the hashing threads live as long as the pool");
        let answer = answer.await.expect("password hashing does not panic");
        self.metrics
            .password_hash_seconds
            .observe(&[], asked.elapsed());
        answer
    }

    pub async fn hash(&self, password: String) -> String {
        self.run(move |h, memory| h.hash_with(&password, memory))
            .await
    }

    pub async fn verify(&self, password: String, phc: String) -> bool {
        self.run(move |h, memory| h.verify_with(&password, &phc, memory))
            .await
    }

    /// Verifies against `phc` when there is an account, against a decoy otherwise,
    /// so that the answer takes the same time either way.
    pub async fn verify_or_decoy(&self, password: String, phc: Option<String>) -> bool {
        self.run(move |h, memory| match phc {
            Some(phc) => h.verify_with(&password, &phc, memory),
            None => h.verify_decoy_with(&password, memory),
        })
        .await
    }
}
