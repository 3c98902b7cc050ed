//! The floor of the SQLite benches: a bare `rusqlite` connection writing the rows the
//! adapter writes for bookings of existing customers, with nothing of the crate between,
//! so the adapter's figures can be read as ratios to it, measured in the same run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One booking the floor replays, taken from the adapter's own file: the floor writes rows
/// of the same sizes, for the same customers, under the same keys.
pub struct FloorTemplate {
    customer_id: String,
    email_key: Option<String>,
    record: String,
    match_keys: Vec<String>,
}

/// The totals upsert as the adapter writes it (saturating at the ends of `i64`).
const FLOOR_TOTALS: &str = "INSERT INTO cd_customer_totals (customer_id, currency, total) \
     VALUES (?1, 'EUR', 4500) ON CONFLICT (customer_id, currency) DO UPDATE SET total = \
     CASE WHEN excluded.total > 0 THEN \
       CASE WHEN cd_customer_totals.total > 9223372036854775807 - excluded.total \
         THEN 9223372036854775807 ELSE cd_customer_totals.total + excluded.total END \
     ELSE \
       CASE WHEN cd_customer_totals.total < (-9223372036854775807 - 1) - excluded.total \
         THEN (-9223372036854775807 - 1) ELSE cd_customer_totals.total + excluded.total END \
     END";

/// The environment variable naming indexes (comma-separated) the floor's copy of the schema
/// leaves out, to measure what those indexes cost a booking: the floor then writes the same
/// rows without maintaining them.
const LEAVE_OUT: &str = "CD_FLOOR_LEAVE_OUT";

/// The index names in [`LEAVE_OUT`], none when it is unset.
fn left_out_indexes() -> Vec<String> {
    std::env::var(LEAVE_OUT)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The floor: a bare `rusqlite` loop on a file of its own with the schema and rows of the
/// adapter's file, the adapter's writer settings (WAL, `synchronous`, foreign keys,
/// `secure_delete`, statement journals in memory, a 64 MiB page cache, a checkpoint every
/// 16,384 WAL pages, cached prepared statements) and, per booking, in one `BEGIN IMMEDIATE`
/// ... `COMMIT`, the rows the adapter writes for a booking of an existing customer: the
/// booking row, its match keys (one multi-row insert), the statistics update, the totals
/// upsert, the audit event and its customer row. No reads: the adapter's email lookup and
/// version check are what it costs beyond this. [`record_batch`](Self::record_batch) writes
/// the same rows for many bookings in one transaction, the floor of a batch commit.
pub struct Floor {
    connection: rusqlite::Connection,
    pub path: PathBuf,
    templates: Vec<FloorTemplate>,
    audit_record: String,
    next: usize,
}

impl Floor {
    /// Copies the schema (`sqlite_master` in creation order, SQLite's own objects left out)
    /// and every row of the adapter's file at `source` into a new file at `path`.
    pub fn create(source: &Path, path: &Path) -> Self {
        use rusqlite::{Connection, OpenFlags};
        let _ = std::fs::remove_file(path);
        let connection = Connection::open(path).expect("open the floor's file");
        connection
            .busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        connection.set_prepared_statement_cache_capacity(64);
        let _: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .expect("WAL");
        connection
            .execute_batch(
                "PRAGMA secure_delete = ON; PRAGMA foreign_keys = OFF; \
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; \
                 PRAGMA wal_autocheckpoint = 16384;",
            )
            .expect("pragmas");
        let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the adapter's file");
        let objects: Vec<(String, String, String)> = src
            .prepare(
                "SELECT type, name, sql FROM sqlite_master \
                 WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect()
            })
            .expect("the adapter's schema");
        for (_, name, sql) in &objects {
            connection
                .execute_batch(sql)
                .unwrap_or_else(|error| panic!("floor schema `{name}`: {error}"));
        }
        for name in left_out_indexes() {
            connection
                .execute_batch(&format!("DROP INDEX \"{name}\""))
                .unwrap_or_else(|error| panic!("{LEAVE_OUT}: dropping `{name}`: {error}"));
        }
        connection
            .execute(
                "ATTACH DATABASE ?1 AS src",
                [source.to_string_lossy().as_ref()],
            )
            .expect("attach the adapter's file");
        connection.execute_batch("BEGIN").expect("begin");
        for (kind, name, _) in &objects {
            if kind == "table" {
                connection
                    .execute_batch(&format!(
                        "INSERT INTO main.\"{name}\" SELECT * FROM src.\"{name}\""
                    ))
                    .unwrap_or_else(|error| panic!("copying `{name}`: {error}"));
            }
        }
        connection
            .execute_batch("COMMIT; DETACH DATABASE src; PRAGMA foreign_keys = ON;")
            .expect("copy the adapter's rows");

        // The suggestion keys each customer holds (`cd_match_keys`), among them those of the
        // booking replayed: indexing them again finds every row already there and writes
        // nothing, as the adapter's index does for a booking under the customer's usual contact.
        let mut held: HashMap<String, Vec<String>> = HashMap::new();
        src.prepare("SELECT holder, match_key FROM cd_match_keys")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<(String, String)>>>()
            })
            .expect("match keys")
            .into_iter()
            .for_each(|(holder, key)| held.entry(holder).or_default().push(key));
        // Bookings of existing customers to replay, with their customers' keys.
        let templates: Vec<FloorTemplate> = src
            .prepare(
                "SELECT customer_id, email_key, record FROM cd_bookings \
                 WHERE customer_id IS NOT NULL LIMIT 4096",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| {
                        let customer_id: String = row.get(0)?;
                        Ok(FloorTemplate {
                            match_keys: held.get(&customer_id).cloned().unwrap_or_default(),
                            customer_id,
                            email_key: row.get(1)?,
                            record: row.get(2)?,
                        })
                    })?
                    .collect()
            })
            .expect("bookings to replay");
        assert!(
            !templates.is_empty(),
            "the adapter's file has bookings to replay"
        );
        let audit_record: String = src
            .query_row(
                "SELECT record FROM cd_audit_events ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .expect("an audit event to replay");
        Self {
            connection,
            path: path.to_owned(),
            templates,
            audit_record,
            next: 0,
        }
    }

    /// `PRAGMA synchronous` as [`Durability`] sets it on the adapter.
    pub fn set_synchronous(&self, value: &str) {
        self.connection
            .execute_batch(&format!("PRAGMA synchronous = {value};"))
            .expect("synchronous");
    }

    /// `count` bookings of existing customers, one transaction each.
    pub fn records(&mut self, count: u64) {
        for _ in 0..count {
            self.record_batch(1);
        }
    }

    /// `count` bookings of existing customers in one transaction, each written with the
    /// single-row statements of [`records`](Self::records).
    pub fn record_batch(&mut self, count: u64) {
        let db = &self.connection;
        let mut run = || -> rusqlite::Result<()> {
            db.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            for _ in 0..count {
                self.next += 1;
                let template = &self.templates[self.next % self.templates.len()];
                write_booking(db, template, &self.audit_record)?;
            }
            db.prepare_cached("COMMIT")?.execute([])?;
            Ok(())
        };
        if let Err(error) = run() {
            let _ = db.execute_batch("ROLLBACK");
            panic!("floor booking: {error}");
        }
    }

    pub fn truncate_wal(&self) {
        let busy: i64 = self
            .connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .expect("checkpoint");
        assert_eq!(busy, 0, "the floor's WAL truncated");
    }
}

/// The rows of one booking of `template`'s customer, inside the caller's transaction: the
/// booking (a new id and code), its match keys (one multi-row insert), the statistics
/// update, the totals upsert, the audit event and its customer row.
fn write_booking(
    db: &rusqlite::Connection,
    template: &FloorTemplate,
    audit_record: &str,
) -> rusqlite::Result<()> {
    use rusqlite::params;
    let id = uuid::Uuid::now_v7().to_string();
    let code = format!("F-{id}");
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    db.prepare_cached(
        "INSERT INTO cd_bookings (id, version, customer_id, email_key, starts_at, \
         created_at, record, code) VALUES (?1, 1, ?2, ?3, ?4, ?4, ?5, ?6) \
         ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![
        id,
        template.customer_id,
        template.email_key,
        now,
        template.record,
        code
    ])?;
    if !template.match_keys.is_empty() {
        let rows = (0..template.match_keys.len())
            .map(|i| format!("(?{}, ?1)", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = db.prepare_cached(&format!(
            "INSERT INTO cd_match_keys (match_key, holder) VALUES {rows} ON CONFLICT DO NOTHING"
        ))?;
        statement.raw_bind_parameter(1, template.customer_id.as_str())?;
        for (i, key) in template.match_keys.iter().enumerate() {
            statement.raw_bind_parameter(i + 2, key.as_str())?;
        }
        statement.raw_execute()?;
    }
    db.prepare_cached(
        "UPDATE cd_customer_stats SET booking_count = booking_count + 1, \
         last_booking_at = CASE WHEN last_booking_at < ?2 THEN ?2 ELSE last_booking_at END, \
         last_activity_at = CASE WHEN last_activity_at < ?2 THEN ?2 ELSE last_activity_at END \
         WHERE customer_id = ?1",
    )?
    .execute(params![template.customer_id, now])?;
    db.prepare_cached(FLOOR_TOTALS)?
        .execute(params![template.customer_id])?;
    let seq: i64 = db
        .prepare_cached("INSERT INTO cd_audit_events (at, record) VALUES (?1, ?2) RETURNING seq")?
        .query_row(params![now, audit_record], |row| row.get(0))?;
    db.prepare_cached(
        "INSERT INTO cd_audit_event_customers (customer_id, event_seq) VALUES (?1, ?2)",
    )?
    .execute(params![template.customer_id, seq])?;
    Ok(())
}
