//! The shop's own records, in one SQLite file: orders, the fulfilments handed to the
//! warehouse, and the webhooks already handled. Pages show orders as this database has
//! them; the gateway is asked only while a webhook is on its way.

use crate::Product;
use gatepost_merchant::{Payment, PaymentStatus};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// `CREATE … IF NOT EXISTS`: opening an existing database changes nothing. Times are
/// SQLite's clock as RFC 3339 UTC with milliseconds.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    id           TEXT PRIMARY KEY,
    product      TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    payment_id   TEXT UNIQUE,
    checkout_url TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    paid_at      TEXT
);
-- One row per order handed over to be shipped: a warehouse worker or an e-mail job would
-- read it. Never two for one order, whatever the webhooks do.
CREATE TABLE IF NOT EXISTS fulfilments (
    id         INTEGER PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders (id),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- Every verified webhook, by its webhook-id: a redelivery finds its row and does nothing.
CREATE TABLE IF NOT EXISTS handled_webhooks (
    webhook_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    order_id   TEXT REFERENCES orders (id),
    handled_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
";

/// Where an order stands, as the shop sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OrderStatus {
    /// Placed; no verified, confirmed outcome yet.
    Pending,
    /// Paid, confirmed with the gateway's API, and handed over for fulfilment.
    Paid,
    /// Its payment failed, expired or was cancelled: the shopper may order again.
    Failed,
}

impl OrderStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> rusqlite::Result<Self> {
        match text {
            "pending" => Ok(Self::Pending),
            "paid" => Ok(Self::Paid),
            "failed" => Ok(Self::Failed),
            other => {
                Err(rusqlite::Error::InvalidColumnType(0, format!("status {other:?}"), rusqlite::types::Type::Text))
            }
        }
    }
}

/// One order.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    /// `ord_` and 96 random bits: the order's URL is all that ties a shopper to it in
    /// this shop without accounts, so it must not be guessable.
    pub(crate) id: String,
    pub(crate) product: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: OrderStatus,
    /// The gateway's `pay_…` id, once the payment is created.
    pub(crate) payment_id: Option<String>,
    /// The hosted payment page, to send the shopper back to while the order is unpaid.
    pub(crate) checkout_url: Option<String>,
}

impl Order {
    /// Whether `payment`, as the gateway's API answered it, pays for this order: it is
    /// this order's payment, captured, for this order's amount. The checks on reference
    /// and amount catch a payment made some other way than [`crate::checkout`] makes it.
    pub(crate) fn is_paid_by(&self, payment: &Payment) -> bool {
        self.payment_id.as_deref() == Some(payment.id.as_str())
            && payment.status == PaymentStatus::Success
            && payment.reference.as_deref() == Some(self.id.as_str())
            && payment.amount == self.amount
            && payment.currency == self.currency
    }
}

/// What a webhook asks of its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Confirmed paid: mark it and fulfil it.
    Paid,
    /// The payment failed, expired or was cancelled.
    Failed,
}

/// What handling a webhook did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Handled {
    /// Its `webhook-id` was handled before: nothing was done.
    Duplicate,
    /// The order became paid and was handed over for fulfilment.
    Fulfilled,
    /// The order became failed.
    Failed,
    /// Recorded; the order was already where the webhook would move it, or it asked nothing.
    Recorded,
}

/// A failure of the database itself.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database thread failed: {0}")]
    Thread(#[from] tokio::task::JoinError),
}

/// The database: one connection, used on tokio's blocking threads so that a slow disk
/// never stalls the requests in flight. One connection is plenty for a shop of this size,
/// and it serializes writes, which SQLite does anyway.
#[derive(Clone)]
pub(crate) struct Database {
    connection: Arc<Mutex<Connection>>,
}

impl Database {
    /// Opens the file, creating it and its tables if need be.
    pub(crate) fn open(path: &Path) -> Result<Self, DatabaseError> {
        let connection = Connection::open(path)?;
        // WAL lets the pages read while a webhook writes; FULL makes every commit durable
        // before the shop answers, so an acknowledged webhook is never forgotten.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self { connection: Arc::new(Mutex::new(connection)) })
    }

    /// Runs `work` with the connection, on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, DatabaseError> {
        let connection = Arc::clone(&self.connection);
        let result = tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await?;
        Ok(result?)
    }

    /// A new pending order for `product`.
    pub(crate) async fn create_order(&self, product: Product) -> Result<Order, DatabaseError> {
        let order = Order {
            id: format!("ord_{:024x}", rand::random::<u128>() >> 32),
            product: product.name.to_owned(),
            amount: product.amount,
            currency: product.currency.to_owned(),
            status: OrderStatus::Pending,
            payment_id: None,
            checkout_url: None,
        };
        let row = order.clone();
        self.run(move |db| {
            db.execute(
                "INSERT INTO orders (id, product, amount, currency, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
                params![row.id, row.product, row.amount, row.currency],
            )
        })
        .await?;
        Ok(order)
    }

    /// Records the gateway's payment for an order.
    pub(crate) async fn attach_payment(
        &self,
        order_id: &str,
        payment_id: &str,
        checkout_url: &str,
    ) -> Result<(), DatabaseError> {
        let (order_id, payment_id, checkout_url) =
            (order_id.to_owned(), payment_id.to_owned(), checkout_url.to_owned());
        self.run(move |db| {
            db.execute(
                "UPDATE orders SET payment_id = ?2, checkout_url = ?3 WHERE id = ?1",
                params![order_id, payment_id, checkout_url],
            )
        })
        .await?;
        Ok(())
    }

    /// Marks an order that never got a payment as failed, so that its page offers to try again.
    pub(crate) async fn fail_without_payment(&self, order_id: &str) -> Result<(), DatabaseError> {
        let order_id = order_id.to_owned();
        self.run(move |db| {
            db.execute(
                "UPDATE orders SET status = 'failed' WHERE id = ?1 AND status = 'pending' AND payment_id IS NULL",
                [order_id],
            )
        })
        .await?;
        Ok(())
    }

    pub(crate) async fn order(&self, id: &str) -> Result<Option<Order>, DatabaseError> {
        let id = id.to_owned();
        self.run(move |db| {
            db.query_row(
                "SELECT id, product, amount, currency, status, payment_id, checkout_url FROM orders WHERE id = ?1",
                [id],
                |row| {
                    Ok(Order {
                        id: row.get(0)?,
                        product: row.get(1)?,
                        amount: row.get(2)?,
                        currency: row.get(3)?,
                        status: OrderStatus::parse(&row.get::<_, String>(4)?)?,
                        payment_id: row.get(5)?,
                        checkout_url: row.get(6)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Whether a webhook with this id was handled already. A shortcut that spares a
    /// redelivery the call to the API; [`Database::handle_webhook`] decides for good.
    pub(crate) async fn webhook_handled(&self, webhook_id: &str) -> Result<bool, DatabaseError> {
        let webhook_id = webhook_id.to_owned();
        self.run(move |db| {
            db.query_row("SELECT 1 FROM handled_webhooks WHERE webhook_id = ?1", [webhook_id], |_| Ok(())).optional()
        })
        .await
        .map(|found| found.is_some())
    }

    /// Records a verified webhook and applies its change to its order, in one transaction.
    ///
    /// Recording the `webhook-id` in the same transaction as the change is what makes a
    /// redelivery harmless: either both are committed (a redelivery then finds the id and
    /// stops), or neither is (the shop answered an error, and the gateway's retry does the
    /// work). Two deliveries of one event at the same moment are serialized by the
    /// transaction: the second finds the first's row.
    pub(crate) async fn handle_webhook(
        &self,
        webhook_id: &str,
        event_type: &str,
        order_id: Option<&str>,
        change: Option<Change>,
    ) -> Result<Handled, DatabaseError> {
        let (webhook_id, event_type) = (webhook_id.to_owned(), event_type.to_owned());
        let order_id = order_id.map(str::to_owned);
        self.run(move |db| {
            // IMMEDIATE takes the write lock at once, before the first read.
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let first_time = tx.execute(
                "INSERT INTO handled_webhooks (webhook_id, event_type, order_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (webhook_id) DO NOTHING",
                params![webhook_id, event_type, order_id],
            )? == 1;
            if !first_time {
                return Ok(Handled::Duplicate); // dropping `tx` rolls back: nothing was written
            }
            let handled = match (change, order_id) {
                // Only from pending or failed, so it is fulfilled once. Should a confirmed
                // payment ever follow a recorded failure, the money wins.
                (Some(Change::Paid), Some(order_id)) => {
                    let marked = tx.execute(
                        "UPDATE orders SET status = 'paid', paid_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                         WHERE id = ?1 AND status <> 'paid'",
                        [&order_id],
                    )?;
                    if marked == 1 {
                        tx.execute("INSERT INTO fulfilments (order_id) VALUES (?1)", [&order_id])?;
                        Handled::Fulfilled
                    } else {
                        Handled::Recorded
                    }
                }
                // Never the other way: a paid order stays paid, whatever arrives late.
                (Some(Change::Failed), Some(order_id)) => {
                    let marked = tx.execute(
                        "UPDATE orders SET status = 'failed' WHERE id = ?1 AND status = 'pending'",
                        [order_id],
                    )?;
                    if marked == 1 { Handled::Failed } else { Handled::Recorded }
                }
                _ => Handled::Recorded,
            };
            tx.commit()?;
            Ok(handled)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PRODUCT;

    async fn database() -> (Database, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (Database::open(&dir.path().join("shop.db")).unwrap(), dir)
    }

    async fn status(database: &Database, id: &str) -> OrderStatus {
        database.order(id).await.unwrap().unwrap().status
    }

    #[tokio::test]
    async fn a_webhook_id_is_handled_once() {
        let (database, _dir) = database().await;
        let order = database.create_order(PRODUCT).await.unwrap();

        let first = database.handle_webhook("evt_1", "payment.succeeded", Some(&order.id), Some(Change::Paid)).await;
        let again = database.handle_webhook("evt_1", "payment.succeeded", Some(&order.id), Some(Change::Paid)).await;

        assert_eq!(first.unwrap(), Handled::Fulfilled);
        assert_eq!(again.unwrap(), Handled::Duplicate);
        assert!(database.webhook_handled("evt_1").await.unwrap());
    }

    #[tokio::test]
    async fn a_paid_order_is_fulfilled_once_and_never_moves_back() {
        let (database, _dir) = database().await;
        let order = database.create_order(PRODUCT).await.unwrap();

        database.handle_webhook("evt_1", "payment.succeeded", Some(&order.id), Some(Change::Paid)).await.unwrap();
        let other = database.handle_webhook("evt_2", "payment.succeeded", Some(&order.id), Some(Change::Paid)).await;
        let late = database.handle_webhook("evt_3", "payment.failed", Some(&order.id), Some(Change::Failed)).await;

        assert_eq!(other.unwrap(), Handled::Recorded);
        assert_eq!(late.unwrap(), Handled::Recorded);
        assert_eq!(status(&database, &order.id).await, OrderStatus::Paid);
    }

    #[tokio::test]
    async fn a_confirmed_payment_wins_over_an_earlier_failure() {
        let (database, _dir) = database().await;
        let order = database.create_order(PRODUCT).await.unwrap();

        let failed = database.handle_webhook("evt_1", "payment.failed", Some(&order.id), Some(Change::Failed)).await;
        let paid = database.handle_webhook("evt_2", "payment.succeeded", Some(&order.id), Some(Change::Paid)).await;

        assert_eq!((failed.unwrap(), paid.unwrap()), (Handled::Failed, Handled::Fulfilled));
        assert_eq!(status(&database, &order.id).await, OrderStatus::Paid);
    }
}
