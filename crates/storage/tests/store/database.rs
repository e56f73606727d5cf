//! Connecting, migrating, and the query conventions both backends must share.

use domain::one_time_code::CodePolicy;
use domain::{CodePurpose, IssuedCode};
use storage::{DatabaseError, Store, StoreError};

use crate::helpers::{T0, binding, code_digest};

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

    // reserve_password_attempt binds $3 twice and names $5 after $4 in its WHERE.
    let attempt = storage::PasswordAttempt {
        email: "ann@example.com",
        client: "192.0.2.1",
    };
    let reserved = store
        .reserve_password_attempt(attempt, &Default::default(), T0 + 9)
        .await
        .unwrap()
        .unwrap()
        .from_client;
    assert_eq!((reserved.count, reserved.window_started_at), (1, T0 + 9));
    // reserve_code_entry reads $3 (bytes) between two integers.
    let code = IssuedCode::new(
        CodePurpose::SignIn,
        code_digest(1),
        binding(2),
        T0,
        CodePolicy::default(),
    );
    store.save_code(id, &code, None).await.unwrap();
    let stored = store
        .reserve_code_entry(id, CodePurpose::SignIn, &binding(2), T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.code.wrong_entries, 1);
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

/// The write-ahead log is copied into the database file by a thread of the
/// store's own, not by the commit that happens to cross SQLite's threshold.
#[tokio::test]
async fn sqlite_commits_reach_the_database_file_without_a_commit_checkpointing() {
    let (_directory, path, store) = crate::helpers::migrated_sqlite_file(0).await;
    let file_size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = file_size();
    for n in 0..300 {
        store
            .create_account(&format!("person{n}@example.com"), &"h".repeat(100), T0)
            .await
            .unwrap();
    }
    // 300 accounts are some 20 pages; far below the writer's own threshold.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_size() < before + 16 * 4096 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        file_size() >= before + 16 * 4096,
        "the database file grew from {before} to only {} bytes",
        file_size()
    );
}
