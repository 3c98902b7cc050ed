//! The schema both SQL adapters create, one versioned migration at a time. The statements
//! differ between databases only where their dialects do: the audit log's sequence column.

use super::sql::Migration;

/// Migration 1's statements, with the audit sequence column definition passed in.
macro_rules! schema_v1 {
    ($audit_seq:literal) => {
        &[
            "CREATE TABLE cd_customers (
                id TEXT PRIMARY KEY,
                version BIGINT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                record TEXT NOT NULL
            )",
            // One row per live email key: the primary key is the uniqueness the port promises.
            "CREATE TABLE cd_customer_email_keys (
                email_key TEXT PRIMARY KEY,
                customer_id TEXT NOT NULL REFERENCES cd_customers (id) ON DELETE CASCADE
            )",
            "CREATE TABLE cd_bookings (
                id TEXT PRIMARY KEY,
                version BIGINT NOT NULL,
                customer_id TEXT REFERENCES cd_customers (id),
                email_key TEXT,
                starts_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                record TEXT NOT NULL
            )",
            "CREATE TABLE cd_booking_match_keys (
                match_key TEXT NOT NULL,
                booking_id TEXT NOT NULL REFERENCES cd_bookings (id) ON DELETE CASCADE,
                PRIMARY KEY (match_key, booking_id)
            )",
            "CREATE TABLE cd_merges (
                id TEXT PRIMARY KEY,
                version BIGINT NOT NULL,
                merged_at BIGINT NOT NULL,
                record TEXT NOT NULL
            )",
            "CREATE TABLE cd_merge_participants (
                customer_id TEXT NOT NULL,
                merge_id TEXT NOT NULL REFERENCES cd_merges (id),
                PRIMARY KEY (customer_id, merge_id)
            )",
            concat!(
                "CREATE TABLE cd_audit_events (seq ",
                $audit_seq,
                ", at BIGINT NOT NULL, record TEXT NOT NULL)"
            ),
            "CREATE TABLE cd_audit_event_customers (
                customer_id TEXT NOT NULL,
                event_seq BIGINT NOT NULL REFERENCES cd_audit_events (seq),
                PRIMARY KEY (customer_id, event_seq)
            )",
            "CREATE TABLE cd_blocklist (
                target TEXT PRIMARY KEY,
                record TEXT NOT NULL
            )",
            "CREATE INDEX cd_customer_email_keys_customer ON cd_customer_email_keys (customer_id)",
            "CREATE INDEX cd_customers_status_created ON cd_customers (status, created_at)",
            "CREATE INDEX cd_bookings_customer ON cd_bookings (customer_id, starts_at, id)",
            "CREATE INDEX cd_bookings_unattributed ON cd_bookings (email_key, created_at, id) \
             WHERE customer_id IS NULL",
            "CREATE INDEX cd_booking_match_keys_booking ON cd_booking_match_keys (booking_id)",
        ]
    };
}

/// Migration 2: customer lists, their names unique ignoring case.
const SCHEMA_V2: &[&str] = &["CREATE TABLE cd_lists (
        id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    )"];

/// Migration 3: the inactivity scan (`customers_inactive_since`) looks for a customer's
/// bookings created since a date; with this index beside `cd_bookings_customer` (start
/// times) both halves of its test are index lookups.
const SCHEMA_V3: &[&str] =
    &["CREATE INDEX cd_bookings_customer_created ON cd_bookings (customer_id, created_at)"];

/// Migration 4: customer accounts and their one-time tokens. The login email key and the
/// claimed customer are unique columns (`NULL` while a commit moves them between accounts);
/// a token is keyed by the SHA-256 of its secret, and goes with its account.
const SCHEMA_V4: &[&str] = &[
    "CREATE TABLE cd_accounts (
        id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        email_key TEXT UNIQUE,
        customer_id TEXT UNIQUE,
        record TEXT NOT NULL
    )",
    "CREATE TABLE cd_account_tokens (
        hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES cd_accounts (id) ON DELETE CASCADE,
        version BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        record TEXT NOT NULL
    )",
    "CREATE INDEX cd_account_tokens_account ON cd_account_tokens (account_id, created_at, hash)",
];

/// SQLite's migrations.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        statements: schema_v1!("INTEGER PRIMARY KEY AUTOINCREMENT"),
    },
    Migration {
        version: 2,
        statements: SCHEMA_V2,
    },
    Migration {
        version: 3,
        statements: SCHEMA_V3,
    },
    Migration {
        version: 4,
        statements: SCHEMA_V4,
    },
];

/// PostgreSQL's migrations.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        statements: schema_v1!("BIGSERIAL PRIMARY KEY"),
    },
    Migration {
        version: 2,
        statements: SCHEMA_V2,
    },
    Migration {
        version: 3,
        statements: SCHEMA_V3,
    },
    Migration {
        version: 4,
        statements: SCHEMA_V4,
    },
];
