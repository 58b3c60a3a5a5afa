//! The webhook channel: an order is paid by a verified, confirmed webhook, alone, once.

use crate::support::{APPROVED_CARD, Gateway, Shop, Shopper, WAIT, location, unix_now, webhook_body};
use gatepost_merchant::Webhook;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_paid_by_the_webhook_alone_when_the_shopper_never_comes_back() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;
    let shopper = Shopper::new();
    let placed = shopper.place_order(&shop, &gateway).await;

    // The card is approved; the browser closes before following the redirect to the shop.
    let response = shopper.submit_card(&placed.checkout_url, APPROVED_CARD).await;
    let answered = Instant::now();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with(&shop.url(&format!("/orders/{}/return?", placed.order_id))));

    // The first delivery starts within 100 ms of the change
    // (docs/reference/webhooks.md#at-least-once); a second is plenty.
    let order = shop.wait_for_status(&placed.order_id, "paid", Duration::from_secs(1)).await;
    let elapsed = answered.elapsed();
    assert_eq!(order, json!({"id": placed.order_id, "status": "paid", "payment_id": placed.payment_id}));
    assert!(elapsed < Duration::from_secs(1), "paid {elapsed:?} after the card was approved");
    assert_eq!(shop.fulfilments(&placed.order_id), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_or_replayed_webhook_fulfils_the_order_once() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;
    let shopper = Shopper::new();
    let placed = shopper.place_order(&shop, &gateway).await;
    shopper.submit_card(&placed.checkout_url, APPROVED_CARD).await;
    shop.wait_for_status(&placed.order_id, "paid", WAIT).await;
    let event = gateway.event(&placed.payment_id, "payment.succeeded").await;
    let event_id = event["id"].as_str().unwrap();

    // The gateway delivers the same event again: same webhook-id, same bytes, new signature.
    let resend = gateway.post(&format!("/v1/events/{event_id}/resend")).await;
    assert_eq!(resend.status(), 202);
    let redelivery = wait_for_manual_delivery(&gateway, event_id).await;
    assert_eq!(redelivery["status_code"], 200, "a redelivery is acknowledged: {redelivery}");
    // And someone who captured it replays it, freshly signed.
    let replayed = shop.deliver(event_id, unix_now(), &webhook_body(&event), &gateway.webhook()).await;
    assert_eq!(replayed, 200);

    assert_eq!(shop.order(&placed.order_id).await["status"], "paid");
    assert_eq!(shop.fulfilments(&placed.order_id), 1);
    assert_eq!(shop.handled_webhooks(&placed.order_id), 1, "one succeeded event, recorded once");
}

/// Waits for the attempt that `POST /v1/events/{id}/resend` made, and returns it.
async fn wait_for_manual_delivery(gateway: &Gateway, event_id: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let deliveries = gateway.get(&format!("/v1/events/{event_id}/deliveries")).await;
        if let Some(manual) = deliveries["data"].as_array().unwrap().iter().find(|d| d["trigger"] == "manual") {
            return manual.clone();
        }
        assert!(Instant::now() < deadline, "no redelivery within {WAIT:?}: {deliveries}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_stale_webhooks_are_refused_and_change_nothing() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;
    let placed = Shopper::new().place_order(&shop, &gateway).await;
    let body = succeeded_body("evt_forged", &gateway.get(&format!("/v1/payments/{}", placed.payment_id)).await);
    let secret = gateway.webhook();
    let another_secret = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let now = unix_now();
    let genuine_signature = secret.sign("evt_forged", now, body.as_bytes());

    let answers = [
        ("signed with another secret", shop.deliver("evt_forged", now, &body, &another_secret).await),
        ("six minutes old", shop.deliver("evt_forged", now - 360, &body, &secret).await),
        ("six minutes ahead", shop.deliver("evt_forged", now + 360, &body, &secret).await),
        (
            "a body other than the one signed",
            shop.post_webhook(
                &[
                    ("webhook-id", "evt_forged"),
                    ("webhook-timestamp", &now.to_string()),
                    ("webhook-signature", &genuine_signature),
                ],
                &body.replace("2450", "1"),
            )
            .await,
        ),
        (
            "another webhook-id than the one signed",
            shop.post_webhook(
                &[
                    ("webhook-id", "evt_other"),
                    ("webhook-timestamp", &now.to_string()),
                    ("webhook-signature", &genuine_signature),
                ],
                &body,
            )
            .await,
        ),
        (
            "no signature",
            shop.post_webhook(&[("webhook-id", "evt_forged"), ("webhook-timestamp", &now.to_string())], &body).await,
        ),
    ];

    for (what, status) in answers {
        assert_eq!(status, 400, "{what}");
    }
    assert_eq!(shop.order(&placed.order_id).await["status"], "pending");
    assert_eq!(shop.fulfilments(&placed.order_id), 0);
    assert_eq!(shop.handled_webhooks(&placed.order_id), 0, "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_success_the_api_does_not_confirm_fulfils_nothing() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;
    let shopper = Shopper::new();
    let placed = shopper.place_order(&shop, &gateway).await;
    // As if the webhook secret had leaked: a well-signed success for a payment nobody made.
    let payment = gateway.get(&format!("/v1/payments/{}", placed.payment_id)).await;
    let forged = succeeded_body("evt_forged", &payment);

    let status = shop.deliver("evt_forged", unix_now(), &forged, &gateway.webhook()).await;

    assert_eq!(status, 200, "acknowledged: sending it again would not change the answer");
    assert_eq!(shop.order(&placed.order_id).await["status"], "pending");
    assert_eq!(shop.fulfilments(&placed.order_id), 0);
    // The real payment still goes through, once.
    shopper.submit_card(&placed.checkout_url, APPROVED_CARD).await;
    shop.wait_for_status(&placed.order_id, "paid", WAIT).await;
    assert_eq!(shop.fulfilments(&placed.order_id), 1);
}

/// A `payment.succeeded` body for `payment`, with its status set to `SUCCESS`.
fn succeeded_body(event_id: &str, payment: &Value) -> String {
    let mut data = payment.clone();
    data["status"] = json!("SUCCESS");
    data["amount_captured"] = data["amount"].clone();
    json!({"id": event_id, "type": "payment.succeeded", "timestamp": "2026-11-21T10:00:00.123Z", "sequence": 9, "data": data})
        .to_string()
}
