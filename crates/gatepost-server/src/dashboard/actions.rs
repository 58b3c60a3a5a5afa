//! What an admin does to a payment from its page: capture, refund, cancel
//! (docs/reference/dashboard.md#payment-actions). Each runs once per form (`once`) and
//! goes through the same flow, rules and refusals as the API.

use super::once::{Done, confirmed, once};
use super::pages::{Frame, Section};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::flow::{self, OperationError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::dashboard::AuditAction;
use gatepost_core::ids::PaymentId;
use gatepost_core::money::{Amount, format_minor, parse_major};

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

/// Runs one action once per form, and answers with the way back to the payment.
async fn act(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
    action: Action,
) -> Response {
    let Some(id) = PaymentId::parse(&id) else {
        let frame = Frame::new(&state, &form.nonce, Some(form.viewer.clone()), Section::Payments);
        return super::pages::not_found(frame, "payment");
    };
    let work = || async {
        confirmed(&form)?;
        let detail =
            run(&state, &form.viewer, &id, action, form.fields.get("amount"), form.fields.get("reason")).await?;
        Ok(Done {
            action: action.audit(),
            object_id: Some(id.to_string()),
            detail,
            then: format!("/dashboard/payments/{id}?done={}", action.name()),
            shown: None,
        })
    };
    once(&state, &form, Section::Payments, &["amount", "reason", "confirm"], work).await
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
