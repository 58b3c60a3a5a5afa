//! Deciding what a repeated idempotency key means (docs/reference/api.md#idempotency), for
//! both backends.

use crate::rows::Row;
use crate::values::Value;
use crate::{IDEMPOTENCY_LOCK_MILLIS, IDEMPOTENCY_RETENTION_MILLIS, IdempotencyClaim, StoreError, StoredResponse};
use gatepost_core::ids::MerchantId;
use gatepost_core::time::Timestamp;

/// What to do about a key that is already stored.
pub(crate) enum Verdict {
    Answer(IdempotencyClaim),
    /// The stored claim is stale (expired, or its request died): claim it afresh.
    TakeOver,
}

pub(crate) fn judge(row: &impl Row, request_hash: &str, now: Timestamp) -> Result<Verdict, StoreError> {
    let now = now.millis();
    if row.int("created_at")? + IDEMPOTENCY_RETENTION_MILLIS <= now {
        return Ok(Verdict::TakeOver);
    }
    if row.text("request_hash")? != request_hash {
        return Ok(Verdict::Answer(IdempotencyClaim::Reused));
    }
    if let Some(status) = row.opt_int("response_status")? {
        return Ok(Verdict::Answer(IdempotencyClaim::Replay(StoredResponse {
            status: u16::try_from(status).map_err(|_| StoreError::Corrupt("response_status".into()))?,
            content_type: row.text("response_content_type")?,
            body: row.bytes("response_body")?,
        })));
    }
    if row.int("locked_until")? > now {
        return Ok(Verdict::Answer(IdempotencyClaim::InUse));
    }
    Ok(Verdict::TakeOver)
}

/// Parameters of `INSERT_IDEMPOTENCY_KEY` and `TAKE_OVER_IDEMPOTENCY_KEY`.
pub(crate) fn claim_values(merchant: &MerchantId, key: &str, request_hash: &str, now: Timestamp) -> Vec<Value> {
    vec![
        merchant.as_str().into(),
        key.into(),
        request_hash.into(),
        now.millis().into(),
        (now.millis() + IDEMPOTENCY_LOCK_MILLIS).into(),
    ]
}

pub(crate) fn response_values(merchant: &MerchantId, key: &str, response: &StoredResponse) -> Vec<Value> {
    vec![
        merchant.as_str().into(),
        key.into(),
        i64::from(response.status).into(),
        response.content_type.as_str().into(),
        response.body.clone().into(),
    ]
}
