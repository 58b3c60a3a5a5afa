//! The gatepost HTTP server: the merchant API, and (in time) the hosted payment page,
//! provider callbacks and operations endpoints, on one axum router.
//!
//! # Layout
//! - [`AppState`]: what every handler shares (store, clock, settings).
//! - `api/`: the JSON API under `/v1` (SPEC §2, §3), each module with its own router.
//! - `hpp/`: the hosted payment page and the return redirect (SPEC §4, §5).
//! - `callbacks`: `POST /callbacks/{connector}`, results acquirers report (SPEC §7).
//! - `flow/`: everything that talks to a connector: card attempts, capture, cancel,
//!   refunds, callbacks and polling, each recorded through the status machine.
//! - [`background`]: the sweeps that expire payments and poll pending attempts.
//! - `error`: the one HTTP error type, answered as `application/problem+json`.
//! - `extract`: request extractors that answer in that format even when they reject.
//! - `panics`: a panicking handler still gets an answer, `500 internal`.
//! - `ops`: `/healthz` and `/readyz` (SPEC §12); `metrics`: `/metrics`.
//! - `openapi`: `/openapi.json`, generated from the handlers' annotations.

mod api;
pub mod background;
mod callbacks;
mod error;
mod extract;
mod flow;
mod hpp;
mod metrics;
mod openapi;
mod ops;
mod panics;

pub use error::ApiError;
pub use flow::Connectors;

use axum::Router;
use gatepost_core::time::Clock;
use gatepost_core::urls::Mode;
use gatepost_store::Store;
use std::sync::Arc;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

/// Settings the server needs from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Base of `checkout_url` and every link the gateway hands out, without a trailing `/`.
    pub public_url: String,
    pub mode: Mode,
    /// Refuse webhook URLs that name a port (SPEC §9).
    pub forbid_explicit_port: bool,
    /// When set, `/metrics` answers only requests that bear it.
    pub metrics_token: Option<String>,
}

/// Shared by every request; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    connectors: Connectors,
    metrics: metrics::Metrics,
    /// Recently authenticated API keys, so that a busy merchant's key is not looked
    /// up in the database on every request.
    merchants: api::auth::MerchantCache,
}

impl AppState {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings, connectors: Connectors) -> Self {
        let merchants = api::auth::MerchantCache::default();
        let metrics = metrics::Metrics::new(&connectors.names());
        Self { inner: Arc::new(Inner { store, clock, settings, connectors, metrics, merchants }) }
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    fn connectors(&self) -> &Connectors {
        &self.inner.connectors
    }

    /// The webhook series, for the delivery worker to record into.
    #[must_use]
    pub fn webhook_metrics(&self) -> gatepost_webhooks::WebhookMetrics {
        self.inner.metrics.webhooks.clone()
    }

    fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// Runs `event` through the status machine in the store, now, and counts the change.
    async fn apply(
        &self,
        merchant: Option<&gatepost_core::ids::MerchantId>,
        id: &gatepost_core::ids::PaymentId,
        event: gatepost_core::status::PaymentEvent,
    ) -> Result<gatepost_store::ChangeOutcome, gatepost_store::StoreError> {
        let outcome = self.store().apply(merchant, id, event, self.clock().now()).await?;
        self.metrics().changed(&outcome);
        Ok(outcome)
    }
}

/// The whole HTTP surface of gatepost.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ops::router())
        .merge(openapi::router())
        .merge(hpp::router(state.clone()))
        .merge(callbacks::router())
        .nest("/v1", api::router(state.clone()))
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn(panics::as_problem))
        .layer(
            // One line per request, with method, path and status; never bodies.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}
