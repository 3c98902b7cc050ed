//! Login cost for an unknown email beside a wrong password, with the default (OWASP)
//! hashing parameters: the two must cost about the same, so response time does not tell
//! which accounts exist. The ratio is recorded in `benches/README.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use customer_directory::store::MemoryStore;
use customer_directory::{
    AccountSettings, Accounts, AccountsMode, Actor, Directory, DirectorySettings, Error, Password,
    RecordingNotifier,
};

fn login(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    settings.accounts.max_failed_logins = 0; // never lock during the measurement
    let accounts = Accounts::new(
        Directory::new(MemoryStore::new(), settings),
        RecordingNotifier::new(),
    );
    runtime
        .block_on(accounts.sign_up(
            "ana@example.com",
            &Password::new("Plum-Tractor-Velvet-9"),
            &Actor::System,
        ))
        .expect("sign-up");
    let wrong = Password::new("not-the-password");
    let mut group = c.benchmark_group("login_refused");
    group.sample_size(20);
    for (name, email) in [
        ("wrong_password", "ana@example.com"),
        ("unknown_email", "nobody@example.com"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let result = runtime.block_on(accounts.log_in(email, &wrong, &Actor::System));
                assert!(matches!(result, Err(Error::InvalidCredentials)));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, login);
criterion_main!(benches);
