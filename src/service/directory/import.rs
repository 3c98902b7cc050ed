//! Importing another system's booking history: a CSV file read row by row and recorded in
//! batches by the same attribution rules as live bookings.

use std::fmt;
use std::io;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use crate::decisions::attribution::AttributionOutcome;
use crate::ports::clock::Clock;
use crate::ports::store::Store;
use crate::records::audit::Actor;
use crate::records::booking::NewBooking;
use crate::reports::booking_import::{
    BookingColumns, BookingFileError, BookingFileFormat, BookingReader, RowProblems,
};
use crate::service::directory::batch::BatchItem;
use crate::service::directory::{Directory, Recorded};
use crate::service::error::Error;
use crate::service::telemetry::{ErrorKind, use_case};

/// How to import a booking file: its [`BookingColumns`], how many rows go into one commit,
/// and how many rows that were not recorded the final report keeps.
///
/// # Examples
///
/// ```
/// use customer_directory::service::BookingImport;
/// let import = BookingImport::default().with_batch_size(500).with_max_reported_rows(50);
/// assert_eq!((import.batch_size, import.max_reported_rows), (500, 50));
/// // Out of bounds sizes are brought within them.
/// assert_eq!(BookingImport::default().with_batch_size(0).batch_size, 1);
/// assert_eq!(BookingImport::default().with_batch_size(usize::MAX).batch_size, BookingImport::MAX_BATCH_SIZE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BookingImport {
    /// Which header holds what.
    pub columns: BookingColumns,
    /// How the file writes its values (encoding, delimiter, decimal separator, date order,
    /// time zone); the default is the crate's own CSV shape.
    pub format: BookingFileFormat,
    /// Rows read per batch: one read and one commit each. Within 1 to
    /// [`MAX_BATCH_SIZE`](Self::MAX_BATCH_SIZE) (a value outside is brought within), so
    /// one commit stays a size every store handles.
    pub batch_size: usize,
    /// How many rows that were not recorded (already present, invalid, refused) the final
    /// [`BookingImportReport`] lists; the others are counted only. Every row's outcome is
    /// handed to the progress callback with its batch, so a host that wants them all
    /// keeps them there.
    pub max_reported_rows: usize,
}

impl BookingImport {
    /// The default [`batch_size`](Self::batch_size).
    pub const DEFAULT_BATCH_SIZE: usize = 1_000;
    /// The largest [`batch_size`](Self::batch_size): what one
    /// [`record_bookings`](Directory::record_bookings) call takes
    /// ([`BOOKING_BATCH_MAX`](crate::limits::BOOKING_BATCH_MAX)).
    pub const MAX_BATCH_SIZE: usize = crate::limits::BOOKING_BATCH_MAX;
    /// The default [`max_reported_rows`](Self::max_reported_rows).
    pub const DEFAULT_MAX_REPORTED_ROWS: usize = 1_000;

    /// An import reading the file with `columns`, with the default sizes.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::reports::booking_import::BookingColumns;
    /// use customer_directory::service::BookingImport;
    /// let import = BookingImport::new(BookingColumns::default());
    /// assert_eq!(import.batch_size, BookingImport::DEFAULT_BATCH_SIZE);
    /// ```
    #[must_use]
    pub fn new(columns: BookingColumns) -> Self {
        Self {
            columns,
            format: BookingFileFormat::default(),
            batch_size: Self::DEFAULT_BATCH_SIZE,
            max_reported_rows: Self::DEFAULT_MAX_REPORTED_ROWS,
        }
    }

    /// Sets how the file writes its values.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::reports::booking_import::{BookingFileFormat, DateOrder};
    /// use customer_directory::service::BookingImport;
    /// let format = BookingFileFormat::default().with_delimiter(b';').with_date_order(DateOrder::DayMonthYear);
    /// let import = BookingImport::default().with_format(format);
    /// assert_eq!(import.format.date_order, DateOrder::DayMonthYear);
    /// ```
    #[must_use]
    pub fn with_format(mut self, format: BookingFileFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the batch size, brought within 1 to [`MAX_BATCH_SIZE`](Self::MAX_BATCH_SIZE).
    #[must_use]
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.clamp(1, Self::MAX_BATCH_SIZE);
        self
    }

    /// Sets how many rows that were not recorded the final report lists.
    #[must_use]
    pub fn with_max_reported_rows(mut self, rows: usize) -> Self {
        self.max_reported_rows = rows;
        self
    }
}

impl Default for BookingImport {
    /// [`BookingColumns::default`], the default sizes.
    fn default() -> Self {
        Self::new(BookingColumns::default())
    }
}

/// What became of one row of a booking file.
#[derive(Debug)]
#[non_exhaustive]
pub enum BookingOutcome {
    /// Stored, with what attribution did with it.
    Recorded(Recorded),
    /// A booking with this code is already stored (by an earlier run, or an earlier row of
    /// the file): nothing written.
    AlreadyPresent,
    /// The row cannot be read into a booking: every problem. Nothing written.
    Invalid(RowProblems),
    /// The directory refused the booking (for example its email is blocked): nothing
    /// written.
    Refused(Error),
}

/// One row of a booking file and its outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct ImportedBooking {
    /// Its position among the data rows: 1 for the first row after the header.
    pub row: u64,
    /// The line it starts on (the header is line 1).
    pub line: u64,
    /// Its booking code as read (empty when the row has none).
    pub code: String,
    /// What became of it.
    pub outcome: BookingOutcome,
}

/// Running totals of a booking import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BookingImportCounts {
    /// Data rows read.
    pub rows: u64,
    /// Bookings stored.
    pub recorded: u64,
    /// Rows skipped because their code was already stored.
    pub already_present: u64,
    /// Rows that could not be read into a booking.
    pub invalid: u64,
    /// Bookings the directory refused (blocked emails, for example).
    pub refused: u64,
    /// Of the recorded bookings: those that created a customer.
    pub created_customers: u64,
    /// Of the recorded bookings: those attached to a customer (primary or related).
    pub attached: u64,
    /// Of the recorded bookings: those left unattributed (no email, or not locked).
    pub unattributed: u64,
}

impl BookingImportCounts {
    fn add(&mut self, outcome: &BookingOutcome) {
        self.rows += 1;
        match outcome {
            BookingOutcome::Recorded(recorded) => {
                self.recorded += 1;
                match recorded.outcome {
                    AttributionOutcome::CreatedCustomer(_) => self.created_customers += 1,
                    AttributionOutcome::Attached { .. } | AttributionOutcome::Related { .. } => {
                        self.attached += 1;
                    }
                    AttributionOutcome::Unattributed(_) => self.unattributed += 1,
                    _ => {}
                }
            }
            BookingOutcome::AlreadyPresent => self.already_present += 1,
            BookingOutcome::Invalid(_) => self.invalid += 1,
            BookingOutcome::Refused(_) => self.refused += 1,
        }
    }
}

/// Where a booking import stands, handed to the progress callback after every batch.
#[derive(Debug)]
#[non_exhaustive]
pub struct ImportProgress<'a> {
    /// The totals so far, this batch included.
    pub counts: BookingImportCounts,
    /// Time since the import started.
    pub elapsed: Duration,
    /// The lines of the batch just committed.
    pub lines: RangeInclusive<u64>,
    /// Every row of the batch just committed, in file order, with its outcome.
    pub batch: &'a [ImportedBooking],
}

/// The result of [`Directory::import_bookings`]: the totals, and the first rows that were
/// not recorded.
#[derive(Debug)]
#[non_exhaustive]
pub struct BookingImportReport {
    /// The totals.
    pub counts: BookingImportCounts,
    /// The first [`max_reported_rows`](BookingImport::max_reported_rows) rows that were
    /// not recorded, in file order.
    pub not_recorded: Vec<ImportedBooking>,
    /// How many more rows were not recorded than [`not_recorded`](Self::not_recorded)
    /// lists.
    pub not_recorded_left_out: u64,
    /// How long the import took.
    pub elapsed: Duration,
}

/// Why a booking import stopped. Every batch committed before stays stored: running the
/// same file again skips their codes and goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BookingImportError {
    /// Nothing was read: for example a staff identifier over its
    /// [limit](crate::limits).
    #[error(transparent)]
    Directory(Error),
    /// The file cannot be read on (bad header, a bound, a read error). The rows read
    /// before the error were recorded first.
    #[error("the booking file cannot be read: {0}")]
    File(#[from] BookingFileError),
    /// A batch could not be stored: none of its rows is stored, every earlier batch is.
    #[error("lines {first} to {last} were not stored: {source}")]
    Batch {
        /// The first line of the batch.
        first: u64,
        /// The last line of the batch.
        last: u64,
        /// Why storing failed.
        #[source]
        source: Error,
    },
}

impl ErrorKind for BookingImportError {
    fn error_kind(&self) -> &'static str {
        match self {
            Self::Directory(error) | Self::Batch { source: error, .. } => error.kind(),
            Self::File(_) => "booking_file",
        }
    }
}

/// The rows read and not yet committed: the valid ones go to the store together.
struct Batch {
    rows: Vec<(u64, u64, String, Result<NewBooking, RowProblems>)>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("rows", &self.rows.len())
            .finish()
    }
}

impl<S: Store, C: Clock> Directory<S, C> {
    /// Imports a booking file exported by another system: reads it row by row (see
    /// [`BookingReader`] for the format) and records the bookings in batches of
    /// [`batch_size`](BookingImport::batch_size) rows through
    /// [`record_bookings`](Self::record_bookings), so each booking is attributed exactly as
    /// a live one and kept with its historical status and dates. No mail is sent.
    ///
    /// `progress` is called after every batch with the totals, the elapsed time and the
    /// batch's rows. Memory stays flat however long the file: one batch is held at a
    /// time, and the report keeps the totals and only the first
    /// [`max_reported_rows`](BookingImport::max_reported_rows) rows that were not recorded.
    ///
    /// The import can be resumed: each batch is one commit, so a crash or a failed batch
    /// leaves the earlier batches stored, and running the same file again reports their
    /// rows as [`AlreadyPresent`](BookingOutcome::AlreadyPresent) and stores only the rest,
    /// without duplicates. Reading the file is synchronous: give a slow reader its own
    /// thread.
    ///
    /// # Errors
    ///
    /// [`BookingImportError::Directory`] for a staff identifier over its
    /// [limit](crate::limits), before anything is read; [`BookingImportError::File`] when
    /// the file cannot be read on (a missing column, a file or row over its bound); and
    /// [`BookingImportError::Batch`] naming the lines of the batch that storage failed on.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, service::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let file = "code,status,starts_at,total,currency,email\n\
    ///             BK-1,paid,2019-05-01,40.00,EUR,ana@example.com\n\
    ///             BK-2,cancelled,2019-06-01 10:00,40.00,EUR,ana@example.com\n\
    ///             BK-3,paid,someday,40.00,EUR,bo@example.com\n";
    /// let mut batches = 0;
    /// let import = BookingImport::default();
    /// let report = directory
    ///     .import_bookings(file.as_bytes(), &import, |_| batches += 1, &Actor::staff("desk"))
    ///     .await?;
    /// assert_eq!((report.counts.recorded, report.counts.invalid), (2, 1));
    /// assert_eq!(report.not_recorded[0].line, 4);
    /// assert_eq!(batches, 1);
    /// // Again: nothing is recorded twice.
    /// let again = directory.import_bookings(file.as_bytes(), &import, |_| {}, &Actor::staff("desk")).await?;
    /// assert_eq!((again.counts.recorded, again.counts.already_present), (0, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn import_bookings(
        &self,
        reader: impl io::Read,
        import: &BookingImport,
        mut progress: impl FnMut(&ImportProgress<'_>),
        actor: &Actor,
    ) -> Result<BookingImportReport, BookingImportError> {
        let span = use_case!(
            "import_bookings",
            [rows, recorded, already_present, invalid, refused]
        );
        span.run(
            async {
                crate::service::directory::checks::check_actor(actor)
                    .map_err(|error| BookingImportError::Directory(error.into()))?;
                let started = Instant::now();
                let batch_size = import.batch_size.clamp(1, BookingImport::MAX_BATCH_SIZE);
                let mut report = BookingImportReport {
                    counts: BookingImportCounts::default(),
                    not_recorded: Vec::new(),
                    not_recorded_left_out: 0,
                    elapsed: Duration::ZERO,
                };
                let mut rows = BookingReader::with_format(
                    reader,
                    &import.columns,
                    import.format,
                    &self.settings,
                )?;
                let mut batch = Batch {
                    rows: Vec::with_capacity(batch_size),
                };
                let stopped = loop {
                    match rows.next() {
                        Some(Ok(row)) => {
                            batch.rows.push((row.row, row.line, row.code, row.booking));
                            if batch.rows.len() < batch_size {
                                continue;
                            }
                        }
                        Some(Err(error)) => break Some(error),
                        None => break None,
                    }
                    self.commit_batch(
                        &mut batch,
                        import,
                        &mut report,
                        started,
                        &mut progress,
                        actor,
                    )
                    .await?;
                };
                // Rows read before the file ended (or could not be read on) are stored too.
                self.commit_batch(
                    &mut batch,
                    import,
                    &mut report,
                    started,
                    &mut progress,
                    actor,
                )
                .await?;
                if let Some(error) = stopped {
                    return Err(BookingImportError::File(error));
                }
                report.elapsed = started.elapsed();
                Ok(report)
            },
            |span, report| {
                let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
                span.record_count("rows", count(report.counts.rows));
                span.record_count("recorded", count(report.counts.recorded));
                span.record_count("already_present", count(report.counts.already_present));
                span.record_count("invalid", count(report.counts.invalid));
                span.record_count("refused", count(report.counts.refused));
                "ok"
            },
        )
        .await
    }

    /// Records the valid rows of `batch` in one call, adds every row's outcome to
    /// `report` and tells `progress`; leaves `batch` empty. An empty batch does nothing.
    async fn commit_batch(
        &self,
        batch: &mut Batch,
        import: &BookingImport,
        report: &mut BookingImportReport,
        started: Instant,
        progress: &mut impl FnMut(&ImportProgress<'_>),
        actor: &Actor,
    ) -> Result<(), BookingImportError> {
        let (Some(first), Some(last)) = (batch.rows.first(), batch.rows.last()) else {
            return Ok(());
        };
        let lines = first.1..=last.1;
        let mut rows = Vec::with_capacity(batch.rows.len());
        let mut bookings = Vec::new();
        for (row, line, code, booking) in batch.rows.drain(..) {
            match booking {
                Ok(booking) => {
                    bookings.push(booking);
                    rows.push((row, line, code, None));
                }
                Err(problems) => rows.push((row, line, code, Some(problems))),
            }
        }
        let mut items = if bookings.is_empty() {
            Vec::new()
        } else {
            self.record_bookings(bookings, actor)
                .await
                .map_err(|source| BookingImportError::Batch {
                    first: *lines.start(),
                    last: *lines.end(),
                    source,
                })?
                .items
        }
        .into_iter();
        let mut done = Vec::with_capacity(rows.len());
        for (row, line, code, problems) in rows {
            let outcome = match problems {
                Some(problems) => BookingOutcome::Invalid(problems),
                None => match items.next() {
                    Some(BatchItem::Recorded(recorded)) => BookingOutcome::Recorded(recorded),
                    Some(BatchItem::AlreadyStored { .. }) => BookingOutcome::AlreadyPresent,
                    Some(BatchItem::Refused(error)) => BookingOutcome::Refused(error),
                    None => BookingOutcome::Refused(missing_item()),
                },
            };
            report.counts.add(&outcome);
            done.push(ImportedBooking {
                row,
                line,
                code,
                outcome,
            });
        }
        progress(&ImportProgress {
            counts: report.counts,
            elapsed: started.elapsed(),
            lines,
            batch: &done,
        });
        for entry in done {
            if matches!(entry.outcome, BookingOutcome::Recorded(_)) {
                continue;
            }
            if report.not_recorded.len() < import.max_reported_rows {
                report.not_recorded.push(entry);
            } else {
                report.not_recorded_left_out += 1;
            }
        }
        Ok(())
    }
}

/// The refusal of a booking `record_bookings` gave no answer for, which its contract (one
/// item per booking) rules out; reported rather than trusted.
fn missing_item() -> Error {
    Error::Store(crate::ports::store::StoreError::Backend {
        message: "the batch report has fewer items than bookings".to_owned(),
        source: None,
    })
}
