//! Webhook events (docs/reference/webhooks.md#body): the body every delivery carries, and
//! the event as the events API lists it.

use crate::open_enum::open_enum;
use crate::payment::Payment;
use serde::{Deserialize, Serialize};

open_enum! {
    /// What happened to the payment (docs/reference/webhooks.md#event-types).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::EventType;
    ///
    /// assert_eq!(EventType::from("payment.succeeded"), EventType::Succeeded);
    /// assert_eq!(EventType::AttemptFailed.as_str(), "payment.attempt_failed");
    /// ```
    pub enum EventType {
        /// An attempt waits for the acquirer or for 3-D Secure.
        Pending = "payment.pending",
        /// Funds reserved, waiting for capture.
        Authorized = "payment.authorized",
        /// Paid: fulfil the order.
        Succeeded = "payment.succeeded",
        /// No attempts left.
        Failed = "payment.failed",
        /// Cancelled by the shopper or the merchant.
        Cancelled = "payment.cancelled",
        /// Not completed in time.
        Expired = "payment.expired",
        /// A refund was made; see the payment's `refunds` and `amount_refunded`.
        Refunded = "payment.refunded",
        /// A card attempt was declined or failed; the payment may still succeed.
        AttemptFailed = "payment.attempt_failed",
    }
}

/// A verified webhook: what [`Webhook::verify`](crate::Webhook::verify) returns.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{Event, EventType, PaymentStatus};
///
/// let event: Event = serde_json::from_str(
///     r#"{"id":"evt_1","type":"payment.succeeded","timestamp":"2026-11-21T10:00:00.123Z","sequence":3,
///         "data":{"id":"pay_1","status":"SUCCESS","amount":1050,"currency":"EUR"}}"#,
/// )
/// .unwrap();
/// assert_eq!(event.event_type, EventType::Succeeded);
/// assert_eq!(event.data.status, PaymentStatus::Success);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// The `evt_…` id, equal to the `webhook-id` header: stable across retries, so it is
    /// the key to deduplicate deliveries on.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the event happened (not when this attempt was sent), RFC 3339 UTC.
    pub timestamp: String,
    /// Increases by one per event of the same payment: an event whose sequence is not
    /// above the last one you applied for that payment is stale and can be dropped.
    pub sequence: i64,
    /// The payment as it was when the event happened.
    pub data: Payment,
}

open_enum! {
    /// Where the delivery of an event stands (docs/reference/webhooks.md#events-api).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::DeliveryStatus;
    ///
    /// assert_eq!(DeliveryStatus::from("SKIPPED"), DeliveryStatus::Skipped);
    /// ```
    pub enum DeliveryStatus {
        /// Not acknowledged yet; another attempt is scheduled.
        Pending = "PENDING",
        /// A 2xx acknowledged it.
        Delivered = "DELIVERED",
        /// Every retry failed.
        Failed = "FAILED",
        /// There was no webhook URL to send it to.
        Skipped = "SKIPPED",
    }
}

/// How the delivery of an event went, as the events API reports it.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{Delivery, DeliveryStatus};
///
/// let delivery: Delivery = serde_json::from_str(
///     r#"{"status":"DELIVERED","attempts":1,"url":"https://shop.example/webhooks",
///         "last_attempt_at":"2026-11-21T10:00:00.200Z","next_attempt_at":null}"#,
/// )
/// .unwrap();
/// assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Delivered, 1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Delivery {
    pub status: DeliveryStatus,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub last_attempt_at: Option<String>,
    #[serde(default)]
    pub next_attempt_at: Option<String>,
}

/// An event as `GET /v1/events` lists it: what was (or will be) sent, and how its
/// delivery went. Useful to catch up after downtime, or to see why a webhook did not arrive.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{EventRecord, EventType};
///
/// let record: EventRecord = serde_json::from_str(
///     r#"{"id":"evt_1","object":"event","type":"payment.cancelled","payment_id":"pay_1","sequence":1,
///         "created_at":"2026-11-21T10:00:00.123Z",
///         "data":{"id":"pay_1","status":"CANCELLED","amount":1050,"currency":"EUR"},
///         "delivery":{"status":"SKIPPED","attempts":0,"url":null}}"#,
/// )
/// .unwrap();
/// assert_eq!(record.event_type, EventType::Cancelled);
/// assert_eq!(record.payment_id, record.data.id);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// The `evt_…` id, the same as the delivered webhook's `id` and `webhook-id`.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub payment_id: String,
    pub sequence: i64,
    pub created_at: String,
    /// The payment as it was when the event happened: the `data` every attempt sends.
    pub data: Payment,
    #[serde(default)]
    pub delivery: Option<Delivery>,
}
