//! Two `twostep serve` processes on one PostgreSQL database behind Debian's
//! nginx in round robin (`scripts/nginx-two-instances.conf.template`, the
//! configuration README shows), behaving as one: an account made through one
//! signs in through the other, a sign-in begun on one finishes on the other, a
//! code sent by one is accepted by the other, a hundred wrong passwords, SMS
//! codes or authenticator codes spread over both are checked no more often than
//! the limit allows, and eight refusals of an old app send one e-mail.
//!
//! `#[ignore]`d: it needs nginx and PostgreSQL, which `.ci/run` installs and
//! starts. The harness is in `cluster.rs`.

mod cluster;

use std::collections::BTreeMap;
use std::time::Duration;

use domain::authenticator::{STEP_SECONDS, code_at};
use serde_json::{Value, json};

use crate::helpers::{
    AUTHENTICATOR_SCAN, Browser, PASSWORD, PHONE, PHONE_E164, PhoneFlow,
    assert_parallel_wrong_codes_checked_five_times, secret_from, secret_key_on,
};
use cluster::{TwoInstances, at, post_api, post_json};

const ATTEMPTS: usize = 100;
const CONNECT: &str = "/api/v1/apps/connect";
const VERIFY: &str = "/api/v1/apps/connect/verify";
/// Versions of the catalogue's Photon Desktop with and without two-step verification.
const NEW_VERSION: &str = "3.2.0";
const OLD_VERSION: &str = "2.9.1";

/// What an application sends to connect as Ann from her laptop.
fn connect_body(password: &str, version: &str) -> Value {
    json!({"email": "ann@example.com", "password": password, "app_id": "photon-desktop",
           "app_version": version, "device_name": "Ann's laptop"})
}

/// Error codes and how often each is expected.
fn counted<const N: usize>(answers: [(&str, usize); N]) -> BTreeMap<String, usize> {
    answers
        .into_iter()
        .map(|(code, n)| (code.to_owned(), n))
        .collect()
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn two_instances_behind_nginx_share_accounts_sign_ins_and_codes() {
    let cluster = TwoInstances::start().await;
    let [first, second] = &cluster.instances;
    let upstreams = cluster.upstreams(4).await;
    assert!(
        upstreams[0] != upstreams[1] && upstreams[0] == upstreams[2],
        "nginx takes turns: {upstreams:?}"
    );

    // Signed up through the first; a code requested through it is accepted by the second.
    let ann = cluster.browser(first);
    cluster
        .sign_up_confirmed(&ann, "ann@example.com", PASSWORD)
        .await;
    ann.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    let code = cluster.last_sms_code(PHONE_E164);
    at(&ann, second)
        .enter_phone_code(PhoneFlow::SetUp, &code)
        .await
        .assert_two_step_turned_on();
    at(&ann, &cluster.nginx).sign_out().await;

    // A sign-in begun on the second finishes on the first.
    let sent_before = cluster.sms().len();
    let again = cluster.browser(second);
    again
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    assert_eq!(
        cluster.sms().len(),
        sent_before + 1,
        "one code for the sign-in"
    );
    let code = cluster.last_sms_code(PHONE_E164);
    at(&again, first).assert_sign_in_code_accepted(&code).await;

    // Signed in on both: through nginx, each request to either instance.
    let through_nginx = at(&again, &cluster.nginx);
    for _ in 0..4 {
        let tab = through_nginx.get("/account/settings/security").await;
        assert_eq!(tab.status, 200, "{}", tab.body);
        assert!(tab.contains("+1 ••• ••• 0000"));
    }
    // The code was used up on the first: the second refuses it too.
    let replay = cluster.browser(second);
    replay.sign_in("ann@example.com", PASSWORD).await;
    let reused = replay.enter_sign_in_code(&code).await;
    assert_eq!(
        reused.status, 422,
        "a code is accepted once, on any instance"
    );
}

/// Ann signs up through nginx and turns SMS two-step verification on; her
/// browser, signed in.
async fn ann_with_sms_two_step(cluster: &TwoInstances) -> Browser {
    let ann = cluster.browser(&cluster.nginx);
    cluster
        .sign_up_confirmed(&ann, "ann@example.com", PASSWORD)
        .await;
    ann.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    ann.enter_phone_code(PhoneFlow::SetUp, &cluster.last_sms_code(PHONE_E164))
        .await
        .assert_two_step_turned_on();
    ann
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn a_hundred_wrong_codes_spread_over_both_instances_are_checked_five_times() {
    let cluster = TwoInstances::start().await;
    ann_with_sms_two_step(&cluster).await;

    let intruder = cluster.browser(&cluster.nginx);
    intruder
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    let right = cluster.last_sms_code(PHONE_E164);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let token = intruder.get("/sign-in/verify").await.csrf_token();
    // Five wrong entries are checked between both instances, no more.
    assert_parallel_wrong_codes_checked_five_times(
        &intruder.client,
        &token,
        ATTEMPTS,
        |attempt| format!("{}/sign-in/verify", cluster.instances[attempt % 2]),
        wrong,
    )
    .await;
    let page = intruder.enter_sign_in_code(&right).await;
    assert!(
        page.contains("Too many wrong codes."),
        "the right code after them is refused unchecked: {}",
        page.body
    );
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn a_hundred_wrong_passwords_spread_over_both_instances_are_checked_ten_times() {
    let cluster = TwoInstances::start().await;
    let ann = cluster.browser(&cluster.nginx);
    cluster
        .sign_up_confirmed(&ann, "ann@example.com", PASSWORD)
        .await;
    let wrong = connect_body("wrong password", NEW_VERSION);
    let answers = cluster.spread_over_both(ATTEMPTS, CONNECT, &wrong).await;
    assert_eq!(
        answers,
        counted([
            ("invalid_credentials", 10),
            ("too_many_attempts", ATTEMPTS - 10)
        ]),
        "ten checked between both"
    );
    assert_eq!(
        post_api(
            &cluster.nginx,
            CONNECT,
            &connect_body(PASSWORD, NEW_VERSION)
        )
        .await,
        (429, "too_many_attempts".to_owned()),
        "the right password after them is refused unchecked"
    );
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn eight_refusals_of_an_old_app_on_both_instances_send_one_email() {
    let cluster = TwoInstances::start().await;
    ann_with_sms_two_step(&cluster).await;
    let updates = || {
        cluster
            .emails()
            .iter()
            .filter(|email| {
                email["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Update")
            })
            .count()
    };
    // Fewer than the ten password attempts an address may have in flight: each
    // takes a place until its check, right or wrong.
    let old_app = connect_body(PASSWORD, OLD_VERSION);
    let answers = cluster.spread_over_both(8, CONNECT, &old_app).await;
    assert_eq!(
        answers,
        counted([("two_step_unsupported", 8)]),
        "an app without two-step is refused"
    );
    // The e-mail goes out in the background: wait for it, then for any other.
    for _ in 0..100 {
        if updates() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        updates(),
        1,
        "one e-mail a day per app and device, between both"
    );
}

fn unix_now() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since_epoch.as_secs()).unwrap()
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn a_hundred_wrong_authenticator_codes_spread_over_both_instances_are_checked_three_times() {
    let cluster = TwoInstances::start().await;
    let ann = ann_with_sms_two_step(&cluster).await;
    let secret = secret_from(&secret_key_on(&ann.open_the_scan_page().await));
    ann.post(
        AUTHENTICATOR_SCAN,
        &[("code", code_at(&secret, unix_now()).as_str())],
    )
    .await
    .assert_redirect_to("/account/settings/security?notice=authenticator_on");
    // The limit is per 30-second step: begin early in one so that all fall in it.
    let into_step = unix_now().rem_euclid(STEP_SECONDS);
    if into_step > STEP_SECONDS / 2 {
        let wait = u64::try_from(STEP_SECONDS - into_step + 1).unwrap();
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    let (status, body) = post_json(
        &cluster.nginx,
        CONNECT,
        &connect_body(PASSWORD, NEW_VERSION),
    )
    .await;
    assert_eq!(body["status"], "two_step_required", "{status} {body}");
    let challenge = body["challenge"].as_str().unwrap();
    let right = code_at(&secret, unix_now());
    let wrong = if right.as_str() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let verify =
        |code: &str| json!({"challenge": challenge, "method": "authenticator", "code": code});
    let answers = cluster
        .spread_over_both(ATTEMPTS, VERIFY, &verify(wrong))
        .await;
    assert_eq!(
        answers,
        counted([("code_wrong", 3), ("too_many_attempts", ATTEMPTS - 3)]),
        "three checked between both"
    );
    assert_eq!(
        post_api(&cluster.nginx, VERIFY, &verify(right.as_str())).await,
        (429, "too_many_attempts".to_owned()),
        "the right code after them, in the same step, is refused unchecked"
    );
}
