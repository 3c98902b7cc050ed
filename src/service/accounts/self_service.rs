//! What a signed-in customer does with their own bookings and saved payment method.

use chrono::{DateTime, Utc};

use crate::ports::clock::Clock;
use crate::ports::notify::Notifier;
use crate::ports::store::AccountStore;
use crate::ports::store::changes::ChangeSet;
use crate::records::account::{PaymentMethodError, SavedPaymentMethod};
use crate::records::audit::{Actor, AuditAction};
use crate::records::booking::{Attribution, Booking};
use crate::service::accounts::Accounts;
#[cfg(doc)]
use crate::service::error::Error;
use crate::service::error::{AccountError, BookingChange};
use crate::service::telemetry::{self, use_case};
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{AccountId, BookingId};

impl<S: AccountStore, N: Notifier, C: Clock> Accounts<S, N, C> {
    /// The bookings of the account's profile (primary ones: related bookings wait for
    /// staff review and may be someone else's), by start time. Empty until the account is
    /// verified and has claimed a profile.
    ///
    /// # Errors
    ///
    /// [`AccountError::NotFound`], [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), RecordingNotifier::new());
    /// let password = Password::new("Plum-Tractor-Velvet-9");
    /// accounts.sign_up("ha@example.com", &password, &Actor::System).await?;
    /// let id = accounts.log_in("ha@example.com", &password, &Actor::System).await?.account;
    /// assert!(accounts.my_bookings(id).await?.is_empty(), "not verified yet");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn my_bookings(&self, account: AccountId) -> Result<Vec<Booking>, AccountError> {
        let span = use_case!("my_bookings", [bookings], account = %account);
        span.run(
            async {
                self.enabled()?;
                let account = self.account(account).await?;
                let Some(customer) = account.customer.filter(|_| account.is_verified()) else {
                    return Ok(Vec::new());
                };
                let mut bookings = telemetry::store(
                    "customer_bookings",
                    self.store().customer_bookings(customer),
                )
                .await?;
                bookings.retain(|booking| booking.attribution == Attribution::Primary(customer));
                Ok(bookings)
            },
            |span, bookings| {
                span.record_count("bookings", bookings.len());
                "ok"
            },
        )
        .await
    }

    /// The customer cancels one of their bookings: allowed when
    /// [`self_service_cancel`](crate::settings::AccountSettings::self_service_cancel) is on, the start
    /// is more than [`change_window_days`](crate::settings::AccountSettings::change_window_days)
    /// away and the status is not one of
    /// [`statuses_blocking_changes`](crate::settings::AccountSettings::statuses_blocking_changes).
    /// Only the status changes (to cancelled): amounts stay, nothing is refunded.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`] (in [`AccountError::Directory`]) also when the booking is not the account's own;
    /// [`AccountError::SelfServiceDisabled`], [`AccountError::ChangeWindowClosed`],
    /// [`AccountError::BookingLocked`] (a status that blocks changes), [`AccountError::EmailNotVerified`], [`AccountError::NotFound`],
    /// [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// See `examples/accounts.rs`.
    pub async fn cancel_booking(
        &self,
        account: AccountId,
        booking: BookingId,
        actor: &Actor,
    ) -> Result<Booking, AccountError> {
        let span = use_case!("cancel_booking", [], account = %account, booking = %booking);
        span.run(
            async {
                let allowed = self.directory.settings.accounts.self_service_cancel;
                self.change_own_booking(
                    account,
                    booking,
                    BookingChange::Cancel,
                    allowed,
                    actor,
                    |stored, _| {
                        stored.status = BookingStatus::CANCELLED;
                        Ok(())
                    },
                )
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// The customer moves one of their bookings to a new start (the end moves by the same
    /// amount). Allowed under the same rules as [`cancel_booking`](Self::cancel_booking),
    /// with [`self_service_modify`](crate::settings::AccountSettings::self_service_modify), and the
    /// new start must also be outside the window.
    ///
    /// # Errors
    ///
    /// As [`cancel_booking`](Self::cancel_booking).
    ///
    /// # Examples
    ///
    /// See `tests/conformance/accounts.rs`.
    pub async fn modify_booking(
        &self,
        account: AccountId,
        booking: BookingId,
        new_start: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Booking, AccountError> {
        let span = use_case!("modify_booking", [], account = %account, booking = %booking);
        span.run(
            async {
                let allowed = self.directory.settings.accounts.self_service_modify;
                self.change_own_booking(
                    account,
                    booking,
                    BookingChange::Modify,
                    allowed,
                    actor,
                    |stored, now| {
                        let shift = new_start - stored.starts_at;
                        stored.starts_at = new_start;
                        self.check_change_allowed(stored, now, BookingChange::Modify)?;
                        stored.ends_at =
                            stored.ends_at.and_then(|end| end.checked_add_signed(shift));
                        Ok(())
                    },
                )
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Saves the account's one payment method, replacing the previous one. Card numbers
    /// never get this far: [`SavedPaymentMethod::new`] refuses them.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidPaymentMethod`] for an expired card; [`AccountError::NotFound`],
    /// [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), RecordingNotifier::new());
    /// # let password = Password::new("Plum-Tractor-Velvet-9");
    /// # accounts.sign_up("io@example.com", &password, &Actor::System).await?;
    /// # let id = accounts.log_in("io@example.com", &password, &Actor::System).await?.account;
    /// let card = SavedPaymentMethod::new("pm_1PqR2sT", "visa", "4242", 12, 2099)?;
    /// accounts.save_payment_method(id, card, &Actor::System).await?;
    /// assert_eq!(accounts.account(id).await?.payment_method.unwrap().last4(), "4242");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn save_payment_method(
        &self,
        account: AccountId,
        method: SavedPaymentMethod,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let span = use_case!("save_payment_method", [], account = %account);
        span.run(
            async {
                self.enabled()?;
                if method.is_expired(self.now()) {
                    return Err(AccountError::InvalidPaymentMethod(
                        PaymentMethodError::Expired,
                    ));
                }
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut stored = self.account(account).await?;
                        stored.payment_method = Some(method.clone());
                        let mut changes = ChangeSet::new();
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::PaymentMethodSaved,
                            &stored,
                        ));
                        changes.save_account(stored);
                        Ok((changes, ()))
                    })
                    .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Removes the saved payment method; `false` when there was none (nothing recorded).
    ///
    /// # Errors
    ///
    /// [`AccountError::NotFound`], [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), RecordingNotifier::new());
    /// # let password = Password::new("Plum-Tractor-Velvet-9");
    /// # accounts.sign_up("jo@example.com", &password, &Actor::System).await?;
    /// # let id = accounts.log_in("jo@example.com", &password, &Actor::System).await?.account;
    /// assert!(!accounts.remove_payment_method(id, &Actor::System).await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn remove_payment_method(
        &self,
        account: AccountId,
        actor: &Actor,
    ) -> Result<bool, AccountError> {
        let span = use_case!("remove_payment_method", [removed], account = %account);
        span.run(
            async {
                self.enabled()?;
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut stored = self.account(account).await?;
                        let mut changes = ChangeSet::new();
                        if stored.payment_method.take().is_none() {
                            return Ok((changes, false));
                        }
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::PaymentMethodRemoved,
                            &stored,
                        ));
                        changes.save_account(stored);
                        Ok((changes, true))
                    })
                    .await
            },
            |span, removed| {
                span.record_count("removed", usize::from(*removed));
                "ok"
            },
        )
        .await
    }

    /// A customer's change to one of their own bookings (`change`, when the business
    /// `allowed` it): checked against the change window before and, through `edit`,
    /// after, then committed with its audit event. The booking is answered as stored.
    async fn change_own_booking(
        &self,
        account: AccountId,
        booking: BookingId,
        change: BookingChange,
        allowed: bool,
        actor: &Actor,
        edit: impl Fn(&mut Booking, DateTime<Utc>) -> Result<(), AccountError>,
    ) -> Result<Booking, AccountError> {
        self.enabled()?;
        if !allowed {
            return Err(AccountError::SelfServiceDisabled { change });
        }
        let action = match change {
            BookingChange::Cancel => AuditAction::BookingCancelledByCustomer,
            BookingChange::Modify => AuditAction::BookingModifiedByCustomer,
        };
        self.directory
            .commit_retrying::<_, AccountError, _, _>(|| async {
                let now = self.now();
                let (owner, mut stored) = self.own_booking(account, booking).await?;
                self.check_change_allowed(&stored, now, change)?;
                edit(&mut stored, now)?;
                let mut changes = ChangeSet::new();
                let mut event = self.event(now, actor, action, &owner);
                event.booking = Some(booking);
                changes.record(event);
                changes.save_booking(stored.clone());
                stored.version += 1;
                Ok((changes, stored))
            })
            .await
    }
}
