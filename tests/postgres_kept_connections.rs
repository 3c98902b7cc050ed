//! `PostgresStore` keeps the connections of operations that finished normally for its next
//! operations instead of handing them back to the pool (which checks each one handed back
//! with a round trip). These tests hold what that must not change: the host keeps half of
//! the pool (however many stores share it), closing the pool (through the store or
//! directly) finishes, a store dropped outside a Tokio runtime does not panic, a kept
//! connection whose server process ended while it sat idle is not used once it is stale,
//! after every server process ends (a restart) at most one operation fails, and an
//! operation cancelled at any point leaves no connection that breaks the next one.
#![cfg(feature = "postgres")]

mod support;

use std::time::Duration;

use customer_directory::adapters::sqlx;
use customer_directory::{
    Actor, BookingStatus, Currency, Directory, DirectorySettings, EmailAddress, Money, NewBooking,
    PersonName, PostgresStore, Profile, Store,
};

fn booking(code: &str, email: &str) -> NewBooking {
    NewBooking::new(
        code,
        BookingStatus::PAID,
        Profile {
            given_name: Some(PersonName::parse("Ana").unwrap()),
            email: Some(EmailAddress::parse(email).unwrap()),
            ..Profile::default()
        },
        chrono::Utc::now(),
        Money::new(30_00, Currency::parse("EUR").unwrap()),
    )
}

/// The server's URL, a fresh store there, a directory on it, and Ana's profile made by her
/// first booking, `code`; `None` when no server is configured.
async fn store_with_anas_first_booking(
    code: &str,
) -> Option<(
    String,
    PostgresStore,
    Directory<PostgresStore>,
    customer_directory::CustomerId,
)> {
    let url = support::postgres_url("kept connections test")?;
    let (store, directory, ana) = anas_first_booking(&url, code).await;
    Some((url, store, directory, ana))
}

/// A fresh store connected with `store_url`, a directory on it, and Ana's profile made by
/// her first booking, `code`.
async fn anas_first_booking(
    store_url: &str,
    code: &str,
) -> (
    PostgresStore,
    Directory<PostgresStore>,
    customer_directory::CustomerId,
) {
    let store = support::fresh_postgres_store(store_url, "cd_kept").await;
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    let ana = directory
        .record_booking(booking(code, "ana@example.com"), &Actor::System)
        .await
        .unwrap()
        .outcome
        .customer()
        .expect("Ana's profile");
    (store, directory, ana)
}

/// A runtime of its own for a test that drops it before the store it made.
fn runtime_to_drop_before_the_store() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Connections of the store's pool that the pool does not hold idle: the ones the store
/// keeps, once nothing runs.
fn not_idle(store: &PostgresStore) -> usize {
    store.pool().size() as usize - store.pool().num_idle()
}

/// Waits until the pool's background checks of connections handed back have ended (the
/// count of connections it holds idle stops changing), however loaded the machine is.
async fn settle(store: &PostgresStore) {
    let mut seen = (store.pool().size(), store.pool().num_idle());
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = (store.pool().size(), store.pool().num_idle());
        if now == seen {
            return;
        }
        seen = now;
    }
}

/// Once the pool's background checks have ended: asserts that the stores on `store`'s pool
/// keep at least one connection and at most half of the pool, and that the host's own
/// queries then get the other half at once.
async fn assert_half_kept_at_most_and_half_left_to_the_host(store: &PostgresStore) {
    settle(store).await;
    let most = store.pool().options().get_max_connections() as usize;
    let kept = not_idle(store);
    assert!(kept >= 1, "connections are kept: {kept}");
    assert!(kept <= most / 2, "{kept} kept of {most}");
    let mut host = Vec::new();
    for _ in 0..most / 2 {
        let connection = tokio::time::timeout(Duration::from_secs(5), store.pool().acquire())
            .await
            .expect("the host gets a connection without waiting for the stores")
            .unwrap();
        host.push(connection);
    }
}

/// Asserts that every connection of the store's closed pool is closed within five seconds
/// (`PgPool::close` may return while the last one's goodbye to the server is under way).
async fn assert_all_closed(store: &PostgresStore) {
    for _ in 0..50 {
        if store.pool().size() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.pool().size(), 0, "every connection is closed");
}

/// Drops the store's schema through a connection of its own.
async fn drop_schema(url: &str, store: &PostgresStore) {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let direct = PostgresStore::connect(url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(direct.pool())
        .await
        .unwrap();
    direct.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_at_most_half_of_the_pool() {
    let Some(url) = support::postgres_url("kept connections test") else {
        return;
    };
    let store = support::fresh_postgres_store(&url, "cd_kept").await;
    let most = store.pool().options().get_max_connections() as usize;
    // As many reads at once as the pool has connections, each holding its connection until
    // all of them have one.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(most));
    let reads: Vec<_> = (0..most)
        .map(|_| {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let mut connection = store.pool().acquire().await.unwrap();
                barrier.wait().await;
                sqlx::query("SELECT 1")
                    .execute(&mut *connection)
                    .await
                    .unwrap();
                drop(connection);
                // Then an operation of the store's on each task.
                store.lists().await.unwrap();
            })
        })
        .collect();
    for read in reads {
        read.await.unwrap();
    }
    assert_half_kept_at_most_and_half_left_to_the_host(&store).await;
    drop_schema(&url, &store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_sharing_a_pool_keep_no_more_together_than_one_store() {
    let Some(url) = support::postgres_url("kept connections test") else {
        return;
    };
    let store = support::fresh_postgres_store(&url, "cd_kept").await;
    let other = PostgresStore::from_pool(store.pool().clone());
    let most = store.pool().options().get_max_connections() as usize;
    // As many tasks as the pool has connections, half on each store, each making reads.
    let tasks: Vec<_> = (0..most)
        .map(|n| {
            let store = if n % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                for _ in 0..20 {
                    store.lists().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_half_kept_at_most_and_half_left_to_the_host(&store).await;
    drop_schema(&url, &store).await;
    drop(other);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_pool_directly_finishes_while_the_store_keeps_connections() {
    let Some((url, store, directory, _)) = store_with_anas_first_booking("K-1").await else {
        return;
    };
    drop_schema(&url, &store).await;
    settle(&store).await;
    assert!(not_idle(&store) >= 1, "the store keeps a connection");
    // `PgPool::close` waits for every connection to come back: the store hands its kept
    // ones back when the pool closes.
    tokio::time::timeout(Duration::from_secs(10), store.pool().close())
        .await
        .expect("closing the pool finishes while the store and a directory exist");
    assert_all_closed(&store).await;
    let after = directory.find_by_email("ana@example.com").await;
    assert!(
        after.is_err(),
        "an operation after the close fails: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_store_closes_the_pool() {
    let Some(url) = support::postgres_url("kept connections test") else {
        return;
    };
    let store = support::fresh_postgres_store(&url, "cd_kept").await;
    store.lists().await.unwrap();
    drop_schema(&url, &store).await;
    settle(&store).await;
    assert!(not_idle(&store) >= 1, "the store keeps a connection");
    tokio::time::timeout(Duration::from_secs(10), store.close())
        .await
        .expect("closing the store finishes");
    assert!(store.pool().is_closed());
    assert_all_closed(&store).await;
    assert!(
        store.lists().await.is_err(),
        "an operation after the close fails"
    );
}

#[test]
fn a_store_dropped_outside_a_runtime_does_not_panic() {
    let Some(url) = support::postgres_url("kept connections test") else {
        return;
    };
    let runtime = runtime_to_drop_before_the_store();
    let store = runtime.block_on(async {
        let store = support::fresh_postgres_store(&url, "cd_kept").await;
        store.lists().await.unwrap();
        settle(&store).await;
        assert!(not_idle(&store) >= 1, "the store keeps a connection");
        drop_schema(&url, &store).await;
        store
    });
    drop(runtime);
    // `sqlx` hands a dropped pooled connection back through a task, which needs a runtime.
    drop(store);
}

#[test]
fn a_store_on_a_pool_keeping_a_minimum_dropped_outside_a_runtime_does_not_panic() {
    let Some(url) = support::postgres_url("kept connections test") else {
        return;
    };
    let runtime = runtime_to_drop_before_the_store();
    let (store, migrated) = runtime.block_on(async {
        let migrated = support::fresh_postgres_store(&url, "cd_kept").await;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(migrated.pool())
            .await
            .unwrap();
        // A host's own pool that keeps a connection open at all times: `sqlx` then spawns
        // a task whenever one of its connections is dropped, even a detached one.
        let options = sqlx::postgres::PgPoolOptions::new()
            .min_connections(1)
            .max_connections(4);
        let pool = support::pool_in_schema(&url, &schema, options).await;
        let store = PostgresStore::from_pool(pool);
        store.lists().await.unwrap();
        settle(&store).await;
        assert!(not_idle(&store) >= 1, "the store keeps a connection");
        drop_schema(&url, &migrated).await;
        (store, migrated)
    });
    drop(runtime);
    drop(store);
    drop(migrated);
}

/// A store whose server processes can be ended: it connects under an application name of
/// its own, by which they are found.
struct Restartable {
    url: String,
    name: String,
    store: PostgresStore,
    directory: Directory<PostgresStore>,
}

impl Restartable {
    /// A fresh store on the configured server with Ana's first booking, `code`; `None` when
    /// no server is configured.
    async fn with_anas_first_booking(code: &str) -> Option<Self> {
        let url = support::postgres_url("kept connections test")?;
        let name = format!(
            "cd_kept_{}",
            customer_directory::CustomerId::new().as_uuid().simple()
        );
        let separator = if url.contains('?') { '&' } else { '?' };
        let tagged = format!("{url}{separator}application_name={name}");
        let (store, directory, _) = anas_first_booking(&tagged, code).await;
        Some(Self {
            url,
            name,
            store,
            directory,
        })
    }

    /// Ends every server process of the store's pool, as a server restart does, and waits
    /// until they have ended; answers how many there were.
    async fn end_server_processes(&self) -> usize {
        let direct = PostgresStore::connect(&self.url).await.unwrap();
        let ended: i64 = sqlx::query_scalar(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM \
             (SELECT pid FROM pg_stat_activity WHERE application_name = $1 OFFSET 0) store",
        )
        .bind(&self.name)
        .fetch_one(direct.pool())
        .await
        .unwrap();
        direct.close().await;
        usize::try_from(ended).unwrap()
    }

    /// Drops the store's schema and closes it.
    async fn finish(self) {
        drop_schema(&self.url, &self.store).await;
        self.store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_kept_connection_whose_server_process_ended_is_not_used() {
    let Some(restartable) = Restartable::with_anas_first_booking("S-1").await else {
        return;
    };
    settle(&restartable.store).await;
    assert!(
        not_idle(&restartable.store) >= 1,
        "the store keeps a connection"
    );
    assert!(
        restartable.end_server_processes().await >= 1,
        "the store's server processes ended"
    );
    // Once stale, the kept connection goes back to the pool, which finds it broken.
    tokio::time::sleep(Duration::from_millis(5_200)).await;
    let found = restartable
        .directory
        .find_by_email("ana@example.com")
        .await
        .unwrap();
    assert!(
        found.is_some(),
        "the next operation succeeds on a fresh connection"
    );
    restartable.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_server_ends_every_connection_at_most_one_operation_fails() {
    let Some(restartable) = Restartable::with_anas_first_booking("R-1").await else {
        return;
    };
    let (store, directory) = (&restartable.store, &restartable.directory);
    // Several operations at once open several connections; the store keeps them, all of
    // them recently used.
    let mut at_once = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let directory = directory.clone();
        at_once.spawn(async move { directory.find_by_email("ana@example.com").await });
    }
    while let Some(found) = at_once.join_next().await {
        assert!(found.unwrap().unwrap().is_some());
    }
    // And the host's own queries leave connections idle in the pool, just used.
    let mut host = Vec::new();
    for _ in 0..3 {
        let mut connection = store.pool().acquire().await.unwrap();
        sqlx::query("SELECT 1")
            .execute(&mut *connection)
            .await
            .unwrap();
        host.push(connection);
    }
    drop(host);
    settle(store).await;
    let open = store.pool().size() as usize;
    assert!(
        not_idle(store) >= 1 && store.pool().num_idle() >= 1,
        "connections are kept by the store and idle in the pool: {open} open, {} idle",
        store.pool().num_idle()
    );
    assert_eq!(
        restartable.end_server_processes().await,
        open,
        "every server process of the pool ended"
    );
    // Within the five seconds a recently used connection is trusted, the first operation
    // finds its connection broken; the ones after it must not find the others so.
    let mut failed = 0;
    for _ in 0..open + 2 {
        if directory.find_by_email("ana@example.com").await.is_err() {
            failed += 1;
        }
    }
    assert!(
        failed <= 1,
        "{failed} of {} operations failed after {open} connections ended",
        open + 2
    );
    restartable.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_cancelled_at_any_point_leave_no_connection_that_breaks_the_next() {
    let Some((url, store, directory, ana)) = store_with_anas_first_booking("C-0").await else {
        return;
    };
    let mut acknowledged = vec!["C-0".to_owned()];
    for step in 0..60u64 {
        // A booking whose future is dropped after a few microseconds to a few milliseconds:
        // before it takes a connection, while its lookup or its commit is on the wire, or
        // after it is done. A commit already sent may still land on the server after the
        // drop, so a cancelled booking is either stored once or not at all.
        let code = format!("C-{}", step + 1);
        let cancelled = tokio::time::timeout(
            Duration::from_micros(step * step * 2),
            directory.record_booking(booking(&code, "ana@example.com"), &Actor::System),
        )
        .await;
        if let Ok(done) = cancelled {
            done.unwrap();
            acknowledged.push(code.clone());
        }
        // The next operations, on whatever connection the store hands them, succeed and
        // see every acknowledged booking once.
        let found = directory
            .find_by_email("ana@example.com")
            .await
            .unwrap()
            .expect("Ana is found");
        assert_eq!(found.id, ana);
        assert_each_at_most_once_and_acknowledged_present(&directory, ana, &acknowledged).await;
    }
    settle(&store).await;
    assert_each_at_most_once_and_acknowledged_present(&directory, ana, &acknowledged).await;
    assert!(
        acknowledged.len() > 1 && acknowledged.len() < 61,
        "some bookings were cancelled and some finished: {}",
        acknowledged.len()
    );
    drop_schema(&url, &store).await;
    store.close().await;
}

/// Asserts that no booking code is stored twice for `customer` and that every code in
/// `acknowledged` is stored.
async fn assert_each_at_most_once_and_acknowledged_present(
    directory: &Directory<PostgresStore>,
    customer: customer_directory::CustomerId,
    acknowledged: &[String],
) {
    let bookings = directory.customer_bookings(customer).await.unwrap();
    let mut codes: Vec<&str> = bookings.iter().map(|b| b.code.as_str()).collect();
    codes.sort_unstable();
    let stored = codes.len();
    codes.dedup();
    assert_eq!(
        codes.len(),
        stored,
        "a booking code stored twice: {codes:?}"
    );
    for code in acknowledged {
        assert!(
            codes.contains(&code.as_str()),
            "{code} acknowledged but not stored"
        );
    }
}
