//! The payment and the merchant as the rest of gatepost sees them.
//!
//! [`Payment`] serializes to exactly the payment object of
//! docs/reference/payments.md#the-payment-object: the API answers with it and every webhook
//! event carries it as `data`.

use crate::ids::{AttemptId, EventId, MerchantId, PaymentId, RefundId};
use crate::money::{Amount, Currency};
use crate::status::{EventType, PaymentStatus};
use crate::time::Timestamp;
use crate::urls::{ReturnUrl, WebhookUrl};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// When the funds are taken (docs/reference/payments.md#capture).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum CaptureMode {
    Automatic,
    Manual,
}

/// How the shopper's browser is sent back (docs/reference/returns.md#get-and-post).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "UPPERCASE")]
pub enum ReturnMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
}

/// The shopper, as the merchant describes them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Per-outcome return URLs; each falls back to `return_url` (docs/reference/returns.md#which-url).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReturnUrls {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri"))]
    pub success: Option<ReturnUrl>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri"))]
    pub decline: Option<ReturnUrl>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri"))]
    pub cancel: Option<ReturnUrl>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri"))]
    pub pending: Option<ReturnUrl>,
}

impl Serialize for ReturnUrls {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entries = [
            ("success", &self.success),
            ("decline", &self.decline),
            ("cancel", &self.cancel),
            ("pending", &self.pending),
        ];
        serializer
            .collect_map(entries.into_iter().filter_map(|(name, url)| url.as_ref().map(|url| (name, url.as_str()))))
    }
}

/// A validated request to create a payment; every field already obeys
/// docs/reference/payments.md#creating-a-payment.
#[derive(Clone, Debug)]
pub struct NewPayment {
    pub amount: Amount,
    pub reference: Option<String>,
    pub description: Option<String>,
    pub customer: Option<Customer>,
    pub capture: CaptureMode,
    pub return_url: Option<ReturnUrl>,
    pub return_urls: ReturnUrls,
    pub return_method: ReturnMethod,
    pub webhook_url: Option<WebhookUrl>,
    pub max_attempts: u8,
    pub expires_in_seconds: i64,
    pub metadata: BTreeMap<String, String>,
}

/// Card attempts a payment allows when the request names no `max_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u8 = 3;
/// Seconds until a payment expires when the request names no `expires_in`.
pub const DEFAULT_EXPIRES_IN_SECONDS: i64 = 3600;

impl NewPayment {
    /// A request that gives only its amount: every other field as the API defaults it.
    #[must_use]
    pub fn of(amount: Amount) -> Self {
        Self {
            amount,
            reference: None,
            description: None,
            customer: None,
            capture: CaptureMode::Automatic,
            return_url: None,
            return_urls: ReturnUrls::default(),
            return_method: ReturnMethod::Get,
            webhook_url: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            expires_in_seconds: DEFAULT_EXPIRES_IN_SECONDS,
            metadata: BTreeMap::new(),
        }
    }
}

/// A payment with its attempts and refunds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Payment {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E"))]
    pub id: PaymentId,
    /// Always `"payment"`: lets a client tell objects apart in mixed lists.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "payment"))]
    pub object: &'static str,
    #[serde(skip)]
    pub merchant_id: MerchantId,
    pub status: PaymentStatus,
    pub amount: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub reference: Option<String>,
    pub description: Option<String>,
    pub customer: Option<Customer>,
    pub metadata: BTreeMap<String, String>,
    pub capture: CaptureMode,
    pub max_attempts: u8,
    pub attempts_remaining: u8,
    pub checkout_url: String,
    /// The secret part of `checkout_url`; the hosted page looks payments up by it.
    #[serde(skip)]
    pub checkout_token: String,
    #[serde(serialize_with = "serialize_optional_url")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri"))]
    pub return_url: Option<ReturnUrl>,
    pub return_urls: ReturnUrls,
    pub return_method: ReturnMethod,
    #[serde(serialize_with = "serialize_optional_webhook_url")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri"))]
    pub webhook_url: Option<WebhookUrl>,
    pub attempts: Vec<Attempt>,
    pub refunds: Vec<Refund>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
    pub livemode: bool,
    /// The `sequence` of the newest event of this payment
    /// (docs/reference/webhooks.md#body); 0 before the first.
    #[serde(skip)]
    pub event_sequence: i64,
    /// The hosted page's single-use form token
    /// (docs/reference/hosted-page.md#single-use-forms); replaced when an attempt starts.
    #[serde(skip)]
    pub form_token: String,
    /// When an `AUTHORIZED` payment expires if it is not captured (7 days:
    /// docs/reference/payments.md#capture-window).
    #[serde(skip)]
    pub capture_before: Option<Timestamp>,
}

fn serialize_optional_url<S: Serializer>(url: &Option<ReturnUrl>, s: S) -> Result<S::Ok, S::Error> {
    url.as_ref().map(ReturnUrl::as_str).serialize(s)
}

fn serialize_optional_webhook_url<S: Serializer>(url: &Option<WebhookUrl>, s: S) -> Result<S::Ok, S::Error> {
    url.as_ref().map(WebhookUrl::as_str).serialize(s)
}

/// Where one card attempt stands (docs/reference/payments.md#attempts).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum AttemptStatus {
    Succeeded,
    Declined,
    Error,
    /// Waiting for the acquirer (or just started and not answered yet).
    Pending,
    /// Waiting for the shopper's 3-D Secure authentication.
    ActionRequired,
    Cancelled,
}

impl AttemptStatus {
    /// Whether the attempt still waits for a result; a result for a settled attempt is
    /// late or duplicated, and ignored.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::ActionRequired)
    }
}

/// One try to pay with a card (docs/reference/payments.md#attempts). Only brand, last 4 and
/// expiry are kept.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: AttemptId,
    pub status: AttemptStatus,
    pub card: CardSummary,
    pub decline_code: Option<String>,
    pub decline_message: Option<String>,
    pub three_ds: ThreeDs,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// 1 for the payment's first attempt, and so on.
    #[serde(skip)]
    pub number: u8,
    /// The connector that handled it, and its reference for callbacks and polls.
    #[serde(skip)]
    pub connector: String,
    #[serde(skip)]
    pub connector_reference: Option<String>,
    /// The single-use token of the 3-D Secure form while a challenge waits
    /// (docs/reference/hosted-page.md#3-d-secure).
    #[serde(skip)]
    pub challenge_token: Option<String>,
}

/// What may be kept of a card: never the number or the CVC.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

/// 3-D Secure state of an attempt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreeDs {
    pub required: bool,
    pub result: Option<String>,
}

/// Where a refund stands (docs/reference/payments.md#refunds).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Succeeded,
    /// Sent to the acquirer, result not known yet. Its amount is reserved: refunds
    /// pending and succeeded together never exceed the captured amount.
    Pending,
    /// Refused by the acquirer; its amount is refundable again.
    Failed,
}

/// A refund of part or all of the captured amount.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Refund {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: RefundId,
    /// Always `"refund"`.
    pub object: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub payment_id: PaymentId,
    pub amount: i64,
    pub status: RefundStatus,
    pub reason: Option<String>,
    /// Why the acquirer refused a `FAILED` refund.
    pub failure_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// The connector that handled it, and its reference for callbacks and polls.
    #[serde(skip)]
    pub connector: String,
    #[serde(skip)]
    pub connector_reference: Option<String>,
}

/// Whether a provider callback verified by `connector`, naming the acquirer's `reference`,
/// may settle an attempt or refund that `handled_by` handled under `known_reference`: only
/// a connector's own objects, and once the acquirer has named one, only under that name.
/// Otherwise one acquirer — or anyone holding its secret — could settle another's
/// payments by naming their ids (docs/reference/callbacks.md).
#[must_use]
pub fn callback_may_settle(
    handled_by: &str,
    known_reference: Option<&str>,
    connector: &str,
    reference: Option<&str>,
) -> bool {
    handled_by == connector && known_reference.is_none_or(|known| Some(known) == reference)
}

impl Attempt {
    /// See [`callback_may_settle`].
    #[must_use]
    pub fn takes_callback_from(&self, connector: &str, reference: Option<&str>) -> bool {
        callback_may_settle(&self.connector, self.connector_reference.as_deref(), connector, reference)
    }
}

impl Refund {
    /// See [`callback_may_settle`].
    #[must_use]
    pub fn takes_callback_from(&self, connector: &str, reference: Option<&str>) -> bool {
        callback_may_settle(&self.connector, self.connector_reference.as_deref(), connector, reference)
    }
}

impl Payment {
    /// Whether an attempt still waits for the acquirer or the shopper: the payment may not
    /// be cancelled or expire under it, or an approval could land on a cancelled payment.
    #[must_use]
    pub fn has_attempt_in_flight(&self) -> bool {
        self.attempts.iter().any(|attempt| attempt.status.is_open())
    }

    /// What may still be refunded: the captured amount less refunds that succeeded or
    /// may still succeed.
    #[must_use]
    pub fn refundable(&self) -> i64 {
        let reserved: i64 = self
            .refunds
            .iter()
            .filter(|refund| refund.status != RefundStatus::Failed)
            .map(|refund| refund.amount)
            .sum();
        self.amount_captured - reserved
    }
}

/// A fresh single-use form token for the hosted page
/// (docs/reference/hosted-page.md#single-use-forms): 144 random bits.
#[must_use]
pub fn new_form_token() -> String {
    crate::ids::random_token(18)
}

/// The JSON body of a webhook event (docs/reference/webhooks.md#body), rendered once and
/// stored as bytes.
#[must_use]
pub fn event_body(
    id: &EventId,
    event_type: EventType,
    timestamp: Timestamp,
    sequence: i64,
    payment: &Payment,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        id: &'a EventId,
        #[serde(rename = "type")]
        event_type: EventType,
        timestamp: Timestamp,
        sequence: i64,
        data: &'a Payment,
    }
    serde_json::to_vec(&Body { id, event_type, timestamp, sequence, data: payment })
        .expect("a payment always serializes")
}

/// How webhooks are acknowledged (docs/reference/webhooks.md#acknowledgement).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum AckMode {
    /// Any 2xx acknowledges.
    Status,
    /// A 2xx whose JSON body echoes the payment id acknowledges.
    Echo,
}

/// A merchant account and its settings (docs/reference/api.md#merchant-settings).
#[derive(Clone, Debug)]
pub struct Merchant {
    pub id: MerchantId,
    pub name: String,
    pub default_webhook_url: Option<WebhookUrl>,
    pub webhook_ack_mode: AckMode,
    pub allowed_return_hosts: Vec<String>,
    pub connector: String,
    pub created_at: Timestamp,
}

/// A merchant's secret API key. Only its [`ApiKey::hash`] is stored
/// (docs/reference/urls.md#secrets-and-keys).
pub struct ApiKey(String);

impl ApiKey {
    /// A new key: `sk_test_…` in sandbox mode, `sk_live_…` in live mode.
    #[must_use]
    pub fn generate(livemode: bool) -> Self {
        let prefix = if livemode { "sk_live_" } else { "sk_test_" };
        Self(format!("{prefix}{}", crate::ids::random_token(24)))
    }

    #[must_use]
    pub fn from_presented(key: &str) -> Self {
        Self(key.to_owned())
    }

    /// SHA-256 in hex. Keys carry 192 random bits, so a fast hash is enough: nobody
    /// can brute-force the key from its hash, and lookups stay cheap on every request.
    #[must_use]
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What a list shows of the key: its mode and first four random characters
    /// (`sk_test_AbCd`), enough to tell keys apart, far too little to guess the rest.
    #[must_use]
    pub fn prefix(&self) -> String {
        self.0.chars().take(API_KEY_PREFIX_CHARS).collect()
    }
}

/// `sk_test_` or `sk_live_`, and four characters.
const API_KEY_PREFIX_CHARS: usize = 12;

/// One of a merchant's API keys as it is listed: never the key itself
/// (docs/reference/api.md#api-keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: crate::ids::ApiKeyId,
    pub merchant_id: MerchantId,
    /// `None` for a key made before keys were listed: only its hash was kept.
    pub prefix: Option<String>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    /// A revoked key is refused from then on (within a second on every node).
    pub revoked_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    /// The listing of a new key.
    #[must_use]
    pub fn of(key: &ApiKey, merchant: &MerchantId, description: Option<String>, now: Timestamp) -> Self {
        Self {
            id: crate::ids::ApiKeyId::generate(),
            merchant_id: merchant.clone(),
            prefix: Some(key.prefix()),
            description,
            created_at: now,
            revoked_at: None,
        }
    }
}

/// How many keys a merchant may have that are not revoked.
pub const MAX_API_KEYS_PER_MERCHANT: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{Named as _, serde_names_agree};

    #[test]
    fn every_enum_has_the_same_name_in_json_as_in_the_database() {
        assert!(serde_names_agree::<CaptureMode>());
        assert!(serde_names_agree::<ReturnMethod>());
        assert!(serde_names_agree::<AttemptStatus>());
        assert!(serde_names_agree::<RefundStatus>());
        assert!(serde_names_agree::<AckMode>());
        assert_eq!((ReturnMethod::Post.as_str(), AttemptStatus::ActionRequired.as_str()), ("POST", "ACTION_REQUIRED"));
    }

    #[test]
    fn a_callback_settles_only_its_own_connectors_objects_under_their_reference() {
        assert!(callback_may_settle("simulator", Some("sim_1"), "simulator", Some("sim_1")));
        assert!(callback_may_settle("simulator", None, "simulator", Some("sim_1")), "before the first answer");
        assert!(!callback_may_settle("sandbox", Some("sbx_1"), "simulator", Some("sbx_1")), "another connector's");
        assert!(!callback_may_settle("sandbox", None, "simulator", Some("made_up")), "another connector's");
        assert!(!callback_may_settle("simulator", Some("sim_1"), "simulator", Some("sim_2")), "another authorization");
        assert!(!callback_may_settle("simulator", Some("sim_1"), "simulator", None), "no reference named");
    }

    #[test]
    fn api_keys_are_prefixed_by_mode_and_hash_stably() {
        let key = ApiKey::generate(false);
        assert!(key.expose().starts_with("sk_test_"));
        assert!(ApiKey::generate(true).expose().starts_with("sk_live_"));
        assert_eq!(key.hash(), ApiKey::from_presented(key.expose()).hash());
        assert_eq!(key.hash().len(), 64);
        assert_ne!(key.hash(), ApiKey::generate(false).hash());
    }

    #[test]
    fn return_urls_serialize_only_the_ones_set() {
        let urls = ReturnUrls {
            success: Some(ReturnUrl::from_trusted("https://s.example/ok".into())),
            ..ReturnUrls::default()
        };
        assert_eq!(serde_json::to_string(&urls).unwrap(), r#"{"success":"https://s.example/ok"}"#);
    }
}

/// What an attempt's result means for its payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptEffect {
    /// The attempt waits for the acquirer or for 3-D Secure.
    Pending,
    /// The acquirer approved it.
    Approved,
    /// Declined or failed: one attempt fewer.
    Failed,
}

impl AttemptEffect {
    /// The status machine event for `payment` as it is when the result is applied:
    /// an approval authorizes or captures by the payment's capture mode, and a failure
    /// knows how many attempts remain.
    #[must_use]
    pub fn event(self, payment: &Payment) -> crate::status::PaymentEvent {
        use crate::status::PaymentEvent;
        match self {
            Self::Pending => PaymentEvent::AttemptPending,
            Self::Approved => match payment.capture {
                CaptureMode::Automatic => PaymentEvent::AttemptSucceeded,
                CaptureMode::Manual => PaymentEvent::AttemptAuthorized,
            },
            Self::Failed => PaymentEvent::AttemptFailed { attempts_left: payment.attempts_remaining },
        }
    }
}
