//! The PostgreSQL backend: several gateway processes on one database
//! (docs/reference/configuration.md#storage). Each write runs in a pooled transaction;
//! changes lock the payment row (`FOR UPDATE`) so concurrent nodes serialize.

use crate::StoreError;
use crate::migrations::{CREATE_VERSIONS_TABLE, POSTGRES as MIGRATIONS};
use crate::rows::Row;
use crate::tx::{Backend, Dialect, EachRow, Tx, Work};
use crate::values::Value;
use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{GenericClient, Pool, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// Connections per process: enough for both cores and the disk, few enough that
/// several gateway nodes fit within PostgreSQL's default 100.
const POOL_SIZE: usize = 24;

/// Serializes migrations across nodes that start at the same moment.
const MIGRATION_LOCK: i64 = 0x6761_7465_706f_7374; // "gatepost"

#[derive(Debug)]
pub(crate) struct Postgres {
    pool: Pool,
}

impl Postgres {
    pub(crate) fn open(url: &str) -> Result<Self, StoreError> {
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.to_owned());
        config.pool = Some(deadpool_postgres::PoolConfig::new(POOL_SIZE));
        let pool = config.create_pool(Some(Runtime::Tokio1), NoTls).map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Self { pool })
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Text(v) => v.to_sql(ty, out),
            Self::Int(v) => v.to_sql(ty, out),
            Self::Bytes(v) => v.to_sql(ty, out),
        }
    }

    // Each variant only ever binds to its own column type (see the migrations); the
    // wrapped type's `to_sql` still checks the wire format.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl Row for tokio_postgres::Row {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// An operation's view of PostgreSQL: a transaction, or a pooled connection for reads.
struct PostgresTx<'c, C> {
    client: &'c C,
}

#[async_trait]
impl<C: GenericClient + Sync> Tx for PostgresTx<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let statement = self.client.prepare_cached(sql).await?;
        Ok(self.client.execute(&statement, &params(values)).await?)
    }

    async fn for_each_row(&mut self, sql: &str, values: &[Value], each: &mut EachRow<'_>) -> Result<(), StoreError> {
        let statement = self.client.prepare_cached(sql).await?;
        for row in self.client.query(&statement, &params(values)).await? {
            each(&row)?;
        }
        Ok(())
    }
}

impl Backend for Postgres {
    async fn write<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static,
    {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        // An error returns before the commit: dropping the transaction rolls it back.
        let result = work(&mut PostgresTx { client: &transaction }).await?;
        transaction.commit().await?;
        Ok(result)
    }

    async fn write_statement<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static,
    {
        // Autocommit: the statement commits (and PostgreSQL flushes it) on its own.
        self.read(work).await
    }

    async fn read<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static,
    {
        let client = self.pool.get().await?;
        work(&mut PostgresTx { client: &client }).await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        transaction.batch_execute(CREATE_VERSIONS_TABLE).await?;
        for migration in MIGRATIONS {
            let applied = transaction
                .query_opt("SELECT version FROM schema_migrations WHERE version = $1", &[&migration.version])
                .await?;
            if applied.is_none() {
                transaction.batch_execute(migration.sql).await?;
                transaction
                    .execute(
                        "INSERT INTO schema_migrations (version, applied_at) \
                         VALUES ($1, (extract(epoch from now()) * 1000)::bigint)",
                        &[&migration.version],
                    )
                    .await?;
            }
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.get().await?.simple_query("SELECT 1").await?;
        Ok(())
    }
}
