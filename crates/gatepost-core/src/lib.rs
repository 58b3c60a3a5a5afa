//! The gatepost domain: money, identifiers, the payment status machine, events and
//! signatures. Pure code: no I/O, no HTTP, no SQL.
//!
//! # Layout
//! - [`card`]: card fields from the hosted page, and what may be kept of them.
//! - [`idempotency`]: what a repeated `Idempotency-Key` gets.
//! - [`dashboard`]: the dashboard's users: roles, sessions, sign-in links, throttling,
//!   passwords.
//! - [`delivery`]: what the webhook outbox records about each event and attempt.
//! - [`endpoints`]: a merchant's webhook endpoints: event filters, turning off one that
//!   keeps failing, one status from several destinations.
//! - [`ids`]: prefixed, opaque identifiers (`pay_…`, `evt_…`) and random secrets.
//! - [`names`]: [`names::Named`], the one `as_str`/`parse` of every enum with wire names.
//! - [`money`]: [`money::Currency`] with its ISO 4217 exponent and [`money::Amount`].
//! - [`status`]: the one status machine every payment change goes through.
//! - [`payment`]: the payment as the rest of the system sees it, and its validated input.
//! - [`changes`]: every change to a payment decided: new state, events, refusals.
//! - [`returns`]: where the shopper is sent back to, with which signed parameters.
//! - [`urls`]: return and webhook URL rules (docs/reference/urls.md).
//! - [`signing`]: webhook (Standard Webhooks) and return-redirect signatures.
//! - [`text`]: what free text merchants send may contain.
//! - [`time`]: millisecond timestamps and the injectable [`time::Clock`].

pub mod card;
pub mod changes;
pub mod dashboard;
pub mod delivery;
pub mod endpoints;
pub mod idempotency;
pub mod ids;
pub mod money;
pub mod names;
pub mod payment;
pub mod returns;
pub mod signing;
pub mod status;
pub mod text;
pub mod time;
pub mod urls;
