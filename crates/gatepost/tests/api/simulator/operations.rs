//! Capture, void and refunds through the simulator (docs/reference/payments.md#capture):
//! the acquirer in the other process agrees with the gateway, also when requests race.

use super::cards::{APPROVED, ASYNC_APPROVED};
use super::on_backend;
use super::world::World;
use gatepost_connectors::simulator::protocol::capture_path;
use gatepost_testkit::{Backend, problem};
use serde_json::{Value, json};

/// Asks the simulator itself to capture `amount` of the authorization `reference`: its
/// answer tells what it already captured or voided.
async fn sim_capture(world: &World, reference: &str, amount: i64) -> Value {
    world.sim_post(&capture_path(reference), &json!({"amount": amount, "currency": "EUR"})).await
}

async fn an_authorization_is_captured_in_part_and_another_voided(backend: Backend) {
    let world = World::on(backend).start().await;
    let captured = world.paid(json!({"capture": "manual"}), APPROVED).await;
    let voided = world.paid(json!({"capture": "manual"}), APPROVED).await;
    assert_eq!(world.payment(&captured).await["status"], "AUTHORIZED");

    let response = world.post(&format!("/v1/payments/{captured}/capture"), &json!({"amount": 600})).await;
    assert_eq!(response.status(), 200);
    let payment: Value = response.json().await.unwrap();
    assert_eq!((payment["status"].as_str(), payment["amount_captured"].as_i64()), (Some("SUCCESS"), Some(600)));
    let cancelled = world.post(&format!("/v1/payments/{voided}/cancel"), &json!({})).await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "CANCELLED");
    let (status, body) = problem(world.post(&format!("/v1/payments/{voided}/capture"), &json!({})).await).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("invalid_state")));

    // The simulator's books say the same: 600 captured on one, the other voided.
    let reference = world.attempt_reference(&captured, 0).await;
    assert_eq!(sim_capture(&world, &reference, 600).await["status"], "done", "the same capture again");
    assert_eq!(sim_capture(&world, &reference, 1000).await["code"], "already_captured");
    let reference = world.attempt_reference(&voided, 0).await;
    assert_eq!(sim_capture(&world, &reference, 1000).await["code"], "authorization_voided");
    world.assert_events(&captured, &["payment.authorized", "payment.succeeded"]).await;
    world.assert_events(&voided, &["payment.authorized", "payment.cancelled"]).await;
}

async fn partial_then_full_refunds_end_in_refunded(backend: Backend) {
    let world = World::on(backend).start().await;
    let id = world.paid(json!({}), APPROVED).await;
    let watch = world.watch(&id);
    let refunds = format!("/v1/payments/{id}/refunds");

    let first: Value = world.post(&refunds, &json!({"amount": 300})).await.json().await.unwrap();
    assert_eq!((first["status"].as_str(), first["amount"].as_i64()), (Some("SUCCEEDED"), Some(300)));
    let (status, body) = problem(world.post(&refunds, &json!({"amount": 701})).await).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("refund_exceeds_captured")));
    let rest: Value = world.post(&refunds, &json!({})).await.json().await.unwrap();
    assert_eq!((rest["status"].as_str(), rest["amount"].as_i64()), (Some("SUCCEEDED"), Some(700)));

    let payment = world.payment(&id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_refunded"].as_i64()), (Some("REFUNDED"), Some(1000)));
    world.assert_events(&id, &["payment.succeeded", "payment.refunded", "payment.refunded"]).await;
    watch.finish().await;
}

/// A payment made with the async card is refunded asynchronously: `PENDING` at first, then
/// the simulator's callback settles the refund.
async fn an_async_refund_is_settled_by_its_callback(backend: Backend) {
    let world = World::on(backend).start().await;
    let id = world.paid(json!({}), ASYNC_APPROVED).await;
    let watch = world.watch(&id);
    world.settled(&id, "SUCCESS").await;

    let refund: Value = world.post(&format!("/v1/payments/{id}/refunds"), &json!({})).await.json().await.unwrap();

    assert_eq!(refund["status"], "PENDING");
    let refund_id = refund["id"].as_str().unwrap();
    let payment = world.settled(&id, "REFUNDED").await;
    assert_eq!(
        (payment["refunds"][0]["status"].as_str(), payment["amount_refunded"].as_i64()),
        (Some("SUCCEEDED"), Some(1000))
    );
    let callbacks = world.callbacks.wait_about(refund_id, "the refund's callback", |c| !c.is_empty()).await;
    assert_eq!((callbacks[0].status().as_str(), callbacks[0].answer), ("succeeded", 200));
    world.assert_events(&id, &["payment.pending", "payment.succeeded", "payment.refunded"]).await;
    watch.finish().await;
}

/// Thirty refunds of 100 race for 1000 captured: ten win, and nothing more is refunded than
/// was captured, at the gateway or at the simulator.
async fn concurrent_refunds_never_exceed_the_captured_amount(backend: Backend) {
    let world = World::on(backend).start().await;
    let id = world.paid(json!({}), APPROVED).await;
    let path = format!("/v1/payments/{id}/refunds");

    let (world_ref, path) = (&world, path.as_str());
    let requests =
        (0..30).map(|_| async move { world_ref.post(path, &json!({"amount": 100})).await.status().as_u16() });
    let statuses = futures::future::join_all(requests).await;

    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 10, "{statuses:?}");
    // The losers are refused as exceeding what is left (422) or, once the payment is fully
    // refunded, as no longer refundable (409).
    assert!(statuses.iter().all(|&s| [201, 409, 422].contains(&s)), "{statuses:?}");
    let payment = world.payment(&id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_refunded"].as_i64()), (Some("REFUNDED"), Some(1000)));
    let refunds = payment["refunds"].as_array().unwrap();
    assert!(refunds.len() == 10 && refunds.iter().all(|r| r["status"] == "SUCCEEDED"), "{refunds:?}");
    let mut expected = vec!["payment.succeeded"];
    expected.extend(["payment.refunded"; 10]);
    world.assert_events(&id, &expected).await;
}

/// Ten captures of one authorization at once: the simulator and the status machine let
/// exactly one of them through.
async fn concurrent_captures_capture_once(backend: Backend) {
    let world = World::on(backend).start().await;
    let id = world.paid(json!({"capture": "manual"}), APPROVED).await;
    let path = format!("/v1/payments/{id}/capture");

    let (world_ref, path) = (&world, path.as_str());
    let requests =
        (0..10).map(|n| async move { world_ref.post(path, &json!({"amount": 500 + n})).await.status().as_u16() });
    let statuses = futures::future::join_all(requests).await;

    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 9, "{statuses:?}");
    let payment = world.payment(&id).await;
    let captured = payment["amount_captured"].as_i64().unwrap();
    assert_eq!(payment["status"], "SUCCESS");
    assert!((500..510).contains(&captured), "{payment}");
    let reference = world.attempt_reference(&id, 0).await;
    let again = sim_capture(&world, &reference, captured).await;
    assert_eq!(again["status"], "done", "the simulator captured the amount the gateway recorded: {again}");
    world.assert_events(&id, &["payment.authorized", "payment.succeeded"]).await;
}

on_backend!(
    sqlite,
    Sqlite: an_authorization_is_captured_in_part_and_another_voided,
    partial_then_full_refunds_end_in_refunded,
    an_async_refund_is_settled_by_its_callback,
    concurrent_refunds_never_exceed_the_captured_amount,
    concurrent_captures_capture_once,
);
on_backend!(
    postgres,
    Postgres: an_authorization_is_captured_in_part_and_another_voided,
    partial_then_full_refunds_end_in_refunded,
    an_async_refund_is_settled_by_its_callback,
    concurrent_refunds_never_exceed_the_captured_amount,
    concurrent_captures_capture_once,
);
