//! The payment object (docs/reference/payments.md#the-payment-object) as the API and every
//! webhook deliver it, and the body that creates one.
//!
//! Parsing is forward compatible: unknown fields are ignored, unknown statuses are kept
//! as `Other`, and fields a future gateway might leave out have defaults. Times are the
//! API's RFC 3339 UTC strings with milliseconds, passed through untouched so that the
//! kit needs no date library.

use crate::open_enum::open_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

open_enum! {
    /// Where a payment stands (docs/reference/payments.md#statuses).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::PaymentStatus;
    ///
    /// let status: PaymentStatus = serde_json::from_str(r#""SUCCESS""#).unwrap();
    /// assert_eq!(status, PaymentStatus::Success);
    /// let later: PaymentStatus = serde_json::from_str(r#""PARTIALLY_CAPTURED""#).unwrap();
    /// assert_eq!(later, PaymentStatus::Other("PARTIALLY_CAPTURED".into()));
    /// ```
    pub enum PaymentStatus {
        /// Waiting for the shopper; declined attempts may already exist.
        Open = "OPEN",
        /// An attempt awaits the acquirer or the card issuer (async acquirer, 3-D Secure).
        Pending = "PENDING",
        /// Funds reserved, waiting for capture (`capture: manual`).
        Authorized = "AUTHORIZED",
        /// Paid (captured). Partial refunds keep this status, with `amount_refunded`.
        Success = "SUCCESS",
        /// No attempts left, or a final decline from an async acquirer.
        Failed = "FAILED",
        /// Cancelled by the shopper or the merchant.
        Cancelled = "CANCELLED",
        /// Not completed before `expires_at`, or authorized and never captured.
        Expired = "EXPIRED",
        /// Fully refunded.
        Refunded = "REFUNDED",
    }
}

impl PaymentStatus {
    /// Whether nothing can move the payment any more (docs/reference/payments.md#statuses).
    /// `SUCCESS` is not final: it can still be refunded. A status this version does not
    /// know counts as not final.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::PaymentStatus;
    ///
    /// assert!(PaymentStatus::Cancelled.is_final());
    /// assert!(!PaymentStatus::Success.is_final());
    /// ```
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled | Self::Expired | Self::Refunded)
    }
}

open_enum! {
    /// Where one card attempt stands (docs/reference/payments.md#attempts).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::AttemptStatus;
    ///
    /// assert_eq!(AttemptStatus::from("ACTION_REQUIRED"), AttemptStatus::ActionRequired);
    /// ```
    pub enum AttemptStatus {
        /// The acquirer approved it.
        Succeeded = "SUCCEEDED",
        /// The issuer or the acquirer declined it; see `decline_code`.
        Declined = "DECLINED",
        /// Processing failed; it counts as an attempt and may be retried.
        Error = "ERROR",
        /// Waiting for the acquirer.
        Pending = "PENDING",
        /// Waiting for the shopper's 3-D Secure authentication.
        ActionRequired = "ACTION_REQUIRED",
        /// Abandoned when the payment was cancelled.
        Cancelled = "CANCELLED",
    }
}

open_enum! {
    /// Where a refund stands (docs/reference/payments.md#refunds).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::RefundStatus;
    ///
    /// assert_eq!(RefundStatus::from("PENDING"), RefundStatus::Pending);
    /// ```
    pub enum RefundStatus {
        /// The money is on its way back to the shopper.
        Succeeded = "SUCCEEDED",
        /// Sent to the acquirer, result not known yet.
        Pending = "PENDING",
        /// Refused by the acquirer; the amount can be refunded again.
        Failed = "FAILED",
    }
}

open_enum! {
    /// When the funds are taken (docs/reference/payments.md#capture).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::CaptureMode;
    ///
    /// assert_eq!(CaptureMode::default(), CaptureMode::Automatic);
    /// assert_eq!(CaptureMode::Manual.as_str(), "manual");
    /// ```
    pub enum CaptureMode {
        /// Captured as soon as the card is approved: the payment goes to `SUCCESS`.
        Automatic = "automatic",
        /// Only reserved: the payment waits in `AUTHORIZED` for a capture call.
        Manual = "manual",
    }
}

impl Default for CaptureMode {
    /// The gateway's default, `automatic`.
    fn default() -> Self {
        Self::Automatic
    }
}

open_enum! {
    /// How the shopper's browser is sent back to the merchant
    /// (docs/reference/returns.md#get-and-post).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::ReturnMethod;
    ///
    /// assert_eq!(ReturnMethod::default(), ReturnMethod::Get);
    /// assert_eq!(ReturnMethod::Post.to_string(), "POST");
    /// ```
    pub enum ReturnMethod {
        /// A `303 See Other` with the parameters in the query string.
        Get = "GET",
        /// An auto-submitted form posting the same parameters.
        Post = "POST",
    }
}

impl Default for ReturnMethod {
    /// The gateway's default, `GET`.
    fn default() -> Self {
        Self::Get
    }
}

/// The shopper, as the merchant describes them.
///
/// # Example
///
/// ```
/// use gatepost_merchant::Customer;
///
/// let customer = Customer { email: Some("ana@example.com".into()), name: Some("Ana".into()) };
/// assert_eq!(serde_json::to_string(&customer).unwrap(), r#"{"email":"ana@example.com","name":"Ana"}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One return URL per outcome; each one not set falls back to `return_url`
/// (docs/reference/returns.md#which-url).
///
/// # Example
///
/// ```
/// use gatepost_merchant::ReturnUrls;
///
/// let urls = ReturnUrls { success: Some("https://shop.example/thanks".into()), ..ReturnUrls::default() };
/// assert_eq!(serde_json::to_string(&urls).unwrap(), r#"{"success":"https://shop.example/thanks"}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnUrls {
    /// For `SUCCESS` and `AUTHORIZED`, and for `PENDING` when `pending` is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<String>,
    /// For `FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline: Option<String>,
    /// For `CANCELLED` and `EXPIRED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<String>,
    /// For `PENDING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

/// A payment with its attempts and refunds: the answer of `GET /v1/payments/{id}` and
/// the `data` of every webhook event (docs/reference/payments.md#the-payment-object).
///
/// # Example
///
/// ```
/// use gatepost_merchant::{Payment, PaymentStatus};
///
/// let payment: Payment = serde_json::from_str(
///     r#"{"id":"pay_1","object":"payment","status":"SUCCESS","amount":1050,"currency":"EUR",
///         "amount_captured":1050,"reference":"order-1234","a_field_from_the_future":true}"#,
/// )
/// .unwrap();
/// assert_eq!(payment.status, PaymentStatus::Success);
/// assert_eq!(payment.reference.as_deref(), Some("order-1234"));
/// assert!(payment.attempts.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payment {
    /// The `pay_…` id.
    pub id: String,
    pub status: PaymentStatus,
    /// In the currency's minor unit: 1050 is 10.50 EUR, 1050 is 1,050 JPY.
    pub amount: i64,
    /// ISO 4217 alpha-3 code, such as `EUR`.
    pub currency: String,
    #[serde(default)]
    pub amount_captured: i64,
    #[serde(default)]
    pub amount_refunded: i64,
    /// The merchant's own reference, such as an order number.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub capture: CaptureMode,
    #[serde(default)]
    pub max_attempts: u32,
    /// Card attempts the shopper may still make.
    #[serde(default)]
    pub attempts_remaining: u32,
    /// The hosted payment page: send the shopper here (or by e-mail, for Pay by Link).
    #[serde(default)]
    pub checkout_url: String,
    #[serde(default)]
    pub return_url: Option<String>,
    #[serde(default)]
    pub return_urls: ReturnUrls,
    #[serde(default)]
    pub return_method: ReturnMethod,
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Card attempts, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub expires_at: String,
    /// `false` for payments made in sandbox mode with test cards.
    #[serde(default)]
    pub livemode: bool,
}

/// One try to pay with a card (docs/reference/payments.md#attempts). Only brand, last 4
/// digits and expiry are known.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{Attempt, AttemptStatus};
///
/// let attempt: Attempt = serde_json::from_str(
///     r#"{"id":"att_1","status":"DECLINED","decline_code":"insufficient_funds",
///         "card":{"brand":"visa","last4":"9995","exp_month":12,"exp_year":2030},
///         "three_ds":{"required":false,"result":null},"created_at":"2026-11-21T10:00:00.123Z"}"#,
/// )
/// .unwrap();
/// assert_eq!(attempt.status, AttemptStatus::Declined);
/// assert_eq!(attempt.card.unwrap().last4, "9995");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// The `att_…` id.
    pub id: String,
    pub status: AttemptStatus,
    #[serde(default)]
    pub card: Option<Card>,
    /// Why it was declined, such as `card_declined` or `insufficient_funds`.
    #[serde(default)]
    pub decline_code: Option<String>,
    /// The same, in words that may be shown to the shopper.
    #[serde(default)]
    pub decline_message: Option<String>,
    #[serde(default)]
    pub three_ds: Option<ThreeDs>,
    #[serde(default)]
    pub created_at: String,
}

/// What is kept of a card: never its number or CVC.
///
/// # Example
///
/// ```
/// use gatepost_merchant::Card;
///
/// let card: Card = serde_json::from_str(r#"{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2030}"#).unwrap();
/// assert_eq!((card.brand.as_str(), card.exp_year), ("visa", 2030));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Card {
    /// `visa`, `mastercard`, `amex`, …
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub last4: String,
    #[serde(default)]
    pub exp_month: u32,
    #[serde(default)]
    pub exp_year: u32,
}

/// The 3-D Secure side of an attempt.
///
/// # Example
///
/// ```
/// use gatepost_merchant::ThreeDs;
///
/// let three_ds: ThreeDs = serde_json::from_str(r#"{"required":true,"result":"AUTHENTICATED"}"#).unwrap();
/// assert_eq!(three_ds.result.as_deref(), Some("AUTHENTICATED"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThreeDs {
    #[serde(default)]
    pub required: bool,
    /// `AUTHENTICATED`, `FAILED`, or none while no challenge was answered.
    #[serde(default)]
    pub result: Option<String>,
}

/// A refund of part or all of the captured amount (docs/reference/payments.md#refunds).
///
/// # Example
///
/// ```
/// use gatepost_merchant::{Refund, RefundStatus};
///
/// let refund: Refund = serde_json::from_str(
///     r#"{"id":"ref_1","amount":500,"status":"SUCCEEDED","reason":null,"created_at":"2026-11-21T10:00:00.123Z"}"#,
/// )
/// .unwrap();
/// assert_eq!((refund.amount, refund.status), (500, RefundStatus::Succeeded));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The `ref_…` id.
    pub id: String,
    /// The refunded payment's `pay_…` id.
    #[serde(default)]
    pub payment_id: String,
    pub amount: i64,
    pub status: RefundStatus,
    #[serde(default)]
    pub reason: Option<String>,
    /// Why the acquirer refused a `FAILED` refund.
    #[serde(default)]
    pub failure_code: Option<String>,
    #[serde(default)]
    pub created_at: String,
}

/// The body of `POST /v1/payments` (docs/reference/payments.md#creating-a-payment). Only
/// `amount` and `currency` are required; fields left as `None` take the gateway's defaults
/// and are not sent.
///
/// # Example
///
/// ```
/// use gatepost_merchant::NewPayment;
///
/// let payment = NewPayment {
///     reference: Some("order-1234".into()),
///     return_url: Some("https://shop.example/orders/1234/return".into()),
///     ..NewPayment::new(1050, "EUR")
/// };
/// assert_eq!(
///     serde_json::to_string(&payment).unwrap(),
///     r#"{"amount":1050,"currency":"EUR","reference":"order-1234","return_url":"https://shop.example/orders/1234/return"}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NewPayment {
    /// In the currency's minor unit: 1050 is 10.50 EUR.
    pub amount: i64,
    /// ISO 4217 alpha-3 code, such as `EUR`.
    pub currency: String,
    /// Your own reference, at most 128 characters; it comes back in returns and webhooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Shown to the shopper on the payment page, at most 500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureMode>,
    /// Where the shopper comes back, whatever the outcome, unless `return_urls` says otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_urls: Option<ReturnUrls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_method: Option<ReturnMethod>,
    /// Overrides the merchant's default webhook URL for this payment's events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Card attempts the shopper may make, 1 to 10 (gateway default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Seconds until the payment expires, 60 to 30 days (gateway default 3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u32>,
    /// At most 20 string keys with string values of at most 500 characters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl NewPayment {
    /// A payment of `amount` minor units of `currency`, everything else left to the
    /// gateway's defaults.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::NewPayment;
    ///
    /// let payment = NewPayment::new(1050, "EUR");
    /// assert_eq!(serde_json::to_string(&payment).unwrap(), r#"{"amount":1050,"currency":"EUR"}"#);
    /// ```
    #[must_use]
    pub fn new(amount: i64, currency: &str) -> Self {
        Self { amount, currency: currency.to_owned(), ..Self::default() }
    }
}
