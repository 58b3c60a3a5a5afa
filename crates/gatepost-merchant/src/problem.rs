//! What the API answers besides single objects: lists (docs/reference/api.md#lists) and
//! errors as RFC 9457 problem details (docs/reference/api.md#errors).

use serde::{Deserialize, Serialize};

/// One page of a list, newest first (docs/reference/api.md#lists). Ask for the next page with
/// `starting_after` set to the id of the last item.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{List, Payment};
///
/// let page: List<Payment> = serde_json::from_str(
///     r#"{"object":"list","data":[{"id":"pay_2","status":"OPEN","amount":100,"currency":"EUR"}],"has_more":true}"#,
/// )
/// .unwrap();
/// assert_eq!(page.data[0].id, "pay_2");
/// assert!(page.has_more);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct List<T> {
    pub data: Vec<T>,
    /// Whether more items follow the last one of this page.
    #[serde(default)]
    pub has_more: bool,
}

/// An error the gateway answered, as `application/problem+json` (docs/reference/api.md#errors).
///
/// Match on [`code`](Self::code), which is stable: `unauthorized`, `not_found`,
/// `invalid_json`, `payload_too_large`, `validation_failed`, `invalid_state`,
/// `idempotency_key_in_use`, `idempotency_key_reused`, `refund_exceeds_captured`,
/// `rate_limited`, `internal`, and codes added later.
///
/// # Example
///
/// ```
/// use gatepost_merchant::ApiError;
///
/// let error: ApiError = serde_json::from_str(
///     r#"{"type":"/errors/validation_failed","title":"Validation failed","status":422,
///         "detail":"amount: must be positive","code":"validation_failed",
///         "errors":[{"param":"amount","code":"must_be_positive","detail":"must be positive"}]}"#,
/// )
/// .unwrap();
/// assert_eq!((error.status, error.code.as_str()), (422, "validation_failed"));
/// assert_eq!(error.errors[0].param, "amount");
/// assert_eq!(error.to_string(), "422 validation_failed: amount: must be positive");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{status} {code}: {detail}")]
#[non_exhaustive]
pub struct ApiError {
    /// `/errors/<code>`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, in words meant for a developer.
    #[serde(default)]
    pub detail: String,
    /// Stable and machine-readable.
    pub code: String,
    /// For `validation_failed`: one entry per field at fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One problem with one field of a request.
///
/// # Example
///
/// ```
/// use gatepost_merchant::FieldError;
///
/// let error: FieldError = serde_json::from_str(r#"{"param":"currency","code":"invalid_currency","detail":"…"}"#).unwrap();
/// assert_eq!(error.code, "invalid_currency");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldError {
    /// The field, such as `amount` or `customer.email`.
    pub param: String,
    /// Such as `must_be_positive`, `too_long`, `unknown_field`.
    pub code: String,
    #[serde(default)]
    pub detail: String,
}
