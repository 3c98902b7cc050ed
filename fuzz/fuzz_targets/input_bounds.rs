//! Input limits: arbitrary booking codes, statuses, search texts, notes, block reasons and
//! staff identifiers go through the directory's checks. An over-long value is refused with
//! `Error::TooLong` naming it, a value within its limit never is, and nothing panics.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use customer_directory::MemoryStore;
use customer_directory::limits::{self, Input};
use customer_directory::records::{BlockTarget, NoteText};
use customer_directory::{
    Actor, BookingStatus, Currency, CustomerQuery, Directory, DirectorySettings, Error, Money,
    NewBooking, Profile,
};
use libfuzzer_sys::fuzz_target;

/// Runs a future of the in-memory store, which never waits.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// Refused with `TooLong` for `input` exactly when `value` is over its limit.
fn check(input: Input, value: &str, result: Result<(), Error>) {
    let over = input.length_of(value) > input.max();
    match result {
        Err(Error::TooLong(error)) => {
            assert!(over, "{input} refused within its limit: {error}");
            assert_eq!(error.input, input);
            assert_eq!(error.length, input.length_of(value));
        }
        _ => assert!(!over, "{input} over its limit was not refused"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&repeat, rest)) = data.split_first() else {
        return;
    };
    // The first byte repeats each part, so short inputs reach every limit.
    let text = String::from_utf8_lossy(rest);
    let mut parts = text
        .split('\u{1f}')
        .map(|part| part.repeat(1 + usize::from(repeat)));
    let mut next = || parts.next().unwrap_or_default();
    let (code, status, search, note, reason, staff) =
        (next(), next(), next(), next(), next(), next());

    if let Ok(status) = BookingStatus::new(&status) {
        assert!(status.as_str().chars().count() <= limits::BOOKING_STATUS_MAX_CHARS);
    }
    if let Ok(note) = NoteText::parse(&note) {
        assert!(note.as_str().chars().count() <= limits::NOTE_MAX_CHARS);
    }

    let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    let eur = Currency::parse("EUR").unwrap();
    let booking = NewBooking::new(
        code.clone(),
        BookingStatus::PENDING,
        Profile::default(),
        chrono::Utc::now(),
        Money::zero(eur),
    );
    let recorded = ready(directory.record_booking(booking, &Actor::System)).map(drop);
    check(Input::BookingCode, &code, recorded);

    let query = CustomerQuery::new().text(search.clone());
    check(
        Input::SearchText,
        &search,
        ready(directory.search(&query, None, 10)).map(drop),
    );
    check(
        Input::SearchText,
        &search,
        ready(directory.count(&query)).map(drop),
    );

    let target = BlockTarget::domain("spam.example").unwrap();
    let blocked = ready(directory.add_to_blocklist(target, reason.clone(), &Actor::System));
    check(Input::BlockReason, &reason, blocked.map(drop));

    let created =
        ready(directory.create_customer(Profile::default(), &Actor::Staff(staff.clone())));
    check(Input::Actor, &staff, created.map(drop));
});
