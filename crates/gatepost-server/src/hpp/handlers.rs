//! The hosted page's requests (SPEC §4).

use super::CspNonce;
use super::pages::{ChallengePage, FieldErrors, Frame, MessagePage, PayPage, ResultPage, ReturnPostPage, html};
use super::returns::back_to_merchant;
use crate::AppState;
use crate::flow::{self, CardResult, FlowError};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::card::{Card, CardError, CardField};
use gatepost_core::money::format_minor;
use gatepost_core::payment::{AttemptStatus, Payment};
use gatepost_core::status::{PaymentEvent, PaymentStatus};
use gatepost_core::urls::Mode;
use gatepost_store::{ChangeOutcome, Checkout};
use std::collections::HashMap;

/// The fields of a submitted form. Repeated names keep the first value.
struct FormFields(HashMap<String, String>);

impl FormFields {
    fn parse(body: &[u8]) -> Self {
        let mut fields = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            fields.entry(name.into_owned()).or_insert_with(|| value.into_owned());
        }
        Self(fields)
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

/// One page view: the payment, who it is for, and the response's CSP nonce.
struct View<'a> {
    state: &'a AppState,
    checkout: &'a Checkout,
    /// The payment as it is now; newer than `checkout.payment` after an action.
    payment: &'a Payment,
    nonce: &'a str,
    token: &'a str,
}

impl View<'_> {
    fn frame(&self) -> Frame {
        Frame {
            merchant: self.checkout.merchant_name.clone(),
            nonce: self.nonce.to_owned(),
            sandbox: self.state.settings().mode == Mode::Sandbox,
        }
    }

    fn amount(&self) -> String {
        format_minor(self.payment.amount, self.payment.currency)
    }

    fn back(&self) -> Option<super::returns::Back> {
        back_to_merchant(self.payment, &self.checkout.webhook_secret, self.state.clock().now())
    }

    fn is_past_expiry(&self) -> bool {
        self.payment.status == PaymentStatus::Open && self.payment.expires_at <= self.state.clock().now()
    }

    /// The card form, with the last decline's reason when there is one.
    fn pay_form(&self, status: StatusCode, errors: FieldErrors, entered: Option<&FormFields>) -> Response {
        let last = self.payment.attempts.last();
        let decline = last
            .filter(|a| matches!(a.status, AttemptStatus::Declined | AttemptStatus::Error))
            .and_then(|a| a.decline_message.clone());
        let page = PayPage {
            frame: self.frame(),
            amount: self.amount(),
            description: self.payment.description.clone(),
            reference: self.payment.reference.clone(),
            decline,
            attempts_left: self.payment.attempts_remaining,
            token: self.token.to_owned(),
            form_token: self.payment.form_token.clone(),
            errors,
            entered_expiry: entered.map(|f| f.get("card_expiry").to_owned()).unwrap_or_default(),
            entered_name: entered.map(|f| f.get("cardholder_name").to_owned()).unwrap_or_default(),
        };
        html(status, &page)
    }

    fn result(&self, status: StatusCode, heading: &'static str, message: &'static str, good: bool) -> Response {
        let page = ResultPage {
            frame: self.frame(),
            heading,
            amount: self.amount(),
            reference: self.payment.reference.clone(),
            good,
            message,
            back: self.back(),
        };
        html(status, &page)
    }

    fn message(&self, status: StatusCode, heading: &'static str, message: &'static str, refresh: bool) -> Response {
        let back = if refresh { None } else { self.back() };
        html(status, &MessagePage { frame: self.frame(), heading, message, back, refresh })
    }

    fn to_challenge(&self) -> Response {
        see_other(&format!("/pay/{}/3ds", self.token))
    }

    /// The payment as it stands, for a visit or a form that was already used: finished
    /// payments show their result, never a new form.
    fn current(&self) -> Response {
        let waiting_for_issuer = self.payment.attempts.iter().any(|a| a.status == AttemptStatus::ActionRequired);
        match self.payment.status {
            PaymentStatus::Open if self.is_past_expiry() => self.expired(),
            PaymentStatus::Open if self.payment.attempts.iter().any(|a| a.status == AttemptStatus::Pending) => self
                .message(
                    StatusCode::OK,
                    "Processing your payment",
                    "This takes a moment; the page refreshes itself.",
                    true,
                ),
            PaymentStatus::Open => self.pay_form(StatusCode::OK, FieldErrors::default(), None),
            PaymentStatus::Pending if waiting_for_issuer => self.to_challenge(),
            PaymentStatus::Pending => self.result(
                StatusCode::OK,
                "Payment pending",
                "Your payment is being confirmed by the bank. The shop will let you know the result.",
                true,
            ),
            PaymentStatus::Success => {
                self.result(StatusCode::OK, "Payment successful", "Thank you: your payment is complete.", true)
            }
            PaymentStatus::Authorized => self.result(
                StatusCode::OK,
                "Payment authorized",
                "Thank you: the amount is reserved on your card and will be charged by the shop.",
                true,
            ),
            PaymentStatus::Refunded => {
                self.result(StatusCode::OK, "Payment refunded", "This payment was refunded.", true)
            }
            PaymentStatus::Failed => self.exceeded(),
            PaymentStatus::Cancelled => self.result(
                StatusCode::OK,
                "Payment cancelled",
                "This payment was cancelled. Nothing was charged.",
                false,
            ),
            PaymentStatus::Expired => self.expired(),
        }
    }

    fn exceeded(&self) -> Response {
        self.result(
            StatusCode::OK,
            "Payment failed",
            "The number of attempts was exceeded. Nothing was charged.",
            false,
        )
    }

    fn expired(&self) -> Response {
        self.message(
            StatusCode::GONE,
            "This payment link has expired",
            "Ask the shop for a new one. Nothing was charged.",
            false,
        )
    }

    /// Where a finished action takes the shopper: back to the merchant for an outcome,
    /// to the issuer for 3-D Secure, to the form again after a decline (SPEC §4, §5).
    fn after_action(&self) -> Response {
        match self.payment.status {
            PaymentStatus::Success | PaymentStatus::Authorized | PaymentStatus::Cancelled => {
                self.redirect_or(Self::current)
            }
            PaymentStatus::Pending
                if self.payment.attempts.iter().any(|a| a.status == AttemptStatus::ActionRequired) =>
            {
                self.to_challenge()
            }
            PaymentStatus::Pending => self.redirect_or(Self::current),
            PaymentStatus::Open if !self.is_past_expiry() => {
                self.pay_form(StatusCode::OK, FieldErrors::default(), None)
            }
            _ => self.current(),
        }
    }

    /// The return redirect (SPEC §5), or `fallback` when the payment has no URL for it.
    fn redirect_or(&self, fallback: fn(&Self) -> Response) -> Response {
        match self.back() {
            Some(back) if back.post => {
                html(StatusCode::OK, &ReturnPostPage { frame: self.frame(), url: back.url, fields: back.fields })
            }
            Some(back) => see_other(&back.url),
            None => fallback(self),
        }
    }
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn plain_frame(nonce: &str, state: &AppState) -> Frame {
    Frame { merchant: "gatepost".to_owned(), nonce: nonce.to_owned(), sandbox: state.settings().mode == Mode::Sandbox }
}

fn not_found(state: &AppState, nonce: &str) -> Response {
    let page = MessagePage {
        frame: plain_frame(nonce, state),
        heading: "Payment not found",
        message: "This payment link is not valid. Check the link or ask the shop for a new one.",
        back: None,
        refresh: false,
    };
    html(StatusCode::NOT_FOUND, &page)
}

fn failure(state: &AppState, nonce: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "hosted page failed");
    let page = MessagePage {
        frame: plain_frame(nonce, state),
        heading: "Something went wrong",
        message: "Your payment could not be processed right now. Please try again in a moment.",
        back: None,
        refresh: false,
    };
    html(StatusCode::INTERNAL_SERVER_ERROR, &page)
}

/// The checkout behind `token`, or the 404 or 500 page to answer instead.
async fn load(state: &AppState, token: &str, nonce: &str) -> Result<Checkout, Response> {
    match state.store().checkout(token).await {
        Ok(Some(checkout)) => Ok(checkout),
        Ok(None) => Err(not_found(state, nonce)),
        Err(error) => Err(failure(state, nonce, &error)),
    }
}

/// Runs a page's work and answers the error page if it fails.
fn answer(state: &AppState, nonce: &str, result: Result<Response, FlowError>) -> Response {
    result.unwrap_or_else(|error| failure(state, nonce, &error))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(CspNonce(nonce)): Extension<CspNonce>,
    Path(token): Path<String>,
) -> Response {
    let checkout = match load(&state, &token, &nonce).await {
        Ok(checkout) => checkout,
        Err(response) => return response,
    };
    let result: Result<Response, FlowError> = async {
        Ok(View { state: &state, checkout: &checkout, payment: &checkout.payment, nonce: &nonce, token: &token }
            .current())
    }
    .await;
    answer(&state, &nonce, result)
}

#[tracing::instrument(skip_all)]
pub(crate) async fn pay(
    State(state): State<AppState>,
    Extension(CspNonce(nonce)): Extension<CspNonce>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    let checkout = match load(&state, &token, &nonce).await {
        Ok(checkout) => checkout,
        Err(response) => return response,
    };
    let result: Result<Response, FlowError> = async {
        let view =
            View { state: &state, checkout: &checkout, payment: &checkout.payment, nonce: &nonce, token: &token };
        let fresh_form =
            checkout.payment.status == PaymentStatus::Open && form.get("form_token") == checkout.payment.form_token;
        if !fresh_form || view.is_past_expiry() {
            return Ok(view.current());
        }
        let today = state.clock().now().year_month();
        let card = match Card::parse(form.get("card_number"), form.get("card_expiry"), form.get("card_cvc"), today) {
            Ok(card) => card,
            Err(errors) => {
                return Ok(view.pay_form(StatusCode::UNPROCESSABLE_ENTITY, field_errors(&errors), Some(&form)));
            }
        };
        let (task_state, task_checkout, form_token) =
            (state.clone(), checkout.clone(), form.get("form_token").to_owned());
        let result =
            flow::to_completion(
                async move { flow::pay_with_card(&task_state, &task_checkout, &form_token, card).await },
            )
            .await?;
        Ok(respond(&view, result))
    }
    .await;
    answer(&state, &nonce, result)
}

/// The response to a card or 3-D Secure action.
fn respond(view: &View<'_>, result: CardResult) -> Response {
    match result {
        CardResult::Done(payment) => View { payment: &payment, ..*view }.after_action(),
        CardResult::Stale(payment) => View { payment: &payment, ..*view }.current(),
        CardResult::NotFound => not_found(view.state, view.nonce),
    }
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
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(CspNonce(nonce)): Extension<CspNonce>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    let checkout = match load(&state, &token, &nonce).await {
        Ok(checkout) => checkout,
        Err(response) => return response,
    };
    let result: Result<Response, FlowError> = async {
        let view =
            View { state: &state, checkout: &checkout, payment: &checkout.payment, nonce: &nonce, token: &token };
        // The form token is what proves the shopper's own page sent this (SPEC §9: CSRF).
        if form.get("form_token") != checkout.payment.form_token || view.is_past_expiry() {
            return Ok(view.current());
        }
        Ok(match state.apply(None, &checkout.payment.id, PaymentEvent::Cancel).await? {
            ChangeOutcome::Applied { payment, .. } => View { payment: &payment, ..view }.after_action(),
            ChangeOutcome::Rejected(payment) => View { payment: &payment, ..view }.current(),
            ChangeOutcome::NotFound => not_found(&state, &nonce),
        })
    }
    .await;
    answer(&state, &nonce, result)
}

pub(crate) async fn show_challenge(
    State(state): State<AppState>,
    Extension(CspNonce(nonce)): Extension<CspNonce>,
    Path(token): Path<String>,
) -> Response {
    let checkout = match load(&state, &token, &nonce).await {
        Ok(checkout) => checkout,
        Err(response) => return response,
    };
    let result: Result<Response, FlowError> = async {
        let view =
            View { state: &state, checkout: &checkout, payment: &checkout.payment, nonce: &nonce, token: &token };
        let waiting = checkout.payment.attempts.iter().find(|a| a.status == AttemptStatus::ActionRequired);
        Ok(match (checkout.payment.status, waiting.and_then(|a| a.challenge_token.clone())) {
            (PaymentStatus::Pending, Some(form_token)) => html(
                StatusCode::OK,
                &ChallengePage { frame: view.frame(), amount: view.amount(), token: token.clone(), form_token },
            ),
            _ => view.current(),
        })
    }
    .await;
    answer(&state, &nonce, result)
}

/// The sandbox issuer's password (SPEC §4).
const SANDBOX_PASSWORD: &str = "password";

#[tracing::instrument(skip_all)]
pub(crate) async fn answer_challenge(
    State(state): State<AppState>,
    Extension(CspNonce(nonce)): Extension<CspNonce>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    let checkout = match load(&state, &token, &nonce).await {
        Ok(checkout) => checkout,
        Err(response) => return response,
    };
    let result: Result<Response, FlowError> = async {
        let view =
            View { state: &state, checkout: &checkout, payment: &checkout.payment, nonce: &nonce, token: &token };
        let authenticated = form.get("action") == "authenticate" && form.get("password") == SANDBOX_PASSWORD;
        let (task_state, payment, form_token) =
            (state.clone(), checkout.payment.clone(), form.get("form_token").to_owned());
        let result = flow::to_completion(async move {
            flow::complete_challenge(&task_state, &payment, &form_token, authenticated).await
        })
        .await?;
        Ok(respond(&view, result))
    }
    .await;
    answer(&state, &nonce, result)
}
