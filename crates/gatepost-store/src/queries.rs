//! SQL both backends run as written (SQLite reads `$N` as a positional parameter).

pub(crate) const MERCHANT_BY_KEY_HASH: &str = "SELECT m.* FROM api_keys k JOIN merchants m ON m.id = k.merchant_id \
    WHERE k.key_hash = $1 AND k.revoked_at IS NULL";
pub(crate) const LIST_MERCHANTS: &str = "SELECT * FROM merchants ORDER BY id";
pub(crate) const PAYMENT_BY_ID: &str = "SELECT * FROM payments WHERE id = $1 AND merchant_id = $2";
pub(crate) const PAYMENT_BY_ID_FOR_ANY_MERCHANT: &str = "SELECT * FROM payments WHERE id = $1";
pub(crate) const PAYMENT_BY_CHECKOUT_TOKEN: &str = "SELECT * FROM payments WHERE checkout_token = $1";
pub(crate) const MERCHANT_FOR_CHECKOUT: &str = "SELECT name, webhook_secret, connector FROM merchants WHERE id = $1";
pub(crate) const ATTEMPT_BY_ID: &str = "SELECT * FROM attempts WHERE id = $1";
/// Open payments past their expiry and authorizations past their capture deadline.
pub(crate) const PAYMENTS_DUE_TO_EXPIRE: &str = "SELECT id FROM payments \
    WHERE status = 'OPEN' AND expires_at <= $1 \
    UNION ALL SELECT id FROM payments WHERE status = 'AUTHORIZED' AND capture_before <= $1 \
    LIMIT $2";
pub(crate) const ATTEMPTS_DUE_FOR_POLL: &str = "SELECT * FROM attempts \
    WHERE status = 'PENDING' AND next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2";
/// 3-D Secure challenges the shopper never answered, on payments past their expiry.
pub(crate) const ABANDONED_CHALLENGES: &str = "SELECT a.* FROM attempts a JOIN payments p ON p.id = a.payment_id \
    WHERE a.status = 'ACTION_REQUIRED' AND p.expires_at <= $1 LIMIT $2";
pub(crate) const RESCHEDULE_POLL: &str = "UPDATE attempts SET next_poll_at = $2 WHERE id = $1 AND status = 'PENDING'";

pub(crate) const MERCHANT_BY_ID: &str = "SELECT * FROM merchants WHERE id = $1";
/// Taken (with the dialect's `FOR UPDATE`) before counting what a merchant has of
/// something limited (endpoints, API keys), so that two creates on two nodes cannot both see
/// room for one more.
pub(crate) const LOCK_MERCHANT: &str = "SELECT id FROM merchants WHERE id = $1";
pub(crate) const ROTATE_WEBHOOK_SECRET: &str = "UPDATE merchants SET \
    previous_webhook_secret = webhook_secret, previous_secret_expires_at = $3, webhook_secret = $2 \
    WHERE id = $1";
