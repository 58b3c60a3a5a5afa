//! The return redirect (docs/reference/returns.md): which merchant URL the shopper goes
//! back to, and the signed parameters appended to it.

use crate::names::Named as _;
use crate::payment::Payment;
use crate::signing::{ReturnFields, WebhookSecret};
use crate::status::PaymentStatus;
use crate::urls::ReturnUrl;

/// The merchant URL for the payment's current status, falling back as
/// docs/reference/returns.md#which-url says; `None` means the gateway shows its own result
/// page.
#[must_use]
pub fn return_url_for(payment: &Payment) -> Option<&ReturnUrl> {
    let urls = &payment.return_urls;
    let fallback = payment.return_url.as_ref();
    match payment.status {
        PaymentStatus::Success | PaymentStatus::Authorized => urls.success.as_ref().or(fallback),
        PaymentStatus::Pending => urls.pending.as_ref().or(urls.success.as_ref()).or(fallback),
        PaymentStatus::Failed => urls.decline.as_ref().or(fallback),
        PaymentStatus::Cancelled | PaymentStatus::Expired => urls.cancel.as_ref().or(fallback),
        PaymentStatus::Open | PaymentStatus::Refunded => None,
    }
}

/// The parameters appended to a return URL, in order, signature last.
#[must_use]
pub fn return_params(payment: &Payment, secret: &WebhookSecret, unix_seconds: i64) -> Vec<(&'static str, String)> {
    let merchant_reference = payment.reference.as_deref().unwrap_or_default();
    let fields = ReturnFields {
        timestamp: unix_seconds,
        payment_reference: payment.id.as_str(),
        payment_status: payment.status.as_str(),
        merchant_reference,
    };
    let mut params =
        vec![("payment_reference", payment.id.to_string()), ("payment_status", payment.status.as_str().to_owned())];
    if payment.reference.is_some() {
        params.push(("merchant_reference", merchant_reference.to_owned()));
    }
    params.push(("timestamp", unix_seconds.to_string()));
    params.push(("signature", secret.sign_return(&fields)));
    params
}

/// `url` with `params` appended after its own query; its fragment is kept.
#[must_use]
pub fn with_params(url: &ReturnUrl, params: &[(&'static str, String)]) -> String {
    match url::Url::parse(url.as_str()) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            parsed.into()
        }
        // Only parsed URLs are stored; keep the original rather than lose the shopper.
        Err(_) => url.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urls::Mode;

    fn url(raw: &str) -> ReturnUrl {
        ReturnUrl::parse(raw, Mode::Sandbox, &[]).unwrap()
    }

    #[test]
    fn parameters_follow_the_merchants_own_query_and_keep_the_fragment() {
        let params =
            vec![("payment_reference", "pay_1".to_owned()), ("merchant_reference", "Bestellung/ä 42".to_owned())];
        assert_eq!(
            with_params(&url("https://shop.example/r?a=1#frag"), &params),
            "https://shop.example/r?a=1&payment_reference=pay_1&merchant_reference=Bestellung%2F%C3%A4+42#frag"
        );
        assert_eq!(
            with_params(&url("https://shop.example/r"), &params[..1]),
            "https://shop.example/r?payment_reference=pay_1"
        );
    }
}
