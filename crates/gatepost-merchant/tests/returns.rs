//! Return verification as a merchant's return page meets it: GET queries with the
//! shop's own parameters, POST forms, replays, and parameters slipped in twice.

use gatepost_merchant::{PaymentStatus, ReturnError, ReturnParams, ReturnVerifier};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SENT_AT: i64 = 1_763_719_200;

fn verifier() -> ReturnVerifier {
    ReturnVerifier::new(SECRET).unwrap()
}

fn at(unix_seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds.try_into().unwrap())
}

fn params() -> ReturnParams {
    ReturnParams {
        payment_id: "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E".into(),
        status: PaymentStatus::Success,
        merchant_reference: Some("order-1234".into()),
        timestamp: SENT_AT,
    }
}

#[test]
fn a_return_url_with_the_shops_own_query_and_a_fragment_verifies() {
    let url = format!(
        "https://shop.example/orders/1234/return?lang=de&step=2&{}#summary",
        verifier().signed_query(&params())
    );
    assert_eq!(verifier().verify_query(&url), Ok(params()));
    let query_only = format!("?{}", verifier().signed_query(&params()));
    assert_eq!(verifier().verify_query(&query_only), Ok(params()));
}

#[test]
fn the_fields_of_a_post_return_verify_as_pairs() {
    // A form body as the browser posts it, decoded by the shop's framework.
    let body = verifier().signed_query(&params());
    let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    assert_eq!(verifier().verify_pairs(fields), Ok(params()));
}

#[test]
fn a_signed_parameter_given_twice_is_refused_even_when_one_copy_is_genuine() {
    let genuine = verifier().signed_query(&params());
    for name in ["payment_reference", "payment_status", "merchant_reference", "timestamp", "signature"] {
        let polluted = format!("{genuine}&{name}=FAILED");
        assert_eq!(verifier().verify_query(&polluted), Err(ReturnError::RepeatedParameter(name)), "{name}");
        let polluted_first = format!("{name}=FAILED&{genuine}");
        assert_eq!(verifier().verify_query(&polluted_first), Err(ReturnError::RepeatedParameter(name)), "{name}");
    }
}

#[test]
fn each_missing_required_parameter_is_named() {
    let genuine = verifier().signed_query(&params());
    for name in ["payment_reference", "payment_status", "timestamp", "signature"] {
        let without: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form_urlencoded::parse(genuine.as_bytes()).filter(|(n, _)| n != name))
            .finish();
        assert_eq!(verifier().verify_query(&without), Err(ReturnError::MissingParameter(name)), "{name}");
        let emptied = genuine.replace(&format!("{name}="), &format!("{name}=&ignored="));
        assert_eq!(verifier().verify_query(&emptied), Err(ReturnError::MissingParameter(name)), "{name}");
    }
}

#[test]
fn a_changed_status_is_refused() {
    let genuine = verifier().signed_query(&params());
    let upgraded = genuine.replace("payment_status=SUCCESS", "payment_status=FAILED");
    assert_ne!(upgraded, genuine);
    assert_eq!(verifier().verify_query(&upgraded), Err(ReturnError::InvalidSignature));
}

#[test]
fn another_merchants_secret_does_not_verify() {
    let other = ReturnVerifier::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    assert_eq!(other.verify_query(&verifier().signed_query(&params())), Err(ReturnError::InvalidSignature));
}

#[test]
fn without_a_maximum_age_an_old_return_still_verifies() {
    let old = ReturnParams { timestamp: 1_000_000_000, ..params() };
    assert_eq!(verifier().verify_query(&verifier().signed_query(&old)), Ok(old));
}

#[test]
fn with_a_maximum_age_a_return_exactly_that_old_is_accepted_and_one_second_older_refused() {
    let verifier = verifier().with_max_age(Duration::from_secs(3600));
    let query = verifier.signed_query(&params());
    assert_eq!(verifier.verify_query_at(&query, at(SENT_AT + 3600)), Ok(params()));
    assert_eq!(verifier.verify_query_at(&query, at(SENT_AT + 3601)), Err(ReturnError::TooOld));
}

#[test]
fn with_a_maximum_age_a_return_from_more_than_five_minutes_ahead_is_refused() {
    let verifier = verifier().with_max_age(Duration::from_secs(3600));
    let query = verifier.signed_query(&params());
    assert_eq!(verifier.verify_query_at(&query, at(SENT_AT - 300)), Ok(params()));
    assert_eq!(verifier.verify_query_at(&query, at(SENT_AT - 301)), Err(ReturnError::TooNew));
}

#[test]
fn a_bad_signature_is_reported_before_the_age() {
    let verifier = verifier().with_max_age(Duration::from_secs(60));
    let forged = verifier.signed_query(&params()).replace("order-1234", "order-9999");
    assert_eq!(verifier.verify_query_at(&forged, at(SENT_AT + 3600)), Err(ReturnError::InvalidSignature));
}

#[test]
fn a_timestamp_that_is_not_unix_seconds_is_refused() {
    let query = verifier().signed_query(&params()).replace(&SENT_AT.to_string(), "yesterday");
    assert_eq!(verifier().verify_query(&query), Err(ReturnError::InvalidTimestamp));
}

#[test]
fn a_status_added_later_is_kept_when_genuine() {
    let future = ReturnParams { status: PaymentStatus::Other("PARTIALLY_PAID".into()), ..params() };
    let verified = verifier().verify_query(&verifier().signed_query(&future)).unwrap();
    assert_eq!(verified.status, PaymentStatus::Other("PARTIALLY_PAID".into()));
}
