//! Column values shared by both backends, so each insert is written once.

use gatepost_core::ids::PaymentId;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{Attempt, Payment};
use gatepost_core::time::Timestamp;
use std::sync::LazyLock;

/// A value bound to a statement parameter. Both backends bind it (`sqlite::bind`,
/// `postgres::bind`); the schemas use only these three shapes.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Vec<u8>),
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

/// `INSERT INTO table (a, b) VALUES ($1, $2)`: SQLite reads `$N` as positional too.
pub(crate) fn insert_sql(table: &str, columns: &[&str]) -> String {
    let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
    format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), placeholders.join(", "))
}

pub(crate) const PAYMENT_COLUMNS: [&str; 27] = [
    "id",
    "merchant_id",
    "status",
    "amount",
    "currency",
    "amount_captured",
    "amount_refunded",
    "reference",
    "description",
    "customer",
    "metadata",
    "capture",
    "max_attempts",
    "attempts_remaining",
    "checkout_token",
    "checkout_url",
    "return_url",
    "return_urls",
    "return_method",
    "webhook_url",
    "livemode",
    "event_sequence",
    "created_at",
    "updated_at",
    "expires_at",
    "form_token",
    "capture_before",
];

pub(crate) static INSERT_PAYMENT: LazyLock<String> = LazyLock::new(|| insert_sql("payments", &PAYMENT_COLUMNS));

/// The row of a payment, in [`PAYMENT_COLUMNS`] order.
pub(crate) fn payment_values(p: &Payment) -> Vec<Value> {
    vec![
        p.id.as_str().into(),
        p.merchant_id.as_str().into(),
        p.status.as_str().into(),
        p.amount.into(),
        p.currency.code().into(),
        p.amount_captured.into(),
        p.amount_refunded.into(),
        p.reference.clone().into(),
        p.description.clone().into(),
        p.customer.as_ref().map(json).into(),
        json(&p.metadata).into(),
        p.capture.as_str().into(),
        i64::from(p.max_attempts).into(),
        i64::from(p.attempts_remaining).into(),
        p.checkout_token.as_str().into(),
        p.checkout_url.as_str().into(),
        p.return_url.as_ref().map(|u| u.as_str().to_owned()).into(),
        json(&p.return_urls).into(),
        p.return_method.as_str().into(),
        p.webhook_url.as_ref().map(|u| u.as_str().to_owned()).into(),
        i64::from(p.livemode).into(),
        p.event_sequence.into(),
        p.created_at.millis().into(),
        p.updated_at.millis().into(),
        p.expires_at.millis().into(),
        p.form_token.as_str().into(),
        p.capture_before.map(Timestamp::millis).into(),
    ]
}

/// The columns a change rewrites, then the payment id.
pub(crate) const UPDATE_PAYMENT_STATE: &str = "UPDATE payments SET status = $1, \
    amount_captured = $2, amount_refunded = $3, attempts_remaining = $4, \
    event_sequence = $5, updated_at = $6, form_token = $7, capture_before = $8 WHERE id = $9";

pub(crate) fn payment_state_values(p: &Payment) -> Vec<Value> {
    vec![
        p.status.as_str().into(),
        p.amount_captured.into(),
        p.amount_refunded.into(),
        i64::from(p.attempts_remaining).into(),
        p.event_sequence.into(),
        p.updated_at.millis().into(),
        p.form_token.as_str().into(),
        p.capture_before.map(Timestamp::millis).into(),
        p.id.as_str().into(),
    ]
}

pub(crate) const ATTEMPT_COLUMNS: [&str; 18] = [
    "id",
    "payment_id",
    "number",
    "status",
    "card_brand",
    "card_last4",
    "card_exp_month",
    "card_exp_year",
    "decline_code",
    "decline_message",
    "three_ds_required",
    "three_ds_result",
    "connector",
    "connector_reference",
    "challenge_token",
    "next_poll_at",
    "created_at",
    "updated_at",
];

pub(crate) static INSERT_ATTEMPT: LazyLock<String> = LazyLock::new(|| insert_sql("attempts", &ATTEMPT_COLUMNS));

/// The row of an attempt, in [`ATTEMPT_COLUMNS`] order.
pub(crate) fn attempt_values(payment: &PaymentId, a: &Attempt, next_poll_at: Option<Timestamp>) -> Vec<Value> {
    vec![
        a.id.as_str().into(),
        payment.as_str().into(),
        i64::from(a.number).into(),
        a.status.as_str().into(),
        a.card.brand.as_str().into(),
        a.card.last4.as_str().into(),
        i64::from(a.card.exp_month).into(),
        i64::from(a.card.exp_year).into(),
        a.decline_code.clone().into(),
        a.decline_message.clone().into(),
        i64::from(a.three_ds.required).into(),
        a.three_ds.result.clone().into(),
        a.connector.as_str().into(),
        a.connector_reference.clone().into(),
        a.challenge_token.clone().into(),
        next_poll_at.map(Timestamp::millis).into(),
        a.created_at.millis().into(),
        a.created_at.millis().into(),
    ]
}

/// Rewrites an attempt's result: everything but the card and its place.
pub(crate) const UPDATE_ATTEMPT: &str = "UPDATE attempts SET status = $2, decline_code = $3, \
    decline_message = $4, three_ds_required = $5, three_ds_result = $6, \
    connector_reference = $7, challenge_token = $8, next_poll_at = $9, updated_at = $10 \
    WHERE id = $1";

pub(crate) fn attempt_update_values(a: &Attempt, next_poll_at: Option<Timestamp>, now: Timestamp) -> Vec<Value> {
    vec![
        a.id.as_str().into(),
        a.status.as_str().into(),
        a.decline_code.clone().into(),
        a.decline_message.clone().into(),
        i64::from(a.three_ds.required).into(),
        a.three_ds.result.clone().into(),
        a.connector_reference.clone().into(),
        a.challenge_token.clone().into(),
        next_poll_at.map(Timestamp::millis).into(),
        now.millis().into(),
    ]
}

/// The JSON documents kept in TEXT columns.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serializes")
}

pub(crate) const MERCHANT_COLUMNS: [&str; 11] = [
    "id",
    "name",
    "api_key_hash",
    "webhook_secret",
    "previous_webhook_secret",
    "previous_secret_expires_at",
    "default_webhook_url",
    "webhook_ack_mode",
    "allowed_return_hosts",
    "connector",
    "created_at",
];

pub(crate) static INSERT_MERCHANT: LazyLock<String> = LazyLock::new(|| insert_sql("merchants", &MERCHANT_COLUMNS));

pub(crate) fn merchant_values(new: &crate::NewMerchant) -> Vec<Value> {
    let m = &new.merchant;
    vec![
        m.id.as_str().into(),
        m.name.as_str().into(),
        new.api_key_hash.as_str().into(),
        new.webhook_secret.expose().into(),
        Value::Text(None),
        Value::Int(None),
        m.default_webhook_url.as_ref().map(|u| u.as_str().to_owned()).into(),
        m.webhook_ack_mode.as_str().into(),
        json(&m.allowed_return_hosts).into(),
        m.connector.as_str().into(),
        m.created_at.millis().into(),
    ]
}

pub(crate) const EVENT_COLUMNS: [&str; 12] = [
    "id",
    "merchant_id",
    "payment_id",
    "type",
    "sequence",
    "body",
    "created_at",
    "webhook_url",
    "delivery_status",
    "delivery_attempts",
    "next_attempt_at",
    "last_attempt_at",
];

pub(crate) static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| insert_sql("events", &EVENT_COLUMNS));

/// Parameters of `UPDATE_MERCHANT_SETTINGS`.
pub(crate) fn merchant_settings_values(m: &gatepost_core::payment::Merchant) -> Vec<Value> {
    vec![
        m.id.as_str().into(),
        m.default_webhook_url.as_ref().map(|u| u.as_str().to_owned()).into(),
        m.webhook_ack_mode.as_str().into(),
        json(&m.allowed_return_hosts).into(),
        m.connector.as_str().into(),
    ]
}
