//! Issue 11: each SMS refusal that concerns an account is a security event of
//! that account, at most one per account and rule an hour, however many
//! requests are refused at once.

use super::*;

const HOUR: i64 = 3600;

async fn refusal_events(app: &TestApp, id: AccountId) -> Vec<String> {
    app.state
        .store
        .recent_events(id, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.kind == "sms_refused")
        .map(|event| event.summary)
        .collect()
}

/// `count` challenges of one account, each waiting for its code.
async fn challenges(app: &TestApp, email: &str, count: usize) -> Vec<String> {
    let mut challenges = Vec::new();
    for _ in 0..count {
        challenges.push(challenge(app, email).await);
    }
    challenges
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_refused_codes_at_once_are_one_security_event_an_hour_per_rule() {
    // One code a day for the account, so that its refusals outlast the hour.
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__PER_ACCOUNT_DAY", "1")
        .spawn()
        .await;
    let email = "ada@example.com";
    let id = account_with_number(&app, email, &own_prefix(1)).await;
    let first = challenge(&app, email).await;
    assert_eq!(ask_for_code(&app, &first).await.0, 200);
    assert!(
        refusal_events(&app, id).await.is_empty(),
        "a code sent is no refusal"
    );
    // Past the minute between two codes: what refuses now is the day's budget.
    app.clock.advance(61);

    let answers = ask_at_once(&app, &challenges(&app, email, REQUESTS).await).await;
    assert_eq!(
        answers.get(&(429, "too_many_codes".to_owned())),
        Some(&REQUESTS),
        "{answers:?}"
    );
    let events = refusal_events(&app, id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].contains("too many codes for this account in a day")
            && events[0].contains("127.0.0.1"),
        "{events:?}"
    );
    let other = account_with_number(&app, "bob@example.com", &own_prefix(2)).await;
    assert!(
        refusal_events(&app, other).await.is_empty(),
        "another account's list is its own"
    );

    // Within the hour, more refusals add nothing; after it, one more event.
    // The test clock runs on from the wall clock: a margin of half a minute.
    app.clock.advance(HOUR - 30);
    let late = challenge(&app, email).await;
    assert_too_many_codes(&ask_for_code(&app, &late).await, "23 hours");
    assert_eq!(refusal_events(&app, id).await.len(), 1);
    app.clock.advance(30);
    let next_hour = challenge(&app, email).await;
    assert_eq!(ask_for_code(&app, &next_hour).await.0, 429);
    assert_eq!(refusal_events(&app, id).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_by_the_numbers_budget_is_an_event_of_the_refused_account_only() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__PER_NUMBER_HOUR", "1")
        .spawn()
        .await;
    let number = own_prefix(3);
    let sent = account_with_number(&app, "first@example.com", &number).await;
    let refused = account_with_number(&app, "second@example.com", &number).await;
    let first = challenge(&app, "first@example.com").await;
    assert_eq!(ask_for_code(&app, &first).await.0, 200);
    let second = challenge(&app, "second@example.com").await;
    assert_eq!(ask_for_code(&app, &second).await.0, 429);
    let events = refusal_events(&app, refused).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].contains("too many codes to this number"),
        "{events:?}"
    );
    assert!(
        refusal_events(&app, sent).await.is_empty(),
        "the account whose code was sent saw no refusal"
    );
}
