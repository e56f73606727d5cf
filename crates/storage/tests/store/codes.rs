//! One-time SMS codes: one per purpose, replaced by a new one, and changed only
//! by compare-and-set.

use domain::one_time_code::CodePolicy;
use domain::{CodeError, CodePurpose, IssuedCode};
use storage::{Store, StoredCode};

use crate::helpers::T0;

on_both_backends!(
    a_code_is_kept_per_purpose_with_its_destination,
    a_new_code_replaces_the_previous_one,
    the_second_of_two_identical_attempts_fails,
    each_wrong_entry_is_counted_once,
    an_attempt_read_from_a_replaced_code_fails,
    racing_entries_of_one_code_never_both_win,
);

const BOUND_TO: [u8; 32] = [9; 32];

fn issued(purpose: CodePurpose, digest: u8, now: i64) -> IssuedCode {
    IssuedCode::new(
        purpose,
        vec![digest; 32],
        BOUND_TO.to_vec(),
        now,
        CodePolicy::default(),
    )
}

async fn account(store: &Store) -> i64 {
    store
        .create_account("ann@example.com", "hash", T0)
        .await
        .unwrap()
}

async fn a_code_is_kept_per_purpose_with_its_destination(store: Store) {
    let id = account(&store).await;
    let sign_in = issued(CodePurpose::SignIn, 1, T0);
    let change = issued(CodePurpose::ChangeNumber, 2, T0 + 1);
    store.save_code(id, &sign_in, None).await.unwrap();
    store
        .save_code(id, &change, Some(b"sealed new phone".to_vec()))
        .await
        .unwrap();

    assert_eq!(
        store.code(id, CodePurpose::SignIn).await.unwrap(),
        Some(StoredCode {
            code: sign_in,
            destination_enc: None
        })
    );
    assert_eq!(
        store.code(id, CodePurpose::ChangeNumber).await.unwrap(),
        Some(StoredCode {
            code: change,
            destination_enc: Some(b"sealed new phone".to_vec())
        })
    );
    assert_eq!(store.code(id, CodePurpose::SetUp).await.unwrap(), None);
}

async fn a_new_code_replaces_the_previous_one(store: Store) {
    let id = account(&store).await;
    let first = issued(CodePurpose::SignIn, 1, T0);
    store.save_code(id, &first, None).await.unwrap();
    let mut after = first.clone();
    after.wrong_entries = 2;
    assert!(store.record_code_attempt(id, &first, &after).await.unwrap());

    let second = issued(CodePurpose::SignIn, 2, T0 + 60);
    store.save_code(id, &second, None).await.unwrap();
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code, second, "fresh count, not used");

    store.delete_code(id, CodePurpose::SignIn).await.unwrap();
    assert_eq!(store.code(id, CodePurpose::SignIn).await.unwrap(), None);
}

async fn the_second_of_two_identical_attempts_fails(store: Store) {
    let id = account(&store).await;
    let before = issued(CodePurpose::SignIn, 1, T0);
    store.save_code(id, &before, None).await.unwrap();
    let mut after = before.clone();
    after
        .verify(CodePurpose::SignIn, &[1; 32], &BOUND_TO, T0 + 5)
        .expect("the right code");

    assert!(
        store
            .record_code_attempt(id, &before, &after)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_code_attempt(id, &before, &after)
            .await
            .unwrap()
    );
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert!(stored.code.used);
}

async fn each_wrong_entry_is_counted_once(store: Store) {
    let id = account(&store).await;
    let mut before = issued(CodePurpose::SignIn, 1, T0);
    store.save_code(id, &before, None).await.unwrap();
    for expected in 1..=2 {
        let mut after = before.clone();
        assert!(matches!(
            after.verify(CodePurpose::SignIn, &[0; 32], &BOUND_TO, T0 + 5),
            Err(CodeError::Wrong { .. })
        ));
        assert!(
            store
                .record_code_attempt(id, &before, &after)
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_code_attempt(id, &before, &after)
                .await
                .unwrap(),
            "a stale read does not count again"
        );
        let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
        assert_eq!(stored.code.wrong_entries, expected);
        before = stored.code;
    }
}

async fn an_attempt_read_from_a_replaced_code_fails(store: Store) {
    let id = account(&store).await;
    let old = issued(CodePurpose::SignIn, 1, T0);
    store.save_code(id, &old, None).await.unwrap();
    // The same digits again, as a new code could by chance have.
    let replacement = issued(CodePurpose::SignIn, 1, T0 + 60);
    store.save_code(id, &replacement, None).await.unwrap();
    let mut after = old.clone();
    after.used = true;
    assert!(!store.record_code_attempt(id, &old, &after).await.unwrap());
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code, replacement);
}

async fn racing_entries_of_one_code_never_both_win(store: Store) {
    let id = account(&store).await;
    let before = issued(CodePurpose::SignIn, 1, T0);
    store.save_code(id, &before, None).await.unwrap();
    let mut after = before.clone();
    after.used = true;
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let (store, before, after) = (store.clone(), before.clone(), after.clone());
            tokio::spawn(async move {
                store
                    .record_code_attempt(id, &before, &after)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for attempt in attempts {
        accepted += usize::from(attempt.await.unwrap());
    }
    assert_eq!(accepted, 1);
}
