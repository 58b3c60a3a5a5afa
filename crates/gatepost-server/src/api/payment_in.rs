//! The body of `POST /v1/payments` and its validation into a [`NewPayment`]
//! (docs/reference/payments.md#creating-a-payment).

use crate::error::FieldError;
use gatepost_core::money::{Amount, Currency};
use gatepost_core::names::Named as _;
use gatepost_core::payment::{
    CaptureMode, Customer, DEFAULT_EXPIRES_IN_SECONDS, DEFAULT_MAX_ATTEMPTS, Merchant, NewPayment, ReturnMethod,
    ReturnUrls,
};
use gatepost_core::urls::{Mode, ReturnUrl, UrlError, WebhookUrl};
use serde::Deserialize;
use std::collections::BTreeMap;

const MAX_REFERENCE_CHARS: usize = 128;
const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_METADATA_KEYS: usize = 20;
/// Stripe's limit for metadata keys (docs/reference/payments.md#creating-a-payment).
const MAX_METADATA_KEY_CHARS: usize = 40;
const MAX_METADATA_VALUE_CHARS: usize = 500;
const MAX_CUSTOMER_FIELD_CHARS: usize = 254;
const MIN_EXPIRES_IN: i64 = 60;
const MAX_EXPIRES_IN: i64 = 30 * 24 * 3600;

/// A new payment. Only `amount` and `currency` are required.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentIn {
    /// In the currency's minor unit: 1050 is 10.50 EUR.
    #[schema(minimum = 1, maximum = 99_999_999_999_i64, example = 1050)]
    amount: i64,
    /// ISO 4217 alpha-3 code.
    #[schema(example = "EUR")]
    currency: String,
    #[schema(max_length = 128, example = "order-1234")]
    reference: Option<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
    customer: Option<CustomerIn>,
    /// `automatic` (default) or `manual`.
    #[schema(example = "automatic")]
    capture: Option<String>,
    /// Where the shopper returns; see `return_urls` for one URL per outcome.
    #[schema(format = "uri")]
    return_url: Option<String>,
    return_urls: Option<ReturnUrlsIn>,
    /// `GET` (default, a 303 redirect) or `POST` (an auto-submitted form).
    #[schema(example = "GET")]
    return_method: Option<String>,
    /// Overrides the merchant's `default_webhook_url` for this payment's events.
    #[schema(format = "uri")]
    webhook_url: Option<String>,
    /// Card attempts the shopper may make, 1 to 10 (default 3).
    #[schema(minimum = 1, maximum = 10)]
    max_attempts: Option<i64>,
    /// Seconds until the payment expires, 60 to 2592000 (default 3600).
    #[schema(minimum = 60, maximum = 2_592_000)]
    expires_in: Option<i64>,
    /// At most 20 keys of at most 40 characters, values of at most 500.
    metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerIn {
    email: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnUrlsIn {
    success: Option<String>,
    decline: Option<String>,
    cancel: Option<String>,
    pending: Option<String>,
}

/// What validation needs to know besides the body.
pub(crate) struct Rules<'a> {
    pub(crate) mode: Mode,
    pub(crate) forbid_explicit_port: bool,
    pub(crate) merchant: &'a Merchant,
}

/// Collects every problem instead of stopping at the first, so a client fixes its
/// request in one round.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, param: &str, code: &'static str, detail: impl Into<String>) {
        self.0.push(FieldError::new(param, code, detail));
    }

    fn too_long(&mut self, param: &str, value: Option<&str>, max: usize) {
        if value.is_some_and(|v| v.chars().count() > max) {
            self.add(param, "too_long", format!("must be at most {max} characters"));
        }
    }

    /// Free text may not hold control characters; only `multi_line` text may hold tabs
    /// and newlines (docs/reference/limits.md#input).
    fn text(&mut self, param: &str, value: Option<&str>, multi_line: bool) {
        if value.is_some_and(|v| !gatepost_core::text::is_clean(v, multi_line)) {
            let allowed = if multi_line { " other than tab and newline" } else { "" };
            self.add(param, "invalid_value", format!("must not contain control characters{allowed}"));
        }
    }

    fn url<T>(&mut self, param: &str, result: Result<T, UrlError>) -> Option<T> {
        result.map_err(|error| self.add(param, error.code(), error.to_string())).ok()
    }

    fn in_range(&mut self, param: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> i64 {
        if !range.contains(&value) {
            self.add(param, "out_of_range", format!("must be between {} and {}", range.start(), range.end()));
        }
        value
    }
}

impl PaymentIn {
    pub(crate) fn validate(self, rules: &Rules<'_>) -> Result<NewPayment, Vec<FieldError>> {
        let mut problems = Problems::default();
        let currency = Currency::parse(&self.currency);
        if currency.is_none() {
            problems.add("currency", "invalid_currency", "must be an ISO 4217 code such as EUR");
        }
        if let Err(error) = Amount::check_minor(self.amount) {
            problems.add("amount", error.code(), error.to_string());
        }
        let amount = currency.and_then(|currency| Amount::new(self.amount, currency).ok());
        problems.too_long("reference", self.reference.as_deref(), MAX_REFERENCE_CHARS);
        problems.text("reference", self.reference.as_deref(), false);
        problems.too_long("description", self.description.as_deref(), MAX_DESCRIPTION_CHARS);
        problems.text("description", self.description.as_deref(), true);
        let customer = self.customer.map(|c| validate_customer(c, &mut problems));
        let metadata = self.metadata.unwrap_or_default();
        validate_metadata(&metadata, &mut problems);
        let capture = match self.capture.as_deref() {
            None => CaptureMode::Automatic,
            Some(text) => CaptureMode::parse(text).unwrap_or_else(|| {
                problems.add("capture", "invalid_value", "must be automatic or manual");
                CaptureMode::Automatic
            }),
        };
        let return_method = match self.return_method.as_deref() {
            None => ReturnMethod::Get,
            Some(text) => ReturnMethod::parse(text).unwrap_or_else(|| {
                problems.add("return_method", "invalid_value", "must be GET or POST");
                ReturnMethod::Get
            }),
        };
        let hosts = &rules.merchant.allowed_return_hosts;
        let mut return_url_at = |param: &str, raw: Option<String>| {
            raw.and_then(|raw| problems.url(param, ReturnUrl::parse(&raw, rules.mode, hosts)))
        };
        let return_url = return_url_at("return_url", self.return_url);
        let urls =
            self.return_urls.unwrap_or(ReturnUrlsIn { success: None, decline: None, cancel: None, pending: None });
        let return_urls = ReturnUrls {
            success: return_url_at("return_urls.success", urls.success),
            decline: return_url_at("return_urls.decline", urls.decline),
            cancel: return_url_at("return_urls.cancel", urls.cancel),
            pending: return_url_at("return_urls.pending", urls.pending),
        };
        let webhook_url = self.webhook_url.and_then(|raw| {
            problems.url("webhook_url", WebhookUrl::parse(&raw, rules.mode, rules.forbid_explicit_port))
        });
        let max_attempts =
            problems.in_range("max_attempts", self.max_attempts.unwrap_or(i64::from(DEFAULT_MAX_ATTEMPTS)), 1..=10);
        let expires_in = problems.in_range(
            "expires_in",
            self.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECONDS),
            MIN_EXPIRES_IN..=MAX_EXPIRES_IN,
        );
        match amount {
            Some(amount) if problems.0.is_empty() => Ok(NewPayment {
                amount,
                reference: self.reference,
                description: self.description,
                customer,
                capture,
                return_url,
                return_urls,
                return_method,
                webhook_url,
                max_attempts: u8::try_from(max_attempts).unwrap_or(1),
                expires_in_seconds: expires_in,
                metadata,
            }),
            _ => Err(problems.0),
        }
    }
}

fn validate_customer(customer: CustomerIn, problems: &mut Problems) -> Customer {
    problems.too_long("customer.email", customer.email.as_deref(), MAX_CUSTOMER_FIELD_CHARS);
    problems.too_long("customer.name", customer.name.as_deref(), MAX_CUSTOMER_FIELD_CHARS);
    problems.text("customer.name", customer.name.as_deref(), false);
    // A control character is `invalid_value` in every text field (docs/reference/limits.md#input);
    // only clean text is then judged as an address.
    let email = customer.email.as_deref();
    if email.is_some_and(|email| !gatepost_core::text::is_clean(email, false)) {
        problems.text("customer.email", email, false);
    } else if email.is_some_and(|email| !gatepost_core::text::is_email(email)) {
        problems.add("customer.email", "invalid_email", "must be an e-mail address");
    }
    Customer { email: customer.email, name: customer.name }
}

fn validate_metadata(metadata: &BTreeMap<String, String>, problems: &mut Problems) {
    if metadata.len() > MAX_METADATA_KEYS {
        problems.add("metadata", "too_many_keys", format!("must have at most {MAX_METADATA_KEYS} keys"));
    }
    for (key, value) in metadata {
        let param = format!("metadata.{key}");
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_CHARS {
            problems.add(&param, "invalid_key", format!("keys must be 1 to {MAX_METADATA_KEY_CHARS} characters"));
        }
        problems.text(&param, Some(key), false);
        problems.too_long(&param, Some(value), MAX_METADATA_VALUE_CHARS);
        problems.text(&param, Some(value), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;
    use gatepost_core::ids::MerchantId;
    use gatepost_core::payment::AckMode;
    use gatepost_core::time::Timestamp;

    fn merchant() -> Merchant {
        Merchant {
            id: MerchantId::generate(),
            name: "Shop".into(),
            default_webhook_url: None,
            webhook_ack_mode: AckMode::Status,
            allowed_return_hosts: vec!["shop.example".into()],
            connector: "sandbox".into(),
            created_at: Timestamp::from_millis(0),
        }
    }

    fn validate(body: &[u8], mode: Mode) -> Option<Result<NewPayment, Vec<FieldError>>> {
        let merchant = merchant();
        let payment: PaymentIn = parse_json(body).ok()?;
        Some(payment.validate(&Rules { mode, forbid_explicit_port: true, merchant: &merchant }))
    }

    proptest::proptest! {
        /// Any bytes as a payment body: invalid JSON, a refusal naming fields, or a payment —
        /// never a panic, and never a payment holding a control character where one is not
        /// allowed.
        #[test]
        fn any_payment_body_is_parsed_and_validated_without_panic(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let _ = validate(&body, Mode::Sandbox);
        }

        #[test]
        fn any_field_values_are_validated_without_panic(
            amount in proptest::num::i64::ANY,
            currency in "[A-Z]{3}|\\PC{0,5}",
            reference in "\\PC{0,140}",
            description in "\\PC{0,20}",
            url in "\\PC{0,40}|https?://[a-z.]{1,12}(:[0-9]{1,6})?/[ -~]{0,12}",
            email in "\\PC{0,20}",
            expires_in in proptest::num::i64::ANY,
        ) {
            let body = serde_json::json!({
                "amount": amount, "currency": currency, "reference": reference, "description": description,
                "return_url": url, "webhook_url": url, "customer": {"email": email}, "expires_in": expires_in,
            });
            for mode in [Mode::Sandbox, Mode::Live] {
                if let Some(Ok(payment)) = validate(body.to_string().as_bytes(), mode) {
                    proptest::prop_assert!(gatepost_core::text::is_clean(payment.reference.as_deref().unwrap_or(""), false));
                    proptest::prop_assert!((1..=99_999_999_999).contains(&payment.amount.minor()));
                }
            }
        }
    }
}
