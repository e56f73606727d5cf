//! One run, in order: seed, start, idle memory, scale, the hash limit and sign-ins
//! (in alternating slices), the concurrency sweep, healthz and second-step checks
//! (in alternating slices), and memory with 10,000 sessions. Alternating
//! slices put both sides of a ratio under the same background load. With
//! `--instances 2`, the pair behind nginx last (`pair`). Progress goes to stderr;
//! the figures come back as `Results`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use domain::{PasswordHasher, ServerKey};

use crate::Plan;
use crate::accounts::{self, AccountPool};
use crate::cpu::Meter;
use crate::database::Databases;
use crate::error::{BenchError, Result};
use crate::flows::{Csrf, Http, Pending, sign_in_worker};
use crate::load::{Limits, Measured, Sample, measure};
use crate::report::{Results, Scale, thousands};
use crate::target::{self, Credentials, Target};
use crate::{hashing, pair, seed};

/// Code checks per scale round: every account of the small database once.
const SCALE_CHECKS: usize = 1_000;
/// A measurement that is bounded by count keeps a time bound as well.
const COUNTED_TIME_LIMIT: Duration = Duration::from_secs(120);

/// The whole run; the databases it created on PostgreSQL are dropped at the end,
/// however it ended.
pub async fn run(plan: &Plan) -> Result<Results> {
    let databases = Databases::open(&plan.backend).await?;
    let results = run_in(plan, &databases).await;
    databases.drop_all().await;
    results
}

async fn run_in(plan: &Plan, databases: &Databases) -> Result<Results> {
    let load_before = load_average();
    let key_hex = ServerKey::generate_hex();
    let key = ServerKey::from_hex(&key_hex)?;
    let hasher = PasswordHasher::new(plan.params)?;
    // The one hash every account stores, at the configured parameters.
    let password_hash = hasher.hash(accounts::PASSWORD);
    let max_clients = plan
        .sweep
        .iter()
        .copied()
        .chain([plan.concurrency])
        .max()
        .unwrap_or(1);
    let slices = if plan.quick { 2 } else { 3 };

    let main = target::start(
        plan,
        databases,
        "main",
        Credentials {
            key_hex: &key_hex,
            key: &key,
            password_hash: &password_hash,
        },
        plan.accounts,
        max_clients,
    )
    .await?;
    if main.meter.database.is_some() && main.meter.read().await?.database_processes() == 0 {
        progress(
            "PostgreSQL's processes cannot be read from here (another machine?): their CPU time is not counted"
                .into(),
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_mb = main.server.rss_mb()?;
    progress(format!(
        "idle RSS {rss_idle_mb:.1} MB (pid {})",
        main.server.pid()
    ));

    // One sign-in first, so that a broken flow fails at once and clearly.
    main.http.sign_in(&main.pool).await?;

    // Scale first, while both databases differ only in their number of accounts.
    let credentials = Credentials {
        key_hex: &key_hex,
        key: &key,
        password_hash: &password_hash,
    };
    let scale = scale(plan, databases, credentials, &main).await?;

    progress(format!(
        "hash limit on {} threads and sign-ins from {} clients, in {slices} alternating slices",
        plan.cores, plan.concurrency
    ));
    let mut hash = Measured::default();
    let mut signed_in = Measured::default();
    for _ in 0..slices {
        let limits = Limits {
            duration: plan.hash_time / slices,
            max_ops: 1_000_000,
        };
        let (threads, hasher, phc) = (plan.cores, hasher.clone(), password_hash.clone());
        let slice = with_cpu(&main.meter, async move {
            tokio::task::spawn_blocking(move || hashing::limit(&hasher, &phc, threads, limits))
                .await
                .map_err(|e| BenchError::new(e.to_string()))?
        })
        .await?;
        report_line("hash limit", &slice);
        hash = hash.add(&slice);
        // A sign-in costs at least a hash: the hash rate bounds what the slice uses.
        wait_for_free_accounts(
            &main.pool,
            accounts_for(slice.per_second(), plan.sign_in_time / slices),
        )
        .await;
        let slice = with_cpu(
            &main.meter,
            sign_ins(
                &main.http,
                &main.pool,
                plan.concurrency,
                plan.sign_in_time / slices,
            ),
        )
        .await?;
        report_line("sign-ins", &slice);
        signed_in = signed_in.add(&slice);
    }
    let rss_after_sign_ins_mb = main.server.rss_mb()?;
    progress(format!("RSS after sign-ins {rss_after_sign_ins_mb:.1} MB"));

    let mut sweep = Vec::new();
    for &clients in &plan.sweep {
        wait_for_free_accounts(
            &main.pool,
            accounts_for(signed_in.per_second(), plan.sweep_time),
        )
        .await;
        let measured = with_cpu(
            &main.meter,
            sign_ins(&main.http, &main.pool, clients, plan.sweep_time),
        )
        .await?;
        report_line(&format!("sign-ins, {clients} clients"), &measured);
        sweep.push((clients, measured));
    }

    // A probe of 1,000 code checks tells how many half-finished sign-ins outlast
    // the time bound, with a margin; half the accounts at most.
    let probe = seed_checks(&main, SCALE_CHECKS, plan.concurrency).await?;
    let limits = Limits {
        duration: COUNTED_TIME_LIMIT,
        max_ops: SCALE_CHECKS as u64,
    };
    let probe = run_checks(&main, &probe, plan.concurrency, limits).await?;
    let wanted = (probe.per_second() * plan.code_time.as_secs_f64() * 1.5).ceil() as usize;
    let wanted = wanted.clamp(SCALE_CHECKS, main.pool.len() / 2);
    progress(format!(
        "GET /healthz and second-step checks from {} clients, in {slices} alternating slices; seeding {} half-finished sign-ins",
        plan.concurrency,
        thousands(wanted as i64)
    ));
    let queue = seed_checks(&main, wanted, plan.concurrency).await?;
    let mut health = Measured::default();
    let mut code_checks = Measured::default();
    for slice_index in 0..slices {
        let slice = with_cpu(
            &main.meter,
            healthz(&main, plan.concurrency, plan.healthz_time / slices),
        )
        .await?;
        report_line("healthz", &slice);
        health = health.add(&slice);
        // When the accounts cap the seed (quick runs), each slice gets its share,
        // so that no slice finds the queue empty.
        let slices_left = (slices - slice_index) as usize;
        let limits = Limits {
            duration: plan.code_time / slices,
            max_ops: queue.remaining().div_ceil(slices_left) as u64,
        };
        let slice = with_cpu(
            &main.meter,
            run_checks(&main, &queue, plan.concurrency, limits),
        )
        .await?;
        report_line("code checks", &slice);
        code_checks = code_checks.add(&slice);
    }

    progress(format!(
        "{} live sessions, each used once",
        thousands(plan.sessions as i64)
    ));
    let session_ids: Vec<i64> = (0..plan.sessions as i64)
        .map(|i| 1 + i % main.accounts)
        .collect();
    let sessions = seed::sessions(&main.store, session_ids, accounts::now()).await?;
    let used = with_cpu(&main.meter, use_sessions(&main, plan.concurrency, sessions)).await?;
    report_line("GET /account", &used);
    let rss_sessions_mb = main.server.rss_mb()?;
    let live_sessions = main.store.count_sessions().await?;
    progress(format!(
        "RSS {rss_sessions_mb:.1} MB with {} live sessions",
        thousands(live_sessions)
    ));

    let pair = if plan.instances == 2 {
        Some(pair::measure(plan, &main, &key_hex, slices, signed_in.per_second()).await?)
    } else {
        None
    };

    let mut main = main;
    main.server.check_running()?;
    main.server.stop().await?;
    main.store.close().await;

    Ok(Results {
        backend: plan.backend.name(),
        instances: plan.instances,
        pair,
        cores: plan.cores,
        params: plan.params,
        accounts: plan.accounts,
        concurrency: plan.concurrency,
        quick: plan.quick,
        load_before,
        load_after: load_average(),
        rss_idle_mb,
        rss_after_sign_ins_mb,
        hash,
        healthz: health,
        sign_ins: signed_in,
        sweep,
        code_checks,
        sessions_used: plan.sessions,
        live_sessions,
        rss_sessions_mb,
        scale,
    })
}

/// Adds the CPU time the processes of `meter` spent during `measurement`.
pub async fn with_cpu(
    meter: &Meter,
    measurement: impl Future<Output = Result<Measured>>,
) -> Result<Measured> {
    let before = meter.read().await?;
    let measured = measurement.await?;
    let spent = meter.read().await?.since(&before);
    Ok(measured.with_spent(spent))
}

async fn healthz(target: &Target, clients: usize, time: Duration) -> Result<Measured> {
    let limits = Limits {
        duration: time,
        max_ops: u64::MAX,
    };
    measure(clients, limits, |gate| {
        let http = target.http.clone();
        async move {
            let mut samples = Vec::new();
            while gate.admit() {
                let start = Instant::now();
                http.healthz().await?;
                samples.push(Sample::since(start));
            }
            Ok(samples)
        }
    })
    .await
}

/// Full sign-ins through `http` (a server, or nginx) for `time`.
pub async fn sign_ins(
    http: &Http,
    pool: &Arc<AccountPool>,
    clients: usize,
    time: Duration,
) -> Result<Measured> {
    let limits = Limits {
        duration: time,
        max_ops: pool.len() as u64,
    };
    measure(clients, limits, |gate| {
        sign_in_worker(http.clone(), pool.clone(), gate)
    })
    .await
}

/// Half-finished sign-ins waiting for their code, and the browsers that send them.
struct CheckQueue {
    pending: Vec<Pending>,
    next: AtomicUsize,
    csrf: Vec<Csrf>,
    next_csrf: AtomicUsize,
}

impl CheckQueue {
    fn take(&self) -> Option<&Pending> {
        self.pending.get(self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn remaining(&self) -> usize {
        self.pending
            .len()
            .saturating_sub(self.next.load(Ordering::Relaxed))
    }
}

/// Seeds `count` half-finished sign-ins on accounts that have not used this step,
/// and opens the sign-in page in `clients` browsers for their CSRF cookies.
async fn seed_checks(target: &Target, count: usize, clients: usize) -> Result<Arc<CheckQueue>> {
    // The scale rounds, the sweep and earlier probes may have used most accounts in
    // this step.
    wait_for_free_accounts(&target.pool, count).await;
    let ids: Vec<i64> = (0..count).map_while(|_| target.pool.claim()).collect();
    if ids.len() < count {
        return Err(BenchError::new(
            "too few accounts free for the code checks: use more accounts",
        ));
    }
    let pending = seed::pending_sign_ins(&target.store, ids, accounts::now()).await?;
    let mut csrf = Vec::new();
    for _ in 0..clients {
        csrf.push(target.http.csrf().await?);
    }
    Ok(Arc::new(CheckQueue {
        pending,
        next: AtomicUsize::new(0),
        csrf,
        next_csrf: AtomicUsize::new(0),
    }))
}

/// When fewer than `count` accounts have not used this authenticator step, waits
/// for the next, where every account is free again (if `count` fits at all).
pub async fn wait_for_free_accounts(pool: &AccountPool, count: usize) {
    if pool.free_now() < count && count <= pool.len() {
        let wait = accounts::seconds_to_next_step() + 1;
        progress(format!(
            "{} accounts free in this authenticator step, {count} wanted: waiting {wait} s for the next",
            thousands(pool.free_now() as i64)
        ));
        tokio::time::sleep(Duration::from_secs(wait as u64)).await;
    }
}

/// The accounts sign-ins at `per_second` use in `time`, with half again as margin.
pub fn accounts_for(per_second: f64, time: Duration) -> usize {
    (per_second * time.as_secs_f64() * 1.5).ceil() as usize
}

/// Sends the codes of queued half-finished sign-ins from `clients` browsers.
async fn run_checks(
    target: &Target,
    queue: &Arc<CheckQueue>,
    clients: usize,
    limits: Limits,
) -> Result<Measured> {
    measure(clients, limits, |gate| {
        let (http, pool, queue) = (target.http.clone(), target.pool.clone(), queue.clone());
        async move {
            let browser = queue.next_csrf.fetch_add(1, Ordering::Relaxed) % queue.csrf.len();
            let csrf = queue.csrf[browser].clone();
            let mut samples = Vec::new();
            while gate.admit() {
                let Some(pending) = queue.take() else { break };
                let start = Instant::now();
                http.check_code(&csrf, pending, &pool).await?;
                samples.push(Sample::since(start));
            }
            Ok(samples)
        }
    })
    .await
}

async fn use_sessions(
    target: &Target,
    clients: usize,
    sessions: Vec<(String, i64)>,
) -> Result<Measured> {
    let count = sessions.len();
    let queue = Arc::new((sessions, AtomicUsize::new(0)));
    let limits = Limits {
        duration: COUNTED_TIME_LIMIT,
        max_ops: count as u64,
    };
    let measured = measure(clients, limits, |gate| {
        let (http, queue) = (target.http.clone(), queue.clone());
        async move {
            let mut samples = Vec::new();
            while gate.admit() {
                let Some((token, id)) = queue.0.get(queue.1.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let start = Instant::now();
                http.account_page(token, *id).await?;
                samples.push(Sample::since(start));
            }
            Ok(samples)
        }
    })
    .await?;
    if measured.ops != count as u64 {
        return Err(BenchError::new(format!(
            "only {} of {count} sessions were used within {} s",
            measured.ops,
            COUNTED_TIME_LIMIT.as_secs()
        )));
    }
    Ok(measured)
}

/// The second step's cost at 1,000 accounts and at the main size, in alternating
/// rounds of 1,000 checks after one round each to warm up. Between rounds the small
/// database's replay memory is wiped (as if 30 seconds had passed), so that its
/// 1,000 accounts can each be asked for a code again.
async fn scale(
    plan: &Plan,
    databases: &Databases,
    credentials: Credentials<'_>,
    large: &Target,
) -> Result<Scale> {
    let small = target::start(
        plan,
        databases,
        "small",
        credentials,
        plan.small_accounts,
        plan.concurrency,
    )
    .await?;
    let mut totals = [Measured::default(), Measured::default()];
    for round in 0..=plan.scale_rounds {
        for (which, target) in [&small, large].into_iter().enumerate() {
            if which == 0 {
                small.database.reset_authenticators().await?;
                small.pool.forget_steps();
            }
            let queue = seed_checks(target, SCALE_CHECKS, plan.concurrency).await?;
            let limits = Limits {
                duration: COUNTED_TIME_LIMIT,
                max_ops: SCALE_CHECKS as u64,
            };
            let measured = with_cpu(
                &target.meter,
                run_checks(target, &queue, plan.concurrency, limits),
            )
            .await?;
            if measured.ops != SCALE_CHECKS as u64 {
                return Err(BenchError::new(
                    "a scale round did not finish its code checks in time",
                ));
            }
            progress(format!(
                "scale round {round}{}: {} accounts, {:.0} µs per check, server CPU {:.3} ms per check",
                if round == 0 { " (warm-up)" } else { "" },
                thousands(target.accounts),
                measured.micros_per_op(),
                measured.server_cpu_ms()
            ));
            if round > 0 {
                totals[which] = totals[which].add(&measured);
            }
        }
    }
    small.server.stop().await?;
    small.store.close().await;
    let [small_measured, large_measured] = totals;
    Ok(Scale {
        small_accounts: plan.small_accounts,
        large_accounts: large.accounts,
        small: small_measured,
        large: large_measured,
    })
}

/// The 1-, 5- and 15-minute load averages: what else ran on the machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

pub fn progress(message: String) {
    eprintln!("bench: {message}");
}

pub fn report_line(what: &str, m: &Measured) {
    let mut others = String::new();
    if !m.database_cpu.is_zero() {
        others.push_str(&format!(", database {:.3} ms", m.database_cpu_ms()));
    }
    if !m.proxy_cpu.is_zero() {
        others.push_str(&format!(", nginx {:.3} ms", m.proxy_cpu_ms()));
    }
    progress(format!(
        "  {what}: {:.1}/s, p50 {:.2} ms, p99 {:.2} ms ({} in {:.1} s; CPU per op: server {:.3} ms, bench {:.3} ms{others})",
        m.per_second(),
        m.latencies.ms(50.0),
        m.latencies.ms(99.0),
        m.ops,
        m.elapsed.as_secs_f64(),
        m.server_cpu_ms(),
        m.bench_cpu_ms()
    ));
}
