//! The typed objects read every field of docs/reference/payments.md and
//! docs/reference/webhooks.md, and keep reading when the gateway adds fields, statuses and
//! event types.

use gatepost_merchant::{
    ApiError, AttemptStatus, CaptureMode, Event, EventRecord, EventType, List, Payment, PaymentStatus, RefundStatus,
    ReturnMethod,
};

const FULL_PAYMENT: &str = r#"{
  "id": "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E", "object": "payment", "status": "SUCCESS",
  "amount": 1050, "currency": "EUR", "amount_captured": 1050, "amount_refunded": 500,
  "reference": "order-1234", "description": "2 x coffee beans",
  "customer": {"email": "ana@example.com", "name": "Ana"}, "metadata": {"cart": "c_81"},
  "capture": "manual", "max_attempts": 3, "attempts_remaining": 1,
  "checkout_url": "http://127.0.0.1:8080/pay/tok_abc",
  "return_url": "https://shop.example/checkout/return",
  "return_urls": {"success": "https://shop.example/ok", "decline": "https://shop.example/no"},
  "return_method": "POST", "webhook_url": "https://shop.example/webhooks/gatepost",
  "attempts": [
    {"id": "att_1", "status": "DECLINED", "card": {"brand": "visa", "last4": "9995", "exp_month": 12, "exp_year": 2030},
     "decline_code": "insufficient_funds", "decline_message": "Insufficient funds.",
     "three_ds": {"required": false, "result": null}, "created_at": "2026-11-21T10:00:00.123Z"},
    {"id": "att_2", "status": "SUCCEEDED", "card": {"brand": "visa", "last4": "3220", "exp_month": 1, "exp_year": 2031},
     "decline_code": null, "decline_message": null,
     "three_ds": {"required": true, "result": "AUTHENTICATED"}, "created_at": "2026-11-21T10:01:00.456Z"}
  ],
  "refunds": [
    {"id": "ref_1", "object": "refund", "payment_id": "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E", "amount": 500,
     "status": "SUCCEEDED", "reason": "damaged", "failure_code": null, "created_at": "2026-11-22T09:00:00.000Z"}
  ],
  "created_at": "2026-11-21T09:59:00.000Z", "updated_at": "2026-11-22T09:00:00.000Z",
  "expires_at": "2026-11-21T10:59:00.000Z", "livemode": false
}"#;

#[test]
fn every_field_of_the_payment_object_is_read() {
    let payment: Payment = serde_json::from_str(FULL_PAYMENT).unwrap();

    assert_eq!(payment.id, "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E");
    assert_eq!(payment.status, PaymentStatus::Success);
    assert_eq!((payment.amount, payment.currency.as_str()), (1050, "EUR"));
    assert_eq!((payment.amount_captured, payment.amount_refunded), (1050, 500));
    assert_eq!(payment.reference.as_deref(), Some("order-1234"));
    assert_eq!(payment.description.as_deref(), Some("2 x coffee beans"));
    let customer = payment.customer.as_ref().unwrap();
    assert_eq!((customer.email.as_deref(), customer.name.as_deref()), (Some("ana@example.com"), Some("Ana")));
    assert_eq!(payment.metadata["cart"], "c_81");
    assert_eq!(payment.capture, CaptureMode::Manual);
    assert_eq!((payment.max_attempts, payment.attempts_remaining), (3, 1));
    assert_eq!(payment.checkout_url, "http://127.0.0.1:8080/pay/tok_abc");
    assert_eq!(payment.return_url.as_deref(), Some("https://shop.example/checkout/return"));
    assert_eq!(payment.return_urls.decline.as_deref(), Some("https://shop.example/no"));
    assert_eq!(payment.return_urls.cancel, None);
    assert_eq!(payment.return_method, ReturnMethod::Post);
    assert_eq!(payment.webhook_url.as_deref(), Some("https://shop.example/webhooks/gatepost"));
    assert_eq!(payment.created_at, "2026-11-21T09:59:00.000Z");
    assert_eq!(payment.updated_at, "2026-11-22T09:00:00.000Z");
    assert_eq!(payment.expires_at, "2026-11-21T10:59:00.000Z");
    assert!(!payment.livemode);

    let [declined, succeeded] = &payment.attempts[..] else { panic!("two attempts: {:?}", payment.attempts) };
    assert_eq!(declined.status, AttemptStatus::Declined);
    assert_eq!(declined.decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(declined.card.as_ref().unwrap().last4, "9995");
    assert_eq!(succeeded.status, AttemptStatus::Succeeded);
    let three_ds = succeeded.three_ds.as_ref().unwrap();
    assert!(three_ds.required);
    assert_eq!(three_ds.result.as_deref(), Some("AUTHENTICATED"));
    assert_eq!(succeeded.card.as_ref().unwrap().exp_year, 2031);

    let refund = &payment.refunds[0];
    assert_eq!((refund.id.as_str(), refund.amount, &refund.status), ("ref_1", 500, &RefundStatus::Succeeded));
    assert_eq!(refund.reason.as_deref(), Some("damaged"));
    assert_eq!(refund.payment_id, payment.id);
}

#[test]
fn a_payment_with_unknown_fields_and_statuses_still_parses() {
    let mut json: serde_json::Value = serde_json::from_str(FULL_PAYMENT).unwrap();
    json["status"] = "PARTIALLY_CAPTURED".into();
    json["capture"] = "scheduled".into();
    json["return_method"] = "REDIRECT_POST".into();
    json["risk"] = serde_json::json!({"score": 12, "rules": ["velocity"]});
    json["attempts"][0]["status"] = "BLOCKED".into();
    json["attempts"][0]["wallet"] = "apple_pay".into();
    json["refunds"][0]["status"] = "REVERSED".into();

    let payment: Payment = serde_json::from_value(json).unwrap();

    assert_eq!(payment.status, PaymentStatus::Other("PARTIALLY_CAPTURED".into()));
    assert_eq!(payment.capture, CaptureMode::Other("scheduled".into()));
    assert_eq!(payment.return_method, ReturnMethod::Other("REDIRECT_POST".into()));
    assert_eq!(payment.attempts[0].status, AttemptStatus::Other("BLOCKED".into()));
    assert_eq!(payment.refunds[0].status, RefundStatus::Other("REVERSED".into()));
    assert!(!payment.status.is_final());
}

#[test]
fn a_minimal_payment_parses_with_defaults_but_one_without_an_id_does_not() {
    let minimal: Payment =
        serde_json::from_str(r#"{"id":"pay_1","status":"OPEN","amount":1,"currency":"BHD"}"#).unwrap();
    assert!(minimal.attempts.is_empty() && minimal.refunds.is_empty() && minimal.metadata.is_empty());
    assert_eq!(minimal.capture, CaptureMode::Automatic);
    assert_eq!(minimal.return_method, ReturnMethod::Get);

    let without_id = serde_json::from_str::<Payment>(r#"{"status":"OPEN","amount":1,"currency":"BHD"}"#);
    assert!(without_id.is_err());
}

#[test]
fn a_payment_survives_a_round_trip_through_json() {
    let payment: Payment = serde_json::from_str(FULL_PAYMENT).unwrap();
    let again: Payment = serde_json::from_slice(&serde_json::to_vec(&payment).unwrap()).unwrap();
    assert_eq!(again, payment);
}

#[test]
fn every_event_type_of_spec_6_is_known() {
    let types = [
        ("payment.pending", EventType::Pending),
        ("payment.authorized", EventType::Authorized),
        ("payment.succeeded", EventType::Succeeded),
        ("payment.failed", EventType::Failed),
        ("payment.cancelled", EventType::Cancelled),
        ("payment.expired", EventType::Expired),
        ("payment.refunded", EventType::Refunded),
        ("payment.attempt_failed", EventType::AttemptFailed),
    ];
    for (text, known) in types {
        assert_eq!(EventType::from(text), known);
        assert_eq!(known.as_str(), text);
        assert_eq!(serde_json::to_string(&known).unwrap(), format!("\"{text}\""));
    }
}

#[test]
fn every_payment_status_of_spec_3_is_known() {
    for text in ["OPEN", "PENDING", "AUTHORIZED", "SUCCESS", "FAILED", "CANCELLED", "EXPIRED", "REFUNDED"] {
        let status = PaymentStatus::from(text);
        assert!(!matches!(status, PaymentStatus::Other(_)), "{text}");
        assert_eq!(status.to_string(), text);
    }
}

#[test]
fn an_event_with_an_unknown_type_and_extra_fields_parses() {
    let body = format!(
        r#"{{"id":"evt_1","type":"payment.disputed","timestamp":"2026-11-21T10:00:00.123Z","sequence":7,"api_version":"2027-01","data":{FULL_PAYMENT}}}"#
    );
    let event: Event = serde_json::from_str(&body).unwrap();
    assert_eq!(event.event_type, EventType::Other("payment.disputed".into()));
    assert_eq!(event.sequence, 7);
    assert_eq!(event.data.amount_refunded, 500);
}

#[test]
fn a_page_of_events_from_the_events_api_parses() {
    let body = format!(
        r#"{{"object":"list","has_more":false,"data":[{{"id":"evt_1","object":"event","type":"payment.refunded",
        "payment_id":"pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E","sequence":4,"created_at":"2026-11-22T09:00:00.000Z",
        "data":{FULL_PAYMENT},"delivery":{{"status":"RETRYING_SOON","attempts":2,"url":"https://shop.example/webhooks/gatepost",
        "last_attempt_at":"2026-11-22T09:00:01.000Z","next_attempt_at":"2026-11-22T09:01:01.000Z"}}}}]}}"#
    );
    let page: List<EventRecord> = serde_json::from_str(&body).unwrap();
    let event = &page.data[0];
    assert_eq!(event.event_type, EventType::Refunded);
    assert_eq!(event.payment_id.as_deref(), Some(event.data.payment().unwrap().id.as_str()));
    let delivery = event.delivery.as_ref().unwrap();
    assert_eq!(delivery.status, gatepost_merchant::DeliveryStatus::Other("RETRYING_SOON".into()));
    assert_eq!(delivery.next_attempt_at.as_deref(), Some("2026-11-22T09:01:01.000Z"));
}

#[test]
fn a_problem_document_without_field_errors_parses() {
    let problem: ApiError = serde_json::from_str(
        r#"{"type":"/errors/not_found","title":"Not found","status":404,"detail":"No such payment.","code":"not_found","instance":"/v1/payments/pay_x"}"#,
    )
    .unwrap();
    assert_eq!((problem.status, problem.code.as_str(), problem.kind.as_str()), (404, "not_found", "/errors/not_found"));
    assert!(problem.errors.is_empty());
}
