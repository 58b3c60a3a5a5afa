//! The one SQLite writer: a thread that commits jobs in batches.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync. Instead of
//! paying that per request, the writer takes every job that is waiting, runs each in
//! its own savepoint (so one failing job does not undo the others; a job of one statement
//! needs none, since SQLite undoes a failing statement by itself), commits them all
//! with one fsync, and only then answers each caller. Nothing is acknowledged before it
//! is on disk (batch commits, never skip them: docs/reference/performance.md#targets).

use crate::StoreError;
use rusqlite::Connection;
use std::sync::mpsc;

/// Called once the batch holding the job has committed, or failed to.
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs inside the batch transaction; says whether to keep its changes.
type Work = Box<dyn FnOnce(&mut Connection) -> (bool, Reply) + Send>;

/// A write waiting for the writer.
struct Job {
    work: Work,
    /// Whether it runs in a savepoint of its own, to be undone alone if it fails.
    savepoint: bool,
}

/// Enough to amortize the fsync, small enough to keep the first caller's wait short.
const MAX_BATCH: usize = 512;

#[derive(Debug, Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn start(connection: Connection) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new().name("gatepost-sqlite-writer".into()).spawn(move || run(connection, &queue))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in a write transaction and returns its result once it is durable.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.submit(work, true).await
    }

    /// As [`Writer::write`], for `work` that runs one statement as its last step: it needs
    /// no savepoint of its own.
    pub(crate) async fn write_statement<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.submit(work, false).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        savepoint: bool,
    ) -> Result<T, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let work: Work = Box::new(move |connection| {
            let result = work(connection);
            let keep = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                // The caller may have gone away (client disconnected); the work stands.
                let _ = answer.send(committed.and(result));
            });
            (keep, reply)
        });
        self.jobs.send(Job { work, savepoint }).map_err(|_| StoreError::WriterGone)?;
        answered.await.map_err(|_| StoreError::NotCommitted)?
    }
}

fn run(mut connection: Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
        if let Err(error) = commit_batch(&mut connection, batch) {
            // Dropping the jobs' replies tells each caller its write was not committed.
            tracing::error!(%error, "sqlite batch did not commit");
        }
    }
}

/// Runs the batch in one transaction, each job in its own savepoint. The statements are
/// issued by hand rather than through rusqlite's `Transaction`, so that each job gets the
/// connection itself (`&mut`), which its operation can carry as `Send`.
fn commit_batch(connection: &mut Connection, batch: Vec<Job>) -> Result<(), StoreError> {
    if !connection.is_autocommit() {
        // An earlier batch's ROLLBACK failed and left its transaction open: end it, or
        // every later BEGIN would fail.
        statement(connection, "ROLLBACK")?;
    }
    statement(connection, "BEGIN IMMEDIATE")?;
    let replies =
        match run_jobs(connection, batch).and_then(|replies| statement(connection, "COMMIT").map(|()| replies)) {
            Ok(replies) => replies,
            Err(error) => {
                // A failed COMMIT may have rolled back already; a second ROLLBACK then fails
                // harmlessly.
                let _ = statement(connection, "ROLLBACK");
                return Err(error);
            }
        };
    for reply in replies {
        reply(Ok(()));
    }
    Ok(())
}

fn run_jobs(connection: &mut Connection, batch: Vec<Job>) -> Result<Vec<Reply>, StoreError> {
    let mut replies = Vec::with_capacity(batch.len());
    for Job { work, savepoint } in batch {
        if savepoint {
            statement(connection, "SAVEPOINT job")?;
        }
        let (keep, reply) = work(connection);
        replies.push(reply);
        if savepoint {
            if !keep {
                statement(connection, "ROLLBACK TO job")?;
            }
            statement(connection, "RELEASE job")?;
        }
    }
    Ok(replies)
}

fn statement(connection: &Connection, sql: &str) -> Result<(), StoreError> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}
