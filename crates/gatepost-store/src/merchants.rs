//! Merchants and their settings, each operation written once over [`Tx`].

use crate::queries::{LIST_MERCHANTS, MERCHANT_BY_ID, MERCHANT_BY_KEY_HASH, ROTATE_WEBHOOK_SECRET};
use crate::rows::merchant_from_row;
use crate::tx::Tx;
use crate::values::{Value, merchant_row, merchant_settings};
use crate::{NewMerchant, StoreError};
use gatepost_core::ids::MerchantId;
use gatepost_core::payment::Merchant;
use gatepost_core::signing::WebhookSecret;
use gatepost_core::time::Timestamp;

pub(crate) async fn create(tx: &mut dyn Tx, new: &NewMerchant) -> Result<(), StoreError> {
    tx.insert("merchants", merchant_row(new)).await.map(drop)
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
