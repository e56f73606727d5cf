//! What a person sees when something breaks on our side.

use crate::helpers::*;

#[tokio::test]
async fn an_internal_error_shows_a_page_with_the_request_id_and_no_cause() {
    let app = spawn_app().await;
    let browser = app.signed_up("ann@example.com").await;
    app.state.store.close().await;
    let response = browser.get_response("/account").await;
    assert_eq!(response.status().as_u16(), 500);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(request_id.len(), 16);
    let body = response.text().await.unwrap();
    assert!(body.contains("Something went wrong on our side"));
    assert!(
        body.contains(&format!("<code>{request_id}</code>")),
        "the page shows the id that the log has"
    );
    assert!(
        !body.to_lowercase().contains("pool"),
        "the cause is logged, never shown: {body}"
    );
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
