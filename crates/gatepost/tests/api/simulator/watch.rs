//! Samples a payment's status in the background while a scenario runs, then checks that the
//! statuses seen only ever moved forward along the status machine of
//! docs/reference/payments.md#transitions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The moves docs/reference/payments.md#transitions allows, from each status.
const MOVES: &[(&str, &[&str])] = &[
    ("OPEN", &["PENDING", "AUTHORIZED", "SUCCESS", "FAILED", "CANCELLED", "EXPIRED"]),
    ("PENDING", &["OPEN", "AUTHORIZED", "SUCCESS", "FAILED"]),
    ("AUTHORIZED", &["SUCCESS", "CANCELLED", "EXPIRED"]),
    ("SUCCESS", &["REFUNDED"]),
];

/// Whether `to` can follow `from` through allowed moves: samples may miss the statuses
/// between them.
fn reachable(from: &str, to: &str) -> bool {
    let mut seen = vec![from];
    let mut next = 0;
    while next < seen.len() {
        let moves = MOVES.iter().find(|(status, _)| *status == seen[next]).map_or(&[][..], |(_, to)| *to);
        for status in moves {
            if !seen.contains(status) {
                seen.push(status);
            }
        }
        next += 1;
    }
    seen[1..].contains(&to)
}

/// Panics unless every change in `statuses` is a move forward.
pub fn assert_moves_forward(payment: &str, statuses: &[String]) {
    for pair in statuses.windows(2) {
        let (from, to) = (pair[0].as_str(), pair[1].as_str());
        assert!(from == to || reachable(from, to), "{payment} moved from {from} back to {to}: {statuses:?}");
    }
}

/// A running sampler of one payment's status.
pub struct StatusWatch {
    payment: String,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// How often, and for how long at most, a status is sampled.
const EVERY: Duration = Duration::from_millis(25);
const SAMPLES_AT_MOST: usize = 2400;

impl StatusWatch {
    /// Starts sampling `GET {payment_url}` as the merchant whose key is `api_key`.
    pub fn start(http: reqwest::Client, payment_url: String, api_key: String, payment: &str) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (samples, stopped) = (Arc::clone(&seen), Arc::clone(&stop));
        let task = tokio::spawn(async move {
            for _ in 0..SAMPLES_AT_MOST {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(response) = http.get(&payment_url).bearer_auth(&api_key).send().await
                    && let Ok(payment) = response.json::<serde_json::Value>().await
                    && let Some(status) = payment["status"].as_str()
                {
                    let mut samples = samples.lock().unwrap();
                    if samples.last().is_none_or(|last: &String| last != status) {
                        samples.push(status.to_owned());
                    }
                }
                tokio::time::sleep(EVERY).await;
            }
        });
        Self { payment: payment.to_owned(), seen, stop, task }
    }

    /// Stops sampling and checks the statuses seen; returns them, repeats left out.
    pub async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the sampler ran");
        let seen = self.seen.lock().unwrap().clone();
        assert!(!seen.is_empty(), "{}: no status was sampled", self.payment);
        assert_moves_forward(&self.payment, &seen);
        seen
    }
}

#[test]
fn the_status_check_refuses_moves_backwards_and_allows_skipped_samples() {
    let statuses = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_moves_forward("p", &statuses(&["OPEN", "PENDING", "OPEN", "SUCCESS", "REFUNDED"]));
    assert_moves_forward("p", &statuses(&["PENDING", "REFUNDED"]));
    for backwards in
        [["SUCCESS", "PENDING"], ["AUTHORIZED", "PENDING"], ["FAILED", "OPEN"], ["CANCELLED", "AUTHORIZED"]]
    {
        let result = std::panic::catch_unwind(|| assert_moves_forward("p", &statuses(&backwards)));
        assert!(result.is_err(), "{backwards:?} must be refused");
    }
}
