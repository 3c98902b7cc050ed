//! The generator of the fixtures: how they were written (by the schema version 6 code).
//!
//! `generate_v6_fixtures` writes the three fixture files (see `tests/fixtures/README.md`).
//! Run it only on the schema version 6 code: it refuses to write when `migrate()` leaves a
//! schema version other than 6.

use super::*;

use std::process::Command;

use chrono::TimeZone;
use customer_directory::adapters::sqlx::{self, Connection};
use customer_directory::ports::RecordingNotifier;
use customer_directory::records::{BlockTarget, NoteText};
use customer_directory::service::DetachMode;
use customer_directory::testing::FaultInjectingStore;
use customer_directory::values::EmailKeyPolicy;
use customer_directory::values::{HashParams, PasswordHashing};
use customer_directory::{
    Accounts, Clock, EmailAddress, MergeRequest, Password, PersonName, Phone, PostgresStore,
    Profile, Text,
};

/// The schema the directory is written into before it is dumped.
const SCHEMA: &str = "cd_fixture_v6";

/// The one schema version the fixtures may be written by.
const VERSION: i64 = 6;

/// Given name, family name, local part of the email; the customer's index in this
/// table decides its fate (see [`populate`]).
const PEOPLE: [(&str, &str, &str); 30] = [
    ("Ana", "Silva", "ana.silva"),
    ("Bruno", "Berg", "bruno.berg"),
    ("Carla", "Silva", "carla.silva"),
    ("Dara", "Okafor", "dara.okafor"),
    ("Elif", "Yılmaz", "elif.yilmaz"),
    ("Femi", "Adeyemi", "femi.adeyemi"),
    ("Greta", "Lund", "greta.lund"),
    ("Hugo", "Moreau", "hugo.moreau"),
    ("Inês", "Costa", "ines.costa"),
    ("Jonas", "Weber", "jonas.weber"),
    ("Kaito", "Sato", "kaito.sato"),
    ("Lena", "Novák", "lena.novak"),
    ("Mateo", "Rossi", "mateo.rossi"),
    ("Nadia", "Haddad", "nadia.haddad"),
    ("Omar", "Farouk", "omar.farouk"),
    ("Priya", "Sharma", "priya.sharma"),
    ("Quinn", "Byrne", "quinn.byrne"),
    ("Rosa", "Mendes", "rosa.mendes"),
    ("Sven", "Olsen", "sven.olsen"),
    ("Tara", "Kaur", "tara.kaur"),
    ("Umar", "Malik", "umar.malik"),
    ("Vera", "Petrova", "vera.petrova"),
    ("Wim", "de Vries", "wim.devries"),
    ("Xenia", "Ivanova", "xenia.ivanova"),
    ("Yusuf", "Demir", "yusuf.demir"),
    ("Zoé", "Martin", "zoe.martin"),
    ("Aiko", "Tanaka", "aiko.tanaka"),
    ("Björn", "Åberg", "bjorn.aberg"),
    ("Chloé", "Dubois", "chloe.dubois"),
    ("Dmitri", "Volkov", "dmitri.volkov"),
];

/// How many bookings each person makes: distinct among the customers that stay
/// active (0 to 17, 25, 26 and 29), so the booking count order is telling.
const COUNTS: [usize; 30] = [
    7, 12, 3, 15, 0, 9, 1, 18, 5, 11, 2, 14, 6, 17, 4, 10, 13, 8, 2, 0, 3, 1, 4, 5, 2, 16, 19, 3,
    4, 20,
];

const ARCHIVED: [usize; 2] = [18, 19];
const BLOCKED: [usize; 2] = [20, 21];
const SURVIVOR: usize = 22;
const MERGED: [usize; 2] = [23, 24];
const UNDONE_SURVIVOR: usize = 25;
const UNDONE_MERGED: usize = 26;
const REDACTED: usize = 27;
const DELETED: usize = 28;
const CLAIMED: usize = 29;

const GOOD: &str = "Plum-Tractor-Velvet-9";

fn email(index: usize) -> String {
    let domain = match index {
        9 => "gmail.com",
        _ => ["example.com", "example.org", "mail.example.net"][index % 3],
    };
    format!("{}@{domain}", PEOPLE[index].2)
}

fn key(address: &str) -> EmailKey {
    EmailKey::parse(address, EmailKeyPolicy::default()).unwrap()
}

fn text(value: &str) -> Text {
    Text::parse(value).unwrap()
}

fn profile(index: usize) -> Profile {
    let (given, family, _) = PEOPLE[index];
    let mut profile = Profile {
        given_name: Some(PersonName::parse(given).unwrap()),
        family_name: Some(PersonName::parse(family).unwrap()),
        email: Some(EmailAddress::parse(&email(index)).unwrap()),
        ..Profile::default()
    };
    if index % 3 != 1 {
        // Nadia and Omar share a phone (a suggestion by phone).
        let number = 5000 + index - usize::from(index == 14);
        profile.phone = Some(Phone::parse(&format!("+351 91 234 {number:04}"), None).unwrap());
    }
    let places = [
        Some(("PT", "Lisboa", "1100-148")),
        Some(("DE", "Berlin", "10115")),
        Some(("US", "Portland", "97201")),
        Some(("GB", "London", "SW1A 1AA")),
        None,
    ];
    if let Some((country, city, postcode)) = places[index % 5] {
        profile.address.country = Some(CountryCode::parse(country).unwrap());
        profile.address.city = Some(text(city));
        profile.address.postcode = Some(text(postcode));
        profile.address.line1 = Some(text(&format!("{} Harbour Street", index + 1)));
    }
    if index % 4 == 0 {
        let diet = ["vegan", "vegetarian", "none"][index % 3];
        profile.custom_fields.insert("diet".into(), text(diet));
    }
    if index % 5 == 2 {
        let size = 36 + index % 10;
        profile
            .custom_fields
            .insert("shoe_size".into(), text(&size.to_string()));
    }
    if index % 7 == 3 {
        let month = 1 + index % 9;
        profile
            .custom_fields
            .insert("member_since".into(), text(&format!("2024-{month:02}-15")));
    }
    profile
}

fn start_of_bookings() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

/// Booking `j` of person `i`: statuses, currencies, amounts and start times vary so
/// that counts, last bookings and totals order the customers differently.
fn booking(i: usize, j: usize) -> NewBooking {
    let status = if j == 0 {
        BookingStatus::PAID
    } else {
        [
            BookingStatus::CONFIRMED,
            BookingStatus::PAID,
            BookingStatus::COMPLETED,
            BookingStatus::CANCELLED,
            BookingStatus::PAID,
            BookingStatus::NO_SHOW,
        ][(i + j) % 6]
            .clone()
    };
    let currency = match (i + 2 * j) % 7 {
        0 | 1 => "USD",
        2 => "GBP",
        _ => "EUR",
    };
    let currency = Currency::parse(currency).unwrap();
    let minor = 15_00 + ((i * 131 + j * 17) % 90) * 100 + i;
    let total = Money::new(i64::try_from(minor).unwrap(), currency);
    let days = i64::try_from((i * 37 + j * 53) % 420).unwrap();
    let hours = i64::try_from(i % 9).unwrap();
    let starts = start_of_bookings() + TimeDelta::days(days) + TimeDelta::hours(hours);
    let mut contact = profile(i);
    if j == 2 && i % 5 == 1 {
        // Another first name: a related booking, pending review.
        contact.given_name = Some(PersonName::parse("Alex").unwrap());
    }
    let mut new = NewBooking::new(
        format!("BK-{i:02}-{j:02}"),
        status.clone(),
        contact,
        starts,
        total,
    );
    if status == BookingStatus::PAID || status == BookingStatus::COMPLETED {
        new.paid = total;
    }
    new.ends_at = Some(starts + TimeDelta::hours(3));
    new
}

/// A booking for an address no customer holds, with a status that leaves it
/// unattributed.
fn stray(code: &str, address: &str, given: &str, status: BookingStatus) -> NewBooking {
    let contact = Profile {
        given_name: Some(PersonName::parse(given).unwrap()),
        email: Some(EmailAddress::parse(address).unwrap()),
        ..Profile::default()
    };
    let eur = Currency::parse("EUR").unwrap();
    NewBooking::new(
        code,
        status,
        contact,
        start_of_bookings() + TimeDelta::days(500),
        Money::new(42_00, eur),
    )
}

type Logged = FaultInjectingStore<SqliteStore>;

/// Writes the directory through the crate's use cases; returns the questions to ask
/// of it.
async fn populate(
    accounts: &Accounts<Logged, RecordingNotifier, FixedClock>,
    clock: &FixedClock,
    mail: &RecordingNotifier,
) -> Probes {
    let dir = accounts.directory();
    let staff = Actor::staff("front-desk");
    let tick = || clock.advance(TimeDelta::minutes(1));
    let mut customers = vec![None; PEOPLE.len()];
    let mut bookings = Vec::new();
    let mut created_from = None;
    let mut created_until = None;
    let mut inactive_cutoff = None;

    // Round 0 creates everyone: by hand, or by a first (paid) booking.
    let rounds = COUNTS.iter().copied().max().unwrap();
    for j in 0..rounds {
        for i in 0..PEOPLE.len() {
            if j == 0 && (i % 2 == 0 || COUNTS[i] == 0) {
                let created = dir.create_customer(profile(i), &staff).await.unwrap();
                customers[i] = Some(created.customer);
                tick();
            }
            if j < COUNTS[i] {
                let recorded = dir
                    .record_booking(booking(i, j), &Actor::System)
                    .await
                    .unwrap();
                if j == 0 && customers[i].is_none() {
                    customers[i] = recorded.outcome.customer();
                }
                assert!(
                    recorded.outcome.customer().is_some(),
                    "{i}/{j}: {:?}",
                    recorded.outcome
                );
                bookings.push(recorded.booking);
                tick();
            }
            if j == 0 && i == 9 {
                created_from = Some(clock.now());
            }
            if j == 0 && i == 19 {
                created_until = Some(clock.now());
            }
        }
        if j == 0 {
            inactive_cutoff = Some(clock.now());
        }
    }
    let customers: Vec<CustomerId> = customers.into_iter().map(Option::unwrap).collect();
    let id = |index: usize| customers[index];

    // Bookings nobody's: pending, waiting, cancelled, and a loose match of Jonas.
    let mut strays = Vec::new();
    for new in [
        stray(
            "WALK-1",
            "walk.in@example.com",
            "Walker",
            BookingStatus::PENDING,
        ),
        stray(
            "WALK-2",
            "Walk.In@Example.com",
            "Walker",
            BookingStatus::PENDING,
        ),
        stray(
            "LATER-1",
            "later@example.org",
            "Lou",
            BookingStatus::WAITING,
        ),
        stray(
            "TRIP-1",
            "jonasweber+trip@gmail.com",
            "Jonas",
            BookingStatus::PENDING,
        ),
        stray(
            "GONE-1",
            "gone.cancel@example.net",
            "Gus",
            BookingStatus::CANCELLED,
        ),
    ] {
        let recorded = dir.record_booking(new, &Actor::System).await.unwrap();
        assert!(
            recorded.outcome.customer().is_none(),
            "{:?}",
            recorded.outcome
        );
        bookings.push(recorded.booking);
        strays.push(recorded.booking);
        tick();
    }
    // A waiting booking confirmed: it now creates its customer.
    let later = dir
        .change_booking_status(strays[2], BookingStatus::CONFIRMED, &staff)
        .await
        .unwrap();
    let later = later
        .customer()
        .expect("the confirmed booking creates a customer");
    tick();

    // Related bookings: one confirmed, one detached, the others left for review.
    for (index, action) in [(1, "confirm"), (11, "detach")] {
        let related = dir.related_bookings(id(index)).await.unwrap();
        let booking = related.first().expect("a related booking").id;
        if action == "confirm" {
            dir.confirm_related(booking, &staff).await.unwrap();
        } else {
            dir.detach_booking(booking, DetachMode::LeaveUnattributed, &staff)
                .await
                .unwrap();
        }
        tick();
    }
    // A contact edit (propagated to the customer's bookings) and a cancellation.
    let mut edited = profile(3);
    edited.phone = Some(Phone::parse("+351 96 555 0303", None).unwrap());
    edited.address.city = Some(text("Porto"));
    dir.update_contact(id(3), edited, &staff).await.unwrap();
    tick();
    let carla = dir.customer_bookings(id(2)).await.unwrap();
    dir.change_booking_status(carla[1].id, BookingStatus::CANCELLED, &staff)
        .await
        .unwrap();
    tick();

    // Notes, consent, brochures.
    let note = |t: &str| NoteText::parse(t).unwrap();
    dir.add_note(
        id(0),
        note("Prefers morning tours"),
        Some(text("preference")),
        &staff,
    )
    .await
    .unwrap();
    let second = dir
        .add_note(id(0), note("Allergic to nuts"), None, &staff)
        .await
        .unwrap();
    dir.edit_note(
        id(0),
        second,
        note("Allergic to nuts and sesame"),
        Some(text("health")),
        &staff,
    )
    .await
    .unwrap();
    dir.move_note(id(0), second, 0, &staff).await.unwrap();
    let gone = dir
        .add_note(id(0), note("Typo"), None, &staff)
        .await
        .unwrap();
    dir.delete_note(id(0), gone, &staff).await.unwrap();
    dir.add_note(
        id(MERGED[0]),
        note("Came with a group of six"),
        None,
        &staff,
    )
    .await
    .unwrap();
    dir.set_newsletter(id(1), true, text("web form"), &staff)
        .await
        .unwrap();
    dir.set_newsletter(id(1), false, text("unsubscribe link"), &staff)
        .await
        .unwrap();
    dir.set_newsletter(id(2), true, text("front desk"), &staff)
        .await
        .unwrap();
    let brochure = dir
        .request_brochure(id(4), text("Summer 2027"), &staff)
        .await
        .unwrap();
    dir.request_brochure(id(6), text("Winter walks"), &staff)
        .await
        .unwrap();
    dir.mark_brochure_sent(id(4), brochure, &staff)
        .await
        .unwrap();
    tick();

    // Lists.
    let vip = dir.create_list(text("VIP"), &staff).await.unwrap();
    for index in [0, 3, 5, MERGED[0], ARCHIVED[0], UNDONE_MERGED] {
        dir.add_to_list(id(index), vip, &staff).await.unwrap();
    }
    dir.remove_from_list(id(5), vip, &staff).await.unwrap();
    let autumn = dir
        .create_list(text("Newsletter Q3"), &staff)
        .await
        .unwrap();
    for index in [1, 2, UNDONE_SURVIVOR, SURVIVOR, 17] {
        dir.add_to_list(id(index), autumn, &staff).await.unwrap();
    }
    dir.rename_list(autumn, text("Autumn newsletter"), &staff)
        .await
        .unwrap();
    let empty = dir.create_list(text("Empty list"), &staff).await.unwrap();
    tick();

    // Accounts: verified and claiming, with a pending reset, with a used reset, and
    // one unverified without a profile.
    let password = Password::new(GOOD);
    let mut account_ids = Vec::new();
    for index in [CLAIMED, 5, 12] {
        accounts
            .sign_up(&email(index), &password, &Actor::System)
            .await
            .unwrap();
        let token = mail.last_verification_token().unwrap();
        let account = accounts.verify_email(&token, &Actor::System).await.unwrap();
        account_ids.push(account);
        tick();
    }
    accounts
        .log_in(&email(CLAIMED), &password, &Actor::System)
        .await
        .unwrap();
    accounts
        .request_password_reset(&email(5), &Actor::System)
        .await
        .unwrap();
    tick();
    accounts
        .request_password_reset(&email(12), &Actor::System)
        .await
        .unwrap();
    let token = mail.last_reset_token().unwrap();
    accounts
        .reset_password(
            &token,
            &Password::new("Quartz-Meadow-Lantern-4"),
            &Actor::System,
        )
        .await
        .unwrap();
    tick();
    accounts
        .sign_up("no.profile@example.com", &password, &Actor::System)
        .await
        .unwrap();
    let unverified = accounts
        .directory()
        .store()
        .account_by_email(&key("no.profile@example.com"))
        .await
        .unwrap()
        .expect("the unverified account");
    account_ids.push(unverified.id);
    tick();

    // Blocklist: two customers, a domain, an address; one entry added and removed.
    dir.block(id(BLOCKED[0]), "chargeback", &staff)
        .await
        .unwrap();
    dir.block(id(BLOCKED[1]), "abusive messages", &staff)
        .await
        .unwrap();
    let domain = BlockTarget::domain("spam.example").unwrap();
    dir.add_to_blocklist(domain, "spam domain", &staff)
        .await
        .unwrap();
    let fraud = BlockTarget::Address(key("fraud@example.net"));
    dir.add_to_blocklist(fraud, "card fraud", &staff)
        .await
        .unwrap();
    let mistake = BlockTarget::Address(key("mistake@example.com"));
    dir.add_to_blocklist(mistake.clone(), "typo", &staff)
        .await
        .unwrap();
    dir.remove_from_blocklist(mistake, &staff).await.unwrap();
    tick();

    // Merges: one that stands, one undone.
    let merged = MERGED.map(id);
    let kept = dir
        .merge(&MergeRequest::new(id(SURVIVOR), merged), &staff)
        .await
        .unwrap();
    tick();
    let undone = dir
        .merge(
            &MergeRequest::new(id(UNDONE_SURVIVOR), [id(UNDONE_MERGED)]),
            &staff,
        )
        .await
        .unwrap();
    tick();
    dir.undo_merge(undone.merge, &staff).await.unwrap();
    tick();

    // Archived, redacted, deleted.
    for index in ARCHIVED {
        dir.archive(id(index), &staff).await.unwrap();
    }
    dir.archive(id(REDACTED), &staff).await.unwrap();
    tick();
    dir.redact(id(REDACTED), &[], &staff).await.unwrap();
    tick();
    dir.delete_customer(id(DELETED), &staff).await.unwrap();
    tick();

    // The questions.
    let store = dir.store();
    let mut all_customers = customers.clone();
    all_customers.push(later);
    let mut emails: Vec<EmailKey> = (0..PEOPLE.len()).map(|i| key(&email(i))).collect();
    for extra in [
        "walk.in@example.com",
        "later@example.org",
        "jonasweber+trip@gmail.com",
        "gone.cancel@example.net",
        "someone@spam.example",
        "fraud@example.net",
        "mistake@example.com",
        "unknown@example.com",
        "no.profile@example.com",
    ] {
        emails.push(key(extra));
    }
    let mut match_keys = Vec::new();
    for customer in &all_customers {
        if let Some(record) = store.customer(*customer).await.unwrap() {
            match_keys.push(record.profile.match_keys());
        }
    }
    for booking in &strays {
        let record = store.booking(*booking).await.unwrap().unwrap();
        match_keys.push(record.contact.match_keys());
    }
    let currencies = ["EUR", "USD", "GBP"].map(|c| Currency::parse(c).unwrap());
    let countries = ["PT", "DE", "US", "GB"].map(|c| CountryCode::parse(c).unwrap());
    Probes {
        customers: all_customers,
        bookings,
        merges: vec![kept.merge, undone.merge],
        accounts: account_ids,
        emails,
        match_keys,
        lists: vec![vip, autumn, empty],
        currencies: currencies.to_vec(),
        countries: countries.to_vec(),
        custom_field: ("diet".to_owned(), "vegan".to_owned()),
        created: (created_from.unwrap(), created_until.unwrap()),
        last_booking: (
            start_of_bookings() + TimeDelta::days(200),
            start_of_bookings() + TimeDelta::days(380),
        ),
        inactive_cutoff: inactive_cutoff.unwrap(),
        now: clock.now(),
    }
}

/// Runs a program, returning its standard output; fails on a non-zero exit.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("running {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `pg_dump` of `SCHEMA`, made loadable into a fresh schema by `raw_sql`: the schema
/// name replaced by the placeholder, psql's meta commands dropped.
fn dump(url: &str) -> String {
    let pg_dump = std::env::var("PG_DUMP").unwrap_or_else(|_| "pg_dump".to_owned());
    let schema = format!("--schema={SCHEMA}");
    let raw = run(
        &pg_dump,
        &[
            "--inserts",
            "--no-owner",
            "--no-privileges",
            &schema,
            "--dbname",
            url,
        ],
    );
    let mut out = String::new();
    for line in raw.lines() {
        if line.starts_with('\\') || line.starts_with("SET transaction_timeout") {
            continue;
        }
        out.push_str(&line.replace(SCHEMA, SCHEMA_PLACEHOLDER));
        out.push('\n');
    }
    out
}

async fn execute(url: &str, statement: &str) {
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(statement)
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
}

async fn postgres_version(url: &str) -> i64 {
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
    let version = sqlx::query_scalar(&format!("SELECT max(version) FROM {SCHEMA}.cd_migrations"))
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    version
}

#[tokio::test]
#[ignore = "writes tests/fixtures/directory-v6.*; only ever run on the schema version 6 code"]
async fn generate_v6_fixtures() {
    let url = std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL").expect(
        "the generator writes the PostgreSQL dump too: set CUSTOMER_DIRECTORY_POSTGRES_URL",
    );
    let work = std::env::temp_dir().join(format!(
        "cd-fixtures-{}",
        CustomerId::new().as_uuid().simple()
    ));
    std::fs::create_dir_all(&work).unwrap();
    let file = work.join("directory.sqlite");
    let sqlite_url = format!("sqlite://{}", file.display());

    // The directory, written through the crate's use cases on SQLite, every commit
    // kept to be replayed on PostgreSQL.
    let sqlite = SqliteStore::connect(&sqlite_url).await.unwrap();
    sqlite.migrate().await.unwrap();
    let logged = FaultInjectingStore::new(sqlite.clone());
    logged.log_commits();
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap());
    let mail = RecordingNotifier::new();
    let directory = Directory::with_clock(logged.clone(), settings(), clock.clone());
    let hashing = PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap();
    let accounts = Accounts::new(directory, mail.clone()).with_hashing(hashing);
    let probes = populate(&accounts, &clock, &mail).await;
    let expected = answers(&sqlite, &probes).await;

    // The same commits on PostgreSQL give the same answers.
    execute(&url, &format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")).await;
    let postgres = PostgresStore::connect_with_schema(&url, SCHEMA)
        .await
        .unwrap();
    postgres.migrate().await.unwrap();
    for changes in logged.take_commits() {
        postgres.commit(changes).await.unwrap();
    }
    assert_same_answers(&expected, &answers(&postgres, &probes).await);
    drop(postgres);
    let dumped = dump(&url);
    let postgres_schema = postgres_version(&url).await;
    execute(&url, &format!("DROP SCHEMA {SCHEMA} CASCADE")).await;

    // The SQLite file: closed (the WAL checkpointed into it), vacuumed, and read again.
    sqlite.close().await;
    drop((accounts, logged, sqlite));
    run("sqlite3", &[&file.display().to_string(), "VACUUM"]);
    let sqlite_schema = run(
        "sqlite3",
        &[
            "-readonly",
            &file.display().to_string(),
            "SELECT max(version) FROM cd_migrations",
        ],
    );
    assert_eq!(
        (sqlite_schema.trim(), postgres_schema),
        ("6", VERSION),
        "fixtures of schema version 6 are written by the schema version 6 code only"
    );
    let copy = FileCopy(work.join("reopened.sqlite"));
    std::fs::copy(&file, &copy.0).unwrap();
    let reopened = SqliteStore::connect(&format!("sqlite://{}", copy.0.display()))
        .await
        .unwrap();
    assert_same_answers(&expected, &answers(&reopened, &probes).await);
    reopened.close().await;

    let fixture = Fixture {
        written_by: format!(
            "customer-directory {} (schema version {VERSION})",
            env!("CARGO_PKG_VERSION")
        ),
        probes,
        answers: expected,
    };
    assert_fixture_is_telling(&fixture);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(root.join("tests/fixtures")).unwrap();
    std::fs::copy(&file, root.join(SQLITE_FIXTURE)).unwrap();
    std::fs::write(root.join(POSTGRES_FIXTURE), dumped).unwrap();
    let mut json = serde_json::to_string_pretty(&fixture).unwrap();
    json.push('\n');
    std::fs::write(root.join(EXPECTED_FIXTURE), json).unwrap();
    std::fs::remove_dir_all(&work).unwrap();
}
