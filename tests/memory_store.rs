//! The conformance suite on the in-memory adapter.

mod conformance;

use customer_directory::store::MemoryStore;

conformance_tests!(async { MemoryStore::new() });

/// The whole in-memory state, every record of every kind, holds no plaintext token: only
/// the SHA-256 of each token is stored.
#[tokio::test]
async fn memory_store_state_holds_no_plaintext_token() {
    use customer_directory::{
        AccountSettings, Accounts, AccountsMode, Actor, BookingStatus, Directory,
        DirectorySettings, HashParams, Password, PasswordHashing, RecordingNotifier,
    };

    let store = MemoryStore::new();
    let settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    let mail = RecordingNotifier::new();
    let accounts = Accounts::new(Directory::new(store.clone(), settings), mail.clone())
        .with_hashing(PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap());
    let booking = conformance::booking(
        "BK-1",
        BookingStatus::PAID,
        conformance::contact("ana@example.com", "Ana", "Silva"),
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
    let verification = mail.last_token().unwrap();
    accounts
        .verify_email(&verification.expose_secret(), &Actor::System)
        .await
        .unwrap();
    accounts
        .request_password_reset("ana@example.com", &Actor::System)
        .await
        .unwrap();
    let reset = mail.last_token().unwrap();

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
    for token in [&verification, &reset] {
        let plain = token.expose_secret();
        assert!(!dump.contains(&plain));
        assert!(!dump.contains(&plain.to_uppercase()));
        assert!(dump.contains(&token.hash().to_hex()), "stored by hash");
    }
    assert!(!dump.contains(password.expose()));
}
