//! Customer accounts: sign-up, verification, login with throttling,
//! password change and reset, self-service bookings and the saved payment method.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ports::clock::{Clock, SystemClock};
use crate::ports::notify::{Notification, Notifier};
use crate::ports::store::AccountStore;
use crate::ports::store::changes::ChangeSet;
use crate::records::account::{
    Account, AccountToken, PaymentMethodError, SavedPaymentMethod, TokenPurpose,
};
use crate::records::audit::{Actor, AuditAction, AuditEvent};
use crate::records::booking::{Attribution, Booking};
use crate::records::tokens::{ResetToken, VerificationToken};
use crate::service::directory::{Directory, audit_event};
use crate::service::error::{AccountError, BookingChange, Error, StaffAction};
use crate::service::telemetry::{self, use_case};
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;
use crate::values::email::key::EmailKey;
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

    /// Signs a customer up and mails a verification link.
    ///
    /// The answer is the same whether the address already has an account: an unverified
    /// one takes the new password (earlier links become void) and gets a new link; a
    /// verified one is left alone and its owner is told by mail
    /// ([`Notification::AlreadyRegistered`]). The password is hashed in every case, so the
    /// time does not tell either.
    ///
    /// # Errors
    ///
    /// [`AccountError::Disabled`], [`Error::InvalidEmail`] (in [`AccountError::Directory`]), [`AccountError::WeakPassword`] listing
    /// every violation, [`Error::Store`] (in [`AccountError::Directory`]), [`AccountError::Notify`] (after the commit).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// let mail = RecordingNotifier::new();
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), mail.clone());
    /// let weak = accounts.sign_up("ana@example.com", &Password::new("password"), &Actor::System).await;
    /// assert!(matches!(weak, Err(AccountError::WeakPassword(_))));
    /// accounts.sign_up("ana@example.com", &Password::new("Plum-Tractor-Velvet-9"), &Actor::System).await?;
    /// assert!(matches!(mail.sent()[0], Notification::VerifyEmail { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn sign_up(
        &self,
        email: &str,
        password: &Password,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let span = use_case!("sign_up", [email_tag]);
        span.record_email_of(
            self.directory.correlation.as_ref(),
            email,
            self.directory.settings.email_key_policy,
        );
        span.run(
            async {
                self.enabled()?;
                let email = EmailAddress::parse_with_policy(
                    email,
                    self.directory.settings.email_key_policy,
                )?;
                self.check_policy(password, &[email.as_str()])?;
                let hash = self.hashing.hash(password.expose())?;
                let (token, token_hash) = VerificationToken::generate()?;
                let message = self
                    .directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut changes = ChangeSet::new();
                        let existing = telemetry::store(
                            "account_by_email",
                            self.store().account_by_email(email.key()),
                        )
                        .await?;
                        let (account, message) = match existing {
                            Some(account) if account.is_verified() => {
                                let message = Notification::AlreadyRegistered {
                                    account: account.id,
                                    to: account.email.clone(),
                                };
                                (account, message)
                            }
                            existing => {
                                let account = match existing {
                                    Some(mut pending) => {
                                        // The latest sign-up wins; links mailed before are void.
                                        pending.password = hash.clone();
                                        pending.credential_version += 1;
                                        pending
                                    }
                                    None => Account::new(email.clone(), hash.clone(), now),
                                };
                                changes.save_account_token(self.token_for(
                                    &account,
                                    token_hash.clone(),
                                    TokenPurpose::Verification,
                                    now,
                                ));
                                let message = Notification::VerifyEmail {
                                    account: account.id,
                                    to: account.email.clone(),
                                    token: token.clone(),
                                };
                                changes.save_account(account.clone());
                                (account, message)
                            }
                        };
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::AccountSignedUp,
                            &account,
                        ));
                        Ok((changes, message))
                    })
                    .await?;
                self.notifier.notify(message).await?;
                Ok(())
            },
            |_, _| "ok",
        )
        .await
    }

    /// Confirms the address with the token from the verification mail. The account then
    /// claims the live profile holding its email key (unless another account claimed it),
    /// so that profile's bookings show in the account. With no such profile yet, the
    /// account claims one at a later login, once a booking created it.
    ///
    /// The host reads the token from the link with [`VerificationToken::parse`] (text that
    /// is not a token at all fails there, with a [`TokenError`](crate::records::tokens::TokenError)); a
    /// [`ResetToken`] does not fit here, so a reset link cannot verify an address.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidToken`] for an unknown, used, expired or void token (one answer for
    /// all); [`AccountError::Disabled`]; [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let mail = RecordingNotifier::new();
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), mail.clone());
    /// accounts.sign_up("bo@example.com", &Password::new("Plum-Tractor-Velvet-9"), &Actor::System).await?;
    /// // The host reads the token from the link the customer followed.
    /// let link = mail.last_verification_token().unwrap().expose_secret();
    /// let token = VerificationToken::parse(&link)?;
    /// let id = accounts.verify_email(&token, &Actor::System).await?;
    /// assert!(accounts.account(id).await?.is_verified());
    /// assert!(matches!(accounts.verify_email(&token, &Actor::System).await, Err(AccountError::InvalidToken)), "single use");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn verify_email(
        &self,
        token: &VerificationToken,
        actor: &Actor,
    ) -> Result<AccountId, AccountError> {
        let span = use_case!("verify_email", [account]);
        span.run(
            async {
                self.enabled()?;
                let hash = token.hash();
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let (mut changes, mut account) = self
                            .spend_token(&hash, TokenPurpose::Verification, now)
                            .await?;
                        account.verified_at.get_or_insert(now);
                        self.claim_profile(&mut account, &mut changes).await?;
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::EmailVerified,
                            &account,
                        ));
                        let id = account.id;
                        changes.save_account(account);
                        Ok((changes, id))
                    })
                    .await
            },
            |span, account| {
                span.record_id("account", account);
                "ok"
            },
        )
        .await
    }

    /// Logs a customer in.
    ///
    /// An unknown email and a wrong password get the same [`AccountError::InvalidCredentials`]
    /// after comparable work (a dummy hash is verified, an audit event committed). After
    /// [`max_failed_logins`](crate::settings::AccountSettings::max_failed_logins) failures in a row
    /// the account is locked for [`lockout`](crate::settings::AccountSettings::lockout):
    /// [`AccountError::Throttled`], even with the right password. This does tell an attacker that
    /// the account exists, the price of telling the customer why they cannot log in. A
    /// success resets the count, claims the profile if the account has none yet, and
    /// re-hashes a hash made with outdated parameters.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidCredentials`], [`AccountError::Throttled`], [`AccountError::EmailNotVerified`]
    /// (required mode), [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), RecordingNotifier::new());
    /// accounts.sign_up("cy@example.com", &Password::new("Plum-Tractor-Velvet-9"), &Actor::System).await?;
    /// let wrong = accounts.log_in("cy@example.com", &Password::new("nope"), &Actor::System).await;
    /// let unknown = accounts.log_in("who@example.com", &Password::new("nope"), &Actor::System).await;
    /// assert!(matches!((wrong, unknown), (Err(AccountError::InvalidCredentials), Err(AccountError::InvalidCredentials))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn log_in(
        &self,
        email: &str,
        password: &Password,
        actor: &Actor,
    ) -> Result<Login, AccountError> {
        let span = use_case!("log_in", [account, customer, rehashed, email_tag]);
        span.record_email_of(
            self.directory.correlation.as_ref(),
            email,
            self.directory.settings.email_key_policy,
        );
        span.run(
            async {
                self.enabled()?;
                let key = EmailKey::parse(email, self.directory.settings.email_key_policy).ok();
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut changes = ChangeSet::new();
                        let account = match &key {
                            Some(key) => {
                                telemetry::store(
                                    "account_by_email",
                                    self.store().account_by_email(key),
                                )
                                .await?
                            }
                            None => None,
                        };
                        let Some(mut account) = account else {
                            let _ = self.hashing.verify_dummy(password.expose());
                            changes.record(AuditEvent::new(
                                now,
                                actor.clone(),
                                AuditAction::LoginFailed,
                            ));
                            return Ok((changes, Err(AccountError::InvalidCredentials)));
                        };
                        if let Some(until) = account.throttled_until.filter(|until| now < *until) {
                            telemetry::login_throttled(account.id);
                            let _ = self.hashing.verify_dummy(password.expose());
                            changes.record(self.event(
                                now,
                                actor,
                                AuditAction::LoginThrottled,
                                &account,
                            ));
                            return Ok((changes, Err(AccountError::Throttled { until })));
                        }
                        let verification = self.verify(password, &account.password);
                        if !verification.is_valid() {
                            self.count_failure(&mut account, now);
                            changes.record(self.event(
                                now,
                                actor,
                                AuditAction::LoginFailed,
                                &account,
                            ));
                            changes.save_account(account);
                            return Ok((changes, Err(AccountError::InvalidCredentials)));
                        }
                        if !account.is_verified()
                            && self.directory.settings.accounts.mode.requires_account()
                        {
                            changes.record(self.event(
                                now,
                                actor,
                                AuditAction::LoginFailed,
                                &account,
                            ));
                            return Ok((changes, Err(AccountError::EmailNotVerified)));
                        }
                        let rehashed = verification == Verification::ValidNeedsRehash;
                        if rehashed {
                            account.password = self.hashing.hash(password.expose())?;
                        }
                        account.failed_logins = 0;
                        account.throttled_until = None;
                        account.last_login_at = Some(now);
                        if account.is_verified() && account.customer.is_none() {
                            self.claim_profile(&mut account, &mut changes).await?;
                        }
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::LoginSucceeded,
                            &account,
                        ));
                        let login = Login {
                            account: account.id,
                            customer: account.customer,
                            rehashed,
                        };
                        changes.save_account(account);
                        Ok((changes, Ok(login)))
                    })
                    .await?
            },
            |span, login| {
                span.record_id("account", &login.account);
                if let Some(customer) = login.customer {
                    span.record_id("customer", &customer);
                }
                span.record_count("rehashed", usize::from(login.rehashed));
                "ok"
            },
        )
        .await
    }

    /// Changes the password; the customer gives the current one. Every open verification
    /// and reset link becomes void. A wrong current password counts as a failed login.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidCredentials`], [`AccountError::Throttled`], [`AccountError::WeakPassword`],
    /// [`AccountError::NotFound`], [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), RecordingNotifier::new());
    /// let old = Password::new("Plum-Tractor-Velvet-9");
    /// accounts.sign_up("di@example.com", &old, &Actor::System).await?;
    /// let id = accounts.log_in("di@example.com", &old, &Actor::System).await?.account;
    /// let new = Password::new("Quartz-Meadow-Lantern-4");
    /// accounts.change_password(id, &old, &new, &Actor::System).await?;
    /// assert!(accounts.log_in("di@example.com", &new, &Actor::System).await.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn change_password(
        &self,
        account: AccountId,
        current: &Password,
        new: &Password,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let span = use_case!("change_password", [], account = %account);
        span.run(
            async {
                self.enabled()?;
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut stored = self.account(account).await?;
                        let mut changes = ChangeSet::new();
                        if let Some(failed) =
                            self.confirm_current_password(&mut stored, current, now, actor)?
                        {
                            return Ok((failed, Err(AccountError::InvalidCredentials)));
                        }
                        self.check_policy(new, &[stored.email.as_str()])?;
                        self.replace_password(&mut stored, new)?;
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::PasswordChanged,
                            &stored,
                        ));
                        changes.save_account(stored);
                        Ok((changes, Ok(())))
                    })
                    .await?
            },
            |_, _| "ok",
        )
        .await
    }

    /// Staff set a customer's password (the seeds and these docs advise a reset mail
    /// instead: then only the customer knows it). Open links become void.
    ///
    /// # Errors
    ///
    /// [`AccountError::NotPermitted`] when `actor` is a customer; [`AccountError::WeakPassword`],
    /// [`AccountError::NotFound`], [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), RecordingNotifier::new());
    /// # let old = Password::new("Plum-Tractor-Velvet-9");
    /// # accounts.sign_up("ed@example.com", &old, &Actor::System).await?;
    /// # let id = accounts.log_in("ed@example.com", &old, &Actor::System).await?.account;
    /// let new = Password::new("Quartz-Meadow-Lantern-4");
    /// accounts.set_password(id, &new, &Actor::staff("maria")).await?;
    /// assert!(accounts.log_in("ed@example.com", &new, &Actor::System).await.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_password(
        &self,
        account: AccountId,
        new: &Password,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let span = use_case!("set_password", [], account = %account);
        span.run(
            async {
                self.enabled()?;
                if matches!(actor, Actor::Customer(_)) {
                    return Err(AccountError::NotPermitted {
                        action: StaffAction::SetPassword,
                    });
                }
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut stored = self.account(account).await?;
                        self.check_policy(new, &[stored.email.as_str()])?;
                        self.replace_password(&mut stored, new)?;
                        let mut changes = ChangeSet::new();
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::PasswordSetByStaff,
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

    /// Mails a password-reset link valid for
    /// [`reset_token_lifetime`](crate::settings::AccountSettings::reset_token_lifetime) to the
    /// account's address, and to its previous address after an email change. For an
    /// unknown address nothing is sent, but the answer is the same, and so is the work, as
    /// far as the store allows, so the time does not tell which addresses have accounts: a token is generated and
    /// hashed either way, the account is looked up either way, and either way one commit
    /// of the same shape is made (for an unknown address, an audit event naming no address,
    /// account or customer, with checks that change nothing in place of the token). Only
    /// the [`Notifier`] is not called for an unknown address: it should queue the mail
    /// rather than send it before returning.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEmail`] (in [`AccountError::Directory`]), [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]),
    /// [`AccountError::Notify`] (after the commit).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// let mail = RecordingNotifier::new();
    /// let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), mail.clone());
    /// accounts.request_password_reset("nobody@example.com", &Actor::System).await?;
    /// assert!(mail.sent().is_empty(), "same answer, no mail");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn request_password_reset(
        &self,
        email: &str,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let span = use_case!("request_password_reset", [email_tag]);
        span.record_email_of(
            self.directory.correlation.as_ref(),
            email,
            self.directory.settings.email_key_policy,
        );
        span.run(
            async {
                self.enabled()?;
                let key = EmailKey::parse(email, self.directory.settings.email_key_policy)?;
                // Generated whether or not the account exists: same work either way.
                let (token, token_hash) = ResetToken::generate()?;
                let message = self
                    .directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut changes = ChangeSet::new();
                        let Some(account) = telemetry::store(
                            "account_by_email",
                            self.store().account_by_email(&key),
                        )
                        .await?
                        else {
                            // No address and no customer in the event: nothing personal is kept
                            // about a stranger's address.
                            changes.record(AuditEvent::new(
                                now,
                                actor.clone(),
                                AuditAction::PasswordResetRequested,
                            ));
                            stand_in_for_a_token(&mut changes);
                            return Ok((changes, None));
                        };
                        changes.save_account_token(self.token_for(
                            &account,
                            token_hash.clone(),
                            TokenPurpose::PasswordReset,
                            now,
                        ));
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::PasswordResetRequested,
                            &account,
                        ));
                        let mut to = vec![account.email.clone()];
                        if let Some(previous) = &account.previous_email {
                            if previous.key() != account.email.key() {
                                to.push(previous.clone());
                            }
                        }
                        Ok((
                            changes,
                            Some(Notification::PasswordReset {
                                account: account.id,
                                to,
                                token: token.clone(),
                            }),
                        ))
                    })
                    .await?;
                if let Some(message) = message {
                    self.notifier.notify(message).await?;
                }
                Ok(())
            },
            |_, _| "ok",
        )
        .await
    }

    /// Sets a new password with the token from the reset mail. The token is used up, every
    /// other open link becomes void, throttling is lifted, and, since the mail proved the
    /// address, an unverified account becomes verified. A weak password leaves the token
    /// usable.
    ///
    /// The host reads the token from the link with [`ResetToken::parse`]; a
    /// [`VerificationToken`] does not fit here, so a verification link cannot set a
    /// password.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidToken`] (unknown, used, expired or void: one answer),
    /// [`AccountError::WeakPassword`], [`AccountError::Disabled`], [`Error::Store`] (in [`AccountError::Directory`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let mail = RecordingNotifier::new();
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), mail.clone());
    /// accounts.sign_up("fa@example.com", &Password::new("Plum-Tractor-Velvet-9"), &Actor::System).await?;
    /// accounts.request_password_reset("fa@example.com", &Actor::System).await?;
    /// let link = mail.last_reset_token().unwrap().expose_secret();
    /// let new = Password::new("Quartz-Meadow-Lantern-4");
    /// accounts.reset_password(&ResetToken::parse(&link)?, &new, &Actor::System).await?;
    /// assert!(accounts.log_in("fa@example.com", &new, &Actor::System).await.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn reset_password(
        &self,
        token: &ResetToken,
        new: &Password,
        actor: &Actor,
    ) -> Result<AccountId, AccountError> {
        let span = use_case!("reset_password", [account]);
        span.run(
            async {
                self.enabled()?;
                let hash = token.hash();
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let (mut changes, mut account) = self
                            .spend_token(&hash, TokenPurpose::PasswordReset, now)
                            .await?;
                        self.check_policy(new, &[account.email.as_str()])?;
                        self.replace_password(&mut account, new)?;
                        account.verified_at.get_or_insert(now);
                        if account.customer.is_none() {
                            self.claim_profile(&mut account, &mut changes).await?;
                        }
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::PasswordReset,
                            &account,
                        ));
                        let id = account.id;
                        changes.save_account(account);
                        Ok((changes, id))
                    })
                    .await
            },
            |span, account| {
                span.record_id("account", account);
                "ok"
            },
        )
        .await
    }

    /// Changes the login email; the customer gives the current password. The new address
    /// must be verified again (a link is mailed to it; links sent before are void); the old
    /// one is kept as
    /// [`previous_email`](Account::previous_email) and gets every later reset mail too, so
    /// the owner hears of a takeover.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidCredentials`], [`AccountError::Throttled`], [`AccountError::EmailTaken`],
    /// [`Error::InvalidEmail`] (in [`AccountError::Directory`]), [`AccountError::NotFound`], [`AccountError::Disabled`],
    /// [`Error::Store`] (in [`AccountError::Directory`]), [`AccountError::Notify`] (after the commit).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let settings = DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// # let mail = RecordingNotifier::new();
    /// # let accounts = Accounts::new(Directory::new(MemoryStore::new(), settings), mail.clone());
    /// let password = Password::new("Plum-Tractor-Velvet-9");
    /// accounts.sign_up("gu@example.com", &password, &Actor::System).await?;
    /// let id = accounts.log_in("gu@example.com", &password, &Actor::System).await?.account;
    /// accounts.change_email(id, "gu@example.org", &password, &Actor::System).await?;
    /// accounts.request_password_reset("gu@example.org", &Actor::System).await?;
    /// let Notification::PasswordReset { to, .. } = mail.sent().pop().unwrap() else { panic!() };
    /// assert_eq!(to.len(), 2, "new and old address");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn change_email(
        &self,
        account: AccountId,
        new_email: &str,
        current: &Password,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let span = use_case!("change_email", [], account = %account);
        span.run(
            async {
                self.enabled()?;
                let email = EmailAddress::parse_with_policy(
                    new_email,
                    self.directory.settings.email_key_policy,
                )?;
                let (token, token_hash) = VerificationToken::generate()?;
                let message = self
                    .directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let mut stored = self.account(account).await?;
                        let mut changes = ChangeSet::new();
                        if let Some(failed) =
                            self.confirm_current_password(&mut stored, current, now, actor)?
                        {
                            return Ok((failed, Err(AccountError::InvalidCredentials)));
                        }
                        if let Some(holder) = telemetry::store(
                            "account_by_email",
                            self.store().account_by_email(email.key()),
                        )
                        .await?
                        {
                            if holder.id != stored.id {
                                return Err(AccountError::EmailTaken);
                            }
                        }
                        let old = std::mem::replace(&mut stored.email, email.clone());
                        if old.key() != email.key() {
                            stored.previous_email = Some(old);
                        }
                        stored.verified_at = None;
                        // Links mailed to the old address are void.
                        stored.credential_version = stored.credential_version.saturating_add(1);
                        changes.save_account_token(self.token_for(
                            &stored,
                            token_hash.clone(),
                            TokenPurpose::Verification,
                            now,
                        ));
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::AccountEmailChanged,
                            &stored,
                        ));
                        let message = Notification::VerifyEmail {
                            account: stored.id,
                            to: email.clone(),
                            token: token.clone(),
                        };
                        changes.save_account(stored);
                        Ok((changes, Ok(message)))
                    })
                    .await??;
                self.notifier.notify(message).await?;
                Ok(())
            },
            |_, _| "ok",
        )
        .await
    }

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
    /// [`Error::BookingState`] (in [`AccountError::Directory`]), [`AccountError::EmailNotVerified`], [`AccountError::NotFound`],
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
                self.enabled()?;
                if !self.directory.settings.accounts.self_service_cancel {
                    return Err(AccountError::SelfServiceDisabled {
                        change: BookingChange::Cancel,
                    });
                }
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let (owner, mut stored) = self.own_booking(account, booking).await?;
                        self.check_change_allowed(&stored, now, BookingChange::Cancel)?;
                        stored.status = BookingStatus::CANCELLED;
                        let mut changes = ChangeSet::new();
                        let mut event =
                            self.event(now, actor, AuditAction::BookingCancelledByCustomer, &owner);
                        event.booking = Some(booking);
                        changes.record(event);
                        changes.save_booking(stored.clone());
                        stored.version += 1;
                        Ok((changes, stored))
                    })
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
                self.enabled()?;
                if !self.directory.settings.accounts.self_service_modify {
                    return Err(AccountError::SelfServiceDisabled {
                        change: BookingChange::Modify,
                    });
                }
                self.directory
                    .commit_retrying::<_, AccountError, _, _>(|| async {
                        let now = self.now();
                        let (owner, mut stored) = self.own_booking(account, booking).await?;
                        self.check_change_allowed(&stored, now, BookingChange::Modify)?;
                        let shift = new_start - stored.starts_at;
                        stored.starts_at = new_start;
                        self.check_change_allowed(&stored, now, BookingChange::Modify)?;
                        stored.ends_at =
                            stored.ends_at.and_then(|end| end.checked_add_signed(shift));
                        let mut changes = ChangeSet::new();
                        let mut event =
                            self.event(now, actor, AuditAction::BookingModifiedByCustomer, &owner);
                        event.booking = Some(booking);
                        changes.record(event);
                        changes.save_booking(stored.clone());
                        stored.version += 1;
                        Ok((changes, stored))
                    })
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
        hash: crate::records::tokens::ResetTokenHash,
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
