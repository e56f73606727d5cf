//! The SMS guard against SMS pumping (toll fraud): every budget holds at its
//! edge with the clock moved and against a hundred requests at once (counted
//! in what the memory SMS sender received), the country list and the kind of
//! line are checked, and a simulated pumping run is stopped: many numbers
//! under one prefix by the prefix budget, many under one calling code with no
//! code entered by the conversion guard, which logs its figures.
//!
//! Accounts are made through the store with their number; codes are asked
//! for through the API (`/api/v1/apps/connect/sms`), as a client would.

mod budgets;
mod destinations;
mod events;
mod pumping;

use std::collections::BTreeMap;

use domain::{AccountId, PhoneNumber};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, post_json, send_json, status_and_error, tally};

pub const REQUESTS: usize = 100;

/// `+44 7400 1200NN`: a hundred UK mobiles under the one prefix `+44740012`.
pub fn under_one_prefix(n: usize) -> String {
    format!("+4474001200{n:02}")
}

/// `+44 74NN NN1234`: UK mobiles, each under a prefix of its own.
pub fn own_prefix(n: usize) -> String {
    format!("+4474{n:04}1234")
}

/// An account made through the store, with `e164` as its confirmed number;
/// the context is the one `web::verification` seals with.
pub async fn account_with_number(app: &TestApp, email: &str, e164: &str) -> AccountId {
    let state = &app.state;
    let now = state.now();
    let hash = state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
    let id = state.store.create_account(email, &hash, now).await.unwrap();
    let phone = PhoneNumber::from_e164(e164);
    let sealed = state
        .key
        .seal(phone.e164().as_bytes(), &format!("phone:{id}"));
    state.store.turn_on_sms(id, sealed, now).await.unwrap();
    id
}

/// The challenge of an application connecting as `email`, waiting for its code.
pub async fn challenge(app: &TestApp, email: &str) -> String {
    let (status, body) = post_json(
        app,
        "/api/v1/apps/connect",
        json!({"email": email, "password": PASSWORD, "app_id": "photon-desktop",
               "app_version": "3.2.0", "device_name": "a laptop"}),
    )
    .await;
    assert_eq!(body["status"], "two_step_required", "{status} {body}");
    body["challenge"].as_str().unwrap().to_owned()
}

/// One account per number (`person-N@example.com`) and its waiting challenge.
pub async fn people(app: &TestApp, numbers: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut challenges = Vec::new();
    for (n, number) in numbers.into_iter().enumerate() {
        let email = format!("person-{n}@example.com");
        account_with_number(app, &email, &number).await;
        challenges.push(challenge(app, &email).await);
    }
    challenges
}

/// Asks for the code of one challenge: the status and the JSON answer.
pub async fn ask_for_code(app: &TestApp, challenge: &str) -> (u16, Value) {
    post_json(
        app,
        "/api/v1/apps/connect/sms",
        json!({"challenge": challenge}),
    )
    .await
}

/// Asks for the code of every challenge at once; each answer's `(status,
/// error code)`, counted.
pub async fn ask_at_once(app: &TestApp, challenges: &[String]) -> BTreeMap<(u16, String), usize> {
    let tasks: Vec<_> = challenges
        .iter()
        .map(|challenge| {
            let url = app.url("/api/v1/apps/connect/sms");
            let body = json!({"challenge": challenge});
            tokio::spawn(async move { status_and_error(send_json(url, &body).await).await })
        })
        .collect();
    tally(tasks).await
}

/// A hundred requests at once sent exactly `budget` SMS, and every other one
/// was told `too_many_codes`.
pub fn assert_sent_exactly(app: &TestApp, answers: &BTreeMap<(u16, String), usize>, budget: usize) {
    let sent = answers.get(&(200, String::new())).copied().unwrap_or(0);
    let refused = answers
        .get(&(429, "too_many_codes".to_owned()))
        .copied()
        .unwrap_or(0);
    assert_eq!((sent, refused), (budget, REQUESTS - budget), "{answers:?}");
    assert_eq!(app.sms_count(), budget, "what the SMS sender received");
}

/// The refusal a person reads, with the real wait.
pub fn assert_too_many_codes(answer: &(u16, Value), wait: &str) {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["error"].as_str()),
        (429, Some("too_many_codes")),
        "{body}"
    );
    assert_eq!(
        body["message"],
        format!("Too many codes requested. Try again in {wait}."),
        "{body}"
    );
}
