//! Merchants and their settings, each operation written once over [`Tx`].

use crate::queries::{LIST_MERCHANTS, LOCK_MERCHANT, MERCHANT_BY_ID, MERCHANT_BY_KEY_HASH, ROTATE_WEBHOOK_SECRET};
use crate::rows::Row;
use crate::rows::merchant_from_row;
use crate::tx::Tx;
use crate::values::{Columns, Value, merchant_row, merchant_settings};
use crate::{NewMerchant, StoreError};
use gatepost_core::ids::{ApiKeyId, MerchantId};
use gatepost_core::payment::{ApiKeyRecord, MAX_API_KEYS_PER_MERCHANT, Merchant};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::time::Timestamp;

pub(crate) async fn create(tx: &mut dyn Tx, new: &NewMerchant) -> Result<(), StoreError> {
    tx.insert("merchants", merchant_row(new)).await?;
    tx.insert("api_keys", api_key_row(&new.api_key, &new.api_key_hash)).await.map(drop)
}

const API_KEYS_OF_MERCHANT: &str = "SELECT * FROM api_keys WHERE merchant_id = $1 ORDER BY id";
const COUNT_LIVE_KEYS: &str = "SELECT COUNT(*) AS n FROM api_keys WHERE merchant_id = $1 AND revoked_at IS NULL";
const REVOKE_KEY: &str =
    "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND merchant_id = $2 AND revoked_at IS NULL";

fn api_key_row(key: &ApiKeyRecord, hash: &str) -> Columns {
    vec![
        ("id", key.id.as_str().into()),
        ("merchant_id", key.merchant_id.as_str().into()),
        ("prefix", key.prefix.as_deref().into()),
        ("key_hash", hash.into()),
        ("description", key.description.as_deref().into()),
        ("created_at", key.created_at.millis().into()),
        ("revoked_at", key.revoked_at.map(Timestamp::millis).into()),
    ]
}

fn api_key_from_row(row: &dyn Row) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::from_trusted(row.text("id")?),
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        prefix: row.opt_text("prefix")?,
        description: row.opt_text("description")?,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_int("revoked_at")?.map(Timestamp::from_millis),
    })
}

pub(crate) async fn create_api_key(tx: &mut dyn Tx, key: ApiKeyRecord, hash: String) -> Result<bool, StoreError> {
    let merchant: Value = key.merchant_id.as_str().into();
    let lock = format!("{LOCK_MERCHANT}{}", tx.dialect().lock_for_update());
    tx.query_one(&lock, std::slice::from_ref(&merchant), |row| row.text("id")).await?;
    let live = tx.query_one(COUNT_LIVE_KEYS, &[merchant], |row| row.int("n")).await?.unwrap_or(0);
    if usize::try_from(live).unwrap_or(usize::MAX) >= MAX_API_KEYS_PER_MERCHANT {
        return Ok(false);
    }
    tx.insert("api_keys", api_key_row(&key, &hash)).await?;
    Ok(true)
}

pub(crate) async fn api_keys(tx: &mut dyn Tx, merchant: MerchantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
    tx.query(API_KEYS_OF_MERCHANT, &[merchant.as_str().into()], api_key_from_row).await
}

pub(crate) async fn revoke_api_key(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    id: ApiKeyId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let values: [Value; 3] = [id.as_str().into(), merchant.as_str().into(), now.millis().into()];
    Ok(tx.execute(REVOKE_KEY, &values).await? == 1)
}

pub(crate) async fn list(tx: &mut dyn Tx) -> Result<Vec<Merchant>, StoreError> {
    tx.query(LIST_MERCHANTS, &[], merchant_from_row).await
}

pub(crate) async fn by_api_key_hash(tx: &mut dyn Tx, hash: String) -> Result<Option<Merchant>, StoreError> {
    tx.query_one(MERCHANT_BY_KEY_HASH, &[hash.into()], merchant_from_row).await
}

pub(crate) async fn by_id(tx: &mut dyn Tx, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
    tx.query_one(MERCHANT_BY_ID, &[id.as_str().into()], merchant_from_row).await
}

pub(crate) async fn update_settings(tx: &mut dyn Tx, merchant: Merchant) -> Result<(), StoreError> {
    tx.update("merchants", ("id", merchant.id.as_str().into()), merchant_settings(&merchant)).await.map(drop)
}

pub(crate) async fn rotate_webhook_secret(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    new: WebhookSecret,
    previous_until: Timestamp,
) -> Result<(), StoreError> {
    let values: [Value; 3] = [merchant.as_str().into(), new.expose().into(), previous_until.millis().into()];
    tx.execute(ROTATE_WEBHOOK_SECRET, &values).await.map(drop)
}
