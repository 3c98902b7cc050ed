//! Customer-account scenarios: sign-up, verification and
//! claiming, login and throttling, password change and reset tokens, self-service,
//! saved payment method, the merge account guard and redaction of credentials.
//!
//! Every scenario here needs [`AccountStore`]:
//! `conformance_tests!` runs them on a store that implements it and leaves them out
//! otherwise.

use crate::decisions::merge::{MergeError, MergeRequest};
use crate::ports::clock::FixedClock;
use crate::ports::notify::{Notification, RecordingNotifier};
use crate::ports::store::{AccountStore, BulkReadStore, Store};
use crate::records::account::SavedPaymentMethod;
use crate::records::audit::{Actor, AuditAction};
use crate::records::customer::CustomerStatus;
use crate::records::tokens::{ResetToken, VerificationToken};
use crate::service::accounts::Accounts;
use crate::service::directory::Directory;
use crate::service::error::{AccountError, BookingChange, Error};
use crate::settings::AccountsMode;
use crate::settings::{AccountSettings, DirectorySettings};
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{AccountId, BookingId, CustomerId};
use crate::values::password::secret::Password;
use chrono::{DateTime, TimeDelta, Utc};

use crate::testing::conformance::fixtures::{GOOD, booking, cheap_hashing, contact, t0};

const OTHER: &str = "Quartz-Meadow-Lantern-4";
const THIRD: &str = "Violet-Harbor-Anvil-7";

pub struct Rig<S> {
    pub accounts: Accounts<S, RecordingNotifier, FixedClock>,
    pub clock: FixedClock,
    pub mail: RecordingNotifier,
}

/// Cheap hashing keeps the suite fast; the cost parameters do not change any rule.
fn settings(mode: AccountsMode) -> DirectorySettings {
    DirectorySettings::default().with_accounts(AccountSettings::with_mode(mode))
}

/// The account service over `store`, with a fixed clock and a recording notifier.
pub fn rig_with<S: AccountStore>(store: S, settings: DirectorySettings) -> Rig<S> {
    let clock = FixedClock::new(t0());
    let mail = RecordingNotifier::new();
    let directory = Directory::with_clock(store, settings, clock.clone());
    let accounts = Accounts::new(directory, mail.clone()).with_hashing(cheap_hashing(256));
    Rig {
        accounts,
        clock,
        mail,
    }
}

/// The account service in optional accounts mode.
pub(super) fn rig<S: AccountStore>(store: S) -> Rig<S> {
    rig_with(store, settings(AccountsMode::Optional))
}

fn me() -> Actor {
    Actor::System
}

fn pw(text: &str) -> Password {
    Password::new(text)
}

impl<S: Store + AccountStore> Rig<S> {
    fn verification_token(&self) -> VerificationToken {
        self.mail
            .last_verification_token()
            .expect("a verification mail")
    }

    fn reset_token(&self) -> ResetToken {
        self.mail.last_reset_token().expect("a reset mail")
    }

    /// Signs up and verifies `email`; returns the account id.
    async fn verified(&self, email: &str, password: &str) -> AccountId {
        self.accounts
            .sign_up(email, &pw(password), &me())
            .await
            .expect("signed up");
        self.accounts
            .verify_email(&self.verification_token(), &me())
            .await
            .expect("verified")
    }

    /// A booking for `email` starting `days` after t0, created as paid (so it creates or
    /// joins the profile).
    async fn book(&self, code: &str, email: &str, days: i64) -> BookingId {
        let mut new = booking(code, BookingStatus::PAID, contact(email, "Ana", "Silva"));
        new.starts_at = t0() + TimeDelta::days(days);
        self.accounts
            .directory()
            .record_booking(new, &Actor::System)
            .await
            .expect("booking recorded")
            .booking
    }

    async fn customer_of(&self, email: &str) -> CustomerId {
        self.accounts
            .directory()
            .find_by_email(email)
            .await
            .unwrap()
            .expect("customer")
            .id
    }
}

// ---------------------------------------------------------------------------------------

pub async fn accounts_disabled_refuses_every_use_case<S: Store + AccountStore + Clone + 'static>(
    store: S,
) {
    let rig = rig_with(store, settings(AccountsMode::Disabled));
    let a = &rig.accounts;
    let id = AccountId::new();
    assert!(matches!(
        a.sign_up("ana@example.com", &pw(GOOD), &me()).await,
        Err(AccountError::Disabled)
    ));
    assert!(matches!(
        a.log_in("ana@example.com", &pw(GOOD), &me()).await,
        Err(AccountError::Disabled)
    ));
    assert!(matches!(
        a.request_password_reset("ana@example.com", &me()).await,
        Err(AccountError::Disabled)
    ));
    assert!(matches!(
        a.my_bookings(id).await,
        Err(AccountError::Disabled)
    ));
    assert!(matches!(
        a.cancel_booking(id, BookingId::new(), &me()).await,
        Err(AccountError::Disabled)
    ));
    assert!(rig.mail.sent().is_empty());
}

pub async fn verified_account_claims_its_profile_and_sees_past_bookings<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    let past = rig.book("BK-1", "ana@example.com", -30).await;
    let other = rig.book("BK-2", "someone@example.com", -3).await;
    let ana = rig.customer_of("ana@example.com").await;

    rig.accounts
        .sign_up("Ana@Example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    let sent = rig.mail.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        matches!(&sent[0], Notification::VerifyEmail { to, .. } if to.as_str() == "Ana@Example.com")
    );
    let login = rig
        .accounts
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .expect("optional mode: unverified login works");
    assert_eq!(login.customer, None, "claims nothing before verification");
    assert!(
        rig.accounts
            .my_bookings(login.account)
            .await
            .unwrap()
            .is_empty()
    );

    let id = rig
        .accounts
        .verify_email(&rig.verification_token(), &me())
        .await
        .unwrap();
    assert_eq!(id, login.account);
    let account = rig.accounts.account(id).await.unwrap();
    assert_eq!(account.customer, Some(ana));
    assert_eq!(account.verified_at, Some(t0()));
    assert_eq!(
        store.account_by_customer(ana).await.unwrap().map(|a| a.id),
        Some(id)
    );
    let mine: Vec<BookingId> = rig
        .accounts
        .my_bookings(id)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(mine, vec![past]);
    assert!(!mine.contains(&other));
    let trail = store.audit_trail(ana).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == AuditAction::EmailVerified && e.account == Some(id))
    );
}

pub async fn account_without_a_profile_claims_it_at_a_later_login<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    let id = rig.verified("new@example.com", GOOD).await;
    assert_eq!(rig.accounts.account(id).await.unwrap().customer, None);
    let booked = rig.book("BK-1", "new@example.com", 10).await;
    let login = rig
        .accounts
        .log_in("new@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    assert_eq!(
        login.customer,
        Some(rig.customer_of("new@example.com").await)
    );
    let mine = rig.accounts.my_bookings(id).await.unwrap();
    assert_eq!(mine.iter().map(|b| b.id).collect::<Vec<_>>(), vec![booked]);
}

pub async fn sign_up_for_a_taken_email_answers_the_same_and_tells_the_owner<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    let id = rig.verified("ana@example.com", GOOD).await;
    let before = rig.accounts.account(id).await.unwrap();
    let _ = rig.mail.take();
    rig.accounts
        .sign_up("ana@example.com", &pw(OTHER), &me())
        .await
        .expect("same answer as a new address");
    let sent = rig.mail.take();
    assert!(
        matches!(&sent[..], [Notification::AlreadyRegistered { account, .. }] if *account == id)
    );
    assert_eq!(rig.accounts.account(id).await.unwrap(), before, "unchanged");
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_ok()
    );

    // An unverified sign-up is taken over by the latest one; its earlier link is void.
    rig.accounts
        .sign_up("bo@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    let first_link = rig.verification_token();
    rig.accounts
        .sign_up("bo@example.com", &pw(OTHER), &me())
        .await
        .unwrap();
    let second_link = rig.verification_token();
    assert!(matches!(
        rig.accounts.verify_email(&first_link, &me()).await,
        Err(AccountError::InvalidToken)
    ));
    rig.accounts
        .verify_email(&second_link, &me())
        .await
        .unwrap();
    assert!(
        rig.accounts
            .log_in("bo@example.com", &pw(OTHER), &me())
            .await
            .is_ok()
    );
    assert!(matches!(
        rig.accounts
            .log_in("bo@example.com", &pw(GOOD), &me())
            .await,
        Err(AccountError::InvalidCredentials)
    ));
}

pub async fn weak_password_lists_every_violation_and_stores_nothing<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    let Err(AccountError::WeakPassword(violations)) = rig
        .accounts
        .sign_up("ana@example.com", &pw("a b"), &me())
        .await
    else {
        panic!("weak password accepted");
    };
    assert!(violations.len() >= 3, "{violations:?}");
    let key =
        crate::values::email::key::EmailKey::parse("ana@example.com", Default::default()).unwrap();
    assert!(store.account_by_email(&key).await.unwrap().is_none());
    assert!(rig.mail.sent().is_empty());
}

pub async fn login_answers_unknown_email_and_wrong_password_alike<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    rig.verified("ana@example.com", GOOD).await;
    let unknown = rig
        .accounts
        .log_in("nobody@example.com", &pw(GOOD), &me())
        .await
        .unwrap_err();
    let wrong = rig
        .accounts
        .log_in("ana@example.com", &pw(OTHER), &me())
        .await
        .unwrap_err();
    let malformed = rig
        .accounts
        .log_in("not an email", &pw(GOOD), &me())
        .await
        .unwrap_err();
    assert!(matches!(unknown, AccountError::InvalidCredentials));
    assert!(matches!(wrong, AccountError::InvalidCredentials));
    assert!(matches!(malformed, AccountError::InvalidCredentials));
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_ok()
    );
}

pub async fn login_throttles_after_repeated_failures_and_releases<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let mut settings = settings(AccountsMode::Optional);
    settings.accounts.max_failed_logins = 3;
    settings.accounts.lockout = std::time::Duration::from_secs(10 * 60);
    let rig = rig_with(store, settings);
    let id = rig.verified("ana@example.com", GOOD).await;
    for _ in 0..3 {
        assert!(matches!(
            rig.accounts
                .log_in("ana@example.com", &pw(OTHER), &me())
                .await,
            Err(AccountError::InvalidCredentials)
        ));
    }
    let until = t0() + TimeDelta::minutes(10);
    assert_eq!(
        rig.accounts.account(id).await.unwrap().throttled_until,
        Some(until)
    );
    // Locked: even the right password is refused.
    let locked = rig
        .accounts
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await;
    assert!(matches!(locked, Err(AccountError::Throttled { until: u }) if u == until));
    rig.clock.advance(TimeDelta::minutes(9));
    assert!(matches!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await,
        Err(AccountError::Throttled { .. })
    ));
    rig.clock.advance(TimeDelta::minutes(1));
    let login = rig
        .accounts
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .expect("released after the lockout");
    assert_eq!(login.account, id);
    let account = rig.accounts.account(id).await.unwrap();
    assert_eq!((account.failed_logins, account.throttled_until), (0, None));
    // A success resets the count: two more failures do not lock.
    for _ in 0..2 {
        let _ = rig
            .accounts
            .log_in("ana@example.com", &pw(OTHER), &me())
            .await;
    }
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_ok()
    );
}

pub async fn required_mode_refuses_login_until_verified<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig_with(store, settings(AccountsMode::Required));
    rig.accounts
        .sign_up("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    assert!(matches!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await,
        Err(AccountError::EmailNotVerified)
    ));
    // A wrong password still gets the generic answer, not the verification state.
    assert!(matches!(
        rig.accounts
            .log_in("ana@example.com", &pw(OTHER), &me())
            .await,
        Err(AccountError::InvalidCredentials)
    ));
    rig.accounts
        .verify_email(&rig.verification_token(), &me())
        .await
        .unwrap();
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_ok()
    );
}

pub async fn reset_token_is_single_use<S: Store + AccountStore + Clone + 'static>(store: S) {
    let rig = rig(store);
    rig.verified("ana@example.com", GOOD).await;
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let link = rig.reset_token();
    rig.accounts
        .reset_password(&link, &pw(OTHER), &me())
        .await
        .unwrap();
    assert!(matches!(
        rig.accounts.reset_password(&link, &pw(THIRD), &me()).await,
        Err(AccountError::InvalidToken)
    ));
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(OTHER), &me())
            .await
            .is_ok()
    );
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(THIRD), &me())
            .await
            .is_err()
    );
}

pub async fn reset_token_expires<S: Store + AccountStore + Clone + 'static>(store: S) {
    let rig = rig(store);
    rig.verified("ana@example.com", GOOD).await;
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let link = rig.reset_token();
    // Default lifetime: 30 minutes; valid at the last instant, refused after it.
    rig.clock.advance(TimeDelta::minutes(30));
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let later_link = rig.reset_token();
    rig.clock.advance(TimeDelta::seconds(1));
    assert!(matches!(
        rig.accounts.reset_password(&link, &pw(OTHER), &me()).await,
        Err(AccountError::InvalidToken)
    ));
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_ok()
    );
    rig.accounts
        .reset_password(&later_link, &pw(OTHER), &me())
        .await
        .unwrap();
}

pub async fn reset_tokens_are_voided_by_any_password_change<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    let id = rig.verified("ana@example.com", GOOD).await;
    let staff = Actor::staff("maria");

    // By the customer's own change.
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let link = rig.reset_token();
    rig.accounts
        .change_password(id, &pw(GOOD), &pw(OTHER), &me())
        .await
        .unwrap();
    assert!(matches!(
        rig.accounts.reset_password(&link, &pw(THIRD), &me()).await,
        Err(AccountError::InvalidToken)
    ));

    // By staff setting a password.
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let link = rig.reset_token();
    rig.accounts
        .set_password(id, &pw(THIRD), &staff)
        .await
        .unwrap();
    assert!(matches!(
        rig.accounts.reset_password(&link, &pw(GOOD), &me()).await,
        Err(AccountError::InvalidToken)
    ));

    // By another reset: two links open, the first one used voids the second.
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let first = rig.reset_token();
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let second = rig.reset_token();
    rig.accounts
        .reset_password(&first, &pw(GOOD), &me())
        .await
        .unwrap();
    assert!(matches!(
        rig.accounts
            .reset_password(&second, &pw(OTHER), &me())
            .await,
        Err(AccountError::InvalidToken)
    ));
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_ok()
    );
}

pub async fn reset_tokens_are_stored_only_hashed<S: Store + AccountStore + Clone + 'static>(
    store: S,
) {
    let rig = rig(store.clone());
    let id = rig.verified("ana@example.com", GOOD).await;
    let verification = rig.mail.sent()[0].verification_token().unwrap().clone();
    rig.book("BK-1", "ana@example.com", 10).await;
    rig.accounts
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let token: ResetToken = rig.mail.last_reset_token().unwrap();
    let plain = token.expose_secret();

    // Found by its hash only.
    let stored = store
        .account_token(&token.hash())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.account, id);
    assert!(
        store
            .account_token(&ResetToken::parse(&plain).unwrap().hash())
            .await
            .unwrap()
            .is_some()
    );

    // Everything the port can show about this person, as Debug and as JSON.
    let account = store.account(id).await.unwrap().unwrap();
    let customer = account.customer.unwrap();
    let tokens = store.account_tokens(id).await.unwrap();
    assert_eq!(tokens.len(), 2, "verification and reset");
    let dump = format!(
        "{account:?}{:?}{tokens:?}{:?}{:?}{:?}{}{}{}",
        store.customer(customer).await.unwrap(),
        store.customer_bookings(customer).await.unwrap(),
        store.audit_trail(customer).await.unwrap(),
        store.account_by_customer(customer).await.unwrap(),
        serde_json::to_string(&account).unwrap(),
        serde_json::to_string(&tokens).unwrap(),
        serde_json::to_string(&store.audit_trail(customer).await.unwrap()).unwrap(),
    );
    for secret in [plain.clone(), verification.expose_secret()] {
        assert!(!dump.contains(&secret), "plaintext token stored");
        assert!(!dump.contains(&secret.to_uppercase()));
    }
    let json = serde_json::to_string(&tokens).unwrap();
    assert!(
        json.contains(&token.hash().to_hex()),
        "the hash is what is stored"
    );
    assert!(
        !format!("{:?}", rig.mail.sent()).contains(&plain),
        "Debug of mail redacts"
    );
}

pub async fn reset_for_an_unknown_email_looks_like_a_known_one<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    rig.verified("ana@example.com", GOOD).await;
    let _ = rig.mail.take();
    let known = rig
        .accounts
        .request_password_reset("ana@example.com", &me())
        .await;
    let unknown = rig
        .accounts
        .request_password_reset("nobody@example.com", &me())
        .await;
    assert!(matches!((&known, &unknown), (Ok(()), Ok(()))));
    let sent = rig.mail.take();
    assert_eq!(sent.len(), 1, "mail only for the known address");
    assert_eq!(sent[0].recipients()[0].as_str(), "ana@example.com");
}

pub async fn reset_mail_goes_to_old_and_new_address_after_an_email_change<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    let id = rig.verified("ana@example.com", GOOD).await;
    rig.verified("bo@example.com", GOOD).await;
    assert!(matches!(
        rig.accounts
            .change_email(id, "bo@example.com", &pw(GOOD), &me())
            .await,
        Err(AccountError::EmailTaken)
    ));
    assert!(matches!(
        rig.accounts
            .change_email(id, "ana@example.org", &pw(OTHER), &me())
            .await,
        Err(AccountError::InvalidCredentials)
    ));
    rig.accounts
        .change_email(id, "ana@example.org", &pw(GOOD), &me())
        .await
        .unwrap();
    assert!(matches!(
        rig.mail.sent().last(),
        Some(Notification::VerifyEmail { to, .. }) if to.as_str() == "ana@example.org"
    ));
    rig.accounts
        .request_password_reset("ana@example.org", &me())
        .await
        .unwrap();
    let Some(Notification::PasswordReset { to, account, .. }) = rig.mail.sent().pop() else {
        panic!("no reset mail");
    };
    assert_eq!(account, id);
    let to: Vec<&str> = to.iter().map(|a| a.as_str()).collect();
    assert_eq!(to, vec!["ana@example.org", "ana@example.com"]);
    // The old address no longer logs in.
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await
            .is_err()
    );
}

pub async fn change_password_needs_the_current_one_and_staff_set_needs_staff<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store);
    let id = rig.verified("ana@example.com", GOOD).await;
    let before = rig.accounts.account(id).await.unwrap();
    assert!(matches!(
        rig.accounts
            .change_password(id, &pw(OTHER), &pw(THIRD), &me())
            .await,
        Err(AccountError::InvalidCredentials)
    ));
    assert_eq!(rig.accounts.account(id).await.unwrap().failed_logins, 1);
    assert!(matches!(
        rig.accounts
            .change_password(id, &pw(GOOD), &pw("short"), &me())
            .await,
        Err(AccountError::WeakPassword(_))
    ));
    let customer = Actor::Customer(CustomerId::new());
    assert!(matches!(
        rig.accounts.set_password(id, &pw(THIRD), &customer).await,
        Err(AccountError::NotPermitted { .. })
    ));
    assert_eq!(
        rig.accounts.account(id).await.unwrap().password,
        before.password,
        "nothing changed"
    );
    rig.accounts
        .change_password(id, &pw(GOOD), &pw(THIRD), &me())
        .await
        .unwrap();
    assert!(
        rig.accounts
            .log_in("ana@example.com", &pw(THIRD), &me())
            .await
            .is_ok()
    );
}

pub async fn outdated_hash_is_rehashed_at_the_next_login<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    let id = rig.verified("ana@example.com", GOOD).await;
    let old = rig.accounts.account(id).await.unwrap().password;
    // The business raises the cost: same store, new hashing.
    let stronger = Accounts::new(rig.accounts.directory().clone(), rig.mail.clone())
        .with_hashing(cheap_hashing(512));
    assert!(stronger.hashing().needs_rehash(&old));
    let wrong = stronger.log_in("ana@example.com", &pw(OTHER), &me()).await;
    assert!(matches!(wrong, Err(AccountError::InvalidCredentials)));
    assert_eq!(
        stronger.account(id).await.unwrap().password,
        old,
        "no rehash on failure"
    );
    let login = stronger
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    assert!(login.rehashed);
    let new = stronger.account(id).await.unwrap().password;
    assert_ne!(new, old);
    assert!(!stronger.hashing().needs_rehash(&new));
    let again = stronger
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    assert!(!again.rehashed);
}

pub async fn self_service_cancel_within_the_window_changes_the_status_only<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    let far = rig.book("BK-1", "ana@example.com", 10).await;
    let id = rig.verified("ana@example.com", GOOD).await;
    let before = store.booking(far).await.unwrap().unwrap();
    let cancelled = rig.accounts.cancel_booking(id, far, &me()).await.unwrap();
    let after = store.booking(far).await.unwrap().unwrap();
    assert_eq!(cancelled, after);
    assert_eq!(after.status, BookingStatus::CANCELLED);
    assert_eq!(after.version, before.version + 1);
    let mut expected = before.clone();
    expected.status = BookingStatus::CANCELLED;
    expected.version = after.version;
    assert_eq!(
        after, expected,
        "only the status changed: amounts and attribution stay"
    );
    // Cancelled blocks further changes.
    assert!(matches!(
        rig.accounts.cancel_booking(id, far, &me()).await,
        Err(AccountError::BookingLocked { booking, change: BookingChange::Cancel }) if booking == far
    ));
}

pub async fn self_service_refuses_inside_the_window_blocked_statuses_and_others_bookings<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let mut settings = settings(AccountsMode::Optional);
    settings.accounts.change_window_days = 3;
    let rig = rig_with(store.clone(), settings);
    let near = rig.book("BK-1", "ana@example.com", 3).await;
    let ok = rig.book("BK-2", "ana@example.com", 4).await;
    let theirs = rig.book("BK-3", "bo@example.com", 30).await;
    let id = rig.verified("ana@example.com", GOOD).await;
    let snapshot = store.booking(near).await.unwrap();

    let Err(AccountError::ChangeWindowClosed { closed_at, .. }) =
        rig.accounts.cancel_booking(id, near, &me()).await
    else {
        panic!("exactly 3 days before is inside a 3-day window");
    };
    assert_eq!(closed_at, t0());
    assert_eq!(
        store.booking(near).await.unwrap(),
        snapshot,
        "nothing changed"
    );
    assert!(matches!(
        rig.accounts.cancel_booking(id, theirs, &me()).await,
        Err(AccountError::Directory(Error::BookingNotFound(b))) if b == theirs
    ));
    assert!(matches!(
        rig.accounts
            .cancel_booking(id, BookingId::new(), &me())
            .await,
        Err(AccountError::Directory(Error::BookingNotFound(_)))
    ));
    rig.accounts
        .directory()
        .change_booking_status(ok, BookingStatus::COMPLETED, &Actor::staff("maria"))
        .await
        .unwrap();
    assert!(matches!(
        rig.accounts.cancel_booking(id, ok, &me()).await,
        Err(AccountError::BookingLocked { booking, change: BookingChange::Cancel }) if booking == ok
    ));
    // The window moves with the clock: 4 days out becomes 2 days out.
    let later = rig.book("BK-4", "ana@example.com", 5).await;
    rig.clock
        .advance(TimeDelta::days(2) + TimeDelta::seconds(1));
    assert!(matches!(
        rig.accounts.cancel_booking(id, later, &me()).await,
        Err(AccountError::ChangeWindowClosed { .. })
    ));
}

pub async fn self_service_modify_moves_the_booking_and_respects_the_settings<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let mut off = settings(AccountsMode::Optional);
    off.accounts.self_service_modify = false;
    {
        let rig = rig_with(store.clone(), off);
        let b = rig.book("BK-0", "ana@example.com", 20).await;
        let id = rig.verified("ana@example.com", GOOD).await;
        assert!(matches!(
            rig.accounts
                .modify_booking(id, b, t0() + TimeDelta::days(21), &me())
                .await,
            Err(AccountError::SelfServiceDisabled { .. })
        ));
    }
    let rig = rig(store.clone());
    let b = rig.book("BK-1", "cy@example.com", 20).await;
    let id = rig.verified("cy@example.com", GOOD).await;
    let new_start: DateTime<Utc> = t0() + TimeDelta::days(25);
    let moved = rig
        .accounts
        .modify_booking(id, b, new_start, &me())
        .await
        .unwrap();
    assert_eq!(moved.starts_at, new_start);
    assert_eq!(
        store.booking(b).await.unwrap().unwrap().starts_at,
        new_start
    );
    // Not into the window.
    assert!(matches!(
        rig.accounts
            .modify_booking(id, b, t0() + TimeDelta::days(1), &me())
            .await,
        Err(AccountError::ChangeWindowClosed { .. })
    ));
    assert_eq!(
        store.booking(b).await.unwrap().unwrap().starts_at,
        new_start
    );
}

pub async fn saved_payment_method_is_one_per_account_and_refuses_card_numbers<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    let id = rig.verified("ana@example.com", GOOD).await;
    for card in [
        "4242424242424242",
        "4242 4242 4242 4242",
        "tok-4242-4242-4242-4242",
        "pm_378282246310005x",
    ] {
        assert_eq!(
            SavedPaymentMethod::new(card, "visa", "4242", 12, 2030)
                .map_err(AccountError::from)
                .err()
                .map(|e| e.to_string()),
            Some(AccountError::CardNumberRefused.to_string()),
            "{card}"
        );
    }
    let first = SavedPaymentMethod::new("pm_first", "visa", "4242", 12, 2030).unwrap();
    let second = SavedPaymentMethod::new("pm_second", "mastercard", "4444", 1, 2031).unwrap();
    rig.accounts
        .save_payment_method(id, first, &me())
        .await
        .unwrap();
    rig.accounts
        .save_payment_method(id, second.clone(), &me())
        .await
        .unwrap();
    let account = store.account(id).await.unwrap().unwrap();
    assert_eq!(
        account.payment_method,
        Some(second),
        "replaced, one per account"
    );
    assert!(
        !format!("{account:?}").contains("pm_second"),
        "token redacted in Debug"
    );
    let expired = SavedPaymentMethod::new("pm_old", "visa", "4242", 1, 2020).unwrap();
    assert!(matches!(
        rig.accounts.save_payment_method(id, expired, &me()).await,
        Err(AccountError::InvalidPaymentMethod(_))
    ));
    assert!(rig.accounts.remove_payment_method(id, &me()).await.unwrap());
    assert!(!rig.accounts.remove_payment_method(id, &me()).await.unwrap());
    assert_eq!(
        store.account(id).await.unwrap().unwrap().payment_method,
        None
    );
}

pub async fn merging_two_accounts_needs_the_one_to_keep<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    rig.book("BK-1", "ana@example.com", 10).await;
    rig.book("BK-2", "ana.work@example.com", 12).await;
    rig.book("BK-3", "ana.old@example.com", 14).await;
    let home = rig.verified("ana@example.com", GOOD).await;
    let work = rig.verified("ana.work@example.com", OTHER).await;
    let survivor = rig.customer_of("ana@example.com").await;
    let dup = rig.customer_of("ana.work@example.com").await;
    let plain = rig.customer_of("ana.old@example.com").await;
    let staff = Actor::staff("maria");
    let dir = rig.accounts.directory();

    let before = (
        store.customer(survivor).await.unwrap(),
        store.customer(dup).await.unwrap(),
        store.account(home).await.unwrap(),
        store.account(work).await.unwrap(),
    );
    let refused = dir.merge(&MergeRequest::new(survivor, [dup]), &staff).await;
    assert!(matches!(
        refused,
        Err(Error::Merge(MergeError::SeveralAccounts { ref accounts })) if accounts == &vec![home, work]
    ));
    let outside = dir
        .merge(
            &MergeRequest::new(survivor, [dup]).keeping_account(AccountId::new()),
            &staff,
        )
        .await;
    assert!(matches!(
        outside,
        Err(Error::Merge(MergeError::KeptAccountOutsideMerge(_)))
    ));
    let after = (
        store.customer(survivor).await.unwrap(),
        store.customer(dup).await.unwrap(),
        store.account(home).await.unwrap(),
        store.account(work).await.unwrap(),
    );
    assert_eq!(before, after, "a refused merge changes nothing");

    // One account is no conflict: it stays with the survivor.
    let report = dir
        .merge(&MergeRequest::new(survivor, [plain]), &staff)
        .await
        .unwrap();
    assert_eq!(report.account_kept, Some(home));

    // Naming the one to keep: it claims the survivor, the other is closed with its tokens.
    rig.accounts
        .request_password_reset("ana.work@example.com", &me())
        .await
        .unwrap();
    let work_link = rig.reset_token();
    let report = dir
        .merge(
            &MergeRequest::new(survivor, [dup]).keeping_account(work),
            &staff,
        )
        .await
        .unwrap();
    assert_eq!(report.account_kept, Some(work));
    assert_eq!(report.accounts_closed, vec![home]);
    assert!(store.account(home).await.unwrap().is_none());
    assert!(store.account_tokens(home).await.unwrap().is_empty());
    assert_eq!(
        store.account(work).await.unwrap().unwrap().customer,
        Some(survivor)
    );
    assert_eq!(
        store
            .account_by_customer(survivor)
            .await
            .unwrap()
            .map(|a| a.id),
        Some(work)
    );
    assert!(store.account_by_customer(dup).await.unwrap().is_none());
    assert!(matches!(
        rig.accounts
            .log_in("ana@example.com", &pw(GOOD), &me())
            .await,
        Err(AccountError::InvalidCredentials)
    ));
    let mine = rig.accounts.my_bookings(work).await.unwrap();
    assert_eq!(mine.len(), 3, "the kept account sees every merged booking");
    rig.accounts
        .reset_password(&work_link, &pw(THIRD), &me())
        .await
        .unwrap();
}

pub async fn redaction_erases_account_credentials_and_deletion_unclaims<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    let staff = Actor::staff("maria");
    let dir = rig.accounts.directory();
    rig.book("BK-1", "ana@example.com", 10).await;
    let id = rig.verified("ana@example.com", GOOD).await;
    let card = SavedPaymentMethod::new("pm_ana", "visa", "4242", 12, 2030).unwrap();
    rig.accounts
        .save_payment_method(id, card, &me())
        .await
        .unwrap();
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let ana = rig.customer_of("ana@example.com").await;
    dir.archive(ana, &staff).await.unwrap();
    dir.redact(ana, &[], &staff).await.unwrap();
    assert_eq!(
        store.customer(ana).await.unwrap().unwrap().status,
        CustomerStatus::Redacted
    );
    assert!(store.account(id).await.unwrap().is_none());
    assert!(store.account_tokens(id).await.unwrap().is_empty());
    assert!(store.account_by_customer(ana).await.unwrap().is_none());
    let key =
        crate::values::email::key::EmailKey::parse("ana@example.com", Default::default()).unwrap();
    assert!(store.account_by_email(&key).await.unwrap().is_none());

    rig.book("BK-2", "bo@example.com", 10).await;
    let bo_account = rig.verified("bo@example.com", GOOD).await;
    let bo = rig.customer_of("bo@example.com").await;
    dir.delete_customer(bo, &staff).await.unwrap();
    let account = store.account(bo_account).await.unwrap().unwrap();
    assert_eq!(account.customer, None, "the login stays, unclaimed");
    assert!(
        rig.accounts
            .my_bookings(bo_account)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn account_use_cases_record_audit_events_without_secrets<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    rig.book("BK-1", "ana@example.com", 10).await;
    let id = rig.verified("ana@example.com", GOOD).await;
    let ana = rig.customer_of("ana@example.com").await;
    let _ = rig
        .accounts
        .log_in("ana@example.com", &pw(OTHER), &me())
        .await;
    rig.accounts
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    rig.accounts
        .request_password_reset("ana@example.com", &me())
        .await
        .unwrap();
    let link = rig.reset_token();
    rig.accounts
        .reset_password(&link, &pw(THIRD), &me())
        .await
        .unwrap();
    let trail = store.audit_trail(ana).await.unwrap();
    let actions: Vec<AuditAction> = trail
        .iter()
        .filter(|e| e.account == Some(id))
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::EmailVerified,
            AuditAction::LoginFailed,
            AuditAction::LoginSucceeded,
            AuditAction::PasswordResetRequested,
            AuditAction::PasswordReset,
        ]
    );
    let dump = format!("{trail:?}{}", serde_json::to_string(&trail).unwrap());
    for secret in [GOOD, OTHER, THIRD, link.expose_secret().as_str()] {
        assert!(!dump.contains(secret));
    }
    assert!(!dump.contains("argon2"));
    assert!(
        trail
            .iter()
            .all(|e| e.action != AuditAction::LoginFailed || e.booking.is_none())
    );
}

pub async fn concurrent_sign_ups_and_failed_logins_stay_consistent<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let mut settings = settings(AccountsMode::Optional);
    settings.accounts.max_failed_logins = 100;
    let rig = rig_with(store.clone(), settings);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let accounts = rig.accounts.clone();
        tasks.push(tokio::spawn(async move {
            accounts.sign_up("ana@example.com", &pw(GOOD), &me()).await
        }));
    }
    for task in tasks {
        task.await
            .unwrap()
            .expect("every sign-up gets the same answer");
    }
    let key =
        crate::values::email::key::EmailKey::parse("ana@example.com", Default::default()).unwrap();
    let account = store
        .account_by_email(&key)
        .await
        .unwrap()
        .expect("one account");
    // The link of the sign-up that committed last is the one that works; the mails of
    // concurrent sign-ups may go out in another order than their commits.
    let links: Vec<_> = rig
        .mail
        .sent()
        .iter()
        .filter_map(|mail| mail.verification_token().cloned())
        .collect();
    let mut verified = 0;
    for link in links.iter().rev() {
        if rig.accounts.verify_email(link, &me()).await.is_ok() {
            verified += 1;
        }
    }
    assert_eq!(verified, 1, "exactly one of {} links verifies", links.len());

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let accounts = rig.accounts.clone();
        tasks.push(tokio::spawn(async move {
            accounts.log_in("ana@example.com", &pw(OTHER), &me()).await
        }));
    }
    for task in tasks {
        assert!(matches!(
            task.await.unwrap(),
            Err(AccountError::InvalidCredentials)
        ));
    }
    let after = store.account(account.id).await.unwrap().unwrap();
    assert_eq!(after.failed_logins, 8, "every concurrent failure counted");
}

pub async fn email_change_voids_earlier_links_and_logins_keep_customers_from_bulk_redaction<
    S: Store + BulkReadStore + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig(store.clone());
    // A verification link mailed to the old address cannot verify the new one.
    rig.accounts
        .sign_up("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    let old_link = rig.verification_token();
    let id = rig
        .accounts
        .log_in("ana@example.com", &pw(GOOD), &me())
        .await
        .unwrap()
        .account;
    rig.accounts
        .change_email(id, "ana@example.org", &pw(GOOD), &me())
        .await
        .unwrap();
    let new_link = rig.verification_token();
    assert!(matches!(
        rig.accounts.verify_email(&old_link, &me()).await,
        Err(AccountError::InvalidToken)
    ));
    assert!(
        rig.accounts
            .account(id)
            .await
            .unwrap()
            .verified_at
            .is_none()
    );
    rig.accounts.verify_email(&new_link, &me()).await.unwrap();

    // Bulk redaction counts a login as activity.
    rig.book("BK-1", "bo@example.com", -400).await;
    rig.book("BK-2", "cy@example.com", -400).await;
    let bo_account = rig.verified("bo@example.com", GOOD).await;
    let bo = rig.customer_of("bo@example.com").await;
    let cy = rig.customer_of("cy@example.com").await;
    rig.clock.advance(TimeDelta::days(30));
    rig.accounts
        .log_in("bo@example.com", &pw(GOOD), &me())
        .await
        .unwrap();
    let cutoff = t0() + TimeDelta::days(1);
    let redacted = rig
        .accounts
        .directory()
        .redact_inactive_since(cutoff, &Actor::staff("maria"))
        .await
        .unwrap();
    assert!(redacted.contains(&cy));
    assert!(!redacted.contains(&bo), "logged in since the cutoff");
    assert!(store.account(bo_account).await.unwrap().is_some());
}
