//! A recording relay on each wire between the two processes: the gateway's
//! `connectors.simulator.url` and the simulator's `--gateway-url` point at one each. Every
//! request is passed on unchanged (method, path, body, signature) and recorded with the
//! answer, so scenarios can wait for the last duplicate or stale callback instead of
//! sleeping, tell a payment settled by callback from one settled by polling, and hold
//! requests back to release them all at once and make results meet.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gatepost_connectors::simulator::protocol::SIGNATURE_HEADER;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One request as it was relayed, and the answer it got.
#[derive(Clone, Debug)]
pub struct Relayed {
    pub method: Method,
    pub path: String,
    pub body: Vec<u8>,
    pub signature: String,
    /// The status code of the answer; 502 when the other side could not be reached.
    pub answer: u16,
    pub reply: Vec<u8>,
}

impl Relayed {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    pub fn reply_json(&self) -> Value {
        serde_json::from_slice(&self.reply).unwrap_or_default()
    }

    /// The attempt or refund a callback is about.
    pub fn subject(&self) -> String {
        let json = self.json();
        json["attempt_id"].as_str().or(json["refund_id"].as_str()).unwrap_or_default().to_owned()
    }

    /// A callback's status: `approved`, `declined`, `pending`, `succeeded`…
    pub fn status(&self) -> String {
        self.json()["status"].as_str().unwrap_or_default().to_owned()
    }

    /// A callback's event id.
    pub fn id(&self) -> String {
        self.json()["id"].as_str().unwrap_or_default().to_owned()
    }
}

/// Which requests wait until [`Relay::release`], and whether before they are passed on or
/// after the other side has answered them.
struct Hold {
    method: Method,
    path_prefix: String,
    answered: bool,
}

#[derive(Default)]
struct Shared {
    /// Where requests go: set once the other side is up.
    target: OnceLock<String>,
    seen: Mutex<Vec<Relayed>>,
    hold: Mutex<Option<Hold>>,
    /// Requests waiting to be released.
    held: AtomicUsize,
    released: AtomicBool,
}

#[derive(Clone)]
pub struct Relay {
    /// What the sending side is given as the other side's base URL.
    pub url: String,
    shared: Arc<Shared>,
}

/// The longest a request is held, so that a scenario that never releases still ends.
const HOLD_AT_MOST: Duration = Duration::from_secs(15);

impl Relay {
    /// Listens on a free port; requests wait for [`Relay::forward_to`].
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(pass_on).with_state(Arc::clone(&shared));
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, shared }
    }

    /// Sets the base URL requests are passed on to.
    pub fn forward_to(&self, target: &str) {
        self.shared.target.set(target.to_owned()).expect("the relay's target is set once");
    }

    pub fn seen(&self) -> Vec<Relayed> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The callbacks (or requests) about one attempt or refund, in the order they were answered.
    pub fn about(&self, subject: &str) -> Vec<Relayed> {
        self.seen().into_iter().filter(|r| r.subject() == subject).collect()
    }

    /// Waits (at most 15 s) until the requests about `subject` satisfy `done`.
    pub async fn wait_about(&self, subject: &str, what: &str, done: impl Fn(&[Relayed]) -> bool) -> Vec<Relayed> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let about = self.about(subject);
            if done(&about) {
                return about;
            }
            assert!(Instant::now() < deadline, "{subject}: {what} did not happen within 15 s; relayed: {about:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// From now on, holds `method` requests whose path starts with `path_prefix` before they
    /// are passed on.
    pub fn hold(&self, method: Method, path_prefix: &str) {
        self.set_hold(Hold { method, path_prefix: path_prefix.to_owned(), answered: false });
    }

    /// As [`Relay::hold`], but passes the requests on at once and holds their answers.
    pub fn hold_answers(&self, method: Method, path_prefix: &str) {
        self.set_hold(Hold { method, path_prefix: path_prefix.to_owned(), answered: true });
    }

    fn set_hold(&self, hold: Hold) {
        *self.shared.hold.lock().unwrap() = Some(hold);
        self.shared.released.store(false, Ordering::SeqCst);
    }

    /// Waits (at most 15 s) until `count` requests are being held.
    pub async fn wait_until_holding(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.shared.held.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "{count} held requests expected within 15 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Lets every held request go, and holds nothing more.
    pub fn release(&self) {
        *self.shared.hold.lock().unwrap() = None;
        self.shared.released.store(true, Ordering::SeqCst);
    }
}

/// Whether a request is held, and whether after its answer (`Some(true)`) or before.
fn holds(shared: &Shared, method: &Method, path: &str) -> Option<bool> {
    let hold = shared.hold.lock().unwrap();
    hold.as_ref().filter(|hold| hold.method == method && path.starts_with(&hold.path_prefix)).map(|hold| hold.answered)
}

/// Waits until [`Relay::release`] (or [`HOLD_AT_MOST`]), checking every millisecond, so that
/// everything held goes on within about a millisecond of the release.
async fn wait_for_release(shared: &Shared) {
    shared.held.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + HOLD_AT_MOST;
    while !shared.released.load(Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    shared.held.fetch_sub(1, Ordering::SeqCst);
}

async fn pass_on(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let held = holds(&shared, &method, &path);
    if held == Some(false) {
        wait_for_release(&shared).await;
    }
    let header = |name: &str| headers.get(name).map_or("", |v| v.to_str().unwrap_or_default()).to_owned();
    let (signature, content_type) = (header(SIGNATURE_HEADER), header("content-type"));
    let target = shared.target.get().expect("the relay knows where to pass requests on");
    let mut request = gatepost_testkit::http()
        .request(method.clone(), format!("{target}{}", uri.path_and_query().map_or("/", |p| p.as_str())))
        .body(body.to_vec());
    for (name, value) in [(SIGNATURE_HEADER, &signature), ("content-type", &content_type)] {
        if !value.is_empty() {
            request = request.header(name, value);
        }
    }
    let (answer, reply) = match request.send().await {
        Ok(response) => (response.status().as_u16(), response.bytes().await.unwrap_or_default().to_vec()),
        Err(_) => (502, Vec::new()),
    };
    if held == Some(true) {
        wait_for_release(&shared).await;
    }
    let relayed = Relayed { method, path, body: body.to_vec(), signature, answer, reply: reply.clone() };
    shared.seen.lock().unwrap().push(relayed);
    (StatusCode::from_u16(answer).unwrap(), [("content-type", "application/json")], reply).into_response()
}
