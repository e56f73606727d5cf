//! The database goes away and comes back while requests flow: meanwhile pages
//! answer a 503 page, the API `503 {"error":"unavailable"}` and `/healthz` 503;
//! afterwards the instance serves again on its own, and every sign-up it
//! acknowledged is there. Needs PostgreSQL, like `postgres.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::app::{PostgresDatabase, postgres_server};
use crate::helpers::*;
use crate::postgres::psql_on;

/// Runs `sql` on the test server's maintenance database, as an operator would.
fn psql(sql: &str) {
    psql_on(&postgres_server(), sql);
}

fn database_name(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

/// The database refuses new connections and the ones open are cut: to the
/// instance it is as good as stopped.
fn take_down(name: &str) {
    psql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
    psql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ));
}

fn bring_back(name: &str) {
    psql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
}

/// Signs up `signup-N@example.com` one after another until told to stop;
/// answers the addresses whose sign-up was acknowledged (the "Check your
/// e-mail" page) and every status seen.
fn keep_signing_up(
    app: &TestApp,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(Vec<String>, Vec<u16>)> {
    let base = app.address.clone();
    tokio::spawn(async move {
        let (mut acknowledged, mut statuses) = (Vec::new(), Vec::new());
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let email = format!("signup-{n}@example.com");
            // A new browser each time: one holding a session would need the
            // database to sign out, and to load the form it takes its token from.
            let browser = Browser::new(&base);
            let page = browser.sign_up(&email, PASSWORD).await;
            statuses.push(page.status);
            if page.status == 200 && page.reads("Check your e-mail") {
                acknowledged.push(email);
            }
        }
        (acknowledged, statuses)
    })
}

async fn health(app: &TestApp) -> u16 {
    reqwest::get(app.url("/healthz"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn while_the_database_is_away_requests_get_503_and_afterwards_nothing_acknowledged_is_lost() {
    let database = PostgresDatabase::create(&postgres_server()).await;
    let name = database_name(&database.url.clone());
    let app = spawn_app_on_database(&database.url.clone()).await;
    let ann = app.signed_up("ann@example.com").await;
    ann.sign_out().await;
    let stop = Arc::new(AtomicBool::new(false));
    let flow = keep_signing_up(&app, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    take_down(&name);
    assert_eq!(health(&app).await, 503);
    let page = app.browser().sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(
        page.reads("The service is unavailable. Try again in a moment."),
        "{}",
        page.body
    );
    let api = reqwest::Client::new()
        .post(app.url("/api/v1/apps/connect"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD,
                      "app_id": "photon-desktop", "app_version": "3.2.0",
                      "device_name": "Ann's laptop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 503);
    assert_eq!(api.headers()["retry-after"], "5");
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;

    bring_back(&name);
    let mut healthy = false;
    for _ in 0..100 {
        if health(&app).await == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "the instance recovers on its own");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (acknowledged, statuses) = flow.await.unwrap();

    assert!(
        statuses.contains(&503),
        "sign-ups flowed through the outage: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|status| matches!(status, 200 | 503)),
        "an acknowledged sign-up or a 503, never a 500: {statuses:?}"
    );
    assert!(
        acknowledged.len() >= 2,
        "sign-ups before and after: {acknowledged:?}"
    );
    for email in &acknowledged {
        assert!(
            app.state
                .store
                .account_by_email(email)
                .await
                .unwrap()
                .is_some(),
            "{email} was acknowledged and must be stored"
        );
    }
    let last = statuses.iter().rposition(|s| *s == 503).unwrap();
    assert!(
        statuses[last + 1..].contains(&200),
        "sign-ups are acknowledged again after the outage: {statuses:?}"
    );
    app.assert_signs_in("ann@example.com", PASSWORD).await;
}
