//! The port's reads as SQL, once for both databases: each is one statement (a batched read,
//! one per [`IDS_PER_QUERY`] ids) whose rows are records stored whole as JSON.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::adapters::sql::encoding::{
    Bind, IDS_PER_QUERY, answer_in_order, block_key, from_json, marked_placeholders,
    match_index_keys, nanos, placeholders,
};
use crate::adapters::sql::match_keys;
use crate::adapters::sql::search::{count_sql, search_sql};
use crate::adapters::sql::session::{Dialect, Session, failed};
use crate::ports::query::builder::{CustomerQuery, SortBy};
use crate::ports::query::evaluation::{SearchHit, SortPosition, SortValue};
use crate::ports::store::{EmailLookup, StoreError};
use crate::records::account::{Account, AccountToken};
use crate::records::audit::AuditEvent;
use crate::records::booking::Booking;
use crate::records::customer::{BlockEntry, BlockTarget, Customer};
use crate::records::merge::MergeRecord;
use crate::records::notes::CustomerList;
use crate::records::profile::MatchKeys;
use crate::records::tokens::ResetTokenHash;
use crate::values::email::key::EmailKey;
use crate::values::ids::{AccountId, BookingId, CustomerId, MergeId};

/// The records in the first column of every row `sql` returns.
pub(crate) async fn records<T: DeserializeOwned, S: Session>(
    session: &mut S,
    sql: &str,
    binds: Vec<Bind>,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    let rows = session.fetch(sql, binds).await.map_err(failed(what))?;
    rows.iter()
        .map(|row| from_json(row.text(0, what)?, what))
        .collect()
}

/// The one record `sql` finds for `id`, if any.
async fn record<T: DeserializeOwned, S: Session>(
    session: &mut S,
    sql: &str,
    id: String,
    what: &'static str,
) -> Result<Option<T>, StoreError> {
    Ok(records(session, sql, vec![Bind::Text(id)], what)
        .await?
        .pop())
}

/// Every record `select` reads for the distinct ids among `customers`, one query per
/// [`IDS_PER_QUERY`] ids (each id in one query only, so no record is read twice); `select`
/// holds `{ids}` where their placeholders go.
async fn records_of_customers<T: DeserializeOwned, S: Session>(
    session: &mut S,
    select: &str,
    customers: &[CustomerId],
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut distinct = customers.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut found = Vec::new();
    for chunk in distinct.chunks(IDS_PER_QUERY) {
        let sql = select.replace("{ids}", &placeholders(chunk.len(), 1));
        let binds = chunk.iter().map(|id| Bind::Text(id.to_string())).collect();
        found.extend(records::<T, S>(session, &sql, binds, what).await?);
    }
    Ok(found)
}

pub(crate) async fn customer<S: Session>(
    session: &mut S,
    id: CustomerId,
) -> Result<Option<Customer>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_customers WHERE id = $1",
        id.to_string(),
        "customer",
    )
    .await
}

pub(crate) async fn booking<S: Session>(
    session: &mut S,
    id: BookingId,
) -> Result<Option<Booking>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_bookings WHERE id = $1",
        id.to_string(),
        "booking",
    )
    .await
}

/// The holder of `key`, then the address's and the domain's blocklist entries, in one
/// statement.
pub(crate) async fn lookup_email<S: Session>(
    session: &mut S,
    key: &EmailKey,
) -> Result<EmailLookup, StoreError> {
    const WHAT: &str = "looking up an email";
    let rows = session
        .fetch(
            "SELECT CAST(0 AS BIGINT) AS kind, c.record FROM cd_customer_email_keys k \
             JOIN cd_customers c ON c.id = k.customer_id WHERE k.email_key = $1 \
             UNION ALL SELECT CAST(1 AS BIGINT), record FROM cd_blocklist WHERE target = $2 \
             UNION ALL SELECT CAST(2 AS BIGINT), record FROM cd_blocklist WHERE target = $3",
            vec![
                Bind::Text(key.as_str().to_owned()),
                Bind::Text(block_key(&BlockTarget::Address(key.clone()))),
                Bind::Text(format!("domain:{}", key.domain())),
            ],
        )
        .await
        .map_err(failed(WHAT))?;
    let mut customer = None;
    let mut blocks: Vec<(i64, BlockEntry)> = Vec::new();
    for row in &rows {
        let kind = row.int(0, WHAT)?;
        let text = row.text(1, WHAT)?;
        if kind == 0 {
            customer = Some(Arc::new(from_json(text, "customer")?));
        } else {
            blocks.push((kind, from_json(text, "blocklist entry")?));
        }
    }
    blocks.sort_by_key(|(kind, _)| *kind);
    Ok(EmailLookup::new(
        customer,
        blocks.into_iter().next().map(|(_, entry)| entry),
    ))
}

/// `column` is one of `values`: one array parameter (`column = ANY($1)`) where the dialect
/// takes arrays, else an `IN` list of numbered parameters. PostgreSQL plans an `IN` list of
/// 500 parameters in about 5 ms (it estimates each value), an array in microseconds.
fn one_of<D: Dialect>(column: &str, values: Vec<String>) -> (String, Vec<Bind>) {
    if D::ARRAYS {
        (format!("{column} = ANY($1)"), vec![Bind::Texts(values)])
    } else {
        let condition = format!(
            "{column} IN ({})",
            marked_placeholders(D::NUMBERED, values.len(), 1)
        );
        (condition, values.into_iter().map(Bind::Text).collect())
    }
}

/// [`lookup_email`] for each of `keys`, in the order asked: per [`IDS_PER_QUERY`] keys, one
/// query for their holders and one for the blocklist entries of their addresses and domains.
pub(crate) async fn lookup_emails<S: Session>(
    session: &mut S,
    keys: &[EmailKey],
) -> Result<Vec<EmailLookup>, StoreError> {
    const WHAT: &str = "looking up emails";
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(IDS_PER_QUERY) {
        let mut distinct: Vec<&str> = chunk.iter().map(EmailKey::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let (condition, binds) = one_of::<S::Dialect>(
            "k.email_key",
            distinct.iter().map(|key| (*key).to_owned()).collect(),
        );
        let rows = session
            .fetch(
                &format!(
                    "SELECT k.email_key, c.record FROM cd_customer_email_keys k \
                     JOIN cd_customers c ON c.id = k.customer_id WHERE {condition}"
                ),
                binds,
            )
            .await
            .map_err(failed(WHAT))?;
        let mut holders: HashMap<String, Arc<Customer>> = HashMap::with_capacity(rows.len());
        for row in &rows {
            holders.insert(
                row.text(0, WHAT)?.to_owned(),
                Arc::new(from_json(row.text(1, WHAT)?, "customer")?),
            );
        }
        let mut targets: Vec<String> = chunk
            .iter()
            .flat_map(|key| {
                [
                    block_key(&BlockTarget::Address(key.clone())),
                    format!("domain:{}", key.domain()),
                ]
            })
            .collect();
        targets.sort_unstable();
        targets.dedup();
        let mut entries: HashMap<String, BlockEntry> = HashMap::new();
        // Nearly every directory's blocklist is small or empty: one probe says so.
        let any_block = session
            .fetch("SELECT 1 FROM cd_blocklist LIMIT 1", Vec::new())
            .await
            .map_err(failed(WHAT))?;
        if !any_block.is_empty() {
            for targets in targets.chunks(IDS_PER_QUERY) {
                let (condition, binds) = one_of::<S::Dialect>("target", targets.to_vec());
                let rows = session
                    .fetch(
                        &format!("SELECT target, record FROM cd_blocklist WHERE {condition}"),
                        binds,
                    )
                    .await
                    .map_err(failed(WHAT))?;
                for row in &rows {
                    entries.insert(
                        row.text(0, WHAT)?.to_owned(),
                        from_json(row.text(1, WHAT)?, "blocklist entry")?,
                    );
                }
            }
        }
        for key in chunk {
            let block = entries
                .get(&block_key(&BlockTarget::Address(key.clone())))
                .or_else(|| entries.get(&format!("domain:{}", key.domain())))
                .cloned();
            found.push(EmailLookup::new(holders.get(key.as_str()).cloned(), block));
        }
    }
    Ok(found)
}

/// Whether a stored booking carries each of `codes`, in the order asked: one indexed query
/// per [`IDS_PER_QUERY`] codes.
pub(crate) async fn booking_codes_stored<S: Session>(
    session: &mut S,
    codes: &[String],
) -> Result<Vec<bool>, StoreError> {
    const WHAT: &str = "reading stored booking codes";
    let mut stored: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut distinct: Vec<&String> = codes.iter().collect();
    distinct.sort_unstable();
    distinct.dedup();
    for chunk in distinct.chunks(IDS_PER_QUERY) {
        let (condition, binds) =
            one_of::<S::Dialect>("code", chunk.iter().map(|code| (*code).clone()).collect());
        let rows = session
            .fetch(
                &format!("SELECT DISTINCT code FROM cd_bookings WHERE {condition}"),
                binds,
            )
            .await
            .map_err(failed(WHAT))?;
        for row in &rows {
            stored.insert(row.text(0, WHAT)?.to_owned());
        }
    }
    Ok(codes.iter().map(|code| stored.contains(code)).collect())
}

pub(crate) async fn customer_bookings<S: Session>(
    session: &mut S,
    customer: CustomerId,
) -> Result<Vec<Booking>, StoreError> {
    records(
        session,
        "SELECT record FROM cd_bookings WHERE customer_id = $1 ORDER BY starts_at, id",
        vec![Bind::Text(customer.to_string())],
        "booking",
    )
    .await
}

pub(crate) async fn unattributed_bookings<S: Session>(
    session: &mut S,
    key: &EmailKey,
) -> Result<Vec<Booking>, StoreError> {
    records(
        session,
        "SELECT record FROM cd_bookings WHERE email_key = $1 AND customer_id IS NULL \
         ORDER BY created_at, id",
        vec![Bind::Text(key.as_str().to_owned())],
        "booking",
    )
    .await
}

/// The bookings whose contact has one of `keys`, by start then id: the bookings of every
/// holder the suggestion index lists under the keys (see
/// [`match_keys`]), each kept when its own contact has one.
pub(crate) async fn bookings_matching<S: Session>(
    session: &mut S,
    keys: &MatchKeys,
) -> Result<Vec<Booking>, StoreError> {
    let wanted: BTreeSet<String> = match_index_keys(keys).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    // A holder is a customer or an unattributed booking; the two branches never find the
    // same booking.
    let holders = format!(
        "SELECT m.holder FROM cd_match_keys m WHERE m.match_key IN ({})",
        placeholders(wanted.len(), 1)
    );
    let sql = format!(
        "SELECT b.record, b.starts_at, b.id FROM cd_bookings b WHERE b.customer_id IN ({holders}) \
         UNION ALL SELECT b.record, b.starts_at, b.id FROM cd_bookings b \
         WHERE b.customer_id IS NULL AND b.id IN ({holders}) \
         ORDER BY 2, 3"
    );
    let binds = wanted.iter().cloned().map(Bind::Text).collect();
    let found: Vec<Booking> = records(session, &sql, binds, "booking").await?;
    Ok(found
        .into_iter()
        .filter(|booking| !match_keys::keys_of(booking).is_disjoint(&wanted))
        .collect())
}

pub(crate) async fn merge_record<S: Session>(
    session: &mut S,
    id: MergeId,
) -> Result<Option<MergeRecord>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_merges WHERE id = $1",
        id.to_string(),
        "merge record",
    )
    .await
}

pub(crate) async fn merges_involving<S: Session>(
    session: &mut S,
    customer: CustomerId,
) -> Result<Vec<MergeRecord>, StoreError> {
    records(
        session,
        "SELECT m.record FROM cd_merge_participants p JOIN cd_merges m ON m.id = p.merge_id \
         WHERE p.customer_id = $1 ORDER BY m.merged_at, m.id",
        vec![Bind::Text(customer.to_string())],
        "merge record",
    )
    .await
}

pub(crate) async fn audit_trail<S: Session>(
    session: &mut S,
    customer: CustomerId,
) -> Result<Vec<AuditEvent>, StoreError> {
    records(
        session,
        "SELECT e.record FROM cd_audit_event_customers c JOIN cd_audit_events e ON e.seq = c.event_seq \
         WHERE c.customer_id = $1 ORDER BY e.seq",
        vec![Bind::Text(customer.to_string())],
        "audit event",
    )
    .await
}

pub(crate) async fn lists<S: Session>(session: &mut S) -> Result<Vec<CustomerList>, StoreError> {
    records(
        session,
        "SELECT record FROM cd_lists ORDER BY name_key, id",
        Vec::new(),
        "list",
    )
    .await
}

pub(crate) async fn account<S: Session>(
    session: &mut S,
    id: AccountId,
) -> Result<Option<Account>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_accounts WHERE id = $1",
        id.to_string(),
        "account",
    )
    .await
}

pub(crate) async fn account_by_customer<S: Session>(
    session: &mut S,
    customer: CustomerId,
) -> Result<Option<Account>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_accounts WHERE customer_id = $1",
        customer.to_string(),
        "account",
    )
    .await
}

pub(crate) async fn accounts_claiming<S: Session>(
    session: &mut S,
    customers: &[CustomerId],
) -> Result<Vec<Option<Account>>, StoreError> {
    let accounts: Vec<Account> = records_of_customers(
        session,
        "SELECT record FROM cd_accounts WHERE customer_id IN ({ids})",
        customers,
        "account",
    )
    .await?;
    let found = accounts
        .into_iter()
        .filter_map(|account| Some((account.customer?, Some(account))))
        .collect();
    Ok(answer_in_order(customers, found, || None))
}

pub(crate) async fn account_by_email<S: Session>(
    session: &mut S,
    key: &EmailKey,
) -> Result<Option<Account>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_accounts WHERE email_key = $1",
        key.as_str().to_owned(),
        "account",
    )
    .await
}

pub(crate) async fn account_token<S: Session>(
    session: &mut S,
    hash: &ResetTokenHash,
) -> Result<Option<AccountToken>, StoreError> {
    record(
        session,
        "SELECT record FROM cd_account_tokens WHERE hash = $1",
        hash.to_hex(),
        "account token",
    )
    .await
}

pub(crate) async fn account_tokens<S: Session>(
    session: &mut S,
    account: AccountId,
) -> Result<Vec<AccountToken>, StoreError> {
    records(
        session,
        "SELECT record FROM cd_account_tokens WHERE account_id = $1 ORDER BY created_at, hash",
        vec![Bind::Text(account.to_string())],
        "account token",
    )
    .await
}

pub(crate) async fn search_customers<S: Session>(
    session: &mut S,
    query: &CustomerQuery,
    after: Option<&SortPosition>,
    limit: usize,
) -> Result<Vec<SearchHit>, StoreError> {
    const WHAT: &str = "searching customers";
    let Some((sql, binds)) = search_sql(query, after, limit) else {
        return Ok(Vec::new());
    };
    let rows = session.fetch(&sql, binds).await.map_err(failed(WHAT))?;
    let text_key = matches!(query.sort, SortBy::Name);
    rows.iter()
        .map(|row| {
            let customer: Customer = from_json(row.text(0, WHAT)?, "customer")?;
            let value = if text_key {
                SortValue::Text(row.text(1, WHAT)?.to_owned())
            } else {
                SortValue::Int(row.int(1, WHAT)?)
            };
            let position = SortPosition::new(value, customer.id);
            Ok(SearchHit::new(customer, position))
        })
        .collect()
}

pub(crate) async fn count_customers<S: Session>(
    session: &mut S,
    query: &CustomerQuery,
) -> Result<u64, StoreError> {
    let Some((sql, binds)) = count_sql(query) else {
        return Ok(0);
    };
    let rows = session
        .fetch(&sql, binds)
        .await
        .map_err(failed("counting customers"))?;
    let count = rows
        .first()
        .map(|row| row.int(0, "a count"))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(crate) async fn customers_after<S: Session>(
    session: &mut S,
    after: Option<CustomerId>,
    limit: usize,
) -> Result<Vec<Customer>, StoreError> {
    records(
        session,
        "SELECT record FROM cd_customers WHERE id > $1 ORDER BY id LIMIT $2",
        vec![
            Bind::Text(after.map(|id| id.to_string()).unwrap_or_default()),
            Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
        ],
        "customer",
    )
    .await
}

/// Live and archived customers created before `cutoff` with no booking created or starting
/// since: their statistics row's last activity is before it.
pub(crate) async fn customers_inactive_since<S: Session>(
    session: &mut S,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Customer>, StoreError> {
    records(
        session,
        "SELECT c.record FROM cd_customers c JOIN cd_customer_stats s ON s.customer_id = c.id \
         WHERE c.status IN ('active', 'archived') AND c.created_at < $1 \
         AND s.last_activity_at < $1 ORDER BY c.id",
        vec![Bind::Int(nanos(cutoff))],
        "customer",
    )
    .await
}

pub(crate) async fn bookings_of<S: Session>(
    session: &mut S,
    customers: &[CustomerId],
) -> Result<Vec<Vec<Booking>>, StoreError> {
    let bookings: Vec<Booking> = records_of_customers(
        session,
        "SELECT record FROM cd_bookings WHERE customer_id IN ({ids}) ORDER BY starts_at, id",
        customers,
        "booking",
    )
    .await?;
    let mut found: HashMap<CustomerId, Vec<Booking>> = HashMap::with_capacity(customers.len());
    for booking in bookings {
        if let Some(customer) = booking.attribution.customer() {
            found.entry(customer).or_default().push(booking);
        }
    }
    Ok(answer_in_order(customers, found, Vec::new))
}
