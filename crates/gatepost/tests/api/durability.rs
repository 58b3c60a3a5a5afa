//! A payment whose 201 was received survives `kill -9` (docs/reference/configuration.md#storage).

use crate::cli::{create_merchant, serve, serve_with};
use gatepost_testkit::receiver::{Receiver, Reply};
use gatepost_testkit::{Backend, TestDatabase};
use serde_json::{Value, json};
use std::collections::BTreeSet;

async fn acknowledged_payments_survive_kill_9(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let merchant = create_merchant(&database.url).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let http = gatepost_testkit::http();
    let mut server = serve(&database.url).await;

    // Many concurrent creations, so some share a group commit with others.
    let creations = (0..50).map(|n| {
        http.post(format!("{}/v1/payments", server.base_url))
            .bearer_auth(&key)
            .body(format!(r#"{{"amount":{},"currency":"EUR","reference":"order-{n}"}}"#, 100 + n))
            .send()
    });
    let mut acknowledged = Vec::new();
    for response in futures::future::join_all(creations).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 201);
        acknowledged.push(response.json::<Value>().await.unwrap());
    }
    server.child.kill().await.expect("SIGKILL");
    server.child.wait().await.unwrap();

    let restarted = serve(&database.url).await;
    for payment in &acknowledged {
        let id = payment["id"].as_str().unwrap();
        let response =
            http.get(format!("{}/v1/payments/{id}", restarted.base_url)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200, "{id} lost");
        assert_eq!(&response.json::<Value>().await.unwrap(), payment);
    }
}

#[tokio::test]
async fn sqlite_payments_survive_kill_9() {
    acknowledged_payments_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_payments_survive_kill_9() {
    acknowledged_payments_survive_kill_9(Backend::Postgres).await;
}

/// Every event is delivered at least once across a `kill -9` with a backlog and
/// attempts in flight (docs/reference/webhooks.md#at-least-once).
async fn no_webhook_is_lost_when_the_server_is_killed(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let merchant = create_merchant(&database.url).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let receiver = Receiver::start().await;
    // Slow answers: when the server dies some attempts are in flight, the rest queued.
    receiver.always(Reply::Slow(std::time::Duration::from_millis(400)));
    let env = [("GATEPOST_WEBHOOKS__RETRY_SCHEDULE", "100ms,100ms,100ms"), ("GATEPOST_WEBHOOKS__TIMEOUT", "1s")];
    let mut server = serve_with(&database.url, &env, std::process::Stdio::null()).await;

    let mut payments = Vec::new();
    for n in 0..40 {
        let body = json!({"amount": 100 + n, "currency": "EUR", "webhook_url": receiver.url});
        let created: Value = server.post(&key, "/v1/payments", &body.to_string()).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let cancelled = server.post(&key, &format!("/v1/payments/{id}/cancel"), "").await;
        assert_eq!(cancelled.status(), 200, "one payment.cancelled event each");
        payments.push(id);
    }
    receiver.wait_for(1, std::time::Duration::from_secs(10)).await;
    server.child.kill().await.expect("SIGKILL");
    server.child.wait().await.unwrap();
    receiver.always(Reply::Status(200, Vec::new()));
    let restarted = serve_with(&database.url, &env, std::process::Stdio::null()).await;

    let events = restarted.get_json(&key, "/v1/events?limit=100").await;
    let expected: BTreeSet<String> =
        events["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(expected.len(), payments.len());
    let undelivered = events_data_statuses(&events).iter().filter(|status| *status != "DELIVERED").count();
    assert!(undelivered > 0, "attempts were in flight when the server died");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let delivered: BTreeSet<String> =
            receiver.received().iter().map(|r| r.header("webhook-id").to_owned()).collect();
        if delivered == expected {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{} of {} events arrived", delivered.len(), expected.len());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every (event, destination) pair is delivered at least once across a `kill -9` during a
/// fan-out to two endpoints and the payments' own URL (docs/reference/webhooks.md#fan-out).
async fn no_fanned_out_webhook_is_lost_when_the_server_is_killed(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let merchant = create_merchant(&database.url).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let receivers = [Receiver::start().await, Receiver::start().await, Receiver::start().await];
    for receiver in &receivers {
        receiver.always(Reply::Slow(std::time::Duration::from_millis(300)));
    }
    let env = [("GATEPOST_WEBHOOKS__RETRY_SCHEDULE", "100ms,100ms,100ms"), ("GATEPOST_WEBHOOKS__TIMEOUT", "1s")];
    let mut server = serve_with(&database.url, &env, std::process::Stdio::null()).await;
    for receiver in &receivers[..2] {
        let created = server.post(&key, "/v1/webhook_endpoints", &json!({"url": receiver.url}).to_string()).await;
        assert_eq!(created.status(), 201);
    }
    for n in 0..30 {
        let body = json!({"amount": 100 + n, "currency": "EUR", "webhook_url": receivers[2].url});
        let created: Value = server.post(&key, "/v1/payments", &body.to_string()).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(server.post(&key, &format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
    }
    receivers[0].wait_for(1, std::time::Duration::from_secs(10)).await;
    server.child.kill().await.expect("SIGKILL");
    server.child.wait().await.unwrap();
    for receiver in &receivers {
        receiver.always(Reply::Status(200, Vec::new()));
    }
    let restarted = serve_with(&database.url, &env, std::process::Stdio::null()).await;

    let events = restarted.get_json(&key, "/v1/events?limit=100").await;
    let expected: BTreeSet<String> =
        events["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(expected.len(), 30);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for (n, receiver) in receivers.iter().enumerate() {
        loop {
            let delivered: BTreeSet<String> =
                receiver.received().iter().map(|r| r.header("webhook-id").to_owned()).collect();
            if delivered == expected {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "destination {n}: {} of {} events arrived",
                delivered.len(),
                expected.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

fn events_data_statuses(events: &Value) -> Vec<String> {
    events["data"].as_array().unwrap().iter().map(|e| e["delivery"]["status"].as_str().unwrap().to_owned()).collect()
}

gatepost_testkit::for_each_backend!(
    no_webhook_is_lost_when_the_server_is_killed,
    no_fanned_out_webhook_is_lost_when_the_server_is_killed,
);
