//! The transaction interface: everything an operation may ask of a database. Each
//! backend implements [`Tx`] and [`Backend`]; every operation is one function over
//! `&mut dyn Tx`, run by either backend (`database.rs`).

use crate::StoreError;
use crate::rows::Row;
use crate::values::{Columns, Value, insert_sql, update_sql};
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;

/// What [`Tx::for_each_row`] hands each row to.
pub(crate) type EachRow<'e> = dyn for<'r> FnMut(&'r (dyn Row + 'r)) -> Result<(), StoreError> + Send + 'e;

/// Where one operation runs: inside a write transaction, or on a read connection.
#[async_trait]
pub(crate) trait Tx: Send {
    fn dialect(&self) -> Dialect;

    /// Runs a statement; returns how many rows it changed. SQL is written with
    /// PostgreSQL's `$N` parameters, which the SQLite backend reads as `?N`.
    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError>;

    /// Runs a query and hands each row to `each`, in order.
    async fn for_each_row(&mut self, sql: &str, values: &[Value], each: &mut EachRow<'_>) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// Inserts one row into `table`.
    pub(crate) async fn insert(&mut self, table: &'static str, row: Columns) -> Result<u64, StoreError> {
        let (sql, values) = insert_sql(table, row);
        self.execute(&sql, &values).await
    }

    /// Rewrites `set` on the row of `table` whose `key` column has the key's value.
    pub(crate) async fn update(
        &mut self,
        table: &'static str,
        key: (&'static str, Value),
        set: Columns,
    ) -> Result<u64, StoreError> {
        let (sql, values) = update_sql(table, key, set);
        self.execute(&sql, &values).await
    }

    /// All rows of a query, each mapped by `map`.
    pub(crate) async fn query<T: Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        map: impl Fn(&dyn Row) -> Result<T, StoreError> + Send + Sync,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.for_each_row(sql, values, &mut |row| {
            out.push(map(row)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// The first row of a query, if any.
    pub(crate) async fn query_one<T: Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        map: impl Fn(&dyn Row) -> Result<T, StoreError> + Send + Sync,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.query(sql, values, map).await?.into_iter().next())
    }
}

/// What differs in the SQL the two backends run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Ends a `SELECT` of a row about to change. PostgreSQL locks it until the
    /// transaction ends, so changes from several nodes run one after the other; SQLite's
    /// one writer runs every write transaction alone already.
    pub(crate) fn lock_for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// Ends the `SELECT` of a claim: on PostgreSQL, nodes that claim at the same moment
    /// never take the same row.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// An operation's future, borrowing the transaction it runs in.
pub(crate) type Work<'t, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 't>>;

/// Connection handling: how a backend runs an operation. Everything else is written once.
pub(crate) trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// Runs `work` in one write transaction and returns once it is committed and durable.
    /// An error from `work` rolls back everything it wrote.
    fn write<T, W>(&self, work: W) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static;

    /// Runs `work`, which makes exactly one statement as its last step, durably: a single
    /// statement is atomic by itself, so PostgreSQL runs it without a transaction of its
    /// own (one round trip instead of three), and SQLite's writer without a savepoint. An
    /// error after the statement ran (reading back what it returned) leaves its changes.
    fn write_statement<T, W>(&self, work: W) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static;

    /// Runs `work` on a connection that only reads.
    fn read<T, W>(&self, work: W) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static;

    /// Applies the embedded migrations that have not run yet; safe from several processes.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}
