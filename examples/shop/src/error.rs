//! How a failed request answers: a page for the shopper, the details in the log.

use crate::orders::DatabaseError;
use crate::pages::{ProblemPage, html};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatepost_merchant::ClientError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShopError {
    #[error("no such order")]
    NotFound,
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    /// The gateway could not be reached or refused the call. For a webhook, the `5xx` it
    /// turns into makes the gateway deliver it again later.
    #[error("gatepost: {0}")]
    Gateway(#[from] ClientError),
}

impl IntoResponse for ShopError {
    fn into_response(self) -> Response {
        let (status, page) = match &self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                ProblemPage { heading: "Order not found", message: "There is no order at this address." },
            ),
            Self::Database(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ProblemPage { heading: "Something went wrong", message: "Please try again in a moment." },
            ),
            Self::Gateway(_) => (
                StatusCode::BAD_GATEWAY,
                ProblemPage {
                    heading: "Payments are unavailable",
                    message: "We could not reach our payment provider, and nothing was charged. \
                              Please try again in a moment.",
                },
            ),
        };
        if status.is_server_error() {
            // Logged here, once; the shopper's page carries no internals.
            tracing::error!(error = %self, "request failed");
        }
        html(status, &page)
    }
}
