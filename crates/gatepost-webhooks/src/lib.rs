//! Webhook delivery (SPEC §6, §9): the system's channel, at least once, signed with
//! Standard Webhooks 1.0, retried for about a month.
//!
//! # Layout
//! - [`schedule`]: when to try again — the retry schedule with jitter, and `Retry-After`.
//! - [`guard`]: which addresses a webhook may connect to (no private targets in live mode).
//! - [`ack`]: what counts as an acknowledgement.

pub mod ack;
pub mod guard;
pub mod schedule;
