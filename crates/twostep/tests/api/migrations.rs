//! Instances on one PostgreSQL database never race to migrate it: `serve`
//! refuses a schema it is not up to date with and says to run `twostep migrate`,
//! and accepts one that a newer release has expanded.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::app::{PostgresDatabase, postgres_server};
use crate::startup::{run, the_one_line};

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn serve_refuses_an_unmigrated_postgresql_database_until_migrate_has_run() {
    let database = PostgresDatabase::create_unmigrated(&postgres_server());
    let dir = tempfile::tempdir().unwrap();
    let refused = run(dir.path(), "serve", &database.url);
    assert_eq!(
        the_one_line(&refused),
        "twostep: the database has no schema yet: run `twostep migrate` first"
    );
    // Refusing, it created nothing: `twostep migrate` is the one that migrates.
    database.psql(
        "DO $$ BEGIN
             IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public') THEN
                 RAISE EXCEPTION 'serve created tables';
             END IF;
         END $$",
    );

    let migrated = run(dir.path(), "migrate", &database.url);
    assert!(migrated.status.success(), "{migrated:?}");
    assert_serves(dir.path(), &database.url).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn serve_refuses_a_postgresql_schema_a_migration_behind() {
    let database = PostgresDatabase::create(&postgres_server()).await;
    database.psql("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)");
    let dir = tempfile::tempdir().unwrap();
    let refused = run(dir.path(), "serve", &database.url);
    let line = the_one_line(&refused);
    assert!(
        line.starts_with("twostep: the database schema is out of date (")
            && line.ends_with(" migrations applied): run `twostep migrate` first"),
        "{line}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn serve_accepts_a_postgresql_schema_a_newer_release_has_expanded() {
    let database = PostgresDatabase::create(&postgres_server()).await;
    // What the next release's expanding migration leaves: its version and a new column.
    database.psql(
        "INSERT INTO schema_migrations (version) VALUES (9999);
         ALTER TABLE accounts ADD COLUMN display_name TEXT",
    );
    let dir = tempfile::tempdir().unwrap();
    assert_serves(dir.path(), &database.url).await;
}

/// Starts `serve` on a free port and waits for its health check, then stops it.
async fn assert_serves(data_dir: &std::path::Path, database_url: &str) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_twostep"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("TWOSTEP_DATABASE_URL", database_url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve stopped: {status}");
        }
        let answer = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        if answer.is_ok_and(|answer| answer.status().is_success()) {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().ok();
    let output = child.wait_with_output().unwrap();
    assert!(
        healthy,
        "serve did not answer: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
