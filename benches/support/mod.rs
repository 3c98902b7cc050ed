//! Deterministic test data shared by the benches (no randomness source, no files).
#![allow(dead_code)]

#[cfg(feature = "sqlite")]
pub mod floor;
pub mod pg_floor;

/// A small xorshift generator: the same corpus on every run and every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const GIVEN: &[&str] = &[
    "anna",
    "ben",
    "carla",
    "david",
    "eva",
    "felix",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "klara",
    "liam",
    "mia",
    "noah",
    "olivia",
    "paul",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "ulrich",
    "vera",
    "william",
    "xenia",
    "yusuf",
    "zoe",
    "maria-jose",
    "o'brien",
    "jean_luc",
    "li",
];
const FAMILY: &[&str] = &[
    "berg",
    "smith",
    "garcia",
    "mueller",
    "rossi",
    "dubois",
    "kowalski",
    "nguyen",
    "jensen",
    "silva",
    "okafor",
    "tanaka",
    "haddad",
    "novak",
    "walsh",
    "fischer",
    "costa",
    "lindqvist",
    "papadopoulos",
    "van-der-meer",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.co.uk",
    "yahoo.fr",
    "icloud.com",
    "web.de",
    "gmx.net",
    "proton.me",
    "example.com",
    "kayak-tours.co.nz",
    "mail.salon-bella.it",
    "students.uni-hamburg.de",
    "a-very-long-subdomain-name-for-a-booking-business.example.org",
    "fastmail.fm",
    "t-online.de",
];
const TAGS: &[&str] = &["spa", "newsletter", "bookings", "2024", "kayak", "x"];
/// Internationalised domains (UTS 46 work), plus punycode spellings of some of them.
const IDN_DOMAINS: &[&str] = &[
    "bücher.de",
    "münchen.example",
    "café.fr",
    "例え.jp",
    "пример.рф",
    "ÉCOLE.fr",
    "xn--bcher-kva.de",
    "XN--MNCHEN-3YA.example",
    "straße.de",
    "ελληνικά.gr",
];
/// Internationalised local parts, some in NFD (NFC work) and upper case.
const IDN_LOCALS: &[&str] = &[
    "josé",
    "Jose\u{301}",
    "müller",
    "MÜLLER",
    "zoë",
    "björn.ålund",
    "дмитрий",
    "中村",
    "ÉMILE",
    "françois+spa",
];

fn ascii_case(rng: &mut Rng, s: &str) -> String {
    match rng.below(4) {
        0 => s.to_ascii_uppercase(),
        1 => {
            let mut out = String::with_capacity(s.len());
            let mut first = true;
            for c in s.chars() {
                if first {
                    out.push(c.to_ascii_uppercase());
                } else {
                    out.push(c);
                }
                first = c == '.' || c == '-';
            }
            out
        }
        _ => s.to_owned(),
    }
}

/// One ASCII address as a guest might type it: mixed case, dots, digits, `+tag`,
/// sometimes long, sometimes with surrounding white space.
pub fn ascii_address(rng: &mut Rng) -> String {
    let given = rng.pick(GIVEN);
    let family = rng.pick(FAMILY);
    let mut local = match rng.below(5) {
        0 => format!("{given}.{family}"),
        1 => format!("{given}{}", rng.below(10_000)),
        2 => format!("{}{family}", &given[..1]),
        3 => format!("{given}_{family}{}", rng.below(100)),
        _ => given.to_owned(),
    };
    if rng.below(6) == 0 {
        local.push('+');
        local.push_str(rng.pick(TAGS));
    }
    if rng.below(20) == 0 {
        // A long address (about 60 octets of local part).
        while local.len() < 56 {
            local.push('.');
            local.push_str(rng.pick(FAMILY));
        }
        local.truncate(60);
        local = local.trim_end_matches(['.', '-']).to_owned();
    }
    let domain = rng.pick(DOMAINS);
    let address = format!("{}@{}", ascii_case(rng, &local), ascii_case(rng, domain));
    match rng.below(8) {
        0 => format!("  {address} "),
        1 => format!("{address}\n"),
        _ => address,
    }
}

/// One address of the full corpus: mostly ASCII, with internationalised local parts and
/// domains (about one in five).
pub fn any_address(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => format!("{}@{}", rng.pick(IDN_LOCALS), rng.pick(DOMAINS)),
        1 => {
            let local = ascii_address(rng);
            let local = local.trim().split('@').next().unwrap_or("a").to_owned();
            format!("{local}@{}", rng.pick(IDN_DOMAINS))
        }
        _ => ascii_address(rng),
    }
}

/// `n` ASCII addresses.
pub fn ascii_corpus(n: usize) -> Vec<String> {
    let mut rng = Rng::new(0x5eed_0001);
    (0..n).map(|_| ascii_address(&mut rng)).collect()
}

/// `n` addresses, about 20 % internationalised.
pub fn full_corpus(n: usize) -> Vec<String> {
    let mut rng = Rng::new(0x5eed_0002);
    (0..n).map(|_| any_address(&mut rng)).collect()
}

/// `n` distinct ASCII addresses for profiles (the index makes them unique).
pub fn profile_email(i: usize, rng: &mut Rng) -> String {
    let given = rng.pick(GIVEN);
    let family = rng.pick(FAMILY);
    let domain = rng.pick(DOMAINS);
    format!("{given}.{family}.{i}@{domain}")
}

/// The typical customer number `i` of a bench directory: given and family name, a unique
/// ASCII email, a mobile phone, city and postcode (the fields a booking form asks for).
pub fn typical_profile(i: usize) -> customer_directory::Profile {
    use customer_directory::records::PostalAddress;
    use customer_directory::{EmailAddress, PersonName, Phone, Profile, Text};
    let (given, family) = names(i);
    Profile {
        given_name: Some(PersonName::parse(&capitalised(given)).expect("name")),
        family_name: Some(PersonName::parse(&capitalised(family)).expect("name")),
        email: Some(EmailAddress::parse(&customer_email(i)).expect("email")),
        phone: Some(Phone::parse(&format!("+4479{:08}", i % 100_000_000), None).expect("phone")),
        address: PostalAddress {
            city: Some(Text::parse(CITIES[i % CITIES.len()]).expect("city")),
            postcode: Some(Text::parse(&format!("{:05}", i % 99_991)).expect("postcode")),
            ..PostalAddress::default()
        },
        ..Profile::default()
    }
}

/// Given and family name of customer `i`.
pub fn names(i: usize) -> (&'static str, &'static str) {
    (
        GIVEN[i % GIVEN.len()],
        FAMILY[(i / GIVEN.len()) % FAMILY.len()],
    )
}

const CITIES: &[&str] = &["Lisbon", "Hamburg", "Nelson", "Bologna", "Lyon", "Leeds"];

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The stored (canonical) email of customer `i`: unique per `i`.
pub fn customer_email(i: usize) -> String {
    let (given, family) = names(i);
    format!("{given}.{family}.{i}@{}", DOMAINS[i % DOMAINS.len()])
}

/// The email of customer `i` as a guest might type it again: case changed, sometimes
/// surrounded by white space. Its key is the stored key.
pub fn typed_email(rng: &mut Rng, i: usize) -> String {
    let address = ascii_case(rng, &customer_email(i));
    match rng.below(8) {
        0 => format!("  {address} "),
        1 => format!("{address}\n"),
        _ => address,
    }
}

/// A paid booking of 45 EUR starting now, for `contact`: what the SQL benches record.
pub fn paid_booking(
    code: String,
    contact: customer_directory::Profile,
) -> customer_directory::NewBooking {
    customer_directory::NewBooking::new(
        code,
        customer_directory::BookingStatus::PAID,
        contact,
        chrono::Utc::now(),
        customer_directory::Money::new(
            4_500,
            customer_directory::Currency::parse("EUR").expect("currency"),
        ),
    )
}

/// Bulk-loads `n` typical customers into `store`, in commits of 1,000.
pub async fn load_typical_customers<S: customer_directory::Store>(store: &S, n: usize) {
    let now = chrono::Utc::now();
    for start in (0..n).step_by(1_000) {
        let mut changes = customer_directory::ports::store::ChangeSet::new();
        for i in start..(start + 1_000).min(n) {
            changes.save_customer(customer_directory::Customer::new(typical_profile(i), now));
        }
        store.commit(changes).await.expect("bulk load");
    }
}

/// How many booking forms [`BookingProbes`] prepares.
pub const PROBES: usize = 4096;

/// Probes for the booking benches: a customer's booking form (no email yet) and the email
/// as typed, for `PROBES` customers drawn from `n` typical ones.
pub struct BookingProbes {
    forms: Vec<customer_directory::Profile>,
    raw: Vec<String>,
}

impl BookingProbes {
    pub fn new(n: usize) -> Self {
        let mut rng = Rng::new(0x5eed ^ n as u64);
        let (mut forms, mut raw) = (Vec::new(), Vec::new());
        for _ in 0..PROBES {
            let i = rng.below(n);
            let mut form = typical_profile(i);
            form.email = None;
            forms.push(form);
            raw.push(typed_email(&mut rng, i));
        }
        Self { forms, raw }
    }

    /// `count` bookings (codes `{prefix}-{n}`, `next` counting them), for existing
    /// customers or (with `new`) new ones.
    pub fn inputs(
        &self,
        count: u64,
        new: bool,
        next: &mut usize,
        prefix: &str,
    ) -> Vec<(customer_directory::NewBooking, String)> {
        (0..count)
            .map(|_| {
                *next += 1;
                let k = *next % PROBES;
                let raw = if new {
                    format!("new.{}.{}@example.org", std::process::id(), *next)
                } else {
                    self.raw[k].clone()
                };
                (
                    paid_booking(format!("{prefix}-{next}"), self.forms[k].clone()),
                    raw,
                )
            })
            .collect()
    }
}

/// Records `inputs` one by one, each email parsed as typed.
pub async fn record_all<S: customer_directory::Store>(
    directory: &customer_directory::Directory<S>,
    inputs: Vec<(customer_directory::NewBooking, String)>,
) {
    for (mut new, raw) in inputs {
        new.contact.email = Some(customer_directory::EmailAddress::parse(&raw).expect("email"));
        directory
            .record_booking(new, &customer_directory::Actor::System)
            .await
            .expect("record");
    }
}

/// Every booking each criterion function timed (warm-up included) and the time it took:
/// the means and ratios a bench prints at its end come from its own run alone.
#[derive(Default, Clone)]
pub struct Timed(
    std::sync::Arc<
        std::sync::Mutex<std::collections::BTreeMap<String, (std::time::Duration, u64)>>,
    >,
);

impl Timed {
    pub fn add(&self, id: &str, elapsed: std::time::Duration, bookings: u64) {
        let mut map = self.0.lock().expect("timings");
        let entry = map.entry(id.to_owned()).or_default();
        entry.0 += elapsed;
        entry.1 += bookings;
    }

    pub fn mean_us(&self, id: &str) -> Option<f64> {
        let map = self.0.lock().expect("timings");
        let (elapsed, bookings) = map.get(id)?;
        (*bookings > 0).then(|| elapsed.as_secs_f64() * 1e6 / *bookings as f64)
    }

    /// Prints each function's mean per booking, each line starting with `prefix`.
    pub fn report(&self, prefix: &str) {
        let map = self.0.lock().expect("timings");
        for (id, (elapsed, bookings)) in map.iter() {
            let us = elapsed.as_secs_f64() * 1e6 / (*bookings).max(1) as f64;
            println!(
                "{prefix}: {id}: mean {us:.1} µs per booking over {bookings} bookings ({:.0} bookings/s)",
                1e6 / us
            );
        }
    }
}

/// The number in the environment variable `name`, or `default` when it is unset.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).map_or(default, |value| {
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}: a number, not `{value}`"))
    })
}
