//! The authenticator's wrong codes per step:
//! `Store::reserve_authenticator_attempt` against
//! `authenticator::reserve_attempt`, then `check_reserved`'s outcome applied to
//! both (the right code's claim, the replayed code's release).

use domain::authenticator::{
    self, AuthenticatorError, AuthenticatorSecret, AuthenticatorState, STEP_SECONDS, step_at,
};
use domain::{OtpCode, UnixTime};
use storage::{AuthenticatorRow, Store};

use super::{Run, SEEDS, STEPS};
use crate::helpers::T0;

on_both_backends!(the_authenticator_attempts_follow_reserve_attempt);

#[derive(Debug, Clone, Copy)]
enum Entered {
    /// The app's code of the step this far from now.
    StepAway(i64),
    /// A code of no step near now.
    Wrong,
    /// Took its place, then refused unchecked (the second step was locked).
    Unchecked,
}

async fn the_authenticator_attempts_follow_reserve_attempt(store: Store) {
    // The limit is a constant (three a step), already small: the seeds vary.
    for (number, seed) in SEEDS.into_iter().enumerate() {
        let account = store
            .create_account(&format!("authenticator-{number}@example.com"), "hash", T0)
            .await
            .unwrap();
        let secret = AuthenticatorSecret::from_bytes(seed.to_be_bytes().repeat(3));
        // The store never opens the secret: it keeps the row, the model the state.
        store
            .add_authenticator(account, b"sealed".to_vec(), T0)
            .await
            .unwrap();
        let mut run = Run::new("authenticator", seed);
        let mut model = AuthenticatorState::default();
        for _ in 0..STEPS {
            if run.rng.percent(30) {
                let next_step = (step_at(run.now) + 1) * STEP_SECONDS;
                run.move_clock(&[STEP_SECONDS, 2 * STEP_SECONDS], Some(next_step));
            } else {
                let entered = run.rng.pick(&[
                    Entered::StepAway(-1),
                    Entered::StepAway(0),
                    Entered::StepAway(0),
                    Entered::StepAway(1),
                    Entered::Wrong,
                    Entered::Wrong,
                    Entered::Wrong,
                    Entered::Unchecked,
                ]);
                run.event(entered);
                attempt(&store, account, &secret, &mut run, &mut model, entered).await;
            }
            let stored = store.authenticator(account).await.unwrap().map(state_of);
            run.agree("the stored state", &stored, &Some(model));
        }
        run.finish();
    }
}

async fn attempt(
    store: &Store,
    account: domain::AccountId,
    secret: &AuthenticatorSecret,
    run: &mut Run,
    model: &mut AuthenticatorState,
    entered: Entered,
) {
    let now = run.now;
    let current_step = step_at(now);
    let expected = authenticator::reserve_attempt(model, now);
    let reserved = store
        .reserve_authenticator_attempt(account, current_step)
        .await
        .unwrap();
    run.agree(
        "whether it got a place",
        &reserved.is_some(),
        &expected.is_ok(),
    );
    run.got_place(expected.is_ok());
    if expected.is_err() {
        run.note(expected);
        return;
    }
    run.agree("the reservation", &reserved.map(state_of), &Some(*model));
    let code = match entered {
        Entered::StepAway(by) => authenticator::code_at(secret, now + by * STEP_SECONDS),
        Entered::Wrong => code_of_no_step_near(secret, now),
        Entered::Unchecked => {
            store
                .release_authenticator_attempt(account, current_step)
                .await
                .unwrap();
            // SQL-only: an attempt refused before its check gives its place back.
            model.failed_count = model.failed_count.saturating_sub(1);
            run.note("released");
            return;
        }
    };
    let checked = authenticator::check_reserved(secret, model, &code, now);
    run.note(checked);
    match checked {
        Ok(step) => {
            let claimed = store.record_authenticator_use(account, step).await.unwrap();
            run.agree("the step's claim", &claimed, &true);
        }
        Err(AuthenticatorError::AlreadyUsed) => store
            .release_authenticator_attempt(account, current_step)
            .await
            .unwrap(),
        Err(_) => {}
    }
}

fn state_of(row: AuthenticatorRow) -> AuthenticatorState {
    AuthenticatorState {
        last_used_step: row.last_used_step,
        failed_step: row.failed_step,
        failed_count: u32::try_from(row.failed_count).expect("a count that fits"),
    }
}

/// A six-digit code that is none of the three steps around `now`.
fn code_of_no_step_near(secret: &AuthenticatorSecret, now: UnixTime) -> OtpCode {
    let near: Vec<_> = (-1..=1)
        .map(|by| authenticator::code_at(secret, now + by * STEP_SECONDS))
        .collect();
    (0..4)
        .map(|n| OtpCode::from_number((now as u32).wrapping_mul(7_919).wrapping_add(n) % 1_000_000))
        .find(|code| !near.contains(code))
        .expect("four candidates, at most three taken")
}
