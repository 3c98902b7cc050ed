//! Redaction: erasing a person's data while keeping the financial record.

use crate::records::booking::Booking;
use crate::records::customer::{Customer, CustomerStatus};
use crate::records::merge::MergeRecord;
use crate::records::profile::Profile;

/// The profile left after redaction: empty apart from the custom fields the business keeps
/// (for example a non-personal membership tier).
fn kept_fields(profile: &Profile, keep_custom_fields: &[String]) -> Profile {
    Profile {
        custom_fields: profile
            .custom_fields
            .iter()
            .filter(|(key, _)| keep_custom_fields.contains(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        ..Profile::default()
    }
}

/// The customer with every personal field erased and its status `Redacted`. Ids, dates and
/// version are kept.
pub(crate) fn redact_customer(mut customer: Customer, keep_custom_fields: &[String]) -> Customer {
    customer.profile = kept_fields(&customer.profile, keep_custom_fields);
    customer.aliases.clear();
    // Notes and the consent log describe the person; list memberships and brochure
    // requests (titles and dates) do not, and keep the business's counts right.
    customer.records.notes.clear();
    customer.records.newsletter.clear();
    customer.status = CustomerStatus::Redacted;
    customer
}

/// The booking with its contact snapshot erased. Id, code, dates, status, amounts and
/// attribution are kept: financial records have legal retention periods.
pub(crate) fn redact_booking(mut booking: Booking, keep_custom_fields: &[String]) -> Booking {
    booking.contact = kept_fields(&booking.contact, keep_custom_fields);
    if let crate::records::booking::Attribution::Related { customer, .. } = booking.attribution {
        // The listed differences describe personal details; the link itself is kept.
        booking.attribution = crate::records::booking::Attribution::Related {
            customer,
            differences: Vec::new(),
        };
    }
    booking
}

/// The merge record with every personal value erased; it can no longer restore anyone.
pub(crate) fn redact_merge_record(mut record: MergeRecord) -> MergeRecord {
    let erase = |customer: &mut Customer| {
        customer.profile = Profile::default();
        customer.aliases.clear();
        customer.records.notes.clear();
        customer.records.newsletter.clear();
    };
    erase(&mut record.survivor_before);
    record.merged_before.iter_mut().for_each(erase);
    record.report.aliases_added.clear();
    for conflict in &mut record.report.conflicts {
        conflict.value.clear();
        conflict.kept.clear();
    }
    record
}
