//! What an admin does to a payment from its page: capture, refund, cancel
//! (docs/reference/dashboard.md#payment-actions). Each form carries an idempotency key, so
//! a double click or a resent form acts once; each goes through the same flow, rules and
//! refusals as the API, and is written to the audit log.

use super::pages::{Frame, Section, message};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::flow::{self, OperationError};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::dashboard::AuditAction;
use gatepost_core::idempotency::{IdempotencyClaim, StoredResponse};
use gatepost_core::ids::PaymentId;
use gatepost_core::money::{Amount, format_minor, parse_major};
use sha2::{Digest as _, Sha256};

/// The actions of the payment page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Capture,
    Refund,
    Cancel,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Self::Capture => "capture",
            Self::Refund => "refund",
            Self::Cancel => "cancel",
        }
    }

    fn audit(self) -> AuditAction {
        match self {
            Self::Capture => AuditAction::PaymentCaptured,
            Self::Refund => AuditAction::PaymentRefunded,
            Self::Cancel => AuditAction::PaymentCancelled,
        }
    }

    /// What the payment page says after the action, by the `done` parameter it is shown with.
    pub(crate) fn from_done(done: &str) -> Option<(Self, &'static str)> {
        match done {
            "capture" => Some((Self::Capture, "Captured.")),
            "refund" => Some((Self::Refund, "Refund requested: its status is in the timeline.")),
            "cancel" => Some((Self::Cancel, "Cancelled.")),
            _ => None,
        }
    }
}

/// Longest refund reason, as the API takes it.
const MAX_REASON_CHARS: usize = 500;

pub(crate) async fn capture(state: State<AppState>, path: Path<String>, form: AdminForm) -> Response {
    act(state, path, form, Action::Capture).await
}

pub(crate) async fn refund(state: State<AppState>, path: Path<String>, form: AdminForm) -> Response {
    act(state, path, form, Action::Refund).await
}

pub(crate) async fn cancel(state: State<AppState>, path: Path<String>, form: AdminForm) -> Response {
    act(state, path, form, Action::Cancel).await
}

/// Runs one action once per idempotency key, and answers with the way back to the payment.
async fn act(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
    action: Action,
) -> Response {
    let viewer = form.viewer.clone();
    let frame = || Frame::new(&state, &form.nonce, Some(viewer.clone()), Section::Payments);
    let Some(id) = PaymentId::parse(&id) else { return super::pages::not_found(frame(), "payment") };
    let merchant = viewer.user.merchant_id.clone();
    let back = format!("/dashboard/payments/{id}");
    let refuse = |status: StatusCode, text: String| message(frame(), status, "Not done", text, None);
    if form.fields.get("confirm") != "yes" {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "Tick the confirmation box to go ahead.".into());
    }
    let key = form.fields.get("idempotency_key");
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This form has no valid idempotency key. Reload the page.".into(),
        );
    }
    let (amount_text, reason) = (form.fields.get("amount"), form.fields.get("reason"));
    let fingerprint = Sha256::digest(format!("{}\n{id}\n{amount_text}\n{reason}", action.name()).as_bytes());
    let fingerprint: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    // The dashboard's keys live beside the API's, under a prefix no API key can collide with.
    let key = format!("dashboard:{}:{key}", viewer.user.id);
    let now = state.clock().now();
    match state.store().claim_idempotency_key(&merchant, &key, &fingerprint, now).await {
        Ok(IdempotencyClaim::Claimed) => {}
        Ok(IdempotencyClaim::Replay(_)) => return done(&back, action),
        Ok(IdempotencyClaim::InUse) => {
            return refuse(
                StatusCode::CONFLICT,
                "This action is running already. Reload the payment in a moment.".into(),
            );
        }
        Ok(IdempotencyClaim::Reused) => {
            return refuse(
                StatusCode::CONFLICT,
                "This form was sent already with other values. Reload the page.".into(),
            );
        }
        Err(error) => return super::pages::failure(frame(), &error),
    }
    let outcome = run(&state, &viewer, &id, action, amount_text, reason).await;
    let stored = match &outcome {
        Ok(_) => {
            Some(StoredResponse { status: 303, content_type: "text/plain".into(), body: back.clone().into_bytes() })
        }
        Err(_) => None,
    };
    match stored {
        Some(response) => {
            if let Err(error) = state.store().record_idempotent_response(&merchant, &key, now, &response).await {
                tracing::error!(%error, "dashboard idempotency key not recorded");
            }
        }
        None => {
            // A refusal changed nothing: the same form may be sent again once fixed.
            if let Err(error) = state.store().release_idempotency_key(&merchant, &key, now).await {
                tracing::error!(%error, "dashboard idempotency key not released");
            }
        }
    }
    match outcome {
        Ok(detail) => {
            super::record(&state, &viewer.user, action.audit(), Some(id.to_string()), detail).await;
            done(&back, action)
        }
        Err((status, text)) => {
            let mut response = message(frame(), status, "Not done", text, None);
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
    }
}

fn done(back: &str, action: Action) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("{back}?done={}", action.name()))]).into_response()
}

/// The action itself, through the same flow as the API; on success what the audit log
/// keeps beside it, else the status and text of the refusal.
async fn run(
    state: &AppState,
    viewer: &Viewer,
    id: &PaymentId,
    action: Action,
    amount_text: &str,
    reason: &str,
) -> Result<Option<String>, (StatusCode, String)> {
    let merchant = &viewer.user.merchant_id;
    let payment = match state.store().payment(merchant, id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => return Err((StatusCode::NOT_FOUND, "There is no such payment in this dashboard.".into())),
        Err(error) => {
            tracing::error!(%error, "payment not read");
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "The payment could not be read. Try again.".into()));
        }
    };
    let amount = match amount_text.trim() {
        "" => None,
        text => match parse_major(text, payment.currency).filter(|minor| Amount::check_minor(*minor).is_ok()) {
            Some(minor) => Some(minor),
            None => {
                let text = format!("“{text}” is not an amount in {}: write it like 5.00.", payment.currency);
                return Err((StatusCode::UNPROCESSABLE_ENTITY, text));
            }
        },
    };
    if reason.chars().count() > MAX_REASON_CHARS || !gatepost_core::text::is_clean(reason, true) {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("A reason has at most {MAX_REASON_CHARS} characters, without control characters."),
        ));
    }
    let shown = |minor: i64| format_minor(minor, payment.currency);
    let result = match action {
        Action::Capture => flow::capture(state, merchant, id, amount).await.map(|p| Some(shown(p.amount_captured))),
        Action::Cancel => flow::cancel(state, merchant, id).await.map(|_| None),
        Action::Refund => {
            let reason = (!reason.trim().is_empty()).then(|| reason.trim().to_owned());
            flow::refund(state, merchant, id, amount, reason.clone()).await.map(|refund| {
                Some([Some(shown(refund.amount)), reason].into_iter().flatten().collect::<Vec<_>>().join(" · "))
            })
        }
    };
    result.map_err(|error| refusal(&error, payment.currency))
}

/// An operation's refusal as the page says it, with the status the API gives it.
fn refusal(error: &OperationError, currency: gatepost_core::money::Currency) -> (StatusCode, String) {
    match error {
        OperationError::NotFound => (StatusCode::NOT_FOUND, "There is no such payment in this dashboard.".into()),
        OperationError::InvalidState(detail) | OperationError::InProgress(detail) => {
            (StatusCode::CONFLICT, detail.clone())
        }
        OperationError::ExceedsAuthorized { authorized } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The amount is more than the {} authorized.", format_minor(*authorized, currency)),
        ),
        OperationError::ExceedsCaptured { refundable } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Only {} can still be refunded.", format_minor(*refundable, currency)),
        ),
        OperationError::Refused { code, message } => {
            (StatusCode::CONFLICT, format!("The acquirer refused: {message} ({code})."))
        }
        OperationError::Unavailable(_) => {
            (StatusCode::BAD_GATEWAY, "The acquirer did not answer; nothing changed. Try again.".into())
        }
        OperationError::Flow(error) => {
            tracing::error!(%error, "dashboard action failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; nothing changed. Try again.".into())
        }
    }
}
