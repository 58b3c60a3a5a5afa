//! Webhook endpoints, the rules of a merchant's several webhook destinations (the
//! delivery itself: docs/reference/webhooks.md):
//!
//! - an endpoint subscribes to a non-empty list of event types, where `*` stands for every
//!   payment event but not for the events about endpoints, which an endpoint gets only by
//!   naming them;
//! - a payment event goes to every enabled endpoint whose filter takes it, and to the
//!   payment's own webhook URL when it has one;
//! - one whose attempts have all failed for a while, and at least ten times, is turned off;
//! - an event sent to several destinations has one delivery status: pending while any
//!   destination is, then failed if any failed.

use crate::delivery::DeliveryStatus;
use crate::ids::{MerchantId, WebhookEndpointId};
use crate::names::Named;
use crate::payment::AckMode;
use crate::status::EventType;
use crate::time::Timestamp;
use crate::urls::WebhookUrl;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How many endpoints one merchant may register: Stripe's limit, and a bound on how many
/// deliveries one event can make.
pub const MAX_ENDPOINTS_PER_MERCHANT: usize = 16;

/// An endpoint is turned off only after at least this many attempts in a row failed, however
/// long they took: one failure days ago is not a failing endpoint.
pub const MIN_FAILED_ATTEMPTS_TO_DISABLE: u32 = 10;

/// How long an endpoint's attempts must all have failed before it is turned off, unless
/// configured otherwise: long enough to outlast a weekend's outage, as Svix's five days.
pub const DEFAULT_DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 60 * 60);

/// The filter entry that stands for every payment event.
pub const EVERY_PAYMENT_EVENT: &str = "*";

/// The events about endpoints themselves, which go to endpoints that name them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case", prefix = "webhook_endpoint.")]
pub enum EndpointEventType {
    /// An endpoint was turned off because its attempts kept failing.
    #[serde(rename = "webhook_endpoint.disabled")]
    Disabled,
    /// The merchant asked for a test event to one endpoint.
    #[serde(rename = "webhook_endpoint.test")]
    Test,
}

/// Whether an endpoint takes events.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum EndpointStatus {
    Enabled,
    Disabled,
}

/// Why an endpoint is disabled.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum DisabledReason {
    /// The merchant turned it off.
    Manual,
    /// Its attempts kept failing.
    Failing,
}

/// One entry of an endpoint's `enabled_events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subscription {
    /// `*`: every payment event, present and future; not the endpoint events, so that a
    /// handler written for payments never receives an object it does not know.
    EveryPaymentEvent,
    Payment(EventType),
    Endpoint(EndpointEventType),
}

impl Subscription {
    /// The entry as the API writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EveryPaymentEvent => EVERY_PAYMENT_EVENT,
            Self::Payment(event) => event.as_str(),
            Self::Endpoint(event) => event.as_str(),
        }
    }

    fn parse(name: &str) -> Option<Self> {
        if name == EVERY_PAYMENT_EVENT {
            return Some(Self::EveryPaymentEvent);
        }
        EventKind::parse(name).map(|kind| match kind {
            EventKind::Payment(event) => Self::Payment(event),
            EventKind::Endpoint(event) => Self::Endpoint(event),
        })
    }
}

/// Why an `enabled_events` list was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("enabled_events must name at least one event type")]
    Empty,
    #[error("unknown event type: {0}")]
    Unknown(String),
}

/// The events an endpoint receives: a non-empty set of subscriptions, kept in the order the
/// merchant gave them, each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnabledEvents(Vec<Subscription>);

impl EnabledEvents {
    /// Every payment event: what an endpoint gets when its `enabled_events` is left out.
    #[must_use]
    pub fn every_payment_event() -> Self {
        Self(vec![Subscription::EveryPaymentEvent])
    }

    /// Checks a list of names from the API or from storage.
    ///
    /// # Errors
    /// The list is empty, or names something that is not an event type.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, FilterError> {
        let mut subscriptions = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            let subscription = Subscription::parse(name).ok_or_else(|| FilterError::Unknown(name.to_owned()))?;
            if !subscriptions.contains(&subscription) {
                subscriptions.push(subscription);
            }
        }
        if subscriptions.is_empty() {
            return Err(FilterError::Empty);
        }
        Ok(Self(subscriptions))
    }

    /// The names, as the API shows them and the store keeps them.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.as_str()).collect()
    }

    /// Whether a payment event of this type goes to the endpoint.
    #[must_use]
    pub fn wants_payment_event(&self, event: EventType) -> bool {
        self.0.iter().any(|s| matches!(s, Subscription::EveryPaymentEvent) || *s == Subscription::Payment(event))
    }

    /// Whether an event about endpoints goes to the endpoint: only when it names it.
    #[must_use]
    pub fn wants_endpoint_event(&self, event: EndpointEventType) -> bool {
        self.0.contains(&Subscription::Endpoint(event))
    }
}

/// An endpoint's current run of failed attempts: when its first and its last attempt were
/// made, and how many there were. Any delivered attempt ends it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailingStreak {
    /// The first and the last failed attempt of the run; `None` while the last attempt
    /// delivered.
    pub span: Option<(Timestamp, Timestamp)>,
    pub attempts: u32,
}

impl FailingStreak {
    /// The streak after an attempt made at `at`. Attempts in flight together may be
    /// recorded in any order, so the span only ever widens.
    #[must_use]
    pub fn after_attempt(self, delivered: bool, at: Timestamp) -> Self {
        if delivered {
            return Self::default();
        }
        let span = match self.span {
            Some((first, last)) => (first.min(at), last.max(at)),
            None => (at, at),
        };
        Self { span: Some(span), attempts: self.attempts.saturating_add(1) }
    }

    /// Whether the endpoint is to be disabled: its attempts have kept failing over at least
    /// `disable_after`, from the first to the latest, and at least
    /// [`MIN_FAILED_ATTEMPTS_TO_DISABLE`] times. Time without attempts does not count: an
    /// endpoint that failed a few times and then had nothing to receive is not failing.
    #[must_use]
    pub fn should_disable(self, disable_after: Duration) -> bool {
        self.span.is_some_and(|(first, last)| {
            self.attempts >= MIN_FAILED_ATTEMPTS_TO_DISABLE && last.since(first) >= disable_after
        })
    }
}

/// The type of any event: one about a payment, or one about an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Payment(EventType),
    Endpoint(EndpointEventType),
}

impl EventKind {
    /// The type as the API and every webhook body write it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment(event) => event.as_str(),
            Self::Endpoint(event) => event.as_str(),
        }
    }

    /// Reads a type name: a payment event's, or an endpoint event's.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        EventType::parse(name).map(Self::Payment).or_else(|| EndpointEventType::parse(name).map(Self::Endpoint))
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A merchant's webhook endpoint, as the API shows it
/// (docs/reference/webhooks.md#endpoints); its secret is kept apart.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct WebhookEndpoint {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "we_01JD2YB3C4D5E6F7G8H9J0K1M2"))]
    pub id: WebhookEndpointId,
    /// Always `webhook_endpoint`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "webhook_endpoint"))]
    pub object: &'static str,
    #[serde(skip)]
    pub merchant_id: MerchantId,
    #[serde(serialize_with = "serialize_url")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uri"))]
    pub url: WebhookUrl,
    /// Event types, or `*` for every payment event.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, example = json!(["*"])))]
    pub enabled_events: EnabledEvents,
    pub description: Option<String>,
    pub ack_mode: AckMode,
    pub status: EndpointStatus,
    /// Set while `status` is disabled.
    pub disabled_reason: Option<DisabledReason>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// The endpoint of the merchant's `default_webhook_url`: signed with the merchant's
    /// secret, and standing in for a payment's own URL, so it takes a payment's events only
    /// when the payment names none.
    #[serde(skip)]
    pub is_default: bool,
}

fn serialize_url<S: serde::Serializer>(url: &WebhookUrl, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(url.as_str())
}

impl Serialize for EnabledEvents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

/// The description of the endpoint that `default_webhook_url` sets.
pub const DEFAULT_ENDPOINT_DESCRIPTION: &str = "default";

impl WebhookEndpoint {
    /// Whether an event of this kind is sent to the endpoint now; `payment_has_url` says
    /// whether the event's payment names its own webhook URL.
    #[must_use]
    pub fn takes(&self, kind: EventKind, payment_has_url: bool) -> bool {
        self.status == EndpointStatus::Enabled && self.would_take(kind, payment_has_url)
    }

    /// Whether the endpoint takes such an event when it is enabled.
    fn would_take(&self, kind: EventKind, payment_has_url: bool) -> bool {
        match kind {
            EventKind::Payment(event) => {
                !(self.is_default && payment_has_url) && self.enabled_events.wants_payment_event(event)
            }
            EventKind::Endpoint(event) => self.enabled_events.wants_endpoint_event(event),
        }
    }

    /// Whether the endpoint would have taken an event of this kind had it been enabled:
    /// what `recover` sends again.
    #[must_use]
    pub fn subscribes_to(&self, kind: EventKind) -> bool {
        match kind {
            EventKind::Payment(event) => self.enabled_events.wants_payment_event(event),
            EventKind::Endpoint(event) => self.enabled_events.wants_endpoint_event(event),
        }
    }
}

/// The JSON body of an event about an endpoint: as a payment event's, with the endpoint
/// object as `data` and no `sequence` (docs/reference/webhooks.md#endpoint-events).
#[must_use]
pub fn endpoint_event_body(
    id: &crate::ids::EventId,
    event_type: EndpointEventType,
    timestamp: Timestamp,
    endpoint: &WebhookEndpoint,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        id: &'a crate::ids::EventId,
        #[serde(rename = "type")]
        event_type: EndpointEventType,
        timestamp: Timestamp,
        data: &'a WebhookEndpoint,
    }
    serde_json::to_vec(&Body { id, event_type, timestamp, data: endpoint }).expect("an endpoint always serializes")
}

/// One place a payment event is sent to; each is delivered, retried and acknowledged on
/// its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A registered endpoint, with its own secret and acknowledgement mode.
    Endpoint { id: WebhookEndpointId, url: WebhookUrl },
    /// A disabled endpoint that would take the event: nothing is sent, and the event is kept
    /// for it as skipped, which `recover` sends once the endpoint is enabled again.
    Missed { id: WebhookEndpointId, url: WebhookUrl },
    /// The payment's own `webhook_url`, signed with the merchant's secret.
    Payment(WebhookUrl),
}

/// Where an event goes: every endpoint whose filter takes it, in the order given (a
/// disabled one as missed), then the payment's own webhook URL when it has one. Both are kept when they name the
/// same URL: each is signed and acknowledged on its own terms. The default endpoint stands
/// in for the payment's URL, so it is left out when the payment has one. None at all leaves
/// the event skipped.
#[must_use]
pub fn destinations(
    event: EventKind,
    payment_url: Option<&WebhookUrl>,
    endpoints: &[WebhookEndpoint],
) -> Vec<Destination> {
    let to_endpoints =
        endpoints.iter().filter(|endpoint| endpoint.would_take(event, payment_url.is_some())).map(|endpoint| {
            let (id, url) = (endpoint.id.clone(), endpoint.url.clone());
            match endpoint.status {
                EndpointStatus::Enabled => Destination::Endpoint { id, url },
                EndpointStatus::Disabled => Destination::Missed { id, url },
            }
        });
    to_endpoints.chain(payment_url.map(|url| Destination::Payment(url.clone()))).collect()
}

/// An event's one delivery status from those of its destinations: pending while any
/// destination is, then failed if any failed, delivered if any delivered, and skipped
/// otherwise: when it had no destination, or skipped every one, nothing was sent.
#[must_use]
pub fn overall_status(destinations: impl IntoIterator<Item = DeliveryStatus>) -> DeliveryStatus {
    let (mut pending, mut failed, mut delivered) = (false, false, false);
    for status in destinations {
        match status {
            DeliveryStatus::Pending => pending = true,
            DeliveryStatus::Failed => failed = true,
            DeliveryStatus::Delivered => delivered = true,
            DeliveryStatus::Skipped => {}
        }
    }
    if pending {
        DeliveryStatus::Pending
    } else if failed {
        DeliveryStatus::Failed
    } else if delivered {
        DeliveryStatus::Delivered
    } else {
        DeliveryStatus::Skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::serde_names_agree;

    #[test]
    fn names_are_those_of_the_api() {
        assert!(serde_names_agree::<EndpointEventType>());
        assert!(serde_names_agree::<EndpointStatus>());
        assert!(serde_names_agree::<DisabledReason>());
        assert_eq!(EndpointEventType::Disabled.as_str(), "webhook_endpoint.disabled");
        assert_eq!(EndpointStatus::Enabled.as_str(), "enabled");
    }

    #[test]
    fn a_filter_names_known_types_each_once_in_the_given_order() {
        let events =
            EnabledEvents::parse(&["payment.refunded", "*", "payment.refunded", "webhook_endpoint.disabled"]).unwrap();
        assert_eq!(events.names(), ["payment.refunded", "*", "webhook_endpoint.disabled"]);
        assert_eq!(EnabledEvents::parse::<&str>(&[]), Err(FilterError::Empty));
        assert_eq!(
            EnabledEvents::parse(&["payment.succeeded", "payment.exploded"]),
            Err(FilterError::Unknown("payment.exploded".into()))
        );
        for near_miss in ["", " *", "PAYMENT.SUCCEEDED", "payment.*", "webhook_endpoint.*", "payment.succeeded\n"] {
            assert!(EnabledEvents::parse(&[near_miss]).is_err(), "{near_miss:?}");
        }
    }

    #[test]
    fn the_star_is_every_payment_event_but_no_endpoint_event() {
        let star = EnabledEvents::every_payment_event();
        assert!(EventType::ALL.iter().all(|&event| star.wants_payment_event(event)));
        assert!(!star.wants_endpoint_event(EndpointEventType::Disabled));
        assert!(!star.wants_endpoint_event(EndpointEventType::Test));

        let refunds = EnabledEvents::parse(&["payment.refunded", "webhook_endpoint.disabled"]).unwrap();
        assert!(refunds.wants_payment_event(EventType::Refunded));
        assert!(!refunds.wants_payment_event(EventType::Succeeded));
        assert!(refunds.wants_endpoint_event(EndpointEventType::Disabled));
        assert!(!refunds.wants_endpoint_event(EndpointEventType::Test));
    }

    #[test]
    fn an_endpoint_is_disabled_after_long_enough_and_enough_failures_only() {
        let day = Duration::from_secs(24 * 60 * 60);
        let start = Timestamp::from_millis(1_000_000);
        let mut streak = FailingStreak::default();
        for n in 0..9 {
            streak = streak.after_attempt(false, start.plus(day * n));
        }
        assert_eq!(streak.span, Some((start, start.plus(day * 8))));
        // Nine failures over eight days: long enough, too few.
        assert!(!streak.should_disable(DEFAULT_DISABLE_AFTER));
        streak = streak.after_attempt(false, start.plus(day * 9));
        assert!(streak.should_disable(DEFAULT_DISABLE_AFTER));

        // Ten quick failures, then nothing to send for weeks: enough, not long enough.
        let mut quick = FailingStreak::default();
        for n in 0..10 {
            quick = quick.after_attempt(false, start.plus_seconds(n));
        }
        assert!(!quick.should_disable(DEFAULT_DISABLE_AFTER));
        // One more failure five days after the first makes it long enough.
        let later = quick.after_attempt(false, start.plus(DEFAULT_DISABLE_AFTER));
        assert!(later.should_disable(DEFAULT_DISABLE_AFTER));

        // One delivery ends the run.
        let ended = streak.after_attempt(true, start.plus(day * 10));
        assert_eq!(ended, FailingStreak::default());
        assert!(!ended.should_disable(DEFAULT_DISABLE_AFTER));
    }

    #[test]
    fn attempts_recorded_out_of_order_only_widen_the_span() {
        let start = Timestamp::from_millis(1_000_000);
        let streak = FailingStreak::default()
            .after_attempt(false, start.plus_seconds(5))
            .after_attempt(false, start)
            .after_attempt(false, start.plus_seconds(3));
        assert_eq!(streak.span, Some((start, start.plus_seconds(5))));
        assert_eq!(streak.attempts, 3);
    }

    fn endpoint(url: &str, events: &[&str], status: EndpointStatus) -> WebhookEndpoint {
        WebhookEndpoint {
            id: WebhookEndpointId::generate(),
            merchant_id: MerchantId::generate(),
            url: WebhookUrl::from_trusted(url.into()),
            enabled_events: EnabledEvents::parse(events).unwrap(),
            description: None,
            ack_mode: AckMode::Status,
            status,
            disabled_reason: (status == EndpointStatus::Disabled).then_some(DisabledReason::Manual),
            created_at: Timestamp::from_millis(0),
            is_default: false,
            object: "webhook_endpoint",
        }
    }

    #[test]
    fn an_event_goes_to_each_enabled_endpoint_that_takes_it_and_to_the_payments_url() {
        let all = endpoint("https://all.example/", &["*"], EndpointStatus::Enabled);
        let refunds = endpoint("https://refunds.example/", &["payment.refunded"], EndpointStatus::Enabled);
        let off = endpoint("https://off.example/", &["*"], EndpointStatus::Disabled);
        let notices = endpoint("https://ops.example/", &["webhook_endpoint.disabled"], EndpointStatus::Enabled);
        let endpoints = [all.clone(), refunds.clone(), off, notices];
        let own = WebhookUrl::from_trusted("https://all.example/".into());
        let to = |id: &WebhookEndpointId, url: &WebhookUrl| Destination::Endpoint { id: id.clone(), url: url.clone() };

        let (refunded, succeeded) = (EventKind::Payment(EventType::Refunded), EventKind::Payment(EventType::Succeeded));

        let missed = Destination::Missed { id: endpoints[2].id.clone(), url: endpoints[2].url.clone() };
        assert_eq!(
            destinations(refunded, Some(&own), &endpoints),
            [to(&all.id, &all.url), to(&refunds.id, &refunds.url), missed.clone(), Destination::Payment(own.clone())]
        );
        assert_eq!(destinations(succeeded, None, &endpoints), [to(&all.id, &all.url), missed]);
        assert_eq!(destinations(succeeded, Some(&own), &[]), [Destination::Payment(own.clone())]);
        assert!(destinations(succeeded, None, &[]).is_empty());
        let disabled = EventKind::Endpoint(EndpointEventType::Disabled);
        assert_eq!(destinations(disabled, None, &endpoints), [to(&endpoints[3].id, &endpoints[3].url)]);
    }

    #[test]
    fn the_default_endpoint_takes_a_payments_events_only_when_the_payment_names_no_url() {
        let mut default = endpoint("https://default.example/", &["*"], EndpointStatus::Enabled);
        default.is_default = true;
        let own = WebhookUrl::from_trusted("https://own.example/".into());
        let succeeded = EventKind::Payment(EventType::Succeeded);
        let to_default = Destination::Endpoint { id: default.id.clone(), url: default.url.clone() };
        let endpoints = [default];
        assert_eq!(destinations(succeeded, None, &endpoints), [to_default]);
        assert_eq!(destinations(succeeded, Some(&own), &endpoints), [Destination::Payment(own)]);
    }

    #[test]
    fn an_endpoint_object_has_the_fields_of_the_api() {
        let endpoint = endpoint("https://all.example/", &["*"], EndpointStatus::Enabled);
        let json = serde_json::to_value(&endpoint).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = [
            "id",
            "object",
            "url",
            "enabled_events",
            "description",
            "ack_mode",
            "status",
            "disabled_reason",
            "created_at",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected, "and never the secret");
        assert_eq!(json["object"], "webhook_endpoint");
        assert_eq!(json["enabled_events"], serde_json::json!(["*"]));
        assert_eq!(EventKind::parse("webhook_endpoint.test"), Some(EventKind::Endpoint(EndpointEventType::Test)));
        assert_eq!(EventKind::parse("payment.refunded"), Some(EventKind::Payment(EventType::Refunded)));
        assert_eq!(EventKind::parse("*"), None);
    }

    #[test]
    fn an_event_is_pending_until_every_destination_ended() {
        use DeliveryStatus::{Delivered, Failed, Pending, Skipped};
        assert_eq!(overall_status([]), Skipped);
        assert_eq!(overall_status([Skipped]), Skipped);
        assert_eq!(overall_status([Delivered, Pending, Failed]), Pending);
        assert_eq!(overall_status([Delivered, Failed]), Failed);
        assert_eq!(overall_status([Failed, Skipped]), Failed);
        assert_eq!(overall_status([Pending, Skipped]), Pending);
        assert_eq!(overall_status([Delivered, Skipped]), Delivered);
        assert_eq!(overall_status([Delivered, Delivered]), Delivered);
    }
}
