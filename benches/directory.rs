//! The attribution hot path on `MemoryStore` at growing directory sizes, each beside its
//! practical floor, plus duplicate detection.
//!
//! For every size N (default 10,000, 100,000 and 1,000,000; set `CD_BENCH_SIZES=10000,100000`
//! to choose) one directory of N typical customers is built (bulk commits of
//! `Customer::new`), then one criterion group `memory/N` times, per operation:
//!
//! - `match/MemoryStore`: a raw typed email (mixed case, white space) -> `EmailKey::parse`
//!   -> `Store::lookup_email` (the port the directory uses: the shared record and the
//!   blocklist entry) -> `CustomerId`;
//! - `match/MemoryStore-id`: the same key -> `MemoryStore::customer_id_by_email`;
//! - `match/floor`: the same `EmailKey::parse`, then a bare `HashMap<Box<str>, u32>` with the
//!   same (std) hasher;
//! - `record/existing`, `record/new`, `record/related`: `Directory::record_booking` of a
//!   paid booking whose contact email is parsed from the raw typed text inside the timed
//!   loop, for an existing customer (details agree), a new customer, and an existing
//!   customer whose given name differs (a related booking);
//! - `record/floor`: `EmailAddress::parse` of the same raw text, a bare map lookup and
//!   pushing the booking onto a `Vec`.
//!
//! Inputs are prepared outside the timed loop (`iter_custom`), and the bookings a loop
//! produced are dropped outside it too. Before those, `duplicates/N` times `find_duplicates`
//! over the whole directory as built (sizes of 100,000 and more).
//!
//! ```text
//! cargo bench --bench directory -- --warm-up-time 1 --measurement-time 3 --sample-size 20
//! ```

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customer_directory::ports::store::ChangeSet;
use customer_directory::values::{EmailKey, EmailKeyPolicy};
use customer_directory::{
    Actor, BookingStatus, Currency, Customer, Directory, DirectorySettings, EmailAddress, Money,
    NewBooking, PersonName, Profile,
};
use customer_directory::{MemoryStore, Store};
use support::{Rng, customer_email, typed_email, typical_profile};

/// Distinct probes per operation: enough that at a million profiles the probed entries do
/// not all stay in cache.
const PROBES: usize = 1 << 16;

/// Drives a future that never waits (every `MemoryStore` future is ready at once) without
/// the cost of a runtime.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn sizes() -> Vec<usize> {
    std::env::var("CD_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("CD_BENCH_SIZES: comma-separated numbers")
        })
        .collect()
}

/// N typical customers, committed 10,000 at a time.
fn build(n: usize) -> MemoryStore {
    let store = MemoryStore::new();
    let now = chrono::Utc::now();
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let mut changes = ChangeSet::new();
        for &i in chunk {
            changes.save_customer(Customer::new(typical_profile(i), now));
        }
        ready(store.commit(changes)).expect("bulk load");
    }
    eprintln!(
        "memory/{n}: built {n} customers in {:.1} s",
        started.elapsed().as_secs_f64()
    );
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

/// A booking form as filled in: the customer's names, no email yet (it is parsed from the
/// raw text in the timed loop).
fn form(i: usize, related: bool) -> Profile {
    let mut contact = typical_profile(i);
    contact.email = None;
    if related {
        contact.given_name = Some(PersonName::parse("Someone Else").expect("name"));
    }
    contact
}

fn bench(c: &mut Criterion) {
    let policy = EmailKeyPolicy::CaseInsensitive;
    let mut fresh = 0usize;
    for n in sizes() {
        let store = build(n);
        let directory = Directory::new(store.clone(), DirectorySettings::default());
        let mut floor: HashMap<Box<str>, u32> = HashMap::with_capacity(n);
        for i in 0..n {
            let key = EmailKey::parse(&customer_email(i), policy).expect("key");
            floor.insert(key.as_str().into(), u32::try_from(i).expect("fits"));
        }
        let mut rng = Rng::new(0x5eed ^ n as u64);
        let probes: Vec<(usize, String)> = (0..PROBES)
            .map(|_| {
                let i = rng.below(n);
                (i, typed_email(&mut rng, i))
            })
            .collect();
        // Check the paths agree before timing them.
        for (i, raw) in probes.iter().take(100) {
            let key = EmailKey::parse(raw, policy).expect("key");
            let found = ready(store.lookup_email(&key)).expect("lookup");
            let customer = found.customer.expect("existing customer");
            assert_eq!(customer.profile.email.as_ref().map(|e| e.key()), Some(&key));
            assert_eq!(floor.get(key.as_str()).copied(), Some(*i as u32));
            assert_eq!(store.customer_id_by_email(&key), Some(customer.id));
        }

        // Duplicate detection first, on the directory as built (the booking benches below
        // add customers).
        if n >= 100_000 {
            let mut group = c.benchmark_group(format!("duplicates/{n}"));
            group.throughput(Throughput::Elements(n as u64));
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(100));
            group.bench_function("find_duplicates", |b| {
                b.iter(|| black_box(ready(directory.find_duplicates()).expect("scan").len()));
            });
            group.finish();
        }

        let mut group = c.benchmark_group(format!("memory/{n}"));
        group.throughput(Throughput::Elements(1));

        group.bench_function("match/MemoryStore", |b| {
            let mut next = 0usize;
            b.iter(|| {
                let raw = &probes[next % PROBES].1;
                next += 1;
                let key = EmailKey::parse(raw, policy).expect("key");
                let found = ready(store.lookup_email(&key)).expect("lookup");
                black_box(found.customer.map(|c| c.id))
            });
        });
        group.bench_function("match/MemoryStore-id", |b| {
            let mut next = 0usize;
            b.iter(|| {
                let raw = &probes[next % PROBES].1;
                next += 1;
                let key = EmailKey::parse(raw, policy).expect("key");
                black_box(store.customer_id_by_email(&key))
            });
        });
        group.bench_function("match/floor", |b| {
            let mut next = 0usize;
            b.iter(|| {
                let raw = &probes[next % PROBES].1;
                next += 1;
                let key = EmailKey::parse(raw, policy).expect("key");
                black_box(floor.get(key.as_str()).copied())
            });
        });

        // Bookings: inputs (form, raw email) prepared outside the timed loop, from forms
        // parsed once per probe.
        let forms: Vec<(Profile, Profile)> = probes
            .iter()
            .map(|(i, _)| (form(*i, false), form(*i, true)))
            .collect();
        let mut next = 0usize;
        let mut inputs = |iters: u64, kind: &str| -> Vec<(NewBooking, String)> {
            (0..iters)
                .map(|_| {
                    let k = next % PROBES;
                    let (_, raw) = &probes[k];
                    next += 1;
                    match kind {
                        "new" => {
                            fresh += 1;
                            let raw = format!("New.Guest.{fresh}@Example.com");
                            (booking(next, forms[k].0.clone()), raw)
                        }
                        "related" => (booking(next, forms[k].1.clone()), raw.clone()),
                        _ => (booking(next, forms[k].0.clone()), raw.clone()),
                    }
                })
                .collect()
        };
        for kind in ["existing", "new", "related"] {
            group.bench_function(format!("record/{kind}"), |b| {
                b.iter_custom(|iters| {
                    let prepared = inputs(iters, kind);
                    let started = Instant::now();
                    for (mut new, raw) in prepared {
                        new.contact.email = Some(EmailAddress::parse(&raw).expect("email"));
                        black_box(
                            ready(directory.record_booking(new, &Actor::System)).expect("record"),
                        );
                    }
                    started.elapsed()
                });
            });
        }
        group.bench_function("record/floor", |b| {
            b.iter_custom(|iters| {
                let prepared = inputs(iters, "existing");
                let mut log: Vec<(u32, NewBooking)> = Vec::new();
                let started = Instant::now();
                for (mut new, raw) in prepared {
                    let email = EmailAddress::parse(&raw).expect("email");
                    let customer = floor.get(email.key().as_str()).copied().expect("known");
                    new.contact.email = Some(email);
                    log.push((customer, new));
                }
                let elapsed = started.elapsed();
                drop(black_box(log));
                elapsed
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
