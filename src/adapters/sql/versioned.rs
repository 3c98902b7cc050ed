//! Versioned rows: the compare-and-set write every record row goes through, the conflict
//! a customer or booking write names when it changed nothing, and the version check (and
//! lock) of a customer.

use crate::adapters::sql::encoding::{Bind, stored_version, version_column};
use crate::adapters::sql::session::{Checked, Dialect, Session, failed};
use crate::ports::store::changes::{Expected, Write};
use crate::ports::store::{Conflict, StoreError};
use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::values::ids::CustomerId;

/// Writes one record row: `insert` (its parameters `binds`, touching no row when the id is
/// taken) when the commit expects none, else `update` with the expected version bound after
/// `binds` (touching no row unless the stored version is that one). Answers how many rows
/// changed: 0 means the expectation failed.
pub(crate) async fn write_versioned<S: Session>(
    session: &mut S,
    expected: Expected,
    insert: &str,
    update: &str,
    mut binds: Vec<Bind>,
    what: &'static str,
) -> Result<u64, StoreError> {
    let sql = match expected {
        Expected::Absent => insert,
        Expected::Version(version) => {
            binds.push(Bind::Int(version_column(version)));
            update
        }
    };
    session.execute(sql, binds).await.map_err(failed(what))
}

/// The version column of the one row `sql` selects for `id`, if any.
pub(crate) async fn version_of<S: Session>(
    session: &mut S,
    sql: &str,
    id: String,
) -> Result<Option<u64>, StoreError> {
    let rows = session
        .fetch(sql, vec![Bind::Text(id)])
        .await
        .map_err(failed("checking a version"))?;
    rows.first()
        .map(|row| stored_version(row.int(0, "a version")?))
        .transpose()
}

/// The version stored for customer `id`; `lock`ed for the rest of the transaction when
/// asked (on databases with row locks).
pub(crate) async fn customer_version<S: Session>(
    session: &mut S,
    id: CustomerId,
    lock: bool,
) -> Result<Option<u64>, StoreError> {
    let lock = if lock {
        <S::Dialect as Dialect>::LOCK
    } else {
        ""
    };
    version_of(
        session,
        &format!("SELECT version FROM cd_customers WHERE id = $1 {lock}"),
        id.to_string(),
    )
    .await
}

/// The conflict of a customer write that changed no row: the version stored, if any.
pub(crate) async fn customer_conflict<S: Session>(
    session: &mut S,
    write: &Write<Customer>,
) -> Checked {
    let found = customer_version(session, write.record.id, false).await?;
    Ok(Err(Conflict::CustomerVersion {
        id: write.record.id,
        expected: write.expected,
        found,
    }))
}

/// The conflict of a booking write that changed no row: the version stored, if any.
pub(crate) async fn booking_conflict<S: Session>(
    session: &mut S,
    write: &Write<Booking>,
) -> Checked {
    let found = version_of(
        session,
        "SELECT version FROM cd_bookings WHERE id = $1",
        write.record.id.to_string(),
    )
    .await?;
    Ok(Err(Conflict::BookingVersion {
        id: write.record.id,
        expected: write.expected,
        found,
    }))
}
