//! The threads that own the store's SQLite connections: one writer, and readers beside it.
//!
//! A `rusqlite` connection runs each statement on the calling thread and blocks it. So each
//! connection lives on a thread of its own, and the store's async methods send it work as a
//! closure and await the answer: one hand-over there and one back per read or commit,
//! whatever the number of statements, which run with no thread switch between them.
//! Commits queue on the one writer (SQLite has one write lock per database; queuing in the
//! process beats polling the lock), reads share the readers' queue (WAL lets them run beside
//! the writer).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::ports::store::StoreError;

/// What a connection's thread does next.
pub(crate) enum Next {
    /// Wait for the next job.
    Continue,
    /// Close the connection and end.
    Stop,
}

/// Work for a connection's thread.
pub(crate) type Job = Box<dyn FnOnce(&mut Connection) -> Next + Send>;

/// How long a connection waits for another process's lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many statements each connection keeps prepared: every statement the store runs,
/// the dynamic ones (lists of parameters) in their common sizes.
const CACHED_STATEMENTS: usize = 256;

/// Where the database lives.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// A file, in WAL mode, read through several connections.
    File(PathBuf),
    /// A private in-memory database: it lives as long as its one connection, which reads
    /// and writes.
    Memory,
}

/// Opens a connection with the store's settings: foreign keys on, the busy timeout,
/// `secure_delete` (deleted and overwritten values are zeroed rather than left in free
/// space) and, on a file, WAL mode with `synchronous` as asked.
pub(crate) fn open(
    location: &Location,
    synchronous: &str,
    reader: bool,
) -> Result<Connection, rusqlite::Error> {
    let connection = match location {
        Location::File(path) => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?,
        Location::Memory => Connection::open_in_memory()?,
    };
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    connection.execute_batch("PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")?;
    if let Location::File(_) = location {
        if !reader {
            // Journal mode is a property of the file: the writer sets it first.
            let _: String =
                connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        }
        connection.execute_batch(&format!("PRAGMA synchronous = {synchronous};"))?;
    }
    if reader {
        connection.execute_batch("PRAGMA query_only = ON;")?;
    }
    Ok(connection)
}

/// Starts a thread owning `connection` that runs the jobs it receives, in order, until a
/// job says stop or every sender is gone; then it closes the connection and reports on
/// `closed`.
pub(crate) fn spawn(
    name: String,
    mut connection: Connection,
    jobs: flume::Receiver<Job>,
    closed: flume::Sender<()>,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            while let Ok(job) = jobs.recv() {
                if let Next::Stop = job(&mut connection) {
                    break;
                }
            }
            // Closing the last connection to a file checkpoints the WAL and deletes it.
            drop(connection);
            let _ = closed.send(());
        })
        .map(|_| ())
        .map_err(|error| StoreError::backend("starting a SQLite connection's thread", error))
}

/// The queues to the store's connection threads, shared by the store's clones.
#[derive(Debug)]
pub(crate) struct Connections {
    /// The writer: commits, migrations, WAL truncation and the host's own work.
    pub(crate) writer: flume::Sender<Job>,
    /// The readers' shared queue; `None` for an in-memory database, whose one connection
    /// is the writer.
    pub(crate) readers: Option<flume::Sender<Job>>,
    /// How many reader threads take from `readers`.
    pub(crate) reader_count: usize,
    /// Each thread reports here once it has closed its connection.
    pub(crate) closed: Mutex<Option<flume::Receiver<()>>>,
}

impl Connections {
    /// Runs `work` on the writer's connection and answers what it returned.
    pub(crate) async fn on_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        run_on(&self.writer, work).await
    }

    /// Runs `work` on a reader's connection (the writer's for an in-memory database).
    pub(crate) async fn on_reader<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        run_on(self.readers.as_ref().unwrap_or(&self.writer), work).await
    }

    /// Stops every thread and waits until each has closed its connection: the readers
    /// first, so that the writer's connection is the last to the file.
    pub(crate) async fn close(&self) {
        let Some(closed) = self.closed.lock().ok().and_then(|mut closed| closed.take()) else {
            return;
        };
        let mut running = 0;
        if let Some(readers) = &self.readers {
            for _ in 0..self.reader_count {
                if readers
                    .send(Box::new(|_: &mut Connection| Next::Stop))
                    .is_ok()
                {
                    running += 1;
                }
            }
        }
        for _ in 0..running {
            let _ = closed.recv_async().await;
        }
        if self
            .writer
            .send(Box::new(|_: &mut Connection| Next::Stop))
            .is_ok()
        {
            let _ = closed.recv_async().await;
        }
    }
}

/// Sends `work` to the thread behind `queue` and awaits its answer.
async fn run_on<T: Send + 'static>(
    queue: &flume::Sender<Job>,
    work: impl FnOnce(&mut Connection) -> T + Send + 'static,
) -> Result<T, StoreError> {
    let (answer, answered) = flume::bounded(1);
    let job: Job = Box::new(move |connection: &mut Connection| {
        // The caller may have stopped waiting; the work is done either way.
        let _ = answer.send(work(connection));
        Next::Continue
    });
    let closed = || StoreError::backend("using the SQLite store", "the store is closed");
    queue.send(job).map_err(|_| closed())?;
    answered.recv_async().await.map_err(|_| closed())
}
