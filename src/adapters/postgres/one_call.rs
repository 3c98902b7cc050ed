//! Commits that only add rows and check versions, written by one statement.
//!
//! Recording a booking commits a change of this shape: a version check on the customer (with
//! the booking's addition to its statistics), or a new customer with its email keys; the
//! booking with its match keys; an audit event. The general commit
//! ([`commit::apply`](crate::adapters::sql::commit::apply)) runs a statement, looks at what
//! it did and decides the next, one round trip each. Here every check travels with the
//! writes instead: one statement of data-modifying `WITH` clauses. A statement is atomic on
//! its own, so no `BEGIN` or `COMMIT` is sent. Its `SELECT` hands the checks to
//! `cd_expectations_met`, a function of migration 6 that raises an error when one fails,
//! which aborts everything the statement did.
//!
//! A failed call says that a check failed, not which. The caller runs the general commit,
//! which names the conflict (or commits, when the state it finds allows it).

use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::sql::bulk::{only_records_bookings, records_written};
use crate::adapters::sql::encoding::{
    Bind, booking_row, customer_columns, insert_booking_sql, insert_customer_sql, membership_rows,
    nanos, to_json, version_column,
};
use crate::adapters::sql::match_keys::{self, Holder};
use crate::adapters::sql::statistics::{ADD_TO_TOTALS, StatsDelta};
use crate::ports::store::StoreError;
use crate::ports::store::changes::{ChangeSet, Expected};
use crate::records::booking::Booking;
use crate::values::ids::CustomerId;

/// Commits writing more records than this take the general path: a statement of thousands
/// of `WITH` clauses plans slowly.
const MOST_RECORDS: usize = 32;

/// One statement that applies a whole commit: the SQL and its parameters, numbered from
/// `$1`.
#[derive(Debug)]
pub(crate) struct OneCall {
    pub(crate) sql: String,
    pub(crate) binds: Vec<Bind>,
}

/// The one statement applying `changes`, when they only add customers and bookings, check
/// customer versions and append audit events; `None` for every other commit.
///
/// # Errors
///
/// [`StoreError::Backend`] when a record cannot be encoded.
pub(crate) fn plan(changes: &ChangeSet) -> Result<Option<OneCall>, StoreError> {
    let only_adds = only_records_bookings(changes)
        && changes
            .customers()
            .iter()
            .all(|write| write.expected == Expected::Absent);
    let records = records_written(changes);
    // The statement's clauses run in no defined order, so two audit events could be
    // numbered against the order they were recorded in: such commits take the general path.
    if !only_adds || records == 0 || records > MOST_RECORDS || changes.audit().len() > 1 {
        return Ok(None);
    }

    let created: BTreeSet<CustomerId> = changes.customers().iter().map(|w| w.record.id).collect();
    let mut guarded: BTreeMap<CustomerId, u64> = BTreeMap::new();
    for guard in changes.guards() {
        // Two checks of one customer, or a check of a customer the commit creates: left to
        // the general path, which reports them.
        if guarded.insert(guard.customer, guard.version).is_some()
            || created.contains(&guard.customer)
        {
            return Ok(None);
        }
    }
    if created.len() != changes.customers().len() {
        return Ok(None);
    }
    let mut added: BTreeMap<CustomerId, Vec<&Booking>> = BTreeMap::new();
    for write in changes.bookings() {
        if let Some(customer) = write.record.attribution.customer() {
            // A booking for a customer the commit neither checks nor creates: the general
            // path adds it to whatever customer is stored.
            if !guarded.contains_key(&customer) && !created.contains(&customer) {
                return Ok(None);
            }
            added.entry(customer).or_default().push(&write.record);
        }
    }
    let delta = |customer: &CustomerId| match added.get(customer) {
        Some(bookings) => StatsDelta::of(bookings.iter().copied()),
        None => StatsDelta::none(),
    };

    let mut call = Builder::default();
    // One order for every writer: concurrent commits lock customers in the same order.
    for (&customer, &version) in &guarded {
        call.check_customer(
            customer,
            version,
            added.contains_key(&customer).then(|| delta(&customer)),
        );
    }
    for customer in sorted_by_id(changes.customers(), |customer| customer.id) {
        call.insert_customer(customer, &delta(&customer.id))?;
    }
    for booking in sorted_by_id(changes.bookings(), |booking| booking.id) {
        call.insert_booking(booking)?;
    }
    for event in changes.audit() {
        call.append_audit_event(event)?;
    }
    Ok(Some(call.finish()))
}

/// The records `writes` carries, in the order of their ids: the order every writer takes.
fn sorted_by_id<T, K: Ord>(
    writes: &[crate::ports::store::changes::Write<T>],
    id: impl Fn(&T) -> K,
) -> Vec<&T> {
    let mut records: Vec<&T> = writes.iter().map(|write| &write.record).collect();
    records.sort_by_key(|record| id(record));
    records
}

/// Builds the statement: its `WITH` clauses, their checks and the shared parameter list.
#[derive(Default)]
struct Builder {
    binds: Vec<Bind>,
    clauses: Vec<String>,
    /// The conditions the final `SELECT` checks.
    checks: Vec<String>,
}

impl Builder {
    /// Adds a parameter, returning its placeholder.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Placeholders for `values`, comma-separated, for a row of a `VALUES` list.
    fn row(&mut self, values: Vec<Bind>) -> String {
        values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Adds `body` as a `WITH` clause of its own and returns the clause's name.
    fn clause(&mut self, body: String) -> String {
        let name = format!("w{}", self.clauses.len());
        self.clauses.push(format!("{name} AS ({body})"));
        name
    }

    /// Runs the data-modifying `sql`; when `rows` is given, the call fails unless it wrote
    /// exactly that many rows.
    fn write(&mut self, sql: String, rows: Option<usize>) {
        match rows {
            Some(rows) => {
                let name = self.clause(format!("{sql} RETURNING 1"));
                self.expect_rows(&name, rows);
            }
            None => {
                self.clause(sql);
            }
        }
    }

    /// The call fails unless the clause `name` returned exactly `rows` rows.
    fn expect_rows(&mut self, name: &str, rows: usize) {
        self.checks
            .push(format!("(SELECT count(*) FROM {name}) = {rows}"));
    }

    /// Customer `customer` must be stored at `version` (its row locked until the end), and
    /// gains `delta` (the bookings this commit attributes to it) when given.
    fn check_customer(&mut self, customer: CustomerId, version: u64, delta: Option<StatsDelta>) {
        let id = self.bind(Bind::Text(customer.to_string()));
        let version = self.bind(Bind::Int(version_column(version)));
        let name = self.clause(format!(
            "SELECT 1 FROM cd_customers WHERE id = {id} AND version = {version} FOR UPDATE"
        ));
        self.expect_rows(&name, 1);
        let Some(delta) = delta else {
            return;
        };
        let count = self.bind(Bind::Int(delta.count));
        let last = self.bind(Bind::Int(delta.last_booking));
        let activity = self.bind(Bind::Int(delta.last_activity));
        self.write(
            format!(
                "UPDATE cd_customer_stats SET booking_count = booking_count + {count}, \
                 last_booking_at = CASE WHEN last_booking_at < {last} THEN {last} ELSE last_booking_at END, \
                 last_activity_at = CASE WHEN last_activity_at < {activity} THEN {activity} ELSE last_activity_at END \
                 WHERE customer_id = {id}"
            ),
            Some(1),
        );
        self.add_totals(&id, &delta, true);
    }

    /// Writes the per-currency totals of `delta` for the customer whose id is bound at `id`,
    /// adding to the stored ones (`add`) or as the first ones.
    fn add_totals(&mut self, id: &str, delta: &StatsDelta, add: bool) {
        if delta.totals.is_empty() {
            return;
        }
        let rows: Vec<String> = delta
            .totals
            .iter()
            .map(|(currency, total)| {
                let currency = self.bind(Bind::Text(currency.clone()));
                let total = self.bind(Bind::Int(*total));
                format!("({id}, {currency}, {total})")
            })
            .collect();
        let upsert = if add { ADD_TO_TOTALS } else { "" };
        self.write(
            format!(
                "INSERT INTO cd_customer_totals (customer_id, currency, total) VALUES {} {upsert}",
                rows.join(", ")
            ),
            None,
        );
    }

    /// A new customer with the statistics of its bookings in this commit, its list
    /// memberships, custom field values and email keys; fails when the id or a key is taken.
    fn insert_customer(
        &mut self,
        customer: &crate::records::customer::Customer,
        delta: &StatsDelta,
    ) -> Result<(), StoreError> {
        let values = self.row(customer_columns(customer)?);
        self.write(insert_customer_sql(&format!("VALUES ({values})")), Some(1));
        let id = self.bind(Bind::Text(customer.id.to_string()));
        let count = self.bind(Bind::Int(delta.count));
        let last = self.bind(Bind::Int(delta.last_booking));
        let activity = self.bind(Bind::Int(delta.last_activity));
        self.write(
            format!(
                "INSERT INTO cd_customer_stats (customer_id, booking_count, last_booking_at, \
                 last_activity_at) VALUES ({id}, {count}, {last}, {activity})"
            ),
            None,
        );
        self.add_totals(&id, delta, false);
        for side in membership_rows(customer) {
            if side.rows.is_empty() {
                continue;
            }
            let values: Vec<String> = side
                .rows
                .into_iter()
                .map(|row| format!("({})", self.row(row)))
                .collect();
            self.write(format!("{} {}", side.insert, values.join(", ")), None);
        }
        let keys: BTreeSet<&crate::values::email::key::EmailKey> =
            customer.indexed_keys().collect();
        if !keys.is_empty() {
            let rows: Vec<String> = keys
                .iter()
                .map(|key| format!("({}, {id})", self.bind(Bind::Text(key.as_str().to_owned()))))
                .collect();
            self.write(
                format!(
                    "INSERT INTO cd_customer_email_keys (email_key, customer_id) VALUES {} \
                     ON CONFLICT (email_key) DO NOTHING",
                    rows.join(", ")
                ),
                Some(keys.len()),
            );
        }
        Ok(())
    }

    /// A new booking and its match keys; fails when the id is taken.
    fn insert_booking(&mut self, booking: &Booking) -> Result<(), StoreError> {
        let values = self.row(booking_row(booking)?);
        self.write(insert_booking_sql(&format!("VALUES ({values})")), Some(1));
        let keys = match_keys::keys_of(booking);
        if !keys.is_empty() {
            let holder = self.bind(Bind::Text(Holder::of(booking).key()));
            let rows: Vec<String> = keys
                .into_iter()
                .map(|key| format!("({}, {holder})", self.bind(Bind::Text(key))))
                .collect();
            self.write(
                match_keys::insert_sql(&format!("VALUES {}", rows.join(", "))),
                None,
            );
        }
        Ok(())
    }

    /// An audit event and the rows that find it from each of its customers.
    fn append_audit_event(
        &mut self,
        event: &crate::records::audit::AuditEvent,
    ) -> Result<(), StoreError> {
        let at = self.bind(Bind::Int(nanos(event.at)));
        let record = self.bind(Bind::Text(to_json(event, "audit event")?));
        let insert = format!("INSERT INTO cd_audit_events (at, record) VALUES ({at}, {record})");
        let people: BTreeSet<CustomerId> = event.customers.iter().copied().collect();
        if people.is_empty() {
            self.write(insert, None);
            return Ok(());
        }
        let people: Vec<String> = people
            .into_iter()
            .map(|person| format!("({})", self.bind(Bind::Text(person.to_string()))))
            .collect();
        let people = people.join(", ");
        let name = self.clause(format!("{insert} RETURNING seq"));
        self.write(
            format!(
                "INSERT INTO cd_audit_event_customers (customer_id, event_seq) \
                 SELECT person.id, {name}.seq FROM {name} \
                 CROSS JOIN (VALUES {people}) AS person (id)"
            ),
            None,
        );
        Ok(())
    }

    fn finish(self) -> OneCall {
        let checks = if self.checks.is_empty() {
            "true".to_owned()
        } else {
            self.checks.join(" AND ")
        };
        OneCall {
            sql: format!(
                "WITH {} SELECT cd_expectations_met({checks})",
                self.clauses.join(", ")
            ),
            binds: self.binds,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{MOST_RECORDS, OneCall, plan};
    use crate::decisions::attribution::attribute;
    use crate::ports::store::EmailLookup;
    use crate::ports::store::changes::ChangeSet;
    use crate::records::audit::{Actor, AuditAction, AuditEvent};
    use crate::records::booking::{Booking, NewBooking};
    use crate::records::customer::Customer;
    use crate::records::profile::Profile;
    use crate::settings::DirectorySettings;
    use crate::values::booking_status::BookingStatus;
    use crate::values::email::address::EmailAddress;
    use crate::values::money::{Currency, Money};
    use crate::values::text::PersonName;

    fn contact(email: &str, name: &str) -> Profile {
        Profile {
            given_name: Some(PersonName::parse(name).unwrap()),
            email: Some(EmailAddress::parse(email).unwrap()),
            ..Profile::default()
        }
    }

    fn booking(email: &str, name: &str) -> Booking {
        let now = chrono::Utc::now();
        Booking::from_new(
            NewBooking::new(
                "B-1",
                BookingStatus::PAID,
                contact(email, name),
                now,
                Money::new(12_00, Currency::parse("EUR").unwrap()),
            ),
            now,
        )
    }

    /// What `record_booking` commits for `booking` given the customer holding its email.
    fn recorded(booking: Booking, holder: Option<Customer>) -> ChangeSet {
        let now = chrono::Utc::now();
        let known = EmailLookup {
            customer: holder.map(Arc::new),
            block: None,
        };
        let mut decision = attribute(booking, known, &DirectorySettings::default(), now);
        let mut event = AuditEvent::new(now, Actor::System, AuditAction::BookingRecorded);
        if let Some(customer) = decision.outcome.customer() {
            event = event.customer(customer);
        }
        decision.changes.record(event);
        decision.changes
    }

    fn stored(email: &str, name: &str) -> Customer {
        let mut customer = Customer::new(contact(email, name), chrono::Utc::now());
        customer.version = 3;
        customer
    }

    /// The highest `$n` in `sql`.
    fn highest_placeholder(sql: &str) -> usize {
        sql.split('$')
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .max()
            .unwrap_or(0)
    }

    fn check_shape(call: &OneCall) {
        assert_eq!(
            highest_placeholder(&call.sql),
            call.binds.len(),
            "{}",
            call.sql
        );
        assert!(call.sql.starts_with("WITH "), "{}", call.sql);
        assert!(
            call.sql.contains(" SELECT cd_expectations_met("),
            "{}",
            call.sql
        );
    }

    #[test]
    fn what_recording_a_booking_commits_is_one_call_with_a_check_per_expectation() {
        let ana = stored("ana@example.com", "Ana");
        let cases = [
            // Existing customer: the version check, the statistics, the booking.
            (
                recorded(booking("ana@example.com", "Ana"), Some(ana.clone())),
                3,
            ),
            // Related booking: the same checks.
            (
                recorded(booking("ana@example.com", "Other"), Some(ana.clone())),
                3,
            ),
            // New customer: its row, its email key, the booking.
            (recorded(booking("new@example.com", "New"), None), 3),
        ];
        for (changes, checks) in &cases {
            let call = plan(changes).unwrap().expect("one call");
            check_shape(&call);
            let found = call.sql.matches("(SELECT count(*) FROM w").count();
            assert_eq!(found, *checks, "{}", call.sql);
        }
        // A booking without an email: only the booking and its event.
        let mut unattributed = booking("x@example.com", "X");
        unattributed.contact.email = None;
        let changes = recorded(unattributed, None);
        check_shape(&plan(&changes).unwrap().expect("one call"));
    }

    #[test]
    fn every_other_commit_takes_the_general_path() {
        let ana = stored("ana@example.com", "Ana");
        let mut rewrite = ChangeSet::new();
        rewrite.save_customer(ana.clone());
        let mut deletion = ChangeSet::new();
        deletion.delete_customer(&ana);
        let mut booking_rewrite = ChangeSet::new();
        let mut old = booking("ana@example.com", "Ana");
        old.version = 2;
        booking_rewrite.save_booking(old);
        let mut twice = ChangeSet::new();
        twice.guard_customer(ana.id, 3).guard_customer(ana.id, 4);
        // A booking for a customer the commit neither checks nor creates.
        let mut unguarded = ChangeSet::new();
        let mut attached = booking("ana@example.com", "Ana");
        attached.attribution = crate::records::booking::Attribution::Primary(ana.id);
        unguarded.save_booking(attached);
        let mut many = ChangeSet::new();
        for n in 0..=MOST_RECORDS {
            many.save_customer(Customer::new(
                contact(&format!("c{n}@example.com"), "C"),
                chrono::Utc::now(),
            ));
        }
        let mut block = recorded(booking("ana@example.com", "Ana"), Some(ana.clone()));
        block.add_block(crate::records::customer::BlockEntry::new(
            crate::records::customer::BlockTarget::domain("spam.example").unwrap(),
            "test",
            chrono::Utc::now(),
        ));
        for changes in [
            rewrite,
            deletion,
            booking_rewrite,
            twice,
            unguarded,
            many,
            block,
            ChangeSet::new(),
        ] {
            assert!(plan(&changes).unwrap().is_none(), "{changes:?}");
        }
    }

    /// On a real database: the call commits what it planned, and a call whose check fails
    /// late (after writes) leaves nothing and reports `false`.
    macro_rules! one_call_on {
        ($store:expr) => {{
            use crate::ports::store::{SearchStore, Store};
            let store = $store;
            let ana = Customer::new(contact("ana@example.com", "Ana"), chrono::Utc::now());
            let mut first = ChangeSet::new();
            first.save_customer(ana.clone());
            store.commit(first).await.unwrap();
            let ana = store.customer(ana.id).await.unwrap().unwrap();

            // Existing customer: committed in one call.
            let changes = recorded(booking("ana@example.com", "Ana"), Some(ana.clone()));
            let id = changes.bookings()[0].record.id;
            assert!(
                store
                    .commit_in_one_call(plan(&changes).unwrap().unwrap())
                    .await
            );
            assert_eq!(
                store
                    .booking(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .attribution
                    .customer(),
                Some(ana.id)
            );
            let hits = store
                .search_customers(
                    &crate::ports::query::builder::CustomerQuery::new()
                        .booking_count_in(crate::ports::query::builder::CountRange::between(1, 1)),
                    None,
                    10,
                )
                .await
                .unwrap();
            assert_eq!(hits.len(), 1, "the statistics went in with the booking");

            // A version that is off: the version check fails, nothing is written.
            let mut stale = ana.clone();
            stale.version += 7;
            let changes = recorded(booking("ana@example.com", "Ana"), Some(stale));
            let late = changes.bookings()[0].record.id;
            assert!(
                !store
                    .commit_in_one_call(plan(&changes).unwrap().unwrap())
                    .await
            );
            assert!(store.booking(late).await.unwrap().is_none());

            // A new customer whose email key Ana holds under another spelling: the key check
            // fails after the customer row and its statistics were written.
            let changes = recorded(booking("ANA@example.com", "Other"), None);
            let newcomer = changes.customers()[0].record.id;
            let late = changes.bookings()[0].record.id;
            assert!(
                !store
                    .commit_in_one_call(plan(&changes).unwrap().unwrap())
                    .await
            );
            assert!(store.customer(newcomer).await.unwrap().is_none());
            assert!(store.booking(late).await.unwrap().is_none());
            let holder = store
                .lookup_email(ana.profile.email.as_ref().unwrap().key())
                .await
                .unwrap();
            assert_eq!(holder.customer.map(|c| c.id), Some(ana.id));

            // And the connection is clean for the next commit.
            let changes = recorded(booking("cy@example.com", "Cy"), None);
            assert!(
                store
                    .commit_in_one_call(plan(&changes).unwrap().unwrap())
                    .await
            );
            store
        }};
    }

    #[tokio::test]
    async fn postgres_commits_in_one_call_or_leaves_nothing() {
        let Some(url) = std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            assert_ne!(
                std::env::var("CUSTOMER_DIRECTORY_REQUIRE_POSTGRES").as_deref(),
                Ok("1"),
                "CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1 but CUSTOMER_DIRECTORY_POSTGRES_URL is not set"
            );
            return;
        };
        let schema = format!(
            "cd_one_call_{}",
            crate::values::ids::CustomerId::new().as_uuid().simple()
        );
        let store = crate::adapters::postgres::PostgresStore::connect_with_schema(&url, &schema)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let store = one_call_on!(store);
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(store.pool())
            .await
            .unwrap();
    }
}
