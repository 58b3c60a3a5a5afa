//! The one SQLite writer: a thread that commits jobs in batches.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync. Instead of
//! paying that per request, the writer takes every job that is waiting, runs each in
//! its own savepoint (so one failing job does not undo the others), commits them all
//! with one fsync, and only then answers each caller. Nothing is acknowledged before it
//! is on disk (batch commits, never skip them: docs/reference/performance.md#targets).

use crate::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use std::sync::mpsc;

/// Called once the batch holding the job has committed, or failed to.
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs inside the batch transaction; says whether to keep its changes.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

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
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = work(connection);
            let keep = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                // The caller may have gone away (client disconnected); the work stands.
                let _ = answer.send(committed.and(result));
            });
            (keep, reply)
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)?;
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

fn commit_batch(connection: &mut Connection, batch: Vec<Job>) -> Result<(), StoreError> {
    let mut transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        let savepoint = transaction.savepoint()?;
        let (keep, reply) = job(&savepoint);
        if keep {
            savepoint.commit()?;
        } // else: dropping the savepoint rolls it back.
        replies.push(reply);
    }
    transaction.commit()?;
    for reply in replies {
        reply(Ok(()));
    }
    Ok(())
}
