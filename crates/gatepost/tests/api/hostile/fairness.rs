//! One merchant's receiver that never answers must not hold up another's webhooks
//! (docs/reference/webhooks.md#fairness): a destination has at most
//! `GATEPOST_WEBHOOKS__MAX_IN_FLIGHT_PER_ENDPOINT` attempts in flight, and the rest of its
//! backlog waits without taking anyone's turn.

use futures::StreamExt as _;
use gatepost_testkit::receiver::Receiver;
use gatepost_testkit::{Backend, TestApp};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Accepts connections and reads requests, and never answers. Counts what it holds, and
/// the most it has held at once.
struct Tarpit {
    url: String,
    held: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Tarpit {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        let (held, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counter, highest) = (Arc::clone(&held), Arc::clone(&peak));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                let now_held = counter.fetch_add(1, Ordering::SeqCst) + 1;
                highest.fetch_max(now_held, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut sink = [0u8; 4096];
                    while let Ok(n) = tokio::io::AsyncReadExt::read(&mut socket, &mut sink).await {
                        if n == 0 {
                            break;
                        }
                    }
                    counter.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { url, held, peak }
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// Creates and cancels a payment of `api_key` whose webhook goes to `url`: one event.
async fn one_event(app: &TestApp, api_key: &str, url: &str) {
    let body = json!({"amount": 100, "currency": "EUR", "webhook_url": url}).to_string();
    let created: serde_json::Value = app.post_as(api_key, "/v1/payments", body, None).await.json().await.unwrap();
    let cancel =
        app.post_as(api_key, &format!("/v1/payments/{}/cancel", created["id"].as_str().unwrap()), "", None).await;
    assert_eq!(cancel.status(), 200);
}

async fn a_tarpit_full_of_one_merchants_events_does_not_delay_anothers_first_attempts(backend: Backend) {
    // Attempts to the tarpit hang for longer than the test takes, so it stays full.
    let app = TestApp::spawn_configured(backend, |config| {
        config.webhooks.timeout = Duration::from_secs(60);
        config.webhooks.retry_schedule = vec![Duration::from_secs(3600)];
    })
    .await;
    let tarpit = Tarpit::start().await;
    let slow = app.create_merchant("Slow Shop").await;
    futures::stream::iter(0..1500).for_each_concurrent(16, |_| one_event(&app, &slow.api_key, &tarpit.url)).await;
    for _ in 0..100 {
        if tarpit.held() >= 64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tarpit.held(), 64, "the tarpit holds as many attempts as a destination may have");
    assert_eq!(tarpit.peak(), 64, "and never held more");

    let receiver = Receiver::start().await;
    let mut waits = Vec::new();
    for n in 0..100 {
        one_event(&app, &app.merchant.api_key, &receiver.url).await;
        let committed = Instant::now();
        let received = receiver.wait_for(n + 1, Duration::from_secs(15)).await;
        waits.push(received[n].at.saturating_duration_since(committed));
    }
    waits.sort();

    let p99 = waits[98];
    assert!(p99 <= Duration::from_millis(100), "first attempts p99 {p99:?} (p50 {:?})", waits[50]);
    assert_eq!(tarpit.peak(), 64, "never more than the cap in flight");
    assert_eq!(tarpit.held(), 64, "the tarpit stayed full while the other merchant's webhooks went out");
}

gatepost_testkit::for_each_backend!(a_tarpit_full_of_one_merchants_events_does_not_delay_anothers_first_attempts);
