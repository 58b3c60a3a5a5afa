//! Idempotency keys (docs/reference/api.md#idempotency), each operation written once over
//! [`Tx`]; what a repeated key means is decided in `gatepost_core::idempotency`.

use crate::StoreError;
use crate::rows::Row;
use crate::tx::Tx;
use crate::values::Value;
use gatepost_core::idempotency::{IdempotencyClaim, KeyRecord, StoredResponse, Verdict, forgettable_before};
use gatepost_core::ids::MerchantId;
use gatepost_core::time::Timestamp;

/// A first claim; affects no row when the key exists.
const INSERT_KEY: &str = "INSERT INTO idempotency_keys \
    (merchant_id, key, request_hash, created_at, locked_until) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (merchant_id, key) DO NOTHING";
const KEY: &str = "SELECT * FROM idempotency_keys WHERE merchant_id = $1 AND key = $2";
const TAKE_OVER_KEY: &str = "UPDATE idempotency_keys SET \
    request_hash = $3, created_at = $4, locked_until = $5, response_status = NULL, \
    response_content_type = NULL, response_body = NULL WHERE merchant_id = $1 AND key = $2";
/// The claim is named by when it was made: a takeover claims the key anew, at a later time.
const RECORD_RESPONSE: &str = "UPDATE idempotency_keys SET \
    response_status = $4, response_content_type = $5, response_body = $6 \
    WHERE merchant_id = $1 AND key = $2 AND created_at = $3";
const DELETE_FORGETTABLE_KEYS: &str = "DELETE FROM idempotency_keys WHERE created_at <= $1";
const DELETE_CLAIM: &str = "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND created_at = $3";

fn record_from_row(row: &dyn Row) -> Result<KeyRecord, StoreError> {
    let response = match row.opt_int("response_status")? {
        Some(status) => Some(StoredResponse {
            status: u16::try_from(status).map_err(|_| StoreError::Corrupt("response_status".into()))?,
            content_type: row.text("response_content_type")?,
            body: row.bytes("response_body")?,
        }),
        None => None,
    };
    Ok(KeyRecord {
        request_hash: row.text("request_hash")?,
        created_at: row.time("created_at")?,
        locked_until: row.time("locked_until")?,
        response,
    })
}

/// Parameters of `INSERT_KEY` and `TAKE_OVER_KEY`.
fn claim_values(merchant: &MerchantId, key: &str, claim: &KeyRecord) -> Vec<Value> {
    vec![
        merchant.as_str().into(),
        key.into(),
        claim.request_hash.as_str().into(),
        claim.created_at.millis().into(),
        claim.locked_until.millis().into(),
    ]
}

/// Claims a key nobody used yet, in one statement; `false` when it exists already.
pub(crate) async fn claim_new(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    key: String,
    request_hash: String,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let claim = claim_values(&merchant, &key, &KeyRecord::claim(&request_hash, now));
    Ok(tx.execute(INSERT_KEY, &claim).await? == 1)
}

/// See `Store::claim_idempotency_key`, for a key that exists. The stored key is locked
/// while it is judged, so of two requests taking over a stale key, one claims it and the
/// other finds it in use.
pub(crate) async fn claim_existing(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    key: String,
    request_hash: String,
    now: Timestamp,
) -> Result<IdempotencyClaim, StoreError> {
    let claim = claim_values(&merchant, &key, &KeyRecord::claim(&request_hash, now));
    let locked = format!("{KEY}{}", tx.dialect().lock_for_update());
    let stored = tx.query_one(&locked, &[merchant.as_str().into(), key.into()], record_from_row).await?;
    match stored.map(|record| record.verdict(&request_hash, now)) {
        Some(Verdict::Answer(answer)) => Ok(answer),
        Some(Verdict::TakeOver) => {
            tx.execute(TAKE_OVER_KEY, &claim).await?;
            Ok(IdempotencyClaim::Claimed)
        }
        // Forgotten since the first look: claim it afresh, unless a twin just did.
        None if tx.execute(INSERT_KEY, &claim).await? == 1 => Ok(IdempotencyClaim::Claimed),
        None => Ok(IdempotencyClaim::InUse),
    }
}

/// The claim a response or a release is about: the merchant, and when it claimed the key.
pub(crate) type Claim = (MerchantId, Timestamp);

pub(crate) async fn record_response(
    tx: &mut dyn Tx,
    (merchant, claimed_at): Claim,
    key: String,
    response: StoredResponse,
) -> Result<(), StoreError> {
    let values: [Value; 6] = [
        merchant.as_str().into(),
        key.into(),
        claimed_at.millis().into(),
        i64::from(response.status).into(),
        response.content_type.into(),
        response.body.into(),
    ];
    tx.execute(RECORD_RESPONSE, &values).await.map(drop)
}

/// Forgets keys past their retention; returns how many.
pub(crate) async fn forget_expired(tx: &mut dyn Tx, now: Timestamp) -> Result<u64, StoreError> {
    tx.execute(DELETE_FORGETTABLE_KEYS, &[forgettable_before(now).millis().into()]).await
}

pub(crate) async fn release(tx: &mut dyn Tx, (merchant, claimed_at): Claim, key: String) -> Result<(), StoreError> {
    tx.execute(DELETE_CLAIM, &[merchant.as_str().into(), key.into(), claimed_at.millis().into()]).await.map(drop)
}
