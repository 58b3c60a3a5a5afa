//! The hosted page's requests (docs/reference/hosted-page.md#pages); what each shows is
//! decided in `view`.

use super::CspNonce;
use super::pages::{ChallengePage, FieldErrors, html};
use super::view::{View, failure, message, not_found};
use crate::AppState;
use crate::flow::{self, CardResult, FlowError};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use gatepost_core::card::{Card, CardError, CardField};
use gatepost_core::payment::AttemptStatus;
use gatepost_core::status::{PaymentEvent, PaymentStatus};
use gatepost_store::{ChangeOutcome, Checkout};
use std::collections::HashMap;

/// The hosted page's forms are small; a larger body is not one of them
/// (docs/reference/limits.md#bodies).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The fields the hosted page's forms have; anything else a body carries is dropped unread.
const FORM_FIELDS: [&str; 7] =
    ["form_token", "card_number", "card_expiry", "card_cvc", "cardholder_name", "action", "password"];

/// The fields of a submitted form: only the page's own, the first value of each. The
/// extractor reads at most [`MAX_FORM_BYTES`] and answers a larger form `413` with a page.
pub(crate) struct FormFields(HashMap<&'static str, String>);

impl FormFields {
    fn parse(body: &[u8]) -> Self {
        let mut fields = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if let Some(known) = FORM_FIELDS.into_iter().find(|known| *known == name) {
                fields.entry(known).or_insert_with(|| value.into_owned());
            }
        }
        Self(fields)
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

impl FromRequest<AppState> for FormFields {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let CspNonce(nonce) = request.extensions().get::<CspNonce>().cloned().expect("security_headers sets the nonce");
        match axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await {
            Ok(body) => Ok(Self::parse(&body)),
            Err(error) if is_too_large(&error) => Err(message(
                state,
                &nonce,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Form too large",
                "This form sent more than a payment form holds. Go back and try again.",
            )),
            Err(error) if crate::body_deadline::timed_out(&error) => Err(message(
                state,
                &nonce,
                StatusCode::REQUEST_TIMEOUT,
                "Form not received in time",
                "The form took too long to arrive. Go back and try again.",
            )),
            Err(_) => Err(message(
                state,
                &nonce,
                StatusCode::BAD_REQUEST,
                "Form not received",
                "The form did not arrive whole. Go back and try again.",
            )),
        }
    }
}

fn is_too_large(error: &axum::Error) -> bool {
    std::error::Error::source(error).is_some_and(|source| source.is::<http_body_util::LengthLimitError>())
}

/// The checkout behind `token`, or the 404 or 500 page to answer instead.
async fn load(state: &AppState, token: &str, nonce: &str) -> Result<Checkout, Response> {
    match state.store().checkout(token).await {
        Ok(Some(checkout)) => Ok(checkout),
        Ok(None) => Err(not_found(state, nonce)),
        Err(error) => Err(failure(state, nonce, &error)),
    }
}

/// A request for one payment's page: the checkout behind `/pay/{token}`, loaded, and the
/// response's CSP nonce. Rejects with the 404 or 500 page.
pub(crate) struct Visit {
    state: AppState,
    nonce: String,
    token: String,
    checkout: Checkout,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CspNonce(nonce) = parts.extensions.get::<CspNonce>().cloned().expect("security_headers sets the nonce");
        let Path(token) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found(state, &nonce))?;
        let checkout = load(state, &token, &nonce).await?;
        Ok(Self { state: state.clone(), nonce, token, checkout })
    }
}

impl Visit {
    fn view(&self) -> View<'_> {
        View {
            state: &self.state,
            checkout: &self.checkout,
            payment: &self.checkout.payment,
            nonce: &self.nonce,
            token: &self.token,
        }
    }

    /// The page for `result`, or the error page if the work failed.
    fn answer(&self, result: Result<Response, FlowError>) -> Response {
        result.unwrap_or_else(|error| failure(&self.state, &self.nonce, &error))
    }

    /// The response to a card or 3-D Secure action.
    fn respond(&self, result: CardResult) -> Response {
        let view = self.view();
        match result {
            CardResult::Done(payment) => View { payment: &payment, ..view }.after_action(),
            CardResult::Stale(payment) => View { payment: &payment, ..view }.current(),
            CardResult::NotFound => not_found(&self.state, &self.nonce),
        }
    }
}

pub(crate) async fn show(visit: Visit) -> Response {
    visit.view().current()
}

#[tracing::instrument(skip_all)]
pub(crate) async fn pay(visit: Visit, form: FormFields) -> Response {
    let result = pay_with_form(&visit, form).await;
    visit.answer(result)
}

async fn pay_with_form(visit: &Visit, form: FormFields) -> Result<Response, FlowError> {
    let (view, payment) = (visit.view(), &visit.checkout.payment);
    let fresh_form = payment.status == PaymentStatus::Open && form.get("form_token") == payment.form_token;
    if !fresh_form || view.is_past_expiry() {
        return Ok(view.current());
    }
    let today = visit.state.clock().now().year_month();
    let card = match Card::parse(form.get("card_number"), form.get("card_expiry"), form.get("card_cvc"), today) {
        Ok(card) => card,
        Err(errors) => {
            let refill = (form.get("card_expiry"), form.get("cardholder_name"));
            return Ok(view.pay_form(StatusCode::UNPROCESSABLE_ENTITY, field_errors(&errors), Some(refill)));
        }
    };
    let (state, checkout, form_token) =
        (visit.state.clone(), visit.checkout.clone(), form.get("form_token").to_owned());
    let result =
        flow::to_completion(async move { flow::pay_with_card(&state, &checkout, &form_token, card).await }).await?;
    Ok(visit.respond(result))
}

fn field_errors(errors: &[CardError]) -> FieldErrors {
    let mut fields = FieldErrors::default();
    for error in errors {
        let slot = match error.field() {
            CardField::Number => &mut fields.number,
            CardField::Expiry => &mut fields.expiry,
            CardField::Cvc => &mut fields.cvc,
        };
        slot.get_or_insert_with(|| error.to_string());
    }
    fields
}

#[tracing::instrument(skip_all)]
pub(crate) async fn cancel(visit: Visit, form: FormFields) -> Response {
    let result = cancel_with_form(&visit, form).await;
    visit.answer(result)
}

async fn cancel_with_form(visit: &Visit, form: FormFields) -> Result<Response, FlowError> {
    let view = visit.view();
    // The form token is what proves the shopper's own page sent this (CSRF:
    // docs/reference/hosted-page.md#single-use-forms).
    if form.get("form_token") != visit.checkout.payment.form_token || view.is_past_expiry() {
        return Ok(view.current());
    }
    Ok(match visit.state.apply(None, &visit.checkout.payment.id, PaymentEvent::Cancel).await? {
        ChangeOutcome::Applied { payment, .. } => View { payment: &payment, ..view }.after_action(),
        ChangeOutcome::Rejected(payment) => View { payment: &payment, ..view }.current(),
        ChangeOutcome::NotFound => not_found(&visit.state, &visit.nonce),
    })
}

pub(crate) async fn show_challenge(visit: Visit) -> Response {
    let (view, payment) = (visit.view(), &visit.checkout.payment);
    let waiting = payment.attempts.iter().find(|a| a.status == AttemptStatus::ActionRequired);
    match (payment.status, waiting.and_then(|a| a.challenge_token.clone())) {
        (PaymentStatus::Pending, Some(form_token)) => {
            let page =
                ChallengePage { frame: view.frame(), amount: view.amount(), token: visit.token.clone(), form_token };
            html(StatusCode::OK, &page)
        }
        _ => view.current(),
    }
}

/// The sandbox issuer's password (docs/reference/hosted-page.md#3-d-secure).
const SANDBOX_PASSWORD: &str = "password";

#[tracing::instrument(skip_all)]
pub(crate) async fn answer_challenge(visit: Visit, form: FormFields) -> Response {
    let authenticated = form.get("action") == "authenticate" && form.get("password") == SANDBOX_PASSWORD;
    let (state, payment, form_token) =
        (visit.state.clone(), visit.checkout.payment.clone(), form.get("form_token").to_owned());
    let result =
        flow::to_completion(
            async move { flow::complete_challenge(&state, &payment, &form_token, authenticated).await },
        )
        .await
        .map(|result| visit.respond(result));
    visit.answer(result)
}

#[cfg(test)]
mod tests {
    use super::FormFields;

    #[test]
    fn a_form_keeps_its_own_fields_first_value_only() {
        let form = FormFields::parse(b"card_number=4242&x=1&card_number=5555&form_token=t%20k&evil=%00");
        assert_eq!(form.get("card_number"), "4242");
        assert_eq!(form.get("form_token"), "t k");
        assert_eq!(form.get("evil"), "", "a field the page does not have is not read");
        assert_eq!(form.0.len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn any_form_body_is_read_without_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let form = FormFields::parse(&body);
            proptest::prop_assert!(form.0.len() <= super::FORM_FIELDS.len());
        }
    }
}
