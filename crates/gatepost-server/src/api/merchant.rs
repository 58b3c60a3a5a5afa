//! The merchant's own settings (docs/reference/api.md#merchant-settings): default webhook
//! URL, acknowledgement mode, allowed return hosts, connector, and webhook secret rotation.

use super::lists::json_response;
use crate::error::{FieldError, NotReplayable};
use crate::extract::AppJson;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use gatepost_core::names::Named as _;
use gatepost_core::payment::{AckMode, Merchant};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::urls::WebhookUrl;
use serde::{Deserialize, Serialize};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant", get(retrieve_merchant).patch(update_merchant))
        .route("/merchant/webhook-secret/rotate", post(rotate_secret))
}

/// The merchant's settings; never its secrets.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct MerchantOut {
    id: String,
    /// Always `merchant`.
    object: &'static str,
    name: String,
    default_webhook_url: Option<String>,
    /// `status` (any 2xx acknowledges) or `echo` (the body must echo `payment_reference`).
    webhook_ack_mode: String,
    allowed_return_hosts: Vec<String>,
    connector: String,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<&Merchant> for MerchantOut {
    fn from(m: &Merchant) -> Self {
        Self {
            id: m.id.to_string(),
            object: "merchant",
            name: m.name.clone(),
            default_webhook_url: m.default_webhook_url.as_ref().map(|u| u.as_str().to_owned()),
            webhook_ack_mode: m.webhook_ack_mode.as_str().to_owned(),
            allowed_return_hosts: m.allowed_return_hosts.clone(),
            connector: m.connector.clone(),
            created_at: m.created_at.to_rfc3339(),
        }
    }
}

/// Fields left out stay as they are; `"default_webhook_url": null` removes the URL.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MerchantPatch {
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub(crate) default_webhook_url: Option<Option<String>>,
    pub(crate) webhook_ack_mode: Option<String>,
    pub(crate) allowed_return_hosts: Option<Vec<String>>,
    pub(crate) connector: Option<String>,
}

async fn current(state: &AppState, merchant: &Merchant) -> Result<Merchant, ApiError> {
    // The authenticated merchant may be a second old; settings are read fresh.
    state.store().merchant(&merchant.id).await?.ok_or_else(|| ApiError::not_found("merchant"))
}

/// The authenticated merchant's settings.
#[utoipa::path(
    get, path = "/v1/merchant", tag = "merchant",
    responses((status = 200, description = "The merchant", body = MerchantOut)),
    security(("api_key" = []))
)]
pub(crate) async fn retrieve_merchant(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &MerchantOut::from(&current(&state, &merchant).await?)))
}

/// Changes settings; every field is optional.
#[utoipa::path(
    patch, path = "/v1/merchant", tag = "merchant",
    request_body = MerchantPatch,
    responses(
        (status = 200, description = "The merchant", body = MerchantOut),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn update_merchant(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppJson(patch): AppJson<MerchantPatch>,
) -> Result<Response, ApiError> {
    let mut merchant = current(&state, &merchant).await?;
    let errors = apply_patch(&state, &mut merchant, patch);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if state.store().update_merchant(&merchant, state.clock().now()).await?.is_err() {
        return Err(ApiError::validation(vec![FieldError::new(
            "default_webhook_url",
            "too_many_endpoints",
            "The merchant has 16 webhook endpoints already; remove one to set a default URL.",
        )]));
    }
    state.inner.merchants.forget(&merchant.id);
    Ok(json_response(StatusCode::OK, &MerchantOut::from(&merchant)))
}

/// Applies the settings a patch changes to `merchant`, by the rules of
/// docs/reference/api.md#merchant-settings; what it refused, field by field. The API's
/// `PATCH /v1/merchant` and the dashboard's settings form both go through it.
pub(crate) fn apply_patch(state: &AppState, merchant: &mut Merchant, patch: MerchantPatch) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let settings = state.settings();
    if let Some(url) = patch.default_webhook_url {
        merchant.default_webhook_url = match url {
            None => None,
            Some(raw) => match WebhookUrl::parse(&raw, settings.mode, settings.forbid_explicit_port) {
                Ok(url) => Some(url),
                Err(error) => {
                    errors.push(FieldError::new("default_webhook_url", error.code(), error.to_string()));
                    None
                }
            },
        };
    }
    if let Some(mode) = patch.webhook_ack_mode {
        match AckMode::parse(&mode) {
            Some(mode) => merchant.webhook_ack_mode = mode,
            None => errors.push(FieldError::new("webhook_ack_mode", "invalid_value", "must be status or echo")),
        }
    }
    if let Some(hosts) = patch.allowed_return_hosts {
        let valid = |host: &String| {
            !host.is_empty()
                && host.len() <= 253
                && !host.contains(['/', ':', ' ', '?', '#', '@'])
                && gatepost_core::text::is_clean(host, false)
        };
        if hosts.iter().all(valid) {
            merchant.allowed_return_hosts = hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect();
        } else {
            errors.push(FieldError::new(
                "allowed_return_hosts",
                "invalid_value",
                "must be host names such as shop.example",
            ));
        }
    }
    if let Some(connector) = patch.connector {
        if state.connectors().has(&connector) {
            merchant.connector = connector;
        } else {
            errors.push(FieldError::new("connector", "invalid_value", "is not a connector this gateway runs"));
        }
    }
    errors
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RotatedSecret {
    /// The new secret, shown once.
    webhook_secret: String,
    /// Until then webhooks carry a second signature made with the previous secret.
    #[schema(format = DateTime)]
    previous_secret_expires_at: String,
}

/// Replaces the webhook secret; the old one keeps signing alongside for 24 hours.
#[utoipa::path(
    post, path = "/v1/merchant/webhook-secret/rotate", tag = "merchant",
    params(super::IdempotencyKeyHeader),
    responses((status = 200, description = "The new secret", body = RotatedSecret)),
    security(("api_key" = []))
)]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
) -> Result<Response, ApiError> {
    let secret = WebhookSecret::generate();
    let until = state.clock().now().plus_seconds(gatepost_core::signing::PREVIOUS_SECRET_SECONDS);
    state.store().rotate_webhook_secret(&merchant.id, &secret, until).await?;
    let rotated = RotatedSecret { webhook_secret: secret.expose(), previous_secret_expires_at: until.to_rfc3339() };
    let mut response = json_response(StatusCode::OK, &rotated);
    // A secret is shown once and never stored: not even for an idempotent replay.
    response.extensions_mut().insert(NotReplayable);
    Ok(response)
}
