//! Every limit holds under concurrency: a hundred wrong attempts at one account
//! sent at once get no more places than the limit allows, and the right answer
//! sent after them gets none (so it is never checked).

use domain::AccountId;
use domain::authenticator::{MAX_WRONG_CODES_PER_STEP, step_at};
use domain::lockout::{SecondStepLimits, SecondStepLocked, WrongCodes};
use domain::one_time_code::{CodePolicy, MAX_WRONG_ENTRIES};
use domain::security_question::MAX_WRONG_ANSWERS;
use domain::throttle::{ConsecutiveFailures, PasswordLimits};
use domain::{CodeError, CodePurpose, IssuedCode};
use storage::{PasswordAttempt, Store};

use crate::helpers::{
    T0, account_with_authenticator, binding, code_digest, digest, race, two_accounts,
};

on_both_backends!(
    a_hundred_parallel_wrong_passwords_get_ten_places_and_make_the_client_wait,
    a_hundred_parallel_wrong_passwords_from_a_hundred_clients_get_the_run_s_places,
    a_hundred_parallel_wrong_second_step_codes_get_ten_places_and_lock_every_method,
    a_second_step_attempt_refused_unchecked_gives_back_its_place_and_its_lock,
    the_password_alert_is_claimed_once_an_hour_whoever_races,
    a_hundred_parallel_wrong_sms_codes_get_five_places_and_end_the_code,
    a_hundred_parallel_wrong_authenticator_codes_get_three_places_in_the_step,
    a_hundred_parallel_wrong_security_answers_get_five_places_on_the_link,
    a_hundred_parallel_resets_through_one_link_reset_once,
);

const ATTEMPTS: usize = 100;
const BOUND_TO: u8 = 9;

/// One attempt at an address from a client: whether it got a place (and so may be checked).
async fn password_attempt(store: &Store, email: &str, client: &str, now: i64) -> bool {
    store
        .reserve_password_attempt(
            PasswordAttempt { email, client },
            &PasswordLimits::default(),
            now,
        )
        .await
        .unwrap()
        .is_ok()
}

async fn a_hundred_parallel_wrong_passwords_get_ten_places_and_make_the_client_wait(store: Store) {
    let placed = race(&store, ATTEMPTS, |store| async move {
        password_attempt(&store, "ann@example.com", "203.0.113.9", T0).await
    })
    .await;
    assert_eq!(placed as i64, PasswordLimits::default().per_client);
    assert!(
        !password_attempt(&store, "ann@example.com", "203.0.113.9", T0 + 1).await,
        "no place, so never checked"
    );
    assert!(
        password_attempt(&store, "ann@example.com", "192.0.2.1", T0 + 1).await,
        "the owner on another network is not held back"
    );
    assert!(
        password_attempt(&store, "bob@example.com", "203.0.113.9", T0 + 1).await,
        "another address is not held back"
    );
    assert_eq!(
        store
            .consecutive_failed_passwords("ann@example.com")
            .await
            .unwrap(),
        Some(ConsecutiveFailures(11)),
        "the refused ones gave their place in the run back"
    );
}

async fn a_hundred_parallel_wrong_passwords_from_a_hundred_clients_get_the_run_s_places(
    store: Store,
) {
    let limits = PasswordLimits {
        consecutive: 30,
        ..PasswordLimits::default()
    };
    let clients: Vec<String> = (0..ATTEMPTS).map(|n| format!("198.51.100.{n}")).collect();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let store = store.clone();
            tokio::spawn(async move {
                let attempt = PasswordAttempt {
                    email: "ann@example.com",
                    client: &client,
                };
                store
                    .reserve_password_attempt(attempt, &limits, T0)
                    .await
                    .unwrap()
                    .is_ok()
            })
        })
        .collect();
    let mut placed = 0;
    for task in tasks {
        placed += i64::from(task.await.unwrap());
    }
    assert_eq!(placed, 30, "many networks still share the address's run");
}

async fn a_hundred_parallel_wrong_second_step_codes_get_ten_places_and_lock_every_method(
    store: Store,
) {
    let ann = two_accounts(&store).await.ann;
    let limits = SecondStepLimits::default();
    let reserved: Vec<_> = {
        let tasks: Vec<_> = (0..ATTEMPTS)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .reserve_second_step_attempt(ann, &limits, T0)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    };
    let placed: Vec<_> = reserved.iter().filter_map(|r| r.ok()).collect();
    assert_eq!(placed.len(), 10);
    assert_eq!(
        placed.iter().filter(|r| r.locks(&limits)).count(),
        1,
        "one attempt takes the last place and starts the lock"
    );
    let lock = SecondStepLocked { until: T0 + 900 };
    assert!(reserved.iter().filter_map(|r| r.err()).all(|e| e == lock));
    assert_eq!(
        store
            .reserve_second_step_attempt(ann, &limits, T0 + 899)
            .await
            .unwrap(),
        Err(lock)
    );
    let after = store
        .reserve_second_step_attempt(ann, &limits, T0 + 900)
        .await
        .unwrap()
        .expect("the lock has run out");
    assert_eq!(after.count, 1, "and the count starts again");
    store.clear_second_step_failures(ann).await.unwrap();
    assert_eq!(store.wrong_second_step_codes(ann).await.unwrap(), None);
}

async fn a_second_step_attempt_refused_unchecked_gives_back_its_place_and_its_lock(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let limits = SecondStepLimits {
        consecutive: 2,
        ..SecondStepLimits::default()
    };
    for _ in 0..2 {
        store
            .reserve_second_step_attempt(ann, &limits, T0)
            .await
            .unwrap()
            .expect("a place");
    }
    store.release_second_step_attempt(ann, 2).await.unwrap();
    assert_eq!(
        store.wrong_second_step_codes(ann).await.unwrap(),
        Some(WrongCodes {
            count: 1,
            locked_until: None
        })
    );
    assert!(
        store
            .reserve_second_step_attempt(ann, &limits, T0)
            .await
            .unwrap()
            .is_ok()
    );
}

async fn the_password_alert_is_claimed_once_an_hour_whoever_races(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let claimed = race(&store, ATTEMPTS, move |store| async move {
        store
            .claim_password_alert(ann, T0, T0 - 3600)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(claimed, 1);
    assert!(
        !store
            .claim_password_alert(ann, T0 + 3599, T0 - 1)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_password_alert(ann, T0 + 3600, T0)
            .await
            .unwrap()
    );
}

async fn a_hundred_parallel_wrong_sms_codes_get_five_places_and_end_the_code(store: Store) {
    let accounts = two_accounts(&store).await;
    let ann = accounts.ann;
    let code = IssuedCode::new(
        CodePurpose::SignIn,
        code_digest(7),
        binding(BOUND_TO),
        T0,
        CodePolicy::default(),
    );
    store.save_code(ann, &code, None).await.unwrap();
    store.save_code(accounts.bob, &code, None).await.unwrap();
    // Each attempt is what verification does: reserve, and check only with a place.
    let checked = race(&store, ATTEMPTS, |store| async move {
        let Some(reserved) = store
            .reserve_code_entry(ann, CodePurpose::SignIn, &binding(BOUND_TO), T0 + 5)
            .await
            .unwrap()
        else {
            return false;
        };
        let mut code = reserved.code;
        assert!(matches!(
            code.check_reserved(&code_digest(0)),
            Err(CodeError::Wrong { .. } | CodeError::TooManyAttempts)
        ));
        true
    })
    .await;
    assert_eq!(checked as u32, MAX_WRONG_ENTRIES);
    let right_code_later = store
        .reserve_code_entry(ann, CodePurpose::SignIn, &binding(BOUND_TO), T0 + 6)
        .await
        .unwrap();
    assert_eq!(right_code_later, None, "no place, so never checked");
    let stored = store.code(ann, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code.wrong_entries, MAX_WRONG_ENTRIES);
    assert!(!stored.code.used);
    let bobs = store
        .code(accounts.bob, CodePurpose::SignIn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bobs.code.wrong_entries, 0, "Bob's code is untouched");
}

/// One authenticator code for `step`: whether it got a place in the step.
async fn authenticator_attempt(store: &Store, id: AccountId, step: i64) -> bool {
    store
        .reserve_authenticator_attempt(id, step)
        .await
        .unwrap()
        .is_some()
}

async fn a_hundred_parallel_wrong_authenticator_codes_get_three_places_in_the_step(store: Store) {
    let ann = account_with_authenticator(&store).await.ann;
    let step = step_at(T0 + 100);
    let placed = race(&store, ATTEMPTS, |store| async move {
        authenticator_attempt(&store, ann, step).await
    })
    .await;
    assert_eq!(placed as u32, MAX_WRONG_CODES_PER_STEP);
    assert!(
        !authenticator_attempt(&store, ann, step).await,
        "the right code later in the step gets no place, so it is never checked"
    );
    assert!(
        authenticator_attempt(&store, ann, step + 1).await,
        "the next step starts again"
    );
}

/// Ann's account with a reset link "link", valid for an hour from `T0`.
async fn ann_with_a_reset_link(store: &Store) -> AccountId {
    let ann = two_accounts(store).await.ann;
    store
        .create_password_reset(&digest::reset_link("link"), ann, T0, T0 + 3600)
        .await
        .unwrap();
    ann
}

/// One security answer through the link: whether it got a place.
async fn answer_attempt(store: &Store, now: i64) -> bool {
    store
        .reserve_reset_answer(&digest::reset_link("link"), now)
        .await
        .unwrap()
        .is_some()
}

async fn a_hundred_parallel_wrong_security_answers_get_five_places_on_the_link(store: Store) {
    ann_with_a_reset_link(&store).await;
    let placed = race(&store, ATTEMPTS, |store| async move {
        answer_attempt(&store, T0 + 5).await
    })
    .await;
    assert_eq!(placed as i64, MAX_WRONG_ANSWERS);
    assert!(
        !answer_attempt(&store, T0 + 6).await,
        "the right answer later gets no place, so it is never checked"
    );
    let row = store
        .password_reset(&digest::reset_link("link"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.wrong_answers, MAX_WRONG_ANSWERS);
}

/// One reset through the link, to `password_hash`: whether it reset.
async fn reset_attempt(store: &Store, password_hash: &str, now: i64) -> bool {
    store
        .complete_password_reset(&digest::reset_link("link"), password_hash, true, now)
        .await
        .unwrap()
        .is_some()
}

async fn a_hundred_parallel_resets_through_one_link_reset_once(store: Store) {
    let ann = ann_with_a_reset_link(&store).await;
    assert!(
        !reset_attempt(&store, "early hash", T0 + 1).await,
        "a link that must be verified first resets nothing before"
    );
    store
        .mark_password_reset_verified(&digest::reset_link("link"), T0 + 5)
        .await
        .unwrap();
    let reset = race(&store, ATTEMPTS, |store| async move {
        reset_attempt(&store, "new hash", T0 + 10).await
    })
    .await;
    assert_eq!(reset, 1);
    assert!(!reset_attempt(&store, "another hash", T0 + 11).await);
    let account = store.account_by_id(ann).await.unwrap().unwrap();
    assert_eq!(account.password_hash, "new hash");
}
