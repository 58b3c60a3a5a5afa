//! `GET /metrics` in the Prometheus text format (docs/reference/operations.md#metrics).

use crate::AppState;
use crate::api::auth::bearer_token;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::names::Named as _;
use gatepost_core::status::PaymentStatus;
use gatepost_store::ChangeOutcome;
use gatepost_webhooks::WebhookMetrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

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
    /// When the backlog gauge was last read from the database: at most once per
    /// [`BACKLOG_MAX_AGE`].
    backlog_read_at: tokio::sync::Mutex<Option<Instant>>,
}

/// How old the backlog figure `/metrics` shows may be: however often `/metrics` is asked
/// for, the database counts the backlog at most once a second.
const BACKLOG_MAX_AGE: Duration = Duration::from_secs(1);

/// What becomes of a callback: the `result` label of `gatepost_callbacks_total`.
const CALLBACK_RESULTS: [&str; 6] = ["applied", "ignored", "duplicate", "unknown", "bad_signature", "malformed"];

impl Metrics {
    /// Registers every series, each labelled series with every label value it can take at
    /// zero, so that `rate()` and alerts work before the first event
    /// (docs/reference/operations.md#metrics).
    pub(crate) fn new(connectors: &[&str]) -> Self {
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
        for (from, to) in counted_transitions() {
            let _ = transitions.get_or_create(&Transition { from: from.as_str(), to: to.as_str() });
        }
        for connector in connectors {
            for result in CALLBACK_RESULTS {
                let _ = callbacks.get_or_create(&CallbackLabels { connector: (*connector).to_owned(), result });
            }
        }
        let backlog_read_at = tokio::sync::Mutex::new(None);
        Self { registry, webhooks, payments_created, transitions, callbacks, backlog_read_at }
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

    /// Reads the backlog and the endpoint counts from the database unless they were read
    /// within [`BACKLOG_MAX_AGE`]. The backlog comes from a partial index of pending events,
    /// never a scan of the table; endpoints are few.
    async fn refresh_backlog(&self, store: &dyn gatepost_store::Store) {
        let mut read_at = self.backlog_read_at.lock().await;
        if read_at.is_some_and(|at| at.elapsed() < BACKLOG_MAX_AGE) {
            return;
        }
        match store.webhook_backlog().await {
            Ok(backlog) => {
                self.webhooks.backlog.set(i64::try_from(backlog).unwrap_or(i64::MAX));
            }
            Err(error) => tracing::warn!(%error, "could not count the webhook backlog"),
        }
        match store.webhook_endpoint_counts().await {
            Ok(counts) => self.webhooks.set_endpoints(&counts),
            Err(error) => tracing::warn!(%error, "could not count the webhook endpoints"),
        }
        *read_at = Some(Instant::now());
    }
}

/// The status changes the transitions counter can count: every move the status machine
/// allows, and the two that stay put (a declined attempt leaves a payment `OPEN`, a
/// partial refund leaves it `SUCCESS`).
fn counted_transitions() -> impl Iterator<Item = (PaymentStatus, PaymentStatus)> {
    let moves = PaymentStatus::ALL
        .iter()
        .flat_map(|&from| PaymentStatus::ALL.iter().map(move |&to| (from, to)))
        .filter(|(from, to)| from.may_move_to(*to));
    moves.chain([(PaymentStatus::Open, PaymentStatus::Open), (PaymentStatus::Success, PaymentStatus::Success)])
}

/// `GET /metrics`; with `GATEPOST_METRICS_TOKEN` set, only for `Authorization: Bearer <token>`.
pub(crate) async fn serve_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.settings().metrics_token {
        // Hashes of equal length compare without telling, by their timing, how much of a
        // guessed token was right.
        let presented = bearer_token(&headers).map(|token| Sha256::digest(token.as_bytes()));
        if presented != Some(Sha256::digest(expected.as_bytes())) {
            return ApiError::unauthorized_for("Send the metrics token as `Authorization: Bearer <token>`.")
                .into_response();
        }
    }
    let metrics = &state.inner.metrics;
    metrics.refresh_backlog(state.store()).await;
    let mut text = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &metrics.registry) {
        tracing::error!(%error, "metrics did not encode");
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
