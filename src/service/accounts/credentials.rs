//! Changing and resetting a password, and changing the login email.

use crate::ports::clock::Clock;
use crate::ports::notify::{Notification, Notifier};
use crate::ports::store::AccountStore;
use crate::ports::store::changes::ChangeSet;
#[cfg(doc)]
use crate::records::account::Account;
use crate::records::account::TokenPurpose;
use crate::records::audit::{Actor, AuditAction, AuditEvent};
use crate::records::tokens::{ResetToken, VerificationToken};
use crate::service::accounts::{Accounts, stand_in_for_a_token};
#[cfg(doc)]
use crate::service::error::Error;
use crate::service::error::{AccountError, StaffAction};
use crate::service::telemetry::{self, use_case};
use crate::values::email::address::EmailAddress;
use crate::values::email::key::EmailKey;
use crate::values::ids::AccountId;
use crate::values::password::secret::Password;

impl<S: AccountStore, N: Notifier, C: Clock> Accounts<S, N, C> {
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
                        let message =
                            self.verification_mail(&mut changes, &stored, &token, &token_hash, now);
                        changes.record(self.event(
                            now,
                            actor,
                            AuditAction::AccountEmailChanged,
                            &stored,
                        ));
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
}
