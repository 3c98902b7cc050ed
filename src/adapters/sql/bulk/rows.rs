//! Rows of a multi-row statement: each table's columns, and the row sources (`VALUES`
//! lists or arrays for `UNNEST`) that carry them in as few statements as the dialect allows.

use std::ops::Range;

use crate::adapters::sql::encoding::{BOOKING_COLUMNS, Bind};
use crate::adapters::sql::session::{Dialect, Row, Session, failed};
use crate::ports::store::StoreError;

/// Rows per `VALUES` statement: far below SQLite's 32,766 parameters at nine columns. A
/// remainder goes in halving chunks (32, 16, ... 1 rows), so a table needs at most seven
/// statement texts, which the prepared-statement cache keeps.
pub(super) const CHUNK_ROWS: usize = 64;

/// The type of a column of a multi-row statement: what its array is on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Text,
    MaybeText,
    Int,
}

/// The columns of [`customer_columns`](crate::adapters::sql::encoding::customer_columns).
pub(super) const CUSTOMER: [Kind; 9] = [
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::MaybeText,
];

/// The columns of [`booking_row`](crate::adapters::sql::encoding::booking_row).
pub(super) const BOOKING: [Kind; BOOKING_COLUMNS] = [
    Kind::Text,
    Kind::Int,
    Kind::MaybeText,
    Kind::MaybeText,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
];

/// The columns of `bulk::stats_row`.
pub(super) const STATS: [Kind; 4] = [Kind::Text, Kind::Int, Kind::Int, Kind::Int];

/// A statement's share of the rows: which of them, the row source (`VALUES ...` or
/// `SELECT * FROM UNNEST(...)`) and its parameters, numbered from `$1`.
pub(super) struct Chunk {
    pub(super) rows: Range<usize>,
    pub(super) source: String,
    pub(super) binds: Vec<Bind>,
}

/// Splits `rows` of columns `kinds` into the statements' row sources: one array per column
/// where the dialect takes arrays, else `VALUES` lists of [`CHUNK_ROWS`] rows and halving
/// chunks for the remainder.
pub(super) fn chunks<D: Dialect>(
    kinds: &[Kind],
    rows: Vec<Vec<Bind>>,
) -> Result<Vec<Chunk>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    if D::ARRAYS {
        let count = rows.len();
        let source = format!(
            "SELECT * FROM UNNEST({})",
            kinds
                .iter()
                .enumerate()
                .map(|(n, kind)| format!("${}::{}", n + 1, kind.array_type()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(vec![Chunk {
            rows: 0..count,
            source,
            binds: arrays(kinds, rows)?,
        }]);
    }
    let mut found = Vec::new();
    let mut rows = rows.into_iter();
    for range in ladder(rows.len()) {
        let mut binds = Vec::with_capacity(range.len() * kinds.len());
        for row in rows.by_ref().take(range.len()) {
            if row.len() != kinds.len() {
                return Err(shape_error(kinds.len(), row.len()));
            }
            binds.extend(row);
        }
        found.push(Chunk {
            source: values_list(D::NUMBERED, range.len(), kinds.len()),
            rows: range,
            binds,
        });
    }
    Ok(found)
}

/// The row ranges of the `VALUES` statements for `count` rows: chunks of [`CHUNK_ROWS`],
/// then the largest power of two that fits, until none is left.
pub(super) fn ladder(count: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < count {
        let left = count - start;
        let size = if left >= CHUNK_ROWS {
            CHUNK_ROWS
        } else {
            1 << left.ilog2()
        };
        ranges.push(start..start + size);
        start += size;
    }
    ranges
}

/// `VALUES` and `rows` tuples of `columns` parameters, numbered from 1 and written with
/// `mark` (`$` or `?`).
pub(super) fn values_list(mark: char, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(8 + rows * columns * 6);
    sql.push_str("VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push(mark);
            sql.push_str(&(row * columns + column + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// `rows` as one array parameter per column.
pub(super) fn arrays(kinds: &[Kind], rows: Vec<Vec<Bind>>) -> Result<Vec<Bind>, StoreError> {
    let count = rows.len();
    let mut columns: Vec<Bind> = kinds
        .iter()
        .map(|kind| match kind {
            Kind::Text => Bind::Texts(Vec::with_capacity(count)),
            Kind::MaybeText => Bind::MaybeTexts(Vec::with_capacity(count)),
            Kind::Int => Bind::Ints(Vec::with_capacity(count)),
        })
        .collect();
    for row in rows {
        if row.len() != kinds.len() {
            return Err(shape_error(kinds.len(), row.len()));
        }
        for (column, cell) in columns.iter_mut().zip(row) {
            match (column, cell) {
                (Bind::Texts(texts), Bind::Text(text)) => texts.push(text),
                (Bind::MaybeTexts(texts), Bind::MaybeText(text)) => texts.push(text),
                (Bind::MaybeTexts(texts), Bind::Text(text)) => texts.push(Some(text)),
                (Bind::Ints(numbers), Bind::Int(number)) => numbers.push(number),
                (column, cell) => {
                    return Err(StoreError::backend(
                        "building a multi-row statement",
                        format!("a {cell:?} in a column of {column:?}"),
                    ));
                }
            }
        }
    }
    Ok(columns)
}

pub(super) fn shape_error(columns: usize, found: usize) -> StoreError {
    StoreError::backend(
        "building a multi-row statement",
        format!("a row of {found} values for {columns} columns"),
    )
}

impl Kind {
    /// The PostgreSQL array type of the column.
    fn array_type(self) -> &'static str {
        match self {
            Self::Text | Self::MaybeText => "text[]",
            Self::Int => "int8[]",
        }
    }
}

/// Runs the statement `sql` builds around each chunk's row source, for all of `rows`.
pub(super) async fn run<S: Session>(
    session: &mut S,
    kinds: &[Kind],
    rows: Vec<Vec<Bind>>,
    sql: impl Fn(&str) -> String,
    what: &'static str,
) -> Result<(), StoreError> {
    for chunk in chunks::<S::Dialect>(kinds, rows)? {
        session
            .execute(&sql(&chunk.source), chunk.binds)
            .await
            .map_err(failed(what))?;
    }
    Ok(())
}

/// Runs the statement `sql` builds around each chunk's row source and collects the rows
/// the statements return.
pub(super) async fn fetch<S: Session>(
    session: &mut S,
    kinds: &[Kind],
    rows: Vec<Vec<Bind>>,
    sql: impl Fn(&str) -> String,
    what: &'static str,
) -> Result<Vec<Row>, StoreError> {
    let mut found = Vec::new();
    for chunk in chunks::<S::Dialect>(kinds, rows)? {
        found.extend(
            session
                .fetch(&sql(&chunk.source), chunk.binds)
                .await
                .map_err(failed(what))?,
        );
    }
    Ok(found)
}
