//! Connectors: the adapters between gatepost and an acquirer (docs/reference/connectors.md).
//!
//! # Layout
//! - [`Connector`]: the one trait every acquirer adapter implements.
//! - [`sandbox`]: the in-process test acquirer, with outcomes chosen by test card
//!   (docs/reference/connectors.md#sandbox).
//! - [`simulator`]: the HTTP client of `gatepost acquirer-sim`, and the wire protocol both share.
//! - [`test_cards`]: the test-card table both test acquirers follow.

pub mod sandbox;
pub mod simulator;
pub mod test_cards;

use async_trait::async_trait;
use gatepost_core::card::Card;
use gatepost_core::ids::{AttemptId, PaymentId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::payment::CaptureMode;
use gatepost_core::time::Timestamp;
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

/// The acquirer's answer to a capture or a void of an authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationOutcome {
    Done,
    /// Refused, for instance because the authorization was voided, captured or expired.
    Refused {
        code: String,
        message: String,
    },
}

/// What a connector needs to refund part of a captured payment.
#[derive(Debug)]
pub struct RefundRequest<'a> {
    /// Also the acquirer's idempotency key: asking twice refunds once.
    pub refund_id: &'a RefundId,
    pub payment_id: &'a PaymentId,
    /// The connector reference of the attempt that was captured.
    pub authorization: &'a str,
    pub amount: i64,
    pub currency: Currency,
}

/// Where a refund stands at the acquirer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    Succeeded,
    /// The result comes later, by callback or by polling.
    Pending,
    Failed {
        code: String,
        message: String,
    },
}

/// The answer to a refund request, with the acquirer's reference for later polls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundAnswer {
    pub reference: String,
    pub outcome: RefundOutcome,
}

/// A result the acquirer reported on its own (docs/reference/callbacks.md#callbacks),
/// verified and parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// The acquirer's id for this notification: a callback is applied once per id.
    pub id: String,
    pub subject: CallbackSubject,
}

/// What a callback is about, named by gatepost's own ids (sent to the acquirer with the
/// request, as Adyen's `merchantReference`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackSubject {
    /// `reference` is the acquirer's reference of the authorization, as `authorize` answers it.
    Attempt { attempt_id: AttemptId, reference: String, outcome: Outcome },
    /// `reference` is the acquirer's reference of the refund, as `refund` answers it.
    Refund { refund_id: RefundId, reference: String, outcome: RefundOutcome },
}

/// Why a callback was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// Missing, wrong or outdated signature: answered 401, nothing changes.
    #[error("the callback's signature does not verify")]
    BadSignature,
    #[error("malformed callback: {0}")]
    Malformed(String),
    /// This connector never calls back over HTTP.
    #[error("this connector does not send callbacks")]
    NotSupported,
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

    /// Captures `amount` (at most the authorized amount) of the authorization `reference`.
    /// Asking twice captures once.
    async fn capture(
        &self,
        reference: &str,
        amount: i64,
        currency: Currency,
    ) -> Result<OperationOutcome, ConnectorError>;

    /// Releases the reserved funds of the authorization `reference`.
    async fn void(&self, reference: &str) -> Result<OperationOutcome, ConnectorError>;

    async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundAnswer, ConnectorError>;

    /// Asks for the current result of a pending refund; `RefundOutcome::Pending` if unsettled.
    async fn poll_refund(&self, reference: &str) -> Result<RefundOutcome, ConnectorError>;

    /// Verifies and parses a callback the acquirer POSTed to `/callbacks/{name}`.
    fn parse_callback(&self, headers: &http::HeaderMap, body: &[u8], now: Timestamp)
    -> Result<Callback, CallbackError>;
}
