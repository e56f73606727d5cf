//! The server's own limits, over raw TCP: a client that sends half a request
//! header, or keeps a connection open without sending anything, is
//! disconnected after the header-read timeout; a body that trickles in is cut
//! off at the body-read timeout however often its bytes come; and no more than
//! `server.max_connections` connections are served at once, the next one
//! waiting until one closes.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

const REQUEST: &[u8] = b"GET /sign-in HTTP/1.1\r\nHost: localhost\r\n\r\n";

async fn spawn_with(name: &str, value: &str) -> TestApp {
    TestApp::builder().setting(name, value).spawn().await
}

async fn open(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; answers what it sent and
/// when it closed, or `None` if it was still open after `within`.
async fn read_until_closed(
    stream: &mut (impl AsyncReadExt + Unpin),
    within: Duration,
) -> Option<(String, Instant)> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| {
        (
            String::from_utf8_lossy(&received).into_owned(),
            Instant::now(),
        )
    })
}

/// The start of a response, read without waiting for the connection to close.
async fn first_bytes(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut buffer = [0u8; 64];
    match tokio::time::timeout(within, stream.read(&mut buffer)).await {
        Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&buffer[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn a_client_that_sends_half_a_header_is_disconnected_after_the_header_read_timeout() {
    let app = spawn_with("TWOSTEP_SERVER__HEADER_READ_TIMEOUT_SECONDS", "1").await;
    let mut slow = open(&app).await;
    let started = Instant::now();
    slow.write_all(b"GET /sign-in HTTP/1.1\r\nHost: local")
        .await
        .unwrap();

    let (sent, closed) = read_until_closed(&mut slow, Duration::from_secs(5))
        .await
        .expect("the server closes the connection");
    let waited = closed - started;
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(4)).contains(&waited),
        "closed after {waited:?}"
    );
    assert!(
        !sent.contains("200 OK"),
        "no page for half a header: {sent}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let app = spawn_with("TWOSTEP_SERVER__HEADER_READ_TIMEOUT_SECONDS", "1").await;
    let mut idle = open(&app).await;
    idle.write_all(REQUEST).await.unwrap();
    let answered = first_bytes(&mut idle, Duration::from_secs(5)).await;
    assert!(
        answered.is_some_and(|start| start.starts_with("HTTP/1.1 200")),
        "the request is answered"
    );
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(5))
        .await
        .expect("the idle connection is closed");
    assert!(closed - started < Duration::from_secs(4));
}

#[tokio::test]
async fn no_more_connections_than_the_limit_are_served_the_next_waits_for_a_place() {
    let app = spawn_with("TWOSTEP_SERVER__MAX_CONNECTIONS", "2").await;
    let first = open(&app).await;
    let mut second = open(&app).await;
    second.write_all(REQUEST).await.unwrap();
    assert!(
        first_bytes(&mut second, Duration::from_secs(5))
            .await
            .is_some(),
        "the second connection is served"
    );

    let mut third = open(&app).await;
    third.write_all(REQUEST).await.unwrap();
    assert_eq!(
        first_bytes(&mut third, Duration::from_secs(1)).await,
        None,
        "the third waits while two are open"
    );

    drop(first);
    let answer = first_bytes(&mut third, Duration::from_secs(5)).await;
    assert!(
        answer.is_some_and(|start| start.starts_with("HTTP/1.1 200")),
        "served once a place is free"
    );
}

/// Posts `path` with a body of `length` bytes announced, of which it sends one
/// byte every 100 ms: each read comes soon, the whole never does.
async fn trickle(
    app: &TestApp,
    path: &str,
    content_type: &str,
    length: usize,
) -> (String, Duration) {
    let mut slow = open(app).await;
    let started = Instant::now();
    let header = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    );
    slow.write_all(header.as_bytes()).await.unwrap();
    let (reader, mut writer) = slow.into_split();
    let feeding = tokio::spawn(async move {
        for _ in 0..length {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(b"x").await.is_err() {
                return;
            }
        }
    });
    let mut reader = reader;
    let closed = read_until_closed(&mut reader, Duration::from_secs(10)).await;
    feeding.abort();
    let (received, closed_at) = closed.expect("the server closes the connection");
    (received, closed_at - started)
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_at_the_body_read_timeout() {
    let app = spawn_with("TWOSTEP_SERVER__BODY_READ_TIMEOUT_SECONDS", "1").await;
    // 200 bytes at 10 a second would take 20 s.
    let (api, waited) = trickle(&app, "/api/v1/apps/connect", "application/json", 200).await;
    assert!(api.starts_with("HTTP/1.1 408"), "{api}");
    assert!(api.contains(r#""error":"request_timeout""#), "{api}");
    assert!(
        api.to_ascii_lowercase().contains("connection: close"),
        "{api}"
    );
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(5)).contains(&waited),
        "answered after {waited:?}"
    );

    let (page, _) = trickle(&app, "/sign-in", "application/x-www-form-urlencoded", 200).await;
    assert!(page.starts_with("HTTP/1.1 408"), "{page}");
    assert!(page.contains("The form took too long to arrive"), "{page}");

    // The portal still serves whoever sends a whole request.
    let mut next = open(&app).await;
    next.write_all(REQUEST).await.unwrap();
    let answer = first_bytes(&mut next, Duration::from_secs(5)).await;
    assert!(answer.is_some_and(|start| start.starts_with("HTTP/1.1 200")));
}

#[tokio::test]
async fn a_body_larger_than_64_kib_is_refused_by_the_api_as_json() {
    let app = TestApp::builder().spawn().await;
    let device_name = "x".repeat(70 * 1024);
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/apps/connect"))
        .json(
            &serde_json::json!({"email": "ann@example.com", "password": "a long password",
               "app_id": "photon-desktop", "app_version": "3.2.0", "device_name": device_name}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
}
