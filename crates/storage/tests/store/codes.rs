//! One-time SMS codes: one per purpose, replaced by a new one, an entry reserved
//! before it is checked, and used up by compare-and-set.

use domain::one_time_code::CodePolicy;

use domain::{AccountId, CodeError, CodePurpose, IssuedCode};
use storage::{Store, StoredCode};

use crate::helpers::{T0, binding, code_digest, race, two_accounts};

on_both_backends!(
    a_code_is_kept_per_purpose_with_its_destination,
    a_new_code_replaces_the_previous_one,
    the_second_of_two_identical_attempts_fails,
    each_wrong_entry_is_counted_once,
    an_attempt_read_from_a_replaced_code_fails,
    an_entry_gets_no_place_in_an_expired_or_foreign_code,
    racing_entries_of_one_code_never_both_win,
);

const BOUND_TO: u8 = 9;

fn issued(purpose: CodePurpose, digest: u8, now: i64) -> IssuedCode {
    IssuedCode::new(
        purpose,
        code_digest(digest),
        binding(BOUND_TO),
        now,
        CodePolicy::default(),
    )
}

/// Ann's account with a sign-in code saved, bound to `BOUND_TO`.
async fn ann_with_a_sign_in_code(store: &Store) -> (AccountId, IssuedCode) {
    let id = two_accounts(store).await.ann;
    let code = issued(CodePurpose::SignIn, 1, T0);
    store.save_code(id, &code, None).await.unwrap();
    (id, code)
}

/// An entry for the account's sign-in code from the session it is bound to.
async fn reserve_sign_in_entry(store: &Store, id: AccountId, now: i64) -> Option<StoredCode> {
    store
        .reserve_code_entry(id, CodePurpose::SignIn, &binding(BOUND_TO), now)
        .await
        .unwrap()
}

async fn a_code_is_kept_per_purpose_with_its_destination(store: Store) {
    let id = two_accounts(&store).await.ann;
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
    let (id, _first) = ann_with_a_sign_in_code(&store).await;
    let reserved = reserve_sign_in_entry(&store, id, T0 + 1).await;
    assert_eq!(reserved.unwrap().code.wrong_entries, 1);

    let second = issued(CodePurpose::SignIn, 2, T0 + 60);
    store.save_code(id, &second, None).await.unwrap();
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code, second, "fresh count, not used");

    store.delete_code(id, CodePurpose::SignIn).await.unwrap();
    assert_eq!(store.code(id, CodePurpose::SignIn).await.unwrap(), None);
}

async fn the_second_of_two_identical_attempts_fails(store: Store) {
    let (id, code) = ann_with_a_sign_in_code(&store).await;
    for _ in 0..2 {
        reserve_sign_in_entry(&store, id, T0 + 5)
            .await
            .expect("a place");
    }

    assert!(store.consume_code(id, &code).await.unwrap());
    assert!(!store.consume_code(id, &code).await.unwrap());
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert!(stored.code.used);
    assert_eq!(
        stored.code.wrong_entries, 1,
        "the right entry gave its place back, the other kept it"
    );
    assert_eq!(
        reserve_sign_in_entry(&store, id, T0 + 6).await,
        None,
        "a used code takes no more entries"
    );
}

async fn an_entry_gets_no_place_in_an_expired_or_foreign_code(store: Store) {
    let (id, code) = ann_with_a_sign_in_code(&store).await;
    let reserve = |purpose, bound_to: u8, now| {
        let store = store.clone();
        async move {
            store
                .reserve_code_entry(id, purpose, &binding(bound_to), now)
                .await
                .unwrap()
        }
    };
    assert_eq!(reserve(CodePurpose::SignIn, 8, T0).await, None);
    assert_eq!(reserve(CodePurpose::SetUp, BOUND_TO, T0).await, None);
    assert_eq!(
        reserve(CodePurpose::SignIn, BOUND_TO, code.expires_at).await,
        None
    );
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code, code, "refused entries counted nothing");
}

async fn each_wrong_entry_is_counted_once(store: Store) {
    let (id, _code) = ann_with_a_sign_in_code(&store).await;
    for expected in 1..=domain::one_time_code::MAX_WRONG_ENTRIES {
        let reserved = reserve_sign_in_entry(&store, id, T0 + 5)
            .await
            .expect("a place");
        assert_eq!(reserved.code.wrong_entries, expected);
        let mut checked = reserved.code;
        assert!(matches!(
            checked.check_reserved(&code_digest(0)),
            Err(CodeError::Wrong { .. } | CodeError::TooManyAttempts)
        ));
    }
    assert_eq!(
        reserve_sign_in_entry(&store, id, T0 + 5).await,
        None,
        "a sixth entry gets no place"
    );
}

async fn an_attempt_read_from_a_replaced_code_fails(store: Store) {
    let (id, old) = ann_with_a_sign_in_code(&store).await;
    // The same digits again, as a new code could by chance have.
    let replacement = issued(CodePurpose::SignIn, 1, T0 + 60);
    store.save_code(id, &replacement, None).await.unwrap();
    assert!(!store.consume_code(id, &old).await.unwrap());
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code, replacement);
}

async fn racing_entries_of_one_code_never_both_win(store: Store) {
    let (id, code) = ann_with_a_sign_in_code(&store).await;
    let accepted = race(&store, 6, |store| {
        let code = code.clone();
        async move { store.consume_code(id, &code).await.unwrap() }
    })
    .await;
    assert_eq!(accepted, 1);
}
