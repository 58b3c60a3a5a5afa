//! The `simulator` connector: gatepost's HTTP client of `gatepost acquirer-sim`, an acquirer
//! in another process that answers later, by signed callbacks
//! (docs/reference/connectors.md#simulator).
//!
//! # Layout
//! - [`protocol`]: paths, bodies and the signature, shared with the simulator itself.
//! - `transport`: signed requests with bounded retries.
//! - [`Simulator`]: the [`Connector`] on top of them.

pub mod protocol;
mod transport;

use crate::{
    Authorization, AuthorizeRequest, Callback, CallbackError, CallbackSubject, Connector, ConnectorError,
    OperationOutcome, Outcome, RefundAnswer, RefundOutcome, RefundRequest,
};
use async_trait::async_trait;
use gatepost_core::money::Currency;
use gatepost_core::time::Timestamp;
use protocol::{
    AuthorizationOut, AuthorizationStatus, AuthorizeIn, CallbackAbout, CallbackBody, CaptureIn, CardIn, ChallengeIn,
    OperationOut, RefundIn, RefundOut, SharedSecret,
};
use reqwest::Method;
use std::fmt;
use std::time::Duration;
use transport::Transport;

/// Where the simulator is and how to talk to it (`connectors.simulator.*`).
#[derive(Clone)]
pub struct SimulatorSettings {
    /// Base URL of `gatepost acquirer-sim`, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// Signs requests to the simulator and verifies its callbacks.
    pub secret: String,
    /// When a pending attempt is first worth polling, if its callback has not come.
    pub poll_after: Duration,
    /// How long one request may take before it counts as failed.
    pub timeout: Duration,
}

impl fmt::Debug for SimulatorSettings {
    // Secrets never reach logs (docs/reference/urls.md#secrets-and-keys).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatorSettings")
            .field("url", &self.url)
            .field("secret", &"…")
            .field("poll_after", &self.poll_after)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The connector. One HTTP client with keep-alive, shared by every call.
#[derive(Debug)]
pub struct Simulator {
    transport: Transport,
    /// Verifies callbacks; the same secret signs requests
    /// (docs/reference/connectors.md#simulator-protocol).
    secret: SharedSecret,
    poll_after: Duration,
}

impl Simulator {
    #[must_use]
    pub fn new(settings: SimulatorSettings) -> Self {
        Self {
            transport: Transport::new(&settings.url, &settings.secret, settings.timeout),
            secret: SharedSecret::new(&settings.secret),
            poll_after: settings.poll_after,
        }
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ConnectorError> {
        let bytes = serde_json::to_vec(body).expect("wire types serialize");
        self.transport.call(Method::POST, path, bytes).await
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ConnectorError> {
        self.transport.call(Method::GET, path, Vec::new()).await
    }
}

/// A reference is put into a path as it is, so one the simulator cannot have made is refused
/// before anything is sent.
fn checked(reference: &str) -> Result<&str, ConnectorError> {
    if protocol::is_reference(reference) {
        Ok(reference)
    } else {
        Err(ConnectorError::Protocol(format!("{reference:?} is not a simulator reference")))
    }
}

#[async_trait]
impl Connector for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    #[tracing::instrument(skip_all, fields(attempt_id = %request.attempt_id))]
    async fn authorize(&self, request: &AuthorizeRequest<'_>) -> Result<Authorization, ConnectorError> {
        let summary = request.card.summary();
        let body = AuthorizeIn {
            attempt_id: request.attempt_id.clone(),
            payment_id: request.payment_id.clone(),
            amount: request.amount,
            currency: request.currency,
            capture: request.capture,
            card: CardIn {
                number: request.card.number().to_owned(),
                exp_month: summary.exp_month,
                exp_year: summary.exp_year,
                cvc: request.card.cvc().to_owned(),
            },
        };
        let answer: AuthorizationOut = self.post(protocol::AUTHORIZATIONS_PATH, &body).await?;
        checked(&answer.reference)?;
        Ok(Authorization { reference: answer.reference, outcome: answer.status.into() })
    }

    #[tracing::instrument(skip(self))]
    async fn complete_challenge(&self, reference: &str, authenticated: bool) -> Result<Outcome, ConnectorError> {
        let path = protocol::challenge_path(checked(reference)?);
        let answer: AuthorizationOut = self.post(&path, &ChallengeIn { authenticated }).await?;
        Ok(answer.status.into())
    }

    #[tracing::instrument(skip(self))]
    async fn poll(&self, reference: &str) -> Result<Outcome, ConnectorError> {
        let answer: AuthorizationOut = self.get(&protocol::authorization_path(checked(reference)?)).await?;
        Ok(answer.status.into())
    }

    fn first_poll_after(&self) -> Duration {
        self.poll_after
    }

    #[tracing::instrument(skip(self))]
    async fn capture(
        &self,
        reference: &str,
        amount: i64,
        currency: Currency,
    ) -> Result<OperationOutcome, ConnectorError> {
        let path = protocol::capture_path(checked(reference)?);
        let answer: OperationOut = self.post(&path, &CaptureIn { amount, currency }).await?;
        Ok(answer.into())
    }

    #[tracing::instrument(skip(self))]
    async fn void(&self, reference: &str) -> Result<OperationOutcome, ConnectorError> {
        let path = protocol::void_path(checked(reference)?);
        let answer: OperationOut = self.post(&path, &serde_json::json!({})).await?;
        Ok(answer.into())
    }

    #[tracing::instrument(skip_all, fields(refund_id = %request.refund_id, authorization = request.authorization))]
    async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundAnswer, ConnectorError> {
        let body = RefundIn {
            refund_id: request.refund_id.clone(),
            payment_id: request.payment_id.clone(),
            authorization: request.authorization.to_owned(),
            amount: request.amount,
            currency: request.currency,
        };
        let answer: RefundOut = self.post(protocol::REFUNDS_PATH, &body).await?;
        checked(&answer.reference)?;
        Ok(RefundAnswer { reference: answer.reference, outcome: answer.status.into() })
    }

    #[tracing::instrument(skip(self))]
    async fn poll_refund(&self, reference: &str) -> Result<RefundOutcome, ConnectorError> {
        let answer: RefundOut = self.get(&protocol::refund_path(checked(reference)?)).await?;
        Ok(answer.status.into())
    }

    fn parse_callback(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Callback, CallbackError> {
        let header = headers.get(protocol::SIGNATURE_HEADER).and_then(|value| value.to_str().ok());
        self.secret
            .verify(header, "POST", protocol::CALLBACK_PATH, body, now.unix_seconds())
            .map_err(|_| CallbackError::BadSignature)?;
        let callback: CallbackBody =
            serde_json::from_slice(body).map_err(|e| CallbackError::Malformed(e.to_string()))?;
        callback_from_wire(callback)
    }
}

/// Takes a verified callback into gatepost's words, refusing what an acquirer cannot mean.
fn callback_from_wire(callback: CallbackBody) -> Result<Callback, CallbackError> {
    if callback.id.is_empty() {
        return Err(CallbackError::Malformed("empty callback id".to_owned()));
    }
    let subject = match callback.about {
        CallbackAbout::Authorization { attempt_id, reference, status } => {
            if gatepost_core::ids::AttemptId::parse(attempt_id.as_str()).is_none() {
                return Err(CallbackError::Malformed(format!("{attempt_id} is not an attempt id")));
            }
            // A challenge is only ever the answer to an authorize call, never news.
            if status == AuthorizationStatus::ChallengeRequired {
                return Err(CallbackError::Malformed("a callback cannot ask for a challenge".to_owned()));
            }
            CallbackSubject::Attempt { attempt_id, reference, outcome: status.into() }
        }
        CallbackAbout::Refund { refund_id, reference, status } => {
            if gatepost_core::ids::RefundId::parse(refund_id.as_str()).is_none() {
                return Err(CallbackError::Malformed(format!("{refund_id} is not a refund id")));
            }
            CallbackSubject::Refund { refund_id, reference, outcome: status.into() }
        }
    };
    Ok(Callback { id: callback.id, subject })
}

#[cfg(test)]
mod tests;
