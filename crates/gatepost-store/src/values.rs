//! Column values shared by both backends, so each insert is written once.

use gatepost_core::ids::PaymentId;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{Attempt, Payment};
use gatepost_core::time::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

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

/// Columns with their values, side by side: a write names each column where it gives its
/// value, so the two cannot drift apart.
pub(crate) type Columns = Vec<(&'static str, Value)>;

/// `INSERT INTO table (a, b) VALUES ($1, $2)` and its parameters.
pub(crate) fn insert_sql(table: &'static str, row: Columns) -> (Arc<str>, Vec<Value>) {
    let (names, values): (Vec<&'static str>, Vec<Value>) = row.into_iter().unzip();
    let sql = made_once(["INSERT", table].into_iter().chain(names.iter().copied()).collect(), || {
        let placeholders: Vec<String> = (1..=names.len()).map(|n| format!("${n}")).collect();
        format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), placeholders.join(", "))
    });
    (sql, values)
}

/// `UPDATE table SET a = $1, b = $2 WHERE key = $3` and its parameters.
pub(crate) fn update_sql(table: &'static str, key: (&'static str, Value), set: Columns) -> (Arc<str>, Vec<Value>) {
    let (names, mut values): (Vec<&'static str>, Vec<Value>) = set.into_iter().unzip();
    values.push(key.1);
    let sql = made_once(["UPDATE", table, key.0].into_iter().chain(names.iter().copied()).collect(), || {
        let assignments: Vec<String> = names.iter().zip(1..).map(|(name, n)| format!("{name} = ${n}")).collect();
        format!("UPDATE {table} SET {} WHERE {} = ${}", assignments.join(", "), key.0, names.len() + 1)
    });
    (sql, values)
}

/// The statement text for `shape` (its kind, table and columns), made the first time it is
/// asked for: a handful of shapes are written over and over, on SQLite by its one writer
/// thread, which should not spend its time formatting them.
fn made_once(shape: Vec<&'static str>, make: impl FnOnce() -> String) -> Arc<str> {
    static MADE: LazyLock<Mutex<HashMap<Vec<&'static str>, Arc<str>>>> = LazyLock::new(Mutex::default);
    let mut made = MADE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(made.entry(shape).or_insert_with(|| make().into()))
}

/// The row of a new payment.
pub(crate) fn payment_row(p: &Payment) -> Columns {
    let state = payment_state(p);
    let mut row: Columns = vec![
        ("id", p.id.as_str().into()),
        ("merchant_id", p.merchant_id.as_str().into()),
        ("amount", p.amount.into()),
        ("currency", p.currency.code().into()),
        ("reference", p.reference.clone().into()),
        ("description", p.description.clone().into()),
        ("customer", p.customer.as_ref().map(json).into()),
        // Lowercased, for the dashboard's search (docs/reference/dashboard.md#payments).
        ("customer_email", p.customer.as_ref().and_then(|c| c.email.as_ref()).map(|e| e.to_lowercase()).into()),
        ("metadata", json(&p.metadata).into()),
        ("capture", p.capture.as_str().into()),
        ("max_attempts", i64::from(p.max_attempts).into()),
        ("checkout_token", p.checkout_token.as_str().into()),
        ("checkout_url", p.checkout_url.as_str().into()),
        ("return_url", p.return_url.as_ref().map(|u| u.as_str()).into()),
        ("return_urls", json(&p.return_urls).into()),
        ("return_method", p.return_method.as_str().into()),
        ("webhook_url", p.webhook_url.as_ref().map(|u| u.as_str()).into()),
        ("livemode", i64::from(p.livemode).into()),
        ("created_at", p.created_at.millis().into()),
        ("expires_at", p.expires_at.millis().into()),
    ];
    row.extend(state);
    row
}

/// The columns a change to a payment rewrites.
pub(crate) fn payment_state(p: &Payment) -> Columns {
    vec![
        ("status", p.status.as_str().into()),
        ("amount_captured", p.amount_captured.into()),
        ("amount_refunded", p.amount_refunded.into()),
        ("attempts_remaining", i64::from(p.attempts_remaining).into()),
        ("event_sequence", p.event_sequence.into()),
        ("updated_at", p.updated_at.millis().into()),
        ("form_token", p.form_token.as_str().into()),
        ("capture_before", p.capture_before.map(Timestamp::millis).into()),
    ]
}

/// The row of a new attempt; the connector is asked about it at `next_poll_at` if it
/// never answers.
pub(crate) fn attempt_row(payment: &PaymentId, a: &Attempt, next_poll_at: Option<Timestamp>) -> Columns {
    let mut row: Columns = vec![
        ("id", a.id.as_str().into()),
        ("payment_id", payment.as_str().into()),
        ("number", i64::from(a.number).into()),
        ("card_brand", a.card.brand.as_str().into()),
        ("card_last4", a.card.last4.as_str().into()),
        ("card_exp_month", i64::from(a.card.exp_month).into()),
        ("card_exp_year", i64::from(a.card.exp_year).into()),
        ("connector", a.connector.as_str().into()),
        ("created_at", a.created_at.millis().into()),
    ];
    row.extend(attempt_result(a, next_poll_at, a.created_at));
    row
}

/// The columns an attempt's result rewrites: everything but the card and its place.
pub(crate) fn attempt_result(a: &Attempt, next_poll_at: Option<Timestamp>, now: Timestamp) -> Columns {
    vec![
        ("status", a.status.as_str().into()),
        ("decline_code", a.decline_code.clone().into()),
        ("decline_message", a.decline_message.clone().into()),
        ("three_ds_required", i64::from(a.three_ds.required).into()),
        ("three_ds_result", a.three_ds.result.clone().into()),
        ("connector_reference", a.connector_reference.clone().into()),
        ("challenge_token", a.challenge_token.clone().into()),
        ("next_poll_at", next_poll_at.map(Timestamp::millis).into()),
        ("updated_at", now.millis().into()),
    ]
}

/// The JSON documents kept in TEXT columns.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serializes")
}

/// The row of a new merchant, with its credentials.
pub(crate) fn merchant_row(new: &crate::NewMerchant) -> Columns {
    let m = &new.merchant;
    let mut row: Columns = vec![
        ("id", m.id.as_str().into()),
        ("name", m.name.as_str().into()),
        ("api_key_hash", new.api_key_hash.as_str().into()),
        ("webhook_secret", new.webhook_secret.expose().into()),
        ("created_at", m.created_at.millis().into()),
    ];
    row.extend(merchant_settings(m));
    row
}

/// The settings a merchant may change (`PATCH /v1/merchant`).
pub(crate) fn merchant_settings(m: &gatepost_core::payment::Merchant) -> Columns {
    vec![
        ("default_webhook_url", m.default_webhook_url.as_ref().map(|u| u.as_str()).into()),
        ("webhook_ack_mode", m.webhook_ack_mode.as_str().into()),
        ("allowed_return_hosts", json(&m.allowed_return_hosts).into()),
        ("connector", m.connector.as_str().into()),
    ]
}
