//! The simulator's HTTP API (paths in `gatepost_connectors::simulator::protocol`), behind
//! `--fail-requests` and the signature check.

use crate::Sim;
use crate::state::LedgerError;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatepost_connectors::simulator::protocol::{
    self, AuthorizationOut, AuthorizeIn, CaptureIn, ChallengeIn, ErrorDetail, ErrorOut, OperationOut, RefundIn,
    RefundOut, SIGNATURE_HEADER,
};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tokio::time::Instant;

/// Bodies are a few hundred bytes; anything much larger is not from the gateway.
const MAX_BODY: usize = 64 * 1024;

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    let reference = "{reference}";
    Router::new()
        .route(protocol::AUTHORIZATIONS_PATH, post(authorize))
        .route(&protocol::authorization_path(reference), get(authorization))
        .route(&protocol::challenge_path(reference), post(challenge))
        .route(&protocol::capture_path(reference), post(capture))
        .route(&protocol::void_path(reference), post(void))
        .route(protocol::REFUNDS_PATH, post(refund))
        .route(&protocol::refund_path(reference), get(refund_status))
        // The last layer runs first: a request is failed before its signature is even read.
        .layer(middleware::from_fn_with_state(Arc::clone(&sim), verify_signature))
        .layer(middleware::from_fn_with_state(Arc::clone(&sim), crate::hostility::fail_some))
        .with_state(sim)
}

/// Every error answer, as an [`ErrorOut`].
#[derive(Debug)]
pub(crate) enum SimError {
    Unauthorized,
    NotFound,
    Conflict(&'static str),
    Invalid(String),
    Unavailable,
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Missing or wrong signature.".to_owned()),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "No such reference.".to_owned()),
            Self::Conflict(message) => (StatusCode::CONFLICT, "invalid_state", message.to_owned()),
            Self::Invalid(message) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message),
            Self::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Try again later (--fail-requests).".to_owned())
            }
        };
        let body = ErrorOut { error: ErrorDetail { code: code.to_owned(), message } };
        (status, Json(body)).into_response()
    }
}

impl From<LedgerError> for SimError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::NotFound => Self::NotFound,
            LedgerError::Conflict(message) => Self::Conflict(message),
            LedgerError::Invalid(message) => Self::Invalid(message.to_owned()),
        }
    }
}

/// Refuses any request not signed with the shared secret
/// (docs/reference/connectors.md#simulator-protocol), before its body is parsed.
async fn verify_signature(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return SimError::Invalid("the body is too large".to_owned()).into_response();
    };
    let header = parts.headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok());
    if let Err(reason) = sim.secret.verify(header, parts.method.as_str(), parts.uri.path(), &bytes, crate::unix_now()) {
        tracing::warn!(path = parts.uri.path(), %reason, "refused a request");
        return SimError::Unauthorized.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Parses a body. The error says where, never what: the body may hold a card number.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, SimError> {
    serde_json::from_slice(body).map_err(|error| {
        let kind = match error.classify() {
            serde_json::error::Category::Data => "a missing or mistyped field",
            serde_json::error::Category::Eof => "a truncated body",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => "invalid JSON",
        };
        SimError::Invalid(format!("{kind} at line {} column {}", error.line(), error.column()))
    })
}

#[tracing::instrument(skip_all, fields(attempt_id))]
async fn authorize(State(sim): State<Arc<Sim>>, body: Bytes) -> Result<Json<AuthorizationOut>, SimError> {
    let request: AuthorizeIn = parse(&body)?;
    tracing::Span::current().record("attempt_id", request.attempt_id.as_str());
    let (answer, settlement) = sim.ledger.authorize(request, Instant::now())?;
    if let Some(settlement) = settlement {
        sim.callbacks.schedule(settlement);
    }
    tracing::info!(reference = answer.reference, status = ?answer.status, "authorization");
    Ok(Json(answer))
}

#[tracing::instrument(skip(sim))]
async fn authorization(
    State(sim): State<Arc<Sim>>,
    Path(reference): Path<String>,
) -> Result<Json<AuthorizationOut>, SimError> {
    Ok(Json(sim.ledger.authorization(&reference, Instant::now())?))
}

#[tracing::instrument(skip(sim, body))]
async fn challenge(
    State(sim): State<Arc<Sim>>,
    Path(reference): Path<String>,
    body: Bytes,
) -> Result<Json<AuthorizationOut>, SimError> {
    let request: ChallengeIn = parse(&body)?;
    Ok(Json(sim.ledger.complete_challenge(&reference, request.authenticated, Instant::now())?))
}

#[tracing::instrument(skip(sim, body))]
async fn capture(
    State(sim): State<Arc<Sim>>,
    Path(reference): Path<String>,
    body: Bytes,
) -> Result<Json<OperationOut>, SimError> {
    let request: CaptureIn = parse(&body)?;
    Ok(Json(sim.ledger.capture(&reference, request.amount, request.currency, Instant::now())))
}

#[tracing::instrument(skip(sim))]
async fn void(State(sim): State<Arc<Sim>>, Path(reference): Path<String>) -> Json<OperationOut> {
    Json(sim.ledger.void(&reference, Instant::now()))
}

#[tracing::instrument(skip_all, fields(refund_id))]
async fn refund(State(sim): State<Arc<Sim>>, body: Bytes) -> Result<Json<RefundOut>, SimError> {
    let request: RefundIn = parse(&body)?;
    tracing::Span::current().record("refund_id", request.refund_id.as_str());
    let (answer, settlement) = sim.ledger.refund(request, Instant::now());
    if let Some(settlement) = settlement {
        sim.callbacks.schedule(settlement);
    }
    Ok(Json(answer))
}

#[tracing::instrument(skip(sim))]
async fn refund_status(
    State(sim): State<Arc<Sim>>,
    Path(reference): Path<String>,
) -> Result<Json<RefundOut>, SimError> {
    Ok(Json(sim.ledger.refund_status(&reference, Instant::now())?))
}
