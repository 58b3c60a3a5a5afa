//! Signatures from outside: webhook secrets and signature headers, and the simulator's
//! signature header, are judged without panic; a forged one never verifies.
#![no_main]

use gatepost_connectors::simulator::protocol::SharedSecret;
use gatepost_core::signing::WebhookSecret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, i64, &[u8])| {
    let (secret_text, header, timestamp, body) = input;
    let _ = WebhookSecret::parse(secret_text);
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a valid secret");
    assert!(!secret.verify_webhook("evt_1", timestamp, body, header));
    let shared = SharedSecret::new("fuzz");
    assert!(shared.verify(Some(header), "POST", "/callbacks/simulator", body, timestamp).is_err());
});
