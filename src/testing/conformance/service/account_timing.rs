//! Account scenarios about what an attacker can learn from the outside: a password-reset
//! request for an unknown email commits as much as one for a known email (so the store's
//! time does not tell which addresses have accounts), and a link's token works only for
//! what it was mailed for.
//!
//! Skipped, like the other account scenarios, by a store that keeps no accounts.

use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{AccountStore, Store};
use crate::records::audit::{Actor, AuditAction, AuditEvent};
use crate::records::tokens::{ResetToken, VerificationToken};
use crate::service::error::AccountError;
use crate::settings::AccountsMode;
use crate::settings::{AccountSettings, DirectorySettings};
use crate::testing::FaultInjectingStore;
use crate::testing::conformance::fixtures::{booking, contact};
use crate::testing::conformance::service::accounts::rig_with;
use crate::values::booking_status::BookingStatus;
use crate::values::email::key::EmailKey;
use crate::values::password::secret::Password;

const GOOD: &str = "Plum-Tractor-Velvet-9";
const OTHER: &str = "Quartz-Meadow-Lantern-4";

fn settings() -> DirectorySettings {
    DirectorySettings::default().with_accounts(AccountSettings::with_mode(AccountsMode::Optional))
}

/// What one commit held, counted by kind.
#[derive(Debug, Clone)]
struct Committed {
    /// Records written or deleted: customers, bookings, merges, lists, blocklist changes,
    /// accounts and tokens.
    writes: usize,
    /// Checks that write nothing: customer versions and customers' bookings.
    checks: usize,
    /// The audit events appended.
    audit: Vec<AuditEvent>,
}

impl Committed {
    fn of(changes: &ChangeSet) -> Self {
        Self {
            writes: changes.customers().len()
                + changes.bookings().len()
                + changes.deletions().len()
                + changes.merges().len()
                + changes.lists().len()
                + changes.blocklist().len()
                + changes.accounts().len()
                + changes.account_deletions().len()
                + changes.account_tokens().len(),
            checks: changes.guards().len() + changes.booking_guards().len(),
            audit: changes.audit().to_vec(),
        }
    }
}

/// What each commit since the last call held.
fn take<S>(log: &FaultInjectingStore<S>) -> Vec<Committed> {
    log.take_commits().iter().map(Committed::of).collect()
}

pub async fn reset_for_an_unknown_email_commits_as_much_as_for_a_known_one<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let log = FaultInjectingStore::new(store.clone());
    log.log_commits();
    let rig = rig_with(log.clone(), settings());
    // A returning customer: a booking made the profile, the verified account claimed it.
    rig.accounts
        .directory()
        .record_booking(
            booking(
                "BK-1",
                BookingStatus::PAID,
                contact("ana@example.com", "Ana", "Silva"),
            ),
            &Actor::System,
        )
        .await
        .unwrap();
    rig.accounts
        .sign_up("ana@example.com", &Password::new(GOOD), &Actor::System)
        .await
        .unwrap();
    let token = rig.mail.last_verification_token().unwrap();
    let id = rig
        .accounts
        .verify_email(&token, &Actor::System)
        .await
        .unwrap();
    let customer = rig.accounts.account(id).await.unwrap().customer;
    assert!(customer.is_some(), "the account claimed the profile");
    let _ = take(&log);
    let _ = rig.mail.take();

    rig.accounts
        .request_password_reset("ana@example.com", &Actor::System)
        .await
        .unwrap();
    let known = take(&log);
    let tokens = store.account_tokens(id).await.unwrap();
    rig.accounts
        .request_password_reset("nobody@example.com", &Actor::System)
        .await
        .unwrap();
    let unknown = take(&log);

    // One commit each, with one audit event and at least as many other entries: the known
    // request writes its token, the unknown one makes checks in its place (an audit event
    // alone would be a much cheaper commit on the SQL stores).
    assert_eq!(known.len(), 1, "the known request commits once: {known:?}");
    assert_eq!(
        unknown.len(),
        1,
        "the unknown request commits once: {unknown:?}"
    );
    let (known, unknown) = (&known[0], &unknown[0]);
    assert_eq!((known.writes, known.checks), (1, 0), "the token: {known:?}");
    assert!(
        unknown.checks >= known.writes + known.checks,
        "checks in place of the token: {unknown:?}"
    );
    assert_eq!(unknown.writes, 0, "nothing stored for an unknown address");
    assert_eq!(known.audit.len(), 1);
    assert_eq!(unknown.audit.len(), 1);
    for event in [&known.audit[0], &unknown.audit[0]] {
        assert_eq!(event.action, AuditAction::PasswordResetRequested);
    }
    assert_eq!(known.audit[0].account, Some(id));
    assert_eq!(
        known.audit[0].customers,
        customer.into_iter().collect::<Vec<_>>()
    );

    // Nothing personal in the unknown request's event, and no account or customer.
    let event = &unknown.audit[0];
    assert_eq!(event.account, None);
    assert!(event.customers.is_empty() && event.booking.is_none());
    let shown = format!("{event:?}{}", serde_json::to_string(event).unwrap());
    assert!(
        !shown.contains("nobody"),
        "no address in the event: {shown}"
    );

    // The check changed nothing: the same tokens, one mail (the known address's).
    assert_eq!(store.account_tokens(id).await.unwrap(), tokens);
    let sent = rig.mail.take();
    assert_eq!(sent.len(), 1, "mail only for the known address");
    assert_eq!(sent[0].recipients()[0].as_str(), "ana@example.com");
}

pub async fn a_link_works_only_for_what_it_was_mailed_for<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = rig_with(store.clone(), settings());
    rig.accounts
        .sign_up("ana@example.com", &Password::new(GOOD), &Actor::System)
        .await
        .unwrap();
    let verification = rig.mail.last_verification_token().unwrap();
    assert!(rig.mail.last_reset_token().is_none(), "no reset mail yet");
    rig.accounts
        .request_password_reset("ana@example.com", &Actor::System)
        .await
        .unwrap();
    let reset = rig.mail.last_reset_token().unwrap();
    let key = EmailKey::parse("ana@example.com", Default::default()).unwrap();
    let account = store.account_by_email(&key).await.unwrap().unwrap();
    let tokens = store.account_tokens(account.id).await.unwrap();

    // The secret of one link read as the other kind of token is refused, and changes
    // nothing.
    let as_reset = ResetToken::parse(&verification.expose_secret()).unwrap();
    assert!(matches!(
        rig.accounts
            .reset_password(&as_reset, &Password::new(OTHER), &Actor::System)
            .await,
        Err(AccountError::InvalidToken)
    ));
    let as_verification = VerificationToken::parse(&reset.expose_secret()).unwrap();
    assert!(matches!(
        rig.accounts
            .verify_email(&as_verification, &Actor::System)
            .await,
        Err(AccountError::InvalidToken)
    ));
    assert_eq!(store.account(account.id).await.unwrap().unwrap(), account);
    assert_eq!(store.account_tokens(account.id).await.unwrap(), tokens);

    // Each still works for what it was mailed for.
    rig.accounts
        .verify_email(&verification, &Actor::System)
        .await
        .unwrap();
    rig.accounts
        .reset_password(&reset, &Password::new(OTHER), &Actor::System)
        .await
        .unwrap();
    assert!(
        rig.accounts
            .log_in("ana@example.com", &Password::new(OTHER), &Actor::System)
            .await
            .is_ok()
    );
}
