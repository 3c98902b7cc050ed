//! Signing up, verifying the email address and logging in.

use crate::ports::clock::Clock;
use crate::ports::notify::{Notification, Notifier};
use crate::ports::store::AccountStore;
use crate::ports::store::changes::ChangeSet;
use crate::records::account::{Account, TokenPurpose};
use crate::records::audit::{Actor, AuditAction, AuditEvent};
#[cfg(doc)]
use crate::records::tokens::ResetToken;
use crate::records::tokens::VerificationToken;
use crate::service::accounts::{Accounts, Login};
use crate::service::error::AccountError;
#[cfg(doc)]
use crate::service::error::Error;
use crate::service::telemetry::{self, use_case};
use crate::values::email::address::EmailAddress;
use crate::values::email::key::EmailKey;
use crate::values::ids::AccountId;
use crate::values::password::hashing::Verification;
use crate::values::password::secret::Password;

impl<S: AccountStore, N: Notifier, C: Clock> Accounts<S, N, C> {
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
                                let message = self.verification_mail(
                                    &mut changes,
                                    &account,
                                    &token,
                                    &token_hash,
                                    now,
                                );
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
}
