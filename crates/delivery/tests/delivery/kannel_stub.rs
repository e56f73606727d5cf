//! The Kannel provider against a stand-in HTTP server: what it sends, how it reads Kannel's
//! answers, when it tries again, and that no code or number leaks into errors or logs.

use std::path::Path;
use std::time::{Duration, Instant};

use delivery::{DeliveryError, KannelSettings, Sms, SmsSender, SmsSettings};

use crate::helpers::{
    Answer, CapturedLogs, StubGateway, assert_unreachable_quickly, closed_port, kannel_settings,
    test_ca_file,
};

const NUMBER: &str = "+16502530042";
const TEXT: &str = "Your twostep code is 918273. It expires in 10 minutes & works once.";

fn sender(settings: KannelSettings) -> SmsSender {
    SmsSender::from_settings(&SmsSettings::Kannel(settings), Path::new(".")).unwrap()
}

fn code_sms() -> Sms {
    Sms {
        to: NUMBER.to_owned(),
        text: TEXT.to_owned(),
    }
}

/// The code SMS, sent through `gateway` with `retries`.
async fn send_through(gateway: &StubGateway, retries: u32) -> Result<(), DeliveryError> {
    sender(kannel_settings(gateway.url(), retries))
        .send(&code_sms())
        .await
}

/// Neither the code, nor the full number, nor the password may appear in `text`.
fn assert_no_secrets(text: &str) {
    for secret in ["918273", NUMBER, "6502530042", "s3cret-kannel-password"] {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

#[tokio::test]
async fn an_accepted_sms_sends_every_field_url_encoded_once() {
    let gateway = StubGateway::start(Answer::With(202, "0: Accepted for delivery")).await;

    send_through(&gateway, 2).await.unwrap();

    assert_eq!(gateway.requests(), 1);
    let query = gateway.first_query();
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("username"), Some("twostep"));
    assert_eq!(get("password"), Some("s3cret-kannel-password"));
    assert_eq!(get("from"), Some("twostep"));
    assert_eq!(get("to"), Some(NUMBER));
    assert_eq!(get("text"), Some(TEXT));
}

#[tokio::test]
async fn queued_for_later_delivery_counts_as_sent() {
    let gateway = StubGateway::start(Answer::With(202, "3: Queued for later delivery")).await;
    send_through(&gateway, 2).await.unwrap();
    assert_eq!(gateway.requests(), 1);
}

#[tokio::test]
async fn a_refusal_is_final_and_says_why() {
    let gateway = StubGateway::start(Answer::With(403, "Authorization failed for sendsms")).await;

    let error = send_through(&gateway, 2).await.unwrap_err();

    let DeliveryError::GatewayRefused { reason } = &error else {
        panic!("refusal expected: {error:?}")
    };
    assert!(
        reason.contains("403") && reason.contains("Authorization failed"),
        "{reason}"
    );
    assert_eq!(gateway.requests(), 1, "a refusal is not tried again");
}

#[tokio::test]
async fn a_success_status_with_an_answer_kannel_never_gives_is_a_refusal() {
    let gateway = StubGateway::start(Answer::With(200, "<html>Welcome to nginx</html>")).await;
    let error = send_through(&gateway, 0).await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::GatewayRefused { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_gateway_that_repeats_the_message_in_its_refusal_does_not_leak_it() {
    let echo = "Rejected: Your twostep code is 918273. It expires in 10 minutes & works once. to +16502530042";
    let gateway = StubGateway::start(Answer::With(400, echo)).await;
    let error = send_through(&gateway, 0).await.unwrap_err();
    assert_no_secrets(&error.to_string());
}

#[tokio::test]
async fn a_server_error_is_tried_again_with_growing_pauses() {
    let gateway = StubGateway::start(Answer::With(503, "Sending failed.")).await;
    let start = Instant::now();

    let error = send_through(&gateway, 2).await.unwrap_err();

    assert!(
        matches!(error, DeliveryError::GatewayRefused { .. }),
        "{error:?}"
    );
    assert_eq!(gateway.requests(), 3, "the first try and two more");
    // Pauses of 200 ms and 400 ms between the three tries.
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable_quickly_and_the_reason_hides_the_request() {
    let port = closed_port();
    let start = Instant::now();

    let error = sender(kannel_settings(
        format!("http://127.0.0.1:{port}/cgi-bin/sendsms"),
        2,
    ))
    .send(&code_sms())
    .await
    .unwrap_err();

    let DeliveryError::GatewayUnreachable { reason } = &error else {
        panic!("unreachable expected: {error:?}")
    };
    assert_unreachable_quickly(reason, port, start);
    assert_no_secrets(&error.to_string());
    assert_no_secrets(&format!("{error:?}"));
}

#[tokio::test]
async fn a_gateway_that_never_answers_times_out_each_try() {
    let gateway = StubGateway::start(Answer::Never).await;
    let settings = KannelSettings {
        timeout_ms: 300,
        ..kannel_settings(gateway.url(), 1)
    };
    let start = Instant::now();

    let error = sender(settings).send(&code_sms()).await.unwrap_err();

    let DeliveryError::GatewayUnreachable { reason } = &error else {
        panic!("unreachable expected: {error:?}")
    };
    assert!(reason.contains("300 ms"), "{reason}");
    assert_eq!(gateway.requests(), 2);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn logs_show_only_the_last_two_digits_of_the_number_and_never_the_text() {
    let logs = CapturedLogs::start();
    let refusing = StubGateway::start(Answer::With(503, "Sending failed.")).await;
    let accepting = StubGateway::start(Answer::With(202, "0: Accepted for delivery")).await;
    let closed = format!("http://127.0.0.1:{}/cgi-bin/sendsms", closed_port());

    let _ = sender(kannel_settings(refusing.url(), 1))
        .send(&code_sms())
        .await;
    let _ = sender(kannel_settings(closed, 1)).send(&code_sms()).await;
    sender(kannel_settings(accepting.url(), 1))
        .send(&code_sms())
        .await
        .unwrap();

    let text = logs.text();
    assert!(
        text.contains("trying again") && text.contains("accepted"),
        "{text}"
    );
    assert!(
        text.contains("…42"),
        "the last two digits help support: {text}"
    );
    assert_no_secrets(&text);
}

#[tokio::test]
async fn over_https_an_sms_reaches_a_gateway_whose_certificate_is_trusted_only() {
    let gateway = StubGateway::start_tls(Answer::With(202, "0: Accepted for delivery")).await;
    assert!(gateway.url().starts_with("https://127.0.0.1:"));

    let untrusted = sender(kannel_settings(gateway.url(), 0))
        .send(&code_sms())
        .await
        .unwrap_err();
    assert!(
        matches!(untrusted, DeliveryError::GatewayUnreachable { .. }),
        "{untrusted:?}"
    );
    assert_no_secrets(&format!("{untrusted} {untrusted:?}"));
    assert_eq!(
        gateway.requests(),
        0,
        "nothing is sent to an unknown certificate"
    );

    let trusted = KannelSettings {
        ca_file: Some(test_ca_file()),
        ..kannel_settings(gateway.url(), 0)
    };
    sender(trusted).send(&code_sms()).await.unwrap();
    assert_eq!(gateway.requests(), 1);
    let query = gateway.first_query();
    assert!(
        query.contains(&("to".to_owned(), NUMBER.to_owned())),
        "{query:?}"
    );
    assert!(
        query.contains(&("text".to_owned(), TEXT.to_owned())),
        "{query:?}"
    );
}
