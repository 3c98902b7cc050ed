//! The account part of a commit: account deletions (with their tokens), account writes, then
//! token writes, in the in-memory store's order.

use crate::adapters::sql::encoding::{Bind, nanos, to_json, version_column};
use crate::adapters::sql::session::{Checked, Dialect, Session, failed};
use crate::adapters::sql::versioned::{version_of, write_versioned};
use crate::ports::store::changes::{AccountGuard, Expected, Write};
use crate::ports::store::{Conflict, StoreError};
use crate::records::account::{Account, AccountToken};
use crate::values::ids::AccountId;

/// Applies the account changes of a commit. Rewritten accounts release their login key and
/// claim first, so both can move between accounts within one commit.
pub(crate) async fn apply_accounts<S: Session>(
    session: &mut S,
    mut accounts: Vec<Write<Account>>,
    mut deletions: Vec<AccountGuard>,
    tokens: Vec<Write<AccountToken>>,
) -> Checked {
    accounts.sort_by_key(|write| write.record.id);
    deletions.sort_by_key(|deletion| deletion.account);
    for deletion in &deletions {
        let found = account_version(session, deletion.account).await?;
        if found != Some(deletion.version) {
            return Ok(Err(Conflict::AccountVersion {
                id: deletion.account,
                expected: Expected::Version(deletion.version),
                found,
            }));
        }
    }
    for write in &accounts {
        if let Expected::Version(expected) = write.expected {
            let changed = session
                .execute(
                    "UPDATE cd_accounts SET email_key = NULL, customer_id = NULL \
                     WHERE id = $1 AND version = $2",
                    vec![
                        Bind::Text(write.record.id.to_string()),
                        Bind::Int(version_column(expected)),
                    ],
                )
                .await
                .map_err(failed("releasing an account's login"))?;
            if changed == 0 {
                let found = account_version(session, write.record.id).await?;
                return Ok(Err(Conflict::AccountVersion {
                    id: write.record.id,
                    expected: write.expected,
                    found,
                }));
            }
        }
    }
    for deletion in &deletions {
        // Its tokens go first: they hold the account's id.
        for sql in [
            "DELETE FROM cd_account_tokens WHERE account_id = $1",
            "DELETE FROM cd_accounts WHERE id = $1",
        ] {
            session
                .execute(sql, vec![Bind::Text(deletion.account.to_string())])
                .await
                .map_err(failed("deleting an account"))?;
        }
    }
    for write in &accounts {
        if deletions
            .iter()
            .any(|deletion| deletion.account == write.record.id)
        {
            continue;
        }
        if let Err(conflict) = write_account(session, write).await? {
            return Ok(Err(conflict));
        }
    }
    for write in &tokens {
        if let Err(conflict) = write_token(session, write).await? {
            return Ok(Err(conflict));
        }
    }
    Ok(Ok(()))
}

/// Inserts or rewrites one account whose login key and claimed customer must be free.
async fn write_account<S: Session>(session: &mut S, write: &Write<Account>) -> Checked {
    let account = &write.record;
    let key = account.email.key().as_str().to_owned();
    if let Some(holder) = account_holding(session, "email_key", key.clone(), account.id).await? {
        return Ok(Err(Conflict::AccountEmailTaken {
            key: account.email.key().clone(),
            holder,
        }));
    }
    if let Some(customer) = account.customer {
        if let Some(holder) =
            account_holding(session, "customer_id", customer.to_string(), account.id).await?
        {
            return Ok(Err(Conflict::AccountCustomerTaken { customer, holder }));
        }
    }
    let binds = vec![
        Bind::Text(account.id.to_string()),
        Bind::Int(version_column(account.version)),
        Bind::Text(key.clone()),
        Bind::MaybeText(account.customer.map(|customer| customer.to_string())),
        Bind::Text(to_json(account, "account")?),
    ];
    let sql = match write.expected {
        Expected::Absent => {
            "INSERT INTO cd_accounts (id, version, email_key, customer_id, record) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
        }
        // The version was checked (and the row locked) when it was released.
        Expected::Version(_) => {
            "UPDATE cd_accounts SET version = $2, email_key = $3, customer_id = $4, \
             record = $5 WHERE id = $1"
        }
    };
    let changed = session
        .execute(sql, binds)
        .await
        .map_err(failed("writing an account"))?;
    if changed > 0 {
        return Ok(Ok(()));
    }
    // An insert refused by a unique column: a concurrent commit won.
    let found = account_version(session, account.id).await?;
    if found.is_some() {
        return Ok(Err(Conflict::AccountVersion {
            id: account.id,
            expected: write.expected,
            found,
        }));
    }
    if let Some(holder) = account_holding(session, "email_key", key, account.id).await? {
        return Ok(Err(Conflict::AccountEmailTaken {
            key: account.email.key().clone(),
            holder,
        }));
    }
    Ok(Err(Conflict::TransactionAborted {
        reason: "an account's unique keys were taken concurrently".to_owned(),
    }))
}

/// Inserts or rewrites one token of an existing account.
async fn write_token<S: Session>(session: &mut S, write: &Write<AccountToken>) -> Checked {
    let token = &write.record;
    if account_version(session, token.account).await?.is_none() {
        return Ok(Err(Conflict::AccountMissing(token.account)));
    }
    let hash = token.hash.to_hex();
    let binds = vec![
        Bind::Text(hash.clone()),
        Bind::Int(version_column(token.version)),
        Bind::Text(token.account.to_string()),
        Bind::Int(nanos(token.created_at)),
        Bind::Text(to_json(token, "account token")?),
    ];
    let changed = write_versioned(
        session,
        write.expected,
        "INSERT INTO cd_account_tokens (hash, version, account_id, created_at, record) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING",
        "UPDATE cd_account_tokens SET version = $2, account_id = $3, created_at = $4, \
         record = $5 WHERE hash = $1 AND version = $6",
        binds,
        "writing an account token",
    )
    .await?;
    if changed > 0 {
        return Ok(Ok(()));
    }
    let found = version_of(
        session,
        "SELECT version FROM cd_account_tokens WHERE hash = $1",
        hash,
    )
    .await?;
    Ok(Err(Conflict::AccountTokenVersion {
        account: token.account,
        expected: write.expected,
        found,
    }))
}

/// The stored version of an account, locking its row for the rest of the commit.
async fn account_version<S: Session>(
    session: &mut S,
    id: AccountId,
) -> Result<Option<u64>, StoreError> {
    let lock = <S::Dialect as Dialect>::LOCK;
    version_of(
        session,
        &format!("SELECT version FROM cd_accounts WHERE id = $1 {lock}"),
        id.to_string(),
    )
    .await
}

/// The account other than `id` holding `column`'s `value` (login key or claimed customer).
async fn account_holding<S: Session>(
    session: &mut S,
    column: &'static str,
    value: String,
    id: AccountId,
) -> Result<Option<AccountId>, StoreError> {
    let sql = match column {
        "email_key" => "SELECT id FROM cd_accounts WHERE email_key = $1 AND id <> $2",
        _ => "SELECT id FROM cd_accounts WHERE customer_id = $1 AND id <> $2",
    };
    let rows = session
        .fetch(sql, vec![Bind::Text(value), Bind::Text(id.to_string())])
        .await
        .map_err(failed("reading an account's unique keys"))?;
    rows.first()
        .map(|row| {
            row.text(0, "an account id")?
                .parse()
                .map_err(|error| StoreError::backend("reading a stored account id", error))
        })
        .transpose()
}
