//! The webhook outbox as the delivery worker and the events API see it
//! (docs/reference/webhooks.md).

use crate::Page;
use crate::StoreError;
use crate::endpoints;
use crate::outbox::settle_event_statuses;
use crate::rows::{Row, into_page};
use crate::tx::{Dialect, Tx};
use crate::values::{Columns, Value};
use gatepost_core::delivery::{DeliveryError, DeliveryStatus, Trigger};
use gatepost_core::endpoints::{EndpointStatus, EventKind, FailingStreak};
use gatepost_core::ids::{DeliveryId, EventId, MerchantId, PaymentId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::payment::AckMode;
use gatepost_core::signing::WebhookSecret;
use gatepost_core::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

/// An event, and where its delivery stands at each destination.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: EventId,
    pub merchant_id: MerchantId,
    /// `None` for an event about an endpoint.
    pub payment_id: Option<PaymentId>,
    pub event_type: EventKind,
    /// `None` for an event about an endpoint.
    pub sequence: Option<i64>,
    /// The exact bytes every attempt sends; shared, not copied, by each attempt.
    pub body: bytes::Bytes,
    pub created_at: Timestamp,
    /// Of every destination together (`gatepost_core::endpoints::overall_status`).
    pub delivery_status: DeliveryStatus,
    /// In the order the event was addressed; empty in a claim, which carries its one
    /// destination beside it.
    pub destinations: Vec<EventDestination>,
}

/// One place an event goes, and how its delivery there stands.
#[derive(Clone, Debug)]
pub struct EventDestination {
    /// Its place among the event's destinations, which names it with the event's id.
    pub position: u32,
    /// `None` for the payment's own webhook URL.
    pub endpoint_id: Option<WebhookEndpointId>,
    pub url: String,
    /// `scheme://host[:port]/`: attempts in flight are capped per origin.
    pub origin: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// The next attempt was asked for by the merchant (`resend`).
    pub resend_requested: bool,
}

/// An event's destination that is due, claimed for one attempt.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub event: StoredEvent,
    pub destination: EventDestination,
}

/// One delivery attempt, as recorded.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    /// The destination's place among the event's.
    pub position: u32,
    /// `None` for the payment's own webhook URL.
    pub endpoint_id: Option<WebhookEndpointId>,
    pub url: String,
    pub attempted_at: Timestamp,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<DeliveryError>,
    /// The first 4 KiB of the response body.
    pub response_body: String,
    pub trigger: Trigger,
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(Timestamp),
    /// The schedule is used up, or the receiver answered `410 Gone`.
    Failed,
    /// A resend of an event that had already ended failed: it stays as it was.
    Unchanged,
}

/// How a merchant's webhooks are signed and acknowledged.
#[derive(Clone, Debug)]
pub struct WebhookSigning {
    pub secret: WebhookSecret,
    /// The secret before the last rotation, while it still signs alongside
    /// (docs/reference/webhooks.md#secret-rotation).
    pub previous: Option<WebhookSecret>,
    pub ack_mode: AckMode,
    /// An endpoint's URL as it is now, which replaces the one its events were written
    /// with: a merchant who fixes an endpoint's URL gets its retries and recoveries there.
    /// `None` for a payment's own URL.
    pub url: Option<String>,
}

/// Filters of `GET /v1/events`.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub payment_id: Option<PaymentId>,
    pub event_type: Option<EventKind>,
    pub delivery_status: Option<DeliveryStatus>,
    /// Only events that go (or went) to this endpoint.
    pub endpoint_id: Option<WebhookEndpointId>,
    pub starting_after: Option<EventId>,
    pub limit: u32,
}

/// Which due destinations one claim may take, by origin (`https://hooks.example/`).
#[derive(Clone, Copy, Debug)]
pub enum ClaimScope<'a> {
    /// Any destination but these (they have no attempt slot free).
    AllBut(&'a [String]),
    /// Only this destination (its slots freed up, and it has more waiting).
    Only(&'a str),
}

/// A claim's scope as SQL: a filter on the destination's origin, with the origins as
/// `$4`, `$5`, ….
#[derive(Debug)]
pub(crate) struct ScopeFilter {
    sql: String,
    origins: Vec<Value>,
}

impl From<ClaimScope<'_>> for ScopeFilter {
    fn from(scope: ClaimScope<'_>) -> Self {
        match scope {
            ClaimScope::AllBut([]) => Self { sql: String::new(), origins: Vec::new() },
            ClaimScope::AllBut(origins) => {
                let params: Vec<String> = (4..origins.len() + 4).map(|n| format!("${n}")).collect();
                let sql = format!(" AND origin NOT IN ({})", params.join(", "));
                Self { sql, origins: origins.iter().map(|o| Value::from(o.as_str())).collect() }
            }
            ClaimScope::Only(origin) => Self { sql: " AND origin = $4".into(), origins: vec![origin.into()] },
        }
    }
}

/// Marks due destinations as taken until `$2` (the lease: a worker that dies lets them
/// come due again) and returns them, within `scope`. On PostgreSQL nodes never take the
/// same one.
fn claim_due_sql(dialect: Dialect, scope: &ScopeFilter) -> String {
    format!(
        "UPDATE event_destinations SET next_attempt_at = $2 WHERE (event_id, position) IN \
         (SELECT event_id, position FROM event_destinations \
         WHERE next_attempt_at <= $1{} ORDER BY next_attempt_at LIMIT $3{}) RETURNING *",
        scope.sql,
        dialect.skip_locked()
    )
}

/// The events of claimed destinations: `$1`, `$2`, … are their ids.
fn events_by_ids_sql(count: usize) -> String {
    let ids: Vec<String> = (1..=count).map(|n| format!("${n}")).collect();
    format!("SELECT * FROM events WHERE id IN ({})", ids.join(", "))
}

/// Hands claimed destinations back, due again at `$1`; `$2`, `$3`, … are pairs of event id
/// and position, each found by the primary key. One that is no longer scheduled (another
/// node delivered it, or it ended) stays as it is.
fn release_sql(count: usize) -> String {
    let pairs: Vec<String> =
        (0..count).map(|n| format!("(event_id = ${} AND position = ${})", 2 * n + 2, 2 * n + 3)).collect();
    format!(
        "UPDATE event_destinations SET next_attempt_at = $1 WHERE next_attempt_at IS NOT NULL AND ({})",
        pairs.join(" OR ")
    )
}

/// The row of one attempt.
fn delivery_row(d: &Delivery) -> Columns {
    vec![
        ("id", d.id.as_str().into()),
        ("event_id", d.event_id.as_str().into()),
        ("position", i64::from(d.position).into()),
        ("endpoint_id", d.endpoint_id.as_ref().map(WebhookEndpointId::as_str).into()),
        ("url", d.url.as_str().into()),
        ("attempted_at", d.attempted_at.millis().into()),
        ("duration_ms", d.duration_ms.into()),
        ("status_code", d.status_code.map(i64::from).into()),
        ("error", d.error.map(|e| e.as_str()).into()),
        ("response_body", d.response_body.as_str().into()),
        ("trigger", d.trigger.as_str().into()),
    ]
}

/// Records the attempt on its destination: `$1` event id, `$2` position, `$3` when, `$4`
/// status (NULL keeps it), `$5` next attempt.
/// A destination that is `DELIVERED` stays so, whatever a late or repeated attempt says.
const RECORD_ATTEMPT: &str = "UPDATE event_destinations SET \
    attempts = attempts + 1, last_attempt_at = $3, \
    next_attempt_at = CASE WHEN status = 'DELIVERED' THEN NULL ELSE CAST($5 AS BIGINT) END, \
    status = CASE WHEN status = 'DELIVERED' THEN status ELSE COALESCE($4, status) END, resend_requested = 0 \
    WHERE event_id = $1 AND position = $2";

/// The destination's status and next attempt after an attempt; an attempt that would be
/// retried for an endpoint that is off (or gone) meanwhile is skipped instead.
fn after_attempt(next: NextStep, endpoint_off: bool) -> (Option<DeliveryStatus>, Option<i64>) {
    match next {
        NextStep::Delivered => (Some(DeliveryStatus::Delivered), None),
        NextStep::RetryAt(_) if endpoint_off => (Some(DeliveryStatus::Skipped), None),
        NextStep::RetryAt(at) => (Some(DeliveryStatus::Pending), Some(at.millis())),
        NextStep::Failed => (Some(DeliveryStatus::Failed), None),
        NextStep::Unchanged => (None, None),
    }
}

const EVENT_BY_ID: &str = "SELECT * FROM events WHERE id = $1 AND merchant_id = $2";
const DESTINATIONS_OF_EVENT: &str = "SELECT * FROM event_destinations WHERE event_id = $1 ORDER BY position";
const DELIVERIES_OF_EVENT: &str = "SELECT d.* FROM deliveries d JOIN events e ON e.id = d.event_id \
    WHERE d.event_id = $1 AND e.merchant_id = $2 ORDER BY d.attempted_at, d.id";
/// Asks for one attempt now (`$2`) at an event's (`$1`) destinations, those of `filter`.
/// Only the payment's own URL and endpoints that are enabled take one: a disabled
/// endpoint receives nothing (its skipped destinations wait for `recover`), and a removed
/// one has nobody to sign for it.
fn request_resend_sql(filter: &str) -> String {
    format!(
        "UPDATE event_destinations SET resend_requested = 1, next_attempt_at = $2 \
         WHERE event_id = $1 AND status <> 'SKIPPED' AND (endpoint_id IS NULL OR endpoint_id IN \
         (SELECT id FROM webhook_endpoints WHERE status = 'enabled')){filter}"
    )
}
pub(crate) const BACKLOG: &str = "SELECT COUNT(*) AS backlog FROM events WHERE delivery_status = 'PENDING'";
const WEBHOOK_SIGNING: &str = "SELECT webhook_secret, previous_webhook_secret, \
    previous_secret_expires_at, webhook_ack_mode FROM merchants WHERE id = $1";
/// An endpoint's destinations of events since `$3` that were not delivered, oldest first.
const NOT_DELIVERED_SINCE: &str = "SELECT d.event_id, d.position FROM event_destinations d \
    JOIN events e ON e.id = d.event_id \
    WHERE e.merchant_id = $1 AND d.endpoint_id = $2 AND e.created_at >= $3 AND d.status <> 'DELIVERED' \
    ORDER BY e.id";
const RECOVER_DESTINATION: &str = "UPDATE event_destinations SET status = 'PENDING', next_attempt_at = $3, \
    resend_requested = 0 WHERE event_id = $1 AND position = $2";

/// `SELECT` of an events list, newest first, filters as `$N` in order after the merchant.
fn list_events_sql(query: &EventQuery) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT * FROM events WHERE merchant_id = $1");
    let mut params: Vec<Value> = Vec::new();
    let filters: [(&str, &str, Option<Value>); 5] = [
        ("payment_id =", "", query.payment_id.as_ref().map(|id| id.as_str().into())),
        ("type =", "", query.event_type.map(|t| t.as_str().into())),
        ("delivery_status =", "", query.delivery_status.map(|s| s.as_str().into())),
        // Checked per event, newest first, through the destinations' primary key: an
        // endpoint takes most of its merchant's events, so the page fills after a few.
        (
            "EXISTS (SELECT 1 FROM event_destinations d WHERE d.event_id = events.id AND d.endpoint_id =",
            ")",
            query.endpoint_id.as_ref().map(|id| id.as_str().into()),
        ),
        ("id <", "", query.starting_after.as_ref().map(|id| id.as_str().into())),
    ];
    for (clause, close, value) in filters {
        if let Some(value) = value {
            params.push(value);
            sql.push_str(&format!(" AND {clause} ${}{close}", params.len() + 1));
        }
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", query.limit + 1));
    (sql, params)
}

fn event_from_row(row: &dyn Row) -> Result<StoredEvent, StoreError> {
    let event_type = row.text("type")?;
    Ok(StoredEvent {
        id: EventId::from_trusted(row.text("id")?),
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        payment_id: row.opt_text("payment_id")?.map(PaymentId::from_trusted),
        event_type: EventKind::parse(&event_type).ok_or(StoreError::Corrupt(event_type))?,
        sequence: row.opt_int("sequence")?,
        body: row.bytes("body")?.into(),
        created_at: row.time("created_at")?,
        delivery_status: row.named("delivery_status")?,
        destinations: Vec::new(),
    })
}

fn destination_from_row(row: &dyn Row) -> Result<EventDestination, StoreError> {
    Ok(EventDestination {
        position: u32::try_from(row.int("position")?).unwrap_or(u32::MAX),
        endpoint_id: row.opt_text("endpoint_id")?.map(WebhookEndpointId::from_trusted),
        url: row.text("url")?,
        origin: row.text("origin")?,
        status: row.named("status")?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.opt_int("next_attempt_at")?.map(Timestamp::from_millis),
        last_attempt_at: row.opt_int("last_attempt_at")?.map(Timestamp::from_millis),
        resend_requested: row.int("resend_requested")? != 0,
    })
}

fn delivery_from_row(row: &dyn Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: DeliveryId::from_trusted(row.text("id")?),
        event_id: EventId::from_trusted(row.text("event_id")?),
        position: u32::try_from(row.int("position")?).unwrap_or(u32::MAX),
        endpoint_id: row.opt_text("endpoint_id")?.map(WebhookEndpointId::from_trusted),
        url: row.text("url")?,
        attempted_at: row.time("attempted_at")?,
        duration_ms: row.int("duration_ms")?,
        status_code: row.opt_int("status_code")?.and_then(|code| u16::try_from(code).ok()),
        error: row.opt_named("error")?,
        response_body: row.text("response_body")?,
        trigger: row.named("trigger")?,
    })
}

fn signing_from_row(row: &dyn Row, now: Timestamp) -> Result<WebhookSigning, StoreError> {
    let parse = |text: String| WebhookSecret::parse(&text).ok_or_else(|| StoreError::Corrupt("webhook secret".into()));
    let still_signs = row.opt_int("previous_secret_expires_at")?.is_some_and(|until| until > now.millis());
    let previous = match row.opt_text("previous_webhook_secret")? {
        Some(text) if still_signs => Some(parse(text)?),
        _ => None,
    };
    let mode = row.text("webhook_ack_mode")?;
    Ok(WebhookSigning {
        url: None,
        secret: parse(row.text("webhook_secret")?)?,
        previous,
        ack_mode: AckMode::parse(&mode).ok_or_else(|| StoreError::Corrupt(mode))?,
    })
}

/// See `Store::claim_due_events`.
pub(crate) async fn claim_due(
    tx: &mut dyn Tx,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    scope: ScopeFilter,
) -> Result<Vec<DueDelivery>, StoreError> {
    let sql = claim_due_sql(tx.dialect(), &scope);
    let mut values: Vec<Value> = vec![now.millis().into(), lease_until.millis().into(), i64::from(limit).into()];
    values.extend(scope.origins);
    // A row this build cannot read (a status of a newer version sharing the database) is
    // left leased and logged; it must not hold back every other event.
    let rows = tx.query(&sql, &values, |row| Ok((row.text("event_id"), destination_from_row(row)))).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for (event_id, destination) in rows {
        match (event_id, destination) {
            (Ok(event_id), Ok(destination)) => claimed.push((event_id, destination)),
            (event_id, Err(error)) => {
                tracing::error!(event = ?event_id.ok(), %error, "claimed destination not readable");
            }
            (Err(error), Ok(_)) => tracing::error!(%error, "claimed destination not readable"),
        }
    }
    let mut events: HashMap<String, StoredEvent> = HashMap::new();
    let mut ids: Vec<&str> = claimed.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let values: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
        let rows =
            tx.query(&events_by_ids_sql(chunk.len()), &values, |row| Ok((row.text("id"), event_from_row(row)))).await?;
        for (id, event) in rows {
            match event {
                Ok(event) => {
                    events.insert(event.id.as_str().to_owned(), event);
                }
                Err(error) => tracing::error!(event = ?id.ok(), %error, "claimed event not readable"),
            }
        }
    }
    Ok(claimed
        .into_iter()
        .filter_map(|(id, destination)| Some(DueDelivery { event: events.get(&id)?.clone(), destination }))
        .collect())
}

/// How many ids one statement binds: databases bound how many parameters it may have.
const IDS_PER_STATEMENT: usize = 500;

/// Marks claimed destinations whose endpoint was removed as skipped: nobody is left to sign
/// for them, and claiming them again would never end.
pub(crate) async fn skip(tx: &mut dyn Tx, destinations: Vec<(EventId, u32)>) -> Result<(), StoreError> {
    let mut events = Vec::with_capacity(destinations.len());
    for (event, position) in destinations {
        let values: [Value; 2] = [event.as_str().into(), i64::from(position).into()];
        tx.execute(SKIP_DESTINATION, &values).await?;
        events.push(event);
    }
    settle_event_statuses(tx, &events).await
}

const SKIP_DESTINATION: &str = "UPDATE event_destinations SET status = 'SKIPPED', next_attempt_at = NULL, \
    resend_requested = 0 WHERE event_id = $1 AND position = $2 AND status = 'PENDING'";

/// How many destinations one release names: each is a term of an `OR`, and SQLite bounds
/// how deep an expression may nest (1000).
const RELEASED_PER_STATEMENT: usize = 100;

pub(crate) async fn release(
    tx: &mut dyn Tx,
    destinations: Vec<(EventId, u32)>,
    at: Timestamp,
) -> Result<(), StoreError> {
    for chunk in destinations.chunks(RELEASED_PER_STATEMENT) {
        let mut values: Vec<Value> = vec![at.millis().into()];
        for (event, position) in chunk {
            values.push(event.as_str().into());
            values.push(i64::from(*position).into());
        }
        tx.execute(&release_sql(chunk.len()), &values).await?;
    }
    Ok(())
}

/// Records attempts and what follows each: on the destination, on the event once its
/// destinations have ended, and on an endpoint's failing streak, which may turn it off
/// (`gatepost_core::endpoints::FailingStreak`). Returns whether one was turned off, which
/// wrote a notice to deliver.
pub(crate) async fn record(
    tx: &mut dyn Tx,
    attempts: Vec<(Delivery, NextStep)>,
    disable_after: Duration,
) -> Result<bool, StoreError> {
    // Each endpoint of the batch is read once, and its streak written once; in the order of
    // their ids, so that two batches locking the same endpoints never wait for each other.
    let mut endpoint_ids: Vec<&WebhookEndpointId> =
        attempts.iter().filter_map(|(d, _)| d.endpoint_id.as_ref()).collect();
    endpoint_ids.sort_unstable();
    endpoint_ids.dedup();
    let mut streaks: HashMap<WebhookEndpointId, (bool, FailingStreak, FailingStreak)> = HashMap::new();
    for id in endpoint_ids {
        let (off, streak) = match endpoints::streak(tx, id).await? {
            Some((status, streak)) => (status == EndpointStatus::Disabled, streak),
            None => (true, FailingStreak::default()),
        };
        streaks.insert(id.clone(), (off, streak, streak));
    }
    // Events one of whose destinations ended: their own status follows, once per batch.
    let mut ended = Vec::new();
    for (delivery, next) in &attempts {
        tx.insert("deliveries", delivery_row(delivery)).await?;
        let mut off = false;
        if let Some((endpoint_off, _, streak)) = delivery.endpoint_id.as_ref().and_then(|id| streaks.get_mut(id)) {
            *streak = streak.after_attempt(*next == NextStep::Delivered, delivery.attempted_at);
            off = *endpoint_off;
        }
        let (status, next_at) = after_attempt(*next, off);
        let values: [Value; 5] = [
            delivery.event_id.as_str().into(),
            i64::from(delivery.position).into(),
            delivery.attempted_at.millis().into(),
            status.map(|s| s.as_str()).into(),
            next_at.into(),
        ];
        tx.execute(RECORD_ATTEMPT, &values).await?;
        if status.is_some_and(|s| s != DeliveryStatus::Pending) {
            ended.push(delivery.event_id.clone());
        }
    }
    settle_event_statuses(tx, &ended).await?;
    let mut disabled = false;
    for (id, (off, before, after)) in streaks {
        if off || before == after {
            continue;
        }
        if after.should_disable(disable_after) {
            let last = after.span.map_or(Timestamp::from_millis(0), |(_, last)| last);
            endpoints::disable_failing(tx, &id, last).await?;
            disabled = true;
        } else {
            endpoints::set_streak(tx, &id, after).await?;
        }
    }
    Ok(disabled)
}

pub(crate) async fn signing(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    now: Timestamp,
) -> Result<Option<WebhookSigning>, StoreError> {
    tx.query_one(WEBHOOK_SIGNING, &[merchant.as_str().into()], |r| signing_from_row(r, now)).await
}

async fn with_destinations(tx: &mut dyn Tx, mut event: StoredEvent) -> Result<StoredEvent, StoreError> {
    event.destinations = tx.query(DESTINATIONS_OF_EVENT, &[event.id.as_str().into()], destination_from_row).await?;
    Ok(event)
}

pub(crate) async fn event(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    id: EventId,
) -> Result<Option<StoredEvent>, StoreError> {
    match tx.query_one(EVENT_BY_ID, &[id.as_str().into(), merchant.as_str().into()], event_from_row).await? {
        Some(event) => Ok(Some(with_destinations(tx, event).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn list(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    query: EventQuery,
) -> Result<Page<StoredEvent>, StoreError> {
    let (sql, filters) = list_events_sql(&query);
    let mut values: Vec<Value> = vec![merchant.as_str().into()];
    values.extend(filters);
    let page = into_page(tx.query(&sql, &values, event_from_row).await?, query.limit);
    let mut data = Vec::with_capacity(page.data.len());
    for event in page.data {
        data.push(with_destinations(tx, event).await?);
    }
    Ok(Page { data, has_more: page.has_more })
}

pub(crate) async fn deliveries(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    event: EventId,
) -> Result<Vec<Delivery>, StoreError> {
    tx.query(DELIVERIES_OF_EVENT, &[event.as_str().into(), merchant.as_str().into()], delivery_from_row).await
}

/// Which destinations of an event a resend is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResendTo {
    Every,
    /// One endpoint's destination.
    Endpoint(WebhookEndpointId),
}

/// See `Store::request_resend`.
pub(crate) async fn request_resend(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    event: EventId,
    to: ResendTo,
    now: Timestamp,
) -> Result<u64, StoreError> {
    if tx.query_one(EVENT_BY_ID, &[event.as_str().into(), merchant.as_str().into()], |r| r.text("id")).await?.is_none()
    {
        return Ok(0);
    }
    let mut values: Vec<Value> = vec![event.as_str().into(), now.millis().into()];
    let filter = match &to {
        ResendTo::Every => "",
        ResendTo::Endpoint(id) => {
            values.push(id.as_str().into());
            " AND endpoint_id = $3"
        }
    };
    tx.execute(&request_resend_sql(filter), &values).await
}

/// See `Store::recover`: every destination of the endpoint whose event came at `since` or
/// later and was not delivered there is due again, oldest first (a millisecond apart, so
/// that claims take them in order).
pub(crate) async fn recover(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    endpoint: WebhookEndpointId,
    since: Timestamp,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let values: [Value; 3] = [merchant.as_str().into(), endpoint.as_str().into(), since.millis().into()];
    let missed = tx.query(NOT_DELIVERED_SINCE, &values, |r| Ok((r.text("event_id")?, r.int("position")?))).await?;
    let mut count = 0;
    let mut events = Vec::with_capacity(missed.len());
    for (n, (event, position)) in missed.into_iter().enumerate() {
        let due = now.millis().saturating_add(i64::try_from(n).unwrap_or(i64::MAX));
        let values: [Value; 3] = [event.as_str().into(), position.into(), due.into()];
        count += tx.execute(RECOVER_DESTINATION, &values).await?;
        events.push(EventId::from_trusted(event));
    }
    settle_event_statuses(tx, &events).await?;
    Ok(count)
}

/// Events not delivered yet.
pub(crate) async fn backlog(tx: &mut dyn Tx) -> Result<u64, StoreError> {
    let count = tx.query_one(BACKLOG, &[], |r| r.int("backlog")).await?.unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}
