//! What a merchant does to a payment after the shopper paid: cancel (void), capture and
//! refunds (docs/reference/payments.md#capture). The work is in `flow::operations`; this is
//! the HTTP side.

use super::IdempotencyKeyHeader;
use super::lists::{List, QueryParams, json_response};
use super::payments::{merchant_payment, payment_id};
use crate::error::{FieldError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::flow::{self, OperationError};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use gatepost_core::ids::RefundId;
use gatepost_core::money::Amount;
use gatepost_core::payment::{Merchant, Payment, Refund};
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/payments/{id}/cancel", post(cancel_payment))
        .route("/payments/{id}/capture", post(capture_payment))
        .route("/payments/{id}/refunds", post(create_refund).get(list_refunds))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
}

/// A reason is free text for the merchant's own records.
const MAX_REASON_CHARS: usize = 500;

impl From<OperationError> for ApiError {
    fn from(error: OperationError) -> Self {
        match error {
            OperationError::NotFound => Self::not_found("payment"),
            OperationError::InvalidState(detail) => Self::invalid_state(detail),
            OperationError::InProgress(detail) => Self::retry_shortly(detail),
            OperationError::ExceedsAuthorized { authorized } => Self::validation(vec![FieldError::new(
                "amount",
                "exceeds_authorized",
                format!("must be at most the {authorized} authorized"),
            )]),
            OperationError::ExceedsCaptured { refundable } => Self::refund_exceeds_captured(refundable),
            OperationError::Refused { code, message } => {
                Self::invalid_state(format!("The acquirer refused: {message} ({code})."))
            }
            OperationError::Unavailable(error) => {
                tracing::warn!(%error, "acquirer unavailable");
                Self::connector_unavailable()
            }
            OperationError::Flow(error) => Self::internal(&error),
        }
    }
}

/// Checks an optional amount against the limits of docs/reference/api.md#money.
fn checked_amount(amount: Option<i64>) -> Result<Option<i64>, ApiError> {
    match amount.map(Amount::check_minor) {
        Some(Err(error)) => Err(ApiError::validation(vec![FieldError::new("amount", error.code(), error.to_string())])),
        _ => Ok(amount),
    }
}

/// Cancel an `OPEN` payment, or void an `AUTHORIZED` one at the acquirer.
#[utoipa::path(
    post, path = "/v1/payments/{id}/cancel", tag = "payments",
    params(("id" = String, Path, description = "The `pay_` id"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The cancelled payment", body = Payment),
        (status = 404, description = "No such payment for this merchant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The payment cannot be cancelled in its status", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The acquirer did not answer; nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id, payment = %id))]
pub(crate) async fn cancel_payment(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let payment = flow::cancel(&state, &merchant.id, &payment_id(&id)?).await?;
    Ok(json_response(StatusCode::OK, &payment))
}

/// `POST /v1/payments/{id}/capture`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaptureIn {
    /// At most the authorized amount; all of it when left out.
    #[schema(minimum = 1, example = 1050)]
    amount: Option<i64>,
}

/// Capture an `AUTHORIZED` payment (`capture: manual`), in full or in part.
#[utoipa::path(
    post, path = "/v1/payments/{id}/capture", tag = "payments",
    params(("id" = String, Path, description = "The `pay_` id"), IdempotencyKeyHeader),
    request_body(content = CaptureIn, description = "Optional: an empty body captures everything"),
    responses(
        (status = 200, description = "The captured payment, now SUCCESS", body = Payment),
        (status = 404, description = "No such payment for this merchant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The payment is not AUTHORIZED, or the acquirer refused", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The acquirer did not answer; nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id, payment = %id))]
pub(crate) async fn capture_payment(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<CaptureIn>,
) -> Result<Response, ApiError> {
    let id = payment_id(&id)?;
    let amount = checked_amount(body.amount)?;
    let payment = flow::capture(&state, &merchant.id, &id, amount).await?;
    Ok(json_response(StatusCode::OK, &payment))
}

/// `POST /v1/payments/{id}/refunds`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundIn {
    /// Everything still refundable when left out.
    #[schema(minimum = 1, example = 500)]
    amount: Option<i64>,
    #[schema(max_length = 500, example = "requested_by_customer")]
    reason: Option<String>,
}

/// Refund part or all of a `SUCCESS` payment.
///
/// Refunds that succeeded or are still pending never add up to more than was captured,
/// however many run at once. The refund is `SUCCEEDED` at once with most acquirers;
/// an async acquirer answers `PENDING` and the `payment.refunded` webhook follows.
#[utoipa::path(
    post, path = "/v1/payments/{id}/refunds", tag = "payments",
    params(("id" = String, Path, description = "The `pay_` id"), IdempotencyKeyHeader),
    request_body(content = RefundIn, description = "Optional: an empty body refunds everything left"),
    responses(
        (status = 201, description = "The refund", body = Refund),
        (status = 404, description = "No such payment for this merchant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The payment is not SUCCESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad amount, or more than is left to refund (`refund_exceeds_captured`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id, payment = %id))]
pub(crate) async fn create_refund(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<RefundIn>,
) -> Result<Response, ApiError> {
    let id = payment_id(&id)?;
    let amount = checked_amount(body.amount)?;
    if body.reason.as_ref().is_some_and(|reason| reason.chars().count() > MAX_REASON_CHARS) {
        let detail = format!("must be at most {MAX_REASON_CHARS} characters");
        return Err(ApiError::validation(vec![FieldError::new("reason", "too_long", detail)]));
    }
    if body.reason.as_ref().is_some_and(|reason| !gatepost_core::text::is_clean(reason, true)) {
        let detail = "must not contain control characters other than tab and newline";
        return Err(ApiError::validation(vec![FieldError::new("reason", "invalid_value", detail)]));
    }
    let refund = flow::refund(&state, &merchant.id, &id, amount, body.reason).await?;
    Ok(json_response(StatusCode::CREATED, &refund))
}

/// `?limit=&starting_after=` of a payment's refunds (docs/reference/api.md#lists).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RefundListParams {
    /// 1 to 100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The id of the last refund of the previous page.
    starting_after: Option<String>,
}

/// A payment's refunds, newest first.
#[utoipa::path(
    get, path = "/v1/payments/{id}/refunds", tag = "payments",
    params(("id" = String, Path, description = "The `pay_` id"), RefundListParams),
    responses(
        (status = 200, description = "A page of the payment's refunds", body = List<Refund>),
        (status = 404, description = "No such payment for this merchant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id, payment = %id))]
pub(crate) async fn list_refunds(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
    AppQuery(params): AppQuery<RefundListParams>,
) -> Result<Response, ApiError> {
    let mut query = QueryParams::default();
    let limit = query.limit(params.limit.as_deref()) as usize;
    let after = query.parse("starting_after", params.starting_after.as_deref(), RefundId::parse, "a refund id");
    query.finish()?;
    // A payment's refunds come with it (few, and read in the same query), so the page is cut here.
    let payment = merchant_payment(&state, &merchant, &id).await?;
    let mut refunds: Vec<Refund> = payment
        .refunds
        .into_iter()
        .rev()
        .filter(|refund| after.as_ref().is_none_or(|after| refund.id.as_str() < after.as_str()))
        .collect();
    let has_more = refunds.len() > limit;
    refunds.truncate(limit);
    Ok(json_response(StatusCode::OK, &List::from(gatepost_store::Page { data: refunds, has_more })))
}
