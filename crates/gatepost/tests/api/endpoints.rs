//! Webhook endpoints (docs/reference/webhooks.md#endpoints): several per merchant, each
//! with its own filter, secret and acknowledgement, delivered to real receivers and
//! verified with the official Standard Webhooks library.

use crate::checkout::HostedPage as _;
use crate::webhooks::{events_of, quick_app, wait_for_delivery_status};
use gatepost_testkit::receiver::{Received, Receiver, Reply, python_verifies};
use gatepost_testkit::{Backend, TestApp, problem};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// An endpoint as the merchant registered it: its id and its secret.
pub struct Endpoint {
    pub id: String,
    pub secret: String,
}

pub async fn create_endpoint(app: &TestApp, body: Value) -> Endpoint {
    let response = app.post_json("/v1/webhook_endpoints", &body).await;
    assert_eq!(response.status(), 201, "{body}");
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["object"], "webhook_endpoint");
    assert_eq!(created["status"], "enabled");
    Endpoint { id: created["id"].as_str().unwrap().to_owned(), secret: created["secret"].as_str().unwrap().to_owned() }
}

async fn patch(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.http.patch(app.url(path)).bearer_auth(&app.merchant.api_key).body(body.to_string()).send().await.unwrap()
}

/// The types of what a receiver got, sorted.
fn types(received: &[Received]) -> Vec<String> {
    let mut types: Vec<String> = received.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    types
}

/// How many times each event reached a receiver.
fn times_each(received: &[Received]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for webhook in received {
        *counts.entry(webhook.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    counts
}

/// A payment that is paid, and one that is cancelled, both with `webhook_url`.
async fn one_paid_one_cancelled(app: &TestApp, webhook_url: &str) -> (String, String) {
    let checkout = app.checkout(json!({"webhook_url": webhook_url})).await;
    app.pay(&checkout, "4242424242424242").await;
    let cancelled = app.create_payment(&json!({"amount": 500, "currency": "EUR", "webhook_url": webhook_url})).await;
    let cancelled = cancelled["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post_raw(&format!("/v1/payments/{cancelled}/cancel"), "").await.status(), 200);
    (checkout.payment_id, cancelled)
}

async fn each_endpoint_gets_what_it_subscribed_to_signed_with_its_own_secret(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let (every, cancels, successes, own) =
        (Receiver::start().await, Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let to_every = create_endpoint(&app, json!({"url": every.url})).await;
    let to_cancels = create_endpoint(&app, json!({"url": cancels.url, "enabled_events": ["payment.cancelled"]})).await;
    let to_successes = create_endpoint(
        &app,
        json!({"url": successes.url, "enabled_events": ["payment.succeeded", "webhook_endpoint.disabled"], "description": "fulfilment"}),
    )
    .await;

    let (paid, cancelled) = one_paid_one_cancelled(&app, &own.url).await;

    let got_every = every.wait_for(2, WAIT).await;
    let got_cancels = cancels.wait_for(1, WAIT).await;
    let got_successes = successes.wait_for(1, WAIT).await;
    let got_own = own.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(types(&every.received()), ["payment.cancelled", "payment.succeeded"]);
    assert_eq!(types(&cancels.received()), ["payment.cancelled"]);
    assert_eq!(types(&successes.received()), ["payment.succeeded"]);
    assert_eq!(types(&own.received()), ["payment.cancelled", "payment.succeeded"]);
    for (received, secret) in [
        (&got_every, &to_every.secret),
        (&got_cancels, &to_cancels.secret),
        (&got_successes, &to_successes.secret),
        (&got_own, &app.merchant.webhook_secret),
    ] {
        for webhook in received {
            assert!(python_verifies(secret, webhook), "verified with its destination's own secret");
        }
    }
    assert!(!python_verifies(&to_every.secret, &got_cancels[0]), "another endpoint's secret does not verify it");

    // The events API shows each destination, and each attempt names its endpoint.
    let event = &events_of(&app, &cancelled).await[0];
    let event = wait_for_delivery_status(&app, event["id"].as_str().unwrap(), "DELIVERED").await;
    let destinations: Vec<(Value, Value)> = event["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["endpoint_id"].clone(), d["status"].clone()))
        .collect();
    assert_eq!(
        destinations,
        [
            (json!(to_every.id), json!("DELIVERED")),
            (json!(to_cancels.id), json!("DELIVERED")),
            (Value::Null, json!("DELIVERED"))
        ]
    );
    assert_eq!(event["delivery"]["attempts"], 3);
    assert_eq!(event["delivery"]["url"], own.url, "the payment's own URL");
    let deliveries: Value =
        app.get(&format!("/v1/events/{}/deliveries", event["id"].as_str().unwrap())).await.json().await.unwrap();
    let mut endpoints: Vec<Value> =
        deliveries["data"].as_array().unwrap().iter().map(|d| d["endpoint_id"].clone()).collect();
    endpoints.sort_by_key(ToString::to_string);
    let mut expected = vec![json!(to_every.id), json!(to_cancels.id), Value::Null];
    expected.sort_by_key(ToString::to_string);
    assert_eq!(endpoints, expected);

    // A resend to one endpoint reaches that endpoint alone.
    let id = event["id"].as_str().unwrap();
    let resent = app.post_json(&format!("/v1/events/{id}/resend"), &json!({"endpoint_id": to_cancels.id})).await;
    assert_eq!(resent.status(), 202);
    cancels.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(every.received().len(), 2);
    assert_eq!(own.received().len(), 2);
    let _ = paid;
}

async fn an_endpoint_that_hangs_does_not_delay_the_others(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| {
        config.webhooks.retry_schedule = vec![Duration::from_secs(3600)];
        config.webhooks.timeout = Duration::from_secs(3);
    })
    .await;
    let (stuck, healthy, own) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    stuck.always(Reply::Slow(Duration::from_secs(30)));
    create_endpoint(&app, json!({"url": stuck.url})).await;
    create_endpoint(&app, json!({"url": healthy.url})).await;
    for _ in 0..3 {
        let payment = app.create_payment(&json!({"amount": 500, "currency": "EUR", "webhook_url": own.url})).await;
        let started = Instant::now();
        let id = payment["id"].as_str().unwrap();
        assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
        let count = healthy.received().len() + 1;
        healthy.wait_for(count, WAIT).await;
        own.wait_for(count, WAIT).await;
        // Well within the stuck endpoint's 3 s timeout: nobody waited for it.
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }
    assert_eq!(stuck.received().len(), 3, "the stuck endpoint got its attempts too");
}

async fn rotating_one_endpoint_leaves_the_others_signatures_as_they_were(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let (first, second) = (Receiver::start().await, Receiver::start().await);
    let rotated = create_endpoint(&app, json!({"url": first.url})).await;
    let other = create_endpoint(&app, json!({"url": second.url})).await;

    let response = app.post_raw(&format!("/v1/webhook_endpoints/{}/rotate-secret", rotated.id), "").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let new_secret = body["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != rotated.secret);
    assert!(body["previous_secret_expires_at"].is_string());

    one_paid_one_cancelled(&app, &Receiver::start().await.url).await;
    let got_first = first.wait_for(2, WAIT).await;
    let got_second = second.wait_for(2, WAIT).await;
    for webhook in &got_first {
        assert_eq!(webhook.header("webhook-signature").split(' ').count(), 2, "both secrets sign");
        assert!(python_verifies(&new_secret, webhook));
        assert!(python_verifies(&rotated.secret, webhook));
    }
    for webhook in &got_second {
        assert_eq!(webhook.header("webhook-signature").split(' ').count(), 1, "untouched by the rotation");
        assert!(python_verifies(&other.secret, webhook));
        assert!(!python_verifies(&new_secret, webhook));
    }
    let merchant_signs = got_first.iter().any(|w| python_verifies(&app.merchant.webhook_secret, w));
    assert!(!merchant_signs, "an endpoint never signs with the merchant's secret");
}

async fn a_failing_endpoint_is_disabled_announced_and_recovered_once_each(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| {
        config.webhooks.retry_schedule = vec![Duration::from_millis(50); 20];
        config.webhooks.timeout = Duration::from_secs(2);
        config.webhooks.disable_after = Duration::from_millis(300);
    })
    .await;
    let (failing, ops) = (Receiver::start().await, Receiver::start().await);
    let endpoint = create_endpoint(&app, json!({"url": failing.url})).await;
    create_endpoint(&app, json!({"url": ops.url, "enabled_events": ["webhook_endpoint.disabled"]})).await;
    let since = chrono_now();
    let cancel = || async {
        let payment = app.create_payment(&json!({"amount": 500, "currency": "EUR"})).await;
        let id = payment["id"].as_str().unwrap().to_owned();
        assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
        events_of(&app, &id).await[0]["id"].as_str().unwrap().to_owned()
    };

    // Delivered once while healthy: never sent again.
    let delivered = cancel().await;
    failing.wait_for(1, WAIT).await;
    wait_for_delivery_status(&app, &delivered, "DELIVERED").await;

    // Then every attempt fails, until the endpoint is turned off.
    failing.always(Reply::Status(500, Vec::new()));
    let failed = cancel().await;
    let notice = ops.wait_for(1, WAIT).await;
    let notice = notice[0].json();
    assert_eq!(notice["type"], "webhook_endpoint.disabled");
    assert_eq!(notice["data"]["id"], endpoint.id);
    assert_eq!(notice["data"]["status"], "disabled");
    assert_eq!(notice["data"]["disabled_reason"], "failing");
    assert!(notice["data"].get("secret").is_none(), "a notice never carries a secret");
    let shown: Value = app.get(&format!("/v1/webhook_endpoints/{}", endpoint.id)).await.json().await.unwrap();
    assert_eq!((&shown["status"], &shown["disabled_reason"]), (&json!("disabled"), &json!("failing")));
    let attempts_when_disabled = failing.received().len();
    assert!(attempts_when_disabled >= 11, "ten failures at least: {attempts_when_disabled}");

    // While disabled it receives nothing; what it misses is kept as skipped.
    let missed = [cancel().await, cancel().await];
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(failing.received().len(), attempts_when_disabled, "nothing reaches a disabled endpoint");
    let event: Value = app.get(&format!("/v1/events/{}", missed[0])).await.json().await.unwrap();
    assert_eq!(event["destinations"][0]["status"], "SKIPPED");
    let refused =
        app.post_json(&format!("/v1/webhook_endpoints/{}/recover", endpoint.id), &json!({"since": since})).await;
    assert_eq!(refused.status(), 409, "recover needs the endpoint enabled");
    let resend = app.post_json(&format!("/v1/events/{delivered}/resend"), &json!({"endpoint_id": endpoint.id})).await;
    assert_eq!(resend.status(), 409, "nor does a resend reach a disabled endpoint");

    // Its URL fixed, enabled again and recovered: each event it did not get arrives once,
    // at the new URL, signed with its secret.
    let fixed = Receiver::start().await;
    let body = json!({"status": "enabled", "url": fixed.url});
    let enabled = patch(&app, &format!("/v1/webhook_endpoints/{}", endpoint.id), &body).await;
    assert_eq!(enabled.status(), 200);
    let enabled: Value = enabled.json().await.unwrap();
    assert_eq!((&enabled["status"], &enabled["disabled_reason"]), (&json!("enabled"), &Value::Null));
    let recovered =
        app.post_json(&format!("/v1/webhook_endpoints/{}/recover", endpoint.id), &json!({"since": since})).await;
    assert_eq!(recovered.status(), 202);
    let recovered: Value = recovered.json().await.unwrap();
    assert_eq!(recovered["events"], 3);
    let received = fixed.wait_for(3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut after: Vec<String> = fixed.received().iter().map(|w| w.header("webhook-id").to_owned()).collect();
    after.sort();
    // Due oldest first; sent side by side, so they may arrive in any order.
    assert_eq!(after, [failed.clone(), missed[0].clone(), missed[1].clone()], "once each");
    assert!(!times_each(&received).contains_key(&delivered), "what was delivered is not sent again");
    assert_eq!(failing.received().len(), attempts_when_disabled, "nothing more to the old URL");
    assert!(received.iter().all(|w| python_verifies(&endpoint.secret, w)));
    for id in [&failed, &missed[0], &missed[1]] {
        wait_for_delivery_status(&app, id, "DELIVERED").await;
    }
}

fn chrono_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let seconds = i64::try_from(now.as_secs()).unwrap() - 1;
    gatepost_core::time::Timestamp::from_millis(seconds * 1000).to_rfc3339()
}

async fn a_test_event_goes_to_that_endpoint_alone(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let (tested, other) = (Receiver::start().await, Receiver::start().await);
    let endpoint = create_endpoint(&app, json!({"url": tested.url, "enabled_events": ["payment.refunded"]})).await;
    create_endpoint(&app, json!({"url": other.url, "enabled_events": ["webhook_endpoint.test"]})).await;
    let response = app.post_raw(&format!("/v1/webhook_endpoints/{}/test", endpoint.id), "").await;
    assert_eq!(response.status(), 202);
    let event: Value = response.json().await.unwrap();
    assert_eq!(event["type"], "webhook_endpoint.test");
    assert_eq!(event["payment_id"], Value::Null);
    let received = tested.wait_for(1, WAIT).await;
    assert!(python_verifies(&endpoint.secret, &received[0]));
    assert_eq!(received[0].json()["data"]["id"], endpoint.id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(other.received().is_empty(), "a test goes to the tested endpoint only");
    let listed: Value = app.get("/v1/events?type=webhook_endpoint.test").await.json().await.unwrap();
    assert_eq!(listed["data"][0]["id"], event["id"]);
}

async fn the_default_url_is_an_endpoint_that_stands_in_for_the_payments_own(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let (default, own) = (Receiver::start().await, Receiver::start().await);
    let patched = patch(&app, "/v1/merchant", &json!({"default_webhook_url": default.url})).await;
    assert_eq!(patched.status(), 200);
    let endpoints: Value = app.get("/v1/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(endpoints["data"].as_array().unwrap().len(), 1);
    assert_eq!(endpoints["data"][0]["description"], "default");
    assert_eq!(endpoints["data"][0]["url"], default.url);

    let with_own = app.create_payment(&json!({"amount": 500, "currency": "EUR", "webhook_url": own.url})).await;
    let without = app.create_payment(&json!({"amount": 500, "currency": "EUR"})).await;
    for payment in [&with_own, &without] {
        let id = payment["id"].as_str().unwrap();
        assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
    }
    let got_default = default.wait_for(1, WAIT).await;
    own.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(default.received().len(), 1, "the default stands in only where the payment names no URL");
    assert_eq!(got_default[0].json()["data"]["id"], without["id"]);
    assert!(python_verifies(&app.merchant.webhook_secret, &got_default[0]), "signed with the merchant's secret");

    // Removing the URL removes its endpoint.
    let removed = patch(&app, "/v1/merchant", &json!({"default_webhook_url": null})).await;
    assert_eq!(removed.status(), 200);
    let endpoints: Value = app.get("/v1/webhook_endpoints").await.json().await.unwrap();
    assert!(endpoints["data"].as_array().unwrap().is_empty());
}

async fn bad_input_gets_a_clear_answer_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let refused = [
        (json!({"url": "ftp://hooks.example/in"}), "url"),
        (json!({"url": "https://hooks.example/in", "enabled_events": ["payment.exploded"]}), "enabled_events"),
        (json!({"url": "https://hooks.example/in", "enabled_events": []}), "enabled_events"),
        (json!({"url": "https://hooks.example/in", "ack_mode": "maybe"}), "ack_mode"),
        (json!({"url": "https://hooks.example/in", "description": "a\u{0}b"}), "description"),
        (json!({"url": "https://hooks.example/in", "secret": "whsec_mine"}), "secret"),
        (json!({"url": format!("https://hooks.example/{}", "a".repeat(3000))}), "url"),
    ];
    for (body, field) in refused {
        let (status, answer) = problem(app.post_json("/v1/webhook_endpoints", &body).await).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(answer["errors"][0]["param"], field, "{body}: {answer}");
    }
    let malformed = app.post_raw("/v1/webhook_endpoints", "{\"url\":").await;
    assert_eq!(malformed.status(), 400);

    let mut ids = Vec::new();
    for n in 0..16 {
        let endpoint = create_endpoint(&app, json!({"url": format!("{}?n={n}", receiver.url)})).await;
        ids.push(endpoint.id);
    }
    let (status, seventeenth) =
        problem(app.post_json("/v1/webhook_endpoints", &json!({"url": receiver.url})).await).await;
    assert_eq!((status, &seventeenth["errors"][0]["code"]), (422, &json!("too_many_endpoints")));
    let listed: Value = app.get("/v1/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 16);

    // Another merchant's endpoint does not exist for this one.
    let other = app.create_merchant("Other Shop").await;
    let id = &ids[0];
    assert_eq!(app.get_as(&other.api_key, &format!("/v1/webhook_endpoints/{id}")).await.status(), 404);
    for path in [format!("/v1/webhook_endpoints/{id}/test"), format!("/v1/webhook_endpoints/{id}/rotate-secret")] {
        assert_eq!(app.post_as(&other.api_key, &path, "", None).await.status(), 404, "{path}");
    }
    let recover = format!("/v1/webhook_endpoints/{id}/recover");
    let body = json!({"since": "2026-01-01T00:00:00Z"}).to_string();
    assert_eq!(app.post_as(&other.api_key, &recover, body, None).await.status(), 404);
    let deleted =
        app.http.delete(app.url(&format!("/v1/webhook_endpoints/{id}"))).bearer_auth(&other.api_key).send().await;
    assert_eq!(deleted.unwrap().status(), 404);
    let patched = app
        .http
        .patch(app.url(&format!("/v1/webhook_endpoints/{id}")))
        .bearer_auth(&other.api_key)
        .body(json!({"status": "disabled"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 404);
    let still: Value = app.get(&format!("/v1/webhook_endpoints/{id}")).await.json().await.unwrap();
    assert_eq!(still["status"], "enabled", "untouched by the other merchant");
    assert_eq!(app.get("/v1/webhook_endpoints/we_nothing").await.status(), 404);
    assert_eq!(app.get("/v1/webhook_endpoints/pay_123").await.status(), 404);

    // recover with a time in the future, or one that is not RFC 3339.
    for since in [json!("2999-01-01T00:00:00Z"), json!("yesterday"), json!("2026-13-01T00:00:00Z"), json!(12)] {
        let (status, _) = problem(app.post_json(&recover, &json!({"since": since})).await).await;
        assert_eq!(status, 422, "{since}");
    }
    let (status, _) = problem(app.post_json(&recover, &json!({})).await).await;
    assert_eq!(status, 422, "since is required");

    // A bad patch changes nothing, not even its valid fields.
    let bad =
        patch(&app, &format!("/v1/webhook_endpoints/{id}"), &json!({"description": "ok", "status": "paused"})).await;
    assert_eq!(bad.status(), 422);
    let still: Value = app.get(&format!("/v1/webhook_endpoints/{id}")).await.json().await.unwrap();
    assert_eq!(still["description"], Value::Null);

    // Deleting frees a place.
    let deleted =
        app.http.delete(app.url(&format!("/v1/webhook_endpoints/{id}"))).bearer_auth(&app.merchant.api_key).send();
    assert_eq!(deleted.await.unwrap().status(), 204);
    assert_eq!(app.get(&format!("/v1/webhook_endpoints/{id}")).await.status(), 404);
    create_endpoint(&app, json!({"url": receiver.url})).await;
    assert_eq!(app.post_json("/v1/events/evt_none/resend", &json!({"endpoint_id": "not-an-id"})).await.status(), 422);
}

async fn concurrent_creates_never_pass_sixteen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bodies: Vec<Value> = (0..24).map(|n| json!({"url": format!("https://h{n}.example/")})).collect();
    let creates = bodies.iter().map(|body| app.post_json("/v1/webhook_endpoints", body));
    let statuses: Vec<u16> = futures::future::join_all(creates).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 16, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 8, "{statuses:?}");
    let listed: Value = app.get("/v1/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 16);
}

gatepost_testkit::for_each_backend!(
    concurrent_creates_never_pass_sixteen,
    each_endpoint_gets_what_it_subscribed_to_signed_with_its_own_secret,
    an_endpoint_that_hangs_does_not_delay_the_others,
    rotating_one_endpoint_leaves_the_others_signatures_as_they_were,
    a_failing_endpoint_is_disabled_announced_and_recovered_once_each,
    a_test_event_goes_to_that_endpoint_alone,
    the_default_url_is_an_endpoint_that_stands_in_for_the_payments_own,
    bad_input_gets_a_clear_answer_and_changes_nothing,
);

/// Live mode refuses an endpoint that names a private or local address: it could never be
/// delivered to (docs/reference/urls.md#private-addresses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_refuses_endpoints_on_private_addresses() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.mode = gatepost_core::urls::Mode::Live;
    })
    .await;
    for url in ["https://127.0.0.1/in", "https://10.1.2.3/in", "https://localhost/in", "https://192.168.0.1:8443/in"] {
        let (status, answer) = problem(app.post_json("/v1/webhook_endpoints", &json!({"url": url})).await).await;
        assert_eq!((status, &answer["errors"][0]["code"]), (422, &json!("private_address")), "{url}");
    }
    let (status, _) =
        problem(app.post_json("/v1/webhook_endpoints", &json!({"url": "http://hooks.example/in"})).await).await;
    assert_eq!(status, 422, "live endpoints must be https");
    create_endpoint(&app, json!({"url": "https://hooks.example/in"})).await;
}
