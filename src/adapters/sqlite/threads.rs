//! The threads that own the store's SQLite connections: one writer, and readers beside it.
//!
//! A `rusqlite` connection runs each statement on the calling thread and blocks it. So each
//! connection lives on a thread of its own, and the store's async methods send it work as a
//! closure and await the answer: one hand-over there and one back per read or commit,
//! whatever the number of statements, which run with no thread switch between them.
//! Commits queue on the one writer (SQLite has one write lock per database; queuing in the
//! process beats polling the lock), and the commits queued together share one transaction
//! ([`group_commit`](super::group_commit)); reads share the readers' queue (WAL lets them
//! run beside the writer).

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::adapters::sqlite::group_commit::{
    ClosureWrite, MOST_WRITES_PER_TRANSACTION, SharedWrite, commit_together,
};
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

/// What a connection's queue carries.
pub(crate) enum Work {
    /// Work run by itself.
    Job(Job),
    /// A write the writer may commit in one transaction with the writes queued behind it
    /// (see [`group_commit`](super::group_commit)).
    Write(Box<dyn SharedWrite>),
}

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
    // Plans never depend on the values bound. Without this, SQLite re-prepares a cached
    // statement joining tables under `column = ?` each time that parameter changes (the
    // email lookup of every booking was compiled again each time); the store runs no
    // `ANALYZE`, so no plan could gain from the values.
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    connection.execute_batch("PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")?;
    // Statement journals (a multi-row statement's undo within its transaction) in memory,
    // not in temporary files.
    connection.execute_batch("PRAGMA temp_store = MEMORY;")?;
    if !reader {
        // A batch of a thousand bookings touches a few thousand pages: with SQLite's default
        // cache of 2 MB the writer spills them to the WAL mid-transaction and reads them back.
        connection.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB};"))?;
        connection.execute_batch(&format!("PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES};"))?;
    }
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

/// The writer's page cache, in KiB: room for the pages of the largest batch commits.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

/// WAL pages after which a checkpoint starts (SQLite's default is 1,000): a batch commit
/// writes a few thousand, and a checkpoint after each (copying them into the database
/// file and syncing it) took a fifth of a batch's time. On a file the readers run it
/// ([`checkpoint_on_readers`]).
pub(crate) const CHECKPOINT_PAGES: u32 = 16_384;

/// Where the checkpoint handed to a reader stands.
const CHECKPOINT_IDLE: u8 = 0;
const CHECKPOINT_COPYING: u8 = 1;
const CHECKPOINT_COPIED: u8 = 2;

/// Hands most of the writer's checkpoint work to the readers (SQLite's own checkpoint runs
/// inside the commit that crosses its threshold, and a batch commit waited for it).
///
/// After a commit that leaves `threshold` pages or more in the WAL, a reader copies them
/// into the database file, a passive checkpoint, which never blocks the writer, while the
/// writer goes on committing. At the writer's first commit after that, the writer
/// checkpoints what was committed meanwhile (a few pages), so that the WAL is wholly copied
/// and the next transaction starts it over from its beginning: SQLite restarts a WAL only
/// then, and one that a reader checkpoints while the writer appends would otherwise grow
/// for as long as the writing goes on. Past four times `threshold` the writer checkpoints
/// itself in its commit, as SQLite would: that bounds the WAL when the readers are slow.
pub(crate) fn checkpoint_on_readers(
    writer: &mut Connection,
    readers: flume::Sender<Work>,
    threshold: u32,
) -> Result<(), rusqlite::Error> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU8, Ordering};
    let threshold = i32::try_from(threshold).unwrap_or(i32::MAX);
    let bound = threshold.saturating_mul(4);
    let state = Arc::new(AtomicU8::new(CHECKPOINT_IDLE));
    writer.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
        // A checkpoint's error is not the commit's (it has happened): it is left to a
        // later commit's checkpoint.
        if pages >= bound {
            let _ = wal.checkpoint();
            return Ok(());
        }
        match state.load(Ordering::Acquire) {
            CHECKPOINT_COPIED => {
                let _ = wal.checkpoint();
                state.store(CHECKPOINT_IDLE, Ordering::Release);
            }
            CHECKPOINT_IDLE if pages >= threshold => {
                state.store(CHECKPOINT_COPYING, Ordering::Release);
                let copied = Arc::clone(&state);
                let job: Job = Box::new(move |connection: &mut Connection| {
                    let _ = connection.wal_checkpoint_v2(
                        rusqlite::MAIN_DB.into(),
                        rusqlite::wal::CheckpointMode::PASSIVE,
                    );
                    copied.store(CHECKPOINT_COPIED, Ordering::Release);
                    Next::Continue
                });
                if readers.send(Work::Job(job)).is_err() {
                    state.store(CHECKPOINT_IDLE, Ordering::Release);
                }
            }
            _ => {}
        }
        Ok(())
    }))
}

/// Starts a thread owning `connection` that runs the work it receives, in order, until a
/// job says stop or every sender is gone; then it closes the connection and reports on
/// `closed`. Writes queued one behind another are committed together.
pub(crate) fn spawn(
    name: String,
    mut connection: Connection,
    queue: flume::Receiver<Work>,
    closed: flume::Sender<()>,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            // Work taken from the queue while gathering writes, to run after them.
            let mut held = None;
            while let Some(work) = held.take().or_else(|| queue.recv().ok()) {
                match work {
                    Work::Job(job) => {
                        if let Next::Stop = run_job(&mut connection, job) {
                            break;
                        }
                    }
                    Work::Write(first) => {
                        let mut writes = vec![first];
                        while writes.len() < MOST_WRITES_PER_TRANSACTION {
                            match queue.try_recv() {
                                Ok(Work::Write(next)) => writes.push(next),
                                Ok(other) => {
                                    held = Some(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        commit_together(&mut connection, writes);
                    }
                }
            }
            // Closing the last connection to a file checkpoints the WAL and deletes it.
            drop(connection);
            let _ = closed.send(());
        })
        .map(|_| ())
        .map_err(|error| StoreError::backend("starting a SQLite connection's thread", error))
}

/// Runs one job. A job that panics (a bug) fails its own caller, whose answer is dropped,
/// not the store: a transaction it left open is rolled back and the thread goes on.
fn run_job(connection: &mut Connection, job: Job) -> Next {
    match std::panic::catch_unwind(AssertUnwindSafe(|| job(connection))) {
        Ok(next) => next,
        Err(_) => {
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            Next::Continue
        }
    }
}

/// The queues to the store's connection threads, shared by the store's clones.
#[derive(Debug)]
pub(crate) struct Connections {
    /// The queues while the store is open; [`close`](Self::close) takes them out, so no
    /// work is sent after the threads were told to stop (it would wait for an answer that
    /// never comes).
    open: RwLock<Option<Queues>>,
}

/// The queues of an open store.
#[derive(Debug)]
pub(crate) struct Queues {
    /// The writer: commits, migrations, WAL truncation and the host's own work.
    pub(crate) writer: flume::Sender<Work>,
    /// The readers' shared queue; `None` for an in-memory database, whose one connection
    /// is the writer.
    pub(crate) readers: Option<flume::Sender<Work>>,
    /// How many reader threads take from `readers`.
    pub(crate) reader_count: usize,
    /// Each thread reports here once it has closed its connection.
    pub(crate) closed: flume::Receiver<()>,
}

impl Connections {
    /// The store's connections, behind `queues`.
    pub(crate) fn new(queues: Queues) -> Self {
        Self {
            open: RwLock::new(Some(queues)),
        }
    }

    /// Runs `work` on the writer's connection and answers what it returned.
    pub(crate) async fn on_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(|queues| &queues.writer, work).await
    }

    /// Runs `work` on a reader's connection (the writer's for an in-memory database).
    pub(crate) async fn on_reader<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(
            |queues| queues.readers.as_ref().unwrap_or(&queues.writer),
            work,
        )
        .await
    }

    /// Runs `work` on the writer's connection inside a transaction it may share with the
    /// writes queued beside it, and answers what it returned: `keep` says from that whether
    /// the work is kept or rolled back to its savepoint, and a transaction that ends
    /// without committing answers `ended` of its error instead (see
    /// [`group_commit`](super::group_commit)).
    pub(crate) async fn write_shared<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
        keep: fn(&T) -> bool,
        ended: fn(StoreError) -> T,
    ) -> Result<T, StoreError> {
        let (answer, answered) = flume::bounded(1);
        let write = ClosureWrite::new(work, keep, ended, answer);
        self.send(|queues| &queues.writer, Work::Write(Box::new(write)))?;
        Self::answer(answered).await
    }

    /// Sends `work` to the queue `pick` chooses and awaits the answer.
    async fn run<T: Send + 'static>(
        &self,
        pick: impl FnOnce(&Queues) -> &flume::Sender<Work>,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = flume::bounded(1);
        let job: Job = Box::new(move |connection: &mut Connection| {
            // The caller may have stopped waiting; the work is done either way.
            let _ = answer.send(work(connection));
            Next::Continue
        });
        self.send(pick, Work::Job(job))?;
        Self::answer(answered).await
    }

    /// Queues `work` on the queue `pick` chooses, unless the store is closed.
    fn send(
        &self,
        pick: impl FnOnce(&Queues) -> &flume::Sender<Work>,
        work: Work,
    ) -> Result<(), StoreError> {
        // Held while sending only: `close` waits for it, so every job sent is queued
        // before the threads' stop.
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        match open.as_ref().map(|queues| pick(queues).send(work)) {
            Some(Ok(())) => Ok(()),
            _ => Err(StoreError::backend(
                "using the SQLite store",
                "the store is closed",
            )),
        }
    }

    /// The answer to work sent, once the thread gives it.
    async fn answer<T>(answered: flume::Receiver<T>) -> Result<T, StoreError> {
        answered.recv_async().await.map_err(|_| {
            StoreError::backend(
                "using the SQLite store",
                "the connection's thread gave no answer: its work panicked",
            )
        })
    }

    /// Stops every thread and waits until each has closed its connection: the readers
    /// first, so that the writer's connection is the last to the file. Work sent before
    /// is done first; work sent after fails.
    pub(crate) async fn close(&self) {
        let taken = self
            .open
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(queues) = taken else {
            return;
        };
        let stop = || Work::Job(Box::new(|_: &mut Connection| Next::Stop));
        let mut running = 0;
        if let Some(readers) = &queues.readers {
            for _ in 0..queues.reader_count {
                if readers.send(stop()).is_ok() {
                    running += 1;
                }
            }
        }
        for _ in 0..running {
            let _ = queues.closed.recv_async().await;
        }
        if queues.writer.send(stop()).is_ok() {
            let _ = queues.closed.recv_async().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Location, open};

    /// Every connection the store opens on a file, writer and readers, overwrites deleted
    /// content, waits for locks, checks foreign keys and syncs as asked; readers cannot write.
    #[test]
    fn every_connection_to_a_file_has_the_stores_settings() {
        let path = std::env::temp_dir().join(format!(
            "customer-directory-settings-{}.db",
            crate::values::ids::CustomerId::new()
        ));
        let location = Location::File(path.clone());
        let writer = open(&location, "FULL", false).unwrap();
        let readers: Vec<_> = (0..2)
            .map(|_| open(&location, "FULL", true).unwrap())
            .collect();
        for (n, connection) in std::iter::once(&writer).chain(&readers).enumerate() {
            let pragma = |name: &str| -> i64 {
                connection
                    .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
                    .unwrap()
            };
            assert_eq!(pragma("secure_delete"), 1, "connection {n}");
            assert_eq!(pragma("foreign_keys"), 1, "connection {n}");
            assert_eq!(pragma("synchronous"), 2, "connection {n}");
            assert_eq!(pragma("busy_timeout"), 10_000, "connection {n}");
            assert_eq!(pragma("query_only"), i64::from(n > 0), "connection {n}");
            assert!(
                connection
                    .db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
                    .unwrap(),
                "connection {n}: plans independent of bound values"
            );
        }
        let mode: String = writer
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert!(readers[0].execute_batch("CREATE TABLE t (x)").is_err());
        drop((writer, readers));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// A cached statement joining two tables under `column = ?` runs again with new values
    /// without being compiled again: SQLite re-prepares such a statement at each new value
    /// unless plans are kept independent of bound values, and the email lookup of every
    /// booking is one.
    #[test]
    fn a_cached_join_is_not_prepared_again_for_new_values() {
        let connection = open(&Location::Memory, "NORMAL", true).unwrap();
        connection
            .execute_batch(
                "PRAGMA query_only = OFF; \
                 CREATE TABLE holders (id TEXT PRIMARY KEY, record TEXT NOT NULL); \
                 CREATE TABLE keys (key TEXT PRIMARY KEY, holder TEXT NOT NULL REFERENCES holders (id)); \
                 INSERT INTO holders VALUES ('h1', 'one'), ('h2', 'two'); \
                 INSERT INTO keys VALUES ('a', 'h1'), ('b', 'h2');",
            )
            .unwrap();
        let sql = "SELECT h.record FROM keys k JOIN holders h ON h.id = k.holder WHERE k.key = ?1";
        let mut found = Vec::new();
        for key in ["a", "b", "c", "a"] {
            let mut statement = connection.prepare_cached(sql).unwrap();
            let record: Option<String> = statement
                .query_row([key], |row| row.get(0))
                .map(Some)
                .or_else(|error| match error {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    other => Err(other),
                })
                .unwrap();
            found.push(record);
            assert_eq!(
                statement.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "prepared again for {key:?}"
            );
        }
        assert_eq!(
            found,
            [
                Some("one".into()),
                Some("two".into()),
                None,
                Some("one".into())
            ]
        );
    }

    /// Work that panics fails its caller with an error and leaves the thread running, its
    /// transaction rolled back: the next caller finds the connection as it was.
    #[test]
    fn a_panicking_job_fails_its_caller_and_the_connection_goes_on() {
        let (jobs_tx, jobs) = flume::unbounded();
        let (closed_tx, closed) = flume::unbounded();
        let connection = open(&Location::Memory, "NORMAL", false).unwrap();
        super::spawn("test".into(), connection, jobs, closed_tx).unwrap();
        let connections = super::Connections::new(super::Queues {
            writer: jobs_tx,
            readers: None,
            reader_count: 0,
            closed,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            connections
                .on_writer(|c| c.execute_batch("CREATE TABLE t (x INTEGER)"))
                .await
                .unwrap()
                .unwrap();
            let failed = connections
                .on_writer(|c| {
                    c.execute_batch("BEGIN; INSERT INTO t VALUES (1);").unwrap();
                    panic!("a bug in the work");
                })
                .await;
            let error = failed.expect_err("the caller learns of it");
            assert!(error.to_string().contains("storage failed"), "{error}");
            let rows: i64 = connections
                .on_writer(|c| c.query_row("SELECT count(*) FROM t", [], |row| row.get(0)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(rows, 0, "the half-done transaction was rolled back");
            connections.close().await;
            assert!(connections.on_writer(|_| ()).await.is_err(), "closed");
        });
    }

    /// Work sent while the store closes either runs (it was queued before the stop) or
    /// fails at once; no caller waits for an answer that never comes.
    #[test]
    fn work_racing_a_close_is_done_or_refused_never_left_waiting() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        for _ in 0..20 {
            let (jobs_tx, jobs) = flume::unbounded();
            let (closed_tx, closed) = flume::unbounded();
            let connection = open(&Location::Memory, "NORMAL", false).unwrap();
            super::spawn("test".into(), connection, jobs, closed_tx).unwrap();
            let connections = std::sync::Arc::new(super::Connections::new(super::Queues {
                writer: jobs_tx,
                readers: None,
                reader_count: 0,
                closed,
            }));
            runtime.block_on(async {
                let callers: Vec<_> = (0..16)
                    .map(|n| {
                        let connections = connections.clone();
                        tokio::spawn(async move { connections.on_writer(move |_| n).await })
                    })
                    .collect();
                connections.close().await;
                for caller in callers {
                    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), caller)
                        .await
                        .expect("every caller is answered")
                        .unwrap();
                    if let Err(error) = answer {
                        assert!(
                            format!("{error:?}").contains("the store is closed"),
                            "{error:?}"
                        );
                    }
                }
            });
        }
    }

    /// A file with the writer's checkpoints handed to a test's own reader connection, which
    /// runs the jobs only when the test says; `threshold` pages start a checkpoint.
    struct HandedCheckpoints {
        path: std::path::PathBuf,
        writer: rusqlite::Connection,
        reader: rusqlite::Connection,
        jobs: flume::Receiver<super::Work>,
    }

    impl HandedCheckpoints {
        fn new(threshold: u32) -> Self {
            let path = std::env::temp_dir().join(format!(
                "customer-directory-checkpoints-{}.db",
                crate::values::ids::CustomerId::new()
            ));
            let location = Location::File(path.clone());
            let mut writer = open(&location, "NORMAL", false).unwrap();
            let (readers, jobs) = flume::unbounded();
            super::checkpoint_on_readers(&mut writer, readers, threshold).unwrap();
            writer
                .execute_batch("CREATE TABLE t (v BLOB NOT NULL)")
                .unwrap();
            let reader = open(&location, "NORMAL", true).unwrap();
            Self {
                path,
                writer,
                reader,
                jobs,
            }
        }

        /// One commit of a row that fills a page of its own.
        fn commit(&self) {
            self.writer
                .execute("INSERT INTO t (v) VALUES (zeroblob(3000))", [])
                .unwrap();
        }

        /// The frames in the WAL, as a passive checkpoint on the reader reports them.
        fn wal_frames(&self) -> i64 {
            self.reader
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
                .unwrap()
        }

        fn wal_bytes(&self) -> u64 {
            let mut wal = self.path.clone().into_os_string();
            wal.push("-wal");
            std::fs::metadata(wal).map_or(0, |meta| meta.len())
        }
    }

    impl Drop for HandedCheckpoints {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = self.path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
    }

    /// The checkpoint a commit past the threshold starts runs on a reader, one at a time;
    /// the writer then copies what it committed meanwhile, and its next transaction starts
    /// the WAL over.
    #[test]
    fn a_reader_checkpoints_and_the_writer_then_restarts_the_wal() {
        let mut files = HandedCheckpoints::new(64);
        let mut commits = 0;
        while files.jobs.is_empty() {
            files.commit();
            commits += 1;
            assert!(commits < 200, "no checkpoint was handed to the readers");
        }
        // While the reader's checkpoint is pending, no second one is handed over, and the
        // writer does not checkpoint: the WAL holds every frame since it started.
        for _ in 0..10 {
            files.commit();
        }
        assert_eq!(files.jobs.len(), 1);
        // The reader (`query_only`, as the store's are) copies the pages into the file.
        let Ok(super::Work::Job(job)) = files.jobs.try_recv() else {
            panic!("the checkpoint is a job");
        };
        let file_bytes = || std::fs::metadata(&files.path).unwrap().len();
        let copied_before = file_bytes();
        assert!(matches!(job(&mut files.reader), super::Next::Continue));
        assert!(
            file_bytes() >= copied_before + 16 * 4_096,
            "the reader copied nothing: {} bytes, {copied_before} before",
            file_bytes()
        );
        let before = files.wal_frames();
        assert!(before >= 64, "{before} frames");
        // The first commit after the reader's copy copies the rest; the one after starts
        // the WAL over, so it holds that commit's frames alone.
        files.commit();
        files.commit();
        let after = files.wal_frames();
        assert!(
            after < 8,
            "{after} frames after the restart, {before} before"
        );
        assert!(files.jobs.is_empty());
    }

    /// When the readers do not get to a checkpoint, the writer checkpoints itself once the
    /// WAL holds four times the threshold, so the WAL stays bounded.
    #[test]
    fn the_wal_stays_bounded_when_the_readers_fall_behind() {
        let threshold = 64;
        let files = HandedCheckpoints::new(threshold);
        for _ in 0..2_000 {
            files.commit();
        }
        assert_eq!(files.jobs.len(), 1, "one checkpoint handed over, never run");
        // Header, then frames of a 24-byte header and a page each; a commit writes a few.
        let page: u32 = files
            .writer
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap();
        let page = u64::from(page);
        let bound = 32 + (4 * u64::from(threshold) + 8) * (24 + page);
        let bytes = files.wal_bytes();
        assert!(bytes <= bound, "WAL of {bytes} bytes, bound {bound}");
        assert!(files.wal_frames() < 4 * i64::from(threshold));
    }
}
