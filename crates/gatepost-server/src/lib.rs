//! The gatepost HTTP server: the merchant API, and (in time) the hosted payment page,
//! provider callbacks and operations endpoints, on one axum router.
//!
//! # Layout
//! - [`AppState`]: what every handler shares (store, clock, settings).
//! - `api/`: the JSON API under `/v1` (docs/reference/api.md, docs/reference/payments.md),
//!   each module with its own router.
//! - `hpp/`: the hosted payment page and the return redirect
//!   (docs/reference/hosted-page.md, docs/reference/returns.md).
//! - `dashboard/`: the merchant's dashboard under `/dashboard`, with its users and
//!   sessions (docs/reference/dashboard.md).
//! - `callbacks`: `POST /callbacks/{connector}`, results acquirers report
//!   (docs/reference/callbacks.md).
//! - `flow/`: everything that talks to a connector: card attempts, capture, cancel,
//!   refunds, callbacks and polling, each recorded through the status machine.
//! - [`background`]: the sweeps that expire payments and poll pending attempts.
//! - [`connections`]: the accept loop, with the connection cap and header and idle
//!   timeouts; `body_deadline`: the body timeout; [`rate_limit`]: requests per key and
//!   per client address (docs/reference/limits.md).
//! - `error`: the one HTTP error type, answered as `application/problem+json`.
//! - `extract`: request extractors that answer in that format even when they reject.
//! - `panics`: a panicking handler still gets an answer, `500 internal`.
//! - `ops`: `/healthz` and `/readyz` (docs/reference/operations.md#health); `metrics`: `/metrics`.
//! - `openapi`: `/openapi.json`, generated from the handlers' annotations.

mod api;
pub mod background;
mod body_deadline;
mod callbacks;
pub mod connections;
mod dashboard;
mod error;
mod extract;
mod flow;
mod hpp;
mod metrics;
mod openapi;
mod ops;
mod panics;
pub mod rate_limit;

pub use connections::{ConnectionLimits, serve};
pub use error::ApiError;
pub use flow::Connectors;
pub use rate_limit::Rate;

use axum::Router;
use gatepost_core::time::Clock;
use gatepost_core::urls::Mode;
use gatepost_store::Store;
use std::sync::Arc;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Settings the server needs from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Base of `checkout_url` and every link the gateway hands out, without a trailing `/`.
    pub public_url: String,
    pub mode: Mode,
    /// Refuse webhook URLs that name a port (docs/reference/urls.md#webhook-urls).
    pub forbid_explicit_port: bool,
    /// When set, `/metrics` answers only requests that bear it.
    pub metrics_token: Option<String>,
    pub limits: RequestLimits,
}

/// Limits on requests (docs/reference/limits.md); those on connections are
/// [`ConnectionLimits`].
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// How long a request's body may take to arrive whole.
    pub body_timeout: std::time::Duration,
    /// Requests per second per API key on `/v1`; `None` for no limit.
    pub api_rate: Option<Rate>,
    /// `POST`s per second per client address on the hosted page; `None` for no limit.
    pub pay_rate: Option<Rate>,
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
    rate_limits: rate_limit::RateLimits,
}

impl AppState {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings, connectors: Connectors) -> Self {
        let merchants = api::auth::MerchantCache::default();
        let metrics = metrics::Metrics::new(&connectors.names());
        let rate_limits = rate_limit::RateLimits::new(settings.limits.api_rate, settings.limits.pay_rate);
        Self { inner: Arc::new(Inner { store, clock, settings, connectors, metrics, merchants, rate_limits }) }
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// Forgets the cached authentication of a merchant whose keys or settings changed, so
    /// this node sees the change at once (others within the cache's second).
    fn forget_merchant(&self, merchant: &gatepost_core::ids::MerchantId) {
        self.inner.merchants.forget(merchant);
    }

    /// The store itself, for work that outlives the request (a streamed export).
    fn inner_store(&self) -> &Arc<dyn Store> {
        &self.inner.store
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
        .merge(openapi::router(&state.connectors().names()))
        .merge(hpp::router(state.clone()))
        .merge(dashboard::router(state.clone()))
        .merge(callbacks::router())
        .nest("/v1", api::router(state.clone()))
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn(panics::as_problem))
        .layer(axum::middleware::from_fn_with_state(state.clone(), body_deadline::apply))
        .layer(
            // One line per request, with method, path and status; never bodies, query
            // strings or the hosted page's tokens.
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    let path = loggable_path(request.uri().path());
                    tracing::info_span!("request", method = %request.method(), %path)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// A request's path as the logs show it. The token of `/pay/{token}` is a bearer secret
/// (whoever holds it can pay, or cancel), and so is a sign-in link's: neither reaches a log.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    if path.starts_with("/dashboard/login/") {
        return "/dashboard/login/[token]".into();
    }
    match path.strip_prefix("/pay/") {
        Some(rest) => {
            let after_token = rest.find('/').map_or("", |slash| &rest[slash..]);
            format!("/pay/[token]{after_token}").into()
        }
        None => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn hosted_page_tokens_never_reach_the_logs() {
        assert_eq!(loggable_path("/pay/8y2QdSecretToken"), "/pay/[token]");
        assert_eq!(loggable_path("/pay/8y2QdSecretToken/3ds"), "/pay/[token]/3ds");
        assert_eq!(loggable_path("/pay/"), "/pay/[token]");
        assert_eq!(loggable_path("/v1/payments/pay_1"), "/v1/payments/pay_1");
        assert_eq!(loggable_path("/dashboard/login/8y2QdSecretToken"), "/dashboard/login/[token]");
        assert_eq!(loggable_path("/dashboard/login"), "/dashboard/login");
    }
}
