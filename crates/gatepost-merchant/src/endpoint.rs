//! Webhook endpoints (docs/reference/webhooks.md#endpoints): where a merchant's webhooks
//! go, each with its own filter and secret, and the events about endpoints themselves.

use crate::open_enum::open_enum;
use serde::{Deserialize, Serialize};

open_enum! {
    /// Whether an endpoint takes events.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::EndpointStatus;
    ///
    /// assert_eq!(EndpointStatus::from("disabled"), EndpointStatus::Disabled);
    /// ```
    pub enum EndpointStatus {
        Enabled = "enabled",
        /// Nothing is sent to it; what it misses comes back with `recover`.
        Disabled = "disabled",
    }
}

open_enum! {
    /// Why an endpoint is disabled.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::DisabledReason;
    ///
    /// assert_eq!(DisabledReason::Failing.as_str(), "failing");
    /// ```
    pub enum DisabledReason {
        /// The merchant disabled it.
        Manual = "manual",
        /// Its attempts kept failing (docs/reference/webhooks.md#auto-disable).
        Failing = "failing",
    }
}

/// A webhook endpoint, as the API shows it.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{EndpointStatus, WebhookEndpoint};
///
/// let endpoint: WebhookEndpoint = serde_json::from_str(
///     r#"{"id":"we_1","object":"webhook_endpoint","url":"https://shop.example/hooks/refunds",
///         "enabled_events":["payment.refunded"],"description":null,"ack_mode":"status",
///         "status":"enabled","disabled_reason":null,"created_at":"2026-11-21T10:00:00.123Z",
///         "secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}"#,
/// )
/// .unwrap();
/// assert_eq!(endpoint.status, EndpointStatus::Enabled);
/// assert!(endpoint.secret.is_some(), "only in the answer to its creation");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEndpoint {
    /// The `we_…` id.
    pub id: String,
    pub url: String,
    /// Event types, or `*` for every payment event.
    pub enabled_events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `status` or `echo` (docs/reference/webhooks.md#acknowledgement).
    pub ack_mode: String,
    pub status: EndpointStatus,
    #[serde(default)]
    pub disabled_reason: Option<DisabledReason>,
    pub created_at: String,
    /// The endpoint's secret: only in the answer to its creation. Keep it with the
    /// service the endpoint is for, and verify its webhooks with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("enabled_events", &self.enabled_events)
            .field("description", &self.description)
            .field("ack_mode", &self.ack_mode)
            .field("status", &self.status)
            .field("disabled_reason", &self.disabled_reason)
            .field("created_at", &self.created_at)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// A new endpoint for `POST /v1/webhook_endpoints`; what is left out takes the gateway's
/// default (every payment event, acknowledged by any `2xx`).
///
/// # Example
///
/// ```
/// use gatepost_merchant::NewWebhookEndpoint;
///
/// let endpoint = NewWebhookEndpoint::new("https://shop.example/hooks/refunds")
///     .with_events(["payment.refunded", "webhook_endpoint.disabled"])
///     .with_description("refunds service");
/// let json = serde_json::to_value(&endpoint).unwrap();
/// assert_eq!(json["enabled_events"][1], "webhook_endpoint.disabled");
/// assert!(json.get("ack_mode").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NewWebhookEndpoint {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_mode: Option<String>,
}

impl NewWebhookEndpoint {
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), ..Self::default() }
    }

    /// The event types it takes, or `*` for every payment event.
    #[must_use]
    pub fn with_events<S: Into<String>>(mut self, events: impl IntoIterator<Item = S>) -> Self {
        self.enabled_events = Some(events.into_iter().map(Into::into).collect());
        self
    }

    #[must_use]
    pub fn with_description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// `status` (any `2xx`) or `echo`.
    #[must_use]
    pub fn with_ack_mode(mut self, ack_mode: &str) -> Self {
        self.ack_mode = Some(ack_mode.to_owned());
        self
    }
}

/// Changes for `PATCH /v1/webhook_endpoints/{id}`: each field left `None` stays as it is.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{EndpointStatus, WebhookEndpointUpdate};
///
/// let enable = WebhookEndpointUpdate { status: Some(EndpointStatus::Enabled), ..Default::default() };
/// assert_eq!(serde_json::to_string(&enable).unwrap(), r#"{"status":"enabled"}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WebhookEndpointUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<EndpointStatus>,
}

/// A verified webhook about an endpoint: `webhook_endpoint.disabled` (another endpoint
/// kept failing and was turned off) or `webhook_endpoint.test`.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{DisabledReason, EndpointEvent, EventType};
///
/// let event: EndpointEvent = serde_json::from_str(
///     r#"{"id":"evt_1","type":"webhook_endpoint.disabled","timestamp":"2026-11-21T10:00:00.123Z",
///         "data":{"id":"we_1","object":"webhook_endpoint","url":"https://shop.example/hooks",
///                 "enabled_events":["*"],"description":null,"ack_mode":"status","status":"disabled",
///                 "disabled_reason":"failing","created_at":"2026-11-01T10:00:00.000Z"}}"#,
/// )
/// .unwrap();
/// assert_eq!(event.event_type, EventType::EndpointDisabled);
/// assert_eq!(event.data.disabled_reason, Some(DisabledReason::Failing));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointEvent {
    /// The `evt_…` id, equal to the `webhook-id` header.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: crate::EventType,
    pub timestamp: String,
    /// The endpoint the event is about.
    pub data: WebhookEndpoint,
}
