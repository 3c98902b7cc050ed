//! Customer accounts: sign-up, verification, login with throttling,
//! password change and reset, self-service bookings and the saved payment method.

mod credentials;
mod self_service;
mod sign_in;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ports::clock::{Clock, SystemClock};
use crate::ports::notify::{Notification, Notifier};
use crate::ports::store::AccountStore;
use crate::ports::store::changes::ChangeSet;
use crate::records::account::{Account, AccountToken, TokenPurpose};
use crate::records::audit::{Actor, AuditAction, AuditEvent};
use crate::records::booking::{Attribution, Booking};
use crate::records::tokens::{ResetTokenHash, VerificationToken};
use crate::service::directory::{Directory, audit_event};
use crate::service::error::{AccountError, BookingChange, Error};
use crate::service::telemetry::{self};
use crate::values::ids::{AccountId, BookingId, CustomerId};
use crate::values::password::hashing::{PasswordHash, PasswordHashing, Verification};
use crate::values::password::policy::PasswordContext;
use crate::values::password::secret::Password;

/// The customer-accounts service: a [`Directory`] plus a [`Notifier`] for the mail it
/// sends and a [`PasswordHashing`].
///
/// Every use case reads, decides, commits atomically (retrying on conflicts) and records
/// one audit event without secrets; mail is handed to the notifier only after the commit
/// succeeded. A failed use case leaves storage as it was, except a failed login, which
/// counts towards throttling.
///
/// What the [accounts mode](crate::settings::AccountsMode) changes: `Disabled` refuses every use case
/// with [`AccountError::Disabled`]; `Optional` lets an unverified account log in (it sees
/// no bookings until it is verified and has claimed its profile); `Required` refuses login
/// with [`AccountError::EmailNotVerified`] until the email is verified. Self-service always needs
/// a verified account that claimed a profile.
///
/// # Examples
///
/// ```
/// use customer_directory::MemoryStore;
/// use customer_directory::{AccountSettings, Accounts, Actor, Directory, DirectorySettings, Password};
/// use customer_directory::settings::AccountsMode;
/// use customer_directory::ports::RecordingNotifier;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
/// let mail = RecordingNotifier::new();
/// let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), mail.clone());
/// let password = Password::new("Plum-Tractor-Velvet-9");
/// accounts.sign_up("ana@example.com", &password, &Actor::System).await?;
/// let token = mail.last_verification_token().expect("verification mail");
/// accounts.verify_email(&token, &Actor::System).await?;
/// let login = accounts.log_in("ana@example.com", &password, &Actor::System).await?;
/// assert!(accounts.account(login.account).await?.is_verified());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// # Type parameters
///
/// `S` is the [`AccountStore`], `N` the [`Notifier`] and `C` the [`Clock`] of the directory
/// (the system clock unless a test fixes the time): `Accounts<SqliteStore, MyMailer>` in
/// production. Accounts exist only over a store that keeps them: `Accounts::new` over a
/// store without [`AccountStore`] does not compile.
///
/// # Errors
///
/// Every method answers an [`AccountError`]: the account's own refusals (wrong password,
/// throttled, invalid link, weak password, ...) as variants of their own, and what the
/// directory refuses or fails on the way (unknown booking, store failure, over-long input,
/// contention) as [`AccountError::Directory`] holding the directory's [`Error`]. Each
/// method lists both under its own `# Errors`.
#[derive(Debug, Clone)]
pub struct Accounts<S, N, C = SystemClock> {
    directory: Directory<S, C>,
    notifier: N,
    hashing: PasswordHashing,
}

/// A successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Login {
    /// The account.
    pub account: AccountId,
    /// The profile it claimed, if any yet.
    pub customer: Option<CustomerId>,
    /// Whether the stored hash was upgraded to the current parameters.
    pub rehashed: bool,
}

impl<S: AccountStore, N: Notifier, C: Clock> Accounts<S, N, C> {
    /// The service over `directory`, sending mail through `notifier`, hashing with
    /// [`PasswordHashing::new`] (OWASP parameters).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Accounts, Directory, DirectorySettings};
    /// use customer_directory::ports::RecordingNotifier;
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), DirectorySettings::default()), RecordingNotifier::new());
    /// assert!(!accounts.directory().settings().accounts.mode.is_enabled());
    /// ```
    pub fn new(directory: Directory<S, C>, notifier: N) -> Self {
        Self {
            directory,
            notifier,
            hashing: PasswordHashing::new(),
        }
    }

    /// The same service hashing with `hashing`; stored hashes made with other parameters
    /// are upgraded at the next successful login.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// let hashing = PasswordHashing::with_params(HashParams::new(47104, 1, 1)?)?;
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), DirectorySettings::default()), RecordingNotifier::new())
    ///     .with_hashing(hashing);
    /// assert_eq!(accounts.hashing().params().memory_kib(), 47104);
    /// # Ok::<(), HashError>(())
    /// ```
    #[must_use]
    pub fn with_hashing(mut self, hashing: PasswordHashing) -> Self {
        self.hashing = hashing;
        self
    }

    /// The directory underneath.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Accounts, Directory, DirectorySettings};
    /// use customer_directory::ports::RecordingNotifier;
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), DirectorySettings::default()), RecordingNotifier::new());
    /// assert_eq!(accounts.directory().store().customer_count(), 0);
    /// ```
    pub fn directory(&self) -> &Directory<S, C> {
        &self.directory
    }

    /// The notifier.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Accounts, Directory, DirectorySettings};
    /// use customer_directory::ports::RecordingNotifier;
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), DirectorySettings::default()), RecordingNotifier::new());
    /// assert!(accounts.notifier().sent().is_empty());
    /// ```
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// The password hashing in use.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), DirectorySettings::default()), RecordingNotifier::new());
    /// assert_eq!(accounts.hashing().params(), HashParams::OWASP);
    /// ```
    pub fn hashing(&self) -> &PasswordHashing {
        &self.hashing
    }

    /// The account with this id.
    ///
    /// # Errors
    ///
    /// [`AccountError::NotFound`] or [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), DirectorySettings::default()), RecordingNotifier::new());
    /// assert!(matches!(accounts.account(AccountId::new()).await, Err(AccountError::NotFound(_))));
    /// # });
    /// ```
    pub async fn account(&self, id: AccountId) -> Result<Account, AccountError> {
        telemetry::store("account", self.store().account(id))
            .await?
            .ok_or(AccountError::NotFound(id))
    }

    // -----------------------------------------------------------------------------------

    fn store(&self) -> &S {
        &self.directory.store
    }

    fn now(&self) -> DateTime<Utc> {
        self.directory.clock.now()
    }

    fn enabled(&self) -> Result<(), AccountError> {
        if !self.directory.settings.accounts.mode.is_enabled() {
            return Err(AccountError::Disabled);
        }
        Ok(())
    }

    fn check_policy(&self, password: &Password, context: &[&str]) -> Result<(), AccountError> {
        self.directory
            .settings
            .accounts
            .password_policy
            .check(password.expose(), &PasswordContext::new(context))
            .map_err(AccountError::WeakPassword)
    }

    /// A stored hash that cannot be evaluated (malformed, over the cost cap) counts as a
    /// wrong password, after the same dummy work.
    fn verify(&self, password: &Password, stored: &PasswordHash) -> Verification {
        match self.hashing.verify(password.expose(), stored) {
            Ok(verification) => verification,
            Err(_) => self.hashing.verify_dummy(password.expose()),
        }
    }

    fn count_failure(&self, account: &mut Account, now: DateTime<Utc>) {
        let settings = &self.directory.settings.accounts;
        if account.throttled_until.is_some_and(|until| now >= until) {
            // A lock that ran out starts a fresh count.
            account.throttled_until = None;
            account.failed_logins = 0;
        }
        account.failed_logins = account.failed_logins.saturating_add(1);
        if settings.max_failed_logins > 0 && account.failed_logins >= settings.max_failed_logins {
            account.throttled_until = Some(
                now.checked_add_signed(delta(settings.lockout))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            );
            account.failed_logins = 0;
        }
    }

    fn replace_password(&self, account: &mut Account, new: &Password) -> Result<(), AccountError> {
        account.password = self.hashing.hash(new.expose())?;
        // Every token issued under the old credentials is void from now on.
        account.credential_version = account.credential_version.saturating_add(1);
        account.failed_logins = 0;
        account.throttled_until = None;
        Ok(())
    }

    fn token_for(
        &self,
        account: &Account,
        hash: ResetTokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> AccountToken {
        let settings = &self.directory.settings.accounts;
        let lifetime = match purpose {
            TokenPurpose::Verification => settings.verification_token_lifetime,
            TokenPurpose::PasswordReset => settings.reset_token_lifetime,
        };
        let expires_at = now
            .checked_add_signed(delta(lifetime))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        AccountToken::new(
            hash,
            account.id,
            purpose,
            account.credential_version,
            now,
            expires_at,
        )
    }

    /// Files a new verification token for `account` (its hash `hash`) in `changes` and
    /// answers the mail carrying `token` to the account's address, to send after the
    /// commit.
    fn verification_mail(
        &self,
        changes: &mut ChangeSet,
        account: &Account,
        token: &VerificationToken,
        hash: &ResetTokenHash,
        now: DateTime<Utc>,
    ) -> Notification {
        changes.save_account_token(self.token_for(
            account,
            hash.clone(),
            TokenPurpose::Verification,
            now,
        ));
        Notification::VerifyEmail {
            account: account.id,
            to: account.email.clone(),
            token: token.clone(),
        }
    }

    /// Spends a one-time token: a change set marking it used, and its account, if the token
    /// is usable for `purpose`; otherwise the one answer [`AccountError::InvalidToken`].
    async fn spend_token(
        &self,
        hash: &crate::records::tokens::ResetTokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<(ChangeSet, Account), AccountError> {
        let mut stored = self
            .store()
            .account_token(hash)
            .await?
            .filter(|token| token.purpose == purpose)
            .ok_or(AccountError::InvalidToken)?;
        let account = self
            .store()
            .account(stored.account)
            .await?
            .ok_or(AccountError::InvalidToken)?;
        if !stored.is_usable(now, account.credential_version) {
            return Err(AccountError::InvalidToken);
        }
        stored.used_at = Some(now);
        let mut changes = ChangeSet::new();
        changes.save_account_token(stored);
        Ok((changes, account))
    }

    /// Claims the live profile holding the account's email key, unless another account
    /// claimed it; the profile is guarded so a concurrent merge or redaction wins cleanly.
    async fn claim_profile(
        &self,
        account: &mut Account,
        changes: &mut ChangeSet,
    ) -> Result<(), AccountError> {
        let Some(customer) = telemetry::store(
            "lookup_email",
            self.store().lookup_email(account.email.key()),
        )
        .await?
        .customer
        else {
            return Ok(());
        };
        if let Some(other) = telemetry::store(
            "account_by_customer",
            self.store().account_by_customer(customer.id),
        )
        .await?
        {
            if other.id != account.id {
                return Ok(());
            }
        }
        account.customer = Some(customer.id);
        changes.guard_customer(customer.id, customer.version);
        Ok(())
    }

    /// The account's own primary booking; anything else is "not found".
    async fn own_booking(
        &self,
        account: AccountId,
        booking: BookingId,
    ) -> Result<(Account, Booking), AccountError> {
        let owner = self.account(account).await?;
        if !owner.is_verified() {
            return Err(AccountError::EmailNotVerified);
        }
        let stored = telemetry::store("booking", self.store().booking(booking)).await?;
        match (owner.customer, stored) {
            (Some(customer), Some(stored))
                if stored.attribution == Attribution::Primary(customer) =>
            {
                Ok((owner, stored))
            }
            _ => Err(Error::BookingNotFound(booking).into()),
        }
    }

    fn check_change_allowed(
        &self,
        booking: &Booking,
        now: DateTime<Utc>,
        change: BookingChange,
    ) -> Result<(), AccountError> {
        let settings = &self.directory.settings.accounts;
        if settings.statuses_blocking_changes.contains(&booking.status) {
            return Err(AccountError::BookingLocked {
                booking: booking.id,
                change,
            });
        }
        let window = TimeDelta::days(i64::from(settings.change_window_days));
        let closed_at = booking
            .starts_at
            .checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        if now >= closed_at {
            return Err(AccountError::ChangeWindowClosed {
                booking: booking.id,
                closed_at,
            });
        }
        Ok(())
    }

    /// The check a customer's own change of credentials starts with: a throttled account is
    /// refused, and a wrong current password counts as a failed login. Returns the change
    /// set recording that failure (to commit before answering
    /// [`AccountError::InvalidCredentials`]), or `None` when the password is right.
    fn confirm_current_password(
        &self,
        stored: &mut Account,
        current: &Password,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Option<ChangeSet>, AccountError> {
        if let Some(until) = stored.throttled_until.filter(|until| now < *until) {
            telemetry::login_throttled(stored.id);
            return Err(AccountError::Throttled { until });
        }
        if self.verify(current, &stored.password).is_valid() {
            return Ok(None);
        }
        self.count_failure(stored, now);
        let mut changes = ChangeSet::new();
        changes.record(self.event(now, actor, AuditAction::LoginFailed, stored));
        changes.save_account(stored.clone());
        Ok(Some(changes))
    }

    fn event(
        &self,
        now: DateTime<Utc>,
        actor: &Actor,
        action: AuditAction,
        account: &Account,
    ) -> AuditEvent {
        let mut event = audit_event(now, actor, action, account.customer, None);
        event.account = Some(account.id);
        event
    }
}

/// What a reset request for an unknown address commits in place of the token a known
/// address gets, so that both requests cost the store about the same and the time does not
/// tell which addresses have accounts: [`STAND_IN_CHECKS`] checks that always hold and change
/// nothing (a customer id made now has no bookings). A known request's commit checks the
/// account, writes the token and the row that files the event under the customer; the
/// checks make the unknown request's commit a transaction too (an audit event alone is a
/// single append on the SQL stores, about half the time) and stand in for those writes.
fn stand_in_for_a_token(changes: &mut ChangeSet) {
    for _ in 0..STAND_IN_CHECKS {
        changes.expect_bookings(CustomerId::new(), []);
    }
}

/// How many checks stand in for a reset token's writes. Measured on a SQLite file in WAL
/// mode and on PostgreSQL, one check costs about a fifth of what the token and the event's
/// customer row add to a commit (`benches/README.md`, "Password reset").
const STAND_IN_CHECKS: usize = 5;

/// A settings duration as a time delta, saturating instead of failing.
fn delta(duration: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}
