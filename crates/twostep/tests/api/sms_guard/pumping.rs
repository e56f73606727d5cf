//! A simulated pumping run under one calling code: codes sent to numbers
//! nobody reads are never entered, so after fifty of them the conversion guard
//! holds SMS to that calling code for a day and logs its figures. Where a fifth
//! of the codes are entered, nothing is held.

use super::*;
use crate::helpers::captured_log;

const DAY: i64 = 24 * 3600;

/// `+49 151 NNNN 5678`: German mobiles, each under a prefix of its own.
fn german(n: usize) -> String {
    format!("+49151{n:04}5678")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pumping_run_under_one_calling_code_is_held_by_the_conversion_guard() {
    let log = captured_log();
    let app = TestApp::builder().spawn().await;
    let challenges = people(&app, (0..60).map(own_prefix)).await;
    for (n, challenge) in challenges.iter().enumerate() {
        let answer = ask_for_code(&app, challenge).await;
        if n < 50 {
            assert_eq!(answer.0, 200, "code {n}: {}", answer.1);
        } else {
            assert_too_many_codes(&answer, "24 hours");
        }
    }
    assert_eq!(
        app.sms_count(),
        50,
        "the run is stopped at the fiftieth code"
    );
    let logged = log.text();
    assert!(
        logged.lines().any(|line| line.contains("conversion guard")
            && line.contains("calling_code=\"44\"")
            && line.contains("sent=50")
            && line.contains("entered=0")),
        "no warning with the figures: {logged}"
    );

    account_with_number(&app, "gerd@example.com", &german(1)).await;
    let elsewhere = super::challenge(&app, "gerd@example.com").await;
    assert_eq!(
        ask_for_code(&app, &elsewhere).await.0,
        200,
        "+49 is not held"
    );

    app.clock.advance(DAY);
    let next_day = super::challenge(&app, "person-59@example.com").await;
    assert_eq!(
        ask_for_code(&app, &next_day).await.0,
        200,
        "after a day the calling code is judged again on fresh figures"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calling_code_whose_codes_are_entered_is_not_held() {
    let app = TestApp::builder().spawn().await;
    let challenges = people(&app, (0..60).map(german)).await;
    for (n, challenge) in challenges.iter().enumerate() {
        let answer = ask_for_code(&app, challenge).await;
        assert_eq!(answer.0, 200, "code {n}: {}", answer.1);
        // One in five: exactly the 20 % the guard asks for.
        if n % 5 == 0 {
            let (status, body) = post_json(
                &app,
                "/api/v1/apps/connect/verify",
                json!({"challenge": challenge, "method": "sms",
                       "code": app.last_sms_code(&german(n))}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    assert_eq!(app.sms_count(), 60);
}
