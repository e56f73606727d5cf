//! The wrong entries of an SMS code: `Store::reserve_code_entry` against
//! `IssuedCode::reserve_entry`, then `check_reserved`'s outcome applied to
//! both (the right entry uses the code up and gives its place back).

use domain::one_time_code::CodePolicy;
use domain::{CodePurpose, IssuedCode};
use storage::Store;

use super::{Run, SEEDS, STEPS};
use crate::helpers::{T0, binding, code_digest};

on_both_backends!(the_code_entries_follow_reserve_entry);

const PURPOSE: CodePurpose = CodePurpose::SignIn;
const LIFETIME: i64 = 60;

#[derive(Debug, Clone, Copy)]
enum Event {
    /// A new code replaces the last.
    Issue,
    Entry {
        bound_here: bool,
        outcome: Outcome,
    },
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Wrong,
    Right,
    /// Took its place, then refused unchecked (the second step was locked).
    Unchecked,
}

async fn the_code_entries_follow_reserve_entry(store: Store) {
    // The limit is a constant (five entries a code): the seeds vary.
    for (number, seed) in SEEDS.into_iter().enumerate() {
        let account = store
            .create_account(&format!("code-{number}@example.com"), "hash", T0)
            .await
            .unwrap();
        let mut run = Run::new("code entries", seed);
        let mut model: Option<IssuedCode> = None;
        let mut issued: u8 = 0;
        for _ in 0..STEPS {
            if run.rng.percent(25) {
                let edge = model.as_ref().map(|code| code.expires_at);
                run.move_clock(&[LIFETIME], edge);
                agree_on_stored_code(&store, account, &run, &model).await;
                continue;
            }
            let event = if model.is_none() || run.rng.percent(8) {
                Event::Issue
            } else {
                Event::Entry {
                    bound_here: run.rng.percent(90),
                    outcome: run.rng.pick(&[
                        Outcome::Wrong,
                        Outcome::Wrong,
                        Outcome::Wrong,
                        Outcome::Right,
                        Outcome::Unchecked,
                    ]),
                }
            };
            run.event(event);
            match event {
                Event::Issue => {
                    // Never 0, the digest of the wrong entries.
                    issued = issued % 250 + 1;
                    let code = IssuedCode::new(
                        PURPOSE,
                        code_digest(issued),
                        binding(1),
                        run.now,
                        CodePolicy::with_lifetime(LIFETIME),
                    );
                    store.save_code(account, &code, None).await.unwrap();
                    model = Some(code);
                }
                Event::Entry {
                    bound_here,
                    outcome,
                } => {
                    let bound_to = binding(if bound_here { 1 } else { 2 });
                    let Some(code) = model.as_mut() else {
                        continue;
                    };
                    let expected = code.reserve_entry(PURPOSE, &bound_to, run.now);
                    run.note(expected);
                    run.got_place(expected.is_ok());
                    let reserved = store
                        .reserve_code_entry(account, PURPOSE, &bound_to, run.now)
                        .await
                        .unwrap()
                        .map(|stored| stored.code);
                    let expected_code = expected.is_ok().then(|| code.clone());
                    run.agree("the reservation", &reserved, &expected_code);
                    if expected.is_ok() {
                        enter(&store, account, &mut run, code, outcome).await;
                    }
                }
            }
            agree_on_stored_code(&store, account, &run, &model).await;
        }
        run.finish();
    }
}

async fn enter(
    store: &Store,
    account: domain::AccountId,
    run: &mut Run,
    code: &mut IssuedCode,
    outcome: Outcome,
) {
    match outcome {
        Outcome::Right => {
            let digest = code.digest.clone();
            run.note(code.check_reserved(&digest));
            let consumed = store.consume_code(account, code).await.unwrap();
            run.agree("the code's use", &consumed, &true);
        }
        Outcome::Wrong => {
            let other = code_digest(0);
            run.note(code.check_reserved(&other));
        }
        Outcome::Unchecked => {
            store
                .release_code_entry(account, PURPOSE, code.issued_at)
                .await
                .unwrap();
            // SQL-only: an entry refused before its check gives its place back.
            code.wrong_entries = code.wrong_entries.saturating_sub(1);
        }
    }
}

/// After every step: the stored code is the model's.
async fn agree_on_stored_code(
    store: &Store,
    account: domain::AccountId,
    run: &Run,
    model: &Option<IssuedCode>,
) {
    let stored = store
        .code(account, PURPOSE)
        .await
        .unwrap()
        .map(|stored| stored.code);
    run.agree("the stored code", &stored, model);
}
