//! `GET /metrics` in the Prometheus text format (SPEC §12).

use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gatepost_core::status::PaymentStatus;
use gatepost_store::ChangeOutcome;
use gatepost_webhooks::WebhookMetrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Transition {
    from: &'static str,
    to: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallbackLabels {
    connector: String,
    result: &'static str,
}

/// Every series gatepost exports.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) webhooks: WebhookMetrics,
    payments_created: Counter,
    transitions: Family<Transition, Counter>,
    callbacks: Family<CallbackLabels, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let webhooks = WebhookMetrics::register(&mut registry);
        let payments_created = Counter::default();
        registry.register("gatepost_payments_created", "Payments created", payments_created.clone());
        let transitions = Family::<Transition, Counter>::default();
        registry.register("gatepost_payment_transitions", "Payment status changes", transitions.clone());
        let callbacks = Family::<CallbackLabels, Counter>::default();
        registry.register(
            "gatepost_callbacks",
            "Provider callbacks received, by what became of them: applied, ignored (stale or late), \
             duplicate, unknown (no such attempt or refund), bad_signature, malformed",
            callbacks.clone(),
        );
        Self { registry, webhooks, payments_created, transitions, callbacks }
    }

    pub(crate) fn payment_created(&self) {
        self.payments_created.inc();
    }

    /// Counts a status change that was stored (a change to the same status counts too:
    /// a declined attempt that leaves the payment `OPEN`).
    pub(crate) fn changed(&self, outcome: &ChangeOutcome) {
        if let ChangeOutcome::Applied { payment, from } = outcome {
            self.transition(*from, payment.status);
        }
    }

    /// Counts a provider callback by what became of it.
    pub(crate) fn callback(&self, connector: &str, result: &'static str) {
        self.callbacks.get_or_create(&CallbackLabels { connector: connector.to_owned(), result }).inc();
    }

    fn transition(&self, from: PaymentStatus, to: PaymentStatus) {
        self.transitions.get_or_create(&Transition { from: from.as_str(), to: to.as_str() }).inc();
    }
}

pub(crate) async fn serve_metrics(State(state): State<AppState>) -> Response {
    let metrics = &state.inner.metrics;
    match state.store().webhook_backlog().await {
        Ok(backlog) => {
            metrics.webhooks.backlog.set(i64::try_from(backlog).unwrap_or(i64::MAX));
        }
        Err(error) => tracing::warn!(%error, "could not count the webhook backlog"),
    }
    let mut text = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &metrics.registry) {
        tracing::error!(%error, "metrics did not encode");
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
