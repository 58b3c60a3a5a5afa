//! Opaque identifiers with a type prefix (docs/reference/api.md#identifiers) and random secrets.
//!
//! Identifiers are ULIDs behind their prefix: unguessable enough to be opaque, and
//! ordered by creation time so that "newest first" is "largest id first".

use rand::RngExt as _;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this type starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            #[must_use]
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, ulid::Ulid::generate()))
            }

            /// Accepts the prefix followed by 1 to 64 ASCII letters and digits: ids are
            /// opaque, and one that does not exist is a 404, not a validation error; but
            /// nothing else (control characters, other scripts) can be an id.
            #[must_use]
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                let valid = (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric());
                valid.then(|| Self(s.to_owned()))
            }

            /// The smallest id that [`Self::generate`] can make at `at`: ids sort by the time
            /// they were made, so "made since `at`" is "at least this id", which an index
            /// on the id answers.
            #[must_use]
            pub fn first_at(at: crate::time::Timestamp) -> Self {
                let millis = u64::try_from(at.millis()).unwrap_or(0);
                Self(format!("{}{}", $prefix, ulid::Ulid::from_parts(millis, 0)))
            }

            /// Wraps an id read back from storage, where it was written by [`Self::generate`].
            #[must_use]
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(/// A merchant account.
    MerchantId, "mer_");
prefixed_id!(/// A payment.
    PaymentId, "pay_");
prefixed_id!(/// One try to pay a payment with a card.
    AttemptId, "att_");
prefixed_id!(/// A webhook event.
    EventId, "evt_");
prefixed_id!(/// One delivery attempt of an event.
    DeliveryId, "del_");
prefixed_id!(/// A refund.
    RefundId, "ref_");
prefixed_id!(/// A merchant's webhook endpoint.
    WebhookEndpointId, "we_");
prefixed_id!(/// A person who signs in to a merchant's dashboard.
    UserId, "usr_");
prefixed_id!(/// One of a merchant's API keys, named without its secret.
    ApiKeyId, "key_");
prefixed_id!(/// One entry of a merchant's audit log.
    AuditId, "aud_");

/// `n` random bytes from the operating system's CSPRNG, URL-safe base64 without padding.
#[must_use]
pub fn random_token(n: usize) -> String {
    use base64::Engine as _;
    let mut bytes = vec![0u8; n];
    rand::rng().fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `n` random bytes, standard base64: the encoding of webhook secrets.
#[must_use]
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rng().fill(&mut bytes[..]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_since_a_time_sort_at_or_after_its_first_id() {
        let before = PaymentId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let now = crate::time::Timestamp::from_millis(
            i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis())
                .unwrap(),
        );
        let first = PaymentId::first_at(now);
        let after = PaymentId::generate();
        assert!(before < first && first <= after, "{before} {first} {after}");
        assert_eq!(PaymentId::parse(first.as_str()), Some(first));
    }

    #[test]
    fn generated_ids_carry_their_prefix_and_sort_by_creation() {
        let first = PaymentId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = PaymentId::generate();
        assert!(first.as_str().starts_with("pay_"));
        assert_eq!(first.as_str().len(), 4 + 26);
        assert!(second > first);
    }

    #[test]
    fn parse_rejects_ids_of_another_type() {
        assert!(PaymentId::parse("evt_123").is_none());
        assert!(PaymentId::parse("pay_123").is_some());
        for bad in ["pay_", "pay_1\0", "pay_é", "pay_a-b", &format!("pay_{}", "1".repeat(65))] {
            assert!(PaymentId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn random_tokens_are_long_enough_to_be_unguessable() {
        let token = random_token(24);
        assert_eq!(token.len(), 32);
        assert_ne!(token, random_token(24));
    }
}
