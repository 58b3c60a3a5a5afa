//! Receivers that answer what no one expects must not disturb delivery.

use crate::webhooks::{events_of, quick_app, wait_for_delivery_status};
use gatepost_testkit::Backend;
use gatepost_testkit::receiver::{Receiver, Reply};
use serde_json::{Value, json};
use std::time::Duration;

/// Bodies a receiver may answer with that are not text: NUL (refused by PostgreSQL's
/// `TEXT`), invalid UTF-8, raw binary, and a 4 KiB excerpt that cuts a character in half.
fn hostile_bodies() -> Vec<(Vec<u8>, &'static str)> {
    let mut cut = vec![b'a'; 4095];
    cut.extend_from_slice("éé".as_bytes());
    vec![
        (b"ok\0bad".to_vec(), "ok\u{FFFD}bad"),
        (vec![b'o', b'k', 0xff, 0xfe], "ok\u{FFFD}\u{FFFD}"),
        ((0u8..=255).collect(), ""),
        (cut, ""),
    ]
}

async fn response_bodies_of_any_bytes_are_recorded_and_end_delivery(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let mut events = Vec::new();
    for (body, _) in hostile_bodies() {
        let receiver = Receiver::start().await;
        receiver.always(Reply::Body(200, body));
        let payment = app.create_payment(&json!({"amount": 100, "currency": "EUR", "webhook_url": receiver.url})).await;
        let id = payment["id"].as_str().unwrap();
        assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
        events.push((receiver, events_of(&app, id).await[0]["id"].as_str().unwrap().to_owned()));
    }

    for ((receiver, event_id), (_, shown)) in events.iter().zip(hostile_bodies()) {
        let event = wait_for_delivery_status(&app, event_id, "DELIVERED").await;
        assert_eq!(event["delivery"]["attempts"], 1);
        let deliveries: Value = app.get(&format!("/v1/events/{event_id}/deliveries")).await.json().await.unwrap();
        let excerpt = deliveries["data"][0]["response_body"].as_str().unwrap();
        assert!(!excerpt.contains('\0'));
        assert!(excerpt.len() <= 4096 + 2, "at most 4 KiB is kept: {}", excerpt.len());
        if !shown.is_empty() {
            assert_eq!(excerpt, shown);
        }
        assert_eq!(receiver.received().len(), 1, "delivered once, not again after its lease");
    }
}

async fn a_failing_receiver_with_a_nul_body_still_runs_out_its_schedule(backend: Backend) {
    let app = quick_app(backend, &[100, 100]).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Body(500, b"\0\0\0".to_vec()));
    let payment = app.create_payment(&json!({"amount": 100, "currency": "EUR", "webhook_url": receiver.url})).await;
    let id = payment["id"].as_str().unwrap();
    assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);
    let event_id = events_of(&app, id).await[0]["id"].as_str().unwrap().to_owned();

    let event = wait_for_delivery_status(&app, &event_id, "FAILED").await;

    assert_eq!(event["delivery"]["attempts"], 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3, "three attempts, then nothing");
}

gatepost_testkit::for_each_backend!(
    response_bodies_of_any_bytes_are_recorded_and_end_delivery,
    a_failing_receiver_with_a_nul_body_still_runs_out_its_schedule,
);
