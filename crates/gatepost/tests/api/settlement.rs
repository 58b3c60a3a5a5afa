//! What happens after the shopper leaves: async settlement and expiry
//! (docs/reference/hosted-page.md#asynchronous-payments,
//! docs/reference/payments.md#expiry).

use crate::checkout::HostedPage as _;
use crate::checkout::location;
use gatepost_core::time::{Clock as _, ManualClock};
use gatepost_testkit::TestApp;
use serde_json::json;

async fn an_async_card_returns_pending_and_settles_later(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"return_urls": {"pending": "https://shop.example/pending"}})).await;

    let response = app.pay(&checkout, "4000000000000077").await;

    assert_eq!(response.status(), 303);
    let location = location(&response);
    assert!(location.starts_with("https://shop.example/pending?"));
    assert!(location.contains("payment_status=PENDING"));
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "PENDING");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "PENDING", "not before async_delay");
    clock.advance_seconds(1);
    let settled = app.wait_for_payment(&checkout.payment_id, "settlement", |p| p["status"] != "PENDING").await;
    assert_eq!(settled["status"], "SUCCESS");
    assert_eq!(settled["attempts"][0]["status"], "SUCCEEDED");
}

async fn an_async_decline_with_no_attempts_left_fails_the_payment(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"max_attempts": 1})).await;

    app.pay(&checkout, "4000000000000085").await;
    clock.advance_seconds(1);

    let settled = app.wait_for_payment(&checkout.payment_id, "settlement", |p| p["status"] != "PENDING").await;
    assert_eq!(settled["status"], "FAILED");
    assert_eq!(settled["attempts"][0]["decline_code"], "card_declined");
}

async fn an_async_decline_with_attempts_left_reopens_the_payment(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"max_attempts": 2})).await;

    app.pay(&checkout, "4000000000000085").await;
    clock.advance_seconds(1);

    let settled = app.wait_for_payment(&checkout.payment_id, "settlement", |p| p["status"] != "PENDING").await;
    assert_eq!(settled["status"], "OPEN");
    assert_eq!(settled["attempts_remaining"], 1);
    assert!(app.page(&checkout.path).await.contains("Attempts left: 1"));
}

async fn open_payments_past_their_expiry_expire(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"expires_in": 60})).await;
    assert_eq!(app.page(&checkout.path).await.status, 200);

    clock.advance_seconds(61);

    let page = app.page(&checkout.path).await;
    assert_eq!(page.status, 410, "the page is gone at once");
    assert!(page.contains("expired"));
    let token = app.page(&checkout.path).await.input("form_token");
    assert!(token.is_none());
    let expired = app.wait_for_payment(&checkout.payment_id, "expiry", |p| p["status"] == "EXPIRED").await;
    assert_eq!(expired["attempts"], json!([]));
}

async fn the_sweeper_catches_up_after_a_restart(mut app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"expires_in": 60})).await;
    app.stop().await;

    clock.advance_seconds(3600);
    app.restart().await;

    app.wait_for_payment(&checkout.payment_id, "expiry", |p| p["status"] == "EXPIRED").await;
}

async fn a_payment_is_not_expired_early(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"expires_in": 60})).await;

    clock.advance_seconds(59);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "OPEN");
    assert_eq!(app.page(&checkout.path).await.status, 200);
}

async fn an_authorization_not_captured_within_seven_days_expires(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"capture": "manual"})).await;
    app.pay(&checkout, "4242424242424242").await;
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "AUTHORIZED");

    clock.advance_seconds(6 * 24 * 3600);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "AUTHORIZED", "not yet");
    clock.advance_seconds(24 * 3600 + 1);

    app.wait_for_payment(&checkout.payment_id, "capture deadline", |p| p["status"] == "EXPIRED").await;
}

/// An attempt claimed by a process that died before recording the acquirer's answer is
/// closed as an error after two minutes, and the shopper can pay again.
async fn an_attempt_cut_off_mid_call_is_closed_and_the_shopper_can_retry(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/r"})).await;
    let form_token = app.page(&checkout.path).await.form_token();
    let payment_id = gatepost_core::ids::PaymentId::parse(&checkout.payment_id).unwrap();
    let card = gatepost_core::payment::CardSummary {
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2034,
    };
    let new = gatepost_core::changes::NewAttempt {
        id: gatepost_core::ids::AttemptId::generate(),
        card,
        connector: "sandbox".into(),
    };
    let started = app.store.start_attempt(&payment_id, &form_token, new, clock.now()).await.unwrap();
    assert!(matches!(started, gatepost_store::AttemptStart::Started(_)), "claimed, then the process 'dies'");
    assert!(app.page(&checkout.path).await.contains("Processing your payment"));

    clock.advance_seconds(121);

    let closed = app
        .wait_for_payment(&checkout.payment_id, "closing the cut-off attempt", |p| {
            p["attempts"][0]["status"] == "ERROR"
        })
        .await;
    assert_eq!(closed["status"], "OPEN");
    assert_eq!(closed["attempts_remaining"], 2);
    assert_eq!(app.pay(&checkout, "4242424242424242").await.status(), 303, "the shopper pays again");
}

/// A shopper who leaves the issuer's page does not keep the payment PENDING for ever: at
/// its expiry the challenge counts as failed and the payment expires
/// (docs/reference/payments.md#expiry).
async fn an_abandoned_challenge_expires_with_its_payment(app: TestApp, clock: ManualClock) {
    let checkout = app.checkout(json!({"expires_in": 60})).await;
    app.pay(&checkout, "4000000000003220").await;
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "PENDING");

    clock.advance_seconds(61);

    let expired = app.wait_for_payment(&checkout.payment_id, "expiry", |p| p["status"] == "EXPIRED").await;
    assert_eq!(expired["attempts"][0]["status"], "DECLINED");
    assert_eq!(expired["attempts"][0]["decline_code"], "authentication_abandoned");
    assert_eq!(expired["attempts"][0]["three_ds"]["result"], "FAILED");
}

gatepost_testkit::on_both_backends_with_clock!(
    an_async_card_returns_pending_and_settles_later,
    an_async_decline_with_no_attempts_left_fails_the_payment,
    an_async_decline_with_attempts_left_reopens_the_payment,
    open_payments_past_their_expiry_expire,
    the_sweeper_catches_up_after_a_restart,
    a_payment_is_not_expired_early,
    an_authorization_not_captured_within_seven_days_expires,
    an_attempt_cut_off_mid_call_is_closed_and_the_shopper_can_retry,
    an_abandoned_challenge_expires_with_its_payment,
);
