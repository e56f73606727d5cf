//! The budgets outside SMS: new accounts per client IP (ten an hour) and
//! reset e-mails per address (one in five minutes, the page the same either
//! way), each at its edge with the clock moved and against a hundred requests
//! at once.

use std::time::Duration;

use crate::helpers::{Browser, PASSWORD, TestApp, spawn_app, tally};

const REQUESTS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_sign_ups_from_one_client_at_once_make_ten_accounts() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SIGN_UP__PER_CLIENT_IP_HOUR", "10")
        .spawn()
        .await;
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|n| {
            let browser = Browser::new(&app.address);
            tokio::spawn(async move {
                let page = browser
                    .sign_up(&format!("person-{n}@example.com"), PASSWORD)
                    .await;
                page.status
            })
        })
        .collect();
    let statuses = tally(tasks).await;
    assert_eq!(
        statuses,
        [(200, 10), (429, REQUESTS - 10)].into(),
        "ten accounts, every other attempt refused"
    );
    let mut made = 0;
    for n in 0..REQUESTS {
        made += usize::from(
            app.find_account(&format!("person-{n}@example.com"))
                .await
                .is_some(),
        );
    }
    assert_eq!(made, 10);

    // The test clock runs on from the wall clock: a margin of half a minute.
    app.clock.advance(3600 - 30);
    let page = app.browser().sign_up("late@example.com", PASSWORD).await;
    assert_eq!(page.status, 429);
    page.assert_reads("Too many accounts created from your network. Try again in 1 minute.");
    app.clock.advance(30);
    app.browser()
        .sign_up("late@example.com", PASSWORD)
        .await
        .assert_checks_email();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_the_form_refuses_take_no_place_in_the_budget() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SIGN_UP__PER_CLIENT_IP_HOUR", "2")
        .spawn()
        .await;
    let browser = app.browser();
    for (email, password) in [
        ("not an address", PASSWORD),
        ("ann@example.com", "short"),
        ("ann@example.com", "12345678"),
        ("", ""),
    ] {
        let page = browser.sign_up(email, password).await;
        assert_eq!(page.status, 422, "{email:?} {password:?}");
    }
    for n in 0..2 {
        app.browser()
            .sign_up(&format!("person-{n}@example.com"), PASSWORD)
            .await
            .assert_checks_email();
    }
    let page = app.browser().sign_up("third@example.com", PASSWORD).await;
    assert_eq!(page.status, 429, "the budget holds for sign-ups that count");
    // And a mistyped form is told what is wrong, not to wait.
    let page = app.browser().sign_up("not an address", PASSWORD).await;
    assert_eq!(page.status, 422);
}

/// E-mails go out in the background: long enough for a second one to arrive.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn reset_emails_to(app: &TestApp, to: &str) -> usize {
    app.email
        .messages()
        .iter()
        .filter(|email| email.to == to && email.subject.contains("Reset your password"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reset_email_per_address_in_five_minutes_and_the_page_the_same_either_way() {
    let app = spawn_app().await;
    app.signed_up("ann@example.com").await;
    let browser = app.browser();
    let first = browser
        .post("/forgot-password", &[("email", "ann@example.com")])
        .await;
    app.wait_for_email("ann@example.com", "Reset your password")
        .await;
    let second = browser
        .post("/forgot-password", &[("email", "ann@example.com")])
        .await;
    let unknown = browser
        .post("/forgot-password", &[("email", "nobody@example.com")])
        .await;
    for page in [&second, &unknown] {
        assert_eq!((page.status, &page.body), (first.status, &first.body));
    }
    settle().await;
    assert_eq!(reset_emails_to(&app, "ann@example.com"), 1);

    // The test clock runs on from the wall clock: a margin of ten seconds.
    app.clock.advance(5 * 60 - 10);
    browser
        .post("/forgot-password", &[("email", "ann@example.com")])
        .await;
    settle().await;
    assert_eq!(
        reset_emails_to(&app, "ann@example.com"),
        1,
        "still within five minutes"
    );

    app.clock.advance(10);
    browser
        .post("/forgot-password", &[("email", "ann@example.com")])
        .await;
    app.wait_for_email("ann@example.com", "Reset your password")
        .await;
    settle().await;
    assert_eq!(reset_emails_to(&app, "ann@example.com"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_reset_requests_at_once_send_one_email() {
    let app = spawn_app().await;
    app.signed_up("ann@example.com").await;
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let browser = Browser::new(&app.address);
            tokio::spawn(async move {
                browser
                    .post("/forgot-password", &[("email", "ann@example.com")])
                    .await
                    .status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    app.wait_for_email("ann@example.com", "Reset your password")
        .await;
    settle().await;
    assert_eq!(reset_emails_to(&app, "ann@example.com"), 1);
}
