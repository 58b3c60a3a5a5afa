//! Return verification (docs/reference/returns.md#verifying-a-return): the signed
//! parameters the gateway appends to the merchant's return URL when it sends the shopper
//! back.
//!
//! A good signature proves the gateway sent these values; it does not prove the shopper
//! did not come back twice, or that nothing happened to the payment since. The return
//! is for display: fulfil from the webhook or from `GET /v1/payments/{id}`.

use crate::key::{InvalidSecret, Key};
use crate::payment::PaymentStatus;
use crate::webhook::{Webhook, unix_seconds};
use std::time::{Duration, SystemTime};

/// The verified return parameters. **For display only**: confirm with the API or the
/// webhook before fulfilling.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{PaymentStatus, ReturnParams};
///
/// let params = ReturnParams {
///     payment_id: "pay_7".into(),
///     status: PaymentStatus::Pending,
///     merchant_reference: None,
///     timestamp: 1_763_719_300,
/// };
/// assert_eq!(params.status.as_str(), "PENDING");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnParams {
    /// `payment_reference`: the `pay_…` id.
    pub payment_id: String,
    /// `payment_status`: the status when the shopper left the payment page.
    pub status: PaymentStatus,
    /// `merchant_reference`: the payment's `reference`, absent when it has none.
    pub merchant_reference: Option<String>,
    /// `timestamp`: unix seconds when the gateway sent the shopper back.
    pub timestamp: i64,
}

/// Why return parameters were refused. Show the shopper a neutral page (“we are
/// checking your payment”) and look the order up on your side.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{ReturnError, ReturnVerifier};
///
/// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
/// let error = verifier.verify_query("payment_reference=pay_1&payment_status=SUCCESS").unwrap_err();
/// assert_eq!(error, ReturnError::MissingParameter("timestamp"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReturnError {
    /// `payment_reference`, `payment_status`, `timestamp` or `signature` is absent or empty.
    #[error("the {0} parameter is missing")]
    MissingParameter(&'static str),
    /// A signed parameter appears twice: a framework might read the other copy than we
    /// verified, so nothing is trusted.
    #[error("the {0} parameter appears more than once")]
    RepeatedParameter(&'static str),
    /// `timestamp` is not a whole number of seconds since 1970.
    #[error("the timestamp parameter is not unix seconds")]
    InvalidTimestamp,
    /// The signature does not match: wrong secret, or altered parameters.
    #[error("the return signature does not match")]
    InvalidSignature,
    /// Older than the verifier's maximum age: a bookmarked or replayed return.
    #[error("the return is older than allowed")]
    TooOld,
    /// More than [`Webhook::TOLERANCE`](crate::Webhook::TOLERANCE) in the future (checked only with a maximum age).
    #[error("the return timestamp is in the future")]
    TooNew,
}

/// The names the gateway appends, in the order it appends them
/// (docs/reference/returns.md#parameters).
const PAYMENT_REFERENCE: &str = "payment_reference";
const PAYMENT_STATUS: &str = "payment_status";
const MERCHANT_REFERENCE: &str = "merchant_reference";
const TIMESTAMP: &str = "timestamp";
const SIGNATURE: &str = "signature";

/// Verifies the return parameters with the merchant's webhook secret (the same secret
/// that signs webhooks).
///
/// # Example
///
/// ```
/// use gatepost_merchant::{PaymentStatus, ReturnVerifier};
///
/// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// // The query of `GET /orders/1234/return?…` as the shopper's browser brings it.
/// let query = "payment_reference=pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E&payment_status=SUCCESS\
///              &merchant_reference=order-1234&timestamp=1763719200\
///              &signature=v1%2CePZf7XUQOvEv%2F3LENFSsLlpRh3DXb7sl1cM3Sb8RrmI%3D";
/// let params = verifier.verify_query(query)?;
/// assert_eq!(params.status, PaymentStatus::Success);
/// assert_eq!(params.merchant_reference.as_deref(), Some("order-1234"));
/// // Show "thank you, we are confirming your payment"; ship when the webhook says so.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReturnVerifier {
    key: Key,
    /// Refuse returns older than this; `None` accepts any age (the signature still has to match).
    max_age: Option<Duration>,
}

impl ReturnVerifier {
    /// Takes the webhook secret as `gatepost merchant create` printed it (`whsec_…`).
    /// No maximum age: see [`with_max_age`](Self::with_max_age).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::ReturnVerifier;
    ///
    /// assert!(ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    /// assert!(ReturnVerifier::new("sk_test_123").is_err());
    /// ```
    pub fn new(secret: &str) -> Result<Self, InvalidSecret> {
        Key::parse(secret).map(|key| Self { key, max_age: None })
    }

    /// Refuses returns whose timestamp is older than `max_age`, or more than
    /// [`Webhook::TOLERANCE`](crate::Webhook::TOLERANCE) ahead of this clock. A shopper reloading the return
    /// page after that sees your fallback page, so keep it generous (an hour, a day).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{ReturnError, ReturnVerifier};
    /// use std::time::Duration;
    ///
    /// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    ///     .unwrap()
    ///     .with_max_age(Duration::from_secs(3600));
    /// // This return was signed in November 2025.
    /// let query = "payment_reference=pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E&payment_status=SUCCESS\
    ///              &merchant_reference=order-1234&timestamp=1763719200\
    ///              &signature=v1%2CePZf7XUQOvEv%2F3LENFSsLlpRh3DXb7sl1cM3Sb8RrmI%3D";
    /// assert_eq!(verifier.verify_query(query), Err(ReturnError::TooOld));
    /// ```
    #[must_use]
    pub fn with_max_age(self, max_age: Duration) -> Self {
        Self { max_age: Some(max_age), ..self }
    }

    /// The `signature` the gateway sends with these parameters:
    /// `v1,<base64 HMAC-SHA256("{timestamp}.{payment_id}.{status}.{merchant_reference}")>`.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{PaymentStatus, ReturnParams, ReturnVerifier};
    ///
    /// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let params = ReturnParams {
    ///     payment_id: "pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E".into(),
    ///     status: PaymentStatus::Failed,
    ///     merchant_reference: None,
    ///     timestamp: 1_763_719_260,
    /// };
    /// assert_eq!(verifier.sign(&params), "v1,wQA3lSFqq8GFUO1lBL36UPJ3Cf5QvTqtlATIOVQcBPw=");
    /// ```
    #[must_use]
    pub fn sign(&self, params: &ReturnParams) -> String {
        let timestamp = params.timestamp.to_string();
        self.key.sign(&signed_content(
            &timestamp,
            &params.payment_id,
            params.status.as_str(),
            params.merchant_reference.as_deref().unwrap_or_default(),
        ))
    }

    /// The query string the gateway appends for these parameters, signature included:
    /// for tests of your return page.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{PaymentStatus, ReturnParams, ReturnVerifier};
    ///
    /// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let params = ReturnParams {
    ///     payment_id: "pay_1".into(),
    ///     status: PaymentStatus::Success,
    ///     merchant_reference: Some("order 1".into()),
    ///     timestamp: 1_763_719_200,
    /// };
    /// let query = verifier.signed_query(&params);
    /// assert!(query.starts_with("payment_reference=pay_1&payment_status=SUCCESS&merchant_reference=order+1&"));
    /// assert_eq!(verifier.verify_query(&query), Ok(params));
    /// ```
    #[must_use]
    pub fn signed_query(&self, params: &ReturnParams) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair(PAYMENT_REFERENCE, &params.payment_id).append_pair(PAYMENT_STATUS, params.status.as_str());
        if let Some(reference) = &params.merchant_reference {
            query.append_pair(MERCHANT_REFERENCE, reference);
        }
        query.append_pair(TIMESTAMP, &params.timestamp.to_string()).append_pair(SIGNATURE, &self.sign(params));
        query.finish()
    }

    /// Verifies a query string (`return_method: GET`), with the current time. A leading
    /// `?` is skipped, so is everything up to the first `?` of a whole URL, and a
    /// `#fragment`; parameters of your own are ignored.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::ReturnVerifier;
    ///
    /// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let url = "https://shop.example/orders/1234/return?lang=de&payment_reference=pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E\
    ///            &payment_status=FAILED&timestamp=1763719260\
    ///            &signature=v1%2CwQA3lSFqq8GFUO1lBL36UPJ3Cf5QvTqtlATIOVQcBPw%3D#top";
    /// let params = verifier.verify_query(url).unwrap();
    /// assert_eq!(params.merchant_reference, None);
    /// ```
    pub fn verify_query(&self, query: &str) -> Result<ReturnParams, ReturnError> {
        self.verify_query_at(query, SystemTime::now())
    }

    /// As [`verify_query`](Self::verify_query), at time `now` (which only matters with a
    /// maximum age).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::ReturnVerifier;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let verifier = ReturnVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    ///     .unwrap()
    ///     .with_max_age(Duration::from_secs(600));
    /// let query = "payment_reference=pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E&payment_status=FAILED&timestamp=1763719260\
    ///              &signature=v1%2CwQA3lSFqq8GFUO1lBL36UPJ3Cf5QvTqtlATIOVQcBPw%3D";
    /// let a_minute_later = UNIX_EPOCH + Duration::from_secs(1_763_719_320);
    /// assert!(verifier.verify_query_at(query, a_minute_later).is_ok());
    /// ```
    pub fn verify_query_at(&self, query: &str, now: SystemTime) -> Result<ReturnParams, ReturnError> {
        let query = query.split_once('?').map_or(query, |(_, after)| after);
        let query = query.split_once('#').map_or(query, |(before, _)| before);
        self.verify_pairs_at(form_urlencoded::parse(query.as_bytes()), now)
    }

    /// Verifies decoded `(name, value)` pairs, with the current time: the form fields of
    /// a `return_method: POST` return, or a query your framework already parsed.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{PaymentStatus, ReturnVerifier};
    ///
    /// let verifier = ReturnVerifier::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    /// let form = [
    ///     ("payment_reference", "pay_7"),
    ///     ("payment_status", "PENDING"),
    ///     ("merchant_reference", "Bestellung/ä 42"),
    ///     ("timestamp", "1763719300"),
    ///     ("signature", "v1,elAheK6fT8+sa0DGxD4qWl6ARjjwAtOeMaN1+rkxMNM="),
    /// ];
    /// assert_eq!(verifier.verify_pairs(form).unwrap().status, PaymentStatus::Pending);
    /// ```
    pub fn verify_pairs<I, K, V>(&self, pairs: I) -> Result<ReturnParams, ReturnError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.verify_pairs_at(pairs, SystemTime::now())
    }

    /// As [`verify_pairs`](Self::verify_pairs), at time `now`.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{ReturnError, ReturnVerifier};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let verifier = ReturnVerifier::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
    ///     .unwrap()
    ///     .with_max_age(Duration::from_secs(3600));
    /// let form = [
    ///     ("payment_reference", "pay_7"),
    ///     ("payment_status", "PENDING"),
    ///     ("merchant_reference", "Bestellung/ä 42"),
    ///     ("timestamp", "1763719300"),
    ///     ("signature", "v1,elAheK6fT8+sa0DGxD4qWl6ARjjwAtOeMaN1+rkxMNM="),
    /// ];
    /// let two_hours_later = UNIX_EPOCH + Duration::from_secs(1_763_719_300 + 7200);
    /// assert_eq!(verifier.verify_pairs_at(form, two_hours_later), Err(ReturnError::TooOld));
    /// ```
    pub fn verify_pairs_at<I, K, V>(&self, pairs: I, now: SystemTime) -> Result<ReturnParams, ReturnError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let fields = SignedFields::collect(pairs)?;
        let required = |value: Option<String>, name: &'static str| {
            value.filter(|value| !value.is_empty()).ok_or(ReturnError::MissingParameter(name))
        };
        let payment_id = required(fields.payment_reference, PAYMENT_REFERENCE)?;
        let status = required(fields.payment_status, PAYMENT_STATUS)?;
        let timestamp_text = required(fields.timestamp, TIMESTAMP)?;
        let signature = required(fields.signature, SIGNATURE)?;
        let timestamp: i64 = timestamp_text.parse().map_err(|_| ReturnError::InvalidTimestamp)?;
        let merchant_reference = fields.merchant_reference;

        // Signed as the gateway wrote the number, which the parse above allows to differ
        // only in ways the gateway never writes (`+1`, `01`): those fail here, as they should.
        let content =
            signed_content(&timestamp_text, &payment_id, &status, merchant_reference.as_deref().unwrap_or_default());
        if !signature.split_ascii_whitespace().any(|candidate| self.key.verify(&content, candidate)) {
            return Err(ReturnError::InvalidSignature);
        }
        if let Some(max_age) = self.max_age {
            let now = unix_seconds(now);
            if timestamp < now.saturating_sub(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)) {
                return Err(ReturnError::TooOld);
            }
            if timestamp > now.saturating_add(Webhook::TOLERANCE.as_secs().cast_signed()) {
                return Err(ReturnError::TooNew);
            }
        }
        Ok(ReturnParams { payment_id, status: PaymentStatus::from(status.as_str()), merchant_reference, timestamp })
    }
}

/// `"{timestamp}.{payment_reference}.{payment_status}.{merchant_reference}"`
/// (docs/reference/returns.md#signature).
fn signed_content<'a>(
    timestamp: &'a str,
    payment_id: &'a str,
    status: &'a str,
    merchant_reference: &'a str,
) -> [&'a [u8]; 7] {
    [timestamp.as_bytes(), b".", payment_id.as_bytes(), b".", status.as_bytes(), b".", merchant_reference.as_bytes()]
}

/// The signed parameters as found, each at most once.
#[derive(Default)]
struct SignedFields {
    payment_reference: Option<String>,
    payment_status: Option<String>,
    merchant_reference: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
}

impl SignedFields {
    fn collect<I, K, V>(pairs: I) -> Result<Self, ReturnError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut fields = Self::default();
        for (name, value) in pairs {
            let (name, slot) = match name.as_ref() {
                PAYMENT_REFERENCE => (PAYMENT_REFERENCE, &mut fields.payment_reference),
                PAYMENT_STATUS => (PAYMENT_STATUS, &mut fields.payment_status),
                MERCHANT_REFERENCE => (MERCHANT_REFERENCE, &mut fields.merchant_reference),
                TIMESTAMP => (TIMESTAMP, &mut fields.timestamp),
                SIGNATURE => (SIGNATURE, &mut fields.signature),
                _ => continue,
            };
            if slot.replace(value.as_ref().to_owned()).is_some() {
                return Err(ReturnError::RepeatedParameter(name));
            }
        }
        Ok(fields)
    }
}
