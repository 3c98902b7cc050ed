//! Email-key claims: who holds a key a commit failed to claim.

use crate::adapters::sql::encoding::{Bind, stored_customer_id};
use crate::adapters::sql::session::{Checked, Session, failed};
use crate::ports::store::Conflict;
use crate::values::email::key::EmailKey;
use crate::values::ids::CustomerId;

/// After a claim of `key` by `claimant` touched no row: whoever holds the key now. The
/// claimant itself is fine; another customer is [`Conflict::EmailKeyTaken`] naming it.
pub(crate) async fn key_held_by<S: Session>(
    session: &mut S,
    key: &EmailKey,
    claimant: CustomerId,
) -> Checked {
    let rows = session
        .fetch(
            "SELECT customer_id FROM cd_customer_email_keys WHERE email_key = $1",
            vec![Bind::Text(key.as_str().to_owned())],
        )
        .await
        .map_err(failed("reading an email key's holder"))?;
    // No holder row: a racing commit took the key and let it go again. There is nobody to
    // name, but a retry reads the new state.
    let Some(holder) = rows.first() else {
        return Ok(Err(Conflict::TransactionAborted {
            reason: format!("email key {key} changed hands during the commit"),
        }));
    };
    let holder = stored_customer_id(holder.text(0, "an email key's holder")?)?;
    if holder == claimant {
        return Ok(Ok(()));
    }
    Ok(Err(Conflict::EmailKeyTaken {
        key: key.clone(),
        holder,
    }))
}
