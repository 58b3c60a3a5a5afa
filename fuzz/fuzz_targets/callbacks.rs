//! Provider callbacks: any body, even correctly signed, is parsed or refused as malformed.
#![no_main]

use gatepost_connectors::Connector;
use gatepost_connectors::simulator::protocol::{CALLBACK_PATH, SIGNATURE_HEADER, SharedSecret};
use gatepost_connectors::simulator::{Simulator, SimulatorSettings};
use gatepost_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use std::time::Duration;

const NOW: i64 = 1_800_000_000;

static SIMULATOR: LazyLock<Simulator> = LazyLock::new(|| {
    // The connector's HTTP client takes TLS from the process, as in the gateway's binary.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Simulator::new(SimulatorSettings {
        url: "http://127.0.0.1:9".to_owned(),
        secret: "fuzz".to_owned(),
        poll_after: Duration::from_secs(30),
        timeout: Duration::from_secs(1),
    })
});

fuzz_target!(|body: &[u8]| {
    let mut headers = http::HeaderMap::new();
    let signature = SharedSecret::new("fuzz").sign(NOW, "POST", CALLBACK_PATH, body);
    headers.insert(SIGNATURE_HEADER, signature.parse().expect("a signature is a header value"));
    let _ = SIMULATOR.parse_callback(&headers, body, Timestamp::from_millis(NOW * 1000));
});
