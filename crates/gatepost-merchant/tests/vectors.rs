//! Known-answer tests: the published signature vectors (`fixtures/signatures.json`, the
//! same file the gateway's own signing is tested against), in both directions.

use gatepost_merchant::{PaymentStatus, ReturnError, ReturnParams, ReturnVerifier, Webhook, WebhookError};
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Deserialize)]
struct Vectors {
    standard_webhooks_v1: Vec<WebhookVector>,
    standard_webhooks_v1_negative: Vec<NegativeWebhookVector>,
    return_signature_v1: Vec<ReturnVector>,
}

#[derive(Deserialize)]
struct WebhookVector {
    secret: String,
    webhook_id: String,
    webhook_timestamp: i64,
    body: String,
    signature: String,
}

#[derive(Deserialize)]
struct NegativeWebhookVector {
    note: String,
    #[serde(flatten)]
    vector: WebhookVector,
}

#[derive(Deserialize)]
struct ReturnVector {
    secret: String,
    timestamp: i64,
    payment_reference: String,
    payment_status: String,
    merchant_reference: String,
    signature: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("fixtures/signatures.json")).expect("the vectors file parses")
}

fn at(unix_seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds.try_into().unwrap())
}

impl WebhookVector {
    /// Verifies at the vector's own time: its timestamps are years old.
    fn verify(&self, webhook_id: &str, timestamp: &str, body: &[u8], signature: &str) -> Result<(), WebhookError> {
        Webhook::new(&self.secret).unwrap().verify_signature(
            webhook_id,
            timestamp,
            signature,
            body,
            at(self.webhook_timestamp),
        )
    }
}

/// Every string that differs from `text` in exactly one character.
fn one_character_changes(text: &str) -> Vec<String> {
    (0..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .map(|i| {
            let original = text[i..].chars().next().unwrap();
            let replacement = if original == 'A' { 'B' } else { 'A' };
            let mut changed = text.to_owned();
            changed.replace_range(i..i + original.len_utf8(), &replacement.to_string());
            changed
        })
        .collect()
}

#[test]
fn every_webhook_vector_signs_to_its_expected_signature() {
    for v in vectors().standard_webhooks_v1 {
        let webhook = Webhook::new(&v.secret).unwrap();
        assert_eq!(
            webhook.sign(&v.webhook_id, v.webhook_timestamp, v.body.as_bytes()),
            v.signature,
            "{}",
            v.webhook_id
        );
    }
}

#[test]
fn every_webhook_vector_verifies_at_its_own_time() {
    for v in vectors().standard_webhooks_v1 {
        let result = v.verify(&v.webhook_id, &v.webhook_timestamp.to_string(), v.body.as_bytes(), &v.signature);
        assert!(result.is_ok(), "{}: {result:?}", v.webhook_id);
    }
}

#[test]
fn a_one_byte_change_to_any_part_of_a_webhook_vector_is_refused() {
    for v in vectors().standard_webhooks_v1 {
        let timestamp = v.webhook_timestamp.to_string();
        for body in one_character_changes(&v.body) {
            let result = v.verify(&v.webhook_id, &timestamp, body.as_bytes(), &v.signature);
            assert!(matches!(result, Err(WebhookError::NoMatchingSignature)), "body {body}: {result:?}");
        }
        for id in one_character_changes(&v.webhook_id) {
            let result = v.verify(&id, &timestamp, v.body.as_bytes(), &v.signature);
            assert!(matches!(result, Err(WebhookError::NoMatchingSignature)), "id {id}: {result:?}");
        }
        for changed in [v.webhook_timestamp - 1, v.webhook_timestamp + 1] {
            // Within the tolerance of the clock, so only the signature can refuse it.
            let result = Webhook::new(&v.secret).unwrap().verify_signature(
                &v.webhook_id,
                &changed.to_string(),
                &v.signature,
                v.body.as_bytes(),
                at(changed),
            );
            assert!(matches!(result, Err(WebhookError::NoMatchingSignature)), "timestamp {changed}: {result:?}");
        }
        for signature in one_character_changes(&v.signature) {
            let result = v.verify(&v.webhook_id, &timestamp, v.body.as_bytes(), &signature);
            assert!(matches!(result, Err(WebhookError::NoMatchingSignature)), "signature {signature}: {result:?}");
        }
    }
}

#[test]
fn every_negative_webhook_vector_is_refused() {
    let negatives = vectors().standard_webhooks_v1_negative;
    assert!(!negatives.is_empty());
    for n in negatives {
        let v = &n.vector;
        let result = v.verify(&v.webhook_id, &v.webhook_timestamp.to_string(), v.body.as_bytes(), &v.signature);
        assert!(matches!(result, Err(WebhookError::NoMatchingSignature)), "{}: {result:?}", n.note);
    }
}

impl ReturnVector {
    fn params(&self) -> ReturnParams {
        ReturnParams {
            payment_id: self.payment_reference.clone(),
            status: PaymentStatus::from(self.payment_status.as_str()),
            merchant_reference: Some(self.merchant_reference.clone()).filter(|r| !r.is_empty()),
            timestamp: self.timestamp,
        }
    }

    fn verifier(&self) -> ReturnVerifier {
        ReturnVerifier::new(&self.secret).unwrap()
    }

    /// The fields as the gateway sends them: `merchant_reference` only when there is one.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("payment_reference", self.payment_reference.clone()),
            ("payment_status", self.payment_status.clone()),
        ];
        if !self.merchant_reference.is_empty() {
            pairs.push(("merchant_reference", self.merchant_reference.clone()));
        }
        pairs.push(("timestamp", self.timestamp.to_string()));
        pairs.push(("signature", self.signature.clone()));
        pairs
    }
}

fn query(pairs: &[(&str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).finish()
}

#[test]
fn every_return_vector_signs_to_its_expected_signature() {
    for v in vectors().return_signature_v1 {
        assert_eq!(v.verifier().sign(&v.params()), v.signature, "{} {}", v.payment_reference, v.payment_status);
    }
}

#[test]
fn every_return_vector_verifies_from_a_query_string_and_from_form_fields() {
    for v in vectors().return_signature_v1 {
        let from_query = v.verifier().verify_query(&query(&v.pairs()));
        assert_eq!(from_query, Ok(v.params()), "{}", v.payment_status);
        assert_eq!(v.verifier().verify_pairs(v.pairs()), Ok(v.params()), "{}", v.payment_status);
    }
}

#[test]
fn a_return_vector_signed_query_is_exactly_what_the_gateway_appends() {
    for v in vectors().return_signature_v1 {
        assert_eq!(v.verifier().signed_query(&v.params()), query(&v.pairs()));
    }
}

#[test]
fn a_one_character_change_to_any_return_field_is_refused() {
    for v in vectors().return_signature_v1 {
        for (index, (name, value)) in v.pairs().into_iter().enumerate() {
            for changed in one_character_changes(&value) {
                let mut pairs = v.pairs();
                pairs[index].1.clone_from(&changed);
                let result = v.verifier().verify_pairs(pairs);
                let expected = if name == "timestamp" && changed.parse::<i64>().is_err() {
                    ReturnError::InvalidTimestamp
                } else {
                    ReturnError::InvalidSignature
                };
                assert_eq!(result, Err(expected), "{name} = {changed}");
            }
        }
    }
}

#[test]
fn adding_or_removing_the_merchant_reference_breaks_the_signature() {
    for v in vectors().return_signature_v1 {
        let mut pairs = v.pairs();
        if v.merchant_reference.is_empty() {
            pairs.insert(2, ("merchant_reference", "order-1".to_owned()));
        } else {
            pairs.retain(|(name, _)| *name != "merchant_reference");
        }
        assert_eq!(v.verifier().verify_pairs(pairs), Err(ReturnError::InvalidSignature), "{}", v.payment_status);
    }
}

#[test]
fn an_empty_merchant_reference_sent_explicitly_verifies_like_an_absent_one() {
    let v = vectors().return_signature_v1.into_iter().find(|v| v.merchant_reference.is_empty()).unwrap();
    let mut pairs = v.pairs();
    pairs.insert(2, ("merchant_reference", String::new()));
    let params = v.verifier().verify_pairs(pairs).unwrap();
    assert_eq!(params.merchant_reference.as_deref(), Some(""));
}

#[test]
fn a_return_vector_is_refused_with_another_merchants_secret() {
    for v in vectors().return_signature_v1 {
        let other = if v.secret.contains("MfKQ") {
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
        } else {
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        };
        let result = ReturnVerifier::new(other).unwrap().verify_pairs(v.pairs());
        assert_eq!(result, Err(ReturnError::InvalidSignature));
    }
}

/// The kit shares no code with the gateway; on any input the two must still agree.
#[test]
fn the_kit_signs_exactly_as_the_gateway_does() {
    use gatepost_core::signing::{ReturnFields, WebhookSecret};
    for round in 0..20_i64 {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        let body = format!(r#"{{"round":{round},"text":"ünïcode ✓"}}"#);
        let timestamp = 1_763_719_200 + round;
        let gateway = secret.sign_webhook("evt_01JD3Q8V5W7Z2X4Y6A8B0C1D2E", timestamp, body.as_bytes());
        let kit = Webhook::new(&text).unwrap().sign("evt_01JD3Q8V5W7Z2X4Y6A8B0C1D2E", timestamp, body.as_bytes());
        assert_eq!(kit, gateway);

        let reference = if round % 2 == 0 { "" } else { "Bestellung/ä 42" };
        let fields = ReturnFields {
            timestamp,
            payment_reference: "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E",
            payment_status: "SUCCESS",
            merchant_reference: reference,
        };
        let params = ReturnParams {
            payment_id: "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E".into(),
            status: PaymentStatus::Success,
            merchant_reference: Some(reference.to_owned()).filter(|r| !r.is_empty()),
            timestamp,
        };
        assert_eq!(ReturnVerifier::new(&text).unwrap().sign(&params), secret.sign_return(&fields));
    }
}
