//! `Idempotency-Key` (docs/reference/api.md#idempotency).

use gatepost_core::idempotency::IdempotencyClaim;
use gatepost_core::ids::MerchantId;
use gatepost_core::time::{Clock as _, SystemClock};
use gatepost_testkit::{TestApp, problem};
use serde_json::Value;

const BODY: &str = r#"{"amount":1050,"currency":"EUR","reference":"order-1"}"#;

async fn a_repeated_request_replays_the_first_response_byte_for_byte(app: TestApp) {
    let key = app.merchant.api_key.clone();
    let first = app.post_as(&key, "/v1/payments", BODY, Some("order-1-create")).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.bytes().await.unwrap();

    let second = app.post_as(&key, "/v1/payments", BODY, Some("order-1-create")).await;

    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["content-type"], "application/json");
    assert_eq!(second.bytes().await.unwrap(), first_body);
    assert_eq!(app.list_payments("").await["data"].as_array().unwrap().len(), 1, "one payment");
}

async fn the_same_key_with_another_body_is_422(app: TestApp) {
    let key = app.merchant.api_key.clone();
    assert_eq!(app.post_as(&key, "/v1/payments", BODY, Some("k")).await.status(), 201);

    let other = BODY.replace("1050", "1051");
    let (status, body) = problem(app.post_as(&key, "/v1/payments", other, Some("k")).await).await;

    assert_eq!((status, body["code"].as_str().unwrap()), (422, "idempotency_key_reused"));
}

async fn the_same_key_while_the_first_runs_is_409(app: TestApp) {
    let merchant = MerchantId::parse(&app.merchant.id).unwrap();
    // Another node has claimed the key and is still working on the request.
    let claim = app
        .store
        .claim_idempotency_key(&merchant, "busy", &fingerprint_of_create(BODY), SystemClock.now())
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);

    let key = app.merchant.api_key.clone();
    let (status, body) = problem(app.post_as(&key, "/v1/payments", BODY, Some("busy")).await).await;

    assert_eq!((status, body["code"].as_str().unwrap()), (409, "idempotency_key_in_use"));
}

/// The fingerprint the server computes for `POST /v1/payments` with `body`.
fn fingerprint_of_create(body: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(format!("POST /v1/payments\n{body}"));
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn concurrent_requests_with_one_key_create_one_payment(app: TestApp) {
    let key = app.merchant.api_key.clone();
    let requests = (0..10).map(|_| app.post_as(&key, "/v1/payments", BODY, Some("double-click")));

    let responses = futures::future::join_all(requests).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(app.list_payments("").await["data"].as_array().unwrap().len(), 1, "{statuses:?}");
}

async fn keys_belong_to_one_merchant(app: TestApp) {
    let other = app.create_merchant("Other").await;
    let mine = app.post_as(&app.merchant.api_key, "/v1/payments", BODY, Some("shared")).await;
    let theirs = app.post_as(&other.api_key, "/v1/payments", BODY, Some("shared")).await;

    assert_eq!(mine.status(), 201);
    assert_eq!(theirs.status(), 201);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    let (mine, theirs): (Value, Value) = (mine.json().await.unwrap(), theirs.json().await.unwrap());
    assert_ne!(mine["id"], theirs["id"]);
}

async fn errors_and_other_endpoints_replay_too(app: TestApp) {
    let payment = app.create_payment(&serde_json::json!({"amount": 100, "currency": "EUR"})).await;
    let path = format!("/v1/payments/{}/cancel", payment["id"].as_str().unwrap());
    let key = app.merchant.api_key.clone();

    let first = app.post_as(&key, &path, "", Some("cancel-1")).await;
    let again = app.post_as(&key, &path, "", Some("cancel-1")).await;
    let fresh = app.post_as(&key, &path, "", Some("cancel-2")).await;

    assert_eq!(first.status(), 200);
    assert_eq!(again.status(), 200, "replayed, not cancelled twice");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(fresh.status(), 409, "a new key runs the request again");
}

async fn malformed_keys_are_refused(app: TestApp) {
    let key = app.merchant.api_key.clone();
    let too_long = "k".repeat(256);
    for bad in [too_long.as_str(), "has space"] {
        let (status, body) = problem(app.post_as(&key, "/v1/payments", BODY, Some(bad)).await).await;
        assert_eq!(status, 422, "{bad}");
        assert_eq!(body["errors"][0]["param"], "Idempotency-Key");
    }
    let longest = "k".repeat(255);
    assert_eq!(app.post_as(&key, "/v1/payments", BODY, Some(&longest)).await.status(), 201);
}

async fn keys_older_than_a_day_are_forgotten(app: TestApp) {
    let key = app.merchant.api_key.clone();
    assert_eq!(app.post_as(&key, "/v1/payments", BODY, Some("old")).await.status(), 201);
    let now = SystemClock.now();

    assert_eq!(app.store.forget_expired_idempotency_keys(now).await.unwrap(), 0, "a fresh key stays");
    let a_day_later = now.plus_seconds(24 * 3600 + 1);
    assert_eq!(app.store.forget_expired_idempotency_keys(a_day_later).await.unwrap(), 1);
}

/// A request that outlived its claim's lock, whose key another request then took over,
/// must not free or overwrite that other request's claim when it finally ends.
async fn a_request_that_outlived_its_claim_leaves_the_takeover_alone(app: TestApp) {
    use gatepost_core::idempotency::{LOCK_MILLIS, StoredResponse};
    let merchant = MerchantId::parse(&app.merchant.id).unwrap();
    let hash = fingerprint_of_create(BODY);
    let first = SystemClock.now();
    let store = &app.store;
    assert_eq!(store.claim_idempotency_key(&merchant, "slow", &hash, first).await.unwrap(), IdempotencyClaim::Claimed);
    let taken_over = first.plus_millis(LOCK_MILLIS + 1);
    let claim = store.claim_idempotency_key(&merchant, "slow", &hash, taken_over).await.unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed, "the first request seems dead: its key is taken over");

    // The first request ends at last: with a 5xx (released), or with an answer (recorded).
    store.release_idempotency_key(&merchant, "slow", first).await.unwrap();
    let late = StoredResponse { status: 201, content_type: "application/json".into(), body: b"{}".to_vec() };
    store.record_idempotent_response(&merchant, "slow", first, &late).await.unwrap();

    let third = store.claim_idempotency_key(&merchant, "slow", &hash, taken_over.plus_millis(1)).await.unwrap();
    assert_eq!(third, IdempotencyClaim::InUse, "the takeover still holds the key, with no answer yet");
}

gatepost_testkit::on_both_backends!(
    a_request_that_outlived_its_claim_leaves_the_takeover_alone,
    a_repeated_request_replays_the_first_response_byte_for_byte,
    the_same_key_with_another_body_is_422,
    the_same_key_while_the_first_runs_is_409,
    concurrent_requests_with_one_key_create_one_payment,
    keys_belong_to_one_merchant,
    errors_and_other_endpoints_replay_too,
    malformed_keys_are_refused,
    keys_older_than_a_day_are_forgotten,
);
