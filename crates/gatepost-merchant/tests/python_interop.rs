//! Interoperability with the official Standard Webhooks Python library (PyPI
//! `standardwebhooks`, installed into `.venv` at the workspace root by `scripts/test`):
//! the kit verifies what it signs, and it verifies what the kit signs.

use gatepost_merchant::{Webhook, WebhookError};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

const SECRETS: [&str; 2] = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"];

const BODIES: [&str; 3] = [
    r#"{"id":"evt_1","type":"payment.succeeded","timestamp":"2026-11-21T10:00:00.123Z","sequence":1,"data":{"id":"pay_1","status":"SUCCESS","amount":1050,"currency":"EUR","reference":"Bestellung/ä 42"}}"#,
    r#"{"test": 2432232314}"#,
    "{\n  \"spaced\" : [1, 2, 3],\n  \"emoji\": \"☕\"\n}",
];

use gatepost_testkit::receiver::python;

/// Signs each message with Python's `Webhook.sign` and returns the signatures.
fn python_signs(messages: &[Value]) -> Vec<String> {
    let script = r#"
import json, sys
from datetime import datetime, timezone
from standardwebhooks.webhooks import Webhook
for m in json.load(sys.stdin):
    print(Webhook(m["secret"]).sign(m["id"], datetime.fromtimestamp(m["timestamp"], tz=timezone.utc), m["body"]))
"#;
    python(script, &Value::from(messages.to_vec())).lines().map(str::to_owned).collect()
}

/// Verifies each delivery with Python's `Webhook.verify`; `true` where it verified.
fn python_verifies(deliveries: &[Value]) -> Vec<bool> {
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
for d in json.load(sys.stdin):
    try:
        Webhook(d["secret"]).verify(d["body"], d["headers"], json_parse=False)
        print("verified")
    except Exception as error:
        print("rejected:", type(error).__name__, error)
"#;
    let said = python(script, &Value::from(deliveries.to_vec()));
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), deliveries.len(), "python said: {said}");
    lines
        .iter()
        .map(|line| {
            assert!(line.starts_with("verified") || line.starts_with("rejected"), "python said: {line}");
            line.starts_with("verified")
        })
        .collect()
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().try_into().unwrap()
}

fn delivery(secret: &str, id: &str, timestamp: i64, signature: &str, body: &str) -> Value {
    json!({
        "secret": secret,
        "body": body,
        "headers": {"webhook-id": id, "webhook-timestamp": timestamp.to_string(), "webhook-signature": signature},
    })
}

#[test]
fn the_kit_verifies_what_python_signs() {
    let now = unix_now();
    let mut messages = Vec::new();
    for secret in SECRETS {
        for (n, body) in BODIES.iter().enumerate() {
            messages.push(json!({"secret": secret, "id": format!("msg_{n}"), "timestamp": now, "body": body}));
        }
    }

    let signatures = python_signs(&messages);

    assert_eq!(signatures.len(), messages.len());
    for (message, signature) in messages.iter().zip(&signatures) {
        let webhook = Webhook::new(message["secret"].as_str().unwrap()).unwrap();
        let (id, body) = (message["id"].as_str().unwrap(), message["body"].as_str().unwrap());
        let timestamp = now.to_string();
        let headers = [("webhook-id", id), ("webhook-timestamp", timestamp.as_str()), ("webhook-signature", signature)];
        let verified = webhook.verify_signature(id, &timestamp, signature, body.as_bytes(), SystemTime::now());
        assert!(verified.is_ok(), "{message}: {verified:?}");
        assert_eq!(&webhook.sign(id, now, body.as_bytes()), signature, "the same signature, byte for byte");
        if body.contains("payment.succeeded") {
            assert_eq!(webhook.verify(&headers, body.as_bytes()).unwrap().data.id, "pay_1");
        }
        let tampered = body.replacen('1', "2", 1);
        let refused = webhook.verify_signature(id, &timestamp, signature, tampered.as_bytes(), SystemTime::now());
        assert!(matches!(refused, Err(WebhookError::NoMatchingSignature)), "{message}: {refused:?}");
    }
}

#[test]
fn python_verifies_what_the_kit_signs_and_refuses_what_was_tampered_with() {
    let now = unix_now();
    let mut deliveries = Vec::new();
    let mut expected = Vec::new();
    for secret in SECRETS {
        let webhook = Webhook::new(secret).unwrap();
        for (n, body) in BODIES.iter().enumerate() {
            let id = format!("evt_{n}");
            let signature = webhook.sign(&id, now, body.as_bytes());
            deliveries.push(delivery(secret, &id, now, &signature, body));
            expected.push(true);
            // Controls: the same signature over other bytes, or under another id.
            deliveries.push(delivery(secret, &id, now, &signature, &body.replacen('1', "2", 1)));
            expected.push(false);
            deliveries.push(delivery(secret, "evt_other", now, &signature, body));
            expected.push(false);
        }
    }

    assert_eq!(python_verifies(&deliveries), expected);
}

#[test]
fn python_verifies_a_rotation_header_the_kit_builds_with_either_secret() {
    let now = unix_now();
    let body = BODIES[0];
    let signatures: Vec<String> =
        SECRETS.iter().map(|s| Webhook::new(s).unwrap().sign("evt_1", now, body.as_bytes())).collect();
    let header = signatures.join(" ");
    let deliveries: Vec<Value> = SECRETS
        .iter()
        .map(|secret| delivery(secret, "evt_1", now, &header, body))
        .chain([delivery("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "evt_1", now, &header, body)])
        .collect();

    assert_eq!(python_verifies(&deliveries), [true, true, false]);
}
