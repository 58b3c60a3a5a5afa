//! The webhook outbox as the delivery worker and the events API see it
//! (docs/reference/webhooks.md).

use crate::Page;
use crate::StoreError;
use crate::rows::{Row, into_page};
use crate::tx::{Dialect, Tx};
use crate::values::{Columns, Value};
use gatepost_core::delivery::{DeliveryError, DeliveryStatus, Trigger};
use gatepost_core::ids::{DeliveryId, EventId, MerchantId, PaymentId};
use gatepost_core::names::Named as _;
use gatepost_core::payment::AckMode;
use gatepost_core::signing::WebhookSecret;
use gatepost_core::status::EventType;
use gatepost_core::time::Timestamp;

/// An event with its delivery state.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: EventId,
    pub merchant_id: MerchantId,
    pub payment_id: PaymentId,
    pub event_type: EventType,
    pub sequence: i64,
    /// The exact bytes every attempt sends; shared, not copied, by each attempt.
    pub body: bytes::Bytes,
    pub created_at: Timestamp,
    pub url: Option<String>,
    pub delivery_status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// The next attempt was asked for by the merchant (`resend`).
    pub resend_requested: bool,
}

/// One delivery attempt, as recorded.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
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
}

/// Filters of `GET /v1/events`.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub payment_id: Option<PaymentId>,
    pub event_type: Option<EventType>,
    pub delivery_status: Option<DeliveryStatus>,
    pub starting_after: Option<EventId>,
    pub limit: u32,
}

/// Which due events one claim may take: the destinations are URL prefixes
/// (`https://hooks.example/`).
#[derive(Clone, Copy, Debug)]
pub enum ClaimScope<'a> {
    /// Any destination but these (they have no attempt slot free).
    AllBut(&'a [String]),
    /// Only this destination (its slots freed up, and it has more waiting).
    Only(&'a str),
}

/// A claim's scope as SQL: a filter on the event's URL, with its `LIKE` patterns as
/// `$4`, `$5`, ….
#[derive(Debug)]
pub(crate) struct ScopeFilter {
    sql: String,
    patterns: Vec<Value>,
}

impl From<ClaimScope<'_>> for ScopeFilter {
    fn from(scope: ClaimScope<'_>) -> Self {
        let mut sql = String::new();
        let mut patterns = Vec::new();
        match scope {
            ClaimScope::AllBut(prefixes) => {
                for (n, prefix) in prefixes.iter().enumerate() {
                    sql.push_str(&format!(" AND COALESCE(webhook_url, '') NOT LIKE ${}", n + 4));
                    patterns.push(Value::from(format!("{prefix}%")));
                }
            }
            ClaimScope::Only(prefix) => {
                sql.push_str(" AND webhook_url LIKE $4");
                patterns.push(Value::from(format!("{prefix}%")));
            }
        }
        Self { sql, patterns }
    }
}

/// Marks due events as taken until `$2` (the lease: a worker that dies lets them come
/// due again) and returns them, within `scope`. On PostgreSQL nodes never take the same
/// event.
fn claim_due_sql(dialect: Dialect, scope: &ScopeFilter) -> String {
    format!(
        "UPDATE events SET next_attempt_at = $2 WHERE id IN (SELECT id FROM events \
         WHERE next_attempt_at <= $1{} ORDER BY next_attempt_at LIMIT $3{}) RETURNING *",
        scope.sql,
        dialect.skip_locked()
    )
}

/// Hands claimed events back, due again at `$1`: `$2`, `$3`, … are their ids. An event
/// that is no longer scheduled (another node delivered it, or it ended) stays as it is.
fn release_sql(count: usize) -> String {
    let ids: Vec<String> = (2..count + 2).map(|n| format!("${n}")).collect();
    format!("UPDATE events SET next_attempt_at = $1 WHERE next_attempt_at IS NOT NULL AND id IN ({})", ids.join(", "))
}

/// The row of one attempt.
fn delivery_row(d: &Delivery) -> Columns {
    vec![
        ("id", d.id.as_str().into()),
        ("event_id", d.event_id.as_str().into()),
        ("url", d.url.as_str().into()),
        ("attempted_at", d.attempted_at.millis().into()),
        ("duration_ms", d.duration_ms.into()),
        ("status_code", d.status_code.map(i64::from).into()),
        ("error", d.error.map(|e| e.as_str()).into()),
        ("response_body", d.response_body.as_str().into()),
        ("trigger", d.trigger.as_str().into()),
    ]
}

/// Records the attempt on its event: `$1` id, `$2` when, `$3` status (NULL keeps it),
/// `$4` next attempt.
const RECORD_ATTEMPT_ON_EVENT: &str = "UPDATE events SET \
    delivery_attempts = delivery_attempts + 1, last_attempt_at = $2, \
    delivery_status = COALESCE($3, delivery_status), next_attempt_at = $4, resend_requested = 0 \
    WHERE id = $1";

fn record_values(d: &Delivery, next: NextStep) -> Vec<Value> {
    let (status, next_at) = match next {
        NextStep::Delivered => (Some(DeliveryStatus::Delivered), None),
        NextStep::RetryAt(at) => (Some(DeliveryStatus::Pending), Some(at.millis())),
        NextStep::Failed => (Some(DeliveryStatus::Failed), None),
        NextStep::Unchanged => (None, None),
    };
    vec![d.event_id.as_str().into(), d.attempted_at.millis().into(), status.map(|s| s.as_str()).into(), next_at.into()]
}

const EVENT_BY_ID: &str = "SELECT * FROM events WHERE id = $1 AND merchant_id = $2";
const DELIVERIES_OF_EVENT: &str = "SELECT d.* FROM deliveries d JOIN events e ON e.id = d.event_id \
    WHERE d.event_id = $1 AND e.merchant_id = $2 ORDER BY d.attempted_at, d.id";
const REQUEST_RESEND: &str =
    "UPDATE events SET resend_requested = 1, next_attempt_at = $3 WHERE id = $1 AND merchant_id = $2";
pub(crate) const BACKLOG: &str = "SELECT COUNT(*) AS backlog FROM events WHERE delivery_status = 'PENDING'";
const WEBHOOK_SIGNING: &str = "SELECT webhook_secret, previous_webhook_secret, \
    previous_secret_expires_at, webhook_ack_mode FROM merchants WHERE id = $1";

/// `SELECT` of an events list, newest first, filters as `$N` in order after the merchant.
fn list_events_sql(query: &EventQuery) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT * FROM events WHERE merchant_id = $1");
    let mut params: Vec<Value> = Vec::new();
    let filters: [(&str, Option<Value>); 4] = [
        ("payment_id =", query.payment_id.as_ref().map(|id| id.as_str().into())),
        ("type =", query.event_type.map(|t| t.as_str().into())),
        ("delivery_status =", query.delivery_status.map(|s| s.as_str().into())),
        ("id <", query.starting_after.as_ref().map(|id| id.as_str().into())),
    ];
    for (clause, value) in filters {
        if let Some(value) = value {
            params.push(value);
            sql.push_str(&format!(" AND {clause} ${}", params.len() + 1));
        }
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", query.limit + 1));
    (sql, params)
}

fn event_from_row(row: &dyn Row) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        id: EventId::from_trusted(row.text("id")?),
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        payment_id: PaymentId::from_trusted(row.text("payment_id")?),
        event_type: row.named("type")?,
        sequence: row.int("sequence")?,
        body: row.bytes("body")?.into(),
        created_at: row.time("created_at")?,
        url: row.opt_text("webhook_url")?,
        delivery_status: row.named("delivery_status")?,
        attempts: u32::try_from(row.int("delivery_attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.opt_int("next_attempt_at")?.map(Timestamp::from_millis),
        last_attempt_at: row.opt_int("last_attempt_at")?.map(Timestamp::from_millis),
        resend_requested: row.int("resend_requested")? != 0,
    })
}

fn delivery_from_row(row: &dyn Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: DeliveryId::from_trusted(row.text("id")?),
        event_id: EventId::from_trusted(row.text("event_id")?),
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
) -> Result<Vec<StoredEvent>, StoreError> {
    let sql = claim_due_sql(tx.dialect(), &scope);
    let mut values: Vec<Value> = vec![now.millis().into(), lease_until.millis().into(), i64::from(limit).into()];
    values.extend(scope.patterns);
    // A row this build cannot read (an event type or status of a newer version sharing the
    // database) is left leased and logged; it must not hold back every other event.
    let rows = tx.query(&sql, &values, |row| Ok((row.text("id"), event_from_row(row)))).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, event)| {
            event.inspect_err(|error| tracing::error!(event = ?id.ok(), %error, "claimed event not readable")).ok()
        })
        .collect())
}

pub(crate) async fn release(tx: &mut dyn Tx, ids: Vec<EventId>, at: Timestamp) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut values: Vec<Value> = vec![at.millis().into()];
    values.extend(ids.iter().map(|id| Value::from(id.as_str())));
    tx.execute(&release_sql(ids.len()), &values).await.map(drop)
}

/// Records attempts and what follows each.
pub(crate) async fn record(tx: &mut dyn Tx, attempts: Vec<(Delivery, NextStep)>) -> Result<(), StoreError> {
    for (delivery, next) in &attempts {
        tx.insert("deliveries", delivery_row(delivery)).await?;
        tx.execute(RECORD_ATTEMPT_ON_EVENT, &record_values(delivery, *next)).await?;
    }
    Ok(())
}

pub(crate) async fn signing(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    now: Timestamp,
) -> Result<Option<WebhookSigning>, StoreError> {
    tx.query_one(WEBHOOK_SIGNING, &[merchant.as_str().into()], |r| signing_from_row(r, now)).await
}

pub(crate) async fn event(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    id: EventId,
) -> Result<Option<StoredEvent>, StoreError> {
    tx.query_one(EVENT_BY_ID, &[id.as_str().into(), merchant.as_str().into()], event_from_row).await
}

pub(crate) async fn list(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    query: EventQuery,
) -> Result<Page<StoredEvent>, StoreError> {
    let (sql, filters) = list_events_sql(&query);
    let mut values: Vec<Value> = vec![merchant.as_str().into()];
    values.extend(filters);
    Ok(into_page(tx.query(&sql, &values, event_from_row).await?, query.limit))
}

pub(crate) async fn deliveries(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    event: EventId,
) -> Result<Vec<Delivery>, StoreError> {
    tx.query(DELIVERIES_OF_EVENT, &[event.as_str().into(), merchant.as_str().into()], delivery_from_row).await
}

/// See `Store::request_resend`.
pub(crate) async fn request_resend(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    event: EventId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let values: [Value; 3] = [event.as_str().into(), merchant.as_str().into(), now.millis().into()];
    Ok(tx.execute(REQUEST_RESEND, &values).await? == 1)
}

/// Events not delivered yet.
pub(crate) async fn backlog(tx: &mut dyn Tx) -> Result<u64, StoreError> {
    let count = tx.query_one(BACKLOG, &[], |r| r.int("backlog")).await?.unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}
