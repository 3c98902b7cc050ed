//! `EmailKey` normalisation against the peers a user would otherwise reach for.
//!
//! Every peer is timed on the same corpus and produces a lower-cased address per input:
//!
//! - `email_address` crate: `EmailAddress::from_str(trimmed)` then `to_lowercase`;
//! - `regex` crate with the HTML5 `input type=email` pattern, then `to_lowercase`;
//! - `structured-email-address` (the one peer that also normalises: IDNA, lower case), its
//!   `canonical()` text;
//! - `customer_directory::values::EmailKey::parse`, which also applies the RFC 5321 limits, UTS 46,
//!   NFC and the key policy; and `EmailAddress::parse`, which also keeps the original.
//!
//! Two groups: `email_key/ascii` (an ASCII corpus that every peer accepts; items a peer
//! rejects are dropped and reported in setup) and `email_key/full` (with internationalised
//! addresses, peers that accept at least 95 % of it).

mod support;

use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customer_directory::EmailAddress;
use customer_directory::values::{EmailKey, EmailKeyPolicy};
use regex::Regex;

const CORPUS: usize = 10_000;

/// The WHATWG HTML "valid e-mail address" pattern.
const HTML5: &str = r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$";

type Peer = Box<dyn Fn(&str) -> Option<usize>>;

/// Each peer returns the length of its normalised text (so nothing is optimised away).
fn peers() -> Vec<(&'static str, Peer)> {
    let regex = Regex::new(HTML5).expect("pattern");
    let structured = structured_email_address::Config::builder()
        .lowercase_all()
        .dots_preserve()
        .preserve_subaddress()
        .domain_check_syntax()
        .build();
    vec![
        (
            "EmailKey::parse",
            Box::new(|raw: &str| {
                EmailKey::parse(raw, EmailKeyPolicy::CaseInsensitive)
                    .ok()
                    .map(|k| k.as_str().len())
            }),
        ),
        (
            "EmailAddress::parse",
            Box::new(|raw: &str| {
                EmailAddress::parse(raw)
                    .ok()
                    .map(|a| a.key().as_str().len())
            }),
        ),
        (
            "email_address+lowercase",
            Box::new(|raw: &str| {
                email_address::EmailAddress::from_str(raw.trim())
                    .ok()
                    .map(|a| a.as_str().to_lowercase().len())
            }),
        ),
        (
            "regex_html5+lowercase",
            Box::new(move |raw: &str| {
                let t = raw.trim();
                regex.is_match(t).then(|| t.to_lowercase().len())
            }),
        ),
        (
            "structured-email-address",
            Box::new(move |raw: &str| {
                structured_email_address::EmailAddress::parse_with(raw.trim(), &structured)
                    .ok()
                    .map(|a| a.canonical().len())
            }),
        ),
    ]
}

/// Times every peer on the same inputs. With `require_all`, the inputs are those every peer
/// accepts; otherwise peers accepting under 95 % of the corpus are left out and the inputs
/// are those every remaining peer accepts. Rejections are reported on stderr.
fn run(c: &mut Criterion, group_name: &str, corpus: Vec<String>, require_all: bool) {
    let mut peers = peers();
    let mut accepted = corpus.clone();
    peers.retain(|(name, peer)| {
        let rejected: Vec<&String> = corpus.iter().filter(|a| peer(a).is_none()).collect();
        if !rejected.is_empty() {
            eprintln!(
                "{group_name}: {name} rejects {} of {} inputs, e.g. {:?}",
                rejected.len(),
                corpus.len(),
                rejected.iter().take(3).collect::<Vec<_>>()
            );
        }
        if !require_all && rejected.len() * 100 > corpus.len() * 5 {
            eprintln!("{group_name}: {name} left out (rejects over 5 % of the corpus)");
            return false;
        }
        accepted.retain(|a| peer(a).is_some());
        true
    });
    eprintln!(
        "{group_name}: timing {} inputs ({} internationalised) that every timed peer accepts",
        accepted.len(),
        accepted.iter().filter(|a| !a.is_ascii()).count()
    );
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(accepted.len() as u64));
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    for (name, peer) in &peers {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut total = 0usize;
                for raw in &accepted {
                    total += peer(black_box(raw)).unwrap_or(0);
                }
                total
            });
        });
    }
    group.finish();
}

fn ascii(c: &mut Criterion) {
    run(c, "email_key/ascii", support::ascii_corpus(CORPUS), true);
}

fn full(c: &mut Criterion) {
    run(c, "email_key/full", support::full_corpus(CORPUS), false);
}

criterion_group!(benches, ascii, full);
criterion_main!(benches);
