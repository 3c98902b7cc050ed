//! An embeddable customer directory for booking businesses (tours, activities,
//! appointments, salons).
//!
//! It keeps **one profile per customer** and attributes every booking to the right profile
//! by its email address, so a host application never has to write that logic itself.
//! Storage is the host's choice: implement [`Store`] for your database, or use an
//! adapter that ships with the crate ([`MemoryStore`] always; SQL adapters behind
//! cargo features).
//!
//! # Quick start
//!
//! ```
//! use customer_directory::MemoryStore;
//! use customer_directory::{Actor, AttributionOutcome, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Money, NewBooking};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
//!
//! // Contact details exactly as the guest typed them; every invalid field is reported at once.
//! let form = ContactForm {
//!     given_name: "Ana".into(),
//!     email: "  Ana.Silva@Example.COM ".into(),
//!     ..ContactForm::default()
//! };
//! let contact = form.parse(directory.settings())?;
//! let price = Money::new(65_00, Currency::parse("EUR")?);
//!
//! let first = NewBooking::new("BK-1", BookingStatus::PAID, contact.clone(), chrono::Utc::now(), price);
//! let recorded = directory.record_booking(first, &Actor::System).await?;
//! let AttributionOutcome::CreatedCustomer(ana) = recorded.outcome else { unreachable!() };
//!
//! // The same guest again, typed differently: same profile.
//! let again = NewBooking::new("BK-2", BookingStatus::CONFIRMED, contact, chrono::Utc::now(), price);
//! let recorded = directory.record_booking(again, &Actor::System).await?;
//! assert_eq!(recorded.outcome.customer(), Some(ana));
//! assert_eq!(directory.customer_bookings(ana).await?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # How a booking is attributed
//!
//! | situation | outcome |
//! |---|---|
//! | the email or its domain is on the blocklist | [`Error::Blocked`]: nothing is stored or changed; refuse the booking |
//! | a live customer has this email key, details agree | attached as a primary booking; empty profile fields are filled, never overwritten |
//! | a live customer has this email key, a name, phone or address detail differs | attached as a *related* booking pending review, listing the [`Detail`](records::Detail)s that differ |
//! | nobody has the key, the status locks | a new customer is created from the booking |
//! | nobody has the key, the status does not lock | left unattributed; decided again when its status changes |
//!
//! Archived customers still match (and are reactivated, by default); redacted ones never do;
//! a booking staff detached from a customer is never re-attached to it automatically. The
//! rules live in one pure function, [`attribute`](decisions::attribute), which property tests exercise directly.
//!
//! # The layers
//!
//! The crate is built in layers; each module imports only from the layers below it, and
//! each layer is a public module holding its types (`ARCHITECTURE.md` in the repository
//! draws the map). From the bottom:
//!
//! - [`limits`]: the maximum length of every free-text input, in one table.
//! - [`values`], validated on construction: [`EmailAddress`] and its matching key
//!   [`EmailKey`](values::EmailKey) (plus [`LooseEmailKey`](values::LooseEmailKey) for
//!   suggestions only), [`Phone`] (E.164), [`PersonName`], [`Text`], [`Money`], the ids,
//!   and [`Password`] with its policy and hashing.
//! - [`settings`]: [`DirectorySettings`] and [`AccountSettings`], how the directory behaves
//!   for one business.
//! - [`records`]: what the directory keeps: [`Profile`] (a person's details, also a
//!   booking's contact snapshot), [`Customer`], [`Booking`], notes and lists, accounts and
//!   audit events.
//! - [`ports`]: what the service needs from the world: the [`Store`] (async reads and one
//!   atomic commit, in [`ports::store`] with everything an adapter author needs), the
//!   [`CustomerQuery`] language it answers, the [`Clock`] and the
//!   [`Notifier`](ports::Notifier) (outgoing mail).
//! - [`decisions`]: the product rules as pure functions:
//!   [`attribute`](decisions::attribute) returns an [`AttributionOutcome`] and a
//!   [`ChangeSet`](ports::store::ChangeSet); merging, redaction and duplicate detection
//!   the same way.
//! - [`reports`]: summaries, CSV export and import, statements.
//! - [`service`]: [`Directory`], one method per use case, retrying on write conflicts, so
//!   concurrent bookings for one new email create exactly one customer; and [`Accounts`]
//!   (sign-up, verification, login with throttling, password change and reset,
//!   self-service, saved payment method) over a [`Directory`].
//! - [`adapters`]: [`MemoryStore`] and, behind features, the SQLite and PostgreSQL stores.
//! - `testing` (feature `testing`): the conformance suite every store must pass.
//!
//! The root re-exports what a host uses every day; everything else is one path away, in
//! its layer. Searching: [`Directory::search`] pages through a [`CustomerQuery`] (text,
//! filters, sort) by keyset [`Cursor`](ports::Cursor)s and [`Directory::count`] counts its
//! matches; the SQL adapters run both in SQL on indexed columns.
//!
//! # Limits
//!
//! Every free-text input has a maximum length, so an absurd value (a 1 MB booking code, a
//! 1 MB search) is refused with a typed error naming the input, its length and the maximum
//! before the store is read or written, instead of being stored or reaching a database that
//! fails on it. Lengths are in Unicode scalar values of the trimmed text unless the table
//! says bytes. The values live in [`limits`] (one constant each, and [`limits::Input`] lists
//! them); [`Error::TooLong`] carries a [`limits::TooLong`].
//!
//! | input | limit | applies to | refused with |
//! |---|---|---|---|
//! | booking code | 128 characters | `NewBooking::code` | `Error::TooLong` (and `BookingProblem::TooLong`) |
//! | booking status | 64 characters | `BookingStatus::new` (`BookingStatus::MAX_CHARS`) | `TextError::TooLong` |
//! | search text | 256 characters | `CustomerQuery::text`, in `search` and `count` | `Error::TooLong` |
//! | person name | 200 characters | given, family and display name (`PersonName::MAX_CHARS`) | `TextError::TooLong` |
//! | text value | 1,000 characters | address lines, city, region, postcode, list names, note tags, brochures, consent sources (`Text::MAX_CHARS`) | `TextError::TooLong` |
//! | note | 10,000 characters | `NoteText::MAX_CHARS` | `TextError::TooLong` |
//! | email address | 254 bytes | `EmailAddress`, `EmailKey`, `find_by_email` | `EmailError::AddressTooLong` |
//! | phone number | 64 characters | `Phone::parse` | `PhoneError::Invalid` |
//! | custom field key | 64 characters | profiles, forms, definitions, `custom_field_equals`, import headers | `Error::TooLong`, or `CustomFieldError::TooLong` in a form's problems |
//! | custom field value | 1,000 characters | profile values (`Text`), `custom_field_equals` | `TextError::TooLong`, `Error::TooLong` |
//! | custom field label | 200 characters | `CustomFieldDefinition::new` | `CustomFieldError::TooLong` |
//! | custom field pattern | 1,000 characters | `CustomFieldPattern::new`, before compiling | `CustomFieldError::TooLong` |
//! | custom field choice | 1,000 characters | each choice of `CustomFieldKind::Choice` | `CustomFieldError::TooLong` |
//! | block reason | 1,000 characters | `block`, `add_to_blocklist` | `Error::TooLong` |
//! | staff identifier | 200 characters | `Actor::Staff`, for every use case, `Accounts` included | `Error::TooLong` |
//! | page cursor | 4,096 bytes | `Cursor::parse` | `CursorError::Malformed` |
//! | import file | 33,554,432 bytes | `import_customers`, `read_customer_rows` (32 MiB; no more is read) | `ImportError::FileTooLarge` |
//! | import file | 100,000 rows | data rows of one import (one commit) | `ImportError::TooLong` |
//! | import cell | 4,096 bytes | every cell, header included | `ImportError::TooLong` |
//! | booking batch | 10,000 rows | bookings of one `record_bookings` call (one commit) | `Error::TooLong` |
//! | booking import file | 4,000,000,000 bytes | `BookingReader`, `import_bookings` (read row by row; no more is read) | `BookingFileError::FileTooLarge` |
//! | booking import file | 10,000,000 rows | data rows of one booking import (committed in batches) | `BookingFileError::TooLong` |
//! | booking import row | 1,048,576 bytes | one row of a booking file as written: the most buffered for a row | `BookingFileError::TooLong` |
//! | password | 4,096 bytes | `MAX_PASSWORD_BYTES`, before hashing (the policy's own maximum is lower) | `HashError::PasswordTooLong` |
//! | payment provider token | 255 characters | `SavedPaymentMethod::MAX_TOKEN_CHARS` | `PaymentMethodError::Token` |
//! | payment card brand | 32 characters | `SavedPaymentMethod::MAX_BRAND_CHARS` | `PaymentMethodError::Brand` |
//!
//! Each commit a use case of [`Directory`] or [`Accounts`] makes is checked too (staff
//! identifiers, block reasons, new bookings' codes, new customers' custom field keys), so none
//! can store an over-long value; records stored before a limit existed are not refused when
//! they change.
//!
//! # Features
//!
//! Only `tracing` is enabled by default; the in-memory store is always available. (Each
//! item below is a link when the documentation is built with its feature.)
//!
//! - `tracing` (default): spans and events through `tracing` for the host's subscriber:
//!   one `debug` span per use case, store calls with their duration, conflict retries,
//!   exhausted retries, failed commits and throttled logins; ids, counts and kinds only,
//!   never personal data (see [`service::EmailCorrelation`] to correlate by email).
//!   `--no-default-features` compiles it out.
#![cfg_attr(
    feature = "sqlite",
    doc = "- `sqlite`: [`SqliteStore`], the port on SQLite (via `rusqlite`, SQLite compiled in)."
)]
#![cfg_attr(
    not(feature = "sqlite"),
    doc = "- `sqlite`: `SqliteStore`, the port on SQLite (via `rusqlite`, SQLite compiled in)."
)]
#![cfg_attr(
    feature = "postgres",
    doc = "- `postgres`: [`PostgresStore`], the port on PostgreSQL (via `sqlx`)."
)]
#![cfg_attr(
    not(feature = "postgres"),
    doc = "- `postgres`: `PostgresStore`, the port on PostgreSQL (via `sqlx`)."
)]
#![cfg_attr(
    feature = "pdf",
    doc = "- `pdf`: [`Statement::to_pdf`](reports::statement::Statement::to_pdf), statements as laid-out, tagged PDF documents in any script (pure Rust, `krilla`, embedded DejaVu Sans or the host's font)."
)]
#![cfg_attr(
    not(feature = "pdf"),
    doc = "- `pdf`: `Statement::to_pdf`, statements as laid-out, tagged PDF documents in any script (pure Rust, `krilla`, embedded DejaVu Sans or the host's font)."
)]
#![cfg_attr(
    feature = "testing",
    doc = "- `testing`: the [`testing`] module for hosts' tests: the store conformance suite \
           ([`conformance_tests!`]), a fault-injecting store wrapper, and proptest strategies."
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "- `testing`: the `testing` module for hosts' tests: the store conformance suite \
           (`conformance_tests!`), a fault-injecting store wrapper, and proptest strategies."
)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod adapters;
pub mod decisions;
pub mod limits;
pub mod ports;
pub mod records;
pub mod reports;
pub mod service;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;
pub mod values;

// The root holds what a host uses every day; everything else has one public home in its
// layer's module, named in the crate docs above.
pub use adapters::MemoryStore;
#[cfg(feature = "postgres")]
pub use adapters::PostgresStore;
#[cfg(feature = "sqlite")]
pub use adapters::SqliteStore;
pub use decisions::{AttributionOutcome, MergeRequest, UndoReport};
pub use ports::store::Store;
pub use ports::{Clock, CustomerPage, CustomerQuery, SystemClock};
pub use records::{
    Actor, Booking, ContactForm, Customer, CustomerStatus, MergeReport, NewBooking, Profile,
};
pub use service::{AccountError, Accounts, Directory, Error, Login, Recorded};
pub use settings::{AccountSettings, DirectorySettings};
pub use values::{
    AccountId, BookingId, BookingStatus, Currency, CustomerId, EmailAddress, MergeId, Money,
    Password, PersonName, Phone, Text,
};
