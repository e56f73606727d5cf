//! What a person sees when something breaks on our side.

use crate::helpers::*;

#[tokio::test]
async fn an_internal_error_shows_the_request_id_alone_and_logs_the_cause_beside_it() {
    let log = captured_log();
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    app.state.store.close().await;
    let response = browser
        .client
        .get(format!("{}/account", app.address))
        .send()
        .await
        .unwrap();
    let request_id = request_id_of_a_500(&response);
    assert_eq!(request_id.len(), 16);
    let body = response.text().await.unwrap();
    assert!(body.contains("Something went wrong on our side"));
    assert!(
        body.contains(&format!("<code>{request_id}</code>")),
        "the page shows the id that the log has"
    );
    assert!(
        !body.to_lowercase().contains("pool") && !body.contains("closed"),
        "the cause is logged, never shown: {body}"
    );
    log.assert_internal_error(&request_id, closed_database_cause());
}

#[tokio::test]
async fn an_internal_error_in_the_api_answers_its_json_and_logs_the_cause() {
    let log = captured_log();
    let app = spawn_app().await;
    app.state.store.close().await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth("a-token-the-closed-database-cannot-look-up")
        .send()
        .await
        .unwrap();
    let request_id = request_id_of_a_500(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "internal", "{body}");
    log.assert_internal_error(&request_id, closed_database_cause());
}

#[tokio::test]
async fn the_health_check_fails_when_the_database_does_not_answer() {
    let app = spawn_app().await;
    app.state.store.close().await;
    let response = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
}

/// What the log says of a query on a closed store: the store's own words on
/// SQLite, sqlx's pool's on PostgreSQL.
fn closed_database_cause() -> &'static str {
    if crate::app::on_postgres() {
        "attempted to acquire a connection on a closed pool"
    } else {
        "the database has been closed"
    }
}

/// The id a 500 answer carries, which the log must have too.
fn request_id_of_a_500(response: &reqwest::Response) -> String {
    assert_eq!(response.status().as_u16(), 500);
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_page_that_is_not_there_keeps_the_signed_in_persons_account_menu() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    for path in ["/no-such-page", "/account/anti-theft/999999/locate"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        page.assert_reads("This page doesn't exist.");
        assert!(
            page.body
                .contains("Signed in as<br><strong>ann@example.com</strong>"),
            "{path}: {}",
            page.body
        );
        assert!(
            !page.body.contains(r#"<a href="/sign-in">Sign in</a>"#),
            "{path}"
        );
    }
    // Signed out, the same page offers to sign in.
    let page = app.browser().get("/no-such-page").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains(r#"<a href="/sign-in">Sign in</a>"#));
    assert!(!page.body.contains("Signed in as"));
}
