//! Payment endpoints (docs/reference/payments.md#endpoints).

use super::IdempotencyKeyHeader;
use super::lists::{List, QueryParams, json_response};
use super::payment_in::{PaymentIn, Rules};
use crate::error::Problem;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use gatepost_core::ids::PaymentId;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{Merchant, Payment};
use gatepost_core::status::PaymentStatus;
use gatepost_core::urls::Mode;
use gatepost_store::PaymentQuery;
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/payments", post(create_payment).get(list_payments))
        .route("/payments/{id}", get(retrieve_payment))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
}

/// Create a payment and get the `checkout_url` to send the shopper to.
#[utoipa::path(
    post, path = "/v1/payments", tag = "payments",
    request_body = PaymentIn,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "The new payment", body = Payment),
        (status = 409, description = "Idempotency key in use", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id))]
pub(crate) async fn create_payment(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppJson(body): AppJson<PaymentIn>,
) -> Result<Response, ApiError> {
    let settings = state.settings();
    let rules = Rules { mode: settings.mode, forbid_explicit_port: settings.forbid_explicit_port, merchant: &merchant };
    let new = body.validate(&rules).map_err(ApiError::validation)?;
    let livemode = settings.mode == Mode::Live;
    let payment = Payment::open(new, &merchant.id, &settings.public_url, livemode, state.clock().now());
    state.store().create_payment(&payment).await?;
    state.metrics().payment_created();
    tracing::info!(payment = %payment.id, "payment created");
    Ok(json_response(StatusCode::CREATED, &payment))
}

pub(crate) fn payment_id(raw: &str) -> Result<PaymentId, ApiError> {
    PaymentId::parse(raw).ok_or_else(|| ApiError::not_found("payment"))
}

/// A payment with its attempts and refunds.
#[utoipa::path(
    get, path = "/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "The `pay_` id")),
    responses(
        (status = 200, description = "The payment", body = Payment),
        (status = 404, description = "No such payment for this merchant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id, payment = %id))]
pub(crate) async fn retrieve_payment(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let payment = merchant_payment(&state, &merchant, &id).await?;
    Ok(json_response(StatusCode::OK, &payment))
}

/// The merchant's payment with this id, or 404 (also for another merchant's).
pub(crate) async fn merchant_payment(state: &AppState, merchant: &Merchant, raw_id: &str) -> Result<Payment, ApiError> {
    state.store().payment(&merchant.id, &payment_id(raw_id)?).await?.ok_or_else(|| ApiError::not_found("payment"))
}

/// `?limit=&starting_after=&status=&reference=`
/// (docs/reference/payments.md#listing-payments). Values arrive as text so that a bad one
/// is a 422 naming it, not a generic rejection.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// 1 to 100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The id of the last payment of the previous page.
    starting_after: Option<String>,
    #[param(value_type = Option<PaymentStatus>)]
    status: Option<String>,
    reference: Option<String>,
}

impl ListParams {
    fn into_query(self) -> Result<PaymentQuery, ApiError> {
        let mut params = QueryParams::default();
        let limit = params.limit(self.limit.as_deref());
        let status =
            params.parse("status", self.status.as_deref(), PaymentStatus::parse, "a payment status such as OPEN");
        let starting_after =
            params.parse("starting_after", self.starting_after.as_deref(), PaymentId::parse, "a payment id");
        let reference = params.text("reference", self.reference);
        params.finish()?;
        Ok(PaymentQuery { status, reference, starting_after, limit, ..PaymentQuery::default() })
    }
}

/// The merchant's payments, newest first.
#[utoipa::path(
    get, path = "/v1/payments", tag = "payments",
    params(ListParams),
    responses(
        (status = 200, description = "A page of payments", body = List<Payment>),
    ),
    security(("api_key" = []))
)]
#[tracing::instrument(skip_all, fields(merchant = %merchant.id))]
pub(crate) async fn list_payments(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppQuery(params): AppQuery<ListParams>,
) -> Result<Response, ApiError> {
    let query = params.into_query()?;
    let page = state.store().list_payments(&merchant.id, &query).await?;
    Ok(json_response(StatusCode::OK, &List::from(page)))
}
