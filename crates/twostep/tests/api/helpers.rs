//! What every API test uses: `spawn_app()` (the shared `TestApp` with memory
//! senders and a fresh SQLite file), the browser-like client and its pages
//! (`page`), the help page's flows (`flows`), and what the app sent.

mod flows;
mod log;
mod page;

pub use crate::app::TestApp;
pub use crate::output::stdout_of;
pub use crate::says::assert_says_all;
pub use flows::*;
pub use log::*;
pub use page::*;

use std::collections::BTreeMap;

use delivery::{Email, Sms};
use domain::authenticator::AuthenticatorSecret;
use serde_json::Value;
use storage::Account;

pub const PASSWORD: &str = "correct horse battery staple";
pub const PHONE: &str = "+1 650 253 0000";
pub const PHONE_E164: &str = "+16502530000";

pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

/// The portal with a browser signed up (and so signed in) as `email`.
pub async fn spawn_signed_up(email: &str) -> (TestApp, Browser) {
    let app = spawn_app().await;
    let browser = app.signed_up(email).await;
    (app, browser)
}

/// The portal with a browser signed in as `email`, whose account has SMS
/// two-step verification on.
pub async fn spawn_with_sms_two_step(email: &str) -> (TestApp, Browser) {
    let app = spawn_app().await;
    let browser = app.with_sms_two_step(email).await;
    (app, browser)
}

/// The portal with a browser signed in as `email`, whose account has SMS
/// two-step verification and the authenticator app on; the authenticator's
/// secret. The clock is at the start of the next 30-second step.
pub async fn spawn_with_authenticator(email: &str) -> (TestApp, Browser, AuthenticatorSecret) {
    let app = spawn_app().await;
    let (browser, secret) = app.with_authenticator(email).await;
    (app, browser, secret)
}

/// POSTs `body` as JSON to the API, as a client application does; the status
/// and the JSON answer (null if the answer is not JSON).
pub async fn post_json(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

/// Sends `times` copies of one API request at once; answers each answer's
/// `(status, error code, message)`, counted.
pub async fn post_json_at_once(
    app: &TestApp,
    path: &str,
    body: Value,
    times: usize,
) -> BTreeMap<(u16, String, String), usize> {
    let tasks: Vec<_> = (0..times)
        .map(|_| {
            let (url, body) = (app.url(path), body.clone());
            tokio::spawn(async move {
                let response = send_json(url, &body).await;
                let (status, body) = status_and_json(response).await;
                let text = |field: &str| body[field].as_str().unwrap_or_default().to_owned();
                (status, text("error"), text("message"))
            })
        })
        .collect();
    tally(tasks).await
}

/// Waits for every task started at once; how many answered each value.
pub async fn tally<T: Ord>(tasks: Vec<tokio::task::JoinHandle<T>>) -> BTreeMap<T, usize> {
    let mut answers = BTreeMap::new();
    for task in tasks {
        *answers.entry(task.await.unwrap()).or_default() += 1;
    }
    answers
}

/// A response's status and its JSON `error` code (empty when there is none).
pub async fn status_and_error(response: reqwest::Response) -> (u16, String) {
    let (status, body) = status_and_json(response).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// An API answer that refuses with `status` and the error code `error`.
pub fn assert_api_error(answer: &(u16, Value), status: u16, error: &str) {
    let (actual, body) = answer;
    assert_eq!(
        (*actual, body["error"].as_str()),
        (status, Some(error)),
        "{body}"
    );
}

/// A response's status, and its JSON answer (null if the answer is not JSON).
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The app with memory senders on another database, e.g. PostgreSQL.
pub async fn spawn_app_on_database(database_url: &str) -> TestApp {
    TestApp::builder().database(database_url).spawn().await
}

impl TestApp {
    /// The API's OpenAPI document, as a client generator fetches it.
    pub async fn openapi_document(&self) -> Value {
        reqwest::get(self.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The account stored for `email`, if there is one.
    pub async fn find_account(&self, email: &str) -> Option<Account> {
        self.state.store.account_by_email(email).await.unwrap()
    }

    /// The account stored for `email`.
    pub async fn account(&self, email: &str) -> Account {
        self.find_account(email).await.expect("the account exists")
    }

    /// The last SMS sent to `e164`, and the six-digit code in it.
    pub fn last_sms_code(&self, e164: &str) -> String {
        let sms = self
            .sms
            .last_to(e164)
            .expect("an SMS was sent to this number");
        sms.text
            .split_whitespace()
            .next()
            .expect("the SMS starts with the code")
            .to_owned()
    }

    /// The last SMS sent to `e164`, asserting that it says `text`.
    pub fn last_sms_saying(&self, e164: &str, text: &str) -> Sms {
        let sms = self
            .sms
            .last_to(e164)
            .expect("an SMS was sent to this number");
        assert!(sms.text.contains(text), "{text:?} is not in: {}", sms.text);
        sms
    }

    pub fn sms_count(&self) -> usize {
        self.sms.messages().len()
    }

    pub fn sms_count_to(&self, e164: &str) -> usize {
        self.sms
            .messages()
            .iter()
            .filter(|sms| sms.to == e164)
            .count()
    }

    /// Waits for the e-mail with `subject` and asserts its text says `text`.
    pub async fn wait_for_email_saying(&self, to: &str, subject: &str, text: &str) -> Email {
        let email = self.wait_for_email(to, subject).await;
        assert!(
            email.text.contains(text),
            "{text:?} is not in:\n{}",
            email.text
        );
        email
    }

    /// E-mails are sent in the background; wait until one with `subject` arrives.
    pub async fn wait_for_email(&self, to: &str, subject: &str) -> Email {
        for _ in 0..100 {
            if let Some(email) = self
                .email
                .messages()
                .into_iter()
                .rev()
                .find(|e| e.to == to && e.subject.contains(subject))
            {
                return email;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "no e-mail to {to} with subject containing {subject:?}; got {:?}",
            self.email
                .messages()
                .iter()
                .map(|e| e.subject.clone())
                .collect::<Vec<_>>()
        );
    }
}

/// POSTs `body` as JSON to `url` from a client of its own, as an application does.
pub async fn send_json(url: String, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("the request reaches the portal")
}
