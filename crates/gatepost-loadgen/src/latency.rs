//! Status change → webhook received: payments are cancelled at a steady rate, and each
//! cancellation's `payment.cancelled` is timed from the moment its request was sent to its
//! arrival at the receiver. That includes the request and the commit, so it overstates the
//! time from the commit a little; the webhook often arrives before the API's answer does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(crate) async fn run(base: &str, key: &str, rate: u64, duration: Duration) {
    let base = base.trim_end_matches('/');
    let (url, arrivals) = crate::receiver::start().await;
    let http = reqwest::Client::new();
    // Payments first, outside the measured part.
    let count = usize::try_from(rate * duration.as_secs()).unwrap_or(1000);
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let body = serde_json::json!({"amount": 1050, "currency": "EUR", "webhook_url": url}).to_string();
        let response = http.post(format!("{base}/v1/payments")).bearer_auth(key).body(body).send().await;
        if let Ok(payment) = response.expect("gatepost answers").json::<serde_json::Value>().await {
            ids.push(payment["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let interval = Duration::from_secs_f64(1.0 / f64::from(u32::try_from(rate).unwrap_or(1000)));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut cancels = tokio::task::JoinSet::new();
    for id in ids.clone() {
        ticks.tick().await;
        let (http, endpoint, key) = (http.clone(), format!("{base}/v1/payments/{id}/cancel"), key.to_owned());
        cancels.spawn(async move {
            let sent = Instant::now();
            let ok = http.post(endpoint).bearer_auth(key).send().await.is_ok_and(|r| r.status().is_success());
            (id, ok.then_some(sent))
        });
    }
    let mut committed = HashMap::new();
    while let Some(done) = cancels.join_next().await {
        if let Ok((id, Some(at))) = done {
            committed.insert(id, at);
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), arrivals.wait_for(committed.len())).await;
    let mut latencies: Vec<Duration> = arrivals
        .snapshot()
        .into_iter()
        .filter_map(|(arrived, id)| committed.get(&id).map(|at| arrived.saturating_duration_since(*at)))
        .collect();
    latencies.sort();
    println!(
        "changes={} received={} p50_ms={:.2} p99_ms={:.2}",
        committed.len(),
        latencies.len(),
        crate::percentile_ms(&latencies, 0.50),
        crate::percentile_ms(&latencies, 0.99)
    );
}
