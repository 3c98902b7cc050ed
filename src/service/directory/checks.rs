//! The length checks a use case makes before it reads or writes the store: the free-text
//! inputs no type bounds (staff identifiers, booking codes, search text, block reasons,
//! custom field keys), against the limits of [`crate::limits`].

use crate::limits::{Input, TooLong};
use crate::ports::query::builder::CustomerQuery;
use crate::ports::store::changes::{BlocklistChange, ChangeSet, Expected};
use crate::records::audit::Actor;
use crate::records::booking::NewBooking;

/// The acting staff member's identifier is within [`ACTOR_MAX_CHARS`](crate::limits::ACTOR_MAX_CHARS).
pub(crate) fn check_actor(actor: &Actor) -> Result<(), TooLong> {
    match actor {
        Actor::Staff(id) => TooLong::check(Input::Actor, id),
        _ => Ok(()),
    }
}

/// The free-text parts of a new booking are within their limits: its code and its
/// contact's custom field keys (every other part is a bounded type).
pub(crate) fn check_new_booking(booking: &NewBooking) -> Result<(), TooLong> {
    TooLong::check(Input::BookingCode, &booking.code)?;
    check_custom_field_keys(booking.contact.custom_fields.keys())
}

/// Each custom field key is within [`CUSTOM_FIELD_KEY_MAX_CHARS`](crate::limits::CUSTOM_FIELD_KEY_MAX_CHARS).
pub(crate) fn check_custom_field_keys<'a>(
    keys: impl IntoIterator<Item = &'a String>,
) -> Result<(), TooLong> {
    keys.into_iter()
        .try_for_each(|key| TooLong::check(Input::CustomFieldKey, key))
}

/// The query's free text (search text, custom field key and value) is within its limits.
pub(crate) fn check_query(query: &CustomerQuery) -> Result<(), TooLong> {
    if let Some(text) = &query.text {
        TooLong::check(Input::SearchText, text)?;
    }
    if let Some((key, value)) = &query.custom_field {
        TooLong::check(Input::CustomFieldKey, key)?;
        TooLong::check(Input::CustomFieldValue, value)?;
    }
    Ok(())
}

/// The last check before a commit reaches the store: every free-text value the change set
/// adds that no type bounds (actors, block reasons, new bookings' codes, new customers'
/// custom field keys) is within its limit, whichever use case built it. Records already
/// stored are not held to it, so a value stored before a limit existed never blocks a later
/// change of its record.
pub(crate) fn check_changes(changes: &ChangeSet) -> Result<(), TooLong> {
    for event in changes.audit() {
        check_actor(&event.actor)?;
    }
    for change in changes.blocklist() {
        if let BlocklistChange::Add(entry) = change {
            TooLong::check(Input::BlockReason, &entry.reason)?;
        }
    }
    let new = |expected: &Expected| matches!(expected, Expected::Absent);
    for write in changes.bookings().iter().filter(|w| new(&w.expected)) {
        TooLong::check(Input::BookingCode, &write.record.code)?;
    }
    for write in changes.customers().iter().filter(|w| new(&w.expected)) {
        check_custom_field_keys(write.record.profile.custom_fields.keys())?;
    }
    Ok(())
}
