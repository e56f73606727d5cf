//! Running one kind of request from C concurrent clients, bounded both in time and
//! in count, and collecting each operation's latency.
//!
//! Throughput counts the operations that finished inside the time window; those
//! still in flight at its end finish and are checked but not counted, so that the
//! ramp-down of the last ones does not dilute the rate.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};
use crate::report::Latencies;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub duration: Duration,
    pub max_ops: u64,
}

/// One finished operation.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    micros: u32,
    done: Instant,
}

impl Sample {
    pub fn since(start: Instant) -> Self {
        let done = Instant::now();
        Self {
            micros: (done - start).as_micros().min(u128::from(u32::MAX)) as u32,
            done,
        }
    }
}

/// What one measurement gives: operations completed in the window, over how long,
/// how fast each, and the CPU time spent on all of them (window and ramp-down).
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub ops: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    /// Every operation run, for the CPU figures.
    pub all_ops: u64,
    pub server_cpu: Duration,
    pub bench_cpu: Duration,
    /// nginx, when the requests went through it.
    pub proxy_cpu: Duration,
    /// PostgreSQL's processes serving the run's database (nothing on SQLite).
    pub database_cpu: Duration,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn micros_per_op(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.ops.max(1) as f64
    }

    pub fn server_cpu_ms(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e3 / self.all_ops.max(1) as f64
    }

    pub fn bench_cpu_ms(&self) -> f64 {
        self.bench_cpu.as_secs_f64() * 1e3 / self.all_ops.max(1) as f64
    }

    pub fn proxy_cpu_ms(&self) -> f64 {
        self.proxy_cpu.as_secs_f64() * 1e3 / self.all_ops.max(1) as f64
    }

    pub fn database_cpu_ms(&self) -> f64 {
        self.database_cpu.as_secs_f64() * 1e3 / self.all_ops.max(1) as f64
    }

    /// Everyone's CPU per operation (servers, benchmark, nginx, database): what
    /// the operation costs the machine.
    pub fn total_cpu_ms(&self) -> f64 {
        self.server_cpu_ms() + self.bench_cpu_ms() + self.proxy_cpu_ms() + self.database_cpu_ms()
    }

    /// With the CPU time spent on it.
    pub fn with_spent(mut self, spent: crate::cpu::Spent) -> Self {
        self.server_cpu = spent.server;
        self.bench_cpu = spent.bench;
        self.proxy_cpu = spent.proxy;
        self.database_cpu = spent.database;
        self
    }

    /// Two measurements of the same thing, taken at different times, as one.
    pub fn add(&self, other: &Measured) -> Measured {
        Measured {
            ops: self.ops + other.ops,
            elapsed: self.elapsed + other.elapsed,
            latencies: self.latencies.merge(&other.latencies),
            all_ops: self.all_ops + other.all_ops,
            server_cpu: self.server_cpu + other.server_cpu,
            bench_cpu: self.bench_cpu + other.bench_cpu,
            proxy_cpu: self.proxy_cpu + other.proxy_cpu,
            database_cpu: self.database_cpu + other.database_cpu,
        }
    }

    /// From the samples of every client, for a window that began at `started`.
    pub fn from_samples(samples: Vec<Sample>, started: Instant, deadline: Instant) -> Self {
        let all_ops = samples.len() as u64;
        let last_done = samples.iter().map(|s| s.done).max().unwrap_or(started);
        let in_window: Vec<u32> = samples
            .iter()
            .filter(|s| s.done <= deadline)
            .map(|s| s.micros)
            .collect();
        Measured {
            ops: in_window.len() as u64,
            elapsed: last_done.min(deadline) - started,
            latencies: Latencies::from_micros(in_window),
            all_ops,
            ..Measured::default()
        }
    }
}

/// Lets operations start until the time or the count runs out.
#[derive(Clone)]
pub struct Gate(Arc<GateInner>);

struct GateInner {
    deadline: Instant,
    started: AtomicU64,
    max_ops: u64,
}

impl Gate {
    pub fn new(limits: Limits) -> Self {
        Self(Arc::new(GateInner {
            deadline: Instant::now() + limits.duration,
            started: AtomicU64::new(0),
            max_ops: limits.max_ops,
        }))
    }

    pub fn admit(&self) -> bool {
        Instant::now() < self.0.deadline
            && self.0.started.fetch_add(1, Ordering::Relaxed) < self.0.max_ops
    }

    pub fn deadline(&self) -> Instant {
        self.0.deadline
    }
}

/// Runs `concurrency` copies of `worker`; each loops on `gate.admit()` and returns
/// one sample per operation. The first error stops the whole measurement.
pub async fn measure<F, Fut>(concurrency: usize, limits: Limits, worker: F) -> Result<Measured>
where
    F: Fn(Gate) -> Fut,
    Fut: Future<Output = Result<Vec<Sample>>> + Send + 'static,
{
    let started = Instant::now();
    let gate = Gate::new(limits);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        workers.spawn(worker(gate.clone()));
    }
    let mut samples = Vec::new();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(more)) => samples.extend(more),
            Ok(Err(error)) => {
                workers.abort_all();
                return Err(error);
            }
            Err(error) => {
                workers.abort_all();
                return Err(BenchError::new(format!("a client task failed: {error}")));
            }
        }
    }
    Ok(Measured::from_samples(samples, started, gate.deadline()))
}

/// CPU time (user and system) a process has used so far, from /proc/PID/stat.
pub fn process_cpu(pid: &str) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces, so fields are counted after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (ticks(11), ticks(12)) {
        // utime and stime, in clock ticks of 1/100 s on Linux.
        (Some(user), Some(system)) => Ok(Duration::from_millis((user + system) * 10)),
        _ => Err(BenchError::new(format!(
            "cannot read CPU time of process {pid}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_operations_finished_in_the_window_count_towards_the_rate() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(1);
        let sample = |after_ms: u64| Sample {
            micros: 1000,
            done: started + Duration::from_millis(after_ms),
        };
        let measured = Measured::from_samples(
            vec![sample(200), sample(900), sample(1300)],
            started,
            deadline,
        );
        assert_eq!(measured.ops, 2);
        assert_eq!(measured.all_ops, 3);
        assert_eq!(measured.elapsed, Duration::from_secs(1));
        assert!((measured.per_second() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_run_that_ends_by_count_lasts_until_its_last_operation() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(10);
        let done = Sample {
            micros: 10,
            done: started + Duration::from_millis(500),
        };
        let measured = Measured::from_samples(vec![done], started, deadline);
        assert_eq!(measured.elapsed, Duration::from_millis(500));
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        assert!(process_cpu("self").is_ok());
    }
}
