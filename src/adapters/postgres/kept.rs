//! Connections the store keeps between its own operations instead of handing them back to
//! the pool.
//!
//! `sqlx` checks every connection handed back to its pool with a round trip (a `Sync`
//! message and its `ReadyForQuery`), in a task of its own. A booking reads once and commits
//! once, so it paid two such round trips beside its two statements: server and client time
//! and a thread switch each. A connection whose operation finished normally has just
//! proven itself, so the store keeps it for its next operation; one whose operation failed
//! or was cancelled goes back to the pool, which checks it and closes it if it is broken.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sqlx::Postgres;
use sqlx::pool::{Pool, PoolConnection};

/// How long a kept connection may sit idle before the store stops trusting it: an older one
/// goes back to the pool (which checks it with a round trip) instead of serving the next
/// operation. The pool's own check of connections handed out (`before_acquire` in
/// `session::pool_options`) uses the same age.
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// When an operation last found its connection broken (the server process ended, the link
/// dropped), in nanoseconds after [`epoch`]; 0 for never. Whatever ended one connection (a
/// server restart, a failover) has most likely ended every connection idle at that moment,
/// so none of those is trusted after it, however recently it was used. One mark for the
/// process: a break seen on one pool costs the others at most a check of each connection.
static LAST_BREAK: AtomicU64 = AtomicU64::new(0);

/// The instant [`LAST_BREAK`] counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Records that an operation found its connection broken now.
pub(crate) fn note_broken_connection() {
    let since_epoch = u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX);
    LAST_BREAK.fetch_max(since_epoch.max(1), Ordering::Relaxed);
}

/// Whether a connection idle for `idle_for` may serve an operation without a check: idle for
/// less than [`IDLE_BEFORE_PING`], and in use after the last broken connection was seen.
pub(crate) fn trusted(idle_for: Duration) -> bool {
    if idle_for >= IDLE_BEFORE_PING {
        return false;
    }
    let last_break = LAST_BREAK.load(Ordering::Relaxed);
    if last_break == 0 {
        return true;
    }
    let now = epoch().elapsed();
    let idle_since = now.saturating_sub(idle_for);
    idle_since > Duration::from_nanos(last_break)
}

/// A connection the store keeps, and since when it has been idle.
struct Idle {
    connection: PoolConnection<Postgres>,
    since: Instant,
}

/// The connections the store keeps, newest last; at most [`KeptConnections::most`].
pub(crate) struct KeptConnections {
    idle: Mutex<Vec<Idle>>,
    /// At most half of the pool's connections, so a host sharing the pool (see
    /// `PostgresStore::pool`) always has the other half.
    most: usize,
    /// Whether the pool keeps a minimum of connections open: `sqlx` then starts a task to
    /// maintain it whenever one of its connections is dropped, even a detached one.
    pool_keeps_a_minimum: bool,
    /// The task that hands every kept connection back when the pool is closed (started
    /// with the first connection kept, stopped when the store is dropped), so a host that
    /// closes the pool while a store still exists finds every connection closed. `None`
    /// when it could not start (no Tokio runtime there), and then nothing is kept.
    close_watch: OnceLock<Option<tokio::task::AbortHandle>>,
}

/// A store dropped outside a Tokio runtime (a host's synchronous shutdown, say) must not
/// panic: `sqlx` hands a dropped pooled connection back through a task it spawns, which
/// needs a runtime. Outside one, each kept connection is detached from the pool instead
/// (its socket closed, the pool's count of open connections lowered); if the pool keeps a
/// minimum of connections, even that spawns a task, so the connection is left open until
/// the process ends.
impl Drop for KeptConnections {
    fn drop(&mut self) {
        if let Some(Some(watch)) = self.close_watch.get() {
            watch.abort();
        }
        let kept = self.drain();
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(kept);
            return;
        }
        for connection in kept {
            if self.pool_keeps_a_minimum {
                std::mem::forget(connection);
            } else {
                drop(connection.detach());
            }
        }
    }
}

impl std::fmt::Debug for KeptConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptConnections")
            .field("idle", &self.idle_count())
            .field("most", &self.most)
            .finish()
    }
}

impl KeptConnections {
    /// Keeps at most half of `pool`'s connections (none for a pool of one).
    pub(crate) fn for_pool(pool: &Pool<Postgres>) -> Self {
        let options = pool.options();
        let size = options.get_max_connections() as usize;
        Self {
            idle: Mutex::new(Vec::new()),
            most: size / 2,
            pool_keeps_a_minimum: options.get_min_connections() > 0,
            close_watch: OnceLock::new(),
        }
    }

    /// A connection for one operation: the most recently kept one if it is [`trusted`],
    /// otherwise one of the pool's. Kept connections no longer trusted go back to the pool
    /// on the way, which checks them (every one kept before an untrusted one is older
    /// still).
    pub(crate) async fn take(
        &self,
        pool: &Pool<Postgres>,
    ) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        if pool.is_closed() {
            // The pool closes a connection handed back once it is closed.
            drop(self.drain());
            return Err(sqlx::Error::PoolClosed);
        }
        let newest = self.lock().pop();
        if let Some(idle) = newest {
            if trusted(idle.since.elapsed()) {
                return Ok(idle.connection);
            }
            drop(idle);
            drop(self.drain());
        }
        pool.acquire().await
    }

    /// Keeps `connection` of `pool`, whose operation finished normally, for the next
    /// operation; hands it back to the pool when the store keeps [`most`](Self::most)
    /// already, when fewer than half of the pool's connections are open to others (the pool is busy, or other stores on it keep
    /// connections), or when the pool is closed.
    pub(crate) fn keep(
        self: &Arc<Self>,
        pool: &Pool<Postgres>,
        connection: PoolConnection<Postgres>,
    ) {
        if self.most == 0 || !self.others_have_room(pool) || !self.watch_for_close(pool) {
            return;
        }
        let mut idle = self.lock();
        if idle.len() < self.most {
            idle.push(Idle {
                connection,
                since: Instant::now(),
            });
        } else {
            drop(idle);
            drop(connection);
            return;
        }
        drop(idle);
        // `PgPool::close` marks the pool closed before it tells the watch: either this
        // sees it closed, or the watch's drain comes after the push above.
        if pool.is_closed() {
            drop(self.drain());
        }
    }

    /// Whether at least the pool's size less [`most`](Self::most) of `pool`'s connections
    /// are open to others once `connection` is kept: idle in the pool, or not opened yet.
    /// (The connection about to be kept is checked out, so it counts as not open.) Checked
    /// against the pool itself, so several stores on one pool keep no more together than
    /// one store would.
    fn others_have_room(&self, pool: &Pool<Postgres>) -> bool {
        let size = pool.options().get_max_connections() as usize;
        let opened = pool.size() as usize;
        let open_to_others = pool.num_idle() + size.saturating_sub(opened);
        open_to_others >= size - self.most
    }

    /// Starts the task that hands the kept connections back when `pool` is closed, if it
    /// is not running yet; `false` when it cannot run (no Tokio runtime here), and then
    /// nothing may be kept.
    fn watch_for_close(self: &Arc<Self>, pool: &Pool<Postgres>) -> bool {
        self.close_watch
            .get_or_init(|| {
                let runtime = tokio::runtime::Handle::try_current().ok()?;
                let closed = pool.close_event();
                let kept = Arc::downgrade(self);
                let watch = runtime.spawn(async move {
                    closed.await;
                    if let Some(kept) = kept.upgrade() {
                        drop(kept.drain());
                    }
                });
                Some(watch.abort_handle())
            })
            .is_some()
    }

    /// Every kept connection, taken out (to be dropped outside the lock: dropping hands it
    /// back to the pool).
    pub(crate) fn drain(&self) -> Vec<PoolConnection<Postgres>> {
        self.lock().drain(..).map(|idle| idle.connection).collect()
    }

    /// How many connections are kept now.
    pub(crate) fn idle_count(&self) -> usize {
        self.lock().len()
    }

    /// The list, even if a thread panicked while holding it (every change to it is a single
    /// push, pop or drain, so it is never left half-changed).
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_idle_since_a_break_is_not_trusted_and_one_used_after_it_is() {
        assert!(!trusted(IDLE_BEFORE_PING), "idle too long");
        note_broken_connection();
        assert!(
            !trusted(Duration::from_millis(50)),
            "idle since before the break"
        );
        std::thread::sleep(Duration::from_millis(5));
        assert!(trusted(Duration::ZERO), "used after the break");
        assert!(trusted(Duration::from_millis(1)), "used after the break");
    }
}
