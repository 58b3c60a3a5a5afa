//! `/dashboard/developers`: the merchant's API keys (docs/reference/dashboard.md#developers):
//! listed by their first characters, made (shown once) and revoked by admins.

use super::once::{Done, Refused, once};
use super::pages::{Frame, Section, html, when};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::dashboard::AuditAction;
use gatepost_core::ids::ApiKeyId;
use gatepost_core::payment::{ApiKey, ApiKeyRecord};
use gatepost_core::urls::Mode;

/// Longest description of a key.
const MAX_DESCRIPTION_CHARS: usize = 200;

struct KeyRow {
    id: String,
    prefix: String,
    description: String,
    created: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/developers.html")]
struct DevelopersPage {
    frame: Frame,
    merchant_id: String,
    keys: Vec<KeyRow>,
    may_act: bool,
    idempotency_key: String,
    /// A key just made: shown this once.
    created: Option<(String, String)>,
}

async fn page(state: &AppState, nonce: &CspNonce, viewer: Viewer, created: Option<(String, String)>) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(state, nonce, Some(viewer), Section::Developers);
    let keys = match state.store().api_keys(&merchant).await {
        Ok(keys) => keys,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let keys = keys
        .iter()
        .rev()
        .map(|key| KeyRow {
            id: key.id.to_string(),
            prefix: key.prefix.as_deref().map_or_else(|| "sk_…".to_owned(), |prefix| format!("{prefix}…")),
            description: key.description.clone().unwrap_or_default(),
            created: when(key.created_at),
            revoked: key.revoked_at.map(when),
        })
        .collect();
    let page = DevelopersPage {
        frame,
        merchant_id: merchant.to_string(),
        keys,
        may_act,
        idempotency_key: gatepost_core::ids::random_token(16),
        created,
    };
    html(StatusCode::OK, &page)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
) -> Response {
    page(&state, &nonce, viewer, None).await
}

/// `POST /dashboard/developers/keys`: a new key, shown on the answer and never again.
pub(crate) async fn create_key(State(state): State<AppState>, AdminForm(form): AdminForm) -> Response {
    let work = || async {
        let description = form.fields.get("description").trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS || !gatepost_core::text::is_clean(description, false) {
            let text =
                format!("A description has at most {MAX_DESCRIPTION_CHARS} characters, without control characters.");
            return Err::<Done, Refused>((StatusCode::UNPROCESSABLE_ENTITY, text));
        }
        let description = (!description.is_empty()).then(|| description.to_owned());
        let merchant = &form.viewer.user.merchant_id;
        let key = ApiKey::generate(state.settings().mode == Mode::Live);
        let record = ApiKeyRecord::of(&key, merchant, description, state.clock().now());
        match state.store().create_api_key(&record, &key.hash()).await {
            Ok(true) => {}
            Ok(false) => {
                let text = "This merchant has 16 keys already: revoke one first.".to_owned();
                return Err((StatusCode::UNPROCESSABLE_ENTITY, text));
            }
            Err(error) => {
                tracing::error!(%error, "API key not created");
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "The key could not be made. Try again.".into()));
            }
        }
        let shown =
            page(&state, &form.nonce, form.viewer.clone(), Some((record.id.to_string(), key.expose().to_owned())))
                .await;
        Ok(Done {
            action: AuditAction::ApiKeyCreated,
            object_id: Some(record.id.to_string()),
            detail: record.prefix.clone(),
            then: "/dashboard/developers".to_owned(),
            shown: Some(shown),
        })
    };
    once(&state, &form, Section::Developers, &["description"], work).await
}

/// `POST /dashboard/developers/keys/{id}/revoke`: the API refuses the key within a second.
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        super::once::confirmed(&form)?;
        let merchant = &form.viewer.user.merchant_id;
        let revoked = match ApiKeyId::parse(&id) {
            Some(id) => state.store().revoke_api_key(merchant, &id, state.clock().now()).await,
            None => Ok(false),
        };
        match revoked {
            Ok(true) => {
                state.forget_merchant(merchant);
                Ok(Done {
                    action: AuditAction::ApiKeyRevoked,
                    object_id: Some(id.clone()),
                    detail: None,
                    then: "/dashboard/developers".to_owned(),
                    shown: None,
                })
            }
            Ok(false) => Err((StatusCode::NOT_FOUND, "This merchant has no such key that is not revoked yet.".into())),
            Err(error) => {
                tracing::error!(%error, "API key not revoked");
                Err((StatusCode::INTERNAL_SERVER_ERROR, "The key could not be revoked. Try again.".into()))
            }
        }
    };
    once(&state, &form, Section::Developers, &["confirm"], work).await
}
