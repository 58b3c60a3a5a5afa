//! `gatepost merchant create|list` (docs/reference/configuration.md#merchants).

use gatepost_core::ids::MerchantId;
use gatepost_core::payment::{AckMode, Merchant};
use gatepost_core::time::{Clock as _, SystemClock};
use gatepost_core::urls::{Mode, WebhookUrl};
use gatepost_store::{NewMerchant, Store, StoreError};
use serde::Serialize;

/// The connectors a merchant may use (docs/reference/connectors.md#choosing-a-connector).
pub const CONNECTORS: [&str; 2] = ["sandbox", "simulator"];

/// What `merchant create` shows, once: the secrets are never shown again.
#[derive(Debug, Serialize)]
pub struct CreatedMerchant {
    pub id: String,
    pub name: String,
    pub api_key: String,
    pub webhook_secret: String,
}

/// Why a merchant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateMerchantError {
    #[error("--name must not be empty")]
    EmptyName,
    #[error("--webhook-url {0}")]
    WebhookUrl(gatepost_core::urls::UrlError),
    #[error("--connector must be one of: {}", CONNECTORS.join(", "))]
    UnknownConnector,
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

pub async fn create_merchant(
    store: &dyn Store,
    mode: Mode,
    name: &str,
    webhook_url: Option<&str>,
    connector: &str,
) -> Result<CreatedMerchant, CreateMerchantError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CreateMerchantError::EmptyName);
    }
    if !CONNECTORS.contains(&connector) {
        return Err(CreateMerchantError::UnknownConnector);
    }
    let default_webhook_url = webhook_url
        .map(|url| WebhookUrl::parse(url, mode, false))
        .transpose()
        .map_err(CreateMerchantError::WebhookUrl)?;
    let merchant = Merchant {
        id: MerchantId::generate(),
        name: name.to_owned(),
        default_webhook_url,
        webhook_ack_mode: AckMode::Status,
        allowed_return_hosts: Vec::new(),
        connector: connector.to_owned(),
        created_at: SystemClock.now(),
    };
    let (new, api_key) = NewMerchant::with_new_credentials(merchant, mode == Mode::Live);
    let created = CreatedMerchant {
        id: new.merchant.id.to_string(),
        name: new.merchant.name.clone(),
        api_key: api_key.expose().to_owned(),
        webhook_secret: new.webhook_secret.expose(),
    };
    store.create_merchant(new).await?;
    Ok(created)
}

/// One merchant in `merchant list --json`: no secrets.
#[derive(Debug, Serialize)]
pub struct MerchantSummary {
    pub id: String,
    pub name: String,
    pub connector: String,
    pub default_webhook_url: Option<String>,
    pub created_at: String,
}

impl From<&Merchant> for MerchantSummary {
    fn from(m: &Merchant) -> Self {
        Self {
            id: m.id.to_string(),
            name: m.name.clone(),
            connector: m.connector.clone(),
            default_webhook_url: m.default_webhook_url.as_ref().map(|u| u.as_str().to_owned()),
            created_at: m.created_at.to_rfc3339(),
        }
    }
}
