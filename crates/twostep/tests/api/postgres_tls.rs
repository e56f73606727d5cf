//! TLS to PostgreSQL, asked for by `sslmode` in the URL: every connection the
//! portal opens is encrypted (rustls; the build has no OpenSSL). Needs
//! PostgreSQL with `ssl = on`, as Debian's package sets it up.

use crate::app::{PostgresDatabase, postgres_server};
use crate::helpers::*;
use crate::postgres::psql_on;

fn psql_answer(sql: &str) -> String {
    psql_on(&postgres_server(), sql)
}

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn with_sslmode_require_every_connection_to_postgresql_is_encrypted() {
    if psql_answer("SHOW ssl") != "on" {
        eprintln!("skipped: this PostgreSQL has ssl = off");
        return;
    }
    let database = PostgresDatabase::create(&postgres_server()).await;
    let url = database.url.clone();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let app = spawn_app_on_database(&format!("{url}?sslmode=require")).await;
    app.signed_up("ann@example.com").await;
    let connections = format!(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
         JOIN pg_stat_ssl s USING (pid) WHERE a.datname = '{name}'"
    );
    let answer = psql_answer(&connections);
    let (all, encrypted) = answer.split_once('|').unwrap();
    assert!(
        all.parse::<u32>().unwrap() >= 1,
        "the portal is connected: {answer}"
    );
    assert_eq!(all, encrypted, "every connection is encrypted: {answer}");
}
