//! A merchant's webhook endpoints (docs/reference/webhooks.md#endpoints): stored as
//! `gatepost_core::endpoints` describes them, with their secrets and failing streaks.

use crate::StoreError;
use crate::outbox::{insert_endpoint_event, skip_due_destinations};
use crate::queries::LOCK_MERCHANT;
use crate::rows::Row;
use crate::tx::Tx;
use crate::values::{Columns, Value};
use gatepost_core::endpoints::{
    DEFAULT_ENDPOINT_DESCRIPTION, DisabledReason, EnabledEvents, EndpointEventType, EndpointStatus, FailingStreak,
    MAX_ENDPOINTS_PER_MERCHANT, WebhookEndpoint,
};
use gatepost_core::ids::{EventId, MerchantId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::payment::Merchant;
use gatepost_core::signing::WebhookSecret;
use gatepost_core::time::Timestamp;
use gatepost_core::urls::WebhookUrl;

/// Why an endpoint was not created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointRefusal {
    /// The merchant has [`MAX_ENDPOINTS_PER_MERCHANT`] already.
    TooMany,
}

const ENDPOINTS_OF_MERCHANT: &str = "SELECT * FROM webhook_endpoints WHERE merchant_id = $1 ORDER BY id";
const ENDPOINT_BY_ID: &str = "SELECT * FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2";
const DEFAULT_ENDPOINT: &str = "SELECT * FROM webhook_endpoints WHERE merchant_id = $1 AND is_default = 1";
const COUNT_ENDPOINTS: &str = "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE merchant_id = $1";
const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2";
const SET_MERCHANT_DEFAULT_URL: &str = "UPDATE merchants SET default_webhook_url = $2 WHERE id = $1";
const ROTATE_ENDPOINT_SECRET: &str = "UPDATE webhook_endpoints SET previous_secret = secret, \
    previous_secret_expires_at = $3, secret = $2 WHERE id = $1";
const ENDPOINT_SIGNING: &str = "SELECT e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.ack_mode, \
    m.webhook_secret, m.previous_webhook_secret, m.previous_secret_expires_at AS merchant_previous_expires_at \
    FROM webhook_endpoints e JOIN merchants m ON m.id = e.merchant_id WHERE e.id = $1";
const STREAK: &str =
    "SELECT status, failing_since, failing_until, failing_attempts FROM webhook_endpoints WHERE id = $1";
const SET_STREAK: &str =
    "UPDATE webhook_endpoints SET failing_since = $2, failing_until = $3, failing_attempts = $4 WHERE id = $1";
const COUNT_BY_STATUS: &str = "SELECT status, COUNT(*) AS n FROM webhook_endpoints GROUP BY status";

/// The row of an endpoint, without its secret.
fn endpoint_columns(endpoint: &WebhookEndpoint) -> Columns {
    vec![
        ("url", endpoint.url.as_str().into()),
        ("enabled_events", endpoint.enabled_events.names().join(" ").into()),
        ("description", endpoint.description.as_deref().into()),
        ("ack_mode", endpoint.ack_mode.as_str().into()),
        ("status", endpoint.status.as_str().into()),
        ("disabled_reason", endpoint.disabled_reason.map(|r| r.as_str()).into()),
    ]
}

pub(crate) fn endpoint_from_row(row: &dyn Row) -> Result<WebhookEndpoint, StoreError> {
    let names = row.text("enabled_events")?;
    let names: Vec<&str> = names.split(' ').collect();
    Ok(WebhookEndpoint {
        id: WebhookEndpointId::from_trusted(row.text("id")?),
        object: "webhook_endpoint",
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        url: WebhookUrl::from_trusted(row.text("url")?),
        enabled_events: EnabledEvents::parse(&names).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        description: row.opt_text("description")?,
        ack_mode: row.named("ack_mode")?,
        status: row.named("status")?,
        disabled_reason: row.opt_named("disabled_reason")?,
        created_at: row.time("created_at")?,
        is_default: row.int("is_default")? != 0,
    })
}

pub(crate) async fn list(tx: &mut dyn Tx, merchant: &MerchantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
    tx.query(ENDPOINTS_OF_MERCHANT, &[merchant.as_str().into()], endpoint_from_row).await
}

pub(crate) async fn by_id(
    tx: &mut dyn Tx,
    merchant: &MerchantId,
    id: &WebhookEndpointId,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    tx.query_one(ENDPOINT_BY_ID, &[id.as_str().into(), merchant.as_str().into()], endpoint_from_row).await
}

/// Stores a new endpoint with its secret (`None`: the merchant's, for the default
/// endpoint), unless the merchant has as many as it may.
pub(crate) async fn create(
    tx: &mut dyn Tx,
    endpoint: &WebhookEndpoint,
    secret: Option<&WebhookSecret>,
) -> Result<Result<(), EndpointRefusal>, StoreError> {
    let merchant: [Value; 1] = [endpoint.merchant_id.as_str().into()];
    let lock = format!("{LOCK_MERCHANT}{}", tx.dialect().lock_for_update());
    tx.query_one(&lock, &merchant, |r| r.text("id")).await?;
    let count = tx.query_one(COUNT_ENDPOINTS, &merchant, |r| r.int("n")).await?.unwrap_or(0);
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_ENDPOINTS_PER_MERCHANT {
        return Ok(Err(EndpointRefusal::TooMany));
    }
    let mut row: Columns = vec![
        ("id", endpoint.id.as_str().into()),
        ("merchant_id", endpoint.merchant_id.as_str().into()),
        ("secret", secret.map(WebhookSecret::expose).into()),
        ("is_default", i64::from(endpoint.is_default).into()),
        ("failing_attempts", 0i64.into()),
        ("created_at", endpoint.created_at.millis().into()),
    ];
    row.extend(endpoint_columns(endpoint));
    tx.insert("webhook_endpoints", row).await?;
    Ok(Ok(()))
}

/// Writes an endpoint's settings as the merchant changed them. Turning it off stops what
/// was due for it; turning it on again starts a new failing streak. The default endpoint's
/// URL is also the merchant's `default_webhook_url`.
pub(crate) async fn update(tx: &mut dyn Tx, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
    let was = streak(tx, &endpoint.id).await?.map(|(status, _)| status);
    let mut columns = endpoint_columns(endpoint);
    let turned_on = was == Some(EndpointStatus::Disabled) && endpoint.status == EndpointStatus::Enabled;
    if turned_on {
        columns.extend([
            ("failing_since", Value::Int(None)),
            ("failing_until", Value::Int(None)),
            ("failing_attempts", 0i64.into()),
        ]);
    }
    tx.update("webhook_endpoints", ("id", endpoint.id.as_str().into()), columns).await?;
    if was == Some(EndpointStatus::Enabled) && endpoint.status == EndpointStatus::Disabled {
        skip_due_destinations(tx, &endpoint.id).await?;
    }
    if endpoint.is_default {
        let values: [Value; 2] = [endpoint.merchant_id.as_str().into(), endpoint.url.as_str().into()];
        tx.execute(SET_MERCHANT_DEFAULT_URL, &values).await?;
    }
    Ok(())
}

/// Removes an endpoint; what was due for it is skipped. Removing the default endpoint
/// removes the merchant's `default_webhook_url`. `false` when there was none.
pub(crate) async fn delete(tx: &mut dyn Tx, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<bool, StoreError> {
    // Locked first, as a recorded batch locks it, so that the two wait for each other in
    // one order.
    if streak(tx, id).await?.is_none() {
        return Ok(false);
    }
    let Some(endpoint) = by_id(tx, merchant, id).await? else { return Ok(false) };
    skip_due_destinations(tx, id).await?;
    tx.execute(DELETE_ENDPOINT, &[id.as_str().into(), merchant.as_str().into()]).await?;
    if endpoint.is_default {
        tx.execute(SET_MERCHANT_DEFAULT_URL, &[merchant.as_str().into(), Value::Text(None)]).await?;
    }
    Ok(true)
}

/// Makes the merchant's default endpoint match its `default_webhook_url` and
/// `webhook_ack_mode`: created, changed, or removed with the URL.
pub(crate) async fn sync_default(
    tx: &mut dyn Tx,
    merchant: &Merchant,
    now: Timestamp,
) -> Result<Result<(), EndpointRefusal>, StoreError> {
    let current = tx.query_one(DEFAULT_ENDPOINT, &[merchant.id.as_str().into()], endpoint_from_row).await?;
    match (current, &merchant.default_webhook_url) {
        (None, None) => Ok(Ok(())),
        (Some(endpoint), None) => delete(tx, &merchant.id, &endpoint.id).await.map(|_| Ok(())),
        (Some(mut endpoint), Some(url)) => {
            if endpoint.url != *url || endpoint.ack_mode != merchant.webhook_ack_mode {
                endpoint.url = url.clone();
                endpoint.ack_mode = merchant.webhook_ack_mode;
                let columns = vec![("url", url.as_str().into()), ("ack_mode", endpoint.ack_mode.as_str().into())];
                tx.update("webhook_endpoints", ("id", endpoint.id.as_str().into()), columns).await?;
            }
            Ok(Ok(()))
        }
        (None, Some(url)) => {
            let endpoint = WebhookEndpoint {
                id: WebhookEndpointId::generate(),
                object: "webhook_endpoint",
                merchant_id: merchant.id.clone(),
                url: url.clone(),
                enabled_events: EnabledEvents::every_payment_event(),
                description: Some(DEFAULT_ENDPOINT_DESCRIPTION.to_owned()),
                ack_mode: merchant.webhook_ack_mode,
                status: EndpointStatus::Enabled,
                disabled_reason: None,
                created_at: now,
                is_default: true,
            };
            create(tx, &endpoint, None).await
        }
    }
}

/// Gives every merchant whose `default_webhook_url` has no endpoint yet (a database from
/// before endpoints) its default endpoint; run on every start, it finds nothing to do after
/// the first.
pub(crate) async fn sync_every_default(tx: &mut dyn Tx, now: Timestamp) -> Result<(), StoreError> {
    for merchant in crate::merchants::list(tx).await? {
        if merchant.default_webhook_url.is_some() && sync_default(tx, &merchant, now).await?.is_err() {
            tracing::warn!(merchant = %merchant.id, "default_webhook_url has no endpoint: 16 endpoints already");
        }
    }
    Ok(())
}

/// Gives an endpoint a new secret; the one before signs alongside until `previous_until`.
/// The default endpoint signs with its merchant's secret, which is rotated instead.
/// `false` when there is no such endpoint.
pub(crate) async fn rotate_secret(
    tx: &mut dyn Tx,
    merchant: &MerchantId,
    id: &WebhookEndpointId,
    new: &WebhookSecret,
    previous_until: Timestamp,
) -> Result<bool, StoreError> {
    let Some(endpoint) = by_id(tx, merchant, id).await? else { return Ok(false) };
    if endpoint.is_default {
        crate::merchants::rotate_webhook_secret(tx, merchant.clone(), new.clone(), previous_until).await?;
    } else {
        let values: [Value; 3] = [id.as_str().into(), new.expose().into(), previous_until.millis().into()];
        tx.execute(ROTATE_ENDPOINT_SECRET, &values).await?;
    }
    Ok(true)
}

/// How an endpoint's webhooks are signed and acknowledged; `None` when it is gone.
pub(crate) async fn signing(
    tx: &mut dyn Tx,
    id: &WebhookEndpointId,
    now: Timestamp,
) -> Result<Option<crate::WebhookSigning>, StoreError> {
    tx.query_one(ENDPOINT_SIGNING, &[id.as_str().into()], |row| {
        let parse =
            |text: String| WebhookSecret::parse(&text).ok_or_else(|| StoreError::Corrupt("webhook secret".into()));
        // The default endpoint has no secret of its own: its merchant's signs.
        let (secret, previous, until) = match row.opt_text("secret")? {
            Some(secret) => (secret, row.opt_text("previous_secret")?, row.opt_int("previous_secret_expires_at")?),
            None => (
                row.text("webhook_secret")?,
                row.opt_text("previous_webhook_secret")?,
                row.opt_int("merchant_previous_expires_at")?,
            ),
        };
        let previous = match previous {
            Some(text) if until.is_some_and(|until| until > now.millis()) => Some(parse(text)?),
            _ => None,
        };
        Ok(crate::WebhookSigning {
            secret: parse(secret)?,
            previous,
            ack_mode: row.named("ack_mode")?,
            url: Some(row.text("url")?),
        })
    })
    .await
}

/// Stores a `webhook_endpoint.test` event for this endpoint alone, due at once, whatever
/// its filter and status. `None` when there is no such endpoint.
pub(crate) async fn send_test(
    tx: &mut dyn Tx,
    merchant: &MerchantId,
    id: &WebhookEndpointId,
    now: Timestamp,
) -> Result<Option<EventId>, StoreError> {
    let Some(endpoint) = by_id(tx, merchant, id).await? else { return Ok(None) };
    let event =
        insert_endpoint_event(tx, EndpointEventType::Test, &endpoint, std::slice::from_ref(&endpoint), now).await?;
    Ok(Some(event))
}

/// An endpoint's status and failing streak, locked until the transaction ends on
/// PostgreSQL, so that nodes recording attempts of one endpoint count them one after the
/// other.
pub(crate) async fn streak(
    tx: &mut dyn Tx,
    id: &WebhookEndpointId,
) -> Result<Option<(EndpointStatus, FailingStreak)>, StoreError> {
    let sql = format!("{STREAK}{}", tx.dialect().lock_for_update());
    tx.query_one(&sql, &[id.as_str().into()], |row| {
        let span = match (row.opt_int("failing_since")?, row.opt_int("failing_until")?) {
            (Some(first), Some(last)) => Some((Timestamp::from_millis(first), Timestamp::from_millis(last))),
            _ => None,
        };
        let attempts = u32::try_from(row.int("failing_attempts")?).unwrap_or(u32::MAX);
        Ok((row.named("status")?, FailingStreak { span, attempts }))
    })
    .await
}

pub(crate) async fn set_streak(
    tx: &mut dyn Tx,
    id: &WebhookEndpointId,
    streak: FailingStreak,
) -> Result<(), StoreError> {
    let (first, last) = streak.span.map_or((None, None), |(first, last)| (Some(first.millis()), Some(last.millis())));
    let values: [Value; 4] = [id.as_str().into(), first.into(), last.into(), i64::from(streak.attempts).into()];
    tx.execute(SET_STREAK, &values).await.map(drop)
}

/// Turns off an endpoint whose attempts kept failing: what was due for it is skipped, and
/// a `webhook_endpoint.disabled` event goes to the merchant's other endpoints that
/// subscribe to it.
pub(crate) async fn disable_failing(tx: &mut dyn Tx, id: &WebhookEndpointId, now: Timestamp) -> Result<(), StoreError> {
    let merchant = tx
        .query_one("SELECT merchant_id FROM webhook_endpoints WHERE id = $1", &[id.as_str().into()], |r| {
            r.text("merchant_id")
        })
        .await?;
    let Some(merchant) = merchant.map(MerchantId::from_trusted) else { return Ok(()) };
    let Some(mut endpoint) = by_id(tx, &merchant, id).await? else { return Ok(()) };
    endpoint.status = EndpointStatus::Disabled;
    endpoint.disabled_reason = Some(DisabledReason::Failing);
    update(tx, &endpoint).await?;
    set_streak(tx, id, FailingStreak::default()).await?;
    tracing::warn!(endpoint = %id, merchant = %merchant, "webhook endpoint disabled: its attempts kept failing");
    let endpoints = list(tx, &merchant).await?;
    insert_endpoint_event(tx, EndpointEventType::Disabled, &endpoint, &endpoints, now).await.map(drop)
}

/// How many endpoints there are, enabled and disabled, over every merchant.
pub(crate) async fn count_by_status(tx: &mut dyn Tx) -> Result<Vec<(EndpointStatus, u64)>, StoreError> {
    tx.query(COUNT_BY_STATUS, &[], |row| Ok((row.named("status")?, u64::try_from(row.int("n")?).unwrap_or(0)))).await
}
