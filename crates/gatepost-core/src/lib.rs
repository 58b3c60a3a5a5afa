//! The gatepost domain: money, identifiers, the payment status machine, events and
//! signatures. Pure code: no I/O, no HTTP, no SQL.
//!
//! # Layout
//! - [`ids`]: prefixed, opaque identifiers (`pay_…`, `evt_…`) and random secrets.
//! - [`money`]: [`money::Currency`] with its ISO 4217 exponent and [`money::Amount`].
//! - [`status`]: the one status machine every payment change goes through.
//! - [`payment`]: the payment as the rest of the system sees it, and its validated input.
//! - [`urls`]: return and webhook URL rules (SPEC §9).
//! - [`signing`]: webhook (Standard Webhooks) and return-redirect signatures.
//! - [`time`]: millisecond timestamps and the injectable [`time::Clock`].

pub mod ids;
pub mod money;
pub mod payment;
pub mod signing;
pub mod status;
pub mod time;
pub mod urls;
