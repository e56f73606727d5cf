//! `SealedColumn` is the key rotation's list of what to re-seal: a column that
//! holds sealed values (named `…_enc`) and is missing from it would keep its
//! values under a retired key, unreadable. Also the values a rotation finds.

use domain::AccountId;
use storage::{SealedColumn, Store};

use crate::helpers::migrated_sqlite_file;

on_both_backends!(only_values_under_another_key_are_found_and_a_changed_one_is_not_replaced);

#[tokio::test]
async fn every_sealed_column_of_the_schema_is_one_the_rotation_reseals() {
    let (_directory, path, store) = migrated_sqlite_file(1).await;
    store.close().await;
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mut statement = connection
        .prepare(
            "SELECT m.name || '.' || p.name FROM sqlite_schema m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND p.name LIKE '%\\_enc' ESCAPE '\\' ORDER BY 1",
        )
        .unwrap();
    let in_schema: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut listed: Vec<&str> = SealedColumn::ALL.iter().map(|c| c.name()).collect();
    listed.sort();
    assert_eq!(in_schema, listed);
}

async fn only_values_under_another_key_are_found_and_a_changed_one_is_not_replaced(store: Store) {
    let (current, other) = (b"tsk1AAAAAAAA".to_vec(), b"tsk1BBBBBBBB".to_vec());
    let id = store
        .create_account("ann@example.com", "hash", 0)
        .await
        .unwrap();
    let second = store
        .create_account("bob@example.com", "hash", 0)
        .await
        .unwrap();
    let value = |header: &[u8], tail: u8| [header, &[tail; 20]].concat();
    store.turn_on_sms(id, value(&other, 1), 0).await.unwrap();
    store
        .turn_on_sms(second, value(&current, 2), 0)
        .await
        .unwrap();
    let found = store
        .sealed_values_not_under(SealedColumn::AccountPhone, &current, 10)
        .await
        .unwrap();
    let ids: Vec<AccountId> = found.iter().map(|v| v.account_id).collect();
    assert_eq!(ids, vec![id], "only the value under another key");
    assert!(
        store
            .sealed_values_not_under(SealedColumn::AccountPhone, &current, 0)
            .await
            .unwrap()
            .is_empty(),
        "the batch size holds"
    );
    // The service changes the number between the read and the write.
    store.turn_on_sms(id, value(&other, 3), 0).await.unwrap();
    assert!(
        !store
            .replace_sealed(&found[0], &value(&current, 4))
            .await
            .unwrap()
    );
    let fresh = store
        .sealed_values_not_under(SealedColumn::AccountPhone, &current, 10)
        .await
        .unwrap();
    assert!(
        store
            .replace_sealed(&fresh[0], &value(&current, 4))
            .await
            .unwrap()
    );
    assert!(
        store
            .sealed_values_not_under(SealedColumn::AccountPhone, &current, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
