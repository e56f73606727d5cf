//! The whole portal on PostgreSQL, the backend for several instances: the
//! storage tests cover every query there; this walks the help page end to end.

use std::process::Command;

use crate::app::{PostgresDatabase, postgres_server};
use crate::helpers::*;

/// Runs `sql` through psql on `server`, as an operator would; its answer
/// without headers or alignment, trimmed.
pub(crate) fn psql_on(server: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .arg(server)
        .args(["-v", "ON_ERROR_STOP=1", "-tA", "-c", sql])
        .output()
        .expect("psql runs");
    stdout_of(sql, output).trim().to_owned()
}

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn the_help_page_works_on_postgresql() {
    let database = PostgresDatabase::create(&postgres_server()).await;
    let app = spawn_app_on_database(&database.url).await;
    let browser = app.with_sms_two_step("ann@example.com").await;
    browser.sign_out().await;
    browser
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    let code = app.last_sms_code(PHONE_E164);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let refused = browser.post("/sign-in/verify", &[("code", wrong)]).await;
    assert!(refused.reads("4 attempts left"));
    browser
        .post("/sign-in/verify", &[("code", &code)])
        .await
        .assert_redirect_to("/account");
    let tab = browser.get("/account/settings/security").await;
    assert!(tab.contains("+1 ••• ••• 0000"));
    assert!(tab.reads("The security question is no longer available for this account"));
    let replay = app.browser();
    replay.sign_in("ann@example.com", PASSWORD).await;
    let reused = replay.post("/sign-in/verify", &[("code", &code)]).await;
    assert_eq!(
        reused.status, 422,
        "a code is accepted once, on PostgreSQL too"
    );
}
