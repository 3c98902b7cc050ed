//! What an attacker can time on the account endpoints, with the default (OWASP) hashing
//! parameters. The ratios are recorded in `benches/README.md`.
//!
//! - `login_refused`: a login for an unknown email beside a wrong password (in-memory
//!   store). The two must cost about the same, so response time does not tell which
//!   accounts exist.
//! - `reset_request/memory` and `reset_request/sqlite`: a password-reset request for a known
//!   email (a verified account that claimed its profile) beside one for an unknown email, on
//!   `MemoryStore` and on `SqliteStore` over a file in WAL mode, as a host runs it (the
//!   SQLite group needs the `sqlite` feature). The known request stores a token and mails
//!   it; the unknown one must do as much store work, so the time does not tell either.
//!   Requests go round a few hundred or thousand known addresses and as many unknown ones,
//!   so no account piles up thousands of tokens (a real account holds a handful). After
//!   each group, the medians of 2,000 pairs of requests timed one at a time are printed:
//!   the ratio that the load coming and going on a shared machine moves least.
//!
//! ```text
//! cargo bench --all-features --bench login -- --warm-up-time 1 --measurement-time 5
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use customer_directory::ports::RecordingNotifier;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::service::AccountError;
use customer_directory::settings::AccountsMode;
use customer_directory::values::{HashParams, PasswordHashing};
use customer_directory::{
    AccountSettings, Accounts, Actor, BookingStatus, Currency, Directory, DirectorySettings,
    EmailAddress, Money, NewBooking, Password, Profile,
};
use customer_directory::{MemoryStore, Store};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const KNOWN: &str = "ana@example.com";
const UNKNOWN: &str = "nobody@example.com";
/// Known accounts the reset requests go round, per store: about 20 requests each in a
/// SQLite run of 5 seconds, 30 in a `MemoryStore` run (whose token list per account is
/// scanned on every insert, so thousands of tokens on one account would swamp the rest).
#[cfg(feature = "sqlite")]
const SQLITE_ACCOUNTS: usize = 500;
const MEMORY_ACCOUNTS: usize = 5_000;

fn known(i: usize) -> String {
    format!("known{i:04}@example.com")
}

fn unknown(i: usize) -> String {
    format!("other{i:04}@example.com")
}

fn settings() -> DirectorySettings {
    let mut settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    settings.accounts.max_failed_logins = 0; // never lock during the measurement
    settings
}

fn login(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let accounts = Accounts::new(
        Directory::new(MemoryStore::new(), settings()),
        RecordingNotifier::new(),
    );
    runtime
        .block_on(accounts.sign_up(
            KNOWN,
            &Password::new("Plum-Tractor-Velvet-9"),
            &Actor::System,
        ))
        .expect("sign-up");
    let wrong = Password::new("not-the-password");
    let mut group = c.benchmark_group("login_refused");
    group.sample_size(20);
    for (name, email) in [("wrong_password", KNOWN), ("unknown_email", UNKNOWN)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let result = runtime.block_on(accounts.log_in(email, &wrong, &Actor::System));
                assert!(matches!(result, Err(AccountError::InvalidCredentials)));
            })
        });
    }
    group.finish();
}

/// Accounts over `store` with `count` verified accounts, each of which claimed the
/// profile a booking created, as a returning customer's account has. Sign-up hashes with
/// cheap parameters to keep the setup short; a reset request hashes no password.
fn with_known_accounts<S: Store + AccountStore + SearchStore + BulkReadStore>(
    runtime: &Runtime,
    store: S,
    count: usize,
) -> Accounts<S, RecordingNotifier> {
    let mail = RecordingNotifier::new();
    let cheap = HashParams::new(256, 1, 1).expect("parameters");
    let accounts = Accounts::new(Directory::new(store, settings()), mail.clone())
        .with_hashing(PasswordHashing::with_params(cheap).expect("hashing"));
    runtime.block_on(async {
        for i in 0..count {
            let email = known(i);
            let contact = Profile {
                email: Some(EmailAddress::parse(&email).expect("email")),
                ..Profile::default()
            };
            let booking = NewBooking::new(
                format!("BK-{i}"),
                BookingStatus::PAID,
                contact,
                chrono::Utc::now() + chrono::TimeDelta::days(30),
                Money::new(4_500, Currency::parse("EUR").expect("currency")),
            );
            accounts
                .directory()
                .record_booking(booking, &Actor::System)
                .await
                .expect("booking");
            accounts
                .sign_up(
                    &email,
                    &Password::new("Plum-Tractor-Velvet-9"),
                    &Actor::System,
                )
                .await
                .expect("sign-up");
            let token = mail.last_verification_token().expect("verification mail");
            let id = accounts
                .verify_email(&token, &Actor::System)
                .await
                .expect("verified");
            let account = accounts.account(id).await.expect("account");
            assert!(
                account.customer.is_some(),
                "the account claimed its profile"
            );
        }
        let _ = mail.take();
    });
    accounts
}

/// Times reset requests for the known and the unknown email as peers of one group.
fn reset_group<S: Store + AccountStore + SearchStore + BulkReadStore>(
    c: &mut Criterion,
    runtime: &Runtime,
    name: &str,
    accounts: &Accounts<S, RecordingNotifier>,
    count: usize,
) {
    let mut group = c.benchmark_group(format!("reset_request/{name}"));
    group.sample_size(50);
    let emails: [(&str, Vec<String>); 2] = [
        ("known_email", (0..count).map(known).collect()),
        ("unknown_email", (0..count).map(unknown).collect()),
    ];
    for (bench, emails) in &emails {
        group.bench_function(*bench, |b| {
            let mut next = emails.iter().cycle();
            b.iter(|| {
                let email = next.next().expect("addresses");
                runtime
                    .block_on(accounts.request_password_reset(email, &Actor::System))
                    .expect("reset requested");
                // The recorder keeps every mail; drop them so memory stays flat.
                let _ = accounts.notifier().take();
            })
        });
    }
    group.finish();
}

/// Pairs of requests timed one at a time, for the known email then the unknown one (the
/// other way round every second pair).
const PAIRS: usize = 2_000;

/// The median time of a known and of an unknown request over [`PAIRS`] pairs, printed
/// beside criterion's figures: each pair sees the same load, so load that comes and goes on
/// a shared machine (which moves criterion's means, taken one bench after the other) weighs
/// on both alike.
fn paired<S: Store + AccountStore + SearchStore + BulkReadStore>(
    runtime: &Runtime,
    name: &str,
    accounts: &Accounts<S, RecordingNotifier>,
    count: usize,
) {
    let time = |email: &str| {
        let started = Instant::now();
        runtime
            .block_on(accounts.request_password_reset(email, &Actor::System))
            .expect("reset requested");
        let elapsed = started.elapsed();
        let _ = accounts.notifier().take();
        elapsed
    };
    let mut known_times = Vec::with_capacity(PAIRS);
    let mut unknown_times = Vec::with_capacity(PAIRS);
    for i in 0..PAIRS {
        let (k, u) = (known(i % count), unknown(i % count));
        if i % 2 == 0 {
            known_times.push(time(&k));
            unknown_times.push(time(&u));
        } else {
            unknown_times.push(time(&u));
            known_times.push(time(&k));
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort_unstable();
        times[times.len() / 2].as_secs_f64() * 1e6
    };
    let (k, u) = (median(&mut known_times), median(&mut unknown_times));
    eprintln!(
        "reset_request/{name} paired medians over {PAIRS} pairs: known {k:.1} µs, \
         unknown {u:.1} µs, known / unknown {:.2}",
        k / u
    );
}

fn reset_request(c: &mut Criterion) {
    // A host's runtime: several worker threads, timers and I/O on.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let accounts = with_known_accounts(&runtime, MemoryStore::new(), MEMORY_ACCOUNTS);
    reset_group(c, &runtime, "memory", &accounts, MEMORY_ACCOUNTS);
    paired(&runtime, "memory", &accounts, MEMORY_ACCOUNTS);

    #[cfg(feature = "sqlite")]
    {
        use customer_directory::SqliteStore;
        let path = std::env::temp_dir().join(format!(
            "cd-bench-reset-{}.db",
            customer_directory::CustomerId::new()
        ));
        let store = runtime.block_on(async {
            // A file: `connect` opens it in WAL mode with `synchronous = NORMAL`.
            let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("open");
            store.migrate().await.expect("migrate");
            store
        });
        let accounts = with_known_accounts(&runtime, store, SQLITE_ACCOUNTS);
        reset_group(c, &runtime, "sqlite", &accounts, SQLITE_ACCOUNTS);
        paired(&runtime, "sqlite", &accounts, SQLITE_ACCOUNTS);
        drop(accounts);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    #[cfg(not(feature = "sqlite"))]
    eprintln!("reset_request/sqlite: skipped; build with --features sqlite to run it");
}

criterion_group!(benches, login, reset_request);
criterion_main!(benches);
