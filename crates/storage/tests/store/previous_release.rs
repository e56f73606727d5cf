//! Migrations are written expand-then-contract, so that an instance of the
//! previous release keeps working on the schema the new release migrated:
//! every statement that release sends (`previous_release_queries.sql`, made by
//! `previous_release_queries.py` from commit e8cead7) must still prepare —
//! parse and plan, which fails on a missing table or column — on both backends.

use sqlx::{Connection, Executor, PgConnection, SqlSafeStr};
use storage::Store;

use crate::helpers::{TestDatabase, postgres_server_url};

const PREVIOUS_RELEASE: &str = include_str!("previous_release_queries.sql");

/// The statements, each with the file it came from, for the failure message.
fn previous_release_statements() -> Vec<(&'static str, &'static str)> {
    let mut file = "";
    let mut statements = Vec::new();
    for line in PREVIOUS_RELEASE.lines() {
        match line.strip_prefix("-- ") {
            Some(comment) if comment.ends_with(".rs") => file = comment,
            Some(_) => {}
            None if line.trim().is_empty() => {}
            None => statements.push((file, line)),
        }
    }
    statements
}

#[test]
fn the_fixture_holds_the_previous_releases_statements() {
    let statements = previous_release_statements();
    // The fixture would pass every schema if the extraction found nothing.
    assert!(statements.len() >= 60, "{} statements", statements.len());
    for table in [
        "accounts",
        "sessions",
        "pending_sign_ins",
        "one_time_codes",
        "app_connections",
    ] {
        assert!(
            statements.iter().any(|(_, sql)| sql.contains(table)),
            "no statement on {table}"
        );
    }
}

#[tokio::test]
async fn the_previous_releases_queries_prepare_on_the_migrated_sqlite_schema() {
    let (_directory, path, store) = crate::helpers::migrated_sqlite_file(1).await;
    store.close().await;
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mut refused = Vec::new();
    for (file, sql) in previous_release_statements() {
        // The migration lock is PostgreSQL's own; SQLite locks the file instead.
        if sql.contains("pg_advisory") {
            continue;
        }
        if let Err(error) = connection.prepare(sql) {
            refused.push(format!("{file}: {sql}\n    {error}"));
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[tokio::test]
#[cfg_attr(
    not(twostep_test_postgres),
    ignore = "needs PostgreSQL; run by .ci/run"
)]
async fn the_previous_releases_queries_prepare_on_the_migrated_postgresql_schema() {
    let database = TestDatabase::create(&postgres_server_url()).await;
    let store = Store::connect(&database.url, 1).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut connection = PgConnection::connect(&database.url).await.unwrap();
    let mut refused = Vec::new();
    for (file, sql) in previous_release_statements() {
        if let Err(error) = connection.prepare(sql.into_sql_str()).await {
            refused.push(format!("{file}: {sql}\n    {error}"));
        }
    }
    connection.close().await.ok();
    database.drop().await;
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}
