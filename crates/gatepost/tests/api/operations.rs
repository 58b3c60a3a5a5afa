//! Capture, cancel (void) and refunds on the sandbox connector
//! (docs/reference/payments.md#capture), including many at once on the same payment.

use crate::checkout::HostedPage as _;
use gatepost_core::time::ManualClock;
use gatepost_testkit::{TestApp, problem};
use serde_json::{Value, json};

/// A payment the shopper paid with an approved card: `SUCCESS`, or `AUTHORIZED` when
/// `capture` is `manual`.
async fn paid(app: &TestApp, capture: &str, card: &str) -> String {
    let checkout =
        app.checkout(json!({"capture": capture, "amount": 1000, "return_url": "https://shop.example/r"})).await;
    let response = app.pay(&checkout, card).await;
    assert_eq!(response.status(), 303, "paid");
    checkout.payment_id
}

async fn event_types(app: &TestApp, payment: &str) -> Vec<String> {
    let events: Value = app.get(&format!("/v1/events?payment_id={payment}&limit=100")).await.json().await.unwrap();
    let mut types: Vec<String> =
        events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
    types.reverse(); // oldest first
    types
}

async fn a_manual_payment_is_captured_in_part_once(app: TestApp) {
    let id = paid(&app, "manual", "4242424242424242").await;
    assert_eq!(app.payment_json(&id).await["status"], "AUTHORIZED");

    let too_much = app.post_json(&format!("/v1/payments/{id}/capture"), &json!({"amount": 1001})).await;
    let (status, body) = problem(too_much).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("exceeds_authorized")));

    let captured = app.post_json(&format!("/v1/payments/{id}/capture"), &json!({"amount": 600})).await;
    assert_eq!(captured.status(), 200);
    let captured: Value = captured.json().await.unwrap();
    assert_eq!((captured["status"].as_str(), captured["amount_captured"].as_i64()), (Some("SUCCESS"), Some(600)));

    let again = app.post_json(&format!("/v1/payments/{id}/capture"), &json!({})).await;
    let (status, body) = problem(again).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("invalid_state")));
    assert_eq!(event_types(&app, &id).await, ["payment.authorized", "payment.succeeded"]);
}

async fn capture_needs_an_authorized_payment(app: TestApp) {
    let open = app.checkout(json!({"capture": "manual"})).await.payment_id;
    let (status, _) = problem(app.post_json(&format!("/v1/payments/{open}/capture"), &json!({})).await).await;
    assert_eq!(status, 409);
    let (status, body) =
        problem(app.post_json(&format!("/v1/payments/{open}/capture"), &json!({"amount": 0})).await).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("must_be_positive")));
    let (status, body) =
        problem(app.post_json(&format!("/v1/payments/{open}/capture"), &json!({"amont": 5})).await).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("unknown_field")));
    let (status, _) = problem(app.post_json("/v1/payments/pay_nope/capture", &json!({})).await).await;
    assert_eq!(status, 404);
}

async fn an_authorization_is_voided_by_cancel(app: TestApp) {
    let id = paid(&app, "manual", "4242424242424242").await;

    let cancelled = app.post_json(&format!("/v1/payments/{id}/cancel"), &json!({})).await;

    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "CANCELLED");
    let (status, _) = problem(app.post_json(&format!("/v1/payments/{id}/capture"), &json!({})).await).await;
    assert_eq!(status, 409, "nothing to capture after a void");
    assert_eq!(event_types(&app, &id).await, ["payment.authorized", "payment.cancelled"]);
}

async fn partial_then_full_refunds_end_in_refunded(app: TestApp) {
    let id = paid(&app, "automatic", "4242424242424242").await;
    let refunds = format!("/v1/payments/{id}/refunds");

    let first = app.post_json(&refunds, &json!({"amount": 300, "reason": "requested_by_customer"})).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!((first["status"].as_str(), first["amount"].as_i64()), (Some("SUCCEEDED"), Some(300)));
    assert!(first["id"].as_str().unwrap().starts_with("ref_"));
    let payment = app.payment_json(&id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_refunded"].as_i64()), (Some("SUCCESS"), Some(300)));

    let (status, body) = problem(app.post_json(&refunds, &json!({"amount": 701})).await).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("refund_exceeds_captured")));

    let rest: Value = app.post_json(&refunds, &json!({})).await.json().await.unwrap();
    assert_eq!(rest["amount"], 700, "no amount refunds what is left");
    let payment = app.payment_json(&id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_refunded"].as_i64()), (Some("REFUNDED"), Some(1000)));
    assert_eq!(payment["refunds"].as_array().unwrap().len(), 2);

    let (status, _) = problem(app.post_json(&refunds, &json!({"amount": 1})).await).await;
    assert_eq!(status, 409, "nothing leaves REFUNDED");
    let listed: Value = app.get(&refunds).await.json().await.unwrap();
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0]["id"], rest["id"], "newest first");
    let first_page: Value = app.get(&format!("{refunds}?limit=1")).await.json().await.unwrap();
    assert_eq!((first_page["data"].as_array().unwrap().len(), &first_page["has_more"]), (1, &json!(true)));
    let after = first_page["data"][0]["id"].as_str().unwrap();
    let second_page: Value = app.get(&format!("{refunds}?limit=1&starting_after={after}")).await.json().await.unwrap();
    assert_eq!((&second_page["data"][0]["id"], &second_page["has_more"]), (&first["id"], &json!(false)));
    let (status, _) = problem(app.get(&format!("{refunds}?limit=0")).await).await;
    assert_eq!(status, 422);
    assert_eq!(
        event_types(&app, &id).await,
        ["payment.succeeded", "payment.refunded", "payment.refunded"],
        "one event per refund"
    );
}

async fn refunds_need_a_paid_payment_and_a_sane_body(app: TestApp) {
    let authorized = paid(&app, "manual", "4242424242424242").await;
    let (status, _) = problem(app.post_json(&format!("/v1/payments/{authorized}/refunds"), &json!({})).await).await;
    assert_eq!(status, 409, "an authorization is voided, not refunded");

    let id = paid(&app, "automatic", "4242424242424242").await;
    let refunds = format!("/v1/payments/{id}/refunds");
    let (status, body) = problem(app.post_json(&refunds, &json!({"amount": -5})).await).await;
    assert_eq!((status, body["errors"][0]["param"].as_str()), (422, Some("amount")));
    let (status, body) = problem(app.post_json(&refunds, &json!({"reason": "x".repeat(501)})).await).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("too_long")));
    let (status, body) = problem(app.post_raw(&refunds, "{\"amount\": ").await).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_json")));
    assert_eq!(app.payment_json(&id).await["refunds"], json!([]), "nothing half-written");
}

/// Forty refunds of 100 race for 1000 captured: exactly ten win, and nothing more is
/// refunded than was captured.
async fn concurrent_refunds_never_exceed_the_captured_amount(app: TestApp) {
    let id = paid(&app, "automatic", "4242424242424242").await;
    let path = format!("/v1/payments/{id}/refunds");
    let requests = (0..40).map(|_| app.post_raw(&path, json!({"amount": 100}).to_string()));

    let statuses: Vec<u16> = futures::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();

    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 10, "{statuses:?}");
    // The losers hear 422 refund_exceeds_captured, or 409 once the payment is REFUNDED.
    assert!(statuses.iter().all(|s| [201, 409, 422].contains(s)), "{statuses:?}");
    let payment = app.payment_json(&id).await;
    assert_eq!((payment["status"].as_str(), payment["amount_refunded"].as_i64()), (Some("REFUNDED"), Some(1000)));
    let refunded = event_types(&app, &id).await.iter().filter(|t| *t == "payment.refunded").count();
    assert_eq!(refunded, 10);
}

/// Ten captures of the same authorization at once: one wins, the rest are refused.
async fn concurrent_captures_capture_once(app: TestApp) {
    let id = paid(&app, "manual", "4242424242424242").await;
    let path = format!("/v1/payments/{id}/capture");
    let requests = (0..10).map(|n| app.post_raw(&path, json!({"amount": 500 + n}).to_string()));

    let responses = futures::future::join_all(requests).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 9, "{statuses:?}");
    let payment = app.payment_json(&id).await;
    assert_eq!(payment["status"], "SUCCESS");
    assert!((500..510).contains(&payment["amount_captured"].as_i64().unwrap()));
    assert_eq!(event_types(&app, &id).await, ["payment.authorized", "payment.succeeded"]);
}

async fn a_repeated_refund_request_refunds_once(app: TestApp) {
    let id = paid(&app, "automatic", "4242424242424242").await;
    let path = format!("/v1/payments/{id}/refunds");
    let body = json!({"amount": 250}).to_string();

    let first = app.post_as(&app.merchant.api_key, &path, body.clone(), Some("refund-250")).await;
    let second = app.post_as(&app.merchant.api_key, &path, body, Some("refund-250")).await;

    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let (first, second): (Value, Value) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first["id"], second["id"]);
    assert_eq!(app.payment_json(&id).await["amount_refunded"], 250);
}

/// The sandbox refunds payments made with an async card asynchronously, like the async
/// acquirer it stands for; the poller settles the refund.
async fn an_async_refund_settles_by_polling(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"amount": 1000})).await;
    app.pay(&checkout, "4000000000000077").await;
    clock.advance_seconds(1);
    let id = checkout.payment_id;
    app.wait_for_payment(&id, "async settlement", |p| p["status"] == "SUCCESS").await;

    let refund: Value = app.post_json(&format!("/v1/payments/{id}/refunds"), &json!({})).await.json().await.unwrap();

    assert_eq!(refund["status"], "PENDING");
    let (status, body) = problem(app.post_json(&format!("/v1/payments/{id}/refunds"), &json!({})).await).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("refund_exceeds_captured")), "pending refunds reserve");
    assert_eq!(app.payment_json(&id).await["amount_refunded"], 0, "counted once it succeeds");
    clock.advance_seconds(1);
    let refunded = app.wait_for_payment(&id, "the refund", |p| p["status"] == "REFUNDED").await;
    assert_eq!(refunded["refunds"][0]["status"], "SUCCEEDED");
    assert_eq!(refunded["amount_refunded"], 1000);
}

/// While a card attempt waits for the acquirer's answer, a cancel could leave the shopper
/// charged on a cancelled payment: it is refused until the answer is in.
async fn a_payment_with_an_attempt_in_flight_is_not_cancelled(app: TestApp) {
    let checkout = app.checkout(json!({})).await;
    let form_token = app.page(&checkout.path).await.form_token();
    let id = gatepost_core::ids::PaymentId::parse(&checkout.payment_id).unwrap();
    let card = gatepost_core::payment::CardSummary {
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2034,
    };
    let attempt = gatepost_core::changes::NewAttempt {
        id: gatepost_core::ids::AttemptId::generate(),
        card,
        connector: "sandbox".into(),
    };
    let now = gatepost_core::time::Clock::now(&gatepost_core::time::SystemClock);
    app.store.start_attempt(&id, &form_token, attempt, now).await.unwrap();

    let (status, body) = problem(app.post_json(&format!("/v1/payments/{id}/cancel"), &json!({})).await).await;

    assert_eq!(status, 409);
    assert!(body["detail"].as_str().unwrap().contains("in progress"), "{body}");
    assert_eq!(app.payment_json(id.as_str()).await["status"], "OPEN");
}

gatepost_testkit::on_both_backends!(
    a_payment_with_an_attempt_in_flight_is_not_cancelled,
    a_manual_payment_is_captured_in_part_once,
    capture_needs_an_authorized_payment,
    an_authorization_is_voided_by_cancel,
    partial_then_full_refunds_end_in_refunded,
    refunds_need_a_paid_payment_and_a_sane_body,
    concurrent_refunds_never_exceed_the_captured_amount,
    concurrent_captures_capture_once,
    a_repeated_refund_request_refunds_once,
);

mod with_clock {
    use super::*;
    gatepost_testkit::on_both_backends_with_clock!(an_async_refund_settles_by_polling);
}
