//! Webhook delivery (docs/reference/webhooks.md): the system's channel, at least once, signed with
//! Standard Webhooks 1.0, retried for about a month.
//!
//! # Layout
//! - [`dispatcher`]: the worker — claims due events, sends them, records each attempt.
//! - [`destinations`]: fairness — a cap on attempts in flight per destination.
//! - [`deliver`]: one attempt — sign, send, judge the answer, decide what follows.
//! - [`client`]: the HTTP client (rustls, keep-alive, no redirects, address guard).
//! - [`schedule`]: when to try again — the retry schedule with jitter, and `Retry-After`.
//! - [`guard`]: which addresses a webhook may connect to.
//! - [`ack`]: what counts as an acknowledgement.
//! - [`metrics`]: the delivery series of `/metrics`.

pub mod ack;
pub mod client;
pub mod deliver;
pub mod destinations;
pub mod dispatcher;
pub mod guard;
pub mod metrics;
pub mod schedule;

pub use client::{ClientSettings, WebhookClient};
pub use dispatcher::Dispatcher;
pub use metrics::WebhookMetrics;
pub use schedule::RetrySchedule;
