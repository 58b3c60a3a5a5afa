//! Every form that acts carries an idempotency key made with its page
//! (docs/reference/dashboard.md#forms): sent twice (a double click, a resent form), it
//! acts once, and the second answer is the first one's way onwards. The key is claimed in
//! the same table as the API's `Idempotency-Key`, under a prefix of the user's own.

use super::pages::{Frame, message};
use super::session::PostedForm;
use crate::AppState;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::dashboard::AuditAction;
use gatepost_core::idempotency::{IdempotencyClaim, StoredResponse};
use sha2::{Digest as _, Sha256};

/// What a form did.
pub(crate) struct Done {
    pub(crate) action: AuditAction,
    pub(crate) object_id: Option<String>,
    /// What else the audit log keeps: an amount, a reason.
    pub(crate) detail: Option<String>,
    /// Where the browser goes next (`303`), and where a second send of the form goes.
    pub(crate) then: String,
    /// A page to show instead of going there, once: a secret shown only now. A second
    /// send of the form goes to `then`.
    pub(crate) shown: Option<Response>,
}

/// Why a form did nothing: the status and what the page says.
pub(crate) type Refused = (StatusCode, String);

pub(crate) fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// Whether a form's idempotency key is one its page could have made.
fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Runs `work` once per the form's `idempotency_key` (with the same fields), writes what it
/// did to the audit log, and answers with the way onwards, or a page saying why nothing
/// happened. The form's path and its `fields` make the request what it is: the same key
/// sent with others is refused.
pub(crate) async fn once<W, F>(
    state: &AppState,
    form: &PostedForm,
    section: super::pages::Section,
    fields: &[&str],
    work: W,
) -> Response
where
    W: FnOnce() -> F,
    F: Future<Output = Result<Done, Refused>>,
{
    let viewer = &form.viewer;
    let frame = || Frame::new(state, &form.nonce, Some(viewer.clone()), section);
    let refuse = |(status, text): Refused| message(frame(), status, "Not done", text, None);
    let key = form.fields.get("idempotency_key");
    if !valid_key(key) {
        return refuse((
            StatusCode::UNPROCESSABLE_ENTITY,
            "This form has no valid idempotency key. Reload the page.".into(),
        ));
    }
    // Every value of every field (checkboxes repeat a name), each preceded by its length,
    // so that no two different forms hash alike.
    let mut fingerprint = Sha256::new();
    let mut add = |part: &str| {
        fingerprint.update((part.len() as u64).to_be_bytes());
        fingerprint.update(part.as_bytes());
    };
    add(&form.path);
    for name in fields {
        add(name);
        for value in form.fields.all(name) {
            add(value);
        }
    }
    let fingerprint: String = fingerprint.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("dashboard:{}:{key}", viewer.user.id);
    let merchant = &viewer.user.merchant_id;
    let now = state.clock().now();
    match state.store().claim_idempotency_key(merchant, &key, &fingerprint, now).await {
        Ok(IdempotencyClaim::Claimed) => {}
        Ok(IdempotencyClaim::Replay(stored)) => {
            // Only a dashboard's own way onwards is replayed.
            let then = String::from_utf8_lossy(&stored.body).into_owned();
            if stored.status == 303 && then.starts_with("/dashboard/") {
                return see_other(&then);
            }
            return refuse((StatusCode::CONFLICT, "This form was sent already. Reload the page.".into()));
        }
        Ok(IdempotencyClaim::InUse) => {
            return refuse((
                StatusCode::CONFLICT,
                "This form is being handled already. Reload the page in a moment.".into(),
            ));
        }
        Ok(IdempotencyClaim::Reused) => {
            return refuse((
                StatusCode::CONFLICT,
                "This form was sent already with other values. Reload the page.".into(),
            ));
        }
        Err(error) => return super::pages::failure(frame(), &error),
    }
    match work().await {
        Ok(done) => {
            let stored =
                StoredResponse { status: 303, content_type: "text/plain".into(), body: done.then.clone().into_bytes() };
            if let Err(error) = state.store().record_idempotent_response(merchant, &key, now, &stored).await {
                tracing::error!(%error, "dashboard form's idempotency key not recorded");
            }
            super::record(state, &viewer.user, done.action, done.object_id, done.detail).await;
            done.shown.unwrap_or_else(|| see_other(&done.then))
        }
        Err(refused) => {
            // A refusal changed nothing: the same form may be sent again once fixed.
            if let Err(error) = state.store().release_idempotency_key(merchant, &key, now).await {
                tracing::error!(%error, "dashboard form's idempotency key not released");
            }
            refuse(refused)
        }
    }
}

/// Confirmation boxes: a form that asks for one does nothing without it.
pub(crate) fn confirmed(form: &PostedForm) -> Result<(), Refused> {
    if form.fields.get("confirm") == "yes" {
        Ok(())
    } else {
        Err((StatusCode::UNPROCESSABLE_ENTITY, "Tick the confirmation box to go ahead.".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn an_idempotency_key_is_short_and_plain() {
        assert!(valid_key("AbC-_1"));
        assert!(!valid_key(""));
        assert!(!valid_key(&"a".repeat(65)));
        assert!(!valid_key("a b"));
        assert!(!valid_key("a\u{0}"));
    }
}
