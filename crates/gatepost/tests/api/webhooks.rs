//! Webhooks, the system's channel (docs/reference/webhooks.md,
//! docs/reference/urls.md#webhook-urls), delivered to a real receiver.

use crate::checkout::HostedPage as _;
use gatepost_core::signing::WebhookSecret;
use gatepost_testkit::receiver::{Receiver, Reply, python_verifies};
use gatepost_testkit::{Backend, TestApp};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A gateway that retries quickly, so schedules play out within a test.
pub async fn quick_app(backend: Backend, schedule: &[u64]) -> TestApp {
    let schedule: Vec<Duration> = schedule.iter().map(|ms| Duration::from_millis(*ms)).collect();
    TestApp::spawn_configured(backend, |config| {
        config.webhooks.retry_schedule = schedule;
        config.webhooks.timeout = Duration::from_secs(2);
    })
    .await
}

async fn pay_with_webhook(app: &TestApp, receiver: &Receiver, card: &str) -> String {
    let checkout = app.checkout(json!({"webhook_url": receiver.url, "reference": "order-7"})).await;
    app.pay(&checkout, card).await;
    checkout.payment_id
}

pub async fn events_of(app: &TestApp, payment_id: &str) -> Vec<Value> {
    let list: Value = app.get(&format!("/v1/events?payment_id={payment_id}")).await.json().await.unwrap();
    list["data"].as_array().unwrap().clone()
}

/// The `error` of an event's first delivery attempt, once there is one.
pub async fn first_delivery_error(app: &TestApp, event_id: &str) -> Value {
    for _ in 0..100 {
        let deliveries: Value = app.get(&format!("/v1/events/{event_id}/deliveries")).await.json().await.unwrap();
        if let Some(first) = deliveries["data"].get(0) {
            return first["error"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("event {event_id} has no delivery attempt");
}

pub async fn wait_for_delivery_status(app: &TestApp, event_id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let event: Value = app.get(&format!("/v1/events/{event_id}")).await.json().await.unwrap();
        if event["delivery"]["status"] == status {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("event {event_id} never became {status}");
}

async fn a_paid_payment_delivers_a_signed_payment_succeeded(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let receiver = Receiver::start().await;

    let payment_id = pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let received = receiver.wait_for(1, WAIT).await;
    let webhook = &received[0];
    let body = webhook.json();
    assert_eq!(body["type"], "payment.succeeded");
    assert_eq!(body["sequence"], 1);
    assert_eq!(body["data"]["id"], payment_id);
    assert_eq!(body["data"]["status"], "SUCCESS");
    assert_eq!(webhook.header("content-type"), "application/json");
    assert!(webhook.header("user-agent").starts_with("gatepost/"));
    assert_eq!(webhook.header("webhook-id"), body["id"].as_str().unwrap());
    let timestamp: i64 = webhook.header("webhook-timestamp").parse().unwrap();
    let secret = WebhookSecret::parse(&app.merchant.webhook_secret).unwrap();
    assert!(secret.verify_webhook(
        webhook.header("webhook-id"),
        timestamp,
        &webhook.body,
        webhook.header("webhook-signature")
    ));
    assert!(
        python_verifies(&app.merchant.webhook_secret, webhook),
        "the official Standard Webhooks library verifies it"
    );

    let event = wait_for_delivery_status(&app, body["id"].as_str().unwrap(), "DELIVERED").await;
    assert_eq!(event["delivery"]["attempts"], 1);
    assert_eq!(event["delivery"]["url"], receiver.url);
    let deliveries: Value =
        app.get(&format!("/v1/events/{}/deliveries", body["id"].as_str().unwrap())).await.json().await.unwrap();
    let attempt = &deliveries["data"][0];
    assert!(attempt["id"].as_str().unwrap().starts_with("del_"));
    assert_eq!(attempt["status_code"], 200);
    assert_eq!(attempt["trigger"], "automatic");
    assert_eq!(attempt["error"], Value::Null);
}

async fn every_move_and_declined_attempt_makes_one_event_in_order(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let receiver = Receiver::start().await;
    let checkout = app.checkout(json!({"webhook_url": receiver.url})).await;

    app.pay(&checkout, "4000000000000002").await;
    app.pay(&checkout, "4242424242424242").await;

    let received = receiver.wait_for(2, WAIT).await;
    let mut types: Vec<(i64, String)> = received
        .iter()
        .map(|r| (r.json()["sequence"].as_i64().unwrap(), r.json()["type"].as_str().unwrap().to_owned()))
        .collect();
    types.sort();
    assert_eq!(types, [(1, "payment.attempt_failed".to_owned()), (2, "payment.succeeded".to_owned())]);
    assert_eq!(events_of(&app, &checkout.payment_id).await.len(), 2);
}

async fn events_without_a_url_are_skipped_and_the_merchant_default_is_used(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let receiver = Receiver::start().await;
    let without = app.checkout(json!({})).await;
    app.pay(&without, "4242424242424242").await;
    let skipped = events_of(&app, &without.payment_id).await;
    assert_eq!(skipped[0]["delivery"]["status"], "SKIPPED");

    let patched = gatepost_testkit::http()
        .patch(app.url("/v1/merchant"))
        .bearer_auth(&app.merchant.api_key)
        .body(json!({"default_webhook_url": receiver.url}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let with_default = app.checkout(json!({})).await;
    app.pay(&with_default, "4242424242424242").await;

    let received = receiver.wait_for(1, WAIT).await;
    assert_eq!(received[0].json()["data"]["id"], with_default.payment_id);
}

async fn a_receiver_that_comes_back_gets_the_event_on_a_retry(backend: Backend) {
    let app = quick_app(backend, &[300, 300, 300]).await;
    let receiver = Receiver::start().await;
    receiver.queue([Reply::Status(500, Vec::new()), Reply::Status(503, Vec::new())]);

    pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let received = receiver.wait_for(3, WAIT).await;
    let bodies: Vec<&Vec<u8>> = received.iter().map(|r| &r.body).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the body is byte-identical on every retry");
    let ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "webhook-id is stable");
    for pair in received.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(250), "a retry waits its delay (300 ms ± 10 %): {gap:?}");
    }
    let event_id = received[0].json()["id"].as_str().unwrap().to_owned();
    let event = wait_for_delivery_status(&app, &event_id, "DELIVERED").await;
    assert_eq!(event["delivery"]["attempts"], 3);
    let deliveries: Value = app.get(&format!("/v1/events/{event_id}/deliveries")).await.json().await.unwrap();
    let codes: Vec<&Value> = deliveries["data"].as_array().unwrap().iter().map(|d| &d["status_code"]).collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(200)]);
}

async fn a_used_up_schedule_fails_the_event_and_resend_still_delivers(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500, Vec::new()));

    pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let received = receiver.wait_for(2, WAIT).await;
    let event_id = received[0].json()["id"].as_str().unwrap().to_owned();
    let failed = wait_for_delivery_status(&app, &event_id, "FAILED").await;
    assert_eq!(failed["delivery"]["attempts"], 2);
    assert_eq!(failed["delivery"]["next_attempt_at"], Value::Null);

    receiver.always(Reply::Status(200, Vec::new()));
    let resend = app.post_raw(&format!("/v1/events/{event_id}/resend"), "").await;
    assert_eq!(resend.status(), 202);

    receiver.wait_for(3, WAIT).await;
    let delivered = wait_for_delivery_status(&app, &event_id, "DELIVERED").await;
    assert_eq!(delivered["delivery"]["attempts"], 3);
    let deliveries: Value = app.get(&format!("/v1/events/{event_id}/deliveries")).await.json().await.unwrap();
    assert_eq!(deliveries["data"][2]["trigger"], "manual");
}

async fn gone_stops_retrying(backend: Backend) {
    let app = quick_app(backend, &[100, 100, 100]).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(410, Vec::new()));

    pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let received = receiver.wait_for(1, WAIT).await;
    let event_id = received[0].json()["id"].as_str().unwrap().to_owned();
    wait_for_delivery_status(&app, &event_id, "FAILED").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1, "no retry after 410");
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = quick_app(backend, &[50, 50]).await;
    let receiver = Receiver::start().await;
    receiver.queue([Reply::Status(429, vec![("retry-after", "2".to_owned())])]);

    pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let received = receiver.wait_for(2, WAIT).await;
    let gap = received[1].at - received[0].at;
    assert!(gap >= Duration::from_millis(1900), "waited for Retry-After: {gap:?}");
}

async fn echo_mode_needs_the_payment_reference_back(backend: Backend) {
    let app = quick_app(backend, &[100, 100]).await;
    let receiver = Receiver::start().await;
    let patched = gatepost_testkit::http()
        .patch(app.url("/v1/merchant"))
        .bearer_auth(&app.merchant.api_key)
        .body(r#"{"webhook_ack_mode":"echo"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    receiver.queue([Reply::Status(200, Vec::new())]);
    receiver.always(Reply::Echo);

    pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let received = receiver.wait_for(2, WAIT).await;
    let event_id = received[0].json()["id"].as_str().unwrap().to_owned();
    wait_for_delivery_status(&app, &event_id, "DELIVERED").await;
    let deliveries: Value = app.get(&format!("/v1/events/{event_id}/deliveries")).await.json().await.unwrap();
    assert_eq!(deliveries["data"][0]["error"], "invalid_ack", "a plain 200 is not an echo");
    assert_eq!(deliveries["data"][1]["error"], Value::Null);
}

async fn during_a_rotation_both_secrets_sign(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let receiver = Receiver::start().await;
    let rotated: Value = app.post_raw("/v1/merchant/webhook-secret/rotate", "").await.json().await.unwrap();
    let new_secret = rotated["webhook_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, app.merchant.webhook_secret);
    assert!(rotated["previous_secret_expires_at"].as_str().is_some());

    pay_with_webhook(&app, &receiver, "4242424242424242").await;

    let webhook = &receiver.wait_for(1, WAIT).await[0];
    assert_eq!(webhook.header("webhook-signature").split(' ').count(), 2);
    assert!(python_verifies(&new_secret, webhook), "the new secret verifies");
    assert!(python_verifies(&app.merchant.webhook_secret, webhook), "the old secret still verifies");
    assert!(!python_verifies(&WebhookSecret::generate().expose(), webhook), "another secret does not");
}

async fn private_targets_are_blocked_when_not_allowed(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| {
        config.webhooks.allow_private_targets = false;
        config.webhooks.retry_schedule = vec![Duration::from_secs(3600)];
    })
    .await;
    let receiver = Receiver::start().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");

    for url in [receiver.url.clone(), by_name] {
        let checkout = app.checkout(json!({"webhook_url": url})).await;
        app.pay(&checkout, "4242424242424242").await;
        let events = events_of(&app, &checkout.payment_id).await;
        let event_id = events[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(first_delivery_error(&app, &event_id).await, "blocked_address", "{url}");
    }
    assert!(receiver.received().is_empty(), "no connection reached the receiver");
}

gatepost_testkit::for_each_backend!(
    a_paid_payment_delivers_a_signed_payment_succeeded,
    every_move_and_declined_attempt_makes_one_event_in_order,
    events_without_a_url_are_skipped_and_the_merchant_default_is_used,
    a_receiver_that_comes_back_gets_the_event_on_a_retry,
    a_used_up_schedule_fails_the_event_and_resend_still_delivers,
    gone_stops_retrying,
    retry_after_is_honoured,
    echo_mode_needs_the_payment_reference_back,
    during_a_rotation_both_secrets_sign,
    private_targets_are_blocked_when_not_allowed,
);

/// Live mode refuses loopback targets even when they are written as https URLs, by
/// address and by a name that resolves to it (docs/reference/urls.md#private-addresses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_blocks_loopback_webhooks_by_address_and_by_name() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.mode = gatepost_core::urls::Mode::Live;
        config.webhooks.allow_private_targets = false;
        config.webhooks.retry_schedule = vec![Duration::from_secs(3600)];
    })
    .await;
    let receiver = Receiver::start().await;
    let port = receiver.url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();

    for url in [format!("https://127.0.0.1:{port}/webhooks"), format!("https://localhost:{port}/webhooks")] {
        let payment = app.create_payment(&json!({"amount": 1050, "currency": "EUR", "webhook_url": url})).await;
        let id = payment["id"].as_str().unwrap();
        assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
        let event_id = events_of(&app, id).await[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(first_delivery_error(&app, &event_id).await, "blocked_address", "{url}");
    }
    let plain_http =
        app.post_json("/v1/payments", &json!({"amount": 1, "currency": "EUR", "webhook_url": receiver.url})).await;
    assert_eq!(plain_http.status(), 422, "live webhooks must be https");
    assert!(receiver.received().is_empty(), "no connection reached the receiver");
}
