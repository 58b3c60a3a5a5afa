//! Webhook events (docs/reference/webhooks.md#body): the body every delivery carries, and
//! the event as the events API lists it.

use crate::endpoint::{EndpointEvent, WebhookEndpoint};
use crate::open_enum::open_enum;
use crate::payment::Payment;
use serde::{Deserialize, Serialize};

open_enum! {
    /// What happened to the payment, or to an endpoint (docs/reference/webhooks.md#event-types).
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
        /// Another endpoint kept failing and was turned off: an [`EndpointEvent`].
        EndpointDisabled = "webhook_endpoint.disabled",
        /// A test the merchant asked for: an [`EndpointEvent`].
        EndpointTest = "webhook_endpoint.test",
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
        /// There was nowhere to send it (or, for one destination, its endpoint was disabled).
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

/// One place an event goes, and how its delivery there went
/// (docs/reference/webhooks.md#events-api).
///
/// # Example
///
/// ```
/// use gatepost_merchant::{DeliveryStatus, EventDestination};
///
/// let destination: EventDestination = serde_json::from_str(
///     r#"{"endpoint_id":"we_1","url":"https://shop.example/hooks","status":"PENDING","attempts":2,
///         "last_attempt_at":"2026-11-21T10:01:00.000Z","next_attempt_at":"2026-11-21T10:02:00.000Z"}"#,
/// )
/// .unwrap();
/// assert_eq!(destination.endpoint_id.as_deref(), Some("we_1"));
/// assert_eq!(destination.status, DeliveryStatus::Pending);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventDestination {
    /// The endpoint; `None` for the payment's own `webhook_url`.
    #[serde(default)]
    pub endpoint_id: Option<String>,
    pub url: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_attempt_at: Option<String>,
    #[serde(default)]
    pub next_attempt_at: Option<String>,
}

/// What an event is about: a payment, or (for `webhook_endpoint.*` events) an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum EventData {
    Payment(Box<Payment>),
    Endpoint(Box<WebhookEndpoint>),
}

impl EventData {
    /// The payment, for a payment event.
    #[must_use]
    pub fn payment(&self) -> Option<&Payment> {
        match self {
            Self::Payment(payment) => Some(payment),
            Self::Endpoint(_) => None,
        }
    }
}

/// A verified webhook of any kind: what [`Webhook::verify_any`](crate::Webhook::verify_any)
/// returns to an endpoint that also subscribes to events about endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookEvent {
    Payment(Box<Event>),
    Endpoint(Box<EndpointEvent>),
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
///         "delivery":{"status":"SKIPPED","attempts":0,"url":null},"destinations":[]}"#,
/// )
/// .unwrap();
/// assert_eq!(record.event_type, EventType::Cancelled);
/// assert_eq!(record.payment_id.as_deref(), record.data.payment().map(|p| p.id.as_str()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// The `evt_…` id, the same as the delivered webhook's `id` and `webhook-id`.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// `None` for an event about an endpoint.
    #[serde(default)]
    pub payment_id: Option<String>,
    /// `None` for an event about an endpoint.
    #[serde(default)]
    pub sequence: Option<i64>,
    pub created_at: String,
    /// The payment (or endpoint) as it was when the event happened: the `data` every
    /// attempt sends.
    pub data: EventData,
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// Each endpoint it went to, then the payment's own URL.
    #[serde(default)]
    pub destinations: Vec<EventDestination>,
}
