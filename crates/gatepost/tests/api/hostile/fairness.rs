//! One merchant's receiver that never answers must not hold up another's webhooks
//! (docs/reference/webhooks.md#fairness): a destination has at most
//! `GATEPOST_WEBHOOKS__MAX_IN_FLIGHT_PER_ENDPOINT` attempts in flight, and the rest of its
//! backlog waits without taking anyone's turn.

use crate::for_each_backend;
use crate::receiver::Receiver;
use crate::support::{Backend, TestApp};
use futures::StreamExt as _;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Accepts connections and reads requests, and never answers. Counts what it holds.
struct Tarpit {
    url: String,
    held: Arc<AtomicUsize>,
}

impl Tarpit {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        let held = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&held);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                counter.fetch_add(1, Ordering::SeqCst);
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
        Self { url, held }
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
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
    let app = TestApp::spawn_configured(backend, |config| {
        config.webhooks.timeout = Duration::from_secs(5);
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
    assert!(tarpit.held() <= 64, "never more than the cap in flight: {}", tarpit.held());
}

for_each_backend!(a_tarpit_full_of_one_merchants_events_does_not_delay_anothers_first_attempts);
