//! The account-wide count of wrong second-step codes:
//! `Store::reserve_second_step_attempt` against `WrongCodes::reserve`, with
//! the right code's clear and the unchecked attempt's release.

use domain::lockout::{SecondStepLimits, WrongCodes};
use storage::Store;

use super::{Run, STEPS, runs};
use crate::helpers::T0;

on_both_backends!(the_second_step_count_follows_wrong_codes_reserve);

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Wrong,
    Right,
    /// Refused before any comparison (the code had expired, say).
    Unchecked,
}

async fn the_second_step_count_follows_wrong_codes_reserve(store: Store) {
    let small = [3, 4].map(|consecutive| SecondStepLimits {
        consecutive,
        lock_seconds: 60,
        alert_interval_seconds: 60,
    });
    for (number, (mut limits, configs, seed)) in runs(&small, SecondStepLimits::default())
        .into_iter()
        .enumerate()
    {
        let account = store
            .create_account(&format!("second-step-{number}@example.com"), "hash", T0)
            .await
            .unwrap();
        let mut run = Run::new(format!("second step, {limits:?}"), seed);
        let mut model: Option<WrongCodes> = None;
        for _ in 0..STEPS {
            if run.restart(&configs, &mut limits) {
                // Nothing else this step: the checks below read the state anew.
            } else if run.rng.percent(30) {
                let edge = model.and_then(|wrong| wrong.locked_until);
                run.move_clock(&[limits.lock_seconds], edge);
            } else {
                let outcome = run.rng.pick(&[
                    Outcome::Wrong,
                    Outcome::Wrong,
                    Outcome::Right,
                    Outcome::Unchecked,
                ]);
                run.event(outcome);
                let expected = WrongCodes::reserve(&limits, model, run.now);
                run.note(expected);
                run.got_place(expected.is_ok());
                let reserved = store
                    .reserve_second_step_attempt(account, &limits, run.now)
                    .await
                    .unwrap();
                run.agree("the reservation", &reserved, &expected);
                if let Ok(taken) = expected {
                    model = Some(taken);
                    match outcome {
                        Outcome::Wrong => {}
                        Outcome::Right => {
                            store.clear_second_step_failures(account).await.unwrap();
                            // SQL-only: a right code ends the run of wrong ones and any lock.
                            model = None;
                        }
                        Outcome::Unchecked => {
                            store
                                .release_second_step_attempt(account, limits.consecutive)
                                .await
                                .unwrap();
                            // SQL-only: the place given back, and the lock it started.
                            model = Some(release(taken, &limits));
                        }
                    }
                }
            }
            let stored = store.wrong_second_step_codes(account).await.unwrap();
            run.agree("the stored count", &stored, &model);
        }
        run.finish();
    }
}

fn release(taken: WrongCodes, limits: &SecondStepLimits) -> WrongCodes {
    let count = (taken.count - 1).max(0);
    WrongCodes {
        count,
        locked_until: taken.locked_until.filter(|_| count >= limits.consecutive),
    }
}
