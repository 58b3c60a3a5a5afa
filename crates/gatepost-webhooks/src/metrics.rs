//! Delivery metrics (docs/reference/operations.md#metrics), registered in the server's
//! Prometheus registry.

use gatepost_core::endpoints::EndpointStatus;
use gatepost_core::names::Named as _;
use gatepost_core::time::Timestamp;
use gatepost_store::NextStep;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// What became of an attempt: the `outcome` label of `gatepost_webhook_attempts_total`.
pub const OUTCOMES: [&str; 3] = ["delivered", "failed", "blocked"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    status: &'static str,
}

/// The webhook series of `/metrics`.
#[derive(Clone, Debug)]
pub struct WebhookMetrics {
    attempts: Family<Outcome, Counter>,
    attempt_duration: Histogram,
    event_to_delivery: Histogram,
    /// Events not delivered yet; set from the database when `/metrics` is read.
    pub backlog: Gauge,
    /// Webhook endpoints by status, over every merchant; set with the backlog.
    endpoints: Family<EndpointLabels, Gauge>,
}

impl WebhookMetrics {
    #[must_use]
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            attempts: Family::default(),
            attempt_duration: Histogram::new(exponential_buckets(0.000_5, 2.0, 18)),
            event_to_delivery: Histogram::new(exponential_buckets(0.000_5, 2.0, 24)),
            backlog: Gauge::default(),
            endpoints: Family::default(),
        };
        registry.register(
            "gatepost_webhook_attempts",
            "Webhook delivery attempts by outcome",
            metrics.attempts.clone(),
        );
        registry.register(
            "gatepost_webhook_attempt_duration_seconds",
            "Time from sending a webhook to its answer",
            metrics.attempt_duration.clone(),
        );
        registry.register(
            "gatepost_webhook_event_to_delivery_seconds",
            "Time from the commit of an event to its acknowledged delivery",
            metrics.event_to_delivery.clone(),
        );
        registry.register("gatepost_webhook_backlog", "Webhook events not delivered yet", metrics.backlog.clone());
        registry.register("gatepost_webhook_endpoints", "Webhook endpoints by status", metrics.endpoints.clone());
        for status in EndpointStatus::ALL {
            let _ = metrics.endpoints.get_or_create(&EndpointLabels { status: status.as_str() });
        }
        // Every outcome from the start, at zero, so that rate() and alerts work at once.
        for outcome in OUTCOMES {
            let _ = metrics.attempts.get_or_create(&Outcome { outcome });
        }
        metrics
    }

    /// Sets the endpoints gauge from a count by status; a status missing from it has none.
    pub fn set_endpoints(&self, counts: &[(EndpointStatus, u64)]) {
        for status in EndpointStatus::ALL {
            let count = counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            self.endpoints
                .get_or_create(&EndpointLabels { status: status.as_str() })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    pub(crate) fn record_attempt(
        &self,
        outcome: &'static str,
        duration_ms: i64,
        event_created_at: Timestamp,
        now: Timestamp,
        next: &NextStep,
    ) {
        self.attempts.get_or_create(&Outcome { outcome }).inc();
        #[allow(clippy::cast_precision_loss)] // milliseconds fit an f64 exactly for centuries
        self.attempt_duration.observe(duration_ms as f64 / 1000.0);
        if *next == NextStep::Delivered {
            #[allow(clippy::cast_precision_loss)]
            let waited = (now.millis() - event_created_at.millis()).max(0) as f64 / 1000.0;
            self.event_to_delivery.observe(waited);
        }
    }
}
