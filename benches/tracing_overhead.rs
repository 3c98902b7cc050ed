//! What the `tracing` instrumentation costs `Directory::record_booking` on `MemoryStore`,
//! the hottest use case, when the host installs no subscriber: build and run this bench
//! with the default features (instrumentation compiled in) and with
//! `--no-default-features` (compiled out), and compare the two groups.
//!
//! One directory of 10,000 typical customers; the group is `tracing/compiled-in` or
//! `tracing/compiled-out`, each timing `record/existing` (the customer exists and the
//! details agree), `record/new` (a new customer) and `record/related` (a differing given
//! name). Inputs are prepared outside the timed loop, as in `benches/directory.rs`. With the
//! instrumentation compiled in, `record/existing-info-subscriber` also times the booking
//! under a subscriber that keeps `info` and above (a host's usual production filter), which
//! the per-booking `debug` spans do not reach.
//!
//! ```text
//! cargo bench --bench tracing_overhead -- --warm-up-time 1 --measurement-time 5
//! cargo bench --bench tracing_overhead --no-default-features -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Time on a shared machine moves more between runs than the difference measured, so the
//! binary also runs a fixed number of bookings (`CD_TRACING_BOOKINGS=20000`, no criterion)
//! and prints the nanoseconds per booking: for counting the instructions of the recording
//! loop alone under callgrind, and for short runs of the two builds in turn; see
//! `benches/README.md`, "Tracing overhead".

mod support;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use customer_directory::ports::store::ChangeSet;
use customer_directory::{
    Actor, BookingStatus, Currency, Customer, Directory, DirectorySettings, EmailAddress,
    MemoryStore, Money, NewBooking, PersonName, Profile, Store,
};
use support::{Rng, customer_email, typical_profile};

/// Customers in the directory.
const CUSTOMERS: usize = 10_000;

/// Drives a future that never waits (every `MemoryStore` future is ready at once) without
/// the cost of a runtime.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn build() -> MemoryStore {
    let store = MemoryStore::new();
    let now = chrono::Utc::now();
    let mut changes = ChangeSet::new();
    for i in 0..CUSTOMERS {
        changes.save_customer(Customer::new(typical_profile(i), now));
    }
    ready(store.commit(changes)).expect("bulk load");
    store
}

fn booking(code: usize, contact: Profile) -> NewBooking {
    NewBooking::new(
        format!("B-{code}"),
        BookingStatus::PAID,
        contact,
        chrono::Utc::now(),
        Money::new(4_500, Currency::parse("EUR").expect("currency")),
    )
}

/// `iters` bookings of one kind, with the raw email each is recorded with.
fn inputs(iters: u64, kind: &str, rng: &mut Rng, fresh: &mut usize) -> Vec<(NewBooking, String)> {
    (0..iters)
        .map(|n| {
            let i = rng.below(CUSTOMERS);
            let mut contact = typical_profile(i);
            contact.email = None;
            let raw = match kind {
                "new" => {
                    *fresh += 1;
                    format!("new.guest.{fresh}@example.com")
                }
                "related" => {
                    contact.given_name = Some(PersonName::parse("Someone Else").expect("name"));
                    customer_email(i)
                }
                _ => customer_email(i),
            };
            (booking(n as usize, contact), raw)
        })
        .collect()
}

/// The timed work: `#[inline(never)]` so that callgrind can count its instructions alone
/// (`--toggle-collect='*record_all*'`).
#[inline(never)]
fn record_all(directory: &Directory<MemoryStore>, prepared: Vec<(NewBooking, String)>) {
    for (mut new, raw) in prepared {
        new.contact.email = Some(EmailAddress::parse(&raw).expect("email"));
        black_box(ready(directory.record_booking(new, &Actor::System)).expect("record"));
    }
}

fn bench(c: &mut Criterion) {
    let directory = Directory::new(build(), DirectorySettings::default());
    let mut rng = Rng::new(0x7ace);
    let mut fresh = 0usize;
    let build = if cfg!(feature = "tracing") {
        "compiled-in"
    } else {
        "compiled-out"
    };
    let mut group = c.benchmark_group(format!("tracing/{build}"));
    group.throughput(Throughput::Elements(1));
    for kind in ["existing", "new", "related"] {
        group.bench_function(format!("record/{kind}"), |b| {
            b.iter_custom(|iters| {
                let prepared = inputs(iters, kind, &mut rng, &mut fresh);
                let started = Instant::now();
                record_all(&directory, prepared);
                started.elapsed()
            });
        });
    }
    #[cfg(feature = "tracing")]
    group.bench_function("record/existing-info-subscriber", |b| {
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        );
        let dispatch = tracing::Dispatch::new(subscriber);
        b.iter_custom(|iters| {
            let prepared = inputs(iters, "existing", &mut rng, &mut fresh);
            tracing::dispatcher::with_default(&dispatch, || {
                let started = Instant::now();
                record_all(&directory, prepared);
                started.elapsed()
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench);

/// Criterion's main, or with `CD_TRACING_BOOKINGS=n` a fixed run of `n` bookings of an
/// existing customer and nothing else (it prints the nanoseconds per booking), for
/// counting instructions under callgrind and for short runs of the two builds in turn.
fn main() {
    if let Ok(count) = std::env::var("CD_TRACING_BOOKINGS") {
        let count: u64 = count.parse().expect("CD_TRACING_BOOKINGS: a number");
        let directory = Directory::new(build(), DirectorySettings::default());
        let prepared = inputs(count, "existing", &mut Rng::new(0x7ace), &mut 0);
        let started = Instant::now();
        record_all(&directory, prepared);
        let elapsed = started.elapsed();
        // One line for scripts that alternate the two builds: nanoseconds per booking.
        println!("{:.1}", elapsed.as_nanos() as f64 / count.max(1) as f64);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
