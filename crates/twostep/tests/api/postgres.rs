//! The whole portal on PostgreSQL, the backend for several instances: the
//! storage tests cover every query there; this walks the help page end to end.

use std::process::Command;

use crate::helpers::*;

/// The test server's maintenance database, as `TWOSTEP_TEST_POSTGRES_URL` names it.
pub(crate) fn test_server() -> String {
    std::env::var("TWOSTEP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

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

/// A database of its own on the local PostgreSQL, dropped afterwards.
pub(crate) struct Database {
    name: String,
    server: String,
}

impl Database {
    pub(crate) fn create() -> Self {
        let server = test_server();
        let name = format!(
            "twostep_e2e_{}_{}",
            std::process::id(),
            domain::secrets::hex(&domain::secrets::random_bytes::<4>())
        );
        let database = Self { name, server };
        database.psql(&format!("CREATE DATABASE {}", database.name));
        database
    }

    fn psql(&self, sql: &str) {
        psql_on(&self.server, sql);
    }

    pub(crate) fn url(&self) -> String {
        let base = self
            .server
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&self.server);
        format!("{base}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.server)
            .args([
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run"]
async fn the_help_page_works_on_postgresql() {
    let database = Database::create();
    let app = spawn_app_on_database(&database.url()).await;
    app.with_sms_two_step("ann@example.com").await;
    let browser = app.past_the_password("ann@example.com").await;
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
