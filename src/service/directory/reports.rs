//! Reports and bulk moves of customer records: profile summaries, CSV export and import.

use std::collections::HashMap;
use std::io;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Directory, audit_event};
use crate::ports::clock::Clock;
use crate::ports::query::builder::CustomerQuery;
use crate::ports::query::cursor::{Cursor, CustomerPage};
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{BulkReadStore, SearchStore, Store, StoreError};
use crate::records::audit::{Actor, AuditAction, AuditEvent};
use crate::records::booking::Booking;
use crate::records::contact_form::ValidationErrors;
use crate::records::customer::{Customer, CustomerStatus};
use crate::records::merge::MergeRecord;
use crate::reports::csv::{CsvExportOptions, CsvExporter, ImportRow, read_customer_rows};
use crate::reports::statement::Statement;
use crate::reports::summary::CustomerSummary;
use crate::service::error::Error;
use crate::service::telemetry::{self, use_case};
use crate::values::email::key::EmailKey;
use crate::values::ids::CustomerId;

/// Everything the directory stores about one customer, for a data-subject access request
/// (GDPR article 15): serialise it with serde, e.g. `serde_json::to_string_pretty`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataSubjectExport {
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The customer record: profile, aliases, status, dates.
    pub customer: Customer,
    /// Every booking attributed to the customer, with its contact snapshot.
    pub bookings: Vec<Booking>,
    /// The merges the customer (or anyone merged into it) took part in, with the details
    /// they kept.
    pub merges: Vec<MergeRecord>,
    /// The audit events naming the customer or anyone merged into it, oldest first.
    pub audit_trail: Vec<AuditEvent>,
}

/// How many customers an export reads per page.
const EXPORT_PAGE: usize = 500;

/// What to do with a file that has invalid rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ImportMode {
    /// Import nothing unless every row is valid (duplicates do not count as invalid: they
    /// are reported and skipped).
    #[default]
    AllOrNothing,
    /// Import the valid rows; report the others.
    SkipInvalidRows,
}

/// What became of one row of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowOutcome {
    /// A new customer was created (or would have been, if the import was not committed).
    Created(CustomerId),
    /// A live customer already has this email: nothing created; merge or edit instead.
    Duplicate {
        /// The email key.
        key: EmailKey,
        /// Who holds it.
        existing: CustomerId,
    },
    /// An earlier row of the same file has this email.
    DuplicateInFile {
        /// The email key.
        key: EmailKey,
        /// The earlier row's line.
        first_line: u64,
    },
    /// The email or its domain is on the blocklist.
    Blocked(EmailKey),
    /// The row's fields are invalid; every problem is listed.
    Invalid(ValidationErrors),
}

/// One row's line and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRow {
    /// Its position among the data rows: 1 for the first row after the header.
    pub row: u64,
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    /// What became of it.
    pub outcome: RowOutcome,
}

/// The result of [`Directory::import_customers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Every row, in file order.
    pub rows: Vec<ImportedRow>,
    /// Whether new customers were stored: `false` when there were none to create, or when
    /// the mode is [`ImportMode::AllOrNothing`] and some row was invalid or blocked.
    pub committed: bool,
}

impl ImportReport {
    /// The customers created (none if not committed).
    #[must_use]
    pub fn created(&self) -> Vec<CustomerId> {
        if !self.committed {
            return Vec::new();
        }
        self.rows
            .iter()
            .filter_map(|row| match row.outcome {
                RowOutcome::Created(id) => Some(id),
                _ => None,
            })
            .collect()
    }

    /// The rows that stop an all-or-nothing import: invalid or blocked ones.
    pub fn rejected(&self) -> impl Iterator<Item = &ImportedRow> {
        self.rows
            .iter()
            .filter(|row| matches!(row.outcome, RowOutcome::Invalid(_) | RowOutcome::Blocked(_)))
    }
}

impl<S: Store, C: Clock> Directory<S, C> {
    /// A customer's summary: counts, value per currency, first and last booking, the last
    /// login of the account claiming it, history.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`]; [`Error::Money`] when a booking mixes currencies.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let id = directory.create_customer(Profile::default(), &Actor::staff("desk")).await?.customer;
    /// assert_eq!(directory.summary(id).await?.booking_count, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn summary(&self, customer: CustomerId) -> Result<CustomerSummary, Error> {
        let span = use_case!("summary", [], customer = %customer);
        span.run(
            async {
                let customer = self.person(customer).await?;
                let bookings = telemetry::store(
                    "customer_bookings",
                    self.store.customer_bookings(customer.id),
                )
                .await?;
                let last_login = self.last_login(customer.id).await?;
                Ok(CustomerSummary::new(&customer, &bookings, last_login)?)
            },
            |_, _| "ok",
        )
        .await
    }

    /// The last login of the account claiming `customer`, if any.
    async fn last_login(&self, customer: CustomerId) -> Result<Option<DateTime<Utc>>, Error> {
        Ok(self
            .store
            .account_by_customer(customer)
            .await?
            .and_then(|account| account.last_login_at))
    }

    /// Everything stored about a customer, for a data-subject access request: its record,
    /// bookings, audit trail and those of every customer merged into it, and the merge
    /// records. A merged id answers [`Error::CustomerMerged`] naming the customer its data is
    /// part of now, whose export holds it.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`]; [`Error::Store`].
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let form = ContactForm { email: "ana@example.com".into(), ..ContactForm::default() };
    /// let id = directory.create_customer(form.parse(directory.settings())?, &Actor::staff("desk")).await?.customer;
    /// let export = directory.data_subject_export(id).await?;
    /// assert_eq!(export.audit_trail.len(), 1);
    /// assert!(serde_json::to_string(&export)?.contains("ana@example.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn data_subject_export(
        &self,
        customer: CustomerId,
    ) -> Result<DataSubjectExport, Error> {
        let span = use_case!("data_subject_export", [bookings], customer = %customer);
        span.run(
            async {
                let customer = self.person(customer).await?;
                let (people, merges) = self.merge_history(customer.id).await?;
                let mut audit_trail: Vec<AuditEvent> = Vec::new();
                for person in people {
                    for event in
                        telemetry::store("audit_trail", self.store.audit_trail(person)).await?
                    {
                        if !audit_trail.contains(&event) {
                            audit_trail.push(event);
                        }
                    }
                }
                audit_trail.sort_by_key(|event| event.at);
                Ok(DataSubjectExport {
                    exported_at: self.clock.now(),
                    bookings: telemetry::store(
                        "customer_bookings",
                        self.store.customer_bookings(customer.id),
                    )
                    .await?,
                    merges,
                    audit_trail,
                    customer,
                })
            },
            |span, export| {
                span.record_count("bookings", export.bookings.len());
                "ok"
            },
        )
        .await
    }

    /// The statement of a customer's bookings starting in `[from, until)`.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`]; [`Error::Statement`] for a period that ends before it
    /// starts or amounts that cannot be added.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let id = directory.create_customer(Profile::default(), &Actor::staff("desk")).await?.customer;
    /// let now = chrono::Utc::now();
    /// let statement = directory.statement(id, now - chrono::TimeDelta::days(30), now).await?;
    /// assert!(statement.lines.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn statement(
        &self,
        customer: CustomerId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Statement, Error> {
        let span = use_case!("statement", [], customer = %customer);
        span.run(
            async {
                let customer = self.person(customer).await?;
                let bookings = telemetry::store(
                    "customer_bookings",
                    self.store.customer_bookings(customer.id),
                )
                .await?;
                Ok(Statement::new(
                    &customer,
                    &bookings,
                    from,
                    until,
                    self.clock.now(),
                )?)
            },
            |_, _| "ok",
        )
        .await
    }

    /// Imports customers from a CSV file (see [`read_customer_rows`]
    /// for the format) in one commit, reporting every row.
    ///
    /// Rows whose email a live customer or an earlier row already has are reported as
    /// duplicates and not created. Blocked emails and invalid rows are reported; in
    /// [`ImportMode::AllOrNothing`] any of them means nothing is stored. Each new customer
    /// takes the unattributed bookings with its email, like [`create_customer`](Self::create_customer).
    ///
    /// # Errors
    ///
    /// [`Error::Import`] when the file cannot be read as a whole, including a file, a cell or
    /// a number of rows over its [limit](crate::limits) ([`ImportError::TooLong`](crate::reports::csv::ImportError::TooLong));
    /// [`Error::TooLong`] for a staff identifier over its limit; [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let file = "given_name,email\nAna,ana@example.com\nAna again,ANA@example.com\n";
    /// let report = directory.import_customers(file.as_bytes(), ImportMode::AllOrNothing, &Actor::staff("desk")).await?;
    /// assert!(report.committed);
    /// assert_eq!(report.created().len(), 1);
    /// assert!(matches!(report.rows[1].outcome, RowOutcome::DuplicateInFile { first_line: 2, .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn import_customers(
        &self,
        reader: impl io::Read,
        mode: ImportMode,
        actor: &Actor,
    ) -> Result<ImportReport, Error> {
        let span =
            use_case!("import_customers", [rows, created, rejected, committed], mode = ?mode);
        span.run(
            async {
                crate::service::directory::checks::check_actor(actor)?;
                let rows = read_customer_rows(reader, &self.settings)?;
                let created_at = self.clock.now();
                // Ids are chosen once, so a retried commit reports the same customers.
                // Staff import profiles: required custom fields apply, as for `create_customer`.
                let templates: Vec<Result<Customer, ValidationErrors>> = rows
                    .iter()
                    .map(|row| {
                        let profile = row.profile.clone()?;
                        crate::records::contact_form::check_custom_fields(
                            &self.settings,
                            &profile,
                            true,
                        )?;
                        Ok(Customer::new(profile, created_at))
                    })
                    .collect();
                self.commit_retrying(|| async {
                    let (changes, report) =
                        self.plan_import(&rows, &templates, mode, actor).await?;
                    Ok((changes, report))
                })
                .await
            },
            |span, report| {
                span.record_count("rows", report.rows.len());
                span.record_count("created", report.created().len());
                span.record_count("rejected", report.rejected().count());
                span.record_count("committed", usize::from(report.committed));
                "ok"
            },
        )
        .await
    }

    async fn plan_import(
        &self,
        rows: &[ImportRow],
        templates: &[Result<Customer, ValidationErrors>],
        mode: ImportMode,
        actor: &Actor,
    ) -> Result<(ChangeSet, ImportReport), Error> {
        let now = self.clock.now();
        let mut changes = ChangeSet::new();
        let mut first_lines: HashMap<EmailKey, u64> = HashMap::new();
        let mut report = ImportReport {
            rows: Vec::with_capacity(rows.len()),
            committed: false,
        };
        let mut created = Vec::new();
        for (row, template) in rows.iter().zip(templates) {
            let outcome = match template {
                Err(problems) => RowOutcome::Invalid(problems.clone()),
                Ok(template) => {
                    let mut customer = template.clone();
                    customer.updated_at = now;
                    match customer.profile.email.as_ref().map(|e| e.key().clone()) {
                        None => {
                            created.push(customer.id);
                            changes.save_customer(customer);
                            RowOutcome::Created(template.id)
                        }
                        Some(key) => {
                            let lookup =
                                telemetry::store("lookup_email", self.store.lookup_email(&key))
                                    .await?;
                            if let Some(first_line) = first_lines.get(&key) {
                                RowOutcome::DuplicateInFile {
                                    key,
                                    first_line: *first_line,
                                }
                            } else if let Some(holder) = lookup.customer {
                                RowOutcome::Duplicate {
                                    key,
                                    existing: holder.id,
                                }
                            } else if lookup.block.is_some() {
                                RowOutcome::Blocked(key)
                            } else {
                                first_lines.insert(key.clone(), row.line);
                                self.attach_unattributed(&mut customer, &key, &mut changes)
                                    .await?;
                                created.push(customer.id);
                                changes.save_customer(customer);
                                RowOutcome::Created(template.id)
                            }
                        }
                    }
                }
            };
            report.rows.push(ImportedRow {
                row: row.row,
                line: row.line,
                outcome,
            });
        }
        let stopped = mode == ImportMode::AllOrNothing && report.rejected().next().is_some();
        if stopped || created.is_empty() {
            return Ok((ChangeSet::new(), report));
        }
        let mut event = audit_event(now, actor, AuditAction::CustomersImported, None, None);
        event.customers = created;
        changes.record(event);
        report.committed = true;
        Ok((changes, report))
    }
}

/// The CSV export: over a store that reads the whole directory page by page ([`BulkReadStore`]).
impl<S: BulkReadStore, C: Clock> Directory<S, C> {
    /// Streams every customer (merged ones excepted) as CSV rows to `writer`, page by page,
    /// so memory stays flat whatever the directory's size. Returns the writer and the
    /// number of rows written.
    ///
    /// # Errors
    ///
    /// [`Error::Export`] when writing fails; [`Error::Store`]; [`Error::Money`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let form = ContactForm { given_name: "=SUM(A1)".into(), email: "a@example.com".into(), ..ContactForm::default() };
    /// directory.create_customer(form.parse(directory.settings())?, &Actor::staff("desk")).await?;
    /// let (csv, rows) = directory.export_csv(Vec::new(), &CsvExportOptions::default()).await?;
    /// assert_eq!(rows, 1);
    /// assert!(String::from_utf8(csv)?.contains("'=SUM(A1)"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn export_csv<W: io::Write>(
        &self,
        writer: W,
        options: &CsvExportOptions,
    ) -> Result<(W, u64), Error> {
        let span = use_case!("export_csv", [rows]);
        span.run(
            async {
                let mut exporter = CsvExporter::new(writer, options).map_err(Error::Export)?;
                let mut after = None;
                loop {
                    let mut page = telemetry::store(
                        "customers_after",
                        self.store.customers_after(after, EXPORT_PAGE),
                    )
                    .await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id);
                    page.retain(|customer| {
                        !matches!(customer.status, CustomerStatus::MergedInto(_))
                    });
                    // The page's bookings and accounts in one read each, not one per customer.
                    let ids: Vec<CustomerId> = page.iter().map(|customer| customer.id).collect();
                    let bookings =
                        telemetry::store("bookings_of", self.store.bookings_of(&ids)).await?;
                    let accounts =
                        telemetry::store("accounts_claiming", self.store.accounts_claiming(&ids))
                            .await?;
                    if bookings.len() != ids.len() || accounts.len() != ids.len() {
                        return Err(Error::Store(StoreError::backend(
                            "exporting customers",
                            format!(
                                "asked for {} customers' bookings and accounts, got {} and {}",
                                ids.len(),
                                bookings.len(),
                                accounts.len()
                            ),
                        )));
                    }
                    for ((customer, bookings), account) in page.iter().zip(bookings).zip(accounts) {
                        let last_login = account.and_then(|account| account.last_login_at);
                        let summary = CustomerSummary::new(customer, &bookings, last_login)?;
                        exporter.write(customer, &summary).map_err(Error::Export)?;
                    }
                }
                let rows = exporter.rows();
                Ok((exporter.finish().map_err(Error::Export)?, rows))
            },
            |span, (_, rows)| {
                span.record_count("rows", usize::try_from(*rows).unwrap_or(usize::MAX));
                "ok"
            },
        )
        .await
    }
}

/// Searching and counting: over a store that answers queries ([`SearchStore`]).
impl<S: SearchStore, C: Clock> Directory<S, C> {
    /// One page of the customers matching `query`, in its order: the directory listing.
    /// Pass the previous page's [`next`](CustomerPage::next) cursor as `after` to get the
    /// following page; `limit` is cut to between 1 and [`MAX_PAGE_SIZE`](crate::ports::query::builder::MAX_PAGE_SIZE).
    ///
    /// Paging is by keyset: each page continues strictly after the last row's sort key and
    /// id, so bookings and customers recorded between pages neither shift nor repeat the
    /// rows of a name or creation-time sort. [`CustomerQuery`] describes the filters and
    /// [`Cursor`] the exact guarantee, including what a sort key that changes does.
    ///
    /// By default archived, redacted and merged customers are not listed;
    /// [`CustomerQuery::any_status`] lists every customer, whatever its status, and
    /// [`count`](Self::count) says how many customers a query matches over all its pages.
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] for a search text or a custom field filter over its
    /// [limit](crate::limits), before the store is asked; [`Error::InvalidCursor`] when
    /// `after` belongs to another query; [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// for (given, family) in [("Ana", "Silva"), ("Bo", "Berg"), ("Cy", "Adams")] {
    ///     let form = ContactForm { given_name: given.into(), family_name: family.into(), ..ContactForm::default() };
    ///     directory.create_customer(form.parse(directory.settings())?, &Actor::staff("desk")).await?;
    /// }
    /// let query = CustomerQuery::new();
    /// let first = directory.search(&query, None, 2).await?;
    /// assert_eq!(first.customers.len(), 2);
    /// let cursor: Cursor = first.next.unwrap().to_string().parse()?; // e.g. through a URL
    /// let second = directory.search(&query, Some(&cursor), 2).await?;
    /// let family = second.customers[0].profile.family_name.as_ref().unwrap();
    /// assert_eq!((family.as_str(), second.next), ("Silva", None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn search(
        &self,
        query: &CustomerQuery,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<CustomerPage, Error> {
        let span = use_case!("search", [hits, more], limit, paged = after.is_some());
        span.run(
            async {
                crate::service::directory::checks::check_query(query)?;
                let after = after
                    .map(|cursor| query.continue_after(cursor))
                    .transpose()?;
                let limit = limit.clamp(1, crate::ports::query::builder::MAX_PAGE_SIZE);
                let mut hits = telemetry::store(
                    "search_customers",
                    telemetry::store(
                        "search_customers",
                        self.store
                            .search_customers(query, after, limit.saturating_add(1)),
                    ),
                )
                .await?;
                let more = hits.len() > limit;
                hits.truncate(limit);
                let next = if more {
                    hits.last()
                        .map(|hit| query.cursor_after(hit.position.clone()))
                } else {
                    None
                };
                Ok(CustomerPage {
                    customers: hits.into_iter().map(|hit| hit.customer).collect(),
                    next,
                })
            },
            |span, page| {
                span.record_count("hits", page.customers.len());
                span.record_count("more", usize::from(page.next.is_some()));
                "ok"
            },
        )
        .await
    }

    /// How many customers `query` matches, over all its pages: what paging through
    /// [`search`](Self::search) to the end would list, counted by the store (the SQL
    /// adapters run one `SELECT count(*)` with the search's conditions, without sorting).
    /// The query's sort does not change the count.
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] as for [`search`](Self::search); [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let kept = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let archived = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.archive(archived, &staff).await?;
    /// assert_eq!(directory.count(&CustomerQuery::new()).await?, 1);
    /// assert_eq!(directory.count(&CustomerQuery::new().any_status()).await?, 2);
    /// # let _ = kept;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn count(&self, query: &CustomerQuery) -> Result<u64, Error> {
        let span = use_case!("count", [count]);
        span.run(
            async {
                crate::service::directory::checks::check_query(query)?;
                Ok(telemetry::store("count_customers", self.store.count_customers(query)).await?)
            },
            |span, count| {
                span.record_count("count", usize::try_from(*count).unwrap_or(usize::MAX));
                "ok"
            },
        )
        .await
    }
}
