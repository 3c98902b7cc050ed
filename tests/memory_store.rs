//! The conformance suite on the in-memory adapter.

#![cfg(feature = "testing")]

use customer_directory::MemoryStore;
use customer_directory::conformance_tests;

conformance_tests!(async { MemoryStore::new() });

/// The whole in-memory state, every record of every kind, holds no plaintext token: only
/// the SHA-256 of each token is stored.
#[tokio::test]
async fn memory_store_state_holds_no_plaintext_token() {
    use customer_directory::ports::RecordingNotifier;
    use customer_directory::settings::AccountsMode;
    use customer_directory::values::{HashParams, PasswordHashing};
    use customer_directory::{
        AccountSettings, Accounts, Actor, BookingStatus, Directory, DirectorySettings, Password,
    };

    let store = MemoryStore::new();
    let settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    let mail = RecordingNotifier::new();
    let accounts = Accounts::new(Directory::new(store.clone(), settings), mail.clone())
        .with_hashing(PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap());
    let booking = customer_directory::testing::conformance::booking(
        "BK-1",
        BookingStatus::PAID,
        customer_directory::testing::conformance::contact("ana@example.com", "Ana", "Silva"),
    );
    accounts
        .directory()
        .record_booking(booking, &Actor::System)
        .await
        .unwrap();
    let password = Password::new("Plum-Tractor-Velvet-9");
    accounts
        .sign_up("ana@example.com", &password, &Actor::System)
        .await
        .unwrap();
    let verification = mail.last_verification_token().unwrap();
    accounts
        .verify_email(&verification, &Actor::System)
        .await
        .unwrap();
    accounts
        .request_password_reset("ana@example.com", &Actor::System)
        .await
        .unwrap();
    let reset = mail.last_reset_token().unwrap();

    let dump = format!(
        "{}{}{}{}{}{:?}{:?}{:?}{:?}",
        serde_json::to_string(&store.all_customers()).unwrap(),
        serde_json::to_string(&store.all_bookings()).unwrap(),
        serde_json::to_string(&store.all_accounts()).unwrap(),
        serde_json::to_string(&store.all_account_tokens()).unwrap(),
        serde_json::to_string(&store.all_audit_events()).unwrap(),
        store.all_accounts(),
        store.all_account_tokens(),
        store.all_audit_events(),
        store,
    );
    assert_eq!(store.all_account_tokens().len(), 2);
    for (plain, hash) in [
        (verification.expose_secret(), verification.hash()),
        (reset.expose_secret(), reset.hash()),
    ] {
        assert!(!dump.contains(&plain));
        assert!(!dump.contains(&plain.to_uppercase()));
        assert!(dump.contains(&hash.to_hex()), "stored by hash");
    }
    assert!(!dump.contains(password.expose()));
}

/// A use case whose commit fails changes nothing: the reset link still works afterwards,
/// and a failed login whose commit fails is not counted.
#[cfg(feature = "testing")]
#[tokio::test]
async fn failed_commits_leave_accounts_as_they_were() {
    use customer_directory::ports::RecordingNotifier;
    use customer_directory::service::AccountError;
    use customer_directory::settings::AccountsMode;
    use customer_directory::testing::FaultInjectingStore;
    use customer_directory::values::{HashParams, PasswordHashing};
    use customer_directory::{
        AccountSettings, Accounts, Actor, Directory, DirectorySettings, Password,
    };

    let store = FaultInjectingStore::new(MemoryStore::new());
    let settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    let mail = RecordingNotifier::new();
    let accounts = Accounts::new(Directory::new(store.clone(), settings), mail.clone())
        .with_hashing(PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap());
    let old = Password::new("Plum-Tractor-Velvet-9");
    let new = Password::new("Quartz-Meadow-Lantern-4");
    accounts
        .sign_up("ana@example.com", &old, &Actor::System)
        .await
        .unwrap();
    let id = accounts
        .verify_email(&mail.last_verification_token().unwrap(), &Actor::System)
        .await
        .unwrap();
    accounts
        .request_password_reset("ana@example.com", &Actor::System)
        .await
        .unwrap();
    let link = mail.last_reset_token().unwrap();
    let before = store.inner().all_accounts();
    let tokens_before = store.inner().all_account_tokens();

    store.fail_next_commits(1);
    assert!(matches!(
        accounts.reset_password(&link, &new, &Actor::System).await,
        Err(AccountError::Directory(customer_directory::Error::Store(_)))
    ));
    store.fail_next_commits(1);
    assert!(
        accounts
            .log_in("ana@example.com", &new, &Actor::System)
            .await
            .is_err()
    );
    assert_eq!(store.inner().all_accounts(), before);
    assert_eq!(store.inner().all_account_tokens(), tokens_before);

    store.heal();
    accounts
        .reset_password(&link, &new, &Actor::System)
        .await
        .unwrap();
    assert_eq!(
        accounts
            .log_in("ana@example.com", &new, &Actor::System)
            .await
            .unwrap()
            .account,
        id
    );
}

/// Mail is sent after the commit: a notifier failure is reported, and the link the store
/// knows can be requested again.
#[tokio::test]
async fn notifier_failure_is_reported_after_the_commit() {
    use customer_directory::ports::{Notification, Notifier, NotifyError};
    use customer_directory::service::AccountError;
    use customer_directory::settings::AccountsMode;
    use customer_directory::values::{HashParams, PasswordHashing};
    use customer_directory::{
        AccountSettings, Accounts, Actor, Directory, DirectorySettings, Password,
    };

    struct Down;
    impl Notifier for Down {
        async fn notify(&self, _message: Notification) -> Result<(), NotifyError> {
            Err(NotifyError::new("relay down", "connection refused"))
        }
    }

    let store = MemoryStore::new();
    let settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    let accounts = Accounts::new(Directory::new(store.clone(), settings), Down)
        .with_hashing(PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap());
    let result = accounts
        .sign_up(
            "ana@example.com",
            &Password::new("Plum-Tractor-Velvet-9"),
            &Actor::System,
        )
        .await;
    assert!(matches!(result, Err(AccountError::Notify(_))));
    assert_eq!(store.all_accounts().len(), 1, "committed before mailing");
    assert_eq!(store.all_account_tokens().len(), 1);
}

/// `customer_id_by_email` follows the email index: the holder after a booking, the
/// survivor for an absorbed alias after a merge, nobody once the customer is deleted.
#[tokio::test]
async fn customer_id_by_email_follows_the_index() {
    use customer_directory::testing::conformance::{booking, contact};
    use customer_directory::values::{EmailKey, EmailKeyPolicy};
    use customer_directory::{
        Actor, AttributionOutcome, BookingStatus, Directory, DirectorySettings, MergeRequest,
    };

    let store = MemoryStore::new();
    let clock = customer_directory::ports::FixedClock::new(chrono::Utc::now());
    let directory = Directory::with_clock(store.clone(), DirectorySettings::default(), clock);
    let key = |raw: &str| EmailKey::parse(raw, EmailKeyPolicy::default()).unwrap();
    let mut ids = Vec::new();
    // The third key is longer than the index keeps inline.
    let long = "ana.silva.long.address.for.the.index@bookings.example.org";
    for (code, email) in [
        ("BK-1", "ana@example.com"),
        ("BK-2", "ana.s@example.org"),
        ("BK-3", long),
    ] {
        let recorded = directory
            .record_booking(
                booking(code, BookingStatus::PAID, contact(email, "Ana", "Silva")),
                &Actor::System,
            )
            .await
            .unwrap();
        let AttributionOutcome::CreatedCustomer(id) = recorded.outcome else {
            panic!("{:?}", recorded.outcome);
        };
        ids.push(id);
    }
    assert_eq!(
        store.customer_id_by_email(&key(" ANA@example.COM ")),
        Some(ids[0])
    );
    assert_eq!(store.customer_id_by_email(&key("nobody@example.com")), None);
    assert_eq!(
        store.customer_id_by_email(&key(&long.to_uppercase())),
        Some(ids[2])
    );
    assert_eq!(store.customer_id_by_email(&key(&long[1..])), None);

    let staff = Actor::staff("desk");
    directory
        .merge(&MergeRequest::new(ids[0], vec![ids[1], ids[2]]), &staff)
        .await
        .unwrap();
    assert_eq!(
        store.customer_id_by_email(&key("ana.s@example.org")),
        Some(ids[0])
    );

    // A survivor can be deleted once its merge can no longer be undone.
    let window = directory.settings().merge_undo_window;
    directory
        .clock()
        .advance(chrono::TimeDelta::from_std(window).unwrap() + chrono::TimeDelta::seconds(1));
    directory.delete_customer(ids[0], &staff).await.unwrap();
    assert_eq!(store.customer_id_by_email(&key("ana@example.com")), None);
    assert_eq!(store.customer_id_by_email(&key("ana.s@example.org")), None);
    assert_eq!(store.customer_id_by_email(&key(long)), None);
}
