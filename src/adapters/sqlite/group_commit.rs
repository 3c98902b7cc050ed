//! Group commit: the writes queued on the writer when it takes one share its transaction.
//!
//! A SQLite commit costs the same fixed work however little it writes: the write lock, the
//! WAL frames of the pages it shares with other commits (a B-tree's root and inner pages,
//! the statistics' hot leaves), the WAL index, the sync under `FULL`. When several tasks
//! commit at once, their writes wait on the one writer anyway; taking all the waiting ones
//! into one transaction pays that work once, so commits scale with the tasks committing
//! instead of queuing one transaction each.
//!
//! Each write runs under a savepoint of its own, so one that fails (a version conflict, a
//! constraint) is rolled back alone and answers its own error, while the others commit. No
//! write is answered before the transaction's end: a caller told "committed" finds its write
//! durable, and a caller told "conflict" reads, when it retries, every write committed
//! beside it. A write alone runs exactly as before, in a transaction of its own with no
//! savepoint.

use std::error::Error;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use rusqlite::Connection;

use crate::adapters::sql::session::DbError;
use crate::adapters::sqlite::session::db_error;
use crate::ports::store::StoreError;

/// The most writes one transaction takes. A bound keeps a burst of commits from holding
/// the first one's answer back behind thousands of others, and a transaction's pages in the
/// writer's cache.
pub(crate) const MOST_WRITES_PER_TRANSACTION: usize = 64;

/// A write that may share the writer's transaction with others.
pub(crate) trait SharedWrite: Send {
    /// Runs the write inside the open transaction; `true` when it is to be kept, `false`
    /// when it is to be rolled back (it failed, and its answer says why).
    fn apply(&mut self, connection: &mut Connection) -> bool;

    /// Answers the caller once the transaction has ended: `ended` is `None` when it
    /// committed, or the error that ended it without committing. A write that was not kept
    /// answers its own outcome either way; one whose work panicked answers nothing (its
    /// caller learns that the work panicked).
    fn answer(self: Box<Self>, ended: Option<&TransactionFailed>);
}

/// Why a transaction ended without committing the writes it kept.
#[derive(Debug)]
pub(crate) struct TransactionFailed {
    /// What the writer was doing.
    what: &'static str,
    /// SQLite's error, shared by every write of the transaction.
    cause: Arc<dyn Error + Send + Sync>,
    /// Why SQLite gave the transaction up because of another writer, if it did (see
    /// [`DbError`]): each write then answers a conflict its caller may retry.
    aborted: Option<String>,
}

impl TransactionFailed {
    fn new(what: &'static str, error: rusqlite::Error) -> Self {
        let DbError { source, aborted } = db_error(error);
        Self {
            what,
            cause: Arc::from(source),
            aborted,
        }
    }

    /// A failed statement ended the transaction (SQLite rolls back by itself on some I/O
    /// and memory errors): the writes kept before it went with it.
    fn ended_by_a_failed_statement() -> Self {
        Self {
            what: "committing: a failed statement ended the transaction the write shared",
            cause: Arc::new(std::io::Error::other("the transaction was rolled back")),
            aborted: None,
        }
    }

    /// The error a write of the transaction answers, mapped as every SQLite error is
    /// ([`DbError::while_`]).
    fn to_store_error(&self) -> StoreError {
        DbError {
            source: Box::new(Arc::clone(&self.cause)),
            aborted: self.aborted.clone(),
        }
        .while_(self.what)
    }
}

/// A write built from a closure: `work` runs it and returns the caller's outcome, `keep`
/// says from that outcome whether it is kept, and `ended` turns a transaction that did not
/// commit into the outcome the caller gets instead.
pub(crate) struct ClosureWrite<T, F> {
    /// The work, until it has run.
    work: Option<F>,
    /// What the work returned, once it has (`None` after a panic).
    outcome: Option<T>,
    keep: fn(&T) -> bool,
    ended: fn(StoreError) -> T,
    answer: flume::Sender<T>,
}

impl<T, F> ClosureWrite<T, F> {
    pub(crate) fn new(
        work: F,
        keep: fn(&T) -> bool,
        ended: fn(StoreError) -> T,
        answer: flume::Sender<T>,
    ) -> Self {
        Self {
            work: Some(work),
            outcome: None,
            keep,
            ended,
            answer,
        }
    }
}

impl<T: Send, F: FnOnce(&mut Connection) -> T + Send> SharedWrite for ClosureWrite<T, F> {
    fn apply(&mut self, connection: &mut Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let outcome = work(connection);
        let kept = (self.keep)(&outcome);
        self.outcome = Some(outcome);
        kept
    }

    fn answer(self: Box<Self>, ended: Option<&TransactionFailed>) {
        let outcome = match (self.work, self.outcome, ended) {
            // Never ran: the transaction failed before its turn.
            (Some(_), _, Some(failed)) => (self.ended)(failed.to_store_error()),
            (Some(_), _, None) => return,
            // Its work panicked: dropping the sender tells the caller.
            (None, None, _) => return,
            (None, Some(outcome), Some(failed)) if (self.keep)(&outcome) => {
                (self.ended)(failed.to_store_error())
            }
            (None, Some(outcome), _) => outcome,
        };
        // The caller may have stopped waiting; the transaction's fate stands either way.
        let _ = self.answer.send(outcome);
    }
}

/// Runs `writes` in one transaction and answers each: the kept ones commit together, the
/// others are rolled back to their savepoints. A transaction that fails (to start, to
/// commit, or because a failed statement ended it) keeps none of them and answers each
/// kept write with the failure.
pub(crate) fn commit_together(connection: &mut Connection, mut writes: Vec<Box<dyn SharedWrite>>) {
    let ended = run_transaction(connection, &mut writes);
    if ended.is_some() && !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    for write in writes {
        write.answer(ended.as_ref());
    }
}

/// Runs `work` as a write alone (see [`commit_together`]): in a transaction of its own,
/// committed when `keep` says so, rolled back otherwise. `None` when the work panicked.
pub(crate) fn commit_alone<T: Send + 'static>(
    connection: &mut Connection,
    work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    keep: fn(&T) -> bool,
    ended: fn(StoreError) -> T,
) -> Option<T> {
    let (answer, answered) = flume::bounded(1);
    commit_together(
        connection,
        vec![Box::new(ClosureWrite::new(work, keep, ended, answer))],
    );
    answered.try_recv().ok()
}

/// The transaction of [`commit_together`]; `Some` when it did not commit.
fn run_transaction(
    connection: &mut Connection,
    writes: &mut [Box<dyn SharedWrite>],
) -> Option<TransactionFailed> {
    let failed = |what: &'static str| move |error| TransactionFailed::new(what, error);
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        return Some(failed("starting a transaction")(error));
    }
    let alone = writes.len() == 1;
    let mut kept_any = false;
    for write in writes.iter_mut() {
        if !alone {
            if let Err(error) = savepoint(connection, "SAVEPOINT shared_write") {
                return Some(failed("starting a write's savepoint")(error));
            }
        }
        // A write that panics (a bug) is rolled back; its caller learns of it.
        let kept =
            std::panic::catch_unwind(AssertUnwindSafe(|| write.apply(connection))).unwrap_or(false);
        if connection.is_autocommit() {
            return Some(TransactionFailed::ended_by_a_failed_statement());
        }
        kept_any |= kept;
        let ended = match (alone, kept) {
            (true, _) => Ok(()),
            (false, true) => savepoint(connection, "RELEASE shared_write"),
            (false, false) => savepoint(connection, "ROLLBACK TO shared_write")
                .and_then(|()| savepoint(connection, "RELEASE shared_write")),
        };
        if let Err(error) = ended {
            return Some(failed("ending a write's savepoint")(error));
        }
    }
    if !kept_any {
        return match connection.execute_batch("ROLLBACK") {
            Ok(()) => None,
            Err(error) => Some(failed("rolling back")(error)),
        };
    }
    connection
        .execute_batch("COMMIT")
        .err()
        .map(failed("committing"))
}

/// Runs one of the savepoint statements, prepared once per connection.
fn savepoint(connection: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::{ClosureWrite, SharedWrite, commit_together};
    use crate::ports::store::StoreError;
    use rusqlite::Connection;

    /// The outcome a test write answers: the rows it inserted, or its error's text.
    type Outcome = Result<i64, String>;

    fn table() -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE t (x INTEGER PRIMARY KEY); \
                 CREATE TABLE parent (id INTEGER PRIMARY KEY); \
                 CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED); \
                 PRAGMA foreign_keys = ON;",
            )
            .unwrap();
        connection
    }

    /// A write running `sql`, and where its answer arrives.
    fn write(sql: &'static str) -> (Box<dyn SharedWrite>, flume::Receiver<Outcome>) {
        let (answer, answered) = flume::bounded(1);
        let work = move |connection: &mut Connection| -> Outcome {
            connection
                .execute(sql, [])
                .map(|rows| rows as i64)
                .map_err(|error| error.to_string())
        };
        let ended = |error: StoreError| -> Outcome { Err(format!("ended: {error}")) };
        let write = ClosureWrite::new(work, Outcome::is_ok, ended, answer);
        (Box::new(write), answered)
    }

    fn values(connection: &Connection) -> Vec<i64> {
        let mut statement = connection.prepare("SELECT x FROM t ORDER BY x").unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// One write that fails among several is rolled back alone, answers its own error, and
    /// the others commit and answer success, all in one transaction.
    #[test]
    fn a_failing_write_is_rolled_back_alone() {
        let mut connection = table();
        connection.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let (first, first_answer) = write("INSERT INTO t VALUES (2)");
        let (clash, clash_answer) = write("INSERT INTO t VALUES (3), (1)");
        let (last, last_answer) = write("INSERT INTO t VALUES (4)");
        let before = connection.total_changes();
        commit_together(&mut connection, vec![first, clash, last]);
        assert_eq!(first_answer.try_recv().unwrap(), Ok(1));
        let clash = clash_answer.try_recv().unwrap().unwrap_err();
        assert!(clash.contains("UNIQUE"), "{clash}");
        assert_eq!(last_answer.try_recv().unwrap(), Ok(1));
        assert_eq!(
            values(&connection),
            [1, 2, 4],
            "the 3 of the failed write is gone"
        );
        assert!(connection.is_autocommit(), "the transaction ended");
        assert_eq!(connection.total_changes() - before, 2);
    }

    /// A transaction whose commit fails keeps none of its writes and answers every kept
    /// write with the failure; a write that failed by itself keeps its own answer.
    #[test]
    fn a_failed_commit_keeps_nothing_and_tells_every_write() {
        let mut connection = table();
        let (first, first_answer) = write("INSERT INTO t VALUES (1)");
        // A deferred foreign key is checked at COMMIT, which then fails.
        let (orphan, orphan_answer) = write("INSERT INTO child VALUES (7)");
        let (clash, clash_answer) = write("INSERT INTO t VALUES (1)");
        commit_together(&mut connection, vec![first, orphan, clash]);
        for answered in [first_answer, orphan_answer] {
            let error = answered.try_recv().unwrap().unwrap_err();
            assert!(
                error.starts_with("ended: storage failed: committing"),
                "{error}"
            );
        }
        let clash = clash_answer.try_recv().unwrap().unwrap_err();
        assert!(clash.contains("UNIQUE"), "{clash}");
        assert!(values(&connection).is_empty());
        let children: i64 = connection
            .query_row("SELECT count(*) FROM child", [], |row| row.get(0))
            .unwrap();
        assert_eq!(children, 0);
        assert!(connection.is_autocommit(), "rolled back");
    }

    /// A write whose work panics is rolled back and its caller's channel closed; the writes
    /// beside it commit.
    #[test]
    fn a_panicking_write_is_rolled_back_and_the_others_commit() {
        let mut connection = table();
        let (first, first_answer) = write("INSERT INTO t VALUES (1)");
        let (answer, panicked) = flume::bounded::<Outcome>(1);
        let work = |connection: &mut Connection| -> Outcome {
            connection.execute("INSERT INTO t VALUES (2)", []).unwrap();
            panic!("a bug in the write");
        };
        let ended = |error: StoreError| -> Outcome { Err(error.to_string()) };
        let bug: Box<dyn SharedWrite> =
            Box::new(ClosureWrite::new(work, Outcome::is_ok, ended, answer));
        let (last, last_answer) = write("INSERT INTO t VALUES (3)");
        commit_together(&mut connection, vec![first, bug, last]);
        assert_eq!(first_answer.try_recv().unwrap(), Ok(1));
        assert!(panicked.recv().is_err(), "no answer: the sender is gone");
        assert_eq!(last_answer.try_recv().unwrap(), Ok(1));
        assert_eq!(values(&connection), [1, 3]);
    }

    /// A write whose failure ends the whole transaction (as SQLite does by itself on some
    /// I/O and memory errors; here the write rolls back itself) takes the writes kept before
    /// it along: they answer the failure, the writes after it never run, nothing is stored.
    #[test]
    fn a_write_that_ends_the_transaction_takes_the_others_along() {
        let mut connection = table();
        let (first, first_answer) = write("INSERT INTO t VALUES (1)");
        let (ender, ender_answer) = write("ROLLBACK");
        let (last, last_answer) = write("INSERT INTO t VALUES (3)");
        commit_together(&mut connection, vec![first, ender, last]);
        for answered in [first_answer, last_answer] {
            let error = answered.try_recv().unwrap().unwrap_err();
            assert!(
                error.contains("a failed statement ended the transaction"),
                "{error}"
            );
        }
        // The ending write's own outcome stands (here its statement succeeded, so it
        // counts as kept and answers the failure too).
        assert!(ender_answer.try_recv().unwrap().is_err());
        assert!(values(&connection).is_empty());
        assert!(connection.is_autocommit());
    }

    /// A transaction SQLite gives up because another connection holds the write lock past
    /// the busy timeout answers each write the retryable conflict every SQLite error of
    /// that kind is mapped to, not a backend failure; nothing runs.
    #[test]
    fn a_lock_held_elsewhere_answers_a_conflict_to_retry() {
        let path = std::env::temp_dir().join(format!(
            "customer-directory-group-lock-{}.db",
            crate::values::ids::CustomerId::new()
        ));
        let mut connection = Connection::open(&path).unwrap();
        connection
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER PRIMARY KEY);")
            .unwrap();
        connection.busy_timeout(std::time::Duration::ZERO).unwrap();
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let answer = super::commit_alone(
            &mut connection,
            |connection: &mut Connection| -> Result<usize, String> {
                connection
                    .execute("INSERT INTO t VALUES (1)", [])
                    .map_err(|error| error.to_string())
            },
            Result::is_ok,
            |ended| Err(format!("{ended:?}")),
        );
        let error = answer.expect("answered").unwrap_err();
        assert!(error.contains("TransactionAborted"), "{error}");
        holder.execute_batch("ROLLBACK").unwrap();
        drop((connection, holder));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// A write alone runs in a transaction of its own with no savepoint, committed or
    /// rolled back as its outcome says; a transaction that cannot start answers every write
    /// with the error, none of them run.
    #[test]
    fn a_write_alone_and_a_transaction_that_cannot_start() {
        let mut connection = table();
        let (alone, alone_answer) = write("INSERT INTO t VALUES (1)");
        commit_together(&mut connection, vec![alone]);
        assert_eq!(alone_answer.try_recv().unwrap(), Ok(1));
        let (failing, failing_answer) = write("INSERT INTO t VALUES (1)");
        commit_together(&mut connection, vec![failing]);
        assert!(failing_answer.try_recv().unwrap().is_err());
        assert!(connection.is_autocommit());
        // A transaction left open by someone else makes BEGIN fail.
        connection.execute_batch("BEGIN").unwrap();
        let (first, first_answer) = write("INSERT INTO t VALUES (2)");
        let (second, second_answer) = write("INSERT INTO t VALUES (3)");
        commit_together(&mut connection, vec![first, second]);
        for answered in [first_answer, second_answer] {
            let error = answered.try_recv().unwrap().unwrap_err();
            assert!(error.contains("starting a transaction"), "{error}");
        }
        assert_eq!(values(&connection), [1]);
    }
}
