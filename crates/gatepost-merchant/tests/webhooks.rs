//! Webhook verification as a merchant's endpoint meets it: rotation, the five-minute
//! window, tampering, missing headers, bodies that are not events.

use gatepost_merchant::{EventType, PaymentStatus, Webhook, WebhookError};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SENT_AT: i64 = 1_763_719_200;

const BODY: &[u8] = br#"{"id":"evt_01JD3Q8V5W7Z2X4Y6A8B0C1D2E","type":"payment.succeeded","timestamp":"2025-11-21T10:00:00.123Z","sequence":3,"data":{"id":"pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E","object":"payment","status":"SUCCESS","amount":1050,"currency":"EUR","amount_captured":1050,"amount_refunded":0,"reference":"order-1234"}}"#;
const EVENT_ID: &str = "evt_01JD3Q8V5W7Z2X4Y6A8B0C1D2E";

fn webhook(secret: &str) -> Webhook {
    Webhook::new(secret).unwrap()
}

fn at(unix_seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds.try_into().unwrap())
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().try_into().unwrap()
}

/// Verifies `BODY` as sent at `SENT_AT` with `signature`, received at `received_at`.
fn verify_at(secret: &str, signature: &str, received_at: i64) -> Result<gatepost_merchant::Event, WebhookError> {
    webhook(secret).verify_parts(EVENT_ID, &SENT_AT.to_string(), signature, BODY, at(received_at))
}

#[test]
fn a_webhook_signed_now_verifies_and_parses_into_a_typed_event() {
    let now = unix_now();
    let signature = webhook(SECRET).sign(EVENT_ID, now, BODY);
    let timestamp = now.to_string();
    let headers = [("webhook-id", EVENT_ID), ("webhook-timestamp", &timestamp), ("webhook-signature", &signature)];

    let event = webhook(SECRET).verify(&headers, BODY).unwrap();

    assert_eq!(event.id, EVENT_ID);
    assert_eq!(event.event_type, EventType::Succeeded);
    assert_eq!(event.sequence, 3);
    assert_eq!(event.data.status, PaymentStatus::Success);
    assert_eq!(event.data.reference.as_deref(), Some("order-1234"));
}

#[test]
fn headers_are_found_whatever_their_case_and_container() {
    let now = unix_now();
    let signature = webhook(SECRET).sign(EVENT_ID, now, BODY);
    let timestamp = now.to_string();
    let pairs = vec![
        ("Webhook-Id".to_owned(), EVENT_ID.to_owned()),
        ("WEBHOOK-TIMESTAMP".to_owned(), timestamp.clone()),
        ("webhook-Signature".to_owned(), signature.clone()),
    ];
    let hash_map: HashMap<String, String> = pairs.iter().cloned().collect();
    let btree_map: BTreeMap<String, String> = pairs.iter().cloned().collect();

    assert!(webhook(SECRET).verify(&pairs, BODY).is_ok());
    assert!(webhook(SECRET).verify(pairs.as_slice(), BODY).is_ok());
    assert!(webhook(SECRET).verify(&hash_map, BODY).is_ok());
    assert!(webhook(SECRET).verify(&btree_map, BODY).is_ok());
}

#[cfg(feature = "http")]
#[test]
fn an_http_header_map_can_be_passed_as_it_is() {
    let now = unix_now();
    let mut headers = http::HeaderMap::new();
    headers.insert("Webhook-Id", EVENT_ID.parse().unwrap());
    headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
    headers.insert("webhook-signature", webhook(SECRET).sign(EVENT_ID, now, BODY).parse().unwrap());

    assert!(webhook(SECRET).verify(&headers, BODY).is_ok());
    headers.remove("webhook-signature");
    assert!(matches!(webhook(SECRET).verify(&headers, BODY), Err(WebhookError::MissingHeader("webhook-signature"))));
}

#[test]
fn during_a_rotation_either_secret_verifies_the_two_signatures() {
    let old = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    let new = webhook(OTHER_SECRET).sign(EVENT_ID, SENT_AT, BODY);
    let header = format!("{new} {old}");

    assert!(verify_at(SECRET, &header, SENT_AT).is_ok());
    assert!(verify_at(OTHER_SECRET, &header, SENT_AT).is_ok());
    let third = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(matches!(verify_at(third, &header, SENT_AT), Err(WebhookError::NoMatchingSignature)));
}

#[test]
fn signatures_of_other_versions_are_skipped_not_fatal() {
    let good = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    let header = format!("v1a,c29tZSBhc3ltbWV0cmljIHNpZ25hdHVyZQ== garbage {good}");
    assert!(verify_at(SECRET, &header, SENT_AT).is_ok());
    let without_ours = "v1a,c29tZSBhc3ltbWV0cmljIHNpZ25hdHVyZQ== garbage";
    assert!(matches!(verify_at(SECRET, without_ours, SENT_AT), Err(WebhookError::NoMatchingSignature)));
}

#[test]
fn exactly_five_minutes_either_way_is_accepted() {
    let signature = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    assert!(verify_at(SECRET, &signature, SENT_AT + 300).is_ok());
    assert!(verify_at(SECRET, &signature, SENT_AT - 300).is_ok());
}

#[test]
fn a_second_beyond_five_minutes_is_refused_as_too_old_or_too_new() {
    let signature = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    assert!(matches!(verify_at(SECRET, &signature, SENT_AT + 301), Err(WebhookError::TooOld)));
    assert!(matches!(verify_at(SECRET, &signature, SENT_AT - 301), Err(WebhookError::TooNew)));
}

#[test]
fn a_tampered_body_id_or_timestamp_is_refused() {
    let signature = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    let verifier = webhook(SECRET);
    let now = at(SENT_AT);
    let timestamp = SENT_AT.to_string();

    let body = String::from_utf8(BODY.to_vec()).unwrap().replace("1050", "1");
    let tampered_body = verifier.verify_parts(EVENT_ID, &timestamp, &signature, body.as_bytes(), now);
    let tampered_id = verifier.verify_parts("evt_other", &timestamp, &signature, BODY, now);
    let later = (SENT_AT + 60).to_string();
    let tampered_timestamp = verifier.verify_parts(EVENT_ID, &later, &signature, BODY, now);

    assert!(matches!(tampered_body, Err(WebhookError::NoMatchingSignature)));
    assert!(matches!(tampered_id, Err(WebhookError::NoMatchingSignature)));
    assert!(matches!(tampered_timestamp, Err(WebhookError::NoMatchingSignature)));
    assert!(verifier.verify_parts(EVENT_ID, &timestamp, &signature, BODY, now).is_ok());
}

#[test]
fn a_body_re_serialised_by_a_framework_no_longer_verifies() {
    let signature = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    let reparsed: serde_json::Value = serde_json::from_slice(BODY).unwrap();
    let pretty = serde_json::to_vec_pretty(&reparsed).unwrap();
    let result = webhook(SECRET).verify_parts(EVENT_ID, &SENT_AT.to_string(), &signature, &pretty, at(SENT_AT));
    assert!(matches!(result, Err(WebhookError::NoMatchingSignature)));
}

#[test]
fn each_missing_or_empty_header_is_named() {
    let now = unix_now();
    let signature = webhook(SECRET).sign(EVENT_ID, now, BODY);
    let timestamp = now.to_string();
    let all = [("webhook-id", EVENT_ID), ("webhook-timestamp", timestamp.as_str()), ("webhook-signature", &signature)];
    for (index, (name, _)) in all.iter().enumerate() {
        let mut without: Vec<(&str, &str)> = all.to_vec();
        without.remove(index);
        let missing = webhook(SECRET).verify(&without, BODY);
        assert!(matches!(missing, Err(WebhookError::MissingHeader(n)) if n == *name), "{name}: {missing:?}");

        let mut empty = all.to_vec();
        empty[index].1 = "";
        let empty = webhook(SECRET).verify(&empty, BODY);
        assert!(matches!(empty, Err(WebhookError::MissingHeader(n)) if n == *name), "{name}: {empty:?}");
    }
}

#[test]
fn a_timestamp_that_is_not_whole_unix_seconds_is_refused() {
    let signature = webhook(SECRET).sign(EVENT_ID, SENT_AT, BODY);
    for timestamp in ["soon", "1763719200.5", "2025-11-21T10:00:00Z", "99999999999999999999"] {
        let result = webhook(SECRET).verify_parts(EVENT_ID, timestamp, &signature, BODY, at(SENT_AT));
        assert!(matches!(result, Err(WebhookError::InvalidTimestamp)), "{timestamp}: {result:?}");
    }
}

#[test]
fn a_genuine_body_that_is_not_an_event_passes_the_signature_but_not_the_parse() {
    let body = br#"{"hello":"world"}"#;
    let signature = webhook(SECRET).sign(EVENT_ID, SENT_AT, body);
    let verifier = webhook(SECRET);
    let timestamp = SENT_AT.to_string();

    assert!(verifier.verify_signature(EVENT_ID, &timestamp, &signature, body, at(SENT_AT)).is_ok());
    let parsed = verifier.verify_parts(EVENT_ID, &timestamp, &signature, body, at(SENT_AT));
    assert!(matches!(parsed, Err(WebhookError::InvalidJson(_))), "{parsed:?}");
}

#[test]
fn an_event_of_a_type_added_later_still_verifies_and_parses() {
    let body = br#"{"id":"evt_9","type":"payment.disputed","timestamp":"2027-01-01T00:00:00.000Z","sequence":9,"new_field":[1,2],"data":{"id":"pay_9","status":"DISPUTED","amount":5,"currency":"JPY","dispute":{"reason":"fraud"}}}"#;
    let signature = webhook(SECRET).sign("evt_9", SENT_AT, body);
    let event = webhook(SECRET).verify_parts("evt_9", &SENT_AT.to_string(), &signature, body, at(SENT_AT)).unwrap();
    assert_eq!(event.event_type, EventType::Other("payment.disputed".into()));
    assert_eq!(event.data.status, PaymentStatus::Other("DISPUTED".into()));
}

#[test]
fn a_secret_that_is_not_whsec_base64_is_refused_up_front() {
    for secret in ["", "whsec_", "sk_test_abc", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_%%%"] {
        assert!(Webhook::new(secret).is_err(), "{secret:?}");
    }
    assert!(Webhook::new(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").is_ok());
}
