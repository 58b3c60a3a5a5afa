//! A webhook receiver on loopback that acknowledges at once over keep-alive connections
//! and notes when each webhook arrived.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// Arrivals: the time and the payment id (`data.id`) of each webhook.
#[derive(Clone, Default)]
pub(crate) struct Arrivals {
    seen: Arc<Mutex<Vec<(Instant, String)>>>,
    more: Arc<Notify>,
}

impl Arrivals {
    pub(crate) fn snapshot(&self) -> Vec<(Instant, String)> {
        self.seen.lock().expect("arrivals lock").clone()
    }

    pub(crate) fn len(&self) -> usize {
        self.seen.lock().expect("arrivals lock").len()
    }

    /// Waits until at least `count` webhooks arrived.
    pub(crate) async fn wait_for(&self, count: usize) {
        while self.len() < count {
            let more = self.more.notified();
            if self.len() >= count {
                break;
            }
            let _ = tokio::time::timeout(std::time::Duration::from_millis(200), more).await;
        }
    }
}

/// Starts the receiver; returns its URL and what it records.
pub(crate) async fn start() -> (String, Arrivals) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}/webhooks", listener.local_addr().expect("bound"));
    let arrivals = Arrivals::default();
    let app = Router::new().route("/webhooks", axum::routing::post(receive)).with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, arrivals)
}

async fn receive(State(arrivals): State<Arrivals>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let payment = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|event| event["data"]["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    arrivals.seen.lock().expect("arrivals lock").push((at, payment));
    arrivals.more.notify_waiters();
    StatusCode::NO_CONTENT
}

/// `receive COUNT`: prints the URL, then waits for COUNT webhooks and prints the rate
/// from the first arrival to the last.
pub(crate) async fn count(count: usize) {
    let (url, arrivals) = start().await;
    println!("listening {url}");
    arrivals.wait_for(count).await;
    let seen = arrivals.snapshot();
    let first = seen.first().map(|(at, _)| *at).expect("at least one webhook");
    let last = seen.last().map(|(at, _)| *at).expect("at least one webhook");
    let seconds = (last - first).as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss)]
    let rate = seen.len() as f64 / seconds;
    println!("deliveries={} seconds={seconds:.2} deliveries_per_s={rate:.0}", seen.len());
}
