//! The floor of the PostgreSQL bench: PostgreSQL's own benchmark client, `pgbench` (C,
//! `libpq`, prepared statements), sending on one connection the two statements the adapter
//! sends for a booking of an existing customer, so nothing of the crate, `sqlx` or Tokio
//! stands between; and a bare minimum beside it, what any booking that is read and then
//! durably written costs on this machine.
//!
//! Two scripts, run for a fixed time each:
//!
//! - [`BOOKING`]: the email lookup and the one-statement commit as
//!   `src/adapters/postgres/one_call.rs` writes them for a booking of an existing customer
//!   (a version check locking the customer, the statistics and totals additions, the
//!   booking, its three match keys, the audit event and its customer row), with the values
//!   the adapter binds. Two helper tables feed it: `floor_customers` numbers the loaded
//!   customers (`random` picks one, the lookup finds its email key there) and `floor_records`
//!   holds a booking's and an audit event's JSON (`pgbench` would read the colons in a JSON
//!   literal as its variables). Each adds one primary-key probe to a statement. The text
//!   is a copy: when `one_call.rs` changes what it sends, this copy must follow.
//! - [`BARE`]: `SELECT 1`, then a one-row insert into a table of one integer column,
//!   committed. Two round trips and one durable commit, as a booking needs, with no work in
//!   either statement.
//!
//! The server's CPU per transaction is read like the adapter's: utime + stime of the
//! backend serving `pgbench` (found by its `application_name`) before and after.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The adapter's two statements for a booking of an existing customer. Literal strings
/// holding a colon are built with `chr(58)`: `pgbench` would take `:word` for a variable.
const BOOKING: &str = r#"\set n random(0, :customers - 1)
\set b random(1, 999999999999)
SELECT CAST(0 AS BIGINT) AS kind, c.record, c.id AS cid, k.email_key AS em FROM cd_customer_email_keys k JOIN cd_customers c ON c.id = k.customer_id WHERE k.email_key = (SELECT email_key FROM floor_customers WHERE n = :n) UNION ALL SELECT CAST(1 AS BIGINT), record, NULL, NULL FROM cd_blocklist WHERE target = ('address' || chr(58) || 'someone@example.com') UNION ALL SELECT CAST(2 AS BIGINT), record, NULL, NULL FROM cd_blocklist WHERE target = ('domain' || chr(58) || 'example.com') \gset
WITH w0 AS (SELECT 1 FROM cd_customers WHERE id = :cid AND version = 1 FOR UPDATE), w1 AS (UPDATE cd_customer_stats SET booking_count = booking_count + 1, last_booking_at = CASE WHEN last_booking_at < 1796690157541370214 THEN 1796690157541370214 ELSE last_booking_at END, last_activity_at = CASE WHEN last_activity_at < 1796690157606981421 THEN 1796690157606981421 ELSE last_activity_at END WHERE customer_id = :cid RETURNING 1), w2 AS (INSERT INTO cd_customer_totals (customer_id, currency, total) VALUES (:cid, 'EUR', 4500) ON CONFLICT (customer_id, currency) DO UPDATE SET total = CASE WHEN excluded.total > 0 THEN CASE WHEN cd_customer_totals.total > 9223372036854775807 - excluded.total THEN 9223372036854775807 ELSE cd_customer_totals.total + excluded.total END ELSE CASE WHEN cd_customer_totals.total < (-9223372036854775807 - 1) - excluded.total THEN (-9223372036854775807 - 1) ELSE cd_customer_totals.total + excluded.total END END), w3 AS (INSERT INTO cd_bookings (id, version, customer_id, email_key, starts_at, created_at, record, code) VALUES ('01a25314-2026-7562-8ef2-' || lpad(CAST(:b AS text), 12, '0'), 1, :cid, :em, 1796690157541370214, 1796690157606981421, (SELECT rec FROM floor_records WHERE k = 1), 'F-' || :b) ON CONFLICT (id) DO NOTHING RETURNING 1), w4 AS (INSERT INTO cd_match_keys (match_key, holder) VALUES ('loose' || chr(58) || :em, :cid), ('name' || chr(58) || 'mia rossi|00132', :cid), ('phone' || chr(58) || '+447900000132', :cid) ON CONFLICT DO NOTHING), w5 AS (INSERT INTO cd_audit_events (at, record) VALUES (1796690157607138890, (SELECT rec FROM floor_records WHERE k = 2)) RETURNING seq), w6 AS (INSERT INTO cd_audit_event_customers (customer_id, event_seq) SELECT person.id, w5.seq FROM w5 CROSS JOIN (VALUES (:cid)) AS person (id)) SELECT cd_expectations_met((SELECT count(*) FROM w0) = 1 AND (SELECT count(*) FROM w1) = 1 AND (SELECT count(*) FROM w3) = 1);
"#;

/// Two round trips and one durable commit, with no work in either statement.
const BARE: &str = "SELECT 1;\nINSERT INTO floor_bare (x) VALUES (1);\n";

/// A booking's record and an audit event's, of the sizes the adapter writes.
const RECORDS: &str = r#"CREATE TABLE floor_records (k integer PRIMARY KEY, rec text NOT NULL);
INSERT INTO floor_records VALUES (1, $j${"id":"01a25314-2026-7562-8ef2-f143c4d9f498","code":"E-15127","status":"paid","contact":{"given_name":"Mia","family_name":"Rossi","display_name":null,"email":{"address":"mia.rossi.132@yahoo.fr","key":"mia.rossi.132@yahoo.fr"},"phone":{"e164":"+447900000132","as_entered":"+447900000132"},"address":{"line1":null,"line2":null,"city":"Lisbon","region":null,"postcode":"00132","country":null},"custom_fields":{}},"starts_at":"2026-12-08T00:35:57.541370214Z","ends_at":null,"total":{"minor_units":4500,"currency":"EUR"},"paid":{"minor_units":0,"currency":"EUR"},"created_at":"2026-12-08T00:35:57.606981421Z","attribution":{"Primary":"01a25314-13ad-72fc-8ab4-498126f1c1ab"},"detached_from":null,"version":1}$j$),
 (2, $j${"at":"2026-12-08T00:35:57.607138890Z","actor":"System","action":"booking_recorded","customers":["01a25314-13ad-72fc-8ab4-498126f1c1ab"],"booking":"01a25314-2026-7562-8ef2-f143c4d9f498"}$j$);
CREATE TABLE floor_customers AS SELECT CAST(row_number() OVER (ORDER BY email_key) - 1 AS integer) AS n, email_key FROM cd_customer_email_keys;
ALTER TABLE floor_customers ADD PRIMARY KEY (n);
CREATE TABLE floor_bare (x integer);
ANALYZE;
"#;

/// What one `pgbench` run measured.
pub struct FloorRun {
    /// Transactions (bookings) a second, as `pgbench` reports them.
    pub per_second: f64,
    /// CPU time of the backend serving `pgbench`, in microseconds a transaction.
    pub server_us: f64,
}

/// The floor's scripts, written next to the bench's other files, and where they run.
pub struct PgFloor {
    url: String,
    schema: String,
    customers: usize,
    booking: PathBuf,
    bare: PathBuf,
}

/// Which script a run sends.
#[derive(Clone, Copy)]
pub enum FloorScript {
    /// The adapter's two statements for a booking of an existing customer.
    Booking,
    /// `SELECT 1` and a one-row committed insert.
    Bare,
}

impl PgFloor {
    /// Writes the scripts into `dir` and the helper tables into `schema` (which holds the
    /// adapter's tables and `customers` loaded customers); `None`, with the reason printed,
    /// when `pgbench` or `psql` is missing or the tables cannot be made.
    pub fn prepare(url: &str, schema: &str, customers: usize, dir: &Path) -> Option<Self> {
        let version = Command::new("pgbench").arg("--version").output();
        if !version.is_ok_and(|out| out.status.success()) {
            eprintln!("postgres floor: skipped, `pgbench` is not on the PATH");
            return None;
        }
        let booking = dir.join("pg-floor-booking.sql");
        let bare = dir.join("pg-floor-bare.sql");
        if let Err(error) = std::fs::write(&booking, BOOKING).and(std::fs::write(&bare, BARE)) {
            eprintln!("postgres floor: skipped, scripts not written: {error}");
            return None;
        }
        let made = Command::new("psql")
            .args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("SET search_path TO {schema}"))
            .args(["-c", RECORDS])
            .output();
        match made {
            Ok(out) if out.status.success() => Some(Self {
                url: url.to_owned(),
                schema: schema.to_owned(),
                customers,
                booking,
                bare,
            }),
            Ok(out) => {
                eprintln!(
                    "postgres floor: skipped, helper tables not made: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                None
            }
            Err(error) => {
                eprintln!("postgres floor: skipped, `psql` did not run: {error}");
                None
            }
        }
    }

    /// Runs `script` on one connection for `seconds`, reading the CPU time of the backend
    /// serving it through `backend_ticks` (its `application_name` is `pgbench`).
    pub fn run(
        &self,
        script: FloorScript,
        seconds: u64,
        backend_ticks: impl Fn() -> Option<u64>,
        ticks_per_second: f64,
    ) -> Option<FloorRun> {
        let path = match script {
            FloorScript::Booking => &self.booking,
            FloorScript::Bare => &self.bare,
        };
        let child = Command::new("pgbench")
            .env("PGOPTIONS", format!("-c search_path={}", self.schema))
            .args(["-n", "-M", "prepared", "-c", "1", "-T"])
            .arg(seconds.to_string())
            .arg("-D")
            .arg(format!("customers={}", self.customers))
            .arg("-f")
            .arg(path)
            .arg(&self.url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        // The backend appears once `pgbench` has connected; its CPU is read over the middle
        // of the run, away from connecting and ending.
        std::thread::sleep(std::time::Duration::from_millis(700));
        let before = backend_ticks();
        let started = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_secs(
            seconds.saturating_sub(2).max(1),
        ));
        let after = backend_ticks();
        let window = started.elapsed().as_secs_f64();
        let out = child.wait_with_output().ok()?;
        let report = String::from_utf8_lossy(&out.stdout);
        let per_second: f64 = report
            .lines()
            .find_map(|line| line.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|tps| tps.parse().ok())?;
        if !out.status.success() || per_second <= 0.0 {
            eprintln!(
                "postgres floor: pgbench failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        let spent = after?.checked_sub(before?)? as f64 / ticks_per_second;
        Some(FloorRun {
            per_second,
            server_us: spent / window / per_second * 1e6,
        })
    }
}
