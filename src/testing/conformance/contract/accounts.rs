//! The [`AccountStore`] contract: account and token writes conflict like customer writes,
//! and change nothing when they do.

use crate::ports::store::{AccountStore, Store};
use crate::records::tokens::ResetToken;
use crate::testing::conformance::fixtures::{GOOD, cheap_hashing, t0};
use crate::values::ids::{AccountId, CustomerId};

pub async fn account_port_conflicts_change_nothing<S: Store + AccountStore + Clone + 'static>(
    store: S,
) {
    use crate::ports::store::changes::ChangeSet;
    use crate::ports::store::{Conflict, StoreError};
    use crate::records::account::Account;
    use crate::values::email::address::EmailAddress;
    let hash = cheap_hashing(64).hash(GOOD).unwrap();
    let email = |e: &str| EmailAddress::parse(e).unwrap();
    let a = Account::new(email("ana@example.com"), hash.clone(), t0());
    let mut changes = ChangeSet::new();
    changes.save_account(a.clone());
    store.commit(changes).await.unwrap();
    let stored = store.account(a.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);

    // Same login key, other account.
    let b = Account::new(email("ANA@example.com"), hash.clone(), t0());
    let mut changes = ChangeSet::new();
    changes.save_account(b.clone());
    assert!(matches!(
        store.commit(changes).await,
        Err(StoreError::Conflict(Conflict::AccountEmailTaken { holder, .. })) if holder == a.id
    ));
    assert!(store.account(b.id).await.unwrap().is_none());

    // Stale version.
    let mut changes = ChangeSet::new();
    changes.save_account(a.clone()); // version 0 = insert, but it exists
    assert!(matches!(
        store.commit(changes).await,
        Err(StoreError::Conflict(Conflict::AccountVersion { .. }))
    ));

    // Two accounts claiming one customer.
    let customer = CustomerId::new();
    let mut first = stored.clone();
    first.customer = Some(customer);
    let mut second = Account::new(email("bo@example.com"), hash, t0());
    second.customer = Some(customer);
    let mut changes = ChangeSet::new();
    changes.save_account(first).save_account(second.clone());
    assert!(matches!(
        store.commit(changes).await,
        Err(StoreError::Conflict(Conflict::AccountCustomerTaken { .. }))
    ));
    assert_eq!(
        store.account(a.id).await.unwrap().unwrap(),
        stored,
        "nothing applied"
    );
    assert!(store.account(second.id).await.unwrap().is_none());

    // A token for a missing account.
    let (_, token_hash) = ResetToken::generate().unwrap();
    let mut changes = ChangeSet::new();
    changes.save_account_token(crate::records::account::AccountToken::new(
        token_hash.clone(),
        AccountId::new(),
        crate::records::account::TokenPurpose::PasswordReset,
        1,
        t0(),
        t0(),
    ));
    assert!(matches!(
        store.commit(changes).await,
        Err(StoreError::Conflict(Conflict::AccountMissing(_)))
    ));
    assert!(store.account_token(&token_hash).await.unwrap().is_none());

    // Moving a login key between accounts in one commit works.
    let mut renamed = stored.clone();
    renamed.email = email("ana.new@example.com");
    let c = Account::new(email("ana@example.com"), renamed.password.clone(), t0());
    let mut changes = ChangeSet::new();
    changes.save_account(renamed).save_account(c.clone());
    store.commit(changes).await.unwrap();
    let key =
        crate::values::email::key::EmailKey::parse("ana@example.com", Default::default()).unwrap();
    assert_eq!(
        store.account_by_email(&key).await.unwrap().map(|x| x.id),
        Some(c.id)
    );
}
