//! Notes, newsletter consent, customer lists and brochure requests.

use chrono::{DateTime, Utc};

use super::{Directory, audit_event, require_live};
use crate::ports::clock::Clock;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{BulkReadStore, Store};
use crate::records::audit::{Actor, AuditAction};
use crate::records::customer::Customer;
use crate::records::notes::{BrochureRequest, ConsentEvent, CustomerList, Note, NoteText};
use crate::service::error::{CustomerAction, Error};
use crate::service::telemetry::{self, use_case};
use crate::values::ids::{BrochureRequestId, CustomerId, ListId, NoteId};
use crate::values::text::Text;

impl<S: Store, C: Clock> Directory<S, C> {
    /// The one path every record change takes: read the customer, check it is live, let
    /// `change` edit it, commit it with one audit event; retried on conflict.
    async fn change_records<T>(
        &self,
        customer: CustomerId,
        action: AuditAction,
        actor: &Actor,
        change: impl Fn(&mut Customer, DateTime<Utc>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        // Every value these use cases take is a bounded type but the actor.
        crate::service::directory::checks::check_actor(actor)?;
        let change = &change;
        self.commit_retrying(move || async move {
            let mut current = self.person(customer).await?;
            require_live(&current, CustomerAction::ChangeRecords)?;
            let now = self.clock.now();
            let outcome = change(&mut current, now)?;
            current.updated_at = now;
            let mut changes = ChangeSet::new();
            changes.save_customer(current).record(audit_event(
                now,
                actor,
                action,
                Some(customer),
                None,
            ));
            Ok((changes, outcome))
        })
        .await
    }

    /// Adds a note at the end of a customer's notes.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] for a redacted customer; [`Error::TooLong`] for a staff
    /// identifier over [`ACTOR_MAX_CHARS`](crate::limits::ACTOR_MAX_CHARS) (the note and its
    /// tag are bounded by their types, [`NoteText`] and [`Text`]); for a merged, deleted or
    /// never stored id, the answers of [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.add_note(id, NoteText::parse("Prefers mornings")?, None, &staff).await?;
    /// assert_eq!(directory.customer(id).await?.records.notes[0].text.as_str(), "Prefers mornings");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn add_note(
        &self,
        customer: CustomerId,
        text: NoteText,
        tag: Option<Text>,
        actor: &Actor,
    ) -> Result<NoteId, Error> {
        let span = use_case!("add_note", [note], customer = %customer);
        span.run(
            async {
                let id = NoteId::new();
                self.change_records(customer, AuditAction::NoteAdded, actor, |current, now| {
                    current.records.notes.push(Note {
                        id,
                        text: text.clone(),
                        tag: tag.clone(),
                        author: actor.clone(),
                        created_at: now,
                        updated_at: now,
                    });
                    Ok(id)
                })
                .await
            },
            |span, note| {
                span.record_id("note", note);
                "ok"
            },
        )
        .await
    }

    /// Replaces a note's text and tag.
    ///
    /// # Errors
    ///
    /// [`Error::NoteNotFound`]; those of [`add_note`](Self::add_note).
    pub async fn edit_note(
        &self,
        customer: CustomerId,
        note: NoteId,
        text: NoteText,
        tag: Option<Text>,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("edit_note", [], customer = %customer, note = %note);
        span.run(
            async {
                self.change_records(customer, AuditAction::NoteEdited, actor, |current, now| {
                    let found = current.records.notes.iter_mut().find(|n| n.id == note);
                    let found = found.ok_or(Error::NoteNotFound { customer, note })?;
                    found.text = text.clone();
                    found.tag = tag.clone();
                    found.updated_at = now;
                    Ok(())
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Deletes a note.
    ///
    /// # Errors
    ///
    /// [`Error::NoteNotFound`]; those of [`add_note`](Self::add_note).
    pub async fn delete_note(
        &self,
        customer: CustomerId,
        note: NoteId,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("delete_note", [], customer = %customer, note = %note);
        span.run(
            async {
                self.change_records(customer, AuditAction::NoteDeleted, actor, |current, _| {
                    let before = current.records.notes.len();
                    current.records.notes.retain(|n| n.id != note);
                    if current.records.notes.len() == before {
                        return Err(Error::NoteNotFound { customer, note });
                    }
                    Ok(())
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Moves a note to `position` (0 is first; past the end means last); the others keep
    /// their order.
    ///
    /// # Errors
    ///
    /// [`Error::NoteNotFound`]; those of [`add_note`](Self::add_note).
    pub async fn move_note(
        &self,
        customer: CustomerId,
        note: NoteId,
        position: usize,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("move_note", [], customer = %customer, note = %note, position);
        span.run(
            async {
                self.change_records(customer, AuditAction::NoteMoved, actor, |current, _| {
                    let notes = &mut current.records.notes;
                    let from = notes.iter().position(|n| n.id == note);
                    let from = from.ok_or(Error::NoteNotFound { customer, note })?;
                    let moved = notes.remove(from);
                    notes.insert(position.min(notes.len()), moved);
                    Ok(())
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Records a newsletter decision in the customer's consent log; the latest decision is
    /// the current state ([`ProfileRecords::subscribed`](crate::records::notes::ProfileRecords::subscribed)).
    ///
    /// # Errors
    ///
    /// Those of [`add_note`](Self::add_note).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.set_newsletter(id, true, Text::parse("booking form")?, &staff).await?;
    /// directory.set_newsletter(id, false, Text::parse("unsubscribe link")?, &Actor::System).await?;
    /// let records = directory.customer(id).await?.records;
    /// assert!(!records.subscribed());
    /// assert_eq!(records.newsletter.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_newsletter(
        &self,
        customer: CustomerId,
        subscribed: bool,
        source: Text,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("set_newsletter", [], customer = %customer, subscribed);
        span.run(
            async {
                let action = if subscribed {
                    AuditAction::NewsletterSubscribed
                } else {
                    AuditAction::NewsletterUnsubscribed
                };
                self.change_records(customer, action, actor, |current, now| {
                    current.records.newsletter.push(ConsentEvent {
                        at: now,
                        subscribed,
                        source: source.clone(),
                    });
                    Ok(())
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Every customer list, by name.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn lists(&self) -> Result<Vec<CustomerList>, Error> {
        Ok(telemetry::store("lists", self.store.lists()).await?)
    }

    /// Creates a customer list.
    ///
    /// # Errors
    ///
    /// [`Error::ListNameTaken`] when another list has the name (ignoring case).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// directory.create_list(Text::parse("School groups")?, &staff).await?;
    /// let again = directory.create_list(Text::parse("SCHOOL GROUPS")?, &staff).await;
    /// assert!(matches!(again, Err(Error::ListNameTaken(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn create_list(&self, name: Text, actor: &Actor) -> Result<ListId, Error> {
        let span = use_case!("create_list", [list]);
        span.run(
            async {
                let list = CustomerList {
                    id: ListId::new(),
                    name,
                    created_at: self.clock.now(),
                    version: 0,
                };
                self.save_list(list, AuditAction::ListCreated, actor).await
            },
            |span, list| {
                span.record_id("list", list);
                "ok"
            },
        )
        .await
    }

    /// Renames a customer list.
    ///
    /// # Errors
    ///
    /// [`Error::ListNotFound`]; [`Error::ListNameTaken`].
    pub async fn rename_list(&self, list: ListId, name: Text, actor: &Actor) -> Result<(), Error> {
        let span = use_case!("rename_list", [], list = %list);
        span.run(
            async {
                let current = self.list(list).await?;
                let renamed = CustomerList { name, ..current };
                self.save_list(renamed, AuditAction::ListRenamed, actor)
                    .await
                    .map(drop)
            },
            |_, _| "ok",
        )
        .await
    }

    async fn list(&self, id: ListId) -> Result<CustomerList, Error> {
        let lists = telemetry::store("lists", self.store.lists()).await?;
        lists
            .into_iter()
            .find(|list| list.id == id)
            .ok_or(Error::ListNotFound(id))
    }

    /// Commits a list write; a name another list holds is refused (checked here, and by the
    /// store for a concurrent writer that got there first).
    async fn save_list(
        &self,
        list: CustomerList,
        action: AuditAction,
        actor: &Actor,
    ) -> Result<ListId, Error> {
        crate::service::directory::checks::check_actor(actor)?;
        // A concurrent writer that takes the name first makes the commit conflict; the
        // retry then reads its list and refuses here.
        self.commit_retrying(|| {
            let list = list.clone();
            async move {
                let lists = telemetry::store("lists", self.store.lists()).await?;
                let key = list.name_key();
                if lists.iter().any(|o| o.id != list.id && o.name_key() == key) {
                    return Err(Error::ListNameTaken(list.name.as_str().to_owned()));
                }
                let id = list.id;
                let mut changes = ChangeSet::new();
                changes.save_list(list).record(audit_event(
                    self.clock.now(),
                    actor,
                    action,
                    None,
                    None,
                ));
                Ok((changes, id))
            }
        })
        .await
    }

    /// Puts a customer on a list (no change if already on it).
    ///
    /// # Errors
    ///
    /// [`Error::ListNotFound`]; those of [`add_note`](Self::add_note).
    pub async fn add_to_list(
        &self,
        customer: CustomerId,
        list: ListId,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("add_to_list", [], customer = %customer, list = %list);
        span.run(
            async {
                self.list(list).await?;
                self.change_records(customer, AuditAction::AddedToList, actor, |current, _| {
                    current.records.lists.insert(list);
                    Ok(())
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Takes a customer off a list (no change if not on it).
    ///
    /// # Errors
    ///
    /// Those of [`add_note`](Self::add_note).
    pub async fn remove_from_list(
        &self,
        customer: CustomerId,
        list: ListId,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("remove_from_list", [], customer = %customer, list = %list);
        span.run(
            async {
                self.change_records(
                    customer,
                    AuditAction::RemovedFromList,
                    actor,
                    |current, _| {
                        current.records.lists.remove(&list);
                        Ok(())
                    },
                )
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Records that a customer asked for a brochure.
    ///
    /// # Errors
    ///
    /// Those of [`add_note`](Self::add_note).
    pub async fn request_brochure(
        &self,
        customer: CustomerId,
        brochure: Text,
        actor: &Actor,
    ) -> Result<BrochureRequestId, Error> {
        let span = use_case!("request_brochure", [request], customer = %customer);
        span.run(
            async {
                let id = BrochureRequestId::new();
                self.change_records(
                    customer,
                    AuditAction::BrochureRequested,
                    actor,
                    |current, now| {
                        current.records.brochure_requests.push(BrochureRequest {
                            id,
                            brochure: brochure.clone(),
                            requested_at: now,
                            sent_at: None,
                        });
                        Ok(id)
                    },
                )
                .await
            },
            |span, request| {
                span.record_id("request", request);
                "ok"
            },
        )
        .await
    }

    /// Marks a brochure request as sent (now).
    ///
    /// # Errors
    ///
    /// [`Error::BrochureRequestNotFound`]; those of [`add_note`](Self::add_note).
    pub async fn mark_brochure_sent(
        &self,
        customer: CustomerId,
        request: BrochureRequestId,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("mark_brochure_sent", [], customer = %customer, request = %request);
        span.run(
            async {
                self.change_records(
                    customer,
                    AuditAction::BrochureSent,
                    actor,
                    |current, now| {
                        let found = current
                            .records
                            .brochure_requests
                            .iter_mut()
                            .find(|r| r.id == request);
                        let found =
                            found.ok_or(Error::BrochureRequestNotFound { customer, request })?;
                        found.sent_at.get_or_insert(now);
                        Ok(())
                    },
                )
                .await
            },
            |_, _| "ok",
        )
        .await
    }
}

/// Reads of every customer's records: over a store that reads the whole directory ([`BulkReadStore`]).
impl<S: BulkReadStore, C: Clock> Directory<S, C> {
    /// Brochure requests not yet sent, oldest first, with their live customers (redacted and
    /// merged ones have no address to send to). Reads the directory page by page.
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
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let request = directory.request_brochure(id, Text::parse("Summer 2027")?, &staff).await?;
    /// assert_eq!(directory.pending_brochure_requests().await?.len(), 1);
    /// directory.mark_brochure_sent(id, request, &staff).await?;
    /// assert!(directory.pending_brochure_requests().await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn pending_brochure_requests(
        &self,
    ) -> Result<Vec<(CustomerId, BrochureRequest)>, Error> {
        let span = use_case!("pending_brochure_requests", [requests]);
        span.run(
            async {
                let mut pending = Vec::new();
                let mut after = None;
                loop {
                    let page =
                        telemetry::store("customers_after", self.store.customers_after(after, 500))
                            .await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id);
                    for customer in page.into_iter().filter(|c| c.status.is_live()) {
                        for request in customer.records.brochure_requests {
                            if request.sent_at.is_none() {
                                pending.push((customer.id, request));
                            }
                        }
                    }
                }
                pending.sort_by_key(|(_, request)| (request.requested_at, request.id));
                Ok(pending)
            },
            |span, pending| {
                span.record_count("requests", pending.len());
                "ok"
            },
        )
        .await
    }
}
