//! Slow and greedy clients (docs/reference/limits.md#connections): a head that never ends, a
//! body that dribbles, connections that idle or pile up, and clients over their rate.

use crate::checkout::HostedPage as _;
use crate::checkout::card_form;
use gatepost_server::Rate;
use gatepost_testkit::{Backend, TestApp, problem};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A gateway whose connection limits are short enough to watch.
async fn app_with_limits(backend: Backend, header: u64, body: u64, idle: u64) -> TestApp {
    TestApp::spawn_configured(backend, |config| {
        config.http.header_timeout = Duration::from_millis(header);
        config.http.body_timeout = Duration::from_millis(body);
        config.http.idle_timeout = Duration::from_millis(idle);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base_url.strip_prefix("http://").unwrap()).await.unwrap()
}

/// Reads until the server closes the connection, for at most `within`; the bytes read.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(all),
            Ok(Ok(n)) => all.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn a_request_head_that_never_ends_is_closed_after_the_header_timeout(backend: Backend) {
    let app = app_with_limits(backend, 500, 30_000, 60_000).await;
    let mut silent = connect(&app).await;
    let mut partial = connect(&app).await;
    partial.write_all(b"GET /healthz HTTP/1.1\r\nHost: gatepost\r\nX-Slow: ").await.unwrap();
    let started = Instant::now();

    assert!(read_until_closed(&mut silent, Duration::from_secs(5)).await.is_some(), "a silent connection is closed");
    assert!(read_until_closed(&mut partial, Duration::from_secs(5)).await.is_some(), "a partial head is closed");
    assert!(started.elapsed() >= Duration::from_millis(400), "not before the timeout");
}

async fn a_dribbled_body_is_answered_408_and_creates_nothing(backend: Backend) {
    let app = app_with_limits(backend, 10_000, 700, 60_000).await;
    let mut stream = connect(&app).await;
    let body = r#"{"amount": 1050, "currency": "EUR"}"#;
    let head = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: gatepost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.merchant.api_key,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Five bytes in half a second, then nothing: the body is never finished.
    for byte in body.as_bytes().iter().take(5) {
        stream.write_all(&[*byte]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("answered, then closed");
    let answer = String::from_utf8_lossy(&answer);

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json") && answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(app.list_payments("").await["data"].as_array().unwrap().is_empty(), "no payment was created");
}

async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout(backend: Backend) {
    let app = app_with_limits(backend, 300, 30_000, 1_500).await;
    let mut stream = connect(&app).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: gatepost\r\n\r\n").await.unwrap();
    let mut first = [0u8; 1024];
    let n = stream.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let answered = Instant::now();

    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;

    assert!(closed.is_some(), "closed within the idle timeout");
    let idle = answered.elapsed();
    assert!(idle >= Duration::from_millis(1_200), "an idle connection lives longer than a head may take: {idle:?}");
}

async fn connections_over_the_cap_wait_until_one_closes(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| config.http.max_connections = 2).await;
    let first = connect(&app).await;
    let second = connect(&app).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let third = tokio::time::timeout(Duration::from_millis(500), app.http.get(app.url("/healthz")).send()).await;
    assert!(third.is_err(), "a third connection waits in the accept queue");

    drop(first);
    let answered = tokio::time::timeout(Duration::from_secs(5), app.http.get(app.url("/healthz")).send()).await;
    assert_eq!(answered.expect("served once a slot is free").unwrap().status(), 200);
    drop(second);
}

async fn an_api_key_over_its_rate_gets_429_with_headers_and_others_do_not(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| config.rate_limit.api = Rate::parse("5/s").unwrap()).await;
    let other = app.create_merchant("Other Shop").await;

    let mut remaining = Vec::new();
    for _ in 0..10 {
        let response = app.get("/v1/payments").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "10");
        remaining.push(response.headers()["ratelimit-remaining"].to_str().unwrap().parse::<u32>().unwrap());
    }
    assert_eq!(remaining.first(), Some(&9));
    assert!(remaining.windows(2).all(|w| w[1] <= w[0]), "{remaining:?}");

    let limited =
        app.post_as(&app.merchant.api_key, "/v1/payments", r#"{"amount":1,"currency":"EUR"}"#, Some("k1")).await;
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let (status, body) = problem(limited).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    assert_eq!(app.get_as(&other.api_key, "/v1/payments").await.status(), 200, "another key has its own bucket");

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let retried =
        app.post_as(&app.merchant.api_key, "/v1/payments", r#"{"amount":1,"currency":"EUR"}"#, Some("k1")).await;
    assert_eq!(retried.status(), 201, "the 429 was not stored for the idempotency key");
}

async fn a_client_address_over_its_pay_rate_gets_an_html_429(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| config.rate_limit.pay = Rate::parse("2/s").unwrap()).await;
    let checkout = app.checkout(json!({})).await;
    let token = app.page(&checkout.path).await.form_token();

    let mut statuses = Vec::new();
    for _ in 0..5 {
        let form = card_form("stale-token", "4000000000000002");
        statuses.push(app.submit(&checkout.path, &form).await.status().as_u16());
    }
    let page =
        crate::checkout::Page::from(app.submit(&checkout.path, &card_form(&token, "4242424242424242")).await).await;

    assert!(statuses[..4].iter().all(|s| *s != 429), "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    assert_eq!(page.status, 429);
    assert!(page.header("content-type").starts_with("text/html") && page.contains("Too many attempts"));
    assert!(page.header("retry-after").parse::<u64>().is_ok());
    assert_eq!(app.page(&checkout.path).await.status, 200, "showing the page is not limited");
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "OPEN");
}

gatepost_testkit::for_each_backend!(
    a_request_head_that_never_ends_is_closed_after_the_header_timeout,
    a_dribbled_body_is_answered_408_and_creates_nothing,
    an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout,
    connections_over_the_cap_wait_until_one_closes,
    an_api_key_over_its_rate_gets_429_with_headers_and_others_do_not,
    a_client_address_over_its_pay_rate_gets_an_html_429,
);
