//! Known-answer vectors for webhook and return signatures (`tests/fixtures/signatures.json`,
//! from the Standard Webhooks reference libraries and docs/reference/returns.md#signature).

use gatepost_core::signing::{ReturnFields, WebhookSecret};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("fixtures/signatures.json")).expect("valid fixture")
}

fn text<'a>(vector: &'a Value, field: &str) -> &'a str {
    vector[field].as_str().unwrap_or_else(|| panic!("{field} in {vector}"))
}

fn secret(vector: &Value) -> WebhookSecret {
    WebhookSecret::parse(text(vector, "secret")).expect("vector secret parses")
}

#[test]
fn webhook_signatures_match_the_standard_webhooks_vectors() {
    let vectors = vectors();
    let cases = vectors["standard_webhooks_v1"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let secret = secret(case);
        let id = text(case, "webhook_id");
        let timestamp = case["webhook_timestamp"].as_i64().unwrap();
        let body = text(case, "body").as_bytes();
        assert_eq!(secret.sign_webhook(id, timestamp, body), text(case, "signature"));
        assert!(secret.verify_webhook(id, timestamp, body, text(case, "signature")));
    }
}

#[test]
fn tampered_webhook_signatures_do_not_verify() {
    let vectors = vectors();
    let cases = vectors["standard_webhooks_v1_negative"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let verified = secret(case).verify_webhook(
            text(case, "webhook_id"),
            case["webhook_timestamp"].as_i64().unwrap(),
            text(case, "body").as_bytes(),
            text(case, "signature"),
        );
        assert!(!verified, "{}", text(case, "note"));
    }
}

#[test]
fn return_signatures_match_the_spec_vectors() {
    let vectors = vectors();
    let cases = vectors["return_signature_v1"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let fields = ReturnFields {
            timestamp: case["timestamp"].as_i64().unwrap(),
            payment_reference: text(case, "payment_reference"),
            payment_status: text(case, "payment_status"),
            merchant_reference: text(case, "merchant_reference"),
        };
        let secret = secret(case);
        assert_eq!(secret.sign_return(&fields), text(case, "signature"));
        assert!(secret.verify_return(&fields, text(case, "signature")));
        let other_status = ReturnFields { payment_status: "SUCCESS_", ..fields };
        assert!(!secret.verify_return(&other_status, text(case, "signature")));
    }
}
