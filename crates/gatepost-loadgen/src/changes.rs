//! Status changes through the API: payments are created first (timed, for a create figure
//! from the same client), each with the receiver as its webhook URL; then `concurrency`
//! clients cancel them as fast as the gateway answers, for `seconds`. Each cancel is a
//! change through the status machine and one `payment.cancelled` webhook to a keep-alive
//! receiver, the path every change takes.

use std::time::Duration;

/// Runs the cancels and prints changes/s, their latencies, and how many webhooks arrived.
pub(crate) async fn run(base: &str, key: &str, concurrency: usize, seconds: u64) {
    let base = base.trim_end_matches('/').to_owned();
    let key = key.to_owned();
    let (url, arrivals) = crate::receiver::start().await;
    let http = reqwest::Client::new();
    let wanted = 60_000.min(15_000 * usize::try_from(seconds).unwrap_or(1));
    let body = serde_json::json!({"amount": 1050, "currency": "EUR", "webhook_url": url}).to_string();
    // The creates are timed too: the same client making both figures, the two compare
    // without the difference between this client and wrk.
    let creating = std::time::Instant::now();
    let ids = crate::shopper::create_payments(&http, &base, &key, &body, "id", wanted, concurrency).await;
    let creates_per_s = ids.len() as f64 / creating.elapsed().as_secs_f64();
    let cancel = move |id: String| {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        async move {
            let response = http.post(format!("{base}/v1/payments/{id}/cancel")).bearer_auth(&key).send().await;
            response.is_ok_and(|r| r.status().is_success())
        }
    };
    let worked = crate::work_through(ids, concurrency, seconds, cancel).await;
    let changes = worked.latencies.len();
    let _ = tokio::time::timeout(Duration::from_secs(30), arrivals.wait_for(changes)).await;
    let percentile = |p: f64| crate::percentile_ms(&worked.latencies, p);
    println!(
        "changes={changes} seconds={:.2} changes_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={} webhooks={} \
         creates_per_s={creates_per_s:.0}",
        worked.seconds,
        changes as f64 / worked.seconds,
        percentile(0.50),
        percentile(0.99),
        worked.errors,
        arrivals.len()
    );
}
