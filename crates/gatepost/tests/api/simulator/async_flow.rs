//! The shopper's way through a well-behaved simulator: answers at once, and answers later by
//! callback (docs/reference/hosted-page.md#asynchronous-payments, docs/reference/callbacks.md).

use super::cards::{APPROVED, ASYNC_APPROVED, ASYNC_DECLINED, DECLINED};
use super::on_backend;
use super::world::{World, attempt_statuses};
use crate::checkout::{Page, location, query_pairs};
use gatepost_testkit::Backend;
use gatepost_testkit::receiver::python_verifies;
use serde_json::json;

async fn an_approved_card_returns_to_the_shop_and_a_declined_one_shows_the_form_again(backend: Backend) {
    let world = World::on(backend).start().await;

    let approved = world.checkout(json!({"reference": "order-1"})).await;
    let watch = world.watch(&approved.payment_id);
    let response = world.pay(&approved, APPROVED).await;

    assert_eq!(response.status(), 303);
    let back = location(&response);
    assert!(back.starts_with("https://shop.example/return?"), "{back}");
    let query = query_pairs(&back);
    assert!(query.contains(&("payment_status".to_owned(), "SUCCESS".to_owned())), "{back}");
    assert!(query.contains(&("payment_reference".to_owned(), approved.payment_id.clone())), "{back}");
    let payment = world.payment(&approved.payment_id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_captured"].as_i64()), (Some("SUCCESS"), Some(1000)));
    world.assert_events(&approved.payment_id, &["payment.succeeded"]).await;
    let webhook =
        world.receiver.received().into_iter().find(|r| r.json()["data"]["id"] == approved.payment_id.as_str());
    assert!(python_verifies(&world.merchant.webhook_secret, &webhook.unwrap()), "Standard Webhooks verifies it");
    watch.finish().await;

    let declined = world.checkout(json!({})).await;
    let first_form = world.page(&declined.path).await.form_token();
    let response = world.pay(&declined, DECLINED).await;

    let page = Page::from(response).await;
    assert_eq!(page.status, 200, "the form again");
    assert!(page.contains("Your card was declined."), "{}", page.html);
    assert!(page.contains("Attempts left: 2"), "{}", page.html);
    assert_ne!(page.form_token(), first_form, "a fresh form token for the retry");
    let payment = world.payment(&declined.payment_id).await;
    assert_eq!(payment["status"], "OPEN");
    assert_eq!(payment["attempts"][0]["decline_code"], "card_declined");
    world.assert_events(&declined.payment_id, &["payment.attempt_failed"]).await;
}

async fn an_async_approval_sends_the_shopper_to_the_pending_url_and_the_webhook_brings_success(backend: Backend) {
    let world = World::on(backend).start().await;
    let checkout = world.checkout(json!({"return_urls": {"pending": "https://shop.example/pending"}})).await;
    let watch = world.watch(&checkout.payment_id);

    let response = world.pay(&checkout, ASYNC_APPROVED).await;

    assert_eq!(response.status(), 303);
    let back = location(&response);
    assert!(back.starts_with("https://shop.example/pending?"), "{back}");
    assert!(query_pairs(&back).contains(&("payment_status".to_owned(), "PENDING".to_owned())), "{back}");
    let payment = world.settled(&checkout.payment_id, "SUCCESS").await;
    assert_eq!(attempt_statuses(&payment), ["SUCCEEDED"]);
    let attempt = payment["attempts"][0]["id"].as_str().unwrap();
    let callbacks = world.callbacks.wait_about(attempt, "the callback", |c| !c.is_empty()).await;
    assert_eq!(callbacks.len(), 1, "one callback from a well-behaved acquirer");
    assert_eq!((callbacks[0].status().as_str(), callbacks[0].answer), ("approved", 200));
    world.assert_events(&checkout.payment_id, &["payment.pending", "payment.succeeded"]).await;

    let replayed = world.callback(&callbacks[0].body, Some(&callbacks[0].signature)).await;

    assert_eq!(replayed.status(), 200, "the very same callback again is acknowledged");
    assert_eq!(world.payment(&checkout.payment_id).await["status"], "SUCCESS");
    world.assert_events(&checkout.payment_id, &["payment.pending", "payment.succeeded"]).await;
    watch.finish().await;
}

async fn an_async_decline_with_no_attempts_left_fails_the_payment(backend: Backend) {
    let world = World::on(backend).start().await;
    let checkout = world.checkout(json!({"max_attempts": 1})).await;
    let watch = world.watch(&checkout.payment_id);

    let response = world.pay(&checkout, ASYNC_DECLINED).await;

    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("payment_status=PENDING"));
    let payment = world.settled(&checkout.payment_id, "FAILED").await;
    assert_eq!(attempt_statuses(&payment), ["DECLINED"]);
    assert_eq!(payment["attempts"][0]["decline_code"], "card_declined");
    let expected = ["payment.pending", "payment.attempt_failed", "payment.failed"];
    world.assert_events(&checkout.payment_id, &expected).await;
    assert!(world.page(&checkout.path).await.contains("The number of attempts was exceeded"));
    watch.finish().await;
}

on_backend!(
    sqlite,
    Sqlite: an_approved_card_returns_to_the_shop_and_a_declined_one_shows_the_form_again,
    an_async_approval_sends_the_shopper_to_the_pending_url_and_the_webhook_brings_success,
    an_async_decline_with_no_attempts_left_fails_the_payment,
);
on_backend!(
    postgres,
    Postgres: an_approved_card_returns_to_the_shop_and_a_declined_one_shows_the_form_again,
    an_async_approval_sends_the_shopper_to_the_pending_url_and_the_webhook_brings_success,
    an_async_decline_with_no_attempts_left_fails_the_payment,
);
