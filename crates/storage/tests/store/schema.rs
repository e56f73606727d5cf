//! What `serve` asks before it starts on a database (`Store::schema_status`),
//! and the advisory lock under which `twostep migrate` changes a PostgreSQL
//! schema, so that two runs at once, of this release or of two, never race.

use sqlx::{Connection, PgConnection};
use storage::{SchemaStatus, Store};

use crate::helpers::{TestDatabase, postgres_server_url};

on_both_backends!(
    unmigrated:
    a_schema_is_behind_until_migrated_and_then_current,
);

async fn a_schema_is_behind_until_migrated_and_then_current(store: Store) {
    assert!(
        matches!(
            store.schema_status().await.unwrap(),
            SchemaStatus::Behind { applied: 0, known } if known > 0
        ),
        "a new database has no schema"
    );
    store.migrate().await.unwrap();
    assert_eq!(store.schema_status().await.unwrap(), SchemaStatus::Current);
    store.ping().await.unwrap();
}

/// The number `twostep migrate` locks: part of the contract between releases,
/// since an older release's migrate and a newer one's must exclude each other.
const MIGRATION_LOCK: i64 = 0x0074_776f_7374_6570;

#[tokio::test]
#[cfg_attr(
    not(twostep_test_postgres),
    ignore = "needs PostgreSQL; run by .ci/run"
)]
async fn migrate_waits_for_the_advisory_lock_another_session_holds() {
    let database = TestDatabase::create(&postgres_server_url()).await;
    let mut other = PgConnection::connect(&database.url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    let store = Store::connect(&database.url, 2).await.unwrap();
    let migrating = tokio::spawn({
        let store = store.clone();
        async move { store.migrate().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let waited = !migrating.is_finished();
    let status_while_locked = store.schema_status().await.unwrap();
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    let migrated = migrating.await.unwrap();
    let status = store.schema_status().await.unwrap();
    other.close().await.ok();
    store.close().await;
    database.drop().await;
    assert!(
        waited,
        "migrate went ahead while another session held the lock"
    );
    assert!(
        matches!(status_while_locked, SchemaStatus::Behind { applied: 0, .. }),
        "{status_while_locked:?}"
    );
    migrated.expect("migrate, once the lock is free");
    assert_eq!(status, SchemaStatus::Current);
}
