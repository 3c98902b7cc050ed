//! The schema both SQL adapters create, one versioned migration at a time. The statements
//! differ between databases only where their dialects do: the audit log's sequence column.

/// One schema migration: its version and the statements that apply it.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) statements: &'static [&'static str],
}

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

/// Migration 5: searching the directory in SQL (see [`crate::ports::query::builder::CustomerQuery`]). Customers
/// gain the derived columns a query filters and sorts on, kept up to date by every commit
/// that writes the customer or one of its bookings: the search text, the name sort key and
/// its first letter, the country, the booking count and the start of the last booking
/// (`-9223372036854775807`, `i64::MIN + 1`, without bookings). Totals per currency, list memberships and custom field
/// values get tables of their own. `migrate()` fills them for the rows already stored.
/// `$collate` makes the text sort keys compare byte by byte on PostgreSQL, as on SQLite.
macro_rules! schema_v5 {
    ($collate:literal) => {
        &[
            "ALTER TABLE cd_customers ADD COLUMN search_text TEXT NOT NULL DEFAULT ''",
            concat!("ALTER TABLE cd_customers ADD COLUMN sort_name TEXT ", $collate, " NOT NULL DEFAULT ''"),
            concat!("ALTER TABLE cd_customers ADD COLUMN initial TEXT ", $collate, " NOT NULL DEFAULT ''"),
            "ALTER TABLE cd_customers ADD COLUMN country TEXT",
            "ALTER TABLE cd_customers ADD COLUMN booking_count BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE cd_customers ADD COLUMN last_booking_at BIGINT NOT NULL \
             DEFAULT -9223372036854775807",
            "CREATE TABLE cd_customer_totals (
                customer_id TEXT NOT NULL REFERENCES cd_customers (id) ON DELETE CASCADE,
                currency TEXT NOT NULL,
                total BIGINT NOT NULL,
                PRIMARY KEY (customer_id, currency)
            )",
            "CREATE TABLE cd_customer_lists (
                list_id TEXT NOT NULL,
                customer_id TEXT NOT NULL REFERENCES cd_customers (id) ON DELETE CASCADE,
                PRIMARY KEY (list_id, customer_id)
            )",
            "CREATE TABLE cd_customer_fields (
                field_key TEXT NOT NULL,
                value TEXT NOT NULL,
                customer_id TEXT NOT NULL REFERENCES cd_customers (id) ON DELETE CASCADE,
                PRIMARY KEY (field_key, value, customer_id)
            )",
            "CREATE INDEX cd_customer_totals_value ON cd_customer_totals (currency, total, customer_id)",
            "CREATE INDEX cd_customer_lists_customer ON cd_customer_lists (customer_id)",
            "CREATE INDEX cd_customer_fields_customer ON cd_customer_fields (customer_id)",
            "CREATE INDEX cd_customers_sort_name ON cd_customers (sort_name, id)",
            "CREATE INDEX cd_customers_created ON cd_customers (created_at, id)",
            "CREATE INDEX cd_customers_last_booking ON cd_customers (last_booking_at, id)",
            "CREATE INDEX cd_customers_booking_count ON cd_customers (booking_count, id)",
            "CREATE INDEX cd_customers_initial ON cd_customers (initial, sort_name, id)",
            "CREATE INDEX cd_customers_country ON cd_customers (country, sort_name, id)",
        ]
    };
}

/// The version of the migration that adds the search columns: `migrate()` fills them for
/// existing rows in the same transaction.
pub(crate) const SEARCH_MIGRATION: i64 = 5;

/// Migration 6 on SQLite: the table a commit made in one call (a statement list, as the
/// adapter ran commits until migration 7 dropped the table) inserted the outcome of each
/// check into. Its trigger drops the row
/// of a check that passed, so the table stays empty and nothing is written, and aborts the
/// statement of a check that failed.
#[cfg(feature = "sqlite")]
const SQLITE_V6: &[&str] = &[
    "CREATE TABLE cd_commit_expectations (met INTEGER NOT NULL)",
    "CREATE TRIGGER cd_commit_expectations_checked BEFORE INSERT ON cd_commit_expectations
     BEGIN
         SELECT CASE WHEN NEW.met THEN RAISE(IGNORE)
             ELSE RAISE(ABORT, 'a commit expectation was not met') END;
     END",
];

/// Migration 6 on PostgreSQL: the function a commit made in one statement (see
/// `adapters::postgres::one_call`) passes its checks to; it raises an error, aborting the
/// statement, unless they all hold. `VOLATILE`, so the planner never evaluates it early.
#[cfg(feature = "postgres")]
const POSTGRES_V6: &[&str] = &[
    "CREATE FUNCTION cd_expectations_met(met boolean) RETURNS boolean
     LANGUAGE plpgsql VOLATILE AS $$
     BEGIN
         IF met IS NOT TRUE THEN
             RAISE EXCEPTION 'a commit expectation was not met';
         END IF;
         RETURN true;
     END
     $$",
];

/// Migration 7: booking statistics move out of the customer row into a narrow table of
/// their own, so that recording a booking never rewrites `cd_customers` (see
/// `adapters::sql::statistics`). Existing statistics are copied; the last activity (the
/// latest creation or start among a customer's bookings, which the inactivity scan
/// compares) is computed from the bookings, replacing the index that scan used. Indexes no
/// read uses any more go: the totals' value index (the total-value sort joins by customer)
/// and the match keys' booking index (a rewritten booking deletes its old keys by key).
/// `$stats_options` ends the statistics table's definition (`WITHOUT ROWID` on SQLite, a
/// fill factor leaving room for in-page updates on PostgreSQL); `$extra` is what one
/// database does besides.
macro_rules! schema_v7 {
    ($stats_options:literal, $($extra:literal),* $(,)?) => {
        &[
            concat!(
                "CREATE TABLE cd_customer_stats (
                    customer_id TEXT PRIMARY KEY REFERENCES cd_customers (id) ON DELETE CASCADE,
                    booking_count BIGINT NOT NULL,
                    last_booking_at BIGINT NOT NULL,
                    last_activity_at BIGINT NOT NULL
                ) ",
                $stats_options
            ),
            "INSERT INTO cd_customer_stats (customer_id, booking_count, last_booking_at, last_activity_at)
             SELECT c.id, c.booking_count, c.last_booking_at,
                 COALESCE((SELECT MAX(CASE WHEN b.created_at > b.starts_at
                                           THEN b.created_at ELSE b.starts_at END)
                           FROM cd_bookings b WHERE b.customer_id = c.id),
                          -9223372036854775807)
             FROM cd_customers c",
            "CREATE INDEX cd_customer_stats_booking_count ON cd_customer_stats (booking_count, customer_id)",
            "CREATE INDEX cd_customer_stats_last_booking ON cd_customer_stats (last_booking_at, customer_id)",
            "DROP INDEX IF EXISTS cd_customers_booking_count",
            "DROP INDEX IF EXISTS cd_customers_last_booking",
            "ALTER TABLE cd_customers DROP COLUMN booking_count",
            "ALTER TABLE cd_customers DROP COLUMN last_booking_at",
            "DROP INDEX IF EXISTS cd_bookings_customer_created",
            "DROP INDEX IF EXISTS cd_customer_totals_value",
            "DROP INDEX IF EXISTS cd_booking_match_keys_booking",
            $($extra),*
        ]
    };
}

/// Migration 8: each booking's code in a column of its own, indexed, so a batch of bookings
/// (an import run again after a failure) finds the codes already stored in one indexed read.
/// Existing rows copy the code from their record (`$code_of_record` reads it in each
/// database's JSON syntax).
macro_rules! schema_v8 {
    ($code_of_record:literal) => {
        &[
            "ALTER TABLE cd_bookings ADD COLUMN code TEXT",
            concat!("UPDATE cd_bookings SET code = ", $code_of_record),
            "CREATE INDEX cd_bookings_code ON cd_bookings (code)",
        ]
    };
}

/// Migration 9 on PostgreSQL: the match keys and the audit events' customer rows lose their
/// foreign keys. Each row is written by the commit that writes its booking or event, and
/// neither bookings nor events are ever deleted, so the keys only checked what the commit
/// had just written, at the cost of a query per row (in a batch of 1,000 bookings, about
/// 4,000 of them). SQLite keeps them: its checks run in-process, and dropping one would
/// rebuild the table.
#[cfg(feature = "postgres")]
const POSTGRES_V9: &[&str] = &[
    "ALTER TABLE cd_booking_match_keys DROP CONSTRAINT IF EXISTS cd_booking_match_keys_booking_id_fkey",
    "ALTER TABLE cd_audit_event_customers DROP CONSTRAINT IF EXISTS cd_audit_event_customers_event_seq_fkey",
];

/// Migration 10: the suggestion index keeps one row per match key and holder (the customer
/// a booking is attributed to, or the unattributed booking itself) instead of one per key
/// and booking, so a booking for an existing customer under the contact details the customer
/// booked with before writes no index row (see `adapters::sql::match_keys`). The rows are
/// built from the old table's, which goes. `$key_options` ends the table's definition
/// (`WITHOUT ROWID` on SQLite: the key is the table's only content).
macro_rules! schema_v10 {
    ($key_options:literal) => {
        &[
            concat!(
                "CREATE TABLE cd_match_keys (
                    match_key TEXT NOT NULL,
                    holder TEXT NOT NULL,
                    PRIMARY KEY (match_key, holder)
                ) ",
                $key_options
            ),
            "INSERT INTO cd_match_keys (match_key, holder)
             SELECT DISTINCT m.match_key, COALESCE(b.customer_id, b.id)
             FROM cd_booking_match_keys m JOIN cd_bookings b ON b.id = m.booking_id",
            "DROP TABLE cd_booking_match_keys",
        ]
    };
}

/// Every migration in order, given what the dialects spell differently: the audit log's
/// sequence column, the collation of the name sort columns, and migrations 6 to 10.
macro_rules! migrations {
    ($audit_seq:literal, $collate:literal, $v6:expr, $v7:expr, $v8:expr, $v9:expr, $v10:expr) => {
        &[
            Migration {
                version: 1,
                statements: schema_v1!($audit_seq),
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
            Migration {
                version: SEARCH_MIGRATION,
                statements: schema_v5!($collate),
            },
            Migration {
                version: 6,
                statements: $v6,
            },
            Migration {
                version: 7,
                statements: $v7,
            },
            Migration {
                version: 8,
                statements: $v8,
            },
            Migration {
                version: 9,
                statements: $v9,
            },
            Migration {
                version: 10,
                statements: $v10,
            },
        ]
    };
}

/// SQLite's migrations.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: &[Migration] = migrations!(
    "INTEGER PRIMARY KEY AUTOINCREMENT",
    "",
    SQLITE_V6,
    schema_v7!(
        "WITHOUT ROWID",
        // Commits no longer run as one statement list on SQLite (its driver runs each
        // statement in-process), so the expectation table of migration 6 goes.
        "DROP TABLE IF EXISTS cd_commit_expectations",
        // Fewer pages per booking. A table whose primary key is its only content is stored
        // as that key's B-tree alone (`WITHOUT ROWID`) rather than as a row table beside an
        // index of its key: the match keys and the audit events' customer rows. The audit log
        // numbers its events without `AUTOINCREMENT`, whose counter table was one more page
        // written per event (events are never deleted, so no number is ever reused).
        "CREATE TABLE cd_booking_match_keys_v7 (
            match_key TEXT NOT NULL,
            booking_id TEXT NOT NULL REFERENCES cd_bookings (id) ON DELETE CASCADE,
            PRIMARY KEY (match_key, booking_id)
        ) WITHOUT ROWID",
        "INSERT INTO cd_booking_match_keys_v7 (match_key, booking_id)
         SELECT match_key, booking_id FROM cd_booking_match_keys",
        "DROP TABLE cd_booking_match_keys",
        "ALTER TABLE cd_booking_match_keys_v7 RENAME TO cd_booking_match_keys",
        "CREATE TABLE cd_audit_events_v7 (
            seq INTEGER PRIMARY KEY,
            at BIGINT NOT NULL,
            record TEXT NOT NULL
        )",
        "INSERT INTO cd_audit_events_v7 (seq, at, record) SELECT seq, at, record FROM cd_audit_events",
        "CREATE TABLE cd_audit_event_customers_v7 (
            customer_id TEXT NOT NULL,
            event_seq BIGINT NOT NULL REFERENCES cd_audit_events_v7 (seq),
            PRIMARY KEY (customer_id, event_seq)
        ) WITHOUT ROWID",
        "INSERT INTO cd_audit_event_customers_v7 (customer_id, event_seq)
         SELECT customer_id, event_seq FROM cd_audit_event_customers",
        "DROP TABLE cd_audit_event_customers",
        "DROP TABLE cd_audit_events",
        // Renaming a table renames the references to it (the customer rows' foreign key).
        "ALTER TABLE cd_audit_events_v7 RENAME TO cd_audit_events",
        "ALTER TABLE cd_audit_event_customers_v7 RENAME TO cd_audit_event_customers",
    ),
    schema_v8!("json_extract(record, '$.code')"),
    &[],
    schema_v10!("WITHOUT ROWID")
);

/// PostgreSQL's migrations.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: &[Migration] = migrations!(
    "BIGSERIAL PRIMARY KEY",
    "COLLATE \"C\"",
    POSTGRES_V6,
    schema_v7!(
        "WITH (fillfactor = 80)",
        // Room in each page for a rewritten customer's new row version: an update that
        // changes no indexed column then stays in its page (a HOT update) and adds no index
        // entries.
        "ALTER TABLE cd_customers SET (fillfactor = 80)",
    ),
    schema_v8!("record::json ->> 'code'"),
    POSTGRES_V9,
    schema_v10!("")
);
