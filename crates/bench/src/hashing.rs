//! The machine's hashing limit: Argon2id verifications per second at the
//! configured parameters, on one thread per core, with nothing else running.

use std::sync::Arc;
use std::time::Instant;

use domain::PasswordHasher;

use domain::password::HashMemory;

use crate::error::{BenchError, Result};
use crate::load::{Gate, Limits, Measured, Sample, process_cpu};

/// Verifies `PASSWORD` against `phc` (the hash every account stores), as the
/// server's hashing threads do at each sign-in: each thread keeps its working
/// memory. The CPU time is this process's, which does nothing else meanwhile.
pub fn limit(
    hasher: &PasswordHasher,
    phc: &str,
    threads: usize,
    limits: Limits,
) -> Result<Measured> {
    let gate = Gate::new(limits);
    let phc: Arc<str> = Arc::from(phc);
    let cpu_before = process_cpu("self")?;
    let started = Instant::now();
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (gate, hasher, phc) = (gate.clone(), hasher.clone(), phc.clone());
            std::thread::spawn(move || {
                let mut samples = Vec::new();
                let mut memory = HashMemory::default();
                while gate.admit() {
                    let start = Instant::now();
                    if !hasher.verify_with(crate::accounts::PASSWORD, &phc, &mut memory) {
                        return Err(BenchError::new("the seeded password hash does not verify"));
                    }
                    samples.push(Sample::since(start));
                }
                Ok(samples)
            })
        })
        .collect();
    let mut samples = Vec::new();
    for worker in workers {
        let more = worker
            .join()
            .map_err(|_| BenchError::new("a hashing thread panicked"))??;
        samples.extend(more);
    }
    let mut measured = Measured::from_samples(samples, started, gate.deadline());
    measured.bench_cpu = process_cpu("self")? - cpu_before;
    Ok(measured)
}
