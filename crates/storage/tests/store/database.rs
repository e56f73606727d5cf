//! Connecting, migrating, and the query conventions both backends must share.

use domain::one_time_code::CodePolicy;
use domain::{CodePurpose, IssuedCode};
use storage::{DatabaseError, Store, StoreError};

use crate::helpers::T0;

on_both_backends!(
    unmigrated:
    migrating_a_new_database_twice_at_once_and_then_again_changes_nothing,
    numbered_placeholders_bind_by_number_even_reused_and_out_of_order,
    a_closed_store_refuses_every_query,
);

async fn migrating_a_new_database_twice_at_once_and_then_again_changes_nothing(store: Store) {
    let (first, second) = tokio::join!(store.migrate(), store.migrate());
    first.expect("first migration");
    second.expect("second migration");
    store.migrate().await.expect("migrating again");
    store.ping().await.unwrap();
    let id = store
        .create_account("ann@example.com", "hash", T0)
        .await
        .unwrap();
    store.migrate().await.expect("migrating a database in use");
    assert!(store.account_by_id(id).await.unwrap().is_some());
}

async fn a_closed_store_refuses_every_query(store: Store) {
    store.migrate().await.unwrap();
    store.ping().await.expect("open, it answers");
    store.close().await;
    assert!(matches!(store.ping().await, Err(StoreError::Database(_))));
    let write = store.create_account("ann@example.com", "hash", T0).await;
    assert!(matches!(write, Err(StoreError::Database(_))), "{write:?}");
}

async fn numbered_placeholders_bind_by_number_even_reused_and_out_of_order(store: Store) {
    store.migrate().await.unwrap();
    // create_account binds `now` once and uses $3 for two columns.
    let id = store
        .create_account("ann@example.com", "hash", T0 + 7)
        .await
        .unwrap();
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        (account.created_at, account.password_changed_at),
        (T0 + 7, T0 + 7)
    );
    assert_eq!(account.email, "ann@example.com");
    assert_eq!(account.password_hash, "hash");

    // record_code_attempt names $6 and $7 before $3, $4 and $5.
    let before = IssuedCode::new(
        CodePurpose::SignIn,
        vec![1; 32],
        vec![2; 32],
        T0,
        CodePolicy::default(),
    );
    store.save_code(id, &before, None).await.unwrap();
    let mut after = before.clone();
    after.wrong_entries = 3;
    assert!(
        store
            .record_code_attempt(id, &before, &after)
            .await
            .unwrap()
    );
    let stored = store.code(id, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code, after);
}

#[tokio::test]
async fn a_database_url_of_another_kind_is_refused() {
    let refused = Store::connect("mysql://root@127.0.0.1/twostep", 0).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Database(DatabaseError::Configuration(_)))
        ),
        "{refused:?}"
    );
}
