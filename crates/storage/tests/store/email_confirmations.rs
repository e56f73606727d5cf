//! Confirming e-mail addresses: an unconfirmed account is made with its link,
//! the link confirms once and only while live, "send the link again" replaces
//! it at most once an interval, and unconfirmed accounts are deleted in time.

use domain::AccountId;
use domain::digests::ConfirmationLinkDigest;
use storage::{Store, StoreError};

use crate::helpers::{T0, race};

on_both_backends!(
    an_account_made_without_a_link_counts_as_confirmed,
    a_sign_up_is_unconfirmed_until_its_link_is_used_once,
    a_hundred_uses_of_one_link_at_once_confirm_once,
    an_expired_link_confirms_nothing,
    a_sign_up_with_a_taken_address_changes_nothing,
    a_new_link_replaces_the_last_once_an_interval_and_never_for_a_confirmed_address,
    only_accounts_unconfirmed_long_enough_are_deleted,
);

const DAY: i64 = 24 * 60 * 60;

fn link(token: &str) -> ConfirmationLinkDigest {
    ConfirmationLinkDigest::of(token)
}

async fn sign_up(store: &Store, email: &str, token: &str, now: i64) -> AccountId {
    store
        .create_unconfirmed_account(email, "hash", &link(token), now, now + DAY)
        .await
        .unwrap()
}

async fn unconfirmed_since(store: &Store, id: AccountId) -> Option<i64> {
    store
        .account_by_id(id)
        .await
        .unwrap()
        .expect("the account")
        .email_unconfirmed_since
}

/// What the operator's `user create`, the previous release's sign-up and
/// every account from before confirmation existed store: no waiting address.
async fn an_account_made_without_a_link_counts_as_confirmed(store: Store) {
    let id = store
        .create_account("ann@example.com", "hash", T0)
        .await
        .unwrap();
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert!(account.address().is_confirmed());
    assert_eq!(
        store
            .delete_unconfirmed_accounts(T0 + 30 * DAY)
            .await
            .unwrap(),
        0
    );
}

async fn a_sign_up_is_unconfirmed_until_its_link_is_used_once(store: Store) {
    let id = sign_up(&store, "ann@example.com", "t1", T0).await;
    assert_eq!(unconfirmed_since(&store, id).await, Some(T0));
    assert!(
        store
            .confirmation_link_is_live(&link("t1"), T0 + 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirmation_link_is_live(&link("nope"), T0 + 1)
            .await
            .unwrap()
    );
    assert_eq!(
        store.confirm_email(&link("nope"), T0 + 1).await.unwrap(),
        None
    );
    assert_eq!(
        store.confirm_email(&link("t1"), T0 + 1).await.unwrap(),
        Some(id)
    );
    assert_eq!(unconfirmed_since(&store, id).await, None);
    assert_eq!(
        store.confirm_email(&link("t1"), T0 + 2).await.unwrap(),
        None
    );
    assert!(
        !store
            .confirmation_link_is_live(&link("t1"), T0 + 2)
            .await
            .unwrap()
    );
}

async fn a_hundred_uses_of_one_link_at_once_confirm_once(store: Store) {
    sign_up(&store, "ann@example.com", "t1", T0).await;
    let confirmed = race(&store, 100, |store| async move {
        store
            .confirm_email(&link("t1"), T0 + 1)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(confirmed, 1);
}

async fn an_expired_link_confirms_nothing(store: Store) {
    let id = sign_up(&store, "ann@example.com", "t1", T0).await;
    assert!(
        !store
            .confirmation_link_is_live(&link("t1"), T0 + DAY)
            .await
            .unwrap()
    );
    assert_eq!(
        store.confirm_email(&link("t1"), T0 + DAY).await.unwrap(),
        None
    );
    assert_eq!(unconfirmed_since(&store, id).await, Some(T0));
}

async fn a_sign_up_with_a_taken_address_changes_nothing(store: Store) {
    let id = sign_up(&store, "ann@example.com", "t1", T0).await;
    let again = store
        .create_unconfirmed_account("ann@example.com", "other", &link("t2"), T0 + 5, T0 + DAY)
        .await;
    assert!(matches!(again, Err(StoreError::EmailTaken)), "{again:?}");
    assert!(
        !store
            .confirmation_link_is_live(&link("t2"), T0 + 6)
            .await
            .unwrap()
    );
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.password_hash, "hash");
    assert!(
        store
            .confirmation_link_is_live(&link("t1"), T0 + 6)
            .await
            .unwrap()
    );
}

async fn a_new_link_replaces_the_last_once_an_interval_and_never_for_a_confirmed_address(
    store: Store,
) {
    let id = sign_up(&store, "ann@example.com", "t1", T0).await;
    // Within the interval (the last link was made after T0 - 1): refused.
    let replace = move |store: Store, token: String, now: i64| async move {
        store
            .replace_confirmation_link(id, &link(&token), now, now + DAY, now - 60)
            .await
            .unwrap()
    };
    assert!(!replace(store.clone(), "t2".into(), T0 + 59).await);
    assert!(
        store
            .confirmation_link_is_live(&link("t1"), T0 + 59)
            .await
            .unwrap()
    );
    // A hundred at once once it has passed: one replaces.
    let tokens = std::sync::atomic::AtomicUsize::new(0);
    let tokens = std::sync::Arc::new(tokens);
    let replaced = race(&store, 100, |store| {
        let n = tokens.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        replace(store, format!("new-{n}"), T0 + 60)
    })
    .await;
    assert_eq!(replaced, 1);
    assert!(
        !store
            .confirmation_link_is_live(&link("t1"), T0 + 60)
            .await
            .unwrap()
    );
    let live: Vec<usize> = {
        let mut live = Vec::new();
        for n in 0..100 {
            if store
                .confirmation_link_is_live(&link(&format!("new-{n}")), T0 + 60)
                .await
                .unwrap()
            {
                live.push(n);
            }
        }
        live
    };
    assert_eq!(live.len(), 1, "one link is live: {live:?}");
    let token = format!("new-{}", live[0]);
    assert_eq!(
        store.confirm_email(&link(&token), T0 + 61).await.unwrap(),
        Some(id)
    );
    // Confirmed: no link is made any more.
    assert!(!replace(store.clone(), "t3".into(), T0 + 10 * DAY).await);
    assert!(
        !store
            .confirmation_link_is_live(&link("t3"), T0 + 10 * DAY)
            .await
            .unwrap()
    );
}

async fn only_accounts_unconfirmed_long_enough_are_deleted(store: Store) {
    let ann = sign_up(&store, "ann@example.com", "t1", T0).await;
    let bob = sign_up(&store, "bob@example.com", "t2", T0 + 10).await;
    let carol = store
        .create_account("carol@example.com", "hash", T0)
        .await
        .unwrap();
    let dan = sign_up(&store, "dan@example.com", "t4", T0).await;
    store.confirm_email(&link("t4"), T0 + 1).await.unwrap();
    assert_eq!(store.delete_unconfirmed_accounts(T0 - 1).await.unwrap(), 0);
    assert_eq!(store.delete_unconfirmed_accounts(T0).await.unwrap(), 1);
    assert!(store.account_by_id(ann).await.unwrap().is_none());
    for kept in [bob, carol, dan] {
        assert!(store.account_by_id(kept).await.unwrap().is_some());
    }
    // Its link went with it, and its address is free.
    assert!(
        !store
            .confirmation_link_is_live(&link("t1"), T0 + 1)
            .await
            .unwrap()
    );
    sign_up(&store, "ann@example.com", "t5", T0 + 2).await;
}

/// A database of the release before confirmation existed, with an account in
/// it: migrated, the account counts as confirmed and nothing asks it to
/// confirm again.
#[tokio::test]
async fn an_account_from_before_the_migration_counts_as_confirmed() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("twostep.db");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(concat!(
            include_str!("../../migrations/sqlite/0001_initial.sql"),
            include_str!("../../migrations/sqlite/0002_applications_and_reset_answers.sql"),
            include_str!("../../migrations/sqlite/0003_failed_passwords.sql"),
            include_str!("../../migrations/sqlite/0004_sessions_clustered_by_digest.sql"),
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL DEFAULT 0);
             INSERT INTO schema_migrations (version) VALUES (1), (2), (3), (4);
             INSERT INTO accounts (email, password_hash, created_at, password_changed_at)
             VALUES ('ann@example.com', 'hash', 1000, 1000);"
        ))
        .unwrap();
    }
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()), 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let account = store
        .account_by_email("ann@example.com")
        .await
        .unwrap()
        .expect("the account survives the migration");
    assert!(account.address().is_confirmed());
    assert_eq!(
        store
            .delete_unconfirmed_accounts(T0 + 365 * DAY)
            .await
            .unwrap(),
        0
    );
}
