//! Status changes through the API: payments are created first, each with the receiver as
//! its webhook URL; then `concurrency` clients cancel them as fast as the gateway answers,
//! for `seconds`. Each cancel is a change through the status machine and one
//! `payment.cancelled` webhook to a keep-alive receiver, the path every change takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Runs the cancels and prints changes/s, their latencies, and how many webhooks arrived.
pub(crate) async fn run(base: &str, key: &str, concurrency: usize, seconds: u64) {
    let base = base.trim_end_matches('/').to_owned();
    let key = key.to_owned();
    let (url, arrivals) = crate::receiver::start().await;
    let http = reqwest::Client::new();
    let wanted = 60_000.min(15_000 * usize::try_from(seconds).unwrap_or(1));
    let body = serde_json::json!({"amount": 1050, "currency": "EUR", "webhook_url": url}).to_string();
    let ids = crate::shopper::create_payments(&http, &base, &key, &body, "id", wanted, concurrency).await;
    let ids = Arc::new(Mutex::new(ids));

    let errors = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, ids, errors, base, key) =
            (http.clone(), Arc::clone(&ids), Arc::clone(&errors), base.clone(), key.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let Some(id) = ids.lock().await.pop() else { break };
                let began = Instant::now();
                let response = http.post(format!("{base}/v1/payments/{id}/cancel")).bearer_auth(&key).send().await;
                if response.is_ok_and(|r| r.status().is_success()) {
                    latencies.push(began.elapsed());
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = tokio::time::timeout(Duration::from_secs(30), arrivals.wait_for(latencies.len())).await;
    latencies.sort();
    let percentile = |p: f64| crate::percentile_ms(&latencies, p);
    println!(
        "changes={} seconds={elapsed:.2} changes_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={} webhooks={}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
        errors.load(Ordering::Relaxed),
        arrivals.len()
    );
}
