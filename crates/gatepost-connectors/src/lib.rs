//! Connectors: the adapters between gatepost and an acquirer (SPEC §8).
//!
//! # Layout
//! - [`Connector`]: the one trait every acquirer adapter implements.
//! - [`sandbox`]: the in-process test acquirer, with outcomes chosen by test card (SPEC §4).

pub mod sandbox;

use async_trait::async_trait;
use gatepost_core::card::Card;
use gatepost_core::ids::{AttemptId, PaymentId};
use gatepost_core::money::Currency;
use gatepost_core::payment::CaptureMode;
use std::time::Duration;

/// What a connector needs to authorize one attempt.
#[derive(Debug)]
pub struct AuthorizeRequest<'a> {
    pub payment_id: &'a PaymentId,
    pub attempt_id: &'a AttemptId,
    pub amount: i64,
    pub currency: Currency,
    pub capture: CaptureMode,
    /// Used for this call only; a connector never keeps it.
    pub card: &'a Card,
}

/// The acquirer's answer about one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Authorized, and captured too when the payment captures automatically.
    Approved,
    /// Refused by the issuer: the attempt is used up.
    Declined { code: String, message: String },
    /// The acquirer failed to process it: the attempt is used up, and a retry may work.
    Error { code: String, message: String },
    /// The issuer wants the shopper to authenticate (3-D Secure) first.
    ChallengeRequired,
    /// The result comes later, by callback or by polling.
    Pending,
}

/// The answer to an authorization, with the acquirer's reference for later calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub reference: String,
    pub outcome: Outcome,
}

/// Why a connector call failed; the attempt counts as an `ERROR`.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("acquirer unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected answer from the acquirer: {0}")]
    Protocol(String),
}

/// An acquirer adapter.
#[async_trait]
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// The name merchants choose it by, and the `{connector}` of its callback URL.
    fn name(&self) -> &'static str;

    async fn authorize(&self, request: &AuthorizeRequest<'_>) -> Result<Authorization, ConnectorError>;

    /// The shopper finished (or failed) the 3-D Secure challenge of `reference`.
    async fn complete_challenge(&self, reference: &str, authenticated: bool) -> Result<Outcome, ConnectorError>;

    /// Asks for the current result of a pending attempt; `Outcome::Pending` if unsettled.
    async fn poll(&self, reference: &str) -> Result<Outcome, ConnectorError>;

    /// How long after a pending answer the result is worth asking for.
    fn first_poll_after(&self) -> Duration;
}
