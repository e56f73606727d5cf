//! The authenticator app: replay protection, wrong-code counts, enrolment.

use domain::AccountId;
use domain::digests::SessionDigest;
use storage::{AuthenticatorRow, Store};

use crate::helpers::{Accounts, T0, account_with_authenticator, digest, race, two_accounts};

on_both_backends!(
    the_authenticator_refuses_the_same_or_an_older_step,
    an_accepted_code_resets_the_wrong_code_count,
    racing_uses_of_one_step_never_both_win,
    wrong_codes_sent_in_parallel_are_all_counted,
    an_authenticator_is_removed_once,
    an_enrolment_belongs_to_its_session_and_ends_when_confirmed,
);

async fn the_authenticator_refuses_the_same_or_an_older_step(store: Store) {
    let Accounts {
        ann: id,
        bob: without,
    } = account_with_authenticator(&store).await;
    assert_eq!(
        store.authenticator(id).await.unwrap(),
        Some(AuthenticatorRow {
            secret_enc: b"sealed secret".to_vec(),
            last_used_step: None,
            failed_step: 0,
            failed_count: 0,
            created_at: T0 + 1,
        })
    );
    assert!(store.record_authenticator_use(id, 100).await.unwrap());
    assert!(
        !store.record_authenticator_use(id, 100).await.unwrap(),
        "same step"
    );
    assert!(
        !store.record_authenticator_use(id, 99).await.unwrap(),
        "older step"
    );
    assert!(store.record_authenticator_use(id, 101).await.unwrap());
    let row = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!(row.last_used_step, Some(101));

    assert!(!store.record_authenticator_use(without, 100).await.unwrap());
}

async fn an_accepted_code_resets_the_wrong_code_count(store: Store) {
    let id = account_with_authenticator(&store).await.ann;
    for _ in 0..2 {
        store
            .reserve_authenticator_attempt(id, 100)
            .await
            .unwrap()
            .expect("a place");
    }
    let row = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!((row.failed_step, row.failed_count), (100, 2));
    assert!(store.record_authenticator_use(id, 100).await.unwrap());
    let row = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!(row.failed_count, 0);
    assert_eq!(row.last_used_step, Some(100));
}

async fn racing_uses_of_one_step_never_both_win(store: Store) {
    let id = account_with_authenticator(&store).await.ann;
    let accepted = race(&store, 6, |store| async move {
        store.record_authenticator_use(id, 500).await.unwrap()
    })
    .await;
    assert_eq!(accepted, 1);
}

async fn an_authenticator_is_removed_once(store: Store) {
    let id = account_with_authenticator(&store).await.ann;
    assert!(store.remove_authenticator(id).await.unwrap());
    assert!(!store.remove_authenticator(id).await.unwrap());
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert!(!account.has_authenticator());
    assert!(account.phone_enc.is_some(), "SMS stays on");
}

async fn an_enrolment_belongs_to_its_session_and_ends_when_confirmed(store: Store) {
    let session_a = digest::session("session a");
    let session_b = digest::session("session b");
    let id = two_accounts(&store).await.ann;
    store
        .save_authenticator_enrolment(id, &session_a, b"secret 1".to_vec(), T0)
        .await
        .unwrap();
    assert_eq!(
        enrolment(&store, id, &session_a).await,
        Some((b"secret 1".to_vec(), T0))
    );
    assert_eq!(enrolment(&store, id, &session_b).await, None);

    store
        .save_authenticator_enrolment(id, &session_b, b"secret 2".to_vec(), T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        enrolment(&store, id, &session_a).await,
        None,
        "starting again replaces the enrolment"
    );
    assert_eq!(
        enrolment(&store, id, &session_b).await,
        Some((b"secret 2".to_vec(), T0 + 5))
    );

    store
        .add_authenticator(id, b"secret 2".to_vec(), T0 + 10)
        .await
        .unwrap();
    assert_eq!(enrolment(&store, id, &session_b).await, None);
    let row = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!(row.secret_enc, b"secret 2");
}

async fn wrong_codes_sent_in_parallel_are_all_counted(store: Store) {
    let id = account_with_authenticator(&store).await.ann;
    store
        .reserve_authenticator_attempt(id, 199)
        .await
        .unwrap()
        .expect("a place");
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .reserve_authenticator_attempt(id, 200)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut placed = 0;
    for attempt in attempts {
        placed += usize::from(attempt.await.unwrap());
    }
    let row = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!(
        (placed, row.failed_step, row.failed_count),
        (3, 200, 3),
        "a new step starts at one, and only three attempts get a place"
    );
}

async fn enrolment(
    store: &Store,
    id: AccountId,
    session: &SessionDigest,
) -> Option<(Vec<u8>, i64)> {
    store.authenticator_enrolment(id, session).await.unwrap()
}
