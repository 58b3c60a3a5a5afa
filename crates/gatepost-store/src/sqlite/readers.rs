//! A small pool of read-only SQLite connections. WAL mode lets them read while the
//! writer commits; each query runs on Tokio's blocking threads.

use crate::StoreError;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Enough to keep both cores busy with reads while others wait for the disk.
const MAX_READERS: usize = 8;

#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self { path, idle: Mutex::new(Vec::new()), permits: Semaphore::new(MAX_READERS) })
    }

    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _permit = self.permits.acquire().await.map_err(|_| StoreError::WriterGone)?;
        let idle = self.idle.lock().expect("reader pool lock").pop();
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut connection = match idle {
                Some(connection) => connection,
                None => super::open_connection(&readers.path, true)?,
            };
            let result = work(&mut connection);
            readers.idle.lock().expect("reader pool lock").push(connection);
            result
        })
        .await
        .map_err(|_| StoreError::WriterGone)?
    }
}
