//! The embedded SQLite backend: one file in WAL mode, fsync'd on every commit. Writes go
//! through the one writer thread (`writer.rs`, group commit), reads through a small pool
//! of read-only connections (`readers.rs`).

mod checkpointer;
mod readers;
mod writer;

use crate::StoreError;
use crate::migrations::{CREATE_VERSIONS_TABLE, SQLITE as MIGRATIONS};
use crate::rows::Row;
use crate::tx::{Backend, Dialect, EachRow, Tx, Work};
use crate::values::Value;
use async_trait::async_trait;
use readers::Readers;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OptionalExtension as _, params_from_iter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use writer::Writer;

#[derive(Debug)]
pub(crate) struct Sqlite {
    writer: Writer,
    _checkpointer: checkpointer::Checkpointer,
    readers: Arc<Readers>,
}

/// Prepared statements kept per connection: more than gatepost has.
const STATEMENT_CACHE: usize = 128;

/// Opens a connection with the settings every gatepost connection needs.
fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL on every
    // commit, so a 201 is on disk before it is sent. busy_timeout covers the CLI or a
    // second process writing at the same moment.
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    if read_only {
        connection.pragma_update(None, "query_only", "ON")?;
    }
    // Every statement gatepost runs stays prepared: the operations' own, and on the
    // writer the five that frame each batch and job (rusqlite keeps 16 by default).
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// Creates the database file readable and writable by its owner only (0600), if it does
/// not exist yet: it holds webhook secrets. SQLite gives the `-wal` and `-shm` files the
/// database file's permissions. An existing file keeps the permissions it was given.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

impl Sqlite {
    pub(crate) fn open(path: &str) -> Result<Self, StoreError> {
        let path = PathBuf::from(path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        create_private_file(&path).map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
        let connection = open_connection(&path, false)?;
        connection.pragma_update(None, "wal_autocheckpoint", checkpointer::BACKSTOP_PAGES)?;
        let writer = Writer::start(connection).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let checkpointer =
            checkpointer::Checkpointer::start(path.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self { writer, _checkpointer: checkpointer, readers: Readers::new(path) })
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Self::Text(v) => v.to_sql(),
            Self::Int(v) => v.to_sql(),
            Self::Bytes(v) => v.to_sql(),
        }
    }
}

/// A row read by column name. rusqlite finds a name by asking SQLite for every column's
/// name in turn, which made looking up a payment's 27 columns a good part of reading it;
/// the statement's names are taken once per query instead. Names match exactly (rusqlite
/// ignores case): the schema and the code both write them in lower case.
struct NamedRow<'r> {
    row: &'r rusqlite::Row<'r>,
    names: &'r [String],
}

impl NamedRow<'_> {
    fn get<T: rusqlite::types::FromSql>(&self, column: &str) -> Result<T, StoreError> {
        let index = self
            .names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(column.to_owned()))?;
        Ok(self.row.get(index)?)
    }
}

impl Row for NamedRow<'_> {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.get(column)
    }
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        self.get(column)
    }
}

/// The shared SQL writes parameters as PostgreSQL's `$N`; SQLite numbers `$N` by first
/// appearance, so they become `?N`, which SQLite numbers as written.
fn prepare<'c>(connection: &'c Connection, sql: &str) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    Ok(connection.prepare_cached(&sql.replace('$', "?"))?)
}

/// An operation's view of a SQLite connection: the writer's batch transaction, or a
/// reader. It holds the connection mutably, which makes it `Send` like the operations
/// that use it, though it never leaves the thread that runs it.
struct SqliteTx<'c> {
    connection: &'c mut Connection,
}

#[async_trait]
impl Tx for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        Ok(prepare(self.connection, sql)?.execute(params_from_iter(values))? as u64)
    }

    async fn for_each_row(&mut self, sql: &str, values: &[Value], each: &mut EachRow<'_>) -> Result<(), StoreError> {
        let mut statement = prepare(self.connection, sql)?;
        let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows = statement.query(params_from_iter(values))?;
        while let Some(row) = rows.next()? {
            each(&NamedRow { row, names: &names })?;
        }
        Ok(())
    }
}

/// Runs an operation on `connection`, on the calling thread. SQLite calls never wait, so
/// the operation finishes on its first poll.
fn run_here<T>(
    connection: &mut Connection,
    work: impl for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T>,
) -> Result<T, StoreError> {
    let mut tx = SqliteTx { connection };
    let mut future = work(&mut tx);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Corrupt("a SQLite operation waited".into())),
    }
}

impl Backend for Sqlite {
    async fn write<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static,
    {
        self.writer.write(move |connection| run_here(connection, work)).await
    }

    async fn write_statement<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static,
    {
        self.writer.write_statement(move |connection| run_here(connection, work)).await
    }

    async fn read<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'t> FnOnce(&'t mut dyn Tx) -> Work<'t, T> + Send + 'static,
    {
        self.readers.read(move |connection| run_here(connection, work)).await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.writer.write(|connection| migrate(connection)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }
}

fn migrate(connection: &Connection) -> Result<(), StoreError> {
    connection.execute_batch(CREATE_VERSIONS_TABLE)?;
    for migration in MIGRATIONS {
        let applied: Option<i64> = connection
            .query_row("SELECT version FROM schema_migrations WHERE version = ?1", [migration.version], |r| r.get(0))
            .optional()?;
        if applied.is_none() {
            connection.execute_batch(migration.sql)?;
            connection.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                [migration.version, chrono_now_millis()],
            )?;
        }
    }
    Ok(())
}

fn chrono_now_millis() -> i64 {
    use gatepost_core::time::Clock as _;
    gatepost_core::time::SystemClock.now().millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::BACKLOG;

    async fn fresh_store(dir: &tempfile::TempDir) -> (Sqlite, PathBuf) {
        let path = dir.path().join("gatepost.db");
        let store = Sqlite::open(path.to_str().unwrap()).unwrap();
        store.migrate().await.unwrap();
        (store, path)
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (store, path) = fresh_store(&dir).await;
        store.ping().await.unwrap();
        for file in [path.clone(), PathBuf::from(format!("{}-wal", path.display()))] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }

    #[tokio::test]
    async fn columns_are_read_by_their_exact_names() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = fresh_store(&dir).await;
        let read = |column: &'static str| {
            store.read(move |tx| {
                Box::pin(async move { tx.query_one("SELECT 1 AS one, 'x' AS two", &[], |row| row.text(column)).await })
            })
        };
        assert_eq!(read("two").await.unwrap(), Some("x".to_owned()));
        assert!(read("TWO").await.is_err());
        assert!(read("three").await.is_err());
    }

    #[tokio::test]
    async fn the_backlog_is_counted_from_the_pending_index_without_reading_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = fresh_store(&dir).await;
        let plan = store
            .readers
            .read(|c| {
                let mut statement = c.prepare(&format!("EXPLAIN QUERY PLAN {BACKLOG}"))?;
                let rows = statement.query_map([], |row| row.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
            })
            .await
            .unwrap();
        assert!(plan.contains("COVERING INDEX events_pending"), "{plan}");
    }

    #[tokio::test]
    async fn an_event_this_build_cannot_read_holds_back_no_other() {
        use crate::database::Database;
        use crate::{ClaimScope, NewMerchant, Store as _};
        use gatepost_core::ids::MerchantId;
        use gatepost_core::money::{Amount, Currency};
        use gatepost_core::payment::{AckMode, Merchant, NewPayment, Payment};
        use gatepost_core::signing::WebhookSecret;
        use gatepost_core::status::PaymentEvent;
        use gatepost_core::time::{Clock as _, SystemClock};
        use gatepost_core::urls::WebhookUrl;

        let dir = tempfile::tempdir().unwrap();
        let store = Database::new(Sqlite::open(dir.path().join("g.db").to_str().unwrap()).unwrap());
        store.migrate().await.unwrap();
        let now = SystemClock.now();
        let merchant = Merchant {
            id: MerchantId::generate(),
            name: "Shop".into(),
            default_webhook_url: Some(WebhookUrl::from_trusted("https://hooks.example/".into())),
            webhook_ack_mode: AckMode::Status,
            allowed_return_hosts: Vec::new(),
            connector: "sandbox".into(),
            created_at: now,
        };
        let new = NewMerchant {
            merchant: merchant.clone(),
            api_key_hash: "h".into(),
            api_key: gatepost_core::payment::ApiKeyRecord::of(
                &gatepost_core::payment::ApiKey::generate(false),
                &merchant.id,
                None,
                now,
            ),
            webhook_secret: WebhookSecret::generate(),
        };
        store.create_merchant(new).await.unwrap();
        let mut cancelled = Vec::new();
        for _ in 0..2 {
            let new = NewPayment::of(Amount::new(1050, Currency::parse("EUR").unwrap()).unwrap());
            let payment = Payment::open(new, &merchant.id, "http://gw", false, now);
            store.create_payment(&payment).await.unwrap();
            store.apply(None, &payment.id, PaymentEvent::Cancel, now).await.unwrap();
            cancelled.push(payment.id);
        }
        // The first payment's event, as a newer version might have written it.
        let first = cancelled[0].as_str().to_owned();
        store
            .backend()
            .write(move |tx| {
                Box::pin(async move {
                    tx.execute("UPDATE events SET type = 'payment.disputed' WHERE payment_id = $1", &[first.into()])
                        .await
                })
            })
            .await
            .unwrap();
        let claimed = store.claim_due_events(now, now.plus_seconds(60), 10, ClaimScope::AllBut(&[])).await.unwrap();
        let claimed: Vec<_> = claimed.iter().map(|due| due.event.payment_id.clone().unwrap()).collect();
        assert_eq!(claimed, [cancelled[1].clone()], "the readable event is claimed, the other is left leased");
    }
}
