//! Writing events and where each goes: the transactional outbox the delivery worker reads
//! (docs/reference/webhooks.md#fan-out).

use crate::StoreError;
use crate::endpoints;
use crate::tx::Tx;
use crate::values::{Columns, Value};
use gatepost_core::changes::Emitted;
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::endpoints::{
    Destination, EndpointEventType, EventKind, WebhookEndpoint, destinations, endpoint_event_body,
};
use gatepost_core::ids::{EventId, MerchantId, PaymentId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::payment::Payment;
use gatepost_core::time::Timestamp;
use gatepost_core::urls::WebhookUrl;
use std::collections::HashMap;

/// An event's row; its delivery status is that of its destinations together.
struct EventRow<'a> {
    id: &'a EventId,
    merchant_id: &'a MerchantId,
    payment_id: Option<&'a PaymentId>,
    kind: EventKind,
    sequence: Option<i64>,
    body: Vec<u8>,
    created_at: Timestamp,
}

fn event_columns(event: EventRow<'_>, status: DeliveryStatus) -> Columns {
    vec![
        ("id", event.id.as_str().into()),
        ("merchant_id", event.merchant_id.as_str().into()),
        ("payment_id", event.payment_id.map(PaymentId::as_str).into()),
        ("type", event.kind.as_str().into()),
        ("sequence", event.sequence.into()),
        ("body", event.body.into()),
        ("created_at", event.created_at.millis().into()),
        ("delivery_status", status.as_str().into()),
    ]
}

/// The row of one destination of an event: due at once, or skipped for an endpoint that is
/// off.
fn destination_columns(event: &EventId, position: usize, destination: &Destination, now: Timestamp) -> Columns {
    let (endpoint, url, status): (Option<&WebhookEndpointId>, &WebhookUrl, DeliveryStatus) = match destination {
        Destination::Endpoint { id, url } => (Some(id), url, DeliveryStatus::Pending),
        Destination::Missed { id, url } => (Some(id), url, DeliveryStatus::Skipped),
        Destination::Payment(url) => (None, url, DeliveryStatus::Pending),
    };
    let next_attempt_at = (status == DeliveryStatus::Pending).then_some(now.millis());
    vec![
        ("event_id", event.as_str().into()),
        ("position", i64::try_from(position).unwrap_or(i64::MAX).into()),
        ("endpoint_id", endpoint.map(WebhookEndpointId::as_str).into()),
        ("url", url.as_str().into()),
        ("origin", url.origin().into()),
        ("status", status.as_str().into()),
        ("attempts", 0i64.into()),
        ("next_attempt_at", next_attempt_at.into()),
        ("last_attempt_at", Value::Int(None)),
        ("resend_requested", 0i64.into()),
    ]
}

/// Stores an event and its destinations.
async fn insert_event(tx: &mut dyn Tx, event: EventRow<'_>, destinations: &[Destination]) -> Result<(), StoreError> {
    let (id, now) = (event.id.clone(), event.created_at);
    let any_due = destinations.iter().any(|d| !matches!(d, Destination::Missed { .. }));
    let status = if any_due { DeliveryStatus::Pending } else { DeliveryStatus::Skipped };
    tx.insert("events", event_columns(event, status)).await?;
    for (position, destination) in destinations.iter().enumerate() {
        tx.insert("event_destinations", destination_columns(&id, position, destination, now)).await?;
    }
    Ok(())
}

/// Stores `payment`'s events in the transaction of the change that emitted them, each
/// addressed to the merchant's endpoints that take it and to the payment's own URL.
pub(crate) async fn insert_events(tx: &mut dyn Tx, payment: &Payment, events: &[Emitted]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let endpoints = endpoints::list(tx, &payment.merchant_id).await?;
    for event in events {
        let kind = EventKind::Payment(event.event_type);
        let destinations = destinations(kind, payment.webhook_url.as_ref(), &endpoints);
        let row = EventRow {
            id: &event.id,
            merchant_id: &payment.merchant_id,
            payment_id: Some(&payment.id),
            kind,
            sequence: Some(event.sequence),
            body: event.body.clone(),
            created_at: event.created_at,
        };
        insert_event(tx, row, &destinations).await?;
    }
    Ok(())
}

/// Stores an event about `endpoint`: a test goes to that endpoint alone; any other to the
/// endpoints among `endpoints` that take it.
pub(crate) async fn insert_endpoint_event(
    tx: &mut dyn Tx,
    event_type: EndpointEventType,
    endpoint: &WebhookEndpoint,
    endpoints: &[WebhookEndpoint],
    now: Timestamp,
) -> Result<EventId, StoreError> {
    let id = EventId::generate();
    let kind = EventKind::Endpoint(event_type);
    let destinations = match event_type {
        EndpointEventType::Test => vec![Destination::Endpoint { id: endpoint.id.clone(), url: endpoint.url.clone() }],
        EndpointEventType::Disabled => destinations(kind, None, endpoints),
    };
    let row = EventRow {
        id: &id,
        merchant_id: &endpoint.merchant_id,
        payment_id: None,
        kind,
        sequence: None,
        body: endpoint_event_body(&id, event_type, now, endpoint),
        created_at: now,
    };
    insert_event(tx, row, &destinations).await?;
    Ok(id)
}

const DUE_FOR_ENDPOINT: &str =
    "SELECT event_id FROM event_destinations WHERE next_attempt_at IS NOT NULL AND endpoint_id = $1";
/// Only a pending destination becomes skipped: a resend due for one that had ended leaves it
/// as it ended.
const SKIP_DUE_FOR_ENDPOINT: &str = "UPDATE event_destinations SET \
    status = CASE WHEN status = 'PENDING' THEN 'SKIPPED' ELSE status END, next_attempt_at = NULL, \
    resend_requested = 0 WHERE next_attempt_at IS NOT NULL AND endpoint_id = $1";

/// Stops every attempt due for an endpoint that was turned off or removed: those
/// destinations are skipped, to be recovered later.
pub(crate) async fn skip_due_destinations(tx: &mut dyn Tx, endpoint: &WebhookEndpointId) -> Result<(), StoreError> {
    let id: [Value; 1] = [endpoint.as_str().into()];
    let events = tx.query(DUE_FOR_ENDPOINT, &id, |r| r.text("event_id").map(EventId::from_trusted)).await?;
    tx.execute(SKIP_DUE_FOR_ENDPOINT, &id).await?;
    settle_event_statuses(tx, &events).await
}

/// How many events one statement names.
const EVENTS_PER_STATEMENT: usize = 500;

/// Sets events' delivery status from those of their destinations
/// (`gatepost_core::endpoints::overall_status`): one read of their destinations and one
/// write per resulting status, for each chunk of events.
pub(crate) async fn settle_event_statuses(tx: &mut dyn Tx, events: &[EventId]) -> Result<(), StoreError> {
    let mut events: Vec<&str> = events.iter().map(EventId::as_str).collect();
    events.sort_unstable();
    events.dedup();
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let ids: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
        // On PostgreSQL the events are locked first (in id order), so that two nodes ending
        // an event's last two destinations at once settle it one after the other, and the
        // second sees both.
        let lock = format!(
            "SELECT id FROM events WHERE id IN ({}) ORDER BY id{}",
            params(1, chunk.len()),
            tx.dialect().lock_for_update()
        );
        tx.query(&lock, &ids, |r| r.text("id")).await?;
        let sql =
            format!("SELECT event_id, status FROM event_destinations WHERE event_id IN ({})", params(1, chunk.len()));
        let rows = tx.query(&sql, &ids, |r| Ok((r.text("event_id")?, r.named::<DeliveryStatus>("status")?))).await?;
        let mut statuses: HashMap<&str, Vec<DeliveryStatus>> = chunk.iter().map(|id| (*id, Vec::new())).collect();
        for (event, status) in &rows {
            if let Some(list) = statuses.get_mut(event.as_str()) {
                list.push(*status);
            }
        }
        let mut by_status: HashMap<DeliveryStatus, Vec<Value>> = HashMap::new();
        for (event, list) in statuses {
            let status = gatepost_core::endpoints::overall_status(list);
            by_status.entry(status).or_default().push(Value::from(event));
        }
        for (status, ids) in by_status {
            let sql = format!(
                "UPDATE events SET delivery_status = $1 WHERE delivery_status <> $1 AND id IN ({})",
                params(2, ids.len())
            );
            let mut values = vec![Value::from(status.as_str())];
            values.extend(ids);
            tx.execute(&sql, &values).await?;
        }
    }
    Ok(())
}

/// `$first, $first+1, …`: `count` parameters.
fn params(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}
