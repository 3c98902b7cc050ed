//! Merging duplicates, undoing merges and finding duplicates.

use super::{Directory, audit_event};
use crate::decisions::duplicates::{DuplicateFinder, DuplicateGroup};
use crate::decisions::merge::check_undoable;
use crate::decisions::merge::{
    MergeError, MergeRequest, UndoReport, plan_merge_with_accounts, plan_undo,
};
use crate::ports::clock::Clock;
use crate::ports::store::{BulkReadStore, Store};
use crate::records::audit::{Actor, AuditAction};
use crate::records::booking::Booking;
use crate::records::customer::{Customer, CustomerStatus};
use crate::records::merge::MergeReport;
use crate::service::error::Error;
use crate::service::telemetry::{self, use_case};
use crate::values::ids::MergeId;

/// How many customers a duplicate scan reads per page.
const SCAN_PAGE: usize = 1_000;

impl<S: Store, C: Clock> Directory<S, C> {
    /// Merges customers into a survivor, atomically, per the rules of
    /// [`plan_merge_with_accounts`]:
    /// the survivor's values win and its blanks are filled in the order given, other emails
    /// become aliases, every booking moves with its primary/related flag, the others become
    /// `MergedInto(survivor)`, and values not taken are reported as conflicts. At most one
    /// account survives: with several, the request must name the one to keep.
    ///
    /// # Errors
    ///
    /// [`Error::Merge`] when a merge rule is broken (including
    /// [`MergeError::SeveralAccounts`]);
    /// [`Error::CustomerNotFound`].
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let form = |email: &str| ContactForm { email: email.into(), ..ContactForm::default() };
    /// let keep = directory.create_customer(form("ana@example.com").parse(directory.settings())?, &staff).await?.customer;
    /// let dup = directory.create_customer(form("ana.s@example.com").parse(directory.settings())?, &staff).await?.customer;
    /// let report = directory.merge(&MergeRequest::new(keep, [dup]), &staff).await?;
    /// assert_eq!(report.merged, vec![dup]);
    /// assert_eq!(directory.resolve(dup).await?.id(), keep);
    /// assert_eq!(directory.find_by_email("ana.s@example.com").await?.map(|c| c.id), Some(keep));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn merge(&self, request: &MergeRequest, actor: &Actor) -> Result<MergeReport, Error> {
        let span = use_case!(
            "merge",
            [merge, merged, moved_bookings, filled, conflicts, aliases_added, accounts_closed],
            survivor = %request.survivor
        );
        span.run(
            async {
                self.commit_retrying(|| async {
                    let mut plan = self.plan(request).await?;
                    let mut event = audit_event(
                        self.clock.now(),
                        actor,
                        AuditAction::CustomersMerged,
                        Some(plan.report.survivor),
                        None,
                    );
                    event.customers.extend(plan.report.merged.iter().copied());
                    plan.changes.record(event);
                    Ok((plan.changes, plan.report))
                })
                .await
            },
            |span, report| {
                span.record_id("merge", &report.merge);
                span.record_count("merged", report.merged.len());
                span.record_count("moved_bookings", report.moved.len());
                span.record_count("filled", report.filled.len());
                span.record_count("conflicts", report.conflicts.len());
                span.record_count("aliases_added", report.aliases_added.len());
                span.record_count("accounts_closed", report.accounts_closed.len());
                "ok"
            },
        )
        .await
    }

    /// What [`merge`](Self::merge) would do, without changing anything.
    ///
    /// # Errors
    ///
    /// As [`merge`](Self::merge).
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let a = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let b = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let preview = directory.preview_merge(&MergeRequest::new(a, [b])).await?;
    /// assert_eq!(preview.merged, vec![b]);
    /// assert_eq!(directory.customer(b).await?.status, CustomerStatus::Active, "nothing changed");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn preview_merge(&self, request: &MergeRequest) -> Result<MergeReport, Error> {
        let span = use_case!(
            "preview_merge",
            [merged, moved_bookings, conflicts],
            survivor = %request.survivor
        );
        span.run(
            async { Ok(self.plan(request).await?.report) },
            |span, report| {
                span.record_count("merged", report.merged.len());
                span.record_count("moved_bookings", report.moved.len());
                span.record_count("conflicts", report.conflicts.len());
                "ok"
            },
        )
        .await
    }

    async fn plan(
        &self,
        request: &MergeRequest,
    ) -> Result<crate::decisions::merge::MergePlan, Error> {
        let survivor = self.person(request.survivor).await?;
        let mut others: Vec<Customer> = Vec::with_capacity(request.others.len());
        let mut bookings: Vec<Booking> = Vec::new();
        let mut accounts = Vec::new();
        accounts.extend(
            telemetry::store(
                "account_by_customer",
                self.store.account_by_customer(survivor.id),
            )
            .await?,
        );
        for id in &request.others {
            others.push(self.person(*id).await?);
            bookings.extend(
                telemetry::store("customer_bookings", self.store.customer_bookings(*id)).await?,
            );
            accounts.extend(
                telemetry::store("account_by_customer", self.store.account_by_customer(*id))
                    .await?,
            );
        }
        Ok(plan_merge_with_accounts(
            survivor,
            others,
            bookings,
            accounts,
            request,
            self.clock.now(),
        )?)
    }

    /// Undoes a merge within [`merge_undo_window`](crate::settings::DirectorySettings::merge_undo_window):
    /// the merged customers come back as they were and exactly the bookings that moved go
    /// back, unless they changed since (those are reported, not forced).
    ///
    /// The undo restores content, not bytes: every record it writes gets a new version and
    /// `updated_at`, like any other change (see [`UndoReport`]).
    ///
    /// # Errors
    ///
    /// [`Error::MergeNotFound`] for an id no merge ever had; [`Error::Merge`] with
    /// [`MergeError::AlreadyUndone`], [`MergeError::UndoWindowClosed`] or
    /// [`MergeError::SurvivorRedacted`]; [`Error::CustomerMerged`] when the survivor was
    /// merged into another customer since (undo that merge first);
    /// [`Error::CustomerDeleted`] when the survivor was deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let a = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let b = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let report = directory.merge(&MergeRequest::new(a, [b]), &staff).await?;
    /// let undone = directory.undo_merge(report.merge, &staff).await?;
    /// assert_eq!(undone.restored, vec![b]);
    /// assert_eq!(directory.customer(b).await?.status, CustomerStatus::Active);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn undo_merge(&self, merge: MergeId, actor: &Actor) -> Result<UndoReport, Error> {
        let span = use_case!("undo_merge", [restored, returned, kept_changed], merge = %merge);
        span.run(
            async {
                let window = self.undo_window();
                self.commit_retrying(|| async {
                    let record = self
                        .store
                        .merge_record(merge)
                        .await?
                        .ok_or(Error::MergeNotFound(merge))?;
                    let now = self.clock.now();
                    // Why the merge itself cannot be undone comes before what became of its survivor.
                    check_undoable(&record, window, now)?;
                    let survivor = self.person(record.report.survivor).await?;
                    if survivor.status == CustomerStatus::Redacted {
                        return Err(MergeError::SurvivorRedacted {
                            merge,
                            survivor: survivor.id,
                        }
                        .into());
                    }
                    let mut merged = Vec::new();
                    for id in &record.report.merged {
                        merged.push(self.customer(*id).await?);
                    }
                    let mut bookings = Vec::new();
                    for moved in &record.report.moved {
                        if let Some(booking) =
                            telemetry::store("booking", self.store.booking(moved.booking)).await?
                        {
                            bookings.push(booking);
                        }
                    }
                    let kept_account = match record.report.account_kept {
                        Some(id) => telemetry::store("account", self.store.account(id)).await?,
                        None => None,
                    };
                    let mut plan = plan_undo(
                        &record,
                        survivor,
                        merged,
                        bookings,
                        kept_account,
                        window,
                        now,
                    )?;
                    let mut event = audit_event(
                        now,
                        actor,
                        AuditAction::MergeUndone,
                        Some(record.report.survivor),
                        None,
                    );
                    event.customers.extend(plan.report.restored.iter().copied());
                    plan.changes.record(event);
                    Ok((plan.changes, plan.report))
                })
                .await
            },
            |span, report| {
                span.record_count("restored", report.restored.len());
                span.record_count("returned", report.returned.len());
                span.record_count("kept_changed", report.kept_changed.len());
                "ok"
            },
        )
        .await
    }
}

/// Duplicate detection reads every customer: over a [`BulkReadStore`].
impl<S: BulkReadStore, C: Clock> Directory<S, C> {
    /// Groups of live customers that may be one person: the same email ignoring case, a
    /// similar email (provider rules), the same phone, or the same name and postcode. Reads
    /// the directory once, page by page; time grows linearly with its size.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// for email in ["ana.silva@gmail.com", "anasilva+tours@gmail.com"] {
    ///     let form = ContactForm { email: email.into(), ..ContactForm::default() };
    ///     directory.create_customer(form.parse(directory.settings())?, &staff).await?;
    /// }
    /// let groups = directory.find_duplicates().await?;
    /// assert_eq!(groups.len(), 1);
    /// assert_eq!(groups[0].reason, DuplicateReason::LooseEmailKey);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn find_duplicates(&self) -> Result<Vec<DuplicateGroup>, Error> {
        let span = use_case!("find_duplicates", [groups]);
        span.run(
            async {
                let mut finder = DuplicateFinder::default();
                telemetry::store(
                    "visit_customers",
                    self.store
                        .visit_customers(SCAN_PAGE, |customer| finder.add(customer)),
                )
                .await?;
                Ok(finder.groups())
            },
            |span, groups| {
                span.record_count("groups", groups.len());
                "ok"
            },
        )
        .await
    }
}
