//! The password step's two counts: `Store::reserve_password_attempt` against
//! `ConsecutiveFailures::reserve` (per address, in a row, until a reset) then
//! `FailedPasswords::reserve` (per address and client IP, in a window), with
//! the right password's clear and the unchecked attempt's release.

use domain::AccountId;
use domain::digests::ResetLinkDigest;
use domain::throttle::{ConsecutiveFailures, FailedPasswords, PasswordLimits, PasswordRefused};
use storage::{PasswordAttempt, ReservedPassword, Store};

use super::{Run, STEPS, runs};
use crate::helpers::T0;

on_both_backends!(the_password_counts_follow_the_throttle);

const CLIENTS: [&str; 3] = ["203.0.113.1", "203.0.113.2", "198.51.100.7"];

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Wrong,
    Right,
    /// Refused for load before its password was hashed.
    Unchecked,
}

/// The domain's state of one address: its run, whether the owner was told of
/// its lock, and each client's window.
struct Model {
    consecutive: Option<ConsecutiveFailures>,
    // SQL-only: a lock the owner was told of outlives a clear or release.
    notified: bool,
    by_client: [Option<FailedPasswords>; CLIENTS.len()],
}

async fn the_password_counts_follow_the_throttle(store: Store) {
    let small = [(3, 7), (4, 9)].map(|(per_client, consecutive)| PasswordLimits {
        per_client,
        window_seconds: 60,
        consecutive,
    });
    for (number, (mut limits, configs, seed)) in runs(&small, PasswordLimits::default())
        .into_iter()
        .enumerate()
    {
        let email = format!("password-{number}@example.com");
        // The address has an account, so that a reset can end its lock.
        let account = store.create_account(&email, "hash", T0).await.unwrap();
        let mut run = Run::new(format!("passwords, {limits:?}"), seed);
        let mut model = Model {
            consecutive: None,
            notified: false,
            by_client: [None; CLIENTS.len()],
        };
        // About one clock move per round of the clients' places, so that
        // windows fill before they end, whatever the limit.
        let clock_percent = 100 / (limits.per_client as u64 * CLIENTS.len() as u64 + 1);
        for _ in 0..STEPS {
            let locked = run_count(model.consecutive) >= limits.consecutive;
            if run.restart(&configs, &mut limits) {
                // Nothing else this step: the checks below read the state anew.
            } else if locked && run.rng.percent(10) {
                run.event("a password reset");
                reset_password(&store, account, &run).await;
                // SQL-only: the reset through e-mail ends the locked password step.
                model.consecutive = None;
                model.notified = false;
            } else if run.rng.percent(clock_percent) {
                let edge = model
                    .by_client
                    .iter()
                    .flatten()
                    .map(|failed| failed.window_started_at + limits.window_seconds)
                    .filter(|&end| end > run.now)
                    .min();
                run.move_clock(&[limits.window_seconds], edge);
            } else {
                let client = run.rng.below(CLIENTS.len() as u64) as usize;
                // Mostly wrong: a right one clears, and the run must reach its locks.
                let outcome = match run.rng.below(10) {
                    0 => Outcome::Right,
                    1 => Outcome::Unchecked,
                    _ => Outcome::Wrong,
                };
                run.event((CLIENTS[client], outcome));
                let attempt = PasswordAttempt {
                    email: &email,
                    client: CLIENTS[client],
                };
                attempt_password(
                    &store, attempt, &limits, &mut run, &mut model, client, outcome,
                )
                .await;
            }
            // Compared as the count `ConsecutiveFailures::reserve` reads (none is
            // zero): an attempt its client's window refuses takes its place in
            // the run and gives it back, so after a clear the store keeps a row
            // of 0 where the domain has none. The same state to the rule.
            let stored = store.consecutive_failed_passwords(&email).await.unwrap();
            run.agree(
                "the address's run",
                &run_count(stored),
                &run_count(model.consecutive),
            );
            for (client, expected) in CLIENTS.iter().zip(&model.by_client) {
                let attempt = PasswordAttempt {
                    email: &email,
                    client,
                };
                let stored = store.failed_passwords(attempt).await.unwrap();
                run.agree("a client's window", &stored, expected);
            }
        }
        run.finish();
    }
}

async fn attempt_password(
    store: &Store,
    attempt: PasswordAttempt<'_>,
    limits: &PasswordLimits,
    run: &mut Run,
    model: &mut Model,
    client: usize,
    outcome: Outcome,
) {
    let expected = reserve(limits, model, client, run.now);
    run.note(expected);
    run.got_place(expected.is_ok());
    let reserved = store
        .reserve_password_attempt(attempt, limits, run.now)
        .await
        .unwrap();
    run.agree("the reservation", &reserved, &expected);
    let Ok(taken) = expected else {
        return;
    };
    model.consecutive = Some(taken.consecutive);
    model.by_client[client] = Some(taken.from_client);
    // SQL-only: a place means no lock in force, so an earlier lock's notice is stale.
    model.notified = false;
    match outcome {
        Outcome::Wrong => {
            if taken.consecutive.locks(limits) {
                let claimed = store
                    .claim_password_lock_notice(attempt.email, run.now, limits.consecutive)
                    .await
                    .unwrap();
                // `locks`: the owner is told, once per lock.
                run.agree("the lock notice's claim", &claimed, &true);
                model.notified = true;
            }
        }
        Outcome::Right => {
            store.clear_failed_passwords(attempt).await.unwrap();
            // SQL-only: the right password ends this client's count and the run.
            model.by_client[client] = None;
            if !model.notified {
                model.consecutive = None;
            }
        }
        Outcome::Unchecked => {
            store.release_password_attempt(attempt).await.unwrap();
            // SQL-only: both places given back, as nothing was checked.
            model.by_client[client] = Some(FailedPasswords {
                count: (taken.from_client.count - 1).max(0),
                ..taken.from_client
            });
            if !model.notified {
                model.consecutive = Some(ConsecutiveFailures((taken.consecutive.0 - 1).max(0)));
            }
        }
    }
}

async fn reset_password(store: &Store, account: AccountId, run: &Run) {
    let link = ResetLinkDigest::of(&format!("link {} {}", account.get(), run.step()));
    store
        .create_password_reset(&link, account, run.now, run.now + 3600)
        .await
        .unwrap();
    let reset = store
        .complete_password_reset(&link, "new hash", false, run.now)
        .await
        .unwrap();
    run.agree("the reset", &reset, &Some(account));
}

fn run_count(run: Option<ConsecutiveFailures>) -> i64 {
    run.map_or(0, |ConsecutiveFailures(count)| count)
}

/// The address's run first, then the client's window; an attempt the second
/// refuses keeps no place in the first (`reserve_password_attempt`'s order).
fn reserve(
    limits: &PasswordLimits,
    model: &Model,
    client: usize,
    now: i64,
) -> Result<ReservedPassword, PasswordRefused> {
    let consecutive = ConsecutiveFailures::reserve(limits, model.consecutive)?;
    let from_client = FailedPasswords::reserve(limits, model.by_client[client], now)?;
    Ok(ReservedPassword {
        from_client,
        consecutive,
    })
}
