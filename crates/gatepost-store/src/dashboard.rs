//! The dashboard's users, sessions, one-time sign-in links, failed sign-ins and audit log
//! (docs/reference/dashboard.md), each operation written once over [`Tx`]. Tokens arrive
//! hashed: only their SHA-256 is stored. Whether a session is live, a sign-in throttled or
//! a role allowed to act is decided in `gatepost_core::dashboard`.

use crate::database::Database;
use crate::rows::Row;
use crate::tx::{Backend, Tx};
use crate::values::{Columns, Value};
use crate::{Page, StoreError};
use async_trait::async_trait;
use gatepost_core::dashboard::{AuditAction, Email, PasswordHash, Session, User};
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::ids::{AuditId, EventId, MerchantId, PaymentId, UserId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::status::PaymentStatus;
use gatepost_core::time::Timestamp;

/// Why a user was not created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserRefusal {
    /// A user with this e-mail address exists already (for any merchant).
    EmailTaken,
}

/// Whom a used sign-in link signs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkHolder {
    User(User),
    /// The sandbox's first link, made while there was no merchant: it makes one.
    NewSandboxMerchant,
}

/// One entry of a merchant's audit log: who did what to which object, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditId,
    pub merchant_id: MerchantId,
    pub user_id: UserId,
    pub user_email: String,
    pub action: AuditAction,
    pub object_id: Option<String>,
    /// What else the action took: an amount, a reason, a filter.
    pub detail: Option<String>,
    pub at: Timestamp,
}

/// Payments of one status and currency made in a window: how many, and their amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentTotal {
    pub status: PaymentStatus,
    pub currency: String,
    pub count: u64,
    pub amount: i64,
}

/// How an endpoint's recent attempts went: of its last [`HEALTH_ATTEMPTS`] attempts since a
/// time, how many, how many succeeded, and the last that failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointHealth {
    pub attempts: u64,
    pub succeeded: u64,
    /// When the last failure was, its status code and its error.
    pub last_failure: Option<(Timestamp, Option<u16>, Option<String>)>,
}

/// How many of an endpoint's latest attempts its health is judged on: a bounded read,
/// however busy the endpoint.
pub const HEALTH_ATTEMPTS: u32 = 1000;

/// What the dashboard asks of the database.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    async fn create_user(
        &self,
        user: &User,
        password: Option<&PasswordHash>,
    ) -> Result<Result<(), UserRefusal>, StoreError>;

    /// A merchant's users, oldest first.
    async fn users(&self, merchant: &MerchantId) -> Result<Vec<User>, StoreError>;

    /// The user with this address, with their password's hash if they have one.
    async fn user_by_email(&self, email: &Email) -> Result<Option<(User, Option<PasswordHash>)>, StoreError>;

    /// Gives a user a new password and ends their other sessions: every one but `keep`.
    async fn set_password(&self, user: &UserId, password: &PasswordHash, keep: &str) -> Result<(), StoreError>;

    /// Creates a user without a password and a one-time link for them, together.
    async fn invite_user(
        &self,
        user: &User,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<Result<(), UserRefusal>, StoreError>;

    /// Removes a user of this merchant, with their sessions and links; `false` if there is none.
    async fn remove_user(&self, merchant: &MerchantId, id: &UserId) -> Result<bool, StoreError>;

    /// A one-time link for `user`, or with `None` the sandbox's first link, which makes a
    /// merchant.
    async fn create_sign_in_link(
        &self,
        user: Option<&UserId>,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Uses a sign-in link: whom it signs in, if the link exists, is unused and has not
    /// expired at `now`; it can never be used again either way.
    async fn use_sign_in_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<LinkHolder>, StoreError>;

    async fn open_session(
        &self,
        user: &UserId,
        token_hash: &str,
        csrf_token: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The session of a cookie, live or not, with its user as they are now.
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;

    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> Result<(), StoreError>;

    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// How many failed sign-ins each subject has had since `since`.
    async fn sign_in_failures(&self, subjects: &[String], since: Timestamp) -> Result<Vec<u64>, StoreError>;

    /// Counts one failed sign-in, named `attempt`, against each subject. A sign-in counts
    /// itself as failed before its password is checked, so that parallel guesses see each
    /// other.
    async fn record_sign_in_failure(
        &self,
        subjects: &[String],
        attempt: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Takes back the failure counted for `attempt`: the sign-in succeeded.
    async fn forget_sign_in_failure(&self, attempt: &str) -> Result<(), StoreError>;

    /// Forgets failed sign-ins from before `failures_before`, sessions idle since before
    /// `sessions_before` and links that expired before `now`; how many rows went.
    async fn forget_dashboard_leftovers(
        &self,
        now: Timestamp,
        failures_before: Timestamp,
        sessions_before: Timestamp,
    ) -> Result<u64, StoreError>;

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// How long the newest [`LATENCY_SAMPLE`] events made since `since` and delivered took
    /// from being made to the end of the attempt that delivered them, in milliseconds.
    async fn delivery_latencies(&self, merchant: &MerchantId, since: Timestamp) -> Result<Vec<i64>, StoreError>;

    /// The newest [`OVERVIEW_SAMPLE`] of a merchant's payments made since `since`, by status
    /// and currency.
    async fn payment_totals(&self, merchant: &MerchantId, since: Timestamp) -> Result<Vec<PaymentTotal>, StoreError>;

    /// How an endpoint's attempts since `since` went.
    async fn endpoint_health(
        &self,
        endpoint: &WebhookEndpointId,
        since: Timestamp,
    ) -> Result<EndpointHealth, StoreError>;

    /// The newest [`OVERVIEW_SAMPLE`] of a merchant's events made since `since`, by delivery
    /// status.
    async fn event_totals(
        &self,
        merchant: &MerchantId,
        since: Timestamp,
    ) -> Result<Vec<(DeliveryStatus, u64)>, StoreError>;

    /// A merchant's audit log, newest first, from before `before`.
    async fn audit_log(
        &self,
        merchant: &MerchantId,
        before: Option<&AuditId>,
        limit: u32,
    ) -> Result<Page<AuditEntry>, StoreError>;
}

const USER_BY_EMAIL: &str = "SELECT * FROM dashboard_users WHERE email = $1";
const USERS_OF_MERCHANT: &str = "SELECT * FROM dashboard_users WHERE merchant_id = $1 ORDER BY created_at, id";
const SET_PASSWORD: &str = "UPDATE dashboard_users SET password_hash = $2 WHERE id = $1";
const DELETE_USER: &str = "DELETE FROM dashboard_users WHERE id = $1 AND merchant_id = $2";
const DELETE_SESSIONS_OF_USER: &str = "DELETE FROM dashboard_sessions WHERE user_id = $1";
const DELETE_OTHER_SESSIONS: &str = "DELETE FROM dashboard_sessions WHERE user_id = $1 AND token_hash <> $2";
const USER_OF_MERCHANT: &str = "SELECT id FROM dashboard_users WHERE id = $1 AND merchant_id = $2";
const FORGET_ATTEMPT: &str = "DELETE FROM dashboard_sign_in_failures WHERE attempt = $1";
const DELETE_LINKS_OF_USER: &str = "DELETE FROM dashboard_sign_in_links WHERE user_id = $1";
const USE_LINK: &str =
    "UPDATE dashboard_sign_in_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
const USER_OF_LINK: &str = "SELECT u.* FROM dashboard_sign_in_links l JOIN dashboard_users u ON u.id = l.user_id \
    WHERE l.token_hash = $1";
const LINK_HAS_USER: &str = "SELECT user_id FROM dashboard_sign_in_links WHERE token_hash = $1";
const SESSION: &str = "SELECT u.*, s.csrf_token, s.last_seen_at FROM dashboard_sessions s \
    JOIN dashboard_users u ON u.id = s.user_id WHERE s.token_hash = $1";
const TOUCH_SESSION: &str = "UPDATE dashboard_sessions SET last_seen_at = $2 WHERE token_hash = $1";
const END_SESSION: &str = "DELETE FROM dashboard_sessions WHERE token_hash = $1";
const COUNT_FAILURES: &str = "SELECT COUNT(*) AS n FROM dashboard_sign_in_failures WHERE subject = $1 AND at >= $2";
const FORGET_FAILURES: &str = "DELETE FROM dashboard_sign_in_failures WHERE at < $1";
const FORGET_SESSIONS: &str = "DELETE FROM dashboard_sessions WHERE last_seen_at < $1";
/// The overview counts at most this many of the newest payments and events of its window:
/// a bounded read, however busy the merchant (docs/reference/dashboard.md#overview).
pub const OVERVIEW_SAMPLE: u32 = 10_000;
const PAYMENT_TOTALS: &str = "SELECT status, currency, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS total \
    FROM (SELECT status, currency, amount FROM payments WHERE merchant_id = $1 AND id >= $2 \
    ORDER BY id DESC LIMIT $3) newest GROUP BY status, currency";
const EVENT_TOTALS: &str = "SELECT delivery_status, COUNT(*) AS n \
    FROM (SELECT delivery_status FROM events WHERE merchant_id = $1 AND id >= $2 ORDER BY id DESC LIMIT $3) newest \
    GROUP BY delivery_status";
/// How long each of the newest delivered events waited for the end of the attempt that
/// delivered it.
const DELIVERY_LATENCIES: &str = "SELECT (SELECT MIN(d.attempted_at + d.duration_ms) FROM deliveries d \
    WHERE d.event_id = e.id AND d.status_code BETWEEN 200 AND 299 AND d.error IS NULL) - e.created_at AS waited \
    FROM (SELECT id, created_at FROM events WHERE merchant_id = $1 AND id >= $2 AND delivery_status = 'DELIVERED' \
    ORDER BY id DESC LIMIT $3) e";
/// Events whose delivery latency the overview shows.
pub const LATENCY_SAMPLE: u32 = 1_000;
/// An attempt succeeded when it was answered 2xx and nothing was wrong with the answer.
const ENDPOINT_ATTEMPTS: &str = "SELECT COUNT(*) AS n, \
    COALESCE(SUM(CASE WHEN error IS NULL AND status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END), 0) AS ok \
    FROM (SELECT error, status_code FROM deliveries WHERE endpoint_id = $1 AND attempted_at >= $2 \
    ORDER BY attempted_at DESC LIMIT $3) latest";
const LAST_FAILURE: &str = "SELECT attempted_at, status_code, error FROM deliveries \
    WHERE endpoint_id = $1 AND attempted_at >= $2 AND (error IS NOT NULL OR status_code NOT BETWEEN 200 AND 299) \
    ORDER BY attempted_at DESC LIMIT 1";
const FORGET_LINKS: &str = "DELETE FROM dashboard_sign_in_links WHERE expires_at < $1";

fn user_from_row(row: &dyn Row) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::from_trusted(row.text("id")?),
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        email: Email::from_trusted(row.text("email")?),
        role: row.named("role")?,
        created_at: row.time("created_at")?,
    })
}

fn audit_from_row(row: &dyn Row) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: AuditId::from_trusted(row.text("id")?),
        merchant_id: MerchantId::from_trusted(row.text("merchant_id")?),
        user_id: UserId::from_trusted(row.text("user_id")?),
        user_email: row.text("user_email")?,
        action: row.named("action")?,
        object_id: row.opt_text("object_id")?,
        detail: row.opt_text("detail")?,
        at: row.time("at")?,
    })
}

async fn create_user(
    tx: &mut dyn Tx,
    user: User,
    password: Option<PasswordHash>,
) -> Result<Result<(), UserRefusal>, StoreError> {
    if tx.query_one(USER_BY_EMAIL, &[user.email.as_str().into()], user_from_row).await?.is_some() {
        return Ok(Err(UserRefusal::EmailTaken));
    }
    let row: Columns = vec![
        ("id", user.id.as_str().into()),
        ("merchant_id", user.merchant_id.as_str().into()),
        ("email", user.email.as_str().into()),
        ("role", user.role.as_str().into()),
        ("password_hash", password.as_ref().map(PasswordHash::as_str).into()),
        ("created_at", user.created_at.millis().into()),
    ];
    tx.insert("dashboard_users", row).await?;
    Ok(Ok(()))
}

async fn user_by_email(tx: &mut dyn Tx, email: Email) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
    tx.query_one(USER_BY_EMAIL, &[email.as_str().into()], |row| {
        Ok((user_from_row(row)?, row.opt_text("password_hash")?.map(PasswordHash::from_trusted)))
    })
    .await
}

async fn remove_user(tx: &mut dyn Tx, merchant: MerchantId, id: UserId) -> Result<bool, StoreError> {
    // Only this merchant's user: another merchant's id changes nothing, its sessions included.
    let values: [Value; 2] = [id.as_str().into(), merchant.as_str().into()];
    if tx.query_one(USER_OF_MERCHANT, &values, |row| row.text("id")).await?.is_none() {
        return Ok(false);
    }
    tx.execute(DELETE_SESSIONS_OF_USER, &[id.as_str().into()]).await?;
    tx.execute(DELETE_LINKS_OF_USER, &[id.as_str().into()]).await?;
    Ok(tx.execute(DELETE_USER, &values).await? == 1)
}

async fn invite_user(
    tx: &mut dyn Tx,
    user: User,
    token_hash: String,
    expires_at: Timestamp,
) -> Result<Result<(), UserRefusal>, StoreError> {
    if let Err(refusal) = create_user(tx, user.clone(), None).await? {
        return Ok(Err(refusal));
    }
    let row: Columns = vec![
        ("token_hash", token_hash.into()),
        ("user_id", user.id.as_str().into()),
        ("expires_at", expires_at.millis().into()),
    ];
    tx.insert("dashboard_sign_in_links", row).await?;
    Ok(Ok(()))
}

async fn use_sign_in_link(
    tx: &mut dyn Tx,
    token_hash: String,
    now: Timestamp,
) -> Result<Option<LinkHolder>, StoreError> {
    // The update is the check: on PostgreSQL a second use waits for the first's row lock
    // and then finds `used_at` set, so a link signs in once even from two nodes at once.
    if tx.execute(USE_LINK, &[token_hash.as_str().into(), now.millis().into()]).await? != 1 {
        return Ok(None);
    }
    let user_id = tx.query_one(LINK_HAS_USER, &[token_hash.as_str().into()], |row| row.opt_text("user_id")).await?;
    if user_id.flatten().is_none() {
        return Ok(Some(LinkHolder::NewSandboxMerchant));
    }
    Ok(tx.query_one(USER_OF_LINK, &[token_hash.into()], user_from_row).await?.map(LinkHolder::User))
}

async fn forget_leftovers(
    tx: &mut dyn Tx,
    now: Timestamp,
    failures_before: Timestamp,
    sessions_before: Timestamp,
) -> Result<u64, StoreError> {
    Ok(tx.execute(FORGET_FAILURES, &[failures_before.millis().into()]).await?
        + tx.execute(FORGET_SESSIONS, &[sessions_before.millis().into()]).await?
        + tx.execute(FORGET_LINKS, &[now.millis().into()]).await?)
}

fn audit_row(entry: &AuditEntry) -> Columns {
    vec![
        ("id", entry.id.as_str().into()),
        ("merchant_id", entry.merchant_id.as_str().into()),
        ("user_id", entry.user_id.as_str().into()),
        ("user_email", entry.user_email.as_str().into()),
        ("action", entry.action.as_str().into()),
        ("object_id", entry.object_id.as_deref().into()),
        ("detail", entry.detail.as_deref().into()),
        ("at", entry.at.millis().into()),
    ]
}

async fn audit_log(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    before: Option<AuditId>,
    limit: u32,
) -> Result<Page<AuditEntry>, StoreError> {
    let mut values: Vec<Value> = vec![merchant.as_str().into()];
    let mut sql = String::from("SELECT * FROM audit_log WHERE merchant_id = $1");
    if let Some(before) = before {
        values.push(before.as_str().into());
        sql.push_str(" AND id < $2");
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", u64::from(limit) + 1));
    let mut data = tx.query(&sql, &values, audit_from_row).await?;
    let has_more = data.len() > limit as usize;
    data.truncate(limit as usize);
    Ok(Page { data, has_more })
}

#[async_trait]
impl<B: Backend> DashboardStore for Database<B> {
    async fn create_user(
        &self,
        user: &User,
        password: Option<&PasswordHash>,
    ) -> Result<Result<(), UserRefusal>, StoreError> {
        let (user, password) = (user.clone(), password.cloned());
        self.backend().write(move |tx| Box::pin(create_user(tx, user, password))).await
    }

    async fn users(&self, merchant: &MerchantId) -> Result<Vec<User>, StoreError> {
        let merchant = merchant.clone();
        self.backend()
            .read(move |tx| {
                Box::pin(async move { tx.query(USERS_OF_MERCHANT, &[merchant.as_str().into()], user_from_row).await })
            })
            .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
        let email = email.clone();
        self.backend().read(move |tx| Box::pin(user_by_email(tx, email))).await
    }

    async fn set_password(&self, user: &UserId, password: &PasswordHash, keep: &str) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![user.as_str().into(), password.as_str().into()];
        let others: Vec<Value> = vec![user.as_str().into(), keep.into()];
        self.backend()
            .write(move |tx| {
                Box::pin(async move {
                    tx.execute(SET_PASSWORD, &values).await?;
                    tx.execute(DELETE_OTHER_SESSIONS, &others).await.map(drop)
                })
            })
            .await
    }

    async fn invite_user(
        &self,
        user: &User,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<Result<(), UserRefusal>, StoreError> {
        let (user, token_hash) = (user.clone(), token_hash.to_owned());
        self.backend().write(move |tx| Box::pin(invite_user(tx, user, token_hash, expires_at))).await
    }

    async fn forget_sign_in_failure(&self, attempt: &str) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![attempt.into()];
        self.backend()
            .write_statement(move |tx| Box::pin(async move { tx.execute(FORGET_ATTEMPT, &values).await.map(drop) }))
            .await
    }

    async fn remove_user(&self, merchant: &MerchantId, id: &UserId) -> Result<bool, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.backend().write(move |tx| Box::pin(remove_user(tx, merchant, id))).await
    }

    async fn create_sign_in_link(
        &self,
        user: Option<&UserId>,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let row: Columns = vec![
            ("token_hash", token_hash.into()),
            ("user_id", user.map(UserId::as_str).into()),
            ("expires_at", expires_at.millis().into()),
        ];
        self.backend()
            .write_statement(move |tx| {
                Box::pin(async move { tx.insert("dashboard_sign_in_links", row).await.map(drop) })
            })
            .await
    }

    async fn use_sign_in_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<LinkHolder>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.backend().write(move |tx| Box::pin(use_sign_in_link(tx, token_hash, now))).await
    }

    async fn open_session(
        &self,
        user: &UserId,
        token_hash: &str,
        csrf_token: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let row: Columns = vec![
            ("token_hash", token_hash.into()),
            ("user_id", user.as_str().into()),
            ("csrf_token", csrf_token.into()),
            ("created_at", now.millis().into()),
            ("last_seen_at", now.millis().into()),
        ];
        self.backend()
            .write_statement(move |tx| Box::pin(async move { tx.insert("dashboard_sessions", row).await.map(drop) }))
            .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.backend()
            .read(move |tx| {
                Box::pin(async move {
                    tx.query_one(SESSION, &[token_hash.into()], |row| {
                        Ok(Session {
                            user: user_from_row(row)?,
                            csrf_token: row.text("csrf_token")?,
                            last_seen_at: row.time("last_seen_at")?,
                        })
                    })
                    .await
                })
            })
            .await
    }

    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![token_hash.into(), now.millis().into()];
        self.backend()
            .write_statement(move |tx| Box::pin(async move { tx.execute(TOUCH_SESSION, &values).await.map(drop) }))
            .await
    }

    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![token_hash.into()];
        self.backend()
            .write_statement(move |tx| Box::pin(async move { tx.execute(END_SESSION, &values).await.map(drop) }))
            .await
    }

    async fn sign_in_failures(&self, subjects: &[String], since: Timestamp) -> Result<Vec<u64>, StoreError> {
        let subjects = subjects.to_vec();
        self.backend()
            .read(move |tx| {
                Box::pin(async move {
                    let mut counts = Vec::with_capacity(subjects.len());
                    for subject in subjects {
                        let values: [Value; 2] = [subject.into(), since.millis().into()];
                        let n = tx.query_one(COUNT_FAILURES, &values, |row| row.int("n")).await?.unwrap_or(0);
                        counts.push(u64::try_from(n).unwrap_or(0));
                    }
                    Ok(counts)
                })
            })
            .await
    }

    async fn record_sign_in_failure(
        &self,
        subjects: &[String],
        attempt: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (subjects, attempt) = (subjects.to_vec(), attempt.to_owned());
        self.backend()
            .write(move |tx| {
                Box::pin(async move {
                    for subject in subjects {
                        tx.insert(
                            "dashboard_sign_in_failures",
                            vec![
                                ("subject", subject.into()),
                                ("at", now.millis().into()),
                                ("attempt", attempt.as_str().into()),
                            ],
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn forget_dashboard_leftovers(
        &self,
        now: Timestamp,
        failures_before: Timestamp,
        sessions_before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.backend().write(move |tx| Box::pin(forget_leftovers(tx, now, failures_before, sessions_before))).await
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let row = audit_row(entry);
        self.backend()
            .write_statement(move |tx| Box::pin(async move { tx.insert("audit_log", row).await.map(drop) }))
            .await
    }

    async fn payment_totals(&self, merchant: &MerchantId, since: Timestamp) -> Result<Vec<PaymentTotal>, StoreError> {
        let values: Vec<Value> = vec![
            merchant.as_str().into(),
            PaymentId::first_at(since).as_str().into(),
            i64::from(OVERVIEW_SAMPLE).into(),
        ];
        self.backend()
            .read(move |tx| {
                Box::pin(async move {
                    tx.query(PAYMENT_TOTALS, &values, |row| {
                        Ok(PaymentTotal {
                            status: row.named("status")?,
                            currency: row.text("currency")?,
                            count: u64::try_from(row.int("n")?).unwrap_or(0),
                            amount: row.int("total")?,
                        })
                    })
                    .await
                })
            })
            .await
    }

    async fn delivery_latencies(&self, merchant: &MerchantId, since: Timestamp) -> Result<Vec<i64>, StoreError> {
        let values: Vec<Value> =
            vec![merchant.as_str().into(), EventId::first_at(since).as_str().into(), i64::from(LATENCY_SAMPLE).into()];
        self.backend()
            .read(move |tx| {
                Box::pin(async move { tx.query(DELIVERY_LATENCIES, &values, |row| row.opt_int("waited")).await })
            })
            .await
            .map(|waits| waits.into_iter().flatten().collect())
    }

    async fn endpoint_health(
        &self,
        endpoint: &WebhookEndpointId,
        since: Timestamp,
    ) -> Result<EndpointHealth, StoreError> {
        let values: Vec<Value> =
            vec![endpoint.as_str().into(), since.millis().into(), i64::from(HEALTH_ATTEMPTS).into()];
        self.backend()
            .read(move |tx| {
                Box::pin(async move {
                    let (attempts, succeeded) = tx
                        .query_one(ENDPOINT_ATTEMPTS, &values, |row| Ok((row.int("n")?, row.int("ok")?)))
                        .await?
                        .unwrap_or((0, 0));
                    let last_failure = tx
                        .query_one(LAST_FAILURE, &values[..2], |row| {
                            let code = row.opt_int("status_code")?.and_then(|code| u16::try_from(code).ok());
                            Ok((row.time("attempted_at")?, code, row.opt_text("error")?))
                        })
                        .await?;
                    Ok(EndpointHealth {
                        attempts: u64::try_from(attempts).unwrap_or(0),
                        succeeded: u64::try_from(succeeded).unwrap_or(0),
                        last_failure,
                    })
                })
            })
            .await
    }

    async fn event_totals(
        &self,
        merchant: &MerchantId,
        since: Timestamp,
    ) -> Result<Vec<(DeliveryStatus, u64)>, StoreError> {
        let values: Vec<Value> =
            vec![merchant.as_str().into(), EventId::first_at(since).as_str().into(), i64::from(OVERVIEW_SAMPLE).into()];
        self.backend()
            .read(move |tx| {
                Box::pin(async move {
                    tx.query(EVENT_TOTALS, &values, |row| {
                        Ok((row.named("delivery_status")?, u64::try_from(row.int("n")?).unwrap_or(0)))
                    })
                    .await
                })
            })
            .await
    }

    async fn audit_log(
        &self,
        merchant: &MerchantId,
        before: Option<&AuditId>,
        limit: u32,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let (merchant, before) = (merchant.clone(), before.cloned());
        self.backend().read(move |tx| Box::pin(audit_log(tx, merchant, before, limit))).await
    }
}
