//! The hosted page's templates: askama checks them at compile time and escapes every
//! value, so merchant-supplied text can never become markup.

use super::returns::Back;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What every page shows around its content.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) merchant: String,
    pub(crate) nonce: String,
    pub(crate) sandbox: bool,
}

/// Field errors of the card form, one per input.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors {
    pub(crate) number: Option<String>,
    pub(crate) expiry: Option<String>,
    pub(crate) cvc: Option<String>,
}

#[derive(Template)]
#[template(path = "hpp/pay.html")]
pub(crate) struct PayPage {
    pub(crate) frame: Frame,
    pub(crate) amount: String,
    pub(crate) description: Option<String>,
    pub(crate) reference: Option<String>,
    /// Why the last attempt failed, shown above a retry.
    pub(crate) decline: Option<String>,
    pub(crate) attempts_left: u8,
    pub(crate) token: String,
    pub(crate) form_token: String,
    pub(crate) errors: FieldErrors,
    /// Re-filled after a field error; the number and CVC never are.
    pub(crate) entered_expiry: String,
    pub(crate) entered_name: String,
}

#[derive(Template)]
#[template(path = "hpp/result.html")]
pub(crate) struct ResultPage {
    pub(crate) frame: Frame,
    pub(crate) heading: &'static str,
    pub(crate) amount: String,
    pub(crate) reference: Option<String>,
    pub(crate) good: bool,
    pub(crate) message: &'static str,
    pub(crate) back: Option<Back>,
}

#[derive(Template)]
#[template(path = "hpp/return_post.html")]
pub(crate) struct ReturnPostPage {
    pub(crate) frame: Frame,
    pub(crate) url: String,
    pub(crate) fields: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "hpp/three_ds.html")]
pub(crate) struct ChallengePage {
    pub(crate) frame: Frame,
    pub(crate) amount: String,
    pub(crate) token: String,
    pub(crate) form_token: String,
}

#[derive(Template)]
#[template(path = "hpp/message.html")]
pub(crate) struct MessagePage {
    pub(crate) frame: Frame,
    pub(crate) heading: &'static str,
    pub(crate) message: &'static str,
    pub(crate) back: Option<Back>,
    /// Reload every second: for a payment whose attempt is being processed right now.
    pub(crate) refresh: bool,
}

/// A rendered page with its status.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}
