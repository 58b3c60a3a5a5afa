//! The shopper's side (docs/reference/merchant-kit.md#the-example-shop): the product page,
//! placing an order and its payment, the return page, and the order as JSON.

use crate::error::ShopError;
use crate::orders::{Order, OrderStatus};
use crate::pages::{OrderPage, ProductPage, Shown, html};
use crate::{AppState, PRODUCT, format_price};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gatepost_merchant::{NewPayment, PaymentStatus, RetryPolicy};
use serde::Serialize;
use std::time::Duration;
use tracing::Span;

/// How long the return page waits for the gateway's API before showing the order as the
/// shop's database has it.
const DISPLAY_LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// `GET /`: the product and its Buy button.
pub(crate) async fn product_page() -> Response {
    html(StatusCode::OK, &ProductPage { product: PRODUCT.name, price: PRODUCT.price() })
}

/// `POST /orders`: creates the order, then its payment, and sends the shopper to pay.
#[tracing::instrument(skip_all, fields(order_id, payment_id))]
pub(crate) async fn place_order(State(shop): State<AppState>) -> Result<Redirect, ShopError> {
    // The order is committed before the payment exists, so that anything the gateway says
    // about the payment later has an order to land on. No transaction stays open across
    // the call to the gateway: a slow gateway must not hold the database.
    let order = shop.database.create_order(PRODUCT).await?;
    Span::current().record("order_id", order.id.as_str());

    let payment = NewPayment {
        // Comes back in the return parameters and in every webhook: how the shop finds
        // the order a payment belongs to.
        reference: Some(order.id.clone()),
        description: Some(order.product.clone()),
        // One return URL per order: the page knows its order from its own path, and needs
        // nothing from the parameters the browser brings.
        return_url: Some(format!("{}/orders/{}/return", shop.public_url, order.id)),
        // Set on every payment rather than as the merchant's default, so that the shop
        // works whatever the merchant's settings say.
        webhook_url: Some(format!("{}/webhooks/gatepost", shop.public_url)),
        ..NewPayment::new(order.amount, &order.currency)
    };
    // A key derived from the order: the kit retries a call whose answer was lost with the
    // same key, and the gateway answers a repeat with the payment it already made. One
    // order can never get two payments, so a shopper can never pay it twice.
    let idempotency_key = format!("shop-order-{}", order.id);
    let payment = match shop.gatepost.create_payment(&payment, Some(&idempotency_key)).await {
        Ok(payment) => payment,
        Err(error) => {
            // Even if the gateway made the payment and only its answer was lost, nobody
            // has its checkout URL, so it will expire unpaid. The order's page offers to
            // try again, with a new order.
            shop.database.fail_without_payment(&order.id).await?;
            return Err(error.into());
        }
    };
    Span::current().record("payment_id", payment.id.as_str());
    shop.database.attach_payment(&order.id, &payment.id, &payment.checkout_url).await?;
    tracing::info!("order placed");

    // 303 See Other: the browser GETs the hosted payment page.
    Ok(Redirect::to(&payment.checkout_url))
}

/// `GET /orders/{id}/return`: where the gateway sends the shopper's browser back
/// (docs/reference/returns.md).
///
/// The parameters the browser brings are signed, but they are the shopper's copy: the
/// browser may close before it gets here, come back twice, or come back with parameters
/// changed. So they decide nothing. The page shows the order as the shop knows it, and
/// uses the parameters only to tell the shopper when their link was not genuine.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub(crate) async fn return_page(
    State(shop): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ShopError> {
    let order = shop.database.order(&id).await?.ok_or(ShopError::NotFound)?;
    let unverified = !is_genuine_return_for(&shop, &order, query.as_deref());
    let shown = what_to_show(&shop, &order).await;
    let page = OrderPage {
        price: format_price(order.amount, &order.currency),
        order_id: order.id,
        product: order.product,
        shown,
        checkout_url: order.checkout_url,
        unverified,
    };
    Ok(html(StatusCode::OK, &page))
}

/// Whether `query` is a return the gateway signed for this order's payment. A good
/// signature alone is not enough: it may be another order's return, replayed on this
/// order's path.
fn is_genuine_return_for(shop: &AppState, order: &Order, query: Option<&str>) -> bool {
    let Some(query) = query else { return false };
    match shop.returns.verify_query(query) {
        Ok(params) => {
            let genuine = params.merchant_reference.as_deref() == Some(order.id.as_str())
                && order.payment_id.as_deref() == Some(params.payment_id.as_str());
            if !genuine {
                tracing::warn!(payment_id = %params.payment_id, "a return signed for another order");
            }
            genuine
        }
        Err(error) => {
            tracing::warn!(%error, "return parameters refused");
            false
        }
    }
}

/// What the page tells the shopper: the shop's own record. While that is still pending,
/// the gateway's API (asked by the shop, with its key, not by the browser) may already
/// know the outcome the webhook is bringing. That answer is shown, never stored: marking
/// the order paid stays the webhook's job, so that exactly one place fulfils orders.
async fn what_to_show(shop: &AppState, order: &Order) -> Shown {
    match order.status {
        OrderStatus::Paid => Shown::Paid,
        OrderStatus::Failed => Shown::Failed,
        OrderStatus::Pending => {
            let Some(payment_id) = &order.payment_id else { return Shown::Pending };
            // The shopper is waiting for this page: one quick try, no retries.
            let gatepost =
                shop.gatepost.clone().with_retry_policy(RetryPolicy::none()).with_timeout(DISPLAY_LOOKUP_TIMEOUT);
            match gatepost.retrieve_payment(payment_id).await {
                Ok(payment) if order.is_paid_by(&payment) => Shown::Paid,
                Ok(payment) => match payment.status {
                    PaymentStatus::Open => Shown::AwaitingPayment,
                    PaymentStatus::Failed | PaymentStatus::Cancelled | PaymentStatus::Expired => Shown::Failed,
                    _ => Shown::Pending,
                },
                Err(error) => {
                    tracing::warn!(%error, "could not look the payment up; showing the order as recorded");
                    Shown::Pending
                }
            }
        }
    }
}

/// The order as `GET /orders/{id}` shows it (docs/reference/merchant-kit.md#shop-routes).
#[derive(Serialize)]
struct OrderOut {
    id: String,
    status: &'static str,
    payment_id: Option<String>,
}

#[derive(Serialize)]
struct NotFoundOut {
    error: &'static str,
}

/// `GET /orders/{id}`: the order as JSON, from the shop's database only.
pub(crate) async fn order_json(State(shop): State<AppState>, Path(id): Path<String>) -> Response {
    match shop.database.order(&id).await {
        Ok(Some(order)) => {
            Json(OrderOut { id: order.id, status: order.status.as_str(), payment_id: order.payment_id }).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, Json(NotFoundOut { error: "not_found" })).into_response(),
        Err(error) => ShopError::from(error).into_response(),
    }
}
