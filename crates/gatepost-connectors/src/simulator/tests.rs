//! Callback verification and parsing; the calls to a running simulator are tested in
//! `gatepost-acquirer-sim`, against the real server.

use super::*;
use gatepost_core::ids::{AttemptId, RefundId};

const SECRET: &str = "S";
const NOW: i64 = 1_800_000_000;

/// The library leaves the choice of TLS provider to the process; each test is one.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn simulator() -> Simulator {
    install_crypto_provider();
    Simulator::new(SimulatorSettings {
        url: "http://127.0.0.1:9".to_owned(),
        secret: SECRET.to_owned(),
        poll_after: Duration::from_secs(30),
        timeout: Duration::from_secs(1),
    })
}

fn signed(secret: &str, at: i64, body: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let signature = SharedSecret::new(secret).sign(at, "POST", protocol::CALLBACK_PATH, body.as_bytes());
    headers.insert(protocol::SIGNATURE_HEADER, signature.parse().unwrap());
    headers
}

fn parse(headers: &http::HeaderMap, body: &str) -> Result<Callback, CallbackError> {
    simulator().parse_callback(headers, body.as_bytes(), Timestamp::from_millis(NOW * 1000))
}

const DECLINED: &str = r#"{"id":"simevt_1","object":"authorization","attempt_id":"att_1","reference":"sim_auth_1",
    "status":"declined","code":"card_declined","message":"Your card was declined."}"#;

#[test]
fn a_signed_callback_names_the_attempt_and_its_outcome() {
    let callback = parse(&signed(SECRET, NOW, DECLINED), DECLINED).unwrap();
    assert_eq!(callback.id, "simevt_1");
    assert_eq!(
        callback.subject,
        CallbackSubject::Attempt {
            attempt_id: AttemptId::parse("att_1").unwrap(),
            reference: "sim_auth_1".to_owned(),
            outcome: Outcome::Declined {
                code: "card_declined".to_owned(),
                message: "Your card was declined.".to_owned()
            },
        }
    );
}

#[test]
fn a_pending_callback_is_a_pending_outcome() {
    let body = r#"{"id":"simevt_2","object":"authorization","attempt_id":"att_1","reference":"r","status":"pending"}"#;
    let callback = parse(&signed(SECRET, NOW, body), body).unwrap();
    assert!(matches!(callback.subject, CallbackSubject::Attempt { outcome: Outcome::Pending, .. }));
    let body = r#"{"id":"simevt_3","object":"refund","refund_id":"ref_1","reference":"r","status":"pending"}"#;
    let callback = parse(&signed(SECRET, NOW, body), body).unwrap();
    assert_eq!(
        callback.subject,
        CallbackSubject::Refund {
            refund_id: RefundId::parse("ref_1").unwrap(),
            reference: "r".to_owned(),
            outcome: RefundOutcome::Pending,
        }
    );
}

#[test]
fn unsigned_wrongly_signed_or_old_callbacks_are_refused() {
    let bad = |headers: http::HeaderMap| matches!(parse(&headers, DECLINED), Err(CallbackError::BadSignature));
    assert!(bad(http::HeaderMap::new()), "no signature");
    assert!(bad(signed("not-the-secret", NOW, DECLINED)), "another secret");
    assert!(bad(signed(SECRET, NOW - 301, DECLINED)), "older than five minutes");
    assert!(bad(signed(SECRET, NOW, r#"{"id":"simevt_1"}"#)), "signed for another body");
}

#[test]
fn a_signed_callback_with_the_wrong_shape_is_malformed() {
    for body in [
        "not json",
        r#"{"id":"simevt_1","object":"authorization","attempt_id":"att_1","reference":"r","status":"declined"}"#,
        r#"{"id":"simevt_1","object":"charge","attempt_id":"att_1","reference":"r","status":"approved"}"#,
        r#"{"id":"simevt_1","object":"authorization","attempt_id":"pay_1","reference":"r","status":"approved"}"#,
        r#"{"id":"simevt_1","object":"authorization","attempt_id":"att_1","reference":"r","status":"challenge_required"}"#,
        r#"{"id":"","object":"refund","refund_id":"ref_1","reference":"r","status":"succeeded"}"#,
    ] {
        assert!(matches!(parse(&signed(SECRET, NOW, body), body), Err(CallbackError::Malformed(_))), "{body}");
    }
}

#[test]
fn settings_and_connector_never_show_the_secret() {
    install_crypto_provider();
    let settings = SimulatorSettings {
        url: "http://sim".to_owned(),
        secret: "very-secret".to_owned(),
        poll_after: Duration::from_secs(30),
        timeout: Duration::from_secs(1),
    };
    assert!(!format!("{settings:?}").contains("very-secret"));
    assert!(!format!("{:?}", Simulator::new(settings)).contains("very-secret"));
}

#[tokio::test]
async fn a_reference_the_simulator_cannot_have_made_is_refused_before_sending() {
    let error = simulator().poll("../admin").await.unwrap_err();
    assert!(matches!(error, ConnectorError::Protocol(_)), "{error}");
}

#[tokio::test]
async fn an_unreachable_simulator_is_unavailable() {
    // Port 9 (discard) on loopback has nothing listening: the connection is refused.
    let error = simulator().poll("sim_auth_1").await.unwrap_err();
    assert!(matches!(error, ConnectorError::Unavailable(_)), "{error}");
}

proptest::proptest! {
    /// Whatever a well-signed callback carries, it is parsed or refused as malformed; the
    /// ids it names can only be ids (no control characters reach the store).
    #[test]
    fn any_signed_callback_body_is_parsed_or_refused_without_panic(
        body in "\\PC{0,200}|\\{\"id\":\"[^\"]{0,12}\",\"object\":\"(authorization|refund)\",\"(attempt|refund)_id\":\"[^\"]{0,12}\",\"reference\":\"[^\"]{0,12}\",\"status\":\"[a-z_]{0,12}\"\\}",
    ) {
        if let Ok(callback) = parse(&signed(SECRET, NOW, &body), &body) {
            let named = match callback.subject {
                CallbackSubject::Attempt { attempt_id, .. } => attempt_id.to_string(),
                CallbackSubject::Refund { refund_id, .. } => refund_id.to_string(),
            };
            proptest::prop_assert!(named.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        }
    }
}
