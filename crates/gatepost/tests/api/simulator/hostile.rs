//! An acquirer that misbehaves as `acquirer-sim`'s flags ask
//! (docs/reference/connectors.md#simulator): duplicated, reordered and dropped callbacks,
//! failed requests, and all of them at once. However it behaves, the payment ends in the
//! right state with one event per status move
//! (docs/reference/payments.md#late-and-duplicate-results).

use super::cards::{APPROVED, ASYNC_APPROVED, ASYNC_DECLINED};
use super::on_backend;
use super::relay::Relayed;
use super::world::{World, attempt_statuses};
use crate::checkout::{Page, card_form};
use axum::http::Method;
use gatepost_connectors::simulator::protocol::AUTHORIZATIONS_PATH;
use gatepost_testkit::Backend;
use serde_json::{Value, json};

const SUCCEEDED: [&str; 2] = ["payment.pending", "payment.succeeded"];

/// The id of the payment's only attempt.
fn only_attempt(payment: &Value) -> String {
    assert_eq!(payment["attempts"].as_array().unwrap().len(), 1, "{payment}");
    payment["attempts"][0]["id"].as_str().unwrap().to_owned()
}

fn all_answered_200(callbacks: &[Relayed]) -> bool {
    callbacks.iter().all(|c| c.answer == 200)
}

async fn duplicated_callbacks_change_nothing_after_the_first(backend: Backend) {
    let world = World::on(backend).sim(&["--duplicate-callbacks", "3"]).start().await;
    let paid = world.paid(json!({}), ASYNC_APPROVED).await;
    let watch = world.watch(&paid);

    let payment = world.settled(&paid, "SUCCESS").await;

    let attempt = only_attempt(&payment);
    let copies = world.callbacks.wait_about(&attempt, "the original and 3 copies", |c| c.len() == 4).await;
    assert!(copies.iter().all(|c| c.id() == copies[0].id() && c.status() == "approved"), "{copies:?}");
    assert!(all_answered_200(&copies), "duplicates are acknowledged: {copies:?}");
    world.assert_events(&paid, &SUCCEEDED).await;
    assert_eq!(attempt_statuses(&world.payment(&paid).await), ["SUCCEEDED"]);
    watch.finish().await;
}

async fn a_stale_pending_after_the_result_changes_nothing(backend: Backend) {
    let world = World::on(backend).sim(&["--reorder"]).start().await;
    let paid = world.paid(json!({}), ASYNC_APPROVED).await;
    let watch = world.watch(&paid);

    let payment = world.settled(&paid, "SUCCESS").await;

    let attempt = only_attempt(&payment);
    let callbacks = world.callbacks.wait_about(&attempt, "the result, then a stale pending", |c| c.len() == 2).await;
    let statuses: Vec<String> = callbacks.iter().map(Relayed::status).collect();
    assert_eq!(statuses, ["approved", "pending"]);
    assert_ne!(callbacks[0].id(), callbacks[1].id(), "the stale one is news to the gateway, not a duplicate");
    assert!(all_answered_200(&callbacks), "{callbacks:?}");
    let payment = world.payment(&paid).await;
    assert_eq!(
        (payment["status"].as_str(), attempt_statuses(&payment)),
        (Some("SUCCESS"), vec!["SUCCEEDED".to_owned()])
    );
    world.assert_events(&paid, &SUCCEEDED).await;
    watch.finish().await;
}

/// No callback ever comes: polling settles payments and refunds
/// (docs/reference/callbacks.md#polling).
async fn dropped_callbacks_are_made_up_for_by_polling(backend: Backend) {
    let world = World::on(backend).sim(&["--drop-callbacks", "1"]).poll_after("1s").start().await;
    let approved = world.paid(json!({}), ASYNC_APPROVED).await;
    let declined = world.paid(json!({"max_attempts": 1}), ASYNC_DECLINED).await;
    let (watch_approved, watch_declined) = (world.watch(&approved), world.watch(&declined));

    world.settled(&approved, "SUCCESS").await;
    world.settled(&declined, "FAILED").await;

    assert!(world.callbacks.seen().is_empty(), "nothing was called back: {:?}", world.callbacks.seen());
    for id in [&approved, &declined] {
        let reference = world.attempt_reference(id, 0).await;
        let polled = world.requests.seen().iter().any(|r| r.method == Method::GET && r.path.ends_with(&reference));
        assert!(polled, "{id} was settled by asking the simulator");
    }
    world.assert_events(&approved, &SUCCEEDED).await;
    world.assert_events(&declined, &["payment.pending", "payment.attempt_failed", "payment.failed"]).await;

    let refund: Value = world.post(&format!("/v1/payments/{approved}/refunds"), &json!({})).await.json().await.unwrap();
    assert_eq!(refund["status"], "PENDING", "refunds of async payments are async too");
    let refunded = world.settled(&approved, "REFUNDED").await;
    assert_eq!(
        (refunded["refunds"][0]["status"].as_str(), refunded["amount_refunded"].as_i64()),
        (Some("SUCCEEDED"), Some(1000))
    );
    assert!(world.callbacks.seen().is_empty(), "still nothing was called back");
    world.assert_events(&approved, &["payment.pending", "payment.succeeded", "payment.refunded"]).await;
    watch_approved.finish().await;
    watch_declined.finish().await;
}

/// Seed 1366 makes the simulator fail all three tries of the first two authorizations (the
/// connector retries each call twice) and answer the third; it never holds a request, which
/// would take the connector's 10 s timeout. The seed's choices belong to the simulator's
/// random generator: if it changes, pick another seed with this shape.
const FAILING_SEED: &str = "1366";

async fn failed_requests_become_error_attempts_and_the_shopper_retries_to_success(backend: Backend) {
    let world = World::on(backend).sim(&["--fail-requests", "0.5", "--seed", FAILING_SEED]).start().await;
    let checkout = world.checkout(json!({"max_attempts": 10})).await;
    let watch = world.watch(&checkout.payment_id);

    let mut form_token = world.page(&checkout.path).await.form_token();
    let mut tries = 0;
    let response = loop {
        tries += 1;
        assert!(tries <= 10, "still not approved after 10 attempts");
        let response = world.submit(&checkout.path, &card_form(&form_token, APPROVED)).await;
        if response.status() == 303 {
            break response;
        }
        let page = Page::from(response).await;
        assert_eq!(page.status, 200, "the form again after an error: {}", page.html);
        form_token = page.form_token();
    };

    assert!(crate::checkout::location(&response).contains("payment_status=SUCCESS"));
    let payment = world.payment(&checkout.payment_id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_captured"].as_i64()), (Some("SUCCESS"), Some(1000)));
    let statuses = attempt_statuses(&payment);
    assert!(statuses.len() >= 2, "seed {FAILING_SEED} must fail at least one attempt: {statuses:?}");
    let (last, failed) = statuses.split_last().unwrap();
    assert_eq!(last, "SUCCEEDED", "one charge");
    assert!(failed.iter().all(|s| s == "ERROR"), "{statuses:?}");
    for attempt in &payment["attempts"].as_array().unwrap()[..failed.len()] {
        assert_eq!(attempt["decline_code"], "processing_error", "{attempt}");
    }
    let authorizations: Vec<u16> = world
        .requests
        .seen()
        .iter()
        .filter(|r| r.method == Method::POST && r.path == AUTHORIZATIONS_PATH)
        .map(|r| r.answer)
        .collect();
    assert_eq!(authorizations.iter().filter(|&&a| a == 200).count(), 1, "one authorization: {authorizations:?}");
    assert!(authorizations.iter().all(|&a| a == 200 || a == 503), "{authorizations:?}");
    let mut expected = vec!["payment.attempt_failed"; failed.len()];
    expected.push("payment.succeeded");
    world.assert_events(&checkout.payment_id, &expected).await;
    watch.finish().await;
}

/// Waits until every callback the simulator will send about `attempt` was answered: none
/// when it dropped them (the payment was settled by polling), else the result, its copies
/// and the stale pending after them.
async fn wait_for_the_last_callback(world: &World, attempt: &str, copies: usize) -> Vec<Relayed> {
    if world.callbacks.about(attempt).is_empty() {
        return Vec::new();
    }
    let all = copies + 2;
    let callbacks = world.callbacks.wait_about(attempt, "every copy and the stale pending", |c| c.len() == all).await;
    assert!(all_answered_200(&callbacks), "{callbacks:?}");
    assert_eq!(callbacks.last().unwrap().status(), "pending", "the stale one comes last");
    callbacks
}

/// Duplicated, reordered and dropped callbacks at once, on several payments paid one after
/// the other (so that `--seed` replays the same drops).
async fn duplicated_reordered_and_dropped_callbacks_at_once_still_settle_once(backend: Backend) {
    let flags = ["--duplicate-callbacks", "2", "--reorder", "--drop-callbacks", "0.5", "--seed", "11"];
    let world = World::on(backend).sim(&flags).poll_after("1s").start().await;
    let mut payments = Vec::new();
    for card in [ASYNC_APPROVED, ASYNC_APPROVED, ASYNC_APPROVED, ASYNC_DECLINED] {
        let id = world.paid(json!({"max_attempts": 1}), card).await;
        let watch = world.watch(&id);
        payments.push((id, card, watch));
    }

    for (id, card, watch) in payments {
        let (status, expected) = if card == ASYNC_APPROVED {
            ("SUCCESS", &SUCCEEDED[..])
        } else {
            ("FAILED", &["payment.pending", "payment.attempt_failed", "payment.failed"][..])
        };
        let payment = world.settled(&id, status).await;
        wait_for_the_last_callback(&world, &only_attempt(&payment), 2).await;
        assert_eq!(world.payment(&id).await["status"], status);
        world.assert_events(&id, expected).await;
        watch.finish().await;
    }
}

on_backend!(
    sqlite,
    Sqlite: duplicated_callbacks_change_nothing_after_the_first,
    a_stale_pending_after_the_result_changes_nothing,
    dropped_callbacks_are_made_up_for_by_polling,
    failed_requests_become_error_attempts_and_the_shopper_retries_to_success,
    duplicated_reordered_and_dropped_callbacks_at_once_still_settle_once,
);
on_backend!(
    postgres,
    Postgres: duplicated_callbacks_change_nothing_after_the_first,
    dropped_callbacks_are_made_up_for_by_polling,
    duplicated_reordered_and_dropped_callbacks_at_once_still_settle_once,
);
