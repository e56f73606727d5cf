//! Each SMS budget against a hundred requests at once, and at its edge with
//! the clock moved.

use super::*;
use crate::helpers::{Browser, PhoneFlow};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_accounts_asking_for_codes_to_one_number_at_once_send_five() {
    let app = TestApp::builder().spawn().await;
    let challenges = people(&app, (0..REQUESTS).map(|_| under_one_prefix(7))).await;
    let answers = ask_at_once(&app, &challenges).await;
    assert_sent_exactly(&app, &answers, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_numbers_under_one_prefix_at_once_get_twenty_codes() {
    let app = TestApp::builder().spawn().await;
    let challenges = people(&app, (0..REQUESTS).map(under_one_prefix)).await;
    let answers = ask_at_once(&app, &challenges).await;
    assert_sent_exactly(&app, &answers, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_from_one_client_at_once_send_ten() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__PER_CLIENT_IP_HOUR", "10")
        .spawn()
        .await;
    let challenges = people(&app, (0..REQUESTS).map(own_prefix)).await;
    let answers = ask_at_once(&app, &challenges).await;
    assert_sent_exactly(&app, &answers, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calling_code_gets_its_daily_budget_and_no_more_while_others_go_on() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__PER_CALLING_CODE_DAY", "30")
        // A full day of refusals must not trip the conversion guard first.
        .setting("TWOSTEP_SMS__CONVERSION_SAMPLE", "1000")
        .spawn()
        .await;
    let challenges = people(&app, (0..REQUESTS).map(own_prefix)).await;
    let answers = ask_at_once(&app, &challenges).await;
    assert_sent_exactly(&app, &answers, 30);

    account_with_number(&app, "gerd@example.com", "+4915112345678").await;
    let german = challenge(&app, "gerd@example.com").await;
    assert_eq!(
        ask_for_code(&app, &german).await.0,
        200,
        "+49 has its own budget"
    );

    // The test clock runs on from the wall clock: a margin of half a minute.
    app.clock.advance(DAY - 30);
    let late = challenge(&app, "person-99@example.com").await;
    assert_too_many_codes(&ask_for_code(&app, &late).await, "1 minute");
    app.clock.advance(30);
    let next_day = challenge(&app, "person-99@example.com").await;
    assert_eq!(ask_for_code(&app, &next_day).await.0, 200, "a new day");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_number_gets_five_codes_an_hour() {
    let app = TestApp::builder().spawn().await;
    let number = own_prefix(1);
    let challenges = people(&app, (0..5).map(|_| number.clone())).await;
    for challenge in &challenges {
        assert_eq!(ask_for_code(&app, challenge).await.0, 200);
        app.clock.advance(2 * 60);
    }
    account_with_number(&app, "sixth@example.com", &number).await;
    let sixth = || challenge(&app, "sixth@example.com");
    // The window opened with the first code, ten minutes ago.
    assert_too_many_codes(&ask_for_code(&app, &sixth().await).await, "50 minutes");
    // The test clock runs on from the wall clock: a margin of half a minute.
    app.clock.advance(HOUR - 10 * 60 - 30);
    let late = sixth().await;
    assert_too_many_codes(&ask_for_code(&app, &late).await, "1 minute");
    app.clock.advance(30);
    assert_eq!(ask_for_code(&app, &late).await.0, 200);
    assert_eq!(app.sms_count_to(&number), 6);
}

/// Ten codes an hour and twenty a day for one account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_gets_ten_codes_an_hour_and_twenty_a_day() {
    let app = TestApp::builder()
        // The account's one number would run out first.
        .setting("TWOSTEP_SMS__PER_NUMBER_HOUR", "100")
        .spawn()
        .await;
    account_with_number(&app, "ann@example.com", &own_prefix(1)).await;
    let ask = || async {
        let challenge = challenge(&app, "ann@example.com").await;
        ask_for_code(&app, &challenge).await
    };
    for hour in 0..2 {
        for _ in 0..10 {
            let answer = ask().await;
            assert_eq!(answer.0, 200, "hour {hour}: {}", answer.1);
            app.clock.advance(60);
        }
        // The hour's window opened with its first code, ten minutes ago.
        assert_too_many_codes(&ask().await, "50 minutes");
        app.clock.advance(HOUR - 10 * 60);
    }
    // A new hour, but twenty in the day that started two hours ago.
    assert_too_many_codes(&ask().await, "22 hours");
    app.clock.advance(DAY - 2 * HOUR);
    assert_eq!(ask().await.0, 200, "a new day");
}

/// A new code for the same purpose waits a minute; a code for another purpose
/// (a new number right after signing in) does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_for_another_purpose_is_not_held_back() {
    let app = TestApp::builder().spawn().await;
    let number = own_prefix(1);
    account_with_number(&app, "ann@example.com", &number).await;
    let browser: Browser = app.past_the_password("ann@example.com").await;
    assert_eq!(app.sms_count_to(&number), 1, "the sign-in code");
    let sign_in_code = app.last_sms_code(&number);
    let challenge = challenge(&app, "ann@example.com").await;
    assert_eq!(ask_for_code(&app, &challenge).await.0, 200, "an app's code");
    let again = ask_for_code(&app, &challenge).await;
    assert_eq!(
        (again.0, again.1["error"].as_str()),
        (429, Some("resend_too_soon"))
    );
    browser.assert_sign_in_code_accepted(&sign_in_code).await;
    browser
        .ask_for_phone_code(PhoneFlow::Change, &own_prefix(2))
        .await;
    assert_eq!(app.sms_count(), 3);
}
