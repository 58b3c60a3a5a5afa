//! A merchant's webhook endpoint for tests: records every request and answers as told.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// How the receiver answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// This status, with these headers, and an empty body.
    Status(u16, Vec<(&'static str, String)>),
    /// 200 with `{"payment_reference": <the event's payment>}` (echo acknowledgement).
    Echo,
    /// 200 after this long.
    Slow(Duration),
    /// This status with these exact body bytes, whatever they are.
    Body(u16, Vec<u8>),
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Answers for the next requests, in order; then `default`.
    queued: VecDeque<Reply>,
    default: Option<Reply>,
}

#[derive(Clone, Default)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl Receiver {
    /// Listens on 127.0.0.1 on a free port; answers 200 until told otherwise.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Self { inner: Arc::default(), url: format!("http://{addr}/webhooks") };
        let app = Router::new().route("/webhooks", axum::routing::post(receive)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// Answers the next requests with `replies`, in order.
    pub fn queue(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().queued.extend(replies);
    }

    /// Answers every request after the queued ones with `reply`.
    pub fn always(&self, reply: Reply) {
        self.inner.lock().unwrap().default = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits until `count` requests arrived (at most `within`), and returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{count} webhooks expected, {} arrived within {within:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = {
        let mut inner = receiver.inner.lock().unwrap();
        inner.received.push(Received { headers, body: body.to_vec(), at: Instant::now() });
        inner.queued.pop_front().or_else(|| inner.default.clone()).unwrap_or(Reply::Status(200, Vec::new()))
    };
    match reply {
        Reply::Status(status, headers) => {
            let mut response = StatusCode::from_u16(status).unwrap().into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK.into_response()
        }
        Reply::Body(status, bytes) => (StatusCode::from_u16(status).unwrap(), bytes).into_response(),
        Reply::Echo => {
            let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
            axum::Json(serde_json::json!({"payment_reference": event["data"]["id"]})).into_response()
        }
    }
}

/// Runs `script` with the Python of `.venv` at the workspace root (where `scripts/test`
/// installs the official `standardwebhooks` package), `input` as JSON on its stdin, and
/// returns its stdout, trimmed. `GATEPOST_TEST_PYTHON` names another interpreter.
///
/// # Panics
/// If the interpreter cannot run or the script fails.
#[must_use]
pub fn python(script: &str, input: &serde_json::Value) -> String {
    let python = std::env::var("GATEPOST_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/../../.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} with standardwebhooks is needed (run scripts/test): {e}"));
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{python} failed (run scripts/test to install standardwebhooks)");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Verifies a delivered webhook with the official Standard Webhooks Python library.
///
/// # Panics
/// If Python cannot run, or says neither verified nor rejected.
#[must_use]
pub fn python_verifies(secret: &str, received: &Received) -> bool {
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
message = json.load(sys.stdin)
try:
    Webhook(message["secret"]).verify(message["body"], message["headers"])
    print("verified")
except Exception as error:
    print("rejected:", error)
"#;
    let headers: serde_json::Map<String, serde_json::Value> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|name| ((*name).to_owned(), received.header(name).into()))
        .collect();
    let input = serde_json::json!({
        "secret": secret,
        "body": String::from_utf8(received.body.clone()).unwrap(),
        "headers": headers,
    });
    let said = python(script, &input);
    assert!(said.starts_with("verified") || said.starts_with("rejected"), "python said: {said}");
    said.starts_with("verified")
}
