//! What a repeated `Idempotency-Key` means (docs/reference/api.md#idempotency): the first
//! request with a key runs, a repeat of it gets the stored answer, and a different
//! request under the same key is refused.

use crate::time::Timestamp;

/// How long a claimed key blocks its twins before a crashed request's claim may be taken
/// over.
pub const LOCK_MILLIS: i64 = 60_000;
/// How long a finished response is replayed.
pub const RETENTION_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A stored API response, replayed for a repeated key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new (or its earlier request died): run the request, then record it.
    Claimed,
    /// The same request already ran: replay this.
    Replay(StoredResponse),
    /// The same key is still running elsewhere.
    InUse,
    /// The key was used with a different request.
    Reused,
}

/// A key as it is stored.
#[derive(Clone, Debug)]
pub struct KeyRecord {
    /// A hash of the request that claimed the key (method, path and body).
    pub request_hash: String,
    pub created_at: Timestamp,
    pub locked_until: Timestamp,
    /// The answer, once the request finished.
    pub response: Option<StoredResponse>,
}

/// What to do about a key that is already stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Answer(IdempotencyClaim),
    /// The stored claim is stale (past its retention, or its request died): claim it afresh.
    TakeOver,
}

impl KeyRecord {
    /// A fresh claim of a key by the request hashed as `request_hash`.
    #[must_use]
    pub fn claim(request_hash: &str, now: Timestamp) -> Self {
        Self {
            request_hash: request_hash.to_owned(),
            created_at: now,
            locked_until: Timestamp::from_millis(now.millis() + LOCK_MILLIS),
            response: None,
        }
    }

    /// What a new request hashed as `request_hash` gets at `now`.
    #[must_use]
    pub fn verdict(&self, request_hash: &str, now: Timestamp) -> Verdict {
        if self.created_at.millis() + RETENTION_MILLIS <= now.millis() {
            return Verdict::TakeOver;
        }
        if self.request_hash != request_hash {
            return Verdict::Answer(IdempotencyClaim::Reused);
        }
        if let Some(response) = &self.response {
            return Verdict::Answer(IdempotencyClaim::Replay(response.clone()));
        }
        if self.locked_until > now {
            return Verdict::Answer(IdempotencyClaim::InUse);
        }
        Verdict::TakeOver
    }
}

/// Keys claimed at or before this are past their retention and may be forgotten.
#[must_use]
pub fn forgettable_before(now: Timestamp) -> Timestamp {
    Timestamp::from_millis(now.millis() - RETENTION_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + millis)
    }

    #[test]
    fn a_running_request_holds_its_key_until_its_lock_runs_out() {
        let record = KeyRecord::claim("h", at(0));
        assert_eq!(record.verdict("h", at(LOCK_MILLIS - 1)), Verdict::Answer(IdempotencyClaim::InUse));
        assert_eq!(record.verdict("h", at(LOCK_MILLIS)), Verdict::TakeOver, "its request died");
    }

    #[test]
    fn a_finished_request_is_replayed_for_a_day_and_only_to_the_same_request() {
        let response = StoredResponse { status: 201, content_type: "application/json".into(), body: b"{}".to_vec() };
        let record = KeyRecord { response: Some(response.clone()), ..KeyRecord::claim("h", at(0)) };
        assert_eq!(record.verdict("h", at(RETENTION_MILLIS - 1)), Verdict::Answer(IdempotencyClaim::Replay(response)));
        assert_eq!(record.verdict("other", at(1)), Verdict::Answer(IdempotencyClaim::Reused));
        assert_eq!(record.verdict("other", at(RETENTION_MILLIS)), Verdict::TakeOver, "forgotten after a day");
        assert_eq!(forgettable_before(at(RETENTION_MILLIS)), at(0));
    }
}
