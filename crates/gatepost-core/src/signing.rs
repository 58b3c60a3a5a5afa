//! Signatures the merchant verifies: Standard Webhooks 1.0 for webhooks
//! (docs/reference/webhooks.md#signature) and the return-redirect signature
//! (docs/reference/returns.md#signature). Both use the same key: the bytes of the
//! merchant's webhook secret, base64-decoded after `whsec_`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// How long the secret before a rotation keeps signing beside the new one
/// (docs/reference/webhooks.md#secret-rotation).
pub const PREVIOUS_SECRET_SECONDS: i64 = 24 * 3600;

const SECRET_PREFIX: &str = "whsec_";

/// A merchant's webhook signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    // Secrets never reach logs (docs/reference/urls.md#secrets-and-keys), not even through
    // a stray `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A fresh 24-byte secret, the size Standard Webhooks libraries generate.
    #[must_use]
    pub fn generate() -> Self {
        Self { key: crate::ids::random_bytes(24) }
    }

    /// Parses `whsec_<base64>`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(SECRET_PREFIX)?;
        let key = BASE64.decode(encoded).ok()?;
        (!key.is_empty()).then_some(Self { key })
    }

    /// The `whsec_…` form shown to the merchant once.
    #[must_use]
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.key))
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    fn sign(&self, content: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(content);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }

    /// `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` (Standard Webhooks 1.0).
    #[must_use]
    pub fn sign_webhook(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
        self.sign(&webhook_content(webhook_id, timestamp, body))
    }

    /// Whether one of the space-separated `v1,` signatures in `header` is ours for this
    /// message, compared in constant time.
    #[must_use]
    pub fn verify_webhook(&self, webhook_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let content = webhook_content(webhook_id, timestamp, body);
        header.split(' ').any(|candidate| self.verify(&content, candidate))
    }

    /// The return-redirect signature (docs/reference/returns.md#signature) over
    /// `"{timestamp}.{payment_reference}.{payment_status}.{merchant_reference}"`.
    #[must_use]
    pub fn sign_return(&self, fields: &ReturnFields<'_>) -> String {
        self.sign(fields.content().as_bytes())
    }

    #[must_use]
    pub fn verify_return(&self, fields: &ReturnFields<'_>, signature: &str) -> bool {
        self.verify(fields.content().as_bytes(), signature)
    }

    fn verify(&self, content: &[u8], signature: &str) -> bool {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = BASE64.decode(encoded) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(content);
        mac.verify_slice(&expected).is_ok()
    }
}

fn webhook_content(webhook_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{webhook_id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}

/// The signed fields of a return redirect (docs/reference/returns.md#parameters).
#[derive(Clone, Copy, Debug)]
pub struct ReturnFields<'a> {
    pub timestamp: i64,
    pub payment_reference: &'a str,
    pub payment_status: &'a str,
    /// Empty when the payment has no merchant reference.
    pub merchant_reference: &'a str,
}

impl ReturnFields<'_> {
    fn content(&self) -> String {
        format!("{}.{}.{}.{}", self.timestamp, self.payment_reference, self.payment_status, self.merchant_reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_through_their_whsec_form() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text), Some(secret));
        assert_eq!(WebhookSecret::parse("whsec_"), None);
        assert_eq!(WebhookSecret::parse("sk_test_abc"), None);
    }

    #[test]
    fn debug_output_hides_the_key() {
        let secret = WebhookSecret::generate();
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
    }

    #[test]
    fn a_rotation_header_with_two_signatures_verifies_with_either_secret() {
        let old = WebhookSecret::generate();
        let new = WebhookSecret::generate();
        let header = format!(
            "{} {}",
            new.sign_webhook("evt_1", 1_700_000_000, b"{}"),
            old.sign_webhook("evt_1", 1_700_000_000, b"{}")
        );
        assert!(old.verify_webhook("evt_1", 1_700_000_000, b"{}", &header));
        assert!(new.verify_webhook("evt_1", 1_700_000_000, b"{}", &header));
        assert!(!WebhookSecret::generate().verify_webhook("evt_1", 1_700_000_000, b"{}", &header));
    }

    proptest::proptest! {
        #[test]
        fn any_secret_text_or_signature_header_is_refused_without_panic(
            text in "\\PC{0,60}|whsec_[A-Za-z0-9+/=]{0,50}",
            header in "\\PC{0,120}|(v1,[A-Za-z0-9+/=]{0,50} ?){0,3}",
            timestamp in proptest::num::i64::ANY,
        ) {
            let _ = WebhookSecret::parse(&text);
            let secret = WebhookSecret::generate();
            let verified = secret.verify_webhook("evt_1", timestamp, b"{}", &header);
            proptest::prop_assert!(!verified);
        }

        #[test]
        fn a_webhook_signature_verifies_its_own_message_only(
            id in "evt_[A-Za-z0-9]{1,26}",
            timestamp in 0i64..4_102_444_800,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
        ) {
            let secret = WebhookSecret::generate();
            let header = secret.sign_webhook(&id, timestamp, &body);
            proptest::prop_assert!(secret.verify_webhook(&id, timestamp, &body, &header));
            proptest::prop_assert!(!secret.verify_webhook(&id, timestamp + 1, &body, &header));
            proptest::prop_assert!(!WebhookSecret::generate().verify_webhook(&id, timestamp, &body, &header));
        }
    }
}
