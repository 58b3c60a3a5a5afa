//! Moves WAL checkpoints off the writer: SQLite's automatic checkpoint runs inside the
//! commit that crosses the threshold, so that request would wait for a copy of the whole
//! WAL into the database. A thread of its own checkpoints passively instead, beside the
//! writer, and the writer's automatic checkpoint stays only as a backstop.

use super::open_connection;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// How often the WAL is copied back into the database.
const INTERVAL: Duration = Duration::from_millis(250);
/// The writer checkpoints by itself only if the WAL grows past this many pages (~80 MB),
/// which happens only when the checkpointer cannot keep up.
pub(super) const BACKSTOP_PAGES: u32 = 20_000;

/// Stops the checkpointer when dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    pub(super) fn start(path: PathBuf) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new().name("gatepost-sqlite-checkpointer".into()).spawn(move || {
            let Ok(connection) = open_connection(&path, false) else { return };
            // Runs until the store, which holds the sender, is gone.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(%error, "WAL checkpoint failed");
                }
            }
        })?;
        Ok(Self { _stop: stop })
    }
}
