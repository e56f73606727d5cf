//! Connected applications, their challenges, refusal notices, and counted wrong passwords.

use domain::throttle::FailedPasswords;
use storage::{AppIdentity, Store};

use crate::helpers::{Accounts, T0, digest, two_accounts};

on_both_backends!(
    connections_belong_to_their_account_and_die_with_a_password_change,
    a_challenge_is_passed_once,
    a_refusal_notice_is_claimed_once_a_day_per_app_and_device,
    wrong_passwords_are_counted_per_address_within_a_window,
    an_attempt_refused_unchecked_gives_its_place_back_and_never_below_zero,
);

fn photon(device: &str) -> AppIdentity {
    AppIdentity {
        app_id: "photon".into(),
        app_version: "3.0.0".into(),
        device_name: device.into(),
    }
}

async fn connections_belong_to_their_account_and_die_with_a_password_change(store: Store) {
    let token_1 = digest::token("token-1");
    let token_2 = digest::token("token-2");
    let Accounts { ann, bob } = two_accounts(&store).await;
    let laptop = store
        .create_connection(ann, &token_1, &photon("laptop"), T0)
        .await
        .unwrap();
    store
        .create_connection(ann, &token_2, &photon("phone"), T0 + 5)
        .await
        .unwrap();
    let found = store.connection_by_token(&token_1).await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.account_id, found.device_name.as_str()),
        (laptop, ann, "laptop")
    );
    assert!(
        store
            .touch_connection(laptop, T0 + 60, T0 - 1)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .connection_by_token(&token_1)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        T0 + 60
    );
    let listed: Vec<_> = store
        .connections_of_account(ann)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.device_name)
        .collect();
    assert_eq!(listed, ["phone", "laptop"], "newest first");
    assert_eq!(
        store.delete_connection(bob, laptop).await.unwrap(),
        None,
        "only the owner can remove it"
    );
    assert_eq!(
        store
            .delete_connection(ann, laptop)
            .await
            .unwrap()
            .unwrap()
            .device_name,
        "laptop"
    );
    assert_eq!(store.connection_by_token(&token_1).await.unwrap(), None);
    store.set_password(ann, "new hash", T0 + 100).await.unwrap();
    assert!(
        store.connections_of_account(ann).await.unwrap().is_empty(),
        "a new password ends every connection"
    );
}

async fn a_challenge_is_passed_once(store: Store) {
    let challenge = digest::challenge("challenge");
    let ann = two_accounts(&store).await.ann;
    store
        .create_app_challenge(&challenge, ann, &photon("laptop"), T0)
        .await
        .unwrap();
    let row = store.app_challenge(&challenge).await.unwrap().unwrap();
    assert_eq!(
        (row.account_id, row.app, row.created_at),
        (ann, photon("laptop"), T0)
    );
    assert!(store.delete_app_challenge(&challenge).await.unwrap());
    assert!(!store.delete_app_challenge(&challenge).await.unwrap());
    assert_eq!(store.app_challenge(&challenge).await.unwrap(), None);
}

async fn a_refusal_notice_is_claimed_once_a_day_per_app_and_device(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let day = 24 * 3600;
    assert!(
        store
            .claim_refusal_notice(ann, "photon", "laptop", T0, day)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_refusal_notice(ann, "photon", "laptop", T0 + 3600, day)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_refusal_notice(ann, "photon", "phone", T0 + 3600, day)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_refusal_notice(ann, "photon", "laptop", T0 + day, day)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_refusal_notice(ann, "photon", "laptop", T0 + day + 1, day)
            .await
            .unwrap()
    );
}

async fn wrong_passwords_are_counted_per_address_within_a_window(store: Store) {
    assert_eq!(
        store.failed_passwords("ann@example.com").await.unwrap(),
        None
    );
    let reserve = |now| {
        let store = store.clone();
        async move {
            store
                .reserve_password_attempt("ann@example.com", now)
                .await
                .unwrap()
                .expect("a place")
        }
    };
    for minute in 0..3 {
        reserve(T0 + minute * 60).await;
    }
    let in_the_window = FailedPasswords {
        count: 3,
        window_started_at: T0,
    };
    assert_eq!(
        store.failed_passwords("ann@example.com").await.unwrap(),
        Some(in_the_window)
    );
    let new_window = FailedPasswords {
        count: 1,
        window_started_at: T0 + 15 * 60,
    };
    assert_eq!(reserve(T0 + 15 * 60).await, new_window, "a new window");
    store
        .clear_failed_passwords("ann@example.com")
        .await
        .unwrap();
    assert_eq!(
        store.failed_passwords("ann@example.com").await.unwrap(),
        None
    );
}

async fn an_attempt_refused_unchecked_gives_its_place_back_and_never_below_zero(store: Store) {
    let count = || async {
        store
            .failed_passwords("ann@example.com")
            .await
            .unwrap()
            .map(|failed| failed.count)
    };
    for _ in 0..2 {
        store
            .reserve_password_attempt("ann@example.com", T0)
            .await
            .unwrap()
            .expect("a place");
    }
    store
        .release_password_attempt("ann@example.com")
        .await
        .unwrap();
    assert_eq!(count().await, Some(1));
    for _ in 0..3 {
        store
            .release_password_attempt("ann@example.com")
            .await
            .unwrap();
    }
    assert_eq!(count().await, Some(0));
    store
        .release_password_attempt("bob@example.com")
        .await
        .unwrap();
    assert_eq!(
        store.failed_passwords("bob@example.com").await.unwrap(),
        None
    );
}
