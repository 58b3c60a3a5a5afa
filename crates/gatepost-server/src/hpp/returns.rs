//! The way back to the merchant (docs/reference/returns.md#get-and-post): a signed 303, an
//! auto-submitted POST form, or the gateway's own page when the payment has no return URL.

use gatepost_core::payment::{Payment, ReturnMethod};
use gatepost_core::returns::{return_params, return_url_for, with_params};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::time::Timestamp;

/// Where "Return to merchant" goes, and how.
#[derive(Clone, Debug)]
pub(crate) struct Back {
    /// For GET, the URL with the signed parameters; for POST, the merchant's URL as is.
    pub(crate) url: String,
    pub(crate) post: bool,
    /// For POST: the signed parameters as form fields.
    pub(crate) fields: Vec<(&'static str, String)>,
}

/// The merchant URL for the payment's status with freshly signed parameters, or `None`
/// when the merchant gave no URL for it.
pub(crate) fn back_to_merchant(payment: &Payment, secret: &WebhookSecret, now: Timestamp) -> Option<Back> {
    let url = return_url_for(payment)?;
    let params = return_params(payment, secret, now.unix_seconds());
    Some(match payment.return_method {
        ReturnMethod::Get => Back { url: with_params(url, &params), post: false, fields: Vec::new() },
        ReturnMethod::Post => Back { url: url.as_str().to_owned(), post: true, fields: params },
    })
}
