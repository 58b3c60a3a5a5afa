//! Servers the client talks to: a real gateway, a webhook endpoint, and scripted HTTP
//! servers that answer what a test tells them to.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatepost_merchant::{Client, RetryPolicy};
use gatepost_testkit::{Backend, Shopper, TestApp};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// A gateway on port 0 with its own SQLite file, and one merchant on it.
pub struct Gateway {
    pub base_url: String,
    pub api_key: String,
    pub webhook_secret: String,
    /// Keeps serving until the test ends.
    app: TestApp,
}

impl Gateway {
    pub async fn start() -> Self {
        let app = TestApp::spawn(Backend::Sqlite).await;
        let merchant = app.merchant.clone();
        Self { base_url: app.base_url.clone(), api_key: merchant.api_key, webhook_secret: merchant.webhook_secret, app }
    }

    /// The merchant's client, retrying quickly.
    pub fn client(&self) -> Client {
        Client::new(&self.base_url, &self.api_key).unwrap().with_retry_policy(quick_retries())
    }

    /// Pays on the hosted page with `card`, as a shopper without JavaScript would, and
    /// returns where the gateway sends the browser next.
    pub async fn pay(&self, checkout_url: &str, card: &str) -> String {
        Shopper::new().pay(checkout_url, card).await
    }

    /// Cancels an open payment through the API.
    pub async fn cancel(&self, payment_id: &str) {
        let url = self.app.url(&format!("/v1/payments/{payment_id}/cancel"));
        let response = self.app.http.post(url).bearer_auth(&self.api_key).send().await.unwrap();
        assert_eq!(response.status(), 200, "cancel {payment_id}");
    }
}

/// Retries that keep tests fast: a few milliseconds apart.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy { max_retries: 3, initial_backoff: Duration::from_millis(10), max_backoff: Duration::from_millis(50) }
}

/// One request as a test server got it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

/// An answer a scripted server gives.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Self { status, headers: vec![("content-type", "application/json")], body: body.to_owned() }
    }

    pub fn problem(status: u16, code: &str) -> Self {
        let body = serde_json::json!({
            "type": format!("/errors/{code}"), "title": code, "status": status, "detail": "scripted", "code": code,
        });
        Self { status, headers: vec![("content-type", "application/problem+json")], body: body.to_string() }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self { status, headers: vec![("content-type", "text/plain")], body: body.to_owned() }
    }

    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }
}

#[derive(Default)]
struct Script {
    received: Vec<Recorded>,
    queued: VecDeque<Reply>,
    default: Option<Reply>,
}

/// An HTTP server on 127.0.0.1, port 0, that records every request and answers the
/// queued replies in order, then the default one (200 with an empty JSON object).
#[derive(Clone)]
pub struct ScriptedServer {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl ScriptedServer {
    pub async fn start(replies: impl IntoIterator<Item = Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let script = Script { queued: replies.into_iter().collect(), ..Script::default() };
        let server =
            Self { url: format!("http://{}", listener.local_addr().unwrap()), script: Arc::new(Mutex::new(script)) };
        let app = Router::new().fallback(answer).with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        server
    }

    /// Answers every request after the queued ones with `reply`.
    pub fn always(&self, reply: Reply) {
        self.script.lock().unwrap().default = Some(reply);
    }

    pub fn received(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().received.clone()
    }

    /// Waits until `count` requests arrived, at most ten seconds, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(Instant::now() < deadline, "{count} requests expected, {} arrived", received.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, "sk_test_scripted").unwrap().with_retry_policy(quick_retries())
    }
}

async fn answer(State(server): State<ScriptedServer>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let reply = {
        let mut script = server.script.lock().unwrap();
        script.received.push(Recorded {
            method: parts.method.to_string(),
            path_and_query: parts.uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
            headers: parts.headers,
            body: body.to_vec(),
        });
        script.queued.pop_front().or_else(|| script.default.clone()).unwrap_or_else(|| Reply::json(200, "{}"))
    };
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// A raw TCP server whose first `drops` connections are closed as soon as a request has
/// arrived, without an answer; later ones get `reply`. Returns its URL and the
/// `idempotency-key` of every request that arrived.
pub async fn dropping_server(drops: usize, reply: Reply) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let keys = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&keys);
    tokio::spawn(async move {
        for connection in 0.. {
            let (mut stream, _) = listener.accept().await.unwrap();
            let headers = read_request(&mut stream).await;
            let key = headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
                .map(|(_, value)| value.clone())
                .unwrap_or_default();
            seen.lock().unwrap().push(key);
            if connection < drops {
                drop(stream);
                continue;
            }
            let mut answer = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
            for (name, value) in &reply.headers {
                answer.push_str(&format!("{name}: {value}\r\n"));
            }
            answer.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n{}",
                reply.body.len(),
                reply.body
            ));
            stream.write_all(answer.as_bytes()).await.unwrap();
            stream.shutdown().await.unwrap();
        }
    });
    (url, keys)
}

/// A raw TCP server that reads requests and never answers them. Returns its URL and
/// how many requests arrived.
pub async fn silent_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        let mut open = Vec::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_request(&mut stream).await;
            counted.fetch_add(1, Ordering::SeqCst);
            // Kept open, so the client waits for an answer rather than seeing a close.
            open.push(stream);
        }
    });
    (url, requests)
}

/// Reads one request (head and body) and returns its headers.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Vec<(String, String)> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "the client closed the connection mid-request");
        buffer.extend_from_slice(&chunk[..read]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, n)| n.parse().unwrap());
        while buffer.len() < end + 4 + length {
            let read = stream.read(&mut chunk).await.unwrap();
            assert!(read > 0, "the client closed the connection mid-body");
            buffer.extend_from_slice(&chunk[..read]);
        }
        return headers;
    }
}
