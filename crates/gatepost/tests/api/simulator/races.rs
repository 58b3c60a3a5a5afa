//! Results that meet: a callback and the shopper's 3-D Secure answer, a callback and the
//! merchant's cancel, duplicated callbacks and the poll. The status machine and row locks
//! decide; whatever the order, one result counts and one event is written
//! (docs/reference/payments.md#late-and-duplicate-results).

use super::cards::{ASYNC_APPROVED, CHALLENGE};
use super::on_backend;
use super::world::{SECRET, World, attempt_statuses, sign, unix_now};
use crate::checkout::{Page, location};
use axum::http::Method;
use gatepost_connectors::simulator::protocol::{AUTHORIZATIONS_PATH, CALLBACK_PATH, capture_path};
use gatepost_testkit::Backend;
use serde_json::json;
use std::time::{Duration, Instant};

async fn a_callback_during_the_challenge_decides_and_the_late_challenge_answer_changes_nothing(backend: Backend) {
    let world = World::on(backend).start().await;
    let checkout = world.checkout(json!({})).await;
    let id = checkout.payment_id.clone();
    let watch = world.watch(&id);
    let response = world.pay(&checkout, CHALLENGE).await;
    assert_eq!(location(&response), format!("{}/3ds", checkout.path), "to the issuer's page");
    let issuer = world.page(&format!("{}/3ds", checkout.path)).await;
    let payment = world.payment(&id).await;
    assert_eq!(
        (payment["status"].as_str(), attempt_statuses(&payment)),
        (Some("PENDING"), vec!["ACTION_REQUIRED".to_owned()])
    );

    // The acquirer reports the attempt approved while the shopper is still on the page.
    let approval = json!({"id": "simevt_during_challenge", "object": "authorization",
        "attempt_id": payment["attempts"][0]["id"], "reference": world.attempt_reference(&id, 0).await,
        "status": "approved"})
    .to_string()
    .into_bytes();
    let answer = world.callback(&approval, Some(&sign(SECRET, unix_now(), CALLBACK_PATH, &approval))).await;
    assert_eq!(answer.status(), 200);
    world.settled(&id, "SUCCESS").await;
    let fields = [
        ("form_token", issuer.form_token()),
        ("password", "password".to_owned()),
        ("action", "authenticate".to_owned()),
    ];
    let page = Page::from(world.submit(&format!("{}/3ds", checkout.path), &fields).await).await;

    assert_eq!(page.status, 200, "the current state, not a second result");
    assert!(page.contains("Payment successful"), "{}", page.html);
    let payment = world.payment(&id).await;
    assert_eq!(
        (payment["status"].as_str(), attempt_statuses(&payment)),
        (Some("SUCCESS"), vec!["SUCCEEDED".to_owned()])
    );
    let asked = world.requests.seen().iter().any(|r| r.path.ends_with("/challenge"));
    assert!(!asked, "the late answer was not sent to the acquirer");
    world.assert_events(&id, &["payment.pending", "payment.succeeded"]).await;
    watch.finish().await;
}

/// The merchant cancels again and again while the authorization's callback arrives: a cancel
/// is refused while the payment is `PENDING`, and once it is `AUTHORIZED` one cancel voids
/// the authorization, at the simulator too.
async fn cancels_racing_the_callback_never_cancel_a_pending_payment(backend: Backend) {
    let world = World::on(backend).start().await;
    let id = world.paid(json!({"capture": "manual"}), ASYNC_APPROVED).await;
    let watch = world.watch(&id);

    let mut answers = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && !answers.contains(&200) {
        answers.push(world.post(&format!("/v1/payments/{id}/cancel"), &json!({})).await.status().as_u16());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert!(answers.iter().all(|&s| s == 200 || s == 409), "{answers:?}");
    let payment = world.payment(&id).await;
    if answers.contains(&200) {
        assert_eq!(payment["status"], "CANCELLED");
        let again = world.post(&format!("/v1/payments/{id}/cancel"), &json!({})).await;
        assert_eq!(again.status(), 409, "cancelled once");
        world.assert_events(&id, &["payment.pending", "payment.authorized", "payment.cancelled"]).await;
        let reference = world.attempt_reference(&id, 0).await;
        let capture = world.sim_post(&capture_path(&reference), &json!({"amount": 1000, "currency": "EUR"})).await;
        assert_eq!(capture["code"], "authorization_voided", "the simulator released the funds: {capture}");
    } else {
        assert_eq!(payment["status"], "AUTHORIZED", "{answers:?}");
        world.assert_events(&id, &["payment.pending", "payment.authorized"]).await;
    }
    watch.finish().await;
}

/// The simulator's answer to the gateway's poll and the first two copies of the callback
/// (the simulator sends those two at the same time) are held back on their way and let go
/// together, so all three reach the gateway at the same moment; two more copies follow.
async fn duplicated_callbacks_racing_the_poll_succeed_once(backend: Backend) {
    let world = World::on(backend).sim(&["--duplicate-callbacks", "3"]).poll_after("1s").start().await;
    world.callbacks.hold(Method::POST, CALLBACK_PATH);
    world.requests.hold_answers(Method::GET, AUTHORIZATIONS_PATH);
    let id = world.paid(json!({}), ASYNC_APPROVED).await;
    let watch = world.watch(&id);
    let reference = world.attempt_reference(&id, 0).await;

    world.callbacks.wait_until_holding(2).await;
    world.requests.wait_until_holding(1).await;
    world.callbacks.release();
    world.requests.release();

    let payment = world.settled(&id, "SUCCESS").await;
    let attempt = payment["attempts"][0]["id"].as_str().unwrap();
    let copies = world.callbacks.wait_about(attempt, "the callback and its 3 copies", |c| c.len() == 4).await;
    assert!(copies.iter().all(|c| c.answer == 200 && c.status() == "approved"), "{copies:?}");
    let poll = world.requests.seen().into_iter().find(|r| r.method == Method::GET && r.path.ends_with(&reference));
    assert_eq!(
        poll.expect("the gateway polled").reply_json()["status"],
        "approved",
        "the poll's answer was the result too"
    );
    assert_eq!(attempt_statuses(&world.payment(&id).await), ["SUCCEEDED"]);
    world.assert_events(&id, &["payment.pending", "payment.succeeded"]).await;
    watch.finish().await;
}

on_backend!(
    sqlite,
    Sqlite: a_callback_during_the_challenge_decides_and_the_late_challenge_answer_changes_nothing,
    cancels_racing_the_callback_never_cancel_a_pending_payment,
    duplicated_callbacks_racing_the_poll_succeed_once,
);
on_backend!(
    postgres,
    Postgres: a_callback_during_the_challenge_decides_and_the_late_challenge_answer_changes_nothing,
    cancels_racing_the_callback_never_cancel_a_pending_payment,
    duplicated_callbacks_racing_the_poll_succeed_once,
);
