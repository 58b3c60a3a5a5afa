//! How the hosted page shows a payment: which page for which state, and the way back
//! to the merchant after an action (docs/reference/hosted-page.md#pages).

use super::pages::{FieldErrors, Frame, MessagePage, PayPage, ResultPage, ReturnPostPage, html};
use super::returns::{Back, back_to_merchant};
use crate::AppState;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::money::format_minor;
use gatepost_core::payment::{AttemptStatus, Payment};
use gatepost_core::status::PaymentStatus;
use gatepost_core::urls::Mode;
use gatepost_store::Checkout;

/// One page view: the payment, who it is for, and the response's CSP nonce.
pub(crate) struct View<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) checkout: &'a Checkout,
    /// The payment as it is now; newer than `checkout.payment` after an action.
    pub(crate) payment: &'a Payment,
    pub(crate) nonce: &'a str,
    pub(crate) token: &'a str,
}

impl View<'_> {
    pub(crate) fn frame(&self) -> Frame {
        Frame {
            merchant: self.checkout.merchant_name.clone(),
            nonce: self.nonce.to_owned(),
            sandbox: self.state.settings().mode == Mode::Sandbox,
        }
    }

    pub(crate) fn amount(&self) -> String {
        format_minor(self.payment.amount, self.payment.currency)
    }

    pub(crate) fn back(&self) -> Option<Back> {
        back_to_merchant(self.payment, &self.checkout.webhook_secret, self.state.clock().now())
    }

    pub(crate) fn is_past_expiry(&self) -> bool {
        self.payment.status == PaymentStatus::Open && self.payment.expires_at <= self.state.clock().now()
    }

    /// The card form, with the last decline's reason when there is one. After a field
    /// error `refill` is what the shopper typed as (expiry, name): the only fields that
    /// are shown back — never the number or the CVC.
    pub(crate) fn pay_form(&self, status: StatusCode, errors: FieldErrors, refill: Option<(&str, &str)>) -> Response {
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
            entered_expiry: refill.map(|(expiry, _)| expiry.to_owned()).unwrap_or_default(),
            entered_name: refill.map(|(_, name)| name.to_owned()).unwrap_or_default(),
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
    pub(crate) fn current(&self) -> Response {
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

    /// Where a finished action takes the shopper: back to the merchant for an outcome, to
    /// the issuer for 3-D Secure, to the form again after a decline
    /// (docs/reference/hosted-page.md#pages).
    pub(crate) fn after_action(&self) -> Response {
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

    /// The return redirect (docs/reference/returns.md#which-url), or `fallback` when the
    /// payment has no URL for it.
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

pub(crate) fn not_found(state: &AppState, nonce: &str) -> Response {
    let page = MessagePage {
        frame: plain_frame(nonce, state),
        heading: "Payment not found",
        message: "This payment link is not valid. Check the link or ask the shop for a new one.",
        back: None,
        refresh: false,
    };
    html(StatusCode::NOT_FOUND, &page)
}

/// A message page with `status`, for answers that concern no payment in particular.
pub(crate) fn message(
    state: &AppState,
    nonce: &str,
    status: StatusCode,
    heading: &'static str,
    message: &'static str,
) -> Response {
    let page = MessagePage { frame: plain_frame(nonce, state), heading, message, back: None, refresh: false };
    html(status, &page)
}

pub(crate) fn failure(state: &AppState, nonce: &str, error: &dyn std::fmt::Display) -> Response {
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
