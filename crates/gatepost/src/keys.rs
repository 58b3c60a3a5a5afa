//! `gatepost key create|list|revoke` (docs/reference/api.md#api-keys): a merchant's API
//! keys. A key is shown once, when it is made; only its hash is stored.

use gatepost_core::ids::{ApiKeyId, MerchantId};
use gatepost_core::payment::{ApiKey, ApiKeyRecord, MAX_API_KEYS_PER_MERCHANT};
use gatepost_core::time::{Clock as _, SystemClock};
use gatepost_core::urls::Mode;
use gatepost_store::{Store, StoreError};
use serde::Serialize;

/// Why a key was not made or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("--merchant {0} does not exist")]
    NoSuchMerchant(String),
    #[error("the merchant has {MAX_API_KEYS_PER_MERCHANT} keys already: revoke one first")]
    TooMany,
    #[error("--key {0} is not a key of this merchant that is not revoked yet")]
    NoSuchKey(String),
    #[error("--description must be at most 200 characters, without control characters")]
    BadDescription,
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

async fn merchant(store: &dyn Store, id: &str) -> Result<MerchantId, KeyError> {
    let parsed = MerchantId::parse(id).ok_or_else(|| KeyError::NoSuchMerchant(id.to_owned()))?;
    match store.merchant(&parsed).await? {
        Some(merchant) => Ok(merchant.id),
        None => Err(KeyError::NoSuchMerchant(id.to_owned())),
    }
}

/// The longest description a key may have.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// A key's description as given: trimmed, and `None` when empty.
pub fn description(text: Option<&str>) -> Result<Option<String>, KeyError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(None) };
    if text.chars().count() > MAX_DESCRIPTION_CHARS || !gatepost_core::text::is_clean(text, false) {
        return Err(KeyError::BadDescription);
    }
    Ok(Some(text.to_owned()))
}

/// Makes a key for `merchant` (its mode's: `sk_live_` in live mode); the key itself is in
/// the answer, and nowhere else ever again.
pub async fn create_key(
    store: &dyn Store,
    mode: Mode,
    merchant_id: &MerchantId,
    description: Option<String>,
) -> Result<(ApiKeyRecord, ApiKey), KeyError> {
    let key = ApiKey::generate(mode == Mode::Live);
    let record = ApiKeyRecord::of(&key, merchant_id, description, SystemClock.now());
    if !store.create_api_key(&record, &key.hash()).await? {
        return Err(KeyError::TooMany);
    }
    Ok((record, key))
}

/// `key create`: checks the merchant and the description, then [`create_key`].
pub async fn create_key_for(
    store: &dyn Store,
    mode: Mode,
    merchant_id: &str,
    description_text: Option<&str>,
) -> Result<(ApiKeyRecord, ApiKey), KeyError> {
    let merchant_id = merchant(store, merchant_id).await?;
    create_key(store, mode, &merchant_id, description(description_text)?).await
}

/// One key in `key list --json` and `key create --json`: never the key, except in the
/// answer to `create`.
#[derive(Debug, Serialize)]
pub struct KeySummary {
    pub id: String,
    pub prefix: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

impl From<&ApiKeyRecord> for KeySummary {
    fn from(key: &ApiKeyRecord) -> Self {
        Self {
            id: key.id.to_string(),
            prefix: key.prefix.clone(),
            description: key.description.clone(),
            created_at: key.created_at.to_rfc3339(),
            revoked_at: key.revoked_at.map(|at| at.to_rfc3339()),
            api_key: None,
        }
    }
}

pub async fn list_keys(store: &dyn Store, merchant_id: &str) -> Result<Vec<KeySummary>, KeyError> {
    let merchant_id = merchant(store, merchant_id).await?;
    Ok(store.api_keys(&merchant_id).await?.iter().map(KeySummary::from).collect())
}

pub async fn revoke_key(store: &dyn Store, merchant_id: &str, key: &str) -> Result<(), KeyError> {
    let merchant_id = merchant(store, merchant_id).await?;
    let id = ApiKeyId::parse(key).ok_or_else(|| KeyError::NoSuchKey(key.to_owned()))?;
    if store.revoke_api_key(&merchant_id, &id, SystemClock.now()).await? {
        Ok(())
    } else {
        Err(KeyError::NoSuchKey(key.to_owned()))
    }
}
