//! Rows back to domain types, written once for both backends.

use crate::StoreError;
use gatepost_core::ids::{AttemptId, MerchantId, PaymentId};
use gatepost_core::money::Currency;
use gatepost_core::names::Named;
use gatepost_core::payment::{Attempt, CardSummary, Customer, Merchant, Payment, ReturnUrls, ThreeDs};
use gatepost_core::time::Timestamp;
use gatepost_core::urls::{ReturnUrl, WebhookUrl};
use std::collections::BTreeMap;

/// Reading a column by name; implemented by each backend's row type.
pub(crate) trait Row {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError>;

    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.opt_text(column)?.ok_or_else(|| corrupt(column, "NULL"))
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.opt_int(column)?.ok_or_else(|| corrupt(column, "NULL"))
    }

    fn time(&self, column: &str) -> Result<Timestamp, StoreError> {
        self.int(column).map(Timestamp::from_millis)
    }
}

impl dyn Row + '_ {
    /// A column holding the name of one of an enum's variants.
    pub(crate) fn named<T: Named>(&self, column: &str) -> Result<T, StoreError> {
        let text = self.text(column)?;
        T::parse(&text).ok_or_else(|| corrupt(column, &text))
    }

    /// The same, where NULL is allowed.
    pub(crate) fn opt_named<T: Named>(&self, column: &str) -> Result<Option<T>, StoreError> {
        self.opt_text(column)?.map(|text| T::parse(&text).ok_or_else(|| corrupt(column, &text))).transpose()
    }
}

fn corrupt(column: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("{column}: {what}"))
}

fn parse<T>(column: &str, text: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| corrupt(column, text))
}

fn small(column: &str, n: i64) -> Result<u8, StoreError> {
    u8::try_from(n).map_err(|_| corrupt(column, &n.to_string()))
}

pub(crate) fn payment_from_row(row: &dyn Row) -> Result<Payment, StoreError> {
    let customer: Option<Customer> = row.opt_text("customer")?.map(|json| serde_json::from_str(&json)).transpose()?;
    let metadata: BTreeMap<String, String> = serde_json::from_str(&row.text("metadata")?)?;
    let mut urls: BTreeMap<String, String> = serde_json::from_str(&row.text("return_urls")?)?;
    let mut take_url = |name: &str| urls.remove(name).map(ReturnUrl::from_trusted);
    let return_urls = ReturnUrls {
        success: take_url("success"),
        decline: take_url("decline"),
        cancel: take_url("cancel"),
        pending: take_url("pending"),
    };
    Ok(Payment {
        id: PaymentId::from_trusted(row.text("id")?),
        object: "payment",
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        status: row.named("status")?,
        amount: row.int("amount")?,
        currency: parse("currency", &row.text("currency")?, Currency::parse)?,
        amount_captured: row.int("amount_captured")?,
        amount_refunded: row.int("amount_refunded")?,
        reference: row.opt_text("reference")?,
        description: row.opt_text("description")?,
        customer,
        metadata,
        capture: row.named("capture")?,
        max_attempts: small("max_attempts", row.int("max_attempts")?)?,
        attempts_remaining: small("attempts_remaining", row.int("attempts_remaining")?)?,
        checkout_url: row.text("checkout_url")?,
        checkout_token: row.text("checkout_token")?,
        return_url: row.opt_text("return_url")?.map(ReturnUrl::from_trusted),
        return_urls,
        return_method: row.named("return_method")?,
        webhook_url: row.opt_text("webhook_url")?.map(WebhookUrl::from_trusted),
        attempts: Vec::new(),
        refunds: Vec::new(),
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        expires_at: row.time("expires_at")?,
        livemode: row.int("livemode")? != 0,
        event_sequence: row.int("event_sequence")?,
        form_token: row.text("form_token")?,
        capture_before: row.opt_int("capture_before")?.map(Timestamp::from_millis),
    })
}

/// An attempt and the payment it belongs to.
pub(crate) struct AttemptRow {
    pub(crate) attempt: Attempt,
    pub(crate) payment_id: PaymentId,
}

pub(crate) fn attempt_from_row(row: &dyn Row) -> Result<AttemptRow, StoreError> {
    let attempt = Attempt {
        id: AttemptId::from_trusted(row.text("id")?),
        status: row.named("status")?,
        card: CardSummary {
            brand: row.text("card_brand")?,
            last4: row.text("card_last4")?,
            exp_month: small("card_exp_month", row.int("card_exp_month")?)?,
            exp_year: u16::try_from(row.int("card_exp_year")?).map_err(|_| corrupt("card_exp_year", "range"))?,
        },
        decline_code: row.opt_text("decline_code")?,
        decline_message: row.opt_text("decline_message")?,
        three_ds: ThreeDs { required: row.int("three_ds_required")? != 0, result: row.opt_text("three_ds_result")? },
        created_at: row.time("created_at")?,
        number: small("number", row.int("number")?)?,
        connector: row.text("connector")?,
        connector_reference: row.opt_text("connector_reference")?,
        challenge_token: row.opt_text("challenge_token")?,
    };
    Ok(AttemptRow { attempt, payment_id: PaymentId::from_trusted(row.text("payment_id")?) })
}

/// `SELECT` of the attempts of several payments, oldest first.
pub(crate) fn attempts_of_sql(count: usize) -> String {
    let placeholders: Vec<String> = (1..=count).map(|n| format!("${n}")).collect();
    format!("SELECT * FROM attempts WHERE payment_id IN ({}) ORDER BY payment_id, number", placeholders.join(", "))
}

/// Hands each payment its attempts.
pub(crate) fn attach_attempts(payments: &mut [Payment], attempts: Vec<AttemptRow>) {
    for row in attempts {
        if let Some(payment) = payments.iter_mut().find(|p| p.id == row.payment_id) {
            payment.attempts.push(row.attempt);
        }
    }
}

pub(crate) fn merchant_from_row(row: &dyn Row) -> Result<Merchant, StoreError> {
    Ok(Merchant {
        id: MerchantId::from_trusted(row.text("id")?),
        name: row.text("name")?,
        default_webhook_url: row.opt_text("default_webhook_url")?.map(WebhookUrl::from_trusted),
        webhook_ack_mode: row.named("webhook_ack_mode")?,
        allowed_return_hosts: serde_json::from_str(&row.text("allowed_return_hosts")?)?,
        connector: row.text("connector")?,
        created_at: row.time("created_at")?,
    })
}

/// `SELECT` of a payment list: filters become `$N` parameters in order.
pub(crate) fn list_payments_sql(query: &crate::PaymentQuery) -> (String, Vec<crate::values::Value>) {
    use crate::values::Value;
    let mut sql = String::from("SELECT * FROM payments WHERE merchant_id = $1");
    let mut params: Vec<Value> = Vec::new();
    let mut add = |clause: &str, value: Value, params: &mut Vec<Value>| {
        params.push(value);
        sql.push_str(&format!(" AND {clause} ${}", params.len() + 1));
    };
    if let Some(status) = query.status {
        add("status =", status.as_str().into(), &mut params);
    }
    if let Some(reference) = &query.reference {
        add("reference =", reference.as_str().into(), &mut params);
    }
    if let Some(after) = &query.starting_after {
        add("id <", after.as_str().into(), &mut params);
    }
    if let Some(from) = query.created_from {
        add("id >=", PaymentId::first_at(from).as_str().into(), &mut params);
    }
    if let Some(before) = query.created_before {
        add("id <", PaymentId::first_at(before).as_str().into(), &mut params);
    }
    if let Some(email) = &query.customer_email {
        add("customer_email =", email.to_lowercase().into(), &mut params);
    }
    if let Some(last4) = &query.card_last4 {
        // Answered from `attempts_by_last4`: a card's last 4 digits are shared by few payments.
        add("id IN (SELECT payment_id FROM attempts WHERE card_last4 =", last4.as_str().into(), &mut params);
        sql.push(')');
    }
    // One more than asked, to learn whether there is a next page.
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", query.limit + 1));
    (sql, params)
}

/// Turns `limit + 1` rows into a page.
pub(crate) fn into_page<T>(mut rows: Vec<T>, limit: u32) -> crate::Page<T> {
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    crate::Page { data: rows, has_more }
}
