//! What the crate's `tracing` instrumentation emits, and that it never carries personal
//! data: a capturing layer records every span field, recorded value, event field and
//! message as text while the whole conformance suite runs on `MemoryStore` and on SQLite in
//! memory, and no email, name, phone, postcode, password or note text the scenarios use
//! appears in it. The scan itself is shown to catch a value logged on purpose. The events
//! the README documents (a conflict retry, exhausted retries, a failed commit, a throttled
//! login) are checked field by field.

#![cfg(all(feature = "testing", feature = "sqlite", feature = "tracing"))]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

mod support;

use customer_directory::adapters::SqliteStore;
use customer_directory::ports::RecordingNotifier;
use customer_directory::settings::AccountsMode;
use customer_directory::testing::FaultInjectingStore;
use customer_directory::testing::conformance::{booking, contact};
use customer_directory::values::{HashParams, PasswordHashing};
use customer_directory::{
    AccountError, AccountSettings, Accounts, Actor, BookingStatus, Directory, DirectorySettings,
    Error, MemoryStore, Password,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// What was emitted: a span opened, a value recorded on a span, or an event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    SpanOpened,
    SpanRecorded,
    Event,
}

/// One thing the crate told the subscriber, as text.
#[derive(Debug, Clone)]
struct Captured {
    kind: Kind,
    level: Level,
    /// The span's name (for an event: the name of the span it happened in, if any).
    span: String,
    /// Every field, the event's message included (as `message`), formatted.
    fields: Vec<(String, String)>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// Everything recorded, as one line of text: the span name, then `name=value` pairs.
    fn text(&self) -> String {
        let mut text = self.span.clone();
        for (name, value) in &self.fields {
            text.push_str(&format!(" {name}={value}"));
        }
        text
    }
}

/// Writes every field it visits as text.
#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// A layer that records everything the crate emits (targets `customer_directory…`) into a
/// shared list.
#[derive(Clone, Default)]
struct Capture {
    records: Arc<Mutex<Vec<Captured>>>,
}

impl Capture {
    fn records(&self) -> Vec<Captured> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn push(&self, record: Captured) {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
    }

    fn events(&self) -> Vec<Captured> {
        self.records()
            .into_iter()
            .filter(|record| record.kind == Kind::Event)
            .collect()
    }
}

fn ours(target: &str) -> bool {
    target.starts_with("customer_directory")
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    /// Only the crate's own callsites: the database driver's are not this crate's to check.
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if ours(metadata.target()) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        ours(metadata.target())
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if !ours(attrs.metadata().target()) {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.push(Captured {
            kind: Kind::SpanOpened,
            level: *attrs.metadata().level(),
            span: attrs.metadata().name().to_owned(),
            fields: fields.0,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if !ours(span.metadata().target()) {
            return;
        }
        let mut fields = Fields::default();
        values.record(&mut fields);
        self.push(Captured {
            kind: Kind::SpanRecorded,
            level: *span.metadata().level(),
            span: span.name().to_owned(),
            fields: fields.0,
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !ours(event.metadata().target()) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.push(Captured {
            kind: Kind::Event,
            level: *event.metadata().level(),
            span: ctx
                .event_span(event)
                .map(|span| span.name().to_owned())
                .unwrap_or_default(),
            fields: fields.0,
        });
    }
}

/// The capture every thread reports to unless a test sets its own (the scenarios spawn
/// tasks on the runtime's worker threads).
fn global_capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        tracing::subscriber::set_global_default(Registry::default().with(capture.clone()))
            .expect("no other global subscriber in this test binary");
        capture
    })
}

/// A capture of its own for the current thread, for as long as the guard lives.
fn local_capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(Registry::default().with(capture.clone()));
    (capture, guard)
}

/// Every personal value the conformance scenarios and fixtures use, read from their source:
/// email addresses, the given and family names of `contact(..)`, names, phones (also as
/// their digits), postcodes and other free text, note text, passwords.
fn personal_values() -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testing/conformance");
    let mut sources = String::new();
    let mut folders = vec![root];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                sources.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let literal = r#""((?:[^"\\]|\\.)*)""#;
    let mut values = BTreeSet::new();
    // Every literal holding an @: the email addresses.
    for found in regex::Regex::new(literal).unwrap().captures_iter(&sources) {
        let text = &found[1];
        if text.contains('@') && !text.contains('{') && !text.contains(' ') {
            values.insert(text.to_owned());
        }
    }
    let contact =
        regex::Regex::new(&format!(r"contact\(\s*{literal},\s*{literal},\s*{literal}")).unwrap();
    for found in contact.captures_iter(&sources) {
        for group in 1..=3 {
            values.insert(found[group].to_owned());
        }
    }
    let calls = [
        "name",
        "PersonName::parse",
        "Phone::parse",
        "phone",
        "text",
        "Text::parse",
        "NoteText::parse",
        "note",
        "pw",
        "Password::new",
        "SavedPaymentMethod::new",
    ];
    for call in calls {
        let pattern = format!(r"(?:^|[^A-Za-z_:]){}\(\s*{literal}", regex::escape(call));
        for found in regex::Regex::new(&pattern).unwrap().captures_iter(&sources) {
            values.insert(found[1].to_owned());
        }
    }
    // The passwords the scenarios keep in constants.
    let constant = regex::Regex::new(&format!(r"const [A-Z_]+: &str = {literal}")).unwrap();
    for found in constant.captures_iter(&sources) {
        values.insert(found[1].to_owned());
    }
    // Phones as the directory stores them: the digits, with and without the plus.
    for value in values.clone() {
        if value.starts_with('+') {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            values.insert(format!("+{digits}"));
            values.insert(digits);
        }
    }
    // A single letter (a name initial in the sorting scenarios) or a short number (a
    // custom field's value) identifies nobody, and would match every count and duration.
    values.retain(|value| {
        let value = value.trim();
        value.chars().count() >= 2
            && !(value.len() < 7 && value.chars().all(|c| c.is_ascii_digit()))
    });
    values
}

/// Whether `needle` occurs in `haystack` as a whole token: not inside a longer word, so a
/// name like "Bo" is not found in "booking".
fn contains_token(haystack: &str, needle: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Every (personal value, recorded text) pair where the value appears in what was
/// recorded, in its original case or lower-cased, ignoring case on both sides.
fn scan(records: &[Captured], personal: &BTreeSet<String>) -> Vec<(String, String)> {
    let mut leaks = Vec::new();
    for record in records {
        let text = record.text();
        let lower = text.to_lowercase();
        for value in personal {
            if contains_token(&text, value) || contains_token(&lower, &value.to_lowercase()) {
                leaks.push((value.clone(), text.clone()));
            }
        }
    }
    leaks
}

fn assert_names_every_scenario(ran: &[&str]) {
    let listed: Vec<&str> = customer_directory::testing::conformance::SCENARIOS
        .iter()
        .map(|scenario| scenario.name)
        .collect();
    assert_eq!(
        ran,
        listed.as_slice(),
        "the run covers the whole suite, in its order"
    );
}

/// What the run must have produced for the scan to mean anything: the use-case spans, the
/// store spans with their duration, and ids recorded on them.
fn assert_instrumented(records: &[Captured]) {
    let opened: BTreeSet<&str> = records
        .iter()
        .filter(|record| record.kind == Kind::SpanOpened)
        .map(|record| record.span.as_str())
        .collect();
    for name in [
        "record_booking",
        "merge",
        "undo_merge",
        "redact",
        "delete_customer",
        "archive",
        "block",
        "search",
        "count",
        "export_csv",
        "import_customers",
        "log_in",
        "sign_up",
        "request_password_reset",
        "reset_password",
        "store",
    ] {
        assert!(opened.contains(name), "no span {name}; opened: {opened:?}");
    }
    assert!(
        records
            .iter()
            .any(|record| record.span == "store" && record.field("elapsed_us").is_some())
    );
    assert!(records.iter().any(|record| record.span == "record_booking"
        && record.field("outcome") == Some("created_customer")));
    assert!(
        records
            .iter()
            .any(|record| record.span == "merge" && record.field("moved_bookings").is_some())
    );
    assert!(records.iter().any(|record| {
        record
            .field("error")
            .is_some_and(|kind| kind == "customer_merged")
    }));
}

fn assert_no_personal_data(records: &[Captured]) {
    let personal = personal_values();
    let leaks = scan(records, &personal);
    assert!(
        leaks.is_empty(),
        "{} recorded strings hold personal values, e.g. {:?}",
        leaks.len(),
        &leaks[..leaks.len().min(10)]
    );
}
/// Runs every scenario of the conformance suite, one after the other, each on a fresh store
/// from `$make_store` (an async fn): the names are the list `conformance_tests!` runs.
/// One scenario on a fresh store, boxed here so that the caller's frame holds only the
/// box: a debug build gives every future built in a frame its own stack slot.
fn run_one<S, M, F>(
    make_store: impl FnOnce() -> M + 'static,
    scenario: impl FnOnce(S) -> F + 'static,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
where
    M: std::future::Future<Output = S> + 'static,
    F: std::future::Future<Output = ()> + 'static,
{
    Box::pin(async move { scenario(make_store().await).await })
}

async fn memory_store() -> MemoryStore {
    MemoryStore::new()
}

async fn sqlite_store() -> SqliteStore {
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("open SQLite in memory");
    store.migrate().await.expect("migrate");
    store
}

macro_rules! run_every_scenario {
    (@each $make_store:path; $($scenario:ident),* $(,)?) => {{
        let mut ran = Vec::new();
        $(
            run_one($make_store, customer_directory::testing::conformance::$scenario).await;
            ran.push(stringify!($scenario));
        )*
        ran
    }};
    ($make_store:path) => {
        customer_directory::conformance_tests!(for_each_scenario run_every_scenario!(@each $make_store;))
    };
}

/// The two runs share the global capture: one at a time, each from an empty list.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let guard = SERIAL.lock().await;
    global_capture()
        .records
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    guard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_suite_on_the_memory_store_records_no_personal_value() {
    let _serial = serial().await;
    let ran = run_every_scenario!(memory_store);
    assert_names_every_scenario(&ran);
    let records = global_capture().records();
    assert_instrumented(&records);
    assert_no_personal_data(&records);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_suite_on_sqlite_records_no_personal_value() {
    let _serial = serial().await;
    let ran = run_every_scenario!(sqlite_store);
    assert_names_every_scenario(&ran);
    let records = global_capture().records();
    assert_instrumented(&records);
    // Each SQLite commit says how many rows it wrote (counted on the writer's connection).
    assert!(
        records
            .iter()
            .any(|record| record.span == "store" && record.field("rows_affected").is_some()),
        "no store span recorded rows_affected"
    );
    assert_no_personal_data(&records);
}

#[test]
fn the_personal_values_cover_every_kind_the_scenarios_use() {
    let personal = personal_values();
    for value in [
        "ana@example.com",       // an email
        "Ana",                   // a given name
        "Silva",                 // a family name
        "+44 20 7946 0958",      // a phone as typed
        "+442079460958",         // and as stored
        "SW1A 1AA",              // a postcode
        "Plum-Tractor-Velvet-9", // a password
        "Window seat",           // a note
    ] {
        assert!(personal.contains(value), "{value} is not collected");
    }
    assert!(
        personal.len() > 100,
        "only {} values collected",
        personal.len()
    );
}

#[test]
fn the_scan_reports_a_value_logged_on_purpose() {
    let (capture, _guard) = local_capture();
    tracing::info!(target: "customer_directory::service", email = "ana@example.com", "a careless event");
    tracing::debug!(target: "customer_directory::service", "booking from ANA@EXAMPLE.COM");
    let records = capture.records();
    assert_eq!(records.len(), 2);
    let leaks = scan(&records, &personal_values());
    let values: BTreeSet<&str> = leaks.iter().map(|(value, _)| value.as_str()).collect();
    assert!(values.contains("ana@example.com"), "leaks found: {leaks:?}");
    // Both events are caught: the field, and the message in another case.
    assert_eq!(
        leaks
            .iter()
            .filter(|(value, _)| value == "ana@example.com")
            .count(),
        2,
        "{leaks:?}"
    );
    // And a clean record is not reported.
    let clean = vec![Captured {
        kind: Kind::Event,
        level: Level::DEBUG,
        span: "record_booking".to_owned(),
        fields: vec![("outcome".to_owned(), "attached".to_owned())],
    }];
    assert!(scan(&clean, &personal_values()).is_empty());
}

fn cheap_accounts<S>(
    directory: Directory<S, customer_directory::ports::FixedClock>,
) -> Accounts<S, RecordingNotifier, customer_directory::ports::FixedClock>
where
    S: customer_directory::ports::store::AccountStore,
{
    Accounts::new(directory, RecordingNotifier::new())
        .with_hashing(PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap())
}

/// Two bookings for one new email recorded at once: with the store's reads delayed, both
/// read before either commits, so the second commit finds the key taken.
async fn two_racing_bookings<S: customer_directory::Store, C: customer_directory::Clock>(
    directory: &Directory<S, C>,
) -> (
    Result<customer_directory::Recorded, Error>,
    Result<customer_directory::Recorded, Error>,
) {
    let first = booking(
        "BK-1",
        BookingStatus::PAID,
        contact("ana@example.com", "Ana", "Silva"),
    );
    let second = booking(
        "BK-2",
        BookingStatus::PAID,
        contact("ana@example.com", "Ana", "Silva"),
    );
    tokio::join!(
        directory.record_booking(first, &Actor::System),
        directory.record_booking(second, &Actor::System)
    )
}

#[tokio::test]
async fn a_conflict_retry_emits_its_attempt_and_conflict_kind() {
    let (capture, _guard) = local_capture();
    let store = FaultInjectingStore::new(MemoryStore::new());
    // Both bookings read before either commits: the second commit finds the key taken.
    store.delay_each(std::time::Duration::from_millis(20));
    let directory = customer_directory::testing::conformance::directory(store);
    let (one, two) = two_racing_bookings(&directory).await;
    one.unwrap();
    two.unwrap();
    let retries: Vec<Captured> = capture
        .events()
        .into_iter()
        .filter(|event| {
            event
                .field("message")
                .is_some_and(|m| m.starts_with("commit conflicted"))
        })
        .collect();
    assert_eq!(retries.len(), 1, "{retries:?}");
    let retry = &retries[0];
    assert_eq!(retry.level, Level::DEBUG);
    assert_eq!(retry.field("attempt"), Some("1"));
    assert_eq!(retry.field("conflict"), Some("email_key_taken"));
    assert_eq!(
        retry.span, "record_booking",
        "emitted in the use case's span"
    );
}

#[tokio::test]
async fn exhausted_retries_emit_a_warning_with_the_attempts_and_the_last_conflict() {
    let (capture, _guard) = local_capture();
    let store = FaultInjectingStore::new(MemoryStore::new());
    store.delay_each(std::time::Duration::from_millis(20));
    let mut settings = DirectorySettings::default();
    settings.max_commit_attempts = 1;
    let directory = customer_directory::testing::conformance::directory_with(store, settings);
    let (one, two) = two_racing_bookings(&directory).await;
    one.unwrap();
    assert!(
        matches!(two, Err(Error::Contention { attempts: 1, .. })),
        "{two:?}"
    );
    let warnings: Vec<Captured> = capture
        .events()
        .into_iter()
        .filter(|event| event.level == Level::WARN)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].field("attempts"), Some("1"));
    assert_eq!(warnings[0].field("conflict"), Some("email_key_taken"));
    assert_eq!(
        warnings[0].field("message"),
        Some("commit retries exhausted; giving up")
    );
    // The booking's span says how it ended (each value recorded on its own).
    let booking_span: Vec<Captured> = capture
        .records()
        .into_iter()
        .filter(|record| record.span == "record_booking")
        .collect();
    assert!(
        booking_span
            .iter()
            .any(|record| record.field("error") == Some("contention"))
    );
    assert!(
        booking_span
            .iter()
            .any(|record| record.field("outcome") == Some("error"))
    );
}

#[tokio::test]
async fn a_failed_commit_emits_an_error_event_and_the_span_records_the_error_kind() {
    let (capture, _guard) = local_capture();
    let store = FaultInjectingStore::new(MemoryStore::new());
    store.fail_next_commits(1);
    let directory = customer_directory::testing::conformance::directory(store);
    let new = booking(
        "BK-1",
        BookingStatus::PAID,
        contact("ana@example.com", "Ana", "Silva"),
    );
    let result = directory.record_booking(new, &Actor::System).await;
    assert!(matches!(result, Err(Error::Store(_))), "{result:?}");
    let errors: Vec<Captured> = capture
        .events()
        .into_iter()
        .filter(|event| event.level == Level::ERROR)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field("error"), Some("backend"));
    assert_eq!(errors[0].field("message"), Some("store commit failed"));
    assert!(capture.records().iter().any(|record| record.span == "record_booking"
        && record.field("error") == Some("store")));
    assert_no_personal_data(&capture.records());
}

#[tokio::test]
async fn a_throttled_login_emits_a_warning_naming_the_account_only() {
    let (capture, _guard) = local_capture();
    let mut settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    settings.accounts.max_failed_logins = 2;
    let directory =
        customer_directory::testing::conformance::directory_with(MemoryStore::new(), settings);
    let accounts = cheap_accounts(directory);
    let good = Password::new("Plum-Tractor-Velvet-9");
    accounts
        .sign_up("ana@example.com", &good, &Actor::System)
        .await
        .unwrap();
    let wrong = Password::new("Quartz-Meadow-Lantern-4");
    for _ in 0..2 {
        let failed = accounts
            .log_in("ana@example.com", &wrong, &Actor::System)
            .await;
        assert!(
            matches!(failed, Err(AccountError::InvalidCredentials)),
            "{failed:?}"
        );
    }
    assert!(
        capture
            .events()
            .iter()
            .all(|event| event.level != Level::WARN),
        "no warning before the lock"
    );
    let throttled = accounts
        .log_in("ana@example.com", &good, &Actor::System)
        .await;
    assert!(
        matches!(throttled, Err(AccountError::Throttled { .. })),
        "{throttled:?}"
    );
    let account = accounts
        .directory()
        .store()
        .all_accounts()
        .into_iter()
        .next()
        .unwrap()
        .id;
    let warnings: Vec<Captured> = capture
        .events()
        .into_iter()
        .filter(|event| event.level == Level::WARN)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(
        warnings[0].field("account"),
        Some(account.to_string().as_str())
    );
    assert_eq!(
        warnings[0].field("message"),
        Some("login refused: the account is throttled after too many failed logins")
    );
    assert_eq!(warnings[0].span, "log_in");
    assert!(
        capture
            .records()
            .iter()
            .any(|record| record.span == "log_in" && record.field("error") == Some("throttled"))
    );
    // A change of password checks the current one the same way, and is refused the same way.
    let changed = accounts
        .change_password(account, &good, &wrong, &Actor::System)
        .await;
    assert!(
        matches!(changed, Err(AccountError::Throttled { .. })),
        "{changed:?}"
    );
    let warnings: Vec<Captured> = capture
        .events()
        .into_iter()
        .filter(|event| event.level == Level::WARN)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(
        warnings[1].field("account"),
        Some(account.to_string().as_str())
    );
    assert_eq!(warnings[1].span, "change_password");
    assert_no_personal_data(&capture.records());
}

#[tokio::test]
async fn a_configured_email_correlation_tags_the_span_and_never_logs_the_address() {
    use customer_directory::service::EmailCorrelation;
    use customer_directory::values::{EmailKey, EmailKeyPolicy};
    let (capture, _guard) = local_capture();
    let correlation = EmailCorrelation::new([3u8; 32]).unwrap();
    let expected =
        correlation.tag(&EmailKey::parse("ana@example.com", EmailKeyPolicy::default()).unwrap());
    let directory = customer_directory::testing::conformance::directory(MemoryStore::new())
        .with_email_correlation(correlation);
    let new = booking(
        "BK-1",
        BookingStatus::PAID,
        contact("Ana@Example.com", "Ana", "Silva"),
    );
    directory.record_booking(new, &Actor::System).await.unwrap();
    assert!(
        capture
            .records()
            .iter()
            .any(|record| record.span == "record_booking"
                && record.field("email_tag") == Some(expected.as_str()))
    );
    assert_no_personal_data(&capture.records());
}

/// A commit through the general path (a merge: customers, bookings, the merge record and its
/// participants, the audit event) records on its store span how many rows it changed, as a
/// booking's one-call commit does.
#[tokio::test]
async fn a_general_commit_on_sqlite_records_the_rows_it_changed() {
    rows_are_recorded_for_every_commit(sqlite_store().await).await;
}

/// The same on PostgreSQL, whose count comes from the transaction's own statistics.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_general_commit_on_postgres_records_the_rows_it_changed() {
    let Some(url) = support::postgres_url("rows affected in the trace") else {
        return;
    };
    let store = support::fresh_postgres_store(&url, "cd_trace").await;
    rows_are_recorded_for_every_commit(store).await;
}

async fn rows_are_recorded_for_every_commit<S>(store: S)
where
    S: customer_directory::Store + Clone + 'static,
{
    let (capture, _guard) = local_capture();
    let directory = customer_directory::testing::conformance::directory(store);
    let mut ids = Vec::new();
    for (code, email) in [("BK-1", "ana@example.com"), ("BK-2", "ana@work.example")] {
        let new = booking(code, BookingStatus::PAID, contact(email, "Ana", "Silva"));
        let recorded = directory.record_booking(new, &Actor::System).await.unwrap();
        ids.push(recorded.outcome.customer().unwrap());
    }
    let rows = |records: &[Captured]| -> Vec<u64> {
        records
            .iter()
            .filter(|record| record.span == "store")
            .filter_map(|record| record.field("rows_affected"))
            .map(|rows| rows.parse().unwrap())
            .collect()
    };
    let booked = rows(&capture.records());
    assert_eq!(booked.len(), 2, "each booking's commit: {booked:?}");
    assert!(booked.iter().all(|&rows| rows > 0), "{booked:?}");
    directory
        .merge(
            &customer_directory::MergeRequest::new(ids[0], [ids[1]]),
            &Actor::staff("desk"),
        )
        .await
        .unwrap();
    let all = rows(&capture.records());
    let merged = all[booked.len()..].to_vec();
    assert_eq!(merged.len(), 1, "the merge's one commit: {all:?}");
    // Two customers, a moved booking, the merge record with its two participants, an audit
    // event: at least six rows, whatever the statistics tables add.
    assert!(merged[0] >= 6, "{merged:?}");
    assert_no_personal_data(&capture.records());
}
