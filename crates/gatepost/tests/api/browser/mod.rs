//! The hosted payment page in a real browser: headless Chromium driven over WebDriver.
//!
//! Each test has its own gateway (on SQLite: the page, not the database, is under test),
//! its own merchant return page ([`MerchantReceiver`]) and its own chromedriver and
//! Chromium ([`Browser`]). The browser clicks and types like a shopper, so these tests see
//! what HTTP-level tests cannot: the redirects followed, the form's own buttons
//! (`formaction`, `formnovalidate`), and the nonce'd script running under the page's
//! Content-Security-Policy. `.config/nextest.toml` runs them one at a time.
//!
//! The browser comes from the `gatepost-browser` test crate, which the example shop's
//! tests use too; it needs `chromedriver` and Chromium (`scripts/test` installs both).

mod merchant;

mod checkout;
mod dashboard;
mod layout;
mod return_post;
mod three_ds;

use gatepost_browser::{Browser, in_browser};
use gatepost_core::signing::{ReturnFields, WebhookSecret};
use gatepost_testkit::TestApp;
use merchant::{MerchantReceiver, ReceivedReturn};

/// Checks a return's parameters (docs/reference/returns.md#parameters) and that its
/// signature verifies with the merchant's webhook secret, and fails for any other status.
fn assert_signed_return(
    app: &TestApp,
    received: &ReceivedReturn,
    payment_id: &str,
    status: &str,
    reference: Option<&str>,
) {
    assert_eq!(received.param("payment_reference"), payment_id);
    assert_eq!(received.param("payment_status"), status);
    match reference {
        Some(reference) => assert_eq!(received.param("merchant_reference"), reference),
        None => assert!(
            received.params().iter().all(|(k, _)| k != "merchant_reference"),
            "no merchant_reference without a reference: {received:?}"
        ),
    }
    let timestamp: i64 = received.param("timestamp").parse().expect("unix seconds");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!((i64::try_from(now).unwrap() - timestamp).abs() < 60, "a current timestamp: {timestamp}");
    let secret = WebhookSecret::parse(&app.merchant.webhook_secret).expect("webhook secret");
    let signature = received.param("signature");
    let fields = ReturnFields {
        timestamp,
        payment_reference: payment_id,
        payment_status: status,
        merchant_reference: reference.unwrap_or_default(),
    };
    assert!(secret.verify_return(&fields, signature), "the signature verifies: {received:?}");
    for other in ["SUCCESS", "FAILED", "CANCELLED"] {
        if other != status {
            let forged = ReturnFields { payment_status: other, ..fields };
            assert!(!secret.verify_return(&forged, signature), "{other} does not verify");
        }
    }
}
