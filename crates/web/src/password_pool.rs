//! Argon2id runs off the async runtime, on one dedicated thread per core: a
//! burst of sign-ins queues here instead of starving every other request.
//!
//! Dedicated threads rather than tokio's blocking pool because of memory: each
//! hash needs `memory_kib` (19 MiB by default). Allocated per hash, the allocator
//! kept those blocks, fragmented, in the arena of whichever blocking thread had
//! hashed (over 200 MB after a burst of sign-ins on two cores). Each thread here
//! keeps one block of working memory and reuses it: one block per core, no
//! allocation or zeroing per hash.
//!
//! The queue is bounded: a job first takes a place ([`PasswordPool::reserve`],
//! one atomic step that takes it or refuses), then runs; a job that got no place
//! is refused at once, never queued, and the request answers 503. The place is
//! given back when the job ends on its thread, so a client that goes away while
//! its job waits does not free a place its job still holds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use domain::PasswordHasher;
use domain::password::HashMemory;

use crate::metrics::{GaugeGuard, Limit, Metrics};

/// How many jobs may wait or run at once when the configuration says nothing.
pub const DEFAULT_MAX_WAITING: usize = 64;

/// Every place in the hashing queue is taken: the request is refused unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The service is busy. Try again in a moment.")]
pub struct Overloaded;

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

#[derive(Clone)]
pub struct PasswordPool {
    jobs: mpsc::Sender<Job>,
    /// Places taken (jobs waiting or running), never above `max_waiting`.
    taken: Arc<AtomicUsize>,
    max_waiting: usize,
    /// The queue's length and each hash's time, queue included, for `/metrics`.
    metrics: Arc<Metrics>,
}

impl PasswordPool {
    /// Starts the hashing threads; they end when the last clone of the pool goes.
    /// At most `max_waiting` jobs (at least one) wait or run at any time.
    pub fn new(hasher: PasswordHasher, max_waiting: usize, metrics: Arc<Metrics>) -> Self {
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
        Self {
            jobs,
            taken: Arc::new(AtomicUsize::new(0)),
            max_waiting: max_waiting.max(1),
            metrics,
        }
    }

    /// Takes a place in the queue, or refuses at once when every place is
    /// taken. Taken after the cheap limits (wrong passwords per address), which
    /// give their place back when this refuses.
    pub fn reserve(&self) -> Result<HashPlace, Overloaded> {
        let limit = self.max_waiting;
        let taken = self
            .taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < limit).then_some(taken + 1)
            });
        match taken {
            Ok(_) => Ok(HashPlace {
                pool: self.clone(),
                place: Place(self.taken.clone()),
            }),
            Err(_) => {
                self.metrics.limit_hit(Limit::HashQueue);
                Err(Overloaded)
            }
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, Overloaded> {
        Ok(self.reserve()?.hash(password).await)
    }

    pub async fn verify(&self, password: String, phc: String) -> Result<bool, Overloaded> {
        Ok(self.reserve()?.verify(password, phc).await)
    }
}

/// A place in the hashing queue, given back when dropped.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A taken place in the queue: the right to run one job.
pub struct HashPlace {
    pool: PasswordPool,
    place: Place,
}

impl HashPlace {
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&PasswordHasher, &mut HashMemory) -> T + Send + 'static,
    ) -> T {
        let Self { pool, place } = self;
        // Counted from the moment it asks, so a long queue shows in both metrics.
        let _waiting = GaugeGuard::enter(&pool.metrics.password_hash_queue);
        let asked = Instant::now();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |hasher, memory| {
            // The place is held until the work is done, even if nobody awaits
            // it, and given back before the answer: a caller that asks again
            // as soon as it has its answer finds its place free.
            let answer = work(hasher, memory);
            drop(place);
            let _ = reply.send(answer);
        });
        pool.jobs
            .send(job)
            .expect("the hashing threads live as long as the pool");
        let answer = answer.await.expect("password hashing does not panic");
        pool.metrics
            .password_hash_seconds
            .observe(&[], asked.elapsed());
        answer
    }

    pub async fn hash(self, password: String) -> String {
        self.run(move |h, memory| h.hash_with(&password, memory))
            .await
    }

    pub async fn verify(self, password: String, phc: String) -> bool {
        self.run(move |h, memory| h.verify_with(&password, &phc, memory))
            .await
    }

    /// Verifies against `phc` when there is an account, against a decoy otherwise,
    /// so that the answer takes the same time either way.
    pub async fn verify_or_decoy(self, password: String, phc: Option<String>) -> bool {
        self.run(move |h, memory| match phc {
            Some(phc) => h.verify_with(&password, &phc, memory),
            None => h.verify_decoy_with(&password, memory),
        })
        .await
    }
}
