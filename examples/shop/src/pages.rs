//! The shop's HTML pages. askama checks the templates (in `templates/`) at compile time
//! and escapes every value, so no text can become markup.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `GET /`: the product and its Buy button.
#[derive(Template)]
#[template(path = "product.html")]
pub(crate) struct ProductPage {
    pub(crate) product: &'static str,
    pub(crate) price: String,
}

/// What the order page tells the shopper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Paid: by the shop's database, or by the gateway's API while the webhook is on its way.
    Paid,
    /// An outcome is awaited from the bank or the acquirer.
    Pending,
    /// No payment was made yet.
    AwaitingPayment,
    /// The payment failed, expired or was cancelled.
    Failed,
}

/// `GET /orders/{id}/return`: the order as the shop knows it.
#[derive(Template)]
#[template(path = "order.html")]
pub(crate) struct OrderPage {
    pub(crate) order_id: String,
    pub(crate) product: String,
    pub(crate) price: String,
    pub(crate) shown: Shown,
    /// Where to pay, while no payment was made.
    pub(crate) checkout_url: Option<String>,
    /// The link the shopper followed was not signed by the gateway for this order.
    pub(crate) unverified: bool,
}

/// Something went wrong, in words for the shopper.
#[derive(Template)]
#[template(path = "problem.html")]
pub(crate) struct ProblemPage {
    pub(crate) heading: &'static str,
    pub(crate) message: &'static str,
}

/// A rendered page with its status. `no-store`: an order page must show the order as it
/// is now, not as a cache remembers it.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}
