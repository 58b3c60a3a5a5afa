//! What an `Idempotency-Key` never replays (docs/reference/api.md#idempotency): an answer
//! that shows a secret, which is never stored, and one that asks the client to try again.

use crate::checkout::HostedPage as _;
use gatepost_core::changes::{NewAttempt, Settlement};
use gatepost_core::ids::{AttemptId, PaymentId};
use gatepost_core::payment::{AttemptEffect, AttemptStatus, CardSummary, ThreeDs};
use gatepost_core::time::{Clock, SystemClock};
use gatepost_testkit::{Backend, TestApp, problem};
use serde_json::{Value, json};

async fn a_rotated_secret_is_never_stored_for_replay(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rotate =
        |key: &'static str| app.post_as(&app.merchant.api_key, "/v1/merchant/webhook-secret/rotate", "", Some(key));

    let first = rotate("rotate-1").await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = rotate("rotate-1").await;
    assert_eq!(again.status(), 200);
    assert!(again.headers().get("idempotent-replayed").is_none(), "not a replay");
    let again: Value = again.json().await.unwrap();

    assert_ne!(first["webhook_secret"], again["webhook_secret"], "the key was freed, not kept with the secret");
}

async fn a_retry_shortly_answer_is_not_replayed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let checkout = app.checkout(json!({})).await;
    let form_token = app.page(&checkout.path).await.form_token();
    let id = PaymentId::parse(&checkout.payment_id).unwrap();
    let attempt = AttemptId::generate();
    let card = CardSummary { brand: "visa".into(), last4: "0002".into(), exp_month: 12, exp_year: 2034 };
    let new = NewAttempt { id: attempt.clone(), card, connector: "sandbox".into() };
    app.store.start_attempt(&id, &form_token, new, SystemClock.now()).await.unwrap();
    let path = format!("/v1/payments/{id}/cancel");
    let cancel = || app.post_as(&app.merchant.api_key, &path, "{}", Some("cancel-1"));

    let (status, body) = problem(cancel().await).await;
    assert_eq!(status, 409);
    assert!(body["detail"].as_str().unwrap().contains("Retry shortly"), "{body}");

    let declined = Settlement {
        status: AttemptStatus::Declined,
        decline_code: Some("card_declined".into()),
        decline_message: Some("Declined.".into()),
        three_ds: ThreeDs::default(),
        connector_reference: Some("sbx_declined".into()),
        challenge_token: None,
        next_poll_at: None,
        effect: AttemptEffect::Failed,
    };
    app.store.settle_attempt(&attempt, None, declined, SystemClock.now()).await.unwrap();
    let retried = cancel().await;

    assert_eq!(retried.status(), 200, "the retry ran, and the answer is in now");
    assert!(retried.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.payment_json(id.as_str()).await["status"], "CANCELLED");
    let replayed = cancel().await;
    assert_eq!(replayed.headers()["idempotent-replayed"], "true", "a final answer is replayed as before");
}

gatepost_testkit::for_each_backend!(
    a_rotated_secret_is_never_stored_for_replay,
    a_retry_shortly_answer_is_not_replayed
);
