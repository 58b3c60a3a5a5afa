//! The signing key both channels use: the bytes of the merchant's webhook secret,
//! base64-decoded after `whsec_` (docs/reference/webhooks.md#signature,
//! docs/reference/returns.md#signature).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, STANDARD_PAD_INDIFFERENT};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

const SECRET_PREFIX: &str = "whsec_";

/// The text given as a webhook secret is not `whsec_` followed by base64.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{InvalidSecret, Webhook};
///
/// let error: InvalidSecret = Webhook::new("sk_test_not_a_webhook_secret").unwrap_err();
/// assert!(error.to_string().contains("whsec_"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64, as `gatepost merchant create` prints it")]
pub struct InvalidSecret;

/// An HMAC-SHA256 key. Its bytes never reach a log, not even through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// Parses `whsec_<base64>`; the prefix is required so that an API key or a
    /// truncated secret given by mistake is caught here rather than as a bad signature.
    /// Padding is optional, as in the Standard Webhooks reference libraries.
    pub(crate) fn parse(secret: &str) -> Result<Self, InvalidSecret> {
        let encoded = secret.trim().strip_prefix(SECRET_PREFIX).ok_or(InvalidSecret)?;
        let key = STANDARD_PAD_INDIFFERENT.decode(encoded).map_err(|_| InvalidSecret)?;
        Self::from_bytes(&key)
    }

    pub(crate) fn from_bytes(key: &[u8]) -> Result<Self, InvalidSecret> {
        if key.is_empty() { Err(InvalidSecret) } else { Ok(Self(key.to_vec())) }
    }

    fn mac(&self, content: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        for part in content {
            mac.update(part);
        }
        mac
    }

    /// `v1,<base64 HMAC-SHA256 of the concatenated parts>`.
    pub(crate) fn sign(&self, content: &[&[u8]]) -> String {
        format!("v1,{}", BASE64.encode(self.mac(content).finalize().into_bytes()))
    }

    /// Whether one `v1,<base64>` signature matches, compared in constant time.
    pub(crate) fn verify(&self, content: &[&[u8]], signature: &str) -> bool {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = BASE64.decode(encoded) else {
            return false;
        };
        self.mac(content).verify_slice(&expected).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whsec_secrets_with_a_non_empty_base64_key_parse() {
        assert!(Key::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        assert_eq!(Key::parse("whsec_AQID"), Key::parse("whsec_AQID\n"));
        // 32 zero bytes: written with or without its padding, the same key.
        assert_eq!(Key::parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), Key::from_bytes(&[0; 32]));
        assert_eq!(Key::parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), Key::from_bytes(&[0; 32]));
        assert_eq!(Key::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Err(InvalidSecret));
        assert_eq!(Key::parse("whsec_"), Err(InvalidSecret));
        assert_eq!(Key::parse("whsec_not base64!"), Err(InvalidSecret));
        assert_eq!(Key::parse("sk_test_abc"), Err(InvalidSecret));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = Key::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(format!("{key:?}"), "Key(…)");
    }

    #[test]
    fn a_signature_of_another_version_or_not_base64_never_matches() {
        let key = Key::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = key.sign(&[b"hello"]);
        assert!(key.verify(&[b"hello"], &signature));
        assert!(key.verify(&[b"hel", b"lo"], &signature));
        assert!(!key.verify(&[b"hello"], &signature.replacen("v1,", "v2,", 1)));
        assert!(!key.verify(&[b"hello"], "v1,!!!"));
        assert!(!key.verify(&[b"hello"], "v1,"));
    }
}
