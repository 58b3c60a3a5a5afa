//! The one HTTP error type: RFC 9457 problem details with the codes of
//! docs/reference/api.md#errors.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Marks a response that an `Idempotency-Key` must not replay: one that asks the client
/// to try again, or one that shows a secret, which is never stored. The key is freed
/// instead, and a retry runs the request again (docs/reference/api.md#idempotency).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NotReplayable;

/// One problem with one input field.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub(crate) struct FieldError {
    pub(crate) param: String,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

impl FieldError {
    pub(crate) fn new(param: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { param: param.into(), code, detail: detail.into() }
    }
}

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    /// The answer says "not now": an `Idempotency-Key` must not replay it for 24 hours.
    temporary: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: detail.into(), errors: Vec::new(), temporary: false }
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "Send a valid secret key as `Authorization: Bearer sk_…`.",
        )
    }

    /// Missing or wrong credentials for something other than the merchant API.
    pub(crate) fn unauthorized_for(detail: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail)
    }

    /// A provider callback whose signature does not verify (docs/reference/callbacks.md#callbacks).
    pub(crate) fn bad_callback_signature() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "The callback's signature does not verify with this connector's secret.",
        )
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", format!("No such {what}."))
    }

    pub(crate) fn invalid_json(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", "Invalid JSON", detail)
    }

    pub(crate) fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            "Request bodies are limited to 64 KiB.",
        )
    }

    pub(crate) fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.param, e.detail)).collect::<Vec<_>>().join("; ");
        Self { errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed", detail) }
    }

    pub(crate) fn invalid_state(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_state", "Invalid state", detail)
    }

    /// The payment cannot take the operation *yet*; the same request may succeed shortly.
    pub(crate) fn retry_shortly(detail: impl Into<String>) -> Self {
        Self { temporary: true, ..Self::invalid_state(detail) }
    }

    pub(crate) fn refund_exceeds_captured(refundable: i64) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refund_exceeds_captured",
            "Refund exceeds captured",
            format!("Refunds cannot exceed the captured amount: {refundable} can still be refunded."),
        )
    }

    /// The acquirer could not be reached: nothing changed, and the same request may be
    /// sent again (with the same `Idempotency-Key`).
    pub(crate) fn connector_unavailable() -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "connector_unavailable",
            "Acquirer unavailable",
            "The acquirer did not answer; nothing changed. Retry the request.",
        )
    }

    pub(crate) fn idempotency_key_in_use() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "Idempotency key in use",
            "A request with this Idempotency-Key is still running; retry later.",
        )
    }

    pub(crate) fn idempotency_key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "Idempotency key reused",
            "This Idempotency-Key was used with a different request.",
        )
    }

    /// Over a rate limit: the client may try again after `retry_after_seconds`.
    pub(crate) fn rate_limited(retry_after_seconds: u64) -> Self {
        let detail = format!("Too many requests for this API key. Retry in {retry_after_seconds} s.");
        Self { temporary: true, ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Rate limited", detail) }
    }

    /// The request's body did not arrive whole within the body timeout.
    pub(crate) fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "Request timeout",
            "The request body did not arrive in time. Send it again.",
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            "This path does not accept that method.",
        )
    }

    /// An unexpected failure: logged here, once, with a reference the client can quote;
    /// the body says nothing about the cause.
    pub(crate) fn internal(error: &dyn std::fmt::Display) -> Self {
        let reference = gatepost_core::ids::random_token(9);
        tracing::error!(%error, %reference, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            format!("Something went wrong on our side. Reference: {reference}."),
        )
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<gatepost_store::StoreError> for ApiError {
    fn from(error: gatepost_store::StoreError) -> Self {
        Self::internal(&error)
    }
}

/// RFC 9457 problem details, as every error is answered.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(crate) struct Problem<'a> {
    /// `/errors/<code>`.
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    /// Stable and machine-readable: `validation_failed`, `not_found`, …
    code: &'a str,
    /// Present for `validation_failed`: one entry per field.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("/errors/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            errors: &self.errors,
        };
        let body = serde_json::to_vec(&problem).expect("problem details serialize");
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response();
        if self.temporary {
            response.extensions_mut().insert(NotReplayable);
        }
        response
    }
}

pub(crate) async fn not_found_fallback() -> ApiError {
    ApiError::not_found("route")
}
