//! The server's own limits, over raw TCP: a client that sends half a request
//! header, or keeps a connection open without sending anything, is
//! disconnected after the header-read timeout; and no more than
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
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<(String, Instant)> {
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
