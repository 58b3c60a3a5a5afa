//! The shopper flow: open the payment page, submit a test card, get the 303 back to the
//! shop. Payments are created first, so only the shopper's part is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `concurrency` shoppers for `seconds` and prints flows/s and latencies.
pub(crate) async fn run(base: &str, key: &str, concurrency: usize, seconds: u64) {
    let base = base.trim_end_matches('/').to_owned();
    let key = key.to_owned();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");

    // Payments are made first, so the measured part is the shopper's alone.
    let wanted = 60_000.min(20_000 * usize::try_from(seconds).unwrap_or(1));
    let body = r#"{"amount":1050,"currency":"EUR","return_url":"https://shop.example/return"}"#;
    let pages = create_payments(&http, &base, &key, body, "checkout_url", wanted, concurrency).await;

    let worked = crate::work_through(pages, concurrency, seconds, move |page: String| {
        let http = http.clone();
        async move { shop(&http, &page).await }
    })
    .await;
    let percentile = |p: f64| crate::percentile_ms(&worked.latencies, p);
    println!(
        "flows={} seconds={:.2} flows_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={}",
        worked.latencies.len(),
        worked.seconds,
        worked.latencies.len() as f64 / worked.seconds,
        percentile(0.50),
        percentile(0.99),
        worked.errors
    );
}

/// Creates `count` payments with `body`, `concurrency` at a time; returns each one's `field`.
pub(crate) async fn create_payments(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &str,
    field: &str,
    count: usize,
    concurrency: usize,
) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, base, key) = (http.clone(), Arc::clone(&next), base.to_owned(), key.to_owned());
        let (body, field) = (body.to_owned(), field.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut urls = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let request = http.post(format!("{base}/v1/payments")).bearer_auth(&key).body(body.clone());
                let Ok(response) = request.send().await else {
                    continue;
                };
                if let Ok(payment) = response.json::<serde_json::Value>().await
                    && let Some(url) = payment[field.as_str()].as_str()
                {
                    urls.push(url.to_owned());
                }
            }
            urls
        }));
    }
    let mut urls = Vec::new();
    for task in tasks {
        urls.extend(task.await.expect("task"));
    }
    urls
}

/// One shopper: open the page, pay with 4242, expect the 303 back to the shop.
async fn shop(http: &reqwest::Client, page: &str) -> bool {
    let Ok(response) = http.get(page).send().await else { return false };
    let Ok(html) = response.text().await else { return false };
    let marker = "name=\"form_token\" value=\"";
    let Some(start) = html.find(marker).map(|i| i + marker.len()) else { return false };
    let Some(end) = html[start..].find('"').map(|i| i + start) else { return false };
    let form = [
        ("form_token", &html[start..end]),
        ("card_number", "4242 4242 4242 4242"),
        ("card_expiry", "12/34"),
        ("card_cvc", "123"),
        ("cardholder_name", "Load Test"),
    ];
    matches!(http.post(page).form(&form).send().await, Ok(r) if r.status() == 303)
}
