//! Connected applications, their challenges, refusal notices, and counted wrong passwords.

use domain::throttle::{ConsecutiveFailures, FailedPasswords, PasswordLimits, PasswordStepLocked};
use storage::{AppIdentity, PasswordAttempt, ReservedPassword, Store};

use crate::helpers::{Accounts, T0, digest, two_accounts};

on_both_backends!(
    connections_belong_to_their_account_and_a_password_change_signs_them_out,
    a_challenge_is_passed_once,
    a_refusal_notice_is_claimed_once_a_day_per_app_and_device,
    wrong_passwords_are_counted_per_address_and_client_within_a_window,
    an_attempt_refused_unchecked_gives_its_place_back_and_never_below_zero,
    the_password_step_lock_is_noticed_once_and_ended_by_a_reset_only,
);

fn photon(device: &str) -> AppIdentity {
    AppIdentity {
        app_id: "photon".into(),
        app_version: "3.0.0".into(),
        device_name: device.into(),
        platform: None,
    }
}

async fn connections_belong_to_their_account_and_a_password_change_signs_them_out(store: Store) {
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
    let bobs = digest::token("bob's token");
    store
        .create_connection(bob, &bobs, &photon("bob's phone"), T0)
        .await
        .unwrap();
    store.set_password(ann, "new hash", T0 + 100).await.unwrap();
    let phone = store.connection_by_token(&token_2).await.unwrap().unwrap();
    assert_eq!(
        phone.signed_out_at,
        Some(T0 + 100),
        "a new password signs every connection out, and keeps it for Anti-Theft"
    );
    assert_eq!(
        store
            .connection_by_token(&bobs)
            .await
            .unwrap()
            .unwrap()
            .signed_out_at,
        None,
        "only the account's own"
    );
    store
        .set_password(ann, "newer hash", T0 + 200)
        .await
        .unwrap();
    assert_eq!(
        store
            .connection_by_token(&token_2)
            .await
            .unwrap()
            .unwrap()
            .signed_out_at,
        Some(T0 + 100),
        "signed out once, at the first change"
    );
    assert!(
        store
            .delete_connection(ann, phone.id)
            .await
            .unwrap()
            .is_some(),
        "a signed-out connection can still be removed for good"
    );
    assert_eq!(store.connection_by_token(&token_2).await.unwrap(), None);
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

const ANN: &str = "ann@example.com";
const HOME: PasswordAttempt<'static> = PasswordAttempt {
    email: ANN,
    client: "192.0.2.1",
};
const AWAY: PasswordAttempt<'static> = PasswordAttempt {
    email: ANN,
    client: "203.0.113.9",
};

async fn reserve(store: &Store, attempt: PasswordAttempt<'_>, now: i64) -> ReservedPassword {
    store
        .reserve_password_attempt(attempt, &PasswordLimits::default(), now)
        .await
        .unwrap()
        .expect("a place")
}

async fn wrong_passwords_are_counted_per_address_and_client_within_a_window(store: Store) {
    assert_eq!(store.failed_passwords(HOME).await.unwrap(), None);
    for minute in 0..3 {
        reserve(&store, HOME, T0 + minute * 60).await;
    }
    reserve(&store, AWAY, T0).await;
    let in_the_window = FailedPasswords {
        count: 3,
        window_started_at: T0,
    };
    assert_eq!(
        store.failed_passwords(HOME).await.unwrap(),
        Some(in_the_window)
    );
    assert_eq!(
        store.failed_passwords(AWAY).await.unwrap().map(|f| f.count),
        Some(1),
        "another client has a count of its own"
    );
    let new_window = FailedPasswords {
        count: 1,
        window_started_at: T0 + 15 * 60,
    };
    let reserved = reserve(&store, HOME, T0 + 15 * 60).await;
    assert_eq!(reserved.from_client, new_window, "a new window");
    assert_eq!(
        reserved.consecutive,
        ConsecutiveFailures(5),
        "the run of wrong passwords counts every client and knows no window"
    );
    store.clear_failed_passwords(HOME).await.unwrap();
    assert_eq!(store.failed_passwords(HOME).await.unwrap(), None);
    assert_eq!(store.consecutive_failed_passwords(ANN).await.unwrap(), None);
}

async fn an_attempt_refused_unchecked_gives_its_place_back_and_never_below_zero(store: Store) {
    let count = || async {
        store
            .failed_passwords(HOME)
            .await
            .unwrap()
            .map(|failed| failed.count)
    };
    for _ in 0..2 {
        reserve(&store, HOME, T0).await;
    }
    store.release_password_attempt(HOME).await.unwrap();
    assert_eq!(count().await, Some(1));
    assert_eq!(
        store.consecutive_failed_passwords(ANN).await.unwrap(),
        Some(ConsecutiveFailures(1))
    );
    for _ in 0..3 {
        store.release_password_attempt(HOME).await.unwrap();
    }
    assert_eq!(count().await, Some(0));
    assert_eq!(
        store.consecutive_failed_passwords(ANN).await.unwrap(),
        Some(ConsecutiveFailures(0))
    );
    let bob = PasswordAttempt {
        email: "bob@example.com",
        client: "192.0.2.1",
    };
    store.release_password_attempt(bob).await.unwrap();
    assert_eq!(store.failed_passwords(bob).await.unwrap(), None);
}

async fn the_password_step_lock_is_noticed_once_and_ended_by_a_reset_only(store: Store) {
    let accounts = two_accounts(&store).await;
    let limits = PasswordLimits {
        per_client: 1_000,
        window_seconds: 900,
        consecutive: 3,
    };
    for _ in 0..3 {
        store
            .reserve_password_attempt(HOME, &limits, T0)
            .await
            .unwrap()
            .expect("a place");
    }
    assert_eq!(
        store
            .reserve_password_attempt(AWAY, &limits, T0 + 86_400)
            .await
            .unwrap(),
        Err(PasswordStepLocked.into()),
        "locked from every client, whatever the time"
    );
    assert!(store.claim_password_lock_notice(ANN, T0, 3).await.unwrap());
    assert!(
        !store.claim_password_lock_notice(ANN, T0, 3).await.unwrap(),
        "the owner is told once"
    );
    store.release_password_attempt(HOME).await.unwrap();
    store.clear_failed_passwords(HOME).await.unwrap();
    assert_eq!(
        store.consecutive_failed_passwords(ANN).await.unwrap(),
        Some(ConsecutiveFailures(3)),
        "neither a late release nor a late right password ends the lock"
    );
    let link = digest::reset_link("lock");
    store
        .create_password_reset(&link, accounts.ann, T0, T0 + 3600)
        .await
        .unwrap();
    store
        .complete_password_reset(&link, "new hash", false, T0 + 1)
        .await
        .unwrap()
        .expect("the reset");
    assert_eq!(store.consecutive_failed_passwords(ANN).await.unwrap(), None);
    assert!(
        store
            .reserve_password_attempt(HOME, &limits, T0 + 2)
            .await
            .unwrap()
            .is_ok()
    );
}
