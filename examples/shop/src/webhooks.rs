//! The gateway's side (docs/reference/webhooks.md): `POST /webhooks/gatepost`, the one
//! place where an order becomes paid. The gateway sends a webhook for every change of a
//! payment and retries it until the shop answers `2xx`, even when the shopper's browser
//! never came back.
//!
//! Each step has its reason:
//!
//! 1. **Verify** the signature over the raw body, and the timestamp. Anyone can POST to
//!    this URL; only the gateway knows the webhook secret. The five-minute window on the
//!    timestamp bounds how long a captured request can be replayed.
//! 2. **Deduplicate** by `webhook-id`. Delivery is at least once: a timeout on the
//!    gateway's side, or a network cut after the shop's answer, brings the same event again.
//! 3. **Confirm** a success with `GET /v1/payments/{id}` before fulfilling: the event is a
//!    snapshot, and the API answers what the payment is now, over a connection the shop
//!    opened, authenticated with its own key. The shop also checks that the payment is the
//!    order's, with the order's amount.
//! 4. **Record and apply in one transaction**: the `webhook-id` and the order's change
//!    commit together or not at all, so a crash in between cannot fulfil twice or lose one.
//! 5. **Acknowledge** with `200`. An error answer (the API unreachable, the database down)
//!    means "send it again later", which is exactly what the gateway does.

use crate::AppState;
use crate::error::ShopError;
use crate::orders::{Change, Order};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatepost_merchant::EventType;
use serde::Serialize;
use tracing::Span;

/// The acknowledgement. `200` is all the gateway needs by default; echoing the payment's id
/// also satisfies a merchant set to `webhook_ack_mode: "echo"`
/// (docs/reference/webhooks.md#acknowledgement).
#[derive(Serialize)]
struct Ack {
    payment_reference: String,
}

/// `POST /webhooks/gatepost`.
#[tracing::instrument(skip_all, fields(webhook_id, event_type, order_id))]
pub(crate) async fn receive(
    State(shop): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ShopError> {
    // 1. The raw bytes as received: parsing and re-serializing would change them.
    let event = match shop.webhook.verify(&headers, &body) {
        Ok(event) => event,
        Err(error) => {
            // Forged, too old, or signed with another secret: change nothing. A 4xx, not a
            // 2xx, so that a genuine webhook refused by a misconfigured shop is retried.
            tracing::warn!(%error, "webhook refused");
            return Ok(StatusCode::BAD_REQUEST.into_response());
        }
    };
    let span = Span::current();
    span.record("webhook_id", event.id.as_str());
    span.record("event_type", event.event_type.as_str());
    let ack = Json(Ack { payment_reference: event.data.id.clone() });

    // 2. A shortcut that spares a redelivery the call to the API below; the insert in the
    // transaction of step 4 is what decides for good, even for two deliveries at once.
    if shop.database.webhook_handled(&event.id).await? {
        tracing::info!("a redelivery: acknowledged, nothing done");
        return Ok(ack.into_response());
    }

    // The order is the payment's reference, and must have this very payment: the shop
    // made exactly one payment per order.
    let order = match event.data.reference.as_deref() {
        Some(reference) => shop.database.order(reference).await?,
        None => None,
    }
    .filter(|order| order.payment_id.as_deref() == Some(event.data.id.as_str()));
    if let Some(order) = &order {
        span.record("order_id", order.id.as_str());
    } else {
        tracing::warn!(payment_id = %event.data.id, "a webhook for no order of this shop");
    }

    let change = match (&order, &event.event_type) {
        // 3. Only a success the API confirms pays an order.
        (Some(order), EventType::Succeeded) => confirmed_paid(&shop, order).await?,
        // A failure gives nothing away, so the verified webhook is enough.
        (Some(_), EventType::Failed | EventType::Cancelled | EventType::Expired) => Some(Change::Failed),
        // Pending, declined attempts, refunds, types added later: recorded and acknowledged.
        // This shop has nothing to do for them.
        _ => None,
    };

    // 4. One transaction: the webhook-id, the order's status, its fulfilment.
    let order_id = order.as_ref().map(|order| order.id.as_str());
    let handled = shop.database.handle_webhook(&event.id, event.event_type.as_str(), order_id, change).await?;
    tracing::info!(?handled, "webhook handled");

    // 5.
    Ok(ack.into_response())
}

/// Asks the API whether the order's payment has succeeded, for the order's amount. An
/// unreachable API is an error: the webhook is answered `5xx` and comes again later.
async fn confirmed_paid(shop: &AppState, order: &Order) -> Result<Option<Change>, ShopError> {
    let Some(payment_id) = &order.payment_id else { return Ok(None) };
    let payment = shop.gatepost.retrieve_payment(payment_id).await?;
    if order.is_paid_by(&payment) {
        Ok(Some(Change::Paid))
    } else {
        tracing::warn!(status = %payment.status, amount = payment.amount, "the API does not confirm the payment");
        Ok(None)
    }
}
