//! Checks shared by the state-machine and soak tests.
#![allow(dead_code)] // each test binary uses what it needs

use std::collections::HashMap;

use customer_directory::store::Store;
use customer_directory::{
    BookingId, Clock, Customer, CustomerId, CustomerStatus, Directory, Error,
};

/// Every customer, page by page.
pub async fn all_customers<S: Store>(store: &S) -> Vec<Customer> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.customers_after(after, 100).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    all
}

/// The directory's invariants, whatever happened before: each live email key on exactly one
/// customer (and the index agrees); every booking in `bookings` present, attributed at most
/// once and only to a live, unmerged customer that lists it; no customer listing a booking
/// nobody recorded; merged ids resolving to an unmerged customer (or to "not found" for a
/// survivor deleted since).
pub async fn check_invariants<S: Store, C: Clock>(
    dir: &Directory<S, C>,
    bookings: &[BookingId],
) -> Result<(), String> {
    let store = dir.store();
    let customers = all_customers(store).await;
    let by_id: HashMap<CustomerId, &Customer> = customers.iter().map(|c| (c.id, c)).collect();

    let mut keys = HashMap::new();
    for customer in &customers {
        for key in customer.indexed_keys() {
            if let Some(other) = keys.insert(key.clone(), customer.id) {
                return Err(format!("key {key} held by {other} and {}", customer.id));
            }
            let holder = store
                .lookup_email(key)
                .await
                .unwrap()
                .customer
                .map(|c| c.id);
            if holder != Some(customer.id) {
                return Err(format!("index disagrees for {key}: {holder:?}"));
            }
        }
    }

    let mut listed: HashMap<BookingId, usize> = HashMap::new();
    for customer in &customers {
        for booking in store.customer_bookings(customer.id).await.unwrap() {
            if booking.attribution.customer() != Some(customer.id) {
                return Err(format!(
                    "{} lists booking {} of another",
                    customer.id, booking.id
                ));
            }
            *listed.entry(booking.id).or_default() += 1;
        }
    }
    for id in bookings {
        let Some(booking) = store.booking(*id).await.unwrap() else {
            return Err(format!("booking {id} lost"));
        };
        match booking.attribution.customer() {
            Some(owner) => {
                let Some(owner) = by_id.get(&owner) else {
                    return Err(format!("booking {id} points at a missing customer"));
                };
                if matches!(owner.status, CustomerStatus::MergedInto(_)) {
                    return Err(format!("booking {id} left on a merged customer"));
                }
                if listed.get(id).copied() != Some(1) {
                    return Err(format!("booking {id} listed {:?} times", listed.get(id)));
                }
            }
            None if listed.contains_key(id) => {
                return Err(format!("unattributed booking {id} is listed"));
            }
            None => {}
        }
    }
    if let Some(stray) = listed.keys().find(|id| !bookings.contains(id)) {
        return Err(format!(
            "a customer lists booking {stray}, which nobody recorded"
        ));
    }

    for customer in &customers {
        if let CustomerStatus::MergedInto(_) = customer.status {
            match dir.resolve(customer.id).await {
                Ok(resolved) if matches!(resolved.status, CustomerStatus::MergedInto(_)) => {
                    return Err(format!("{} resolves to a merged customer", customer.id));
                }
                Ok(_) => {}
                Err(Error::CustomerNotFound(gone)) if !by_id.contains_key(&gone) => {}
                Err(other) => return Err(format!("{} does not resolve: {other}", customer.id)),
            }
        }
    }
    Ok(())
}
